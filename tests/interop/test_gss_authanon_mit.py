"""Authenticated anonymity (seed §5, RFC 8062 §5) through GSS, against MIT's own acceptor (G2).

gssmech's embedded KDC issues WELLKNOWN/ANONYMOUS@REALM to alice, who proved her own keys
(``gssmech kinit -n alice@REALM``; MIT's KDC refuses that request).  The ticket names no user
but is not fully anonymous: its realm vouches for the client.  So a GSS acceptor must show an
ordinary Kerberos name that keeps the realm (GSS_KRB5_NT_PRINCIPAL_NAME), never
GSS_C_NT_ANONYMOUS, whose only principal is WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS.

- our initiator (krb5 OID framing) -> MIT's built-in krb5 acceptor (python-gssapi in a
  subprocess, host keytab written by ``gssmech kdc ktadd``);
- our initiator -> our acceptor, and MIT's initiator (reading our ccache) -> our acceptor;
- wrap/unwrap and MIC both ways in each pairing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gssmech.ccache import resolve
from gssmech.gss import api
from gssmech.gss.flags import GSSFlag
from gssmech.gss.oids import KRB5_MECH, NT_ANONYMOUS, NT_KRB5_PRINCIPAL_NAME
from gssmech.kdc.realm import init_realm, open_kdc
from gssmech.kdc.server import ThreadedKDC
from gssmech.krb5.constants import TicketFlag
from gssmech.krb5.principal import Principal
from tests.interop.mit_peer import MITPeer
from tests.interop.mitrealm import find_program, free_port

pytest.importorskip("gssapi")
pytestmark = pytest.mark.interop

REALM = "AUTHANON.TEST"
ALICE = f"alice@{REALM}"
ALICE_PW = "alice-pw-authanon"
HOST = f"host/localhost@{REALM}"
AUTHANON = f"WELLKNOWN/ANONYMOUS@{REALM}"
FULLY_ANON = "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
MUTUAL_SEQ = GSSFlag.MUTUAL | GSSFlag.SEQUENCE | GSSFlag.REPLAY | GSSFlag.CONF | GSSFlag.INTEG


class Realm:
    """The embedded KDC on loopback with alice (password) and host/localhost (keytab)."""

    def __init__(self, d: Path) -> None:
        self.dir = d
        self.kdc_dir = d / "realm"
        port = free_port()
        db = init_realm(self.kdc_dir, REALM, listen=(f"127.0.0.1:{port}",))
        db.add_principal(Principal.parse(ALICE), password=ALICE_PW)
        db.add_principal(Principal.parse(HOST))
        self.server = ThreadedKDC(open_kdc(self.kdc_dir), [("127.0.0.1", port)]).start()
        self.keytab = d / "host.keytab"
        self.ccache = d / "authanon.cc"
        (d / "mech.conf").write_text("")  # the MIT peer loads no plugin, whatever /etc says
        (d / "rcache").mkdir()
        self.env = {
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(d),
            "KRB5_CONFIG": str(self.kdc_dir / "krb5.conf"),
            "KRB5CCNAME": f"FILE:{self.ccache}",
            "KRB5_KTNAME": f"FILE:{self.keytab}",
            "KRB5RCACHEDIR": str(d / "rcache"),
            "GSS_MECH_CONFIG": str(d / "mech.conf"),
        }

    def gssmech(self, *args: str, input: str | None = None) -> str:
        cp = subprocess.run(
            [sys.executable, "-m", "gssmech.cli", *args],
            env=self.env, input=input, capture_output=True, text=True, timeout=60,
        )
        assert cp.returncode == 0, cp.stdout + cp.stderr
        return cp.stdout


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Realm]:
    r = Realm(tmp_path_factory.mktemp("authanon"))
    try:
        r.gssmech("kdc", "ktadd", "--dir", str(r.kdc_dir), "-k", str(r.keytab), HOST)
        r.gssmech("kinit", "-n", "-c", str(r.ccache), ALICE, input=ALICE_PW + "\n")
        yield r
    finally:
        r.server.stop()


@pytest.fixture
def our_env(realm: Realm, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The realm's environment in this process too (the TGS client reads os.environ)."""
    for key, value in realm.env.items():
        if key.startswith("KRB5"):
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("GSSMECH_ANON_CCACHE", raising=False)
    return realm.env


def _peer(realm: Realm) -> Iterator[MITPeer]:
    peer = MITPeer(dict(realm.env))
    try:
        yield peer
    finally:
        peer.close()


def test_the_ticket_is_authenticated_anonymous(realm: Realm) -> None:
    """Precondition, read back by MIT's klist: the TGT names no user and keeps the realm."""
    klist = find_program("klist")
    if klist is None:
        pytest.skip("MIT klist missing")
    out = subprocess.run(
        [klist, "-c", str(realm.ccache)], env=realm.env, capture_output=True, text=True,
        check=True, timeout=30,
    ).stdout
    assert f"Default principal: {AUTHANON}" in out
    assert "alice" not in out
    tgt = resolve(f"FILE:{realm.ccache}").find(Principal.krbtgt(REALM))
    assert tgt is not None and tgt.ticket_flags & TicketFlag.ANONYMOUS


def _our_initiator(realm: Realm) -> api.SecurityContext:
    creds = api.Credentials(usage="initiate", store={"ccache": f"FILE:{realm.ccache}"})
    assert creds.anonymous and str(creds.name) == AUTHANON
    target = api.Name("host@localhost", api.NameType.hostbased_service)
    return api.SecurityContext(
        name=target, creds=creds, usage="initiate", mech=KRB5_MECH,
        flags=MUTUAL_SEQ | GSSFlag.ANON,
    )


def _our_acceptor(realm: Realm) -> api.SecurityContext:
    creds = api.Credentials(usage="accept", store={"keytab": f"FILE:{realm.keytab}"})
    return api.SecurityContext(creds=creds, usage="accept")


def _messages_with_mit(ours: api.SecurityContext, peer: MITPeer) -> None:
    for conf in (True, False):
        msg = b"authanon from gssmech " + bytes([conf]) * 50
        got = peer.ok("unwrap", token=ours.wrap(msg, conf).message)
        assert bytes.fromhex(got["msg"]) == msg and got["conf"] is conf
        back = b"authanon from MIT " * 20
        res = ours.unwrap(bytes.fromhex(peer.ok("wrap", msg=back, conf=conf)["token"]))
        assert res.message == back and res.encrypted is conf
    peer.ok("verify", msg=b"mic by gssmech", token=ours.get_signature(b"mic by gssmech"))
    ours.verify_signature(b"mic by MIT", bytes.fromhex(peer.ok("mic", msg=b"mic by MIT")["token"]))


def test_our_initiator_to_mit_acceptor(realm: Realm, our_env: dict[str, str]) -> None:
    """G2 as MIT sees it: the realm-qualified anonymous name, krb5 principal name type."""
    ini = _our_initiator(realm)
    first = ini.step()
    assert first is not None and not ini.complete
    for peer in _peer(realm):
        acc = peer.ok("accept", token=first)
        assert acc["complete"] is True and acc["token"]
        assert ini.step(bytes.fromhex(acc["token"])) is None and ini.complete
        assert acc["initiator_name"] == AUTHANON
        assert acc["name_type"] == NT_KRB5_PRINCIPAL_NAME.dotted
        assert acc["name_type"] != NT_ANONYMOUS.dotted
        # The anonymous ticket is all the initiator had, so it reports ANON itself (G3).
        assert ini.actual_flags & GSSFlag.ANON
        assert ini.actual_flags & GSSFlag.MUTUAL
        _messages_with_mit(ini, peer)


def _check_our_acceptor_view(acc: api.SecurityContext) -> None:
    name = acc.initiator_name
    assert name is not None
    assert str(name) == AUTHANON
    assert name.name_type == NT_KRB5_PRINCIPAL_NAME
    assert name.name_type != NT_ANONYMOUS
    # RFC 1964 §2.1.3: the exported name carries the realm, so it cannot be confused with the
    # fully anonymous principal.
    assert REALM.encode() in name.export()
    full = api.Name(FULLY_ANON, NT_KRB5_PRINCIPAL_NAME)
    assert name != full
    # seed §5 / acceptor docstring: no user is named, so anon_state is reported
    assert acc.actual_flags & GSSFlag.ANON


def test_our_initiator_to_our_acceptor(realm: Realm, our_env: dict[str, str]) -> None:
    ini = _our_initiator(realm)
    acc = _our_acceptor(realm)
    ini.step(acc.step(ini.step()))
    assert ini.complete and acc.complete
    _check_our_acceptor_view(acc)
    for sender, receiver in ((ini, acc), (acc, ini)):
        for conf in (True, False):
            msg = f"authanon {conf}".encode() * 9
            res = receiver.unwrap(sender.wrap(msg, conf).message)
            assert res.message == msg and res.encrypted is conf
        receiver.verify_signature(b"signed", sender.get_signature(b"signed"))


def test_mit_initiator_to_our_acceptor(realm: Realm, our_env: dict[str, str]) -> None:
    """MIT's client reads the ccache our kinit wrote and asks our KDC for the service ticket
    with the authenticated-anonymous TGT; our acceptor still shows the realm-qualified name."""
    for peer in _peer(realm):
        init = peer.ok("init", target="host@localhost", flags=int(MUTUAL_SEQ))
        acc = _our_acceptor(realm)
        rep = acc.step(bytes.fromhex(init["token"]))
        assert acc.complete and rep is not None
        done = peer.ok("step", token=rep)
        assert done["complete"] is True
        _check_our_acceptor_view(acc)
        assert acc.mech == KRB5_MECH
        _messages_with_mit(acc, peer)
