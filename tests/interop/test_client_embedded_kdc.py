"""gssmech's client against gssmech's embedded KDC, with MIT klist as the independent reader:
password AS, anonymous PKINIT (C1-C9 / K1-K7), authenticated anonymity (seed §5, K11, which MIT's
KDC refuses), TGS with an anonymous TGT, and an anonymous ticket from a normal TGT (seed §4.2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gssmech.ccache import resolve
from gssmech.kdc.realm import init_realm, open_kdc
from gssmech.kdc.server import ThreadedKDC
from gssmech.krb5.constants import TicketFlag
from gssmech.krb5.principal import Principal
from tests.interop.mitrealm import free_port

REALM = "EMBEDDED.TEST"


class Embedded:
    def __init__(self, d: Path) -> None:
        self.dir = d
        port = free_port()
        db = init_realm(d / "realm", REALM, listen=(f"127.0.0.1:{port}",))
        db.add_principal(Principal.parse(f"alice@{REALM}"), password="alice-pw-1")
        db.add_principal(Principal.parse(f"host/localhost@{REALM}"))
        self.server = ThreadedKDC(open_kdc(d / "realm"), [("127.0.0.1", port)]).start()
        self.env = {
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            "KRB5_CONFIG": str(d / "realm" / "krb5.conf"),
            "HOME": str(d),
        }

    def gssmech(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        cp = subprocess.run(
            [sys.executable, "-m", "gssmech.cli", *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert cp.returncode == 0, cp.stdout + cp.stderr
        return cp

    def mit_klist(self, cc: Path) -> str:
        if shutil.which("klist") is None:
            pytest.skip("MIT klist missing")
        return subprocess.run(
            ["klist", "-f", "-C", "-c", str(cc)], env=self.env, capture_output=True, text=True,
            check=True,
        ).stdout


@pytest.fixture(scope="module")
def kdc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    e = Embedded(tmp_path_factory.mktemp("embedded"))
    try:
        yield e
    finally:
        e.server.stop()


def _flags(cc: Path, server: str) -> int:
    cred = resolve(f"FILE:{cc}").find(Principal.parse(server))
    assert cred is not None, server
    return cred.ticket_flags


def test_anonymous_pkinit_then_kvno(kdc: Embedded) -> None:
    cc = kdc.dir / "anon.cc"
    kdc.gssmech("kinit", "-n", "-c", str(cc), f"@{REALM}")
    kdc.gssmech("kvno", "-c", str(cc), f"host/localhost@{REALM}")
    out = kdc.mit_klist(cc)
    assert "Default principal: WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS" in out
    assert f"config: start_realm = {REALM}" in out
    assert _flags(cc, f"host/localhost@{REALM}") & TicketFlag.ANONYMOUS


def test_password_kinit_then_kvno(kdc: Embedded) -> None:
    cc = kdc.dir / "alice.cc"
    kdc.gssmech("kinit", "-c", str(cc), f"alice@{REALM}", input="alice-pw-1\n")
    kdc.gssmech("kvno", "-c", str(cc), f"host/localhost@{REALM}")
    out = kdc.mit_klist(cc)
    assert f"Default principal: alice@{REALM}" in out
    assert not _flags(cc, f"host/localhost@{REALM}") & TicketFlag.ANONYMOUS


def test_authenticated_anonymity(kdc: Embedded) -> None:
    """seed §5: alice's own keys + the anonymous option -> WELLKNOWN/ANONYMOUS@REALM."""
    cc = kdc.dir / "authanon.cc"
    cp = kdc.gssmech("kinit", "-n", "-c", str(cc), f"alice@{REALM}", input="alice-pw-1\n")
    out = kdc.mit_klist(cc)
    assert f"Default principal: WELLKNOWN/ANONYMOUS@{REALM}" in out
    assert "alice" not in out and "alice" not in cp.stdout
    assert _flags(cc, f"krbtgt/{REALM}@{REALM}") & TicketFlag.ANONYMOUS


def test_anonymous_ticket_from_a_normal_tgt(kdc: Embedded) -> None:
    """seed §4.2 via the GSS credential path: gssmech_anonymous_source = tgs."""
    from gssmech.gss.creds import ANON_CCACHE_ENV, acquire

    alice = kdc.dir / "alice2.cc"
    kdc.gssmech("kinit", "-c", str(alice), f"alice@{REALM}", input="alice-pw-1\n")
    conf = kdc.dir / "krb5.tgs.conf"
    text = (kdc.dir / "realm" / "krb5.conf").read_text()
    knob = "[libdefaults]\n    gssmech_anonymous_source = tgs"
    conf.write_text(text.replace("[libdefaults]", knob))
    anon_cc = kdc.dir / "from-tgs.cc"
    env = {
        **kdc.env,
        "KRB5_CONFIG": str(conf),
        "KRB5CCNAME": f"FILE:{alice}",
        ANON_CCACHE_ENV: f"FILE:{anon_cc}",
    }
    cred = acquire(usage="initiate", anonymous=True, env=env)
    assert cred.anonymous
    out = kdc.mit_klist(anon_cc)
    assert f"Default principal: WELLKNOWN/ANONYMOUS@{REALM}" in out
    assert _flags(anon_cc, f"krbtgt/{REALM}@{REALM}") & TicketFlag.ANONYMOUS


def test_service_ticket_uses_the_credentials_environment(
    kdc: Embedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TGS request goes to the KDCs of the env acquire() was given, not os.environ's."""
    from gssmech.gss.creds import acquire

    for key in [k for k in os.environ if k.startswith(("KRB5", "GSSMECH_"))]:
        monkeypatch.delenv(key)
    cc = kdc.dir / "alice3.cc"
    kdc.gssmech("kinit", "-c", str(cc), f"alice@{REALM}", input="alice-pw-1\n")
    env = {**kdc.env, "KRB5CCNAME": f"FILE:{cc}"}
    cred = acquire(usage="initiate", env=env)
    ticket = cred.service_ticket(Principal.parse(f"host/localhost@{REALM}"))
    assert str(ticket.server) == f"host/localhost@{REALM}"


def test_draft08_profile_end_to_end(tmp_path: Path) -> None:
    """The seed's own numbering (bit 14, PA_PKINIT_KX 135, "KeyExchange") as a named profile:
    our client and our KDC both set to draft-08 agree; the RFC 8062 KDC refuses bit 14."""
    from gssmech.krb5.constants import DRAFT08, flag_bit

    port = free_port()
    init_realm(tmp_path / "realm", "DRAFT.TEST", listen=(f"127.0.0.1:{port}",), profile="draft-08")
    conf = tmp_path / "draft.conf"
    text = (tmp_path / "realm" / "krb5.conf").read_text()
    knob = "[libdefaults]\n    gssmech_anon_profile = draft-08"
    conf.write_text(text.replace("[libdefaults]", knob))
    server = ThreadedKDC(open_kdc(tmp_path / "realm"), [("127.0.0.1", port)]).start()
    try:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KRB5_CONFIG": str(conf)}
        cc = tmp_path / "draft.cc"
        cp = subprocess.run(
            [sys.executable, "-m", "gssmech.cli", "kinit", "-n", "-c", str(cc), "@DRAFT.TEST"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert cp.returncode == 0, cp.stderr
        cred = resolve(f"FILE:{cc}").find(Principal.parse("krbtgt/DRAFT.TEST@DRAFT.TEST"))
        assert cred is not None
        assert cred.ticket_flags & flag_bit(DRAFT08.anonymous_bit)
        assert not cred.ticket_flags & TicketFlag.ANONYMOUS
        # An RFC 8062 client against the draft-08 KDC: the option bits disagree -> refused.
        env["KRB5_CONFIG"] = str(tmp_path / "realm" / "krb5.conf")
        cp = subprocess.run(
            [sys.executable, "-m", "gssmech.cli", "kinit", "-n", "-c", str(cc), "@DRAFT.TEST"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert cp.returncode == 1 and "Traceback" not in cp.stderr, cp.stderr
        assert "anonymous" in cp.stderr, cp.stderr
    finally:
        server.stop()
