"""FILE cache I/O discipline: atomic replace, 0600, append, in-place removal, set_config,
kdestroy zeroing, and lock compatibility with MIT's OFD locks."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from gssmech.ccache import Credential, KeyBlock, resolve
from gssmech.ccache.file import FileStore
from gssmech.ccache.locking import lock, unlock
from gssmech.errors import CCacheError
from gssmech.krb5.principal import Principal

ALICE = Principal(1, ("alice",), "EX.TEST")
TGT = Principal(2, ("krbtgt", "EX.TEST"), "EX.TEST")
SVC = Principal(3, ("host", "h.ex.test"), "EX.TEST")


def cred(server: Principal, n: int = 0) -> Credential:
    return Credential(ALICE, server, KeyBlock(18, bytes([n]) * 32), 100 + n, 100 + n, 4_000_000_000)


def test_initialize_is_an_atomic_replace(tmp_path: Path) -> None:
    path = tmp_path / "cc"
    cc = resolve(f"FILE:{path}")
    cc.initialize(ALICE, kdc_offset=(3, 4))
    assert path.stat().st_mode & 0o777 == 0o600
    first = path.stat().st_ino
    cc.store(cred(TGT))
    cc.initialize(ALICE)
    assert path.stat().st_ino != first  # a new file renamed over the old one
    assert cc.credentials() == [] and cc.read().kdc_offset is None
    assert os.listdir(tmp_path) == ["cc"]  # no temp file left behind


def test_store_find_remove(tmp_path: Path) -> None:
    cc = resolve(str(tmp_path / "cc"))
    with pytest.raises(CCacheError):
        cc.store(cred(TGT))  # no cache yet
    cc.initialize(ALICE)
    cc.store(cred(TGT, 1))
    cc.store(cred(SVC, 2))
    cc.store(cred(SVC, 3))
    size = (tmp_path / "cc").stat().st_size
    assert cc.find(Principal(1, SVC.components, SVC.realm)) == cred(SVC, 2)  # nt ignored
    assert cc.remove(SVC) == 2
    assert (tmp_path / "cc").stat().st_size == size  # overwritten in place
    assert cc.find(SVC) is None and cc.credentials() == [cred(TGT, 1)]
    assert len(cc.read().credentials) == 3  # tombstones stay
    assert cc.remove(SVC) == 0


def test_set_config_replaces_in_place_then_appends(tmp_path: Path) -> None:
    cc = resolve(str(tmp_path / "cc"))
    cc.initialize(ALICE)
    cc.set_config("pa_type", b"2", TGT)
    cc.set_config("pa_type", b"16", TGT)
    cc.set_config("start_realm", b"EX.TEST")
    assert cc.get_config("pa_type", TGT) == b"16"
    assert cc.get_config("pa_type") is None
    live = [(c.config_key, c.ticket) for c in cc.config_entries()]
    assert live == [("pa_type", b"16"), ("start_realm", b"EX.TEST")]
    removed = [c for c in cc.read().credentials if c.is_removed]
    assert [c.server.realm for c in removed] == ["X-RMED-CONF:"]
    cc.set_config("start_realm", None)
    assert cc.get_config("start_realm") is None
    assert cc.credentials() == []


def test_destroy_zeroes_before_unlink(tmp_path: Path) -> None:
    path = tmp_path / "cc"
    cc = resolve(str(path))
    cc.initialize(ALICE)
    cc.store(cred(TGT, 7))
    size = path.stat().st_size
    keep = os.open(path, os.O_RDONLY)  # a second name for the inode, to look at its bytes
    try:
        cc.destroy()
        assert not path.exists() and not cc.exists()
        assert os.pread(keep, size + 1, 0) == bytes(size)
    finally:
        os.close(keep)
    with pytest.raises(CCacheError):
        cc.destroy()


def test_empty_or_missing_is_not_a_cache(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "adir").mkdir()
    for name in ("empty", "missing", "adir"):
        cc = resolve(str(tmp_path / name))
        assert not cc.exists()
        with pytest.raises(CCacheError):
            cc.principal()
        with pytest.raises(CCacheError):
            cc.store(cred(TGT))
    with pytest.raises(CCacheError):
        resolve(str(tmp_path / "adir")).initialize(ALICE)
    with pytest.raises(CCacheError):
        resolve(str(tmp_path / "no" / "such" / "dir")).initialize(ALICE)


def test_append_waits_for_a_replace_and_lands_in_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "cc"
    cc = resolve(str(path))
    cc.initialize(ALICE)
    store = FileStore(str(path))
    fd = os.open(path, os.O_RDWR)
    how = lock(fd, exclusive=True)  # hold the old inode like a replace in progress would
    try:
        pid = os.fork()
        if pid == 0:  # child: blocks on the lock, then must follow the rename
            try:
                resolve(str(path)).store(cred(TGT, 9))
            finally:
                os._exit(0)
        time.sleep(0.3)
        os.replace(store.path, str(tmp_path / "old"))
        resolve(str(path)).initialize(ALICE)
    finally:
        unlock(fd, how)
        os.close(fd)
    os.waitpid(pid, 0)
    assert cc.credentials() == [cred(TGT, 9)]


@pytest.mark.skipif(shutil.which("klist") is None, reason="MIT klist not installed")
def test_mit_klist_waits_for_our_exclusive_lock(tmp_path: Path) -> None:
    path = tmp_path / "cc"
    cc = resolve(str(path))
    cc.initialize(ALICE)
    cc.store(cred(TGT))
    fd = os.open(path, os.O_RDWR)
    how = lock(fd, exclusive=True)
    env = {**os.environ, "KRB5_CONFIG": os.devnull}
    proc = subprocess.Popen(["klist", str(path)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        assert proc.poll() is None  # MIT's shared OFD lock conflicts with ours
    finally:
        unlock(fd, how)
        os.close(fd)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "krbtgt/EX.TEST@EX.TEST" in out
