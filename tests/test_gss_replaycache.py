"""The acceptor replay cache: one winner per tag across processes, persistence, pruning."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from gssmech.errors import GSSMechError
from gssmech.gss.replaycache import (
    MAGIC,
    RECORD,
    FileReplayCache,
    MemoryReplayCache,
    NullReplayCache,
    default_replay_cache,
)

NOW = 1_700_000_000
CTX = multiprocessing.get_context("fork")


def _racer(path: str, tags: list[bytes], barrier: object, results: object, prune: int) -> None:
    cache = FileReplayCache(path, prune_threshold=prune)
    barrier.wait()  # type: ignore[attr-defined]
    won = [cache.check_and_store(t, NOW + 300, NOW) for t in tags]
    results.put(won)  # type: ignore[attr-defined]


def _race(path: str, tags: list[bytes], procs: int, prune: int = 256) -> list[list[bool]]:
    barrier = CTX.Barrier(procs)
    results = CTX.Queue()
    workers = [
        CTX.Process(target=_racer, args=(path, tags, barrier, results, prune)) for _ in range(procs)
    ]
    for w in workers:
        w.start()
    out = [results.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    return out


def test_processes_race_exactly_one_wins(tmp_path: Path) -> None:
    path = str(tmp_path / "rc")
    tags = [f"authenticator-{i}".encode() for i in range(50)]
    results = _race(path, tags, procs=6)
    for i in range(len(tags)):
        assert sum(r[i] for r in results) == 1, f"tag {i} accepted {sum(r[i] for r in results)}x"


def test_race_while_pruning_loses_nothing(tmp_path: Path) -> None:
    """Tiny prune threshold: rewrites happen constantly while others append."""
    path = str(tmp_path / "rc")
    pre = FileReplayCache(path)
    for i in range(20):  # expired entries so that pruning triggers
        assert pre.check_and_store(f"old-{i}".encode(), NOW - 1, NOW - 100)
    tags = [f"t-{i}".encode() for i in range(40)]
    results = _race(path, tags, procs=4, prune=4)
    for i in range(len(tags)):
        assert sum(r[i] for r in results) == 1
    again = FileReplayCache(path)
    assert not any(again.check_and_store(t, NOW + 300, NOW) for t in tags)


def test_survives_restart_and_expiry(tmp_path: Path) -> None:
    path = str(tmp_path / "rc")
    assert FileReplayCache(path).check_and_store(b"tag", NOW + 10, NOW)
    # a fresh object, as after a process restart
    assert not FileReplayCache(path).check_and_store(b"tag", NOW + 10, NOW + 5)
    # once expired, the same tag is no longer a replay
    assert FileReplayCache(path).check_and_store(b"tag", NOW + 100, NOW + 10)


def test_prune_rewrites_only_live_entries(tmp_path: Path) -> None:
    path = str(tmp_path / "rc")
    cache = FileReplayCache(path, prune_threshold=8)
    for i in range(8):
        assert cache.check_and_store(f"old{i}".encode(), NOW + 1, NOW)
    assert cache.check_and_store(b"keep", NOW + 1000, NOW)
    assert len(cache.entries()) == 9
    assert cache.check_and_store(b"new", NOW + 1000, NOW + 500)  # triggers the rewrite
    assert len(cache.entries()) == 2
    assert os.path.getsize(path) == len(MAGIC) + 2 * RECORD.size
    assert not cache.check_and_store(b"keep", NOW + 1000, NOW + 600)


def test_torn_tail_is_ignored_and_repaired(tmp_path: Path) -> None:
    path = tmp_path / "rc"
    cache = FileReplayCache(str(path))
    assert cache.check_and_store(b"a", NOW + 100, NOW)
    with open(path, "ab") as f:
        f.write(b"\x01" * 7)  # a crash mid-write
    assert not cache.check_and_store(b"a", NOW + 100, NOW)
    assert cache.check_and_store(b"b", NOW + 100, NOW)
    assert (path.stat().st_size - len(MAGIC)) % RECORD.size == 0


def test_refuses_foreign_or_unsafe_files(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.write_bytes(b"not a replay cache at all")
    os.chmod(foreign, 0o600)
    with pytest.raises(GSSMechError):
        FileReplayCache(str(foreign)).check_and_store(b"x", NOW + 1, NOW)
    shared = tmp_path / "shared"
    shared.write_bytes(b"")
    os.chmod(shared, 0o666)
    with pytest.raises(GSSMechError):
        FileReplayCache(str(shared)).check_and_store(b"x", NOW + 1, NOW)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(GSSMechError):
        FileReplayCache(str(link)).check_and_store(b"x", NOW + 1, NOW)


def test_selection_from_environment(tmp_path: Path) -> None:
    assert isinstance(default_replay_cache({"KRB5RCACHETYPE": "none"}), NullReplayCache)
    assert isinstance(default_replay_cache({"KRB5RCACHENAME": "none:"}), NullReplayCache)
    rc = default_replay_cache({"KRB5RCACHEDIR": str(tmp_path)})
    assert isinstance(rc, FileReplayCache)
    assert rc.path == str(tmp_path / f"gssmech_{os.geteuid()}.rcache")
    assert NullReplayCache().check_and_store(b"x", 0) and NullReplayCache().check_and_store(b"x", 0)


def test_memory_cache() -> None:
    rc = MemoryReplayCache()
    assert rc.check_and_store(b"x", NOW + 5, NOW)
    assert not rc.check_and_store(b"x", NOW + 5, NOW + 1)
    assert rc.check_and_store(b"x", NOW + 50, NOW + 5)
