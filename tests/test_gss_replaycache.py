"""The acceptor replay cache: one winner per tag across processes, persistence, slot reuse,
table growth with a bounded number of reads per check, and conversion of version-1 files."""

from __future__ import annotations

import fcntl
import gc
import hashlib
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.errors import GSSMechError
from gssmech.gss import replaycache
from gssmech.gss.replaycache import (
    HEADER,
    MAGIC,
    MAGIC_V1,
    SLOT,
    FileReplayCache,
    MemoryReplayCache,
    NullReplayCache,
    bucket_offset,
    default_replay_cache,
    table_offset,
    tables_in,
)

NOW = 1_700_000_000
CTX = multiprocessing.get_context("fork")


def _racer(path: str, tags: list[bytes], barrier: object, results: object) -> None:
    cache = FileReplayCache(path)
    barrier.wait()  # type: ignore[attr-defined]
    won = [cache.check_and_store(t, NOW + 300, NOW) for t in tags]
    results.put(won)  # type: ignore[attr-defined]


def _race(path: str, tags: list[bytes], procs: int) -> list[list[bool]]:
    barrier = CTX.Barrier(procs)
    results = CTX.Queue()
    workers = [
        CTX.Process(target=_racer, args=(path, tags, barrier, results)) for _ in range(procs)
    ]
    for w in workers:
        w.start()
    out = [results.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    return out


def _count_preads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, the offset of every os.pread() goes into the returned list."""
    reads: list[int] = []
    real_pread = os.pread

    def counting_pread(fd: int, n: int, off: int) -> bytes:
        reads.append(off)
        return real_pread(fd, n, off)

    monkeypatch.setattr(os, "pread", counting_pread)
    return reads


def _v1_file(path: Path, records: list[tuple[bytes, int]], tail: bytes = b"") -> None:
    data = MAGIC_V1 + b"".join(SLOT.pack(hashlib.sha256(t).digest(), e) for t, e in records)
    path.write_bytes(data + tail)
    os.chmod(path, 0o600)


def test_processes_race_exactly_one_wins(tmp_path: Path) -> None:
    path = str(tmp_path / "rc")
    tags = [f"authenticator-{i}".encode() for i in range(50)]
    results = _race(path, tags, procs=6)
    for i in range(len(tags)):
        assert sum(r[i] for r in results) == 1, f"tag {i} accepted {sum(r[i] for r in results)}x"


def test_race_while_converting_v1_loses_nothing(tmp_path: Path) -> None:
    """Everyone starts on a version-1 file: one process converts it under the lock, the others
    find the inode replaced and retry on the new file."""
    path = tmp_path / "rc"
    old = [(f"old-{i}".encode(), NOW + 300) for i in range(30)]
    _v1_file(path, [*old, (b"gone", NOW - 1)])
    tags = [f"t-{i}".encode() for i in range(40)]
    results = _race(str(path), tags, procs=4)
    for i in range(len(tags)):
        assert sum(r[i] for r in results) == 1
    again = FileReplayCache(str(path))
    assert path.read_bytes().startswith(MAGIC)
    assert not any(again.check_and_store(t, NOW + 300, NOW) for t in tags)
    assert not any(again.check_and_store(t, NOW + 300, NOW) for t, _ in old)
    assert again.check_and_store(b"gone", NOW + 300, NOW)


def test_survives_restart_and_expiry(tmp_path: Path) -> None:
    path = str(tmp_path / "rc")
    assert FileReplayCache(path).check_and_store(b"tag", NOW + 10, NOW)
    # a fresh object, as after a process restart
    assert not FileReplayCache(path).check_and_store(b"tag", NOW + 10, NOW + 5)
    # once expired, the same tag is no longer a replay
    assert FileReplayCache(path).check_and_store(b"tag", NOW + 100, NOW + 10)


def test_expired_slots_are_reused_in_place(tmp_path: Path) -> None:
    path = tmp_path / "rc"
    cache = FileReplayCache(str(path))
    for i in range(500):
        assert cache.check_and_store(f"first-{i}".encode(), NOW + 10, NOW)
    size = path.stat().st_size
    for i in range(500):  # the first 500 have expired: their slots take the next 500
        assert cache.check_and_store(f"second-{i}".encode(), NOW + 100, NOW + 10)
    assert path.stat().st_size == size
    assert len([e for _, e in cache.entries() if e > NOW + 10]) == 500
    assert not cache.check_and_store(b"second-7", NOW + 100, NOW + 20)
    assert cache.check_and_store(b"first-7", NOW + 100, NOW + 20)


def test_tables_grow_and_each_check_reads_one_slot_per_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replaycache, "FIRST_TABLE", 8)
    path = tmp_path / "rc"
    cache = FileReplayCache(str(path))
    tags = [f"busy-{i}".encode() for i in range(600)]
    assert all(cache.check_and_store(t, NOW + 300, NOW) for t in tags)
    tables = tables_in(path.stat().st_size)
    assert 4 <= tables <= 12  # grew by doubling, not by one table per entry
    assert path.stat().st_size == table_offset(tables)
    reads = _count_preads(monkeypatch)
    for t in tags:
        reads.clear()
        assert not cache.check_and_store(t, NOW + 300, NOW)
        assert len(reads) <= tables + 1  # the header, then at most one slot per table
    assert len(cache.entries()) == len(tags)


def test_search_stops_at_a_never_written_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rc"
    cache = FileReplayCache(str(path))
    assert cache.check_and_store(b"a", NOW + 100, NOW)
    os.truncate(path, table_offset(3))  # three tables, nearly all slots never written
    reads = _count_preads(monkeypatch)
    assert cache.check_and_store(b"b", NOW + 100, NOW)
    assert len(reads) == 2  # the header and the bucket in table 0
    assert tables_in(path.stat().st_size) == 3


def test_bucket_index_is_keyed_by_a_per_file_secret(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert FileReplayCache(str(one)).check_and_store(b"x", NOW + 1, NOW)
    assert FileReplayCache(str(two)).check_and_store(b"x", NOW + 1, NOW)
    seed1, seed2 = one.read_bytes()[len(MAGIC) : HEADER], two.read_bytes()[len(MAGIC) : HEADER]
    assert seed1 != seed2 and len(seed1) == 16 and oct(one.stat().st_mode & 0o777) == "0o600"
    digests = [hashlib.sha256(b"%d" % i).digest() for i in range(4000)]
    assert [bucket_offset(seed1, d, 0) for d in digests[:20]] != [
        bucket_offset(seed2, d, 0) for d in digests[:20]
    ]
    # Each table has its own index: tags sharing a bucket in table 0 scatter over table 1
    # (with one index reduced modulo nested sizes they would share at most two buckets there).
    crowd = [
        d for d in digests if bucket_offset(seed1, d, 0) == bucket_offset(seed1, digests[0], 0)
    ]
    assert len(crowd) >= 5
    assert len({bucket_offset(seed1, d, 1) for d in crowd}) > 2


def test_a_table_cut_short_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "rc"
    cache = FileReplayCache(str(path))
    assert cache.check_and_store(b"a", NOW + 100, NOW)
    with open(path, "r+b") as f:  # as if the disk filled while the table was being made
        f.truncate(HEADER + 3)
    assert cache.check_and_store(b"b", NOW + 100, NOW)
    assert tables_in(path.stat().st_size) == 1  # written into the short table, not a new one
    assert not cache.check_and_store(b"b", NOW + 100, NOW)


def test_version_1_file_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "rc"
    _v1_file(path, [(b"live", NOW + 100), (b"expired", NOW - 5)], tail=b"\x01" * 7)
    cache = FileReplayCache(str(path))
    assert not cache.check_and_store(b"live", NOW + 100, NOW)
    assert cache.check_and_store(b"expired", NOW + 100, NOW)
    assert path.read_bytes().startswith(MAGIC)
    assert sorted(e for _, e in cache.entries()) == [NOW + 100, NOW + 100]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(1, 40), st.integers(0, 15)), max_size=60))
def test_agrees_with_the_memory_cache(ops: list[tuple[int, int, int]]) -> None:
    """Tiny tables (many collisions, many tables) against the dictionary model; the clock only
    moves forward, as an acceptor's does."""
    saved = replaycache.FIRST_TABLE
    replaycache.FIRST_TABLE = 4  # one bucket
    try:
        with tempfile.TemporaryDirectory() as d:
            file_rc, model = FileReplayCache(os.path.join(d, "rc")), MemoryReplayCache()
            now = NOW
            for tag, life, step in ops:
                now += step
                t = b"tag-%d" % tag
                got = file_rc.check_and_store(t, now + life, now)
                assert got == model.check_and_store(t, now + life, now)
    finally:
        replaycache.FIRST_TABLE = saved


def test_refuses_foreign_or_unsafe_files(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.write_bytes(b"not a replay cache at all")
    os.chmod(foreign, 0o600)
    with pytest.raises(GSSMechError):
        FileReplayCache(str(foreign)).check_and_store(b"x", NOW + 1, NOW)
    assert foreign.read_bytes() == b"not a replay cache at all"
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
    assert default_replay_cache({"KRB5RCACHEDIR": str(tmp_path)}) is rc  # kept
    other = default_replay_cache({"KRB5RCACHEDIR": str(tmp_path / "b")})
    assert isinstance(other, FileReplayCache) and other.path.startswith(str(tmp_path / "b"))
    assert isinstance(
        default_replay_cache({"KRB5RCACHEDIR": str(tmp_path), "KRB5RCACHETYPE": "NONE"}),
        NullReplayCache,
    )
    assert NullReplayCache().check_and_store(b"x", 0) and NullReplayCache().check_and_store(b"x", 0)


def test_memory_cache() -> None:
    rc = MemoryReplayCache()
    assert rc.check_and_store(b"x", NOW + 5, NOW)
    assert not rc.check_and_store(b"x", NOW + 5, NOW + 1)
    assert rc.check_and_store(b"x", NOW + 50, NOW + 5)


def test_memory_cache_sweeps_expired_entries() -> None:
    rc = MemoryReplayCache()
    for i in range(1000):
        assert rc.check_and_store(b"%d" % i, NOW + 1 + i // 100, NOW + i // 100)
    assert len(rc._seen) < 250  # swept as it doubled; not 1000
    assert not rc.check_and_store(b"999", NOW + 20, NOW + 9)


# --- the file kept open between checks -------------------------------------------------------
def test_one_open_for_many_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = FileReplayCache(str(tmp_path / "rc"))
    opens: list[str] = []
    real_open = os.open

    def counting_open(path: str, *args: int) -> int:
        opens.append(path)
        return real_open(path, *args)

    monkeypatch.setattr(os, "open", counting_open)
    assert all(cache.check_and_store(b"%d" % i, NOW + 9, NOW) for i in range(20))
    assert not cache.check_and_store(b"7", NOW + 9, NOW)
    assert opens == [cache.path]


def test_removed_or_replaced_file_is_followed(tmp_path: Path) -> None:
    path = tmp_path / "rc"
    cache = FileReplayCache(str(path))
    assert cache.check_and_store(b"a", NOW + 9, NOW)
    path.unlink()  # a tmp cleaner: the open inode is not the cache any more
    assert cache.check_and_store(b"a", NOW + 9, NOW)  # the new file has not seen it
    assert path.exists() and not cache.check_and_store(b"a", NOW + 9, NOW)
    # Another file renamed over the path (what a version-1 conversion does): its entries count.
    other = FileReplayCache(str(tmp_path / "other"))
    assert other.check_and_store(b"b", NOW + 9, NOW)
    os.replace(tmp_path / "other", path)
    assert not cache.check_and_store(b"b", NOW + 9, NOW)
    assert cache.check_and_store(b"a", NOW + 9, NOW)  # only the replaced file had it


def test_permissions_are_checked_on_every_check(tmp_path: Path) -> None:
    path = tmp_path / "rc"
    cache = FileReplayCache(str(path))
    assert cache.check_and_store(b"a", NOW + 9, NOW)
    os.chmod(path, 0o620)
    with pytest.raises(GSSMechError, match="not a private file"):
        cache.check_and_store(b"b", NOW + 9, NOW)
    os.chmod(path, 0o600)
    assert cache.check_and_store(b"b", NOW + 9, NOW)


def _start(child: Callable[[], object]) -> int:
    """Fork a process that runs ``child`` and exits 0 if it returned, 1 if it raised."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            child()
            code = 0
        finally:
            os._exit(code)
    return pid


def _fork(child: Callable[[], object]) -> int:
    """Run ``child`` in a forked process; its exit status."""
    return os.waitstatus_to_exitcode(os.waitpid(_start(child), 0)[1])


def test_forked_child_does_not_share_the_lock(tmp_path: Path) -> None:
    """flock belongs to the open file description: a child using the descriptor it inherited
    would pass the lock its parent holds.  The child must open the file itself and wait."""
    cache = FileReplayCache(str(tmp_path / "rc"))
    assert cache.check_and_store(b"a", NOW + 9, NOW)
    assert cache._open_file is not None
    parent_fd = cache._open_file[0]
    fcntl.flock(parent_fd, fcntl.LOCK_EX)  # as if the parent were in the middle of a check
    released = tmp_path / "released"

    def child() -> None:
        signal.alarm(20)
        assert not cache.check_and_store(b"a", NOW + 9, NOW)  # blocks until the parent lets go
        assert released.exists()
        assert cache._open_file is not None and cache._open_file[1] == os.getpid()

    pid = _start(child)
    time.sleep(0.3)
    released.touch()
    fcntl.flock(parent_fd, fcntl.LOCK_UN)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert cache.check_and_store(b"c", NOW + 9, NOW)  # the parent's descriptor still works


def test_fork_while_another_thread_checks(tmp_path: Path) -> None:
    """A thread inside a check holds the cache's lock; a child forked then gets a fresh one
    (os.register_at_fork) instead of waiting for a thread that does not exist there."""
    cache = FileReplayCache(str(tmp_path / "rc"))
    assert cache.check_and_store(b"a", NOW + 9, NOW)
    with cache._lock:  # stands in for the other thread
        status = _fork(lambda: (signal.alarm(20), cache.check_and_store(b"z", NOW + 9, NOW)))
    assert status == 0
    assert not cache.check_and_store(b"z", NOW + 9, NOW)  # the child's store is in the file


def test_fork_without_hooks_forgets_the_descriptor(tmp_path: Path) -> None:
    """A fork nobody told Python about (a C library's fork()): the cache sees another pid and
    opens the file again.  It does not close the old number, which the host may have reused."""
    cache = FileReplayCache(str(tmp_path / "rc"))
    assert cache.check_and_store(b"a", NOW + 9, NOW)
    assert cache._open_file is not None
    fd, _, dev, ino = cache._open_file
    os.close(fd)
    hosts_file = os.open(os.devnull, os.O_RDONLY)  # the host reuses the number
    assert hosts_file == fd
    try:
        cache._open_file = (fd, os.getpid() + 1, dev, ino)  # as if opened by our parent
        assert not cache.check_and_store(b"a", NOW + 9, NOW)
        assert cache._open_file[0] != fd and cache._open_file[1] == os.getpid()
        os.fstat(hosts_file)  # still open
    finally:
        os.close(hosts_file)


def test_threads_sharing_one_cache_exactly_one_wins(tmp_path: Path) -> None:
    """Acceptor threads share one FileReplayCache (default_replay_cache keeps it) and so one
    descriptor, whose flock does not separate them: the cache's own lock must."""
    cache = FileReplayCache(str(tmp_path / "rc"))
    tags = [f"authenticator-{i}".encode() for i in range(500)]
    barrier = threading.Barrier(8)
    results: list[list[bool]] = []
    errors: list[str] = []

    def racer() -> None:
        barrier.wait()
        try:
            results.append([cache.check_and_store(t, NOW + 300, NOW) for t in tags])
        except Exception as exc:  # reported below, rather than a thread dying quietly
            errors.append(repr(exc))

    threads = [threading.Thread(target=racer, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    assert errors == [] and len(results) == 8
    for i in range(len(tags)):
        assert sum(r[i] for r in results) == 1, f"tag {i} accepted {sum(r[i] for r in results)}x"


def test_a_dropped_cache_closes_its_file(tmp_path: Path) -> None:
    cache = FileReplayCache(str(tmp_path / "rc"))
    assert cache.check_and_store(b"a", NOW + 9, NOW)
    assert cache._open_file is not None
    fd = cache._open_file[0]
    os.fstat(fd)
    del cache
    gc.collect()
    with pytest.raises(OSError):
        os.fstat(fd)
