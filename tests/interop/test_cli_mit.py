"""`gssmech klist` prints what MIT klist prints, byte for byte; `gssmech kcopy` makes caches MIT
uses (klist -C shows the same entries, kvno appends to the copy)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from gssmech import ccache
from tests.conftest import DATA

pytestmark = pytest.mark.interop


def gssmech(realm, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cp = subprocess.run(
        [sys.executable, "-m", "gssmech.cli", *args],
        env={**realm.env, "TZ": os.environ.get("TZ", "UTC")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert cp.returncode == 0, cp.stderr
    return cp


def mit(realm, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return realm.run(list(args), env_extra={"TZ": os.environ.get("TZ", "UTC")}, check=check)


@pytest.fixture(scope="module")
def caches(mit_realm, tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    mit_realm.kinit(mit_realm.user, ccache=d / "cc.pw")
    mit(mit_realm, "kvno", "-c", str(d / "cc.pw"), mit_realm.host_principal)
    mit_realm.kinit("@" + mit_realm.realm, flags=["-n"], ccache=d / "cc.anon")
    mit(mit_realm, "kvno", "-c", str(d / "cc.anon"), mit_realm.host_principal)
    for name in ("cc.anon", "cc.pw"):
        shutil.copy(DATA / "mit" / name, d / f"golden.{name}")
    return d


@pytest.mark.parametrize("cache", ["cc.pw", "cc.anon", "golden.cc.anon", "golden.cc.pw"])
@pytest.mark.parametrize("opts", [[], ["-f"], ["-e"], ["-C"], ["-f", "-e", "-C"]])
def test_klist_matches_mit(mit_realm, caches, cache, opts):
    path = str(caches / cache)
    ours = gssmech(mit_realm, "klist", *opts, "-c", path).stdout
    theirs = mit(mit_realm, "klist", *opts, "-c", path).stdout
    assert ours == theirs


@pytest.mark.parametrize("opts", [[], ["-t"], ["-e"], ["-t", "-e", "-K"]])
def test_klist_keytab_matches_mit(mit_realm, opts):
    for kt in (str(mit_realm.keytab), str(DATA / "mit" / "host.keytab")):
        ours = gssmech(mit_realm, "klist", "-k", *opts, kt).stdout
        theirs = mit(mit_realm, "klist", "-k", *opts, kt).stdout
        assert ours == theirs


def test_klist_default_cache_and_missing_cache(mit_realm, caches, tmp_path):
    env_cc = {"KRB5CCNAME": f"FILE:{caches / 'cc.pw'}"}
    cp = subprocess.run(
        [sys.executable, "-m", "gssmech.cli", "klist"],
        env={**mit_realm.env, **env_cc},
        capture_output=True,
        text=True,
    )
    assert cp.returncode == 0 and f"Default principal: {mit_realm.user}" in cp.stdout
    missing = gssmech(mit_realm, "klist", "-c", str(tmp_path / "nope"), check=False)
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr and "nope" in missing.stderr
    silent = gssmech(mit_realm, "klist", "-s", "-c", str(caches / "cc.pw"), check=False)
    assert silent.returncode == 0 and silent.stdout == ""


def test_kcopy_accepted_by_mit(mit_realm, caches, tmp_path):
    src = caches / "cc.anon"
    dst = tmp_path / "copy.anon"
    gssmech(mit_realm, "kcopy", f"FILE:{src}", f"FILE:{dst}")
    assert oct(os.stat(dst).st_mode & 0o777) == "0o600"
    a = mit(mit_realm, "klist", "-C", "-f", "-e", "-c", str(src)).stdout
    b = mit(mit_realm, "klist", "-C", "-f", "-e", "-c", str(dst)).stdout
    assert a.replace(str(src), "X") == b.replace(str(dst), "X")
    assert "config: start_realm = " + mit_realm.realm in b
    # MIT kvno can use the copy (it needs start_realm to find the TGT of an anonymous cache).
    mit_realm.addprinc(f"HTTP/localhost@{mit_realm.realm}")
    mit(mit_realm, "kvno", "-c", str(dst), f"HTTP/localhost@{mit_realm.realm}")
    servers = [str(c.server) for c in ccache.resolve(f"FILE:{dst}").credentials()]
    assert f"HTTP/localhost@{mit_realm.realm}" in servers


def test_kdestroy(mit_realm, caches, tmp_path):
    dst = tmp_path / "victim"
    gssmech(mit_realm, "kcopy", str(caches / "cc.pw"), str(dst))
    gssmech(mit_realm, "kdestroy", "-c", str(dst))
    assert not dst.exists()
    assert gssmech(mit_realm, "kdestroy", "-q", "-c", str(dst), check=False).returncode == 1
