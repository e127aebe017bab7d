"""MIT Kerberos 1.20 client tools against the embedded KDC.

MIT ``kinit -n @REALM`` is the strongest check of the KDC half of anonymous PKINIT: the MIT
client verifies the CMS signature, the KDC certificate's chain, EKU and id-pkinit-san
krbtgt/REALM@REALM, the RFC 8636 KDF, PA_PKINIT_KX and that the session key is KRB-FX-CF2 of
the contribution and reply keys (``verify_anonymous``).  The realm is made by ``kdc init`` and
served in-process on a free loopback port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gssmech.cli import main as kdc_main
from gssmech.kdc.realm import open_kdc
from gssmech.kdc.server import ThreadedKDC
from tests.interop.mitrealm import find_program, free_port

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("kinit") is None, reason="MIT kinit not installed"),
]

REALM = "EMBEDDED.TEST"
PASSWORD = "user-pass-9"


class Realm:
    def __init__(self, d: Path, server: ThreadedKDC) -> None:
        self.dir = d
        self.server = server
        self.keytab = d / "host.keytab"

    def run(self, args: list[str], ccache: Path, *, input: str | None = None,
            conf: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
        env.update(KRB5_CONFIG=str(conf or self.dir / "krb5.conf"), KRB5CCNAME=f"FILE:{ccache}",
                   KRB5RCACHETYPE="none", KRB5_TRACE=str(ccache) + ".trace")
        cp = subprocess.run([find_program(args[0]) or args[0], *args[1:]], env=env, input=input,
                            capture_output=True, text=True, timeout=60)
        if check and cp.returncode != 0:
            trace = Path(str(ccache) + ".trace")
            raise AssertionError(f"{' '.join(args)} failed ({cp.returncode}):\n{cp.stdout}\n"
                                 f"{cp.stderr}\n--- KRB5_TRACE ---\n"
                                 f"{trace.read_text() if trace.exists() else ''}")
        return cp


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Realm]:
    d = tmp_path_factory.mktemp("embedded")
    port = free_port()
    cli = ["kdc"]
    assert kdc_main([*cli, "init", "--realm", REALM, "--dir", str(d),
                     "--listen", f"127.0.0.1:{port}"]) == 0
    assert kdc_main([*cli, "addprinc", "--dir", str(d), "--pw", PASSWORD, "user"]) == 0
    assert kdc_main([*cli, "addprinc", "--dir", str(d), "--randkey", "host/localhost"]) == 0
    assert kdc_main([*cli, "ktadd", "--dir", str(d), "-k", str(d / "host.keytab"),
                     "host/localhost"]) == 0
    with ThreadedKDC(open_kdc(d), [("127.0.0.1", port)]) as server:
        yield Realm(d, server)


def _flags_of(klist_out: str, service: str) -> str:
    lines = klist_out.splitlines()
    for i, line in enumerate(lines):
        if line.rstrip().endswith(service):
            for follow in lines[i + 1:i + 3]:
                if "Flags:" in follow:
                    return follow.split("Flags:")[1].strip()
    raise AssertionError(f"no flags for {service} in:\n{klist_out}")


def test_mit_kinit_password_and_kvno(realm: Realm, tmp_path: Path) -> None:
    cc = tmp_path / "cc"
    realm.run(["kinit", f"user@{REALM}"], cc, input=PASSWORD + "\n")
    realm.run(["kvno", f"host/localhost@{REALM}"], cc)
    out = realm.run(["klist", "-f"], cc).stdout
    assert f"Default principal: user@{REALM}" in out
    assert "a" not in _flags_of(out, f"krbtgt/{REALM}@{REALM}")
    assert "I" in _flags_of(out, f"krbtgt/{REALM}@{REALM}")


def test_mit_kinit_wrong_password_fails(realm: Realm, tmp_path: Path) -> None:
    cp = realm.run(["kinit", f"user@{REALM}"], tmp_path / "cc", input="wrong\n", check=False)
    assert cp.returncode != 0
    assert "Password incorrect" in cp.stderr or "Preauthentication failed" in cp.stderr


def test_mit_anonymous_pkinit_and_kvno(realm: Realm, tmp_path: Path) -> None:
    """K3-K7 checked by MIT's client: signature, SAN, KDF, PA_PKINIT_KX, cf2; then TGS."""
    cc = tmp_path / "cc"
    realm.run(["kinit", "-n", f"@{REALM}"], cc)
    realm.run(["kvno", f"host/localhost@{REALM}"], cc)
    out = realm.run(["klist", "-f"], cc).stdout
    assert "Default principal: WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS" in out
    assert "a" in _flags_of(out, f"krbtgt/{REALM}@{REALM}")
    assert "a" in _flags_of(out, f"host/localhost@{REALM}")
    trace = (tmp_path / "cc.trace").read_text()
    assert "PA-PKINIT-KX" in trace


def test_mit_anonymous_pkinit_over_tcp(realm: Realm, tmp_path: Path) -> None:
    conf = tmp_path / "krb5.conf"
    conf.write_text((realm.dir / "krb5.conf").read_text().replace(
        "[libdefaults]\n", "[libdefaults]\n    udp_preference_limit = 1\n"))
    cc = tmp_path / "cc"
    realm.run(["kinit", "-n", f"@{REALM}"], cc, conf=conf)
    assert "stream" in (tmp_path / "cc.trace").read_text()


def test_mit_authenticated_anonymity_k11(realm: Realm, tmp_path: Path) -> None:
    """``kinit -n user``: MIT's own KDC refuses this (BADOPTION); the seed §5 requires it."""
    cc = tmp_path / "cc"
    realm.run(["kinit", "-n", f"user@{REALM}"], cc, input=PASSWORD + "\n")
    realm.run(["kvno", f"host/localhost@{REALM}"], cc)
    out = realm.run(["klist", "-f"], cc).stdout
    assert f"Default principal: WELLKNOWN/ANONYMOUS@{REALM}" in out
    assert "a" in _flags_of(out, f"host/localhost@{REALM}")


def test_mit_kinit_with_keytab_from_ktadd(realm: Realm, tmp_path: Path) -> None:
    cc = tmp_path / "cc"
    realm.run(["kinit", "-k", "-t", str(realm.keytab), f"host/localhost@{REALM}"], cc)
    realm.run(["kvno", f"host/localhost@{REALM}"], cc)
    out = realm.run(["klist"], cc).stdout
    assert f"Default principal: host/localhost@{REALM}" in out


def test_mit_kvno_refused_by_restrict_anonymous_to_tgt(realm: Realm, tmp_path: Path) -> None:
    kdc = realm.server.server.kdc
    old = kdc.ctx
    kdc.ctx = replace(old, settings=replace(old.settings, restrict_anonymous_to_tgt=True))
    try:
        cc = tmp_path / "cc"
        realm.run(["kinit", "-n", f"@{REALM}"], cc)
        cp = realm.run(["kvno", f"host/localhost@{REALM}"], cc, check=False)
        assert cp.returncode != 0 and "KDC policy rejects request" in cp.stderr
    finally:
        kdc.ctx = old
