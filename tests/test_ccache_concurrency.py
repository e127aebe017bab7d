"""Four processes × 60 operations (the issue asks for at least 25) on one FILE cache: appends
and config replacements interleave under MIT's locking discipline; nothing is lost, torn or
duplicated, and MIT klist reads it."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gssmech.ccache import Credential, KeyBlock, resolve
from gssmech.krb5.principal import Principal

PROCS = 4
ALICE = Principal(1, ("alice",), "EX.TEST")


def service(proc: int, op: int) -> Principal:
    return Principal(1, (f"svc{proc}", f"op{op}.ex.test"), "EX.TEST")


def worker(path: str, proc: int, barrier: Any, ops: int) -> None:
    """Even ops append a ticket, odd ops replace a shared and a per-process config entry;
    every few ops a full read checks that no reader ever sees a torn cache."""
    cc = resolve(f"FILE:{path}")
    barrier.wait()  # start together, so the operations really overlap
    for op in range(ops):
        if op % 2 == 0:
            key = KeyBlock(18, os.urandom(32))
            cc.store(
                Credential(ALICE, service(proc, op), key, 1, 1, 4_000_000_000, ticket=b"t" * op)
            )
        else:
            cc.set_config("shared", f"{proc}:{op}".encode())
            cc.set_config(f"mine{proc}", f"{op}".encode())
        if op % 5 == 0:
            cc.read()  # raises on any torn or interleaved record


# At 60 operations per process the overlap is wide enough that with locking disabled this test
# fails most runs (double tombstones / duplicate config entries); at 25 it passed regardless.
@pytest.mark.parametrize("ops", [60])
def test_parallel_appends_and_config_replacement(tmp_path: Path, ops: int) -> None:
    path = str(tmp_path / "cc")
    resolve(f"FILE:{path}").initialize(ALICE, kdc_offset=(0, 0))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCS)
    procs = [ctx.Process(target=worker, args=(path, p, barrier, ops)) for p in range(PROCS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * PROCS
    cc = resolve(f"FILE:{path}")
    got = {c.server for c in cc.credentials()}
    want = {service(p, op) for p in range(PROCS) for op in range(0, ops, 2)}
    assert got == want and len(cc.credentials()) == len(want)
    entries = cc.config_entries()
    keys = sorted(c.config_key or "" for c in entries)
    assert keys == sorted(["shared", *(f"mine{p}" for p in range(PROCS))])  # one live entry each
    last_odd = max(range(1, ops, 2))
    for p in range(PROCS):
        assert cc.get_config(f"mine{p}") == str(last_odd).encode()
    assert (cc.get_config("shared") or b"").endswith(f":{last_odd}".encode())
    removed = [c for c in cc.read().credentials if c.is_removed]
    assert len(removed) == PROCS * 2 * (ops // 2) - (PROCS + 1)

    if shutil.which("klist") is None:
        pytest.skip("MIT klist not installed; our own checks passed")
    env = {**os.environ, "KRB5_CONFIG": os.devnull}
    out = subprocess.run(["klist", "-C", path], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert sum(line.startswith("config: ") for line in out.stdout.splitlines()) == PROCS + 1
    for s in want:
        assert f" {s.unparse()}\n" in out.stdout
