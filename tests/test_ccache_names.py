"""Cache name resolution: KRB5CCNAME, krb5.conf default_ccache_name, %{uid}, FILE:/DIR:/
DIR::/MEMORY:, and clear errors for KEYRING:/KCM:/API:/MSLSA:.  DIR collections are checked
against MIT klist/kswitch when those are installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gssmech.ccache import DirCollection, Keytab, resolve, split_name
from gssmech.errors import CCacheError, UnsupportedCCacheType
from gssmech.krb5.principal import Principal

ALICE = Principal(1, ("alice",), "EX.TEST")
BOB = Principal(1, ("bob",), "EX.TEST")
MIT_ENV = {**os.environ, "KRB5_CONFIG": os.devnull, "LC_ALL": "C"}


class FakeProfile:
    """Stands in for gssmech.krb5.config.Profile: ``get(*path, default=None)``."""

    def __init__(self, **libdefaults: str) -> None:
        self._values = libdefaults

    def get(self, *path: str, default: Any = None) -> Any:
        if len(path) == 2 and path[0] == "libdefaults":
            return self._values.get(path[1], default)
        return default


def test_split_name() -> None:
    assert split_name("FILE:/tmp/x") == ("FILE", "/tmp/x")
    assert split_name("/tmp/x") == ("FILE", "/tmp/x")
    assert split_name("C:\\cache") == ("FILE", "C:\\cache")  # a drive letter, not a type
    assert split_name("DIR::/d/tkt") == ("DIR", ":/d/tkt")
    assert split_name("MEMORY:a:b") == ("MEMORY", "a:b")


def test_krb5ccname_file_prefix_is_stripped(tmp_path: Path) -> None:
    cc = resolve(env={"KRB5CCNAME": f"FILE:{tmp_path}/cc"}, config=FakeProfile())
    assert cc.path == f"{tmp_path}/cc" and cc.full_name == f"FILE:{tmp_path}/cc"
    cc.initialize(ALICE)
    assert (tmp_path / "cc").read_bytes()[:2] == b"\x05\x04"
    bare = resolve(env={"KRB5CCNAME": f"{tmp_path}/cc"}, config=FakeProfile())
    assert bare.full_name == cc.full_name and bare.principal() == ALICE


def test_default_from_krb5conf_expands_uid() -> None:
    profile = FakeProfile(default_ccache_name="FILE:/run/user/%{uid}/cc_%{euid}")
    cc = resolve(env={}, config=profile)
    assert cc.path == f"/run/user/{os.getuid()}/cc_{os.geteuid()}"
    assert resolve(env={"KRB5CCNAME": "MEMORY:x"}, config=profile).full_name == "MEMORY:x"


def test_builtin_default() -> None:
    assert resolve(env={}, config=FakeProfile()).full_name == f"FILE:/tmp/krb5cc_{os.getuid()}"


def test_ccache_type_decides_new_versions_only(tmp_path: Path) -> None:
    for version in (1, 2, 3, 4):
        cc = resolve(f"{tmp_path}/v{version}", config=FakeProfile(ccache_type=str(version)))
        cc.initialize(ALICE)
        assert (tmp_path / f"v{version}").read_bytes()[:2] == bytes([5, version])
    # an existing cache keeps its version when rewritten through a v4-configured handle
    v2 = resolve(f"{tmp_path}/v2", config=FakeProfile())
    resolve(f"{tmp_path}/v4", config=FakeProfile()).copy_to(v2)
    assert v2.read().version == 2
    fresh = resolve(f"{tmp_path}/new", config=FakeProfile(ccache_type="3"))
    v2.copy_to(fresh)
    assert fresh.read().version == 3


@pytest.mark.parametrize("kind", ["KEYRING", "KCM", "API", "MSLSA"])
def test_unsupported_types(kind: str) -> None:
    with pytest.raises(UnsupportedCCacheType, match="not supported by gssmech; use FILE: or DIR:"):
        resolve(f"{kind}:persistent:0")
    with pytest.raises(UnsupportedCCacheType, match="unknown"):
        resolve("NOPE:x")


def test_memory_is_shared_by_name_within_the_process() -> None:
    a = resolve("MEMORY:shared-test")
    assert not a.exists()
    a.initialize(ALICE)
    a.set_config("start_realm", b"EX.TEST")
    b = resolve("MEMORY:shared-test")
    assert b.principal() == ALICE and b.get_config("start_realm") == b"EX.TEST"
    assert not resolve("MEMORY:other-test").exists()
    b.destroy()
    assert not a.exists()
    with pytest.raises(CCacheError):
        a.read()


def test_dir_collection(tmp_path: Path) -> None:
    d = tmp_path / "coll"
    primary = resolve(f"DIR:{d}")
    assert primary.full_name == f"DIR::{d}/tkt" and not primary.exists()
    primary.initialize(ALICE)  # creates the directory (0700) like MIT
    assert (d.stat().st_mode & 0o777) == 0o700
    coll = DirCollection(str(d))
    other = coll.new_unique()
    assert os.path.basename(other.path).startswith("tkt") and not other.exists()
    other.initialize(BOB)
    assert [c.principal() for c in coll.caches()] == [ALICE, BOB]  # primary first
    coll.switch(other)
    assert (d / "primary").read_text() == os.path.basename(other.path) + "\n"
    assert resolve(f"DIR:{d}").principal() == BOB
    assert [c.principal() for c in coll.caches()] == [BOB, ALICE]
    direct = resolve(f"DIR::{d}/tkt")
    assert direct.principal() == ALICE and direct.full_name == f"DIR::{d}/tkt"
    with pytest.raises(CCacheError):
        resolve(f"DIR::{d}/notacache")
    with pytest.raises(CCacheError):
        coll.switch(resolve(f"FILE:{d}/tkt"))


@pytest.mark.skipif(shutil.which("klist") is None, reason="MIT klist not installed")
def test_dir_collection_agrees_with_mit(tmp_path: Path) -> None:
    d = tmp_path / "coll"
    coll = DirCollection(str(d))
    first = coll.primary()
    first.initialize(ALICE)
    second = coll.new_unique()
    second.initialize(BOB)
    coll.switch(second)

    def mit(*args: str) -> str:
        env = {**MIT_ENV, "KRB5CCNAME": f"DIR:{d}"}
        return subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout

    assert "Default principal: bob@EX.TEST" in mit("klist")
    listing = mit("klist", "-l")
    assert "bob@EX.TEST" in listing and "alice@EX.TEST" in listing
    if shutil.which("kswitch"):  # MIT switching is seen by us
        mit("kswitch", "-c", first.full_name)
        assert coll.primary_name() == "tkt" and resolve(f"DIR:{d}").principal() == ALICE


def test_with_a_real_krb5_conf(tmp_path: Path) -> None:
    config = pytest.importorskip("gssmech.krb5.config")
    if not hasattr(config, "load_default"):
        pytest.skip("krb5.conf layer not available yet")
    conf = tmp_path / "krb5.conf"
    conf.write_text(
        "[libdefaults]\n"
        f"    default_ccache_name = FILE:{tmp_path}/cc_%{{uid}}\n"
        f"    default_keytab_name = FILE:{tmp_path}/kt_%{{euid}}\n"
        "    ccache_type = 2\n"
    )
    env = {"KRB5_CONFIG": str(conf)}
    cc = resolve(env=env)
    assert cc.path == f"{tmp_path}/cc_{os.getuid()}"
    cc.initialize(ALICE)
    assert Path(cc.path).read_bytes()[:2] == b"\x05\x02"
    assert Keytab.resolve(env=env).full_name == f"FILE:{tmp_path}/kt_{os.geteuid()}"
