"""The proof: gssmech's sans-I/O contexts against MIT krb5's built-in GSS mechanism.

MIT runs in a subprocess (tests/interop/mit_peer.py, python-gssapi) with the test realm's
environment.  Credentials come from real MIT tools: ``kinit`` (a user) and ``kinit -n``
(anonymous PKINIT), then ``kvno host/localhost`` puts the service ticket in the ccache, which
gssmech.ccache reads; the acceptor side uses the realm's host keytab through gssmech.ccache.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gssmech.ccache import Keytab, resolve
from gssmech.gss import framing
from gssmech.gss.context import (
    AcceptorContext,
    AnonymityUnavailable,
    APRejected,
    BadBindings,
    InitiatorContext,
    NoAcceptorKey,
    ServiceCredential,
    name_type_of,
)
from gssmech.gss.flags import GSSFlag
from gssmech.gss.oids import KRB5_MECH, NT_ANONYMOUS, NT_KRB5_PRINCIPAL_NAME
from gssmech.krb5.asn1 import KRBError, decode
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal
from tests.interop.mit_peer import MITPeer
from tests.interop.mitrealm import MITRealm

pytest.importorskip("gssapi")

MUTUAL_SEQ = int(GSSFlag.MUTUAL | GSSFlag.SEQUENCE | GSSFlag.REPLAY | GSSFlag.CONF | GSSFlag.INTEG)


@pytest.fixture(scope="module")
def caches(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("gss-mit")
    user, anon = d / "user.cc", d / "anon.cc"
    mit_realm.kinit(mit_realm.user, ccache=user)
    mit_realm.kinit("@" + mit_realm.realm, flags=["-n"], ccache=anon)
    for cc in (user, anon):
        mit_realm.run(["kvno", "-c", str(cc), mit_realm.host_principal])
    return {"user": user, "anon": anon}


def _peer(mit_realm: MITRealm, ccache: Path | None = None) -> Iterator[MITPeer]:
    env = dict(mit_realm.env)
    if ccache is not None:
        env["KRB5CCNAME"] = f"FILE:{ccache}"
    peer = MITPeer(env)
    try:
        yield peer
    finally:
        peer.close()


def _key_lookup(mit_realm: MITRealm, path: Path | None = None):  # type: ignore[no-untyped-def]
    keytab = Keytab.resolve(f"FILE:{path or mit_realm.keytab}")

    def lookup(server: Principal, kvno: int | None, enctype: int) -> Key | None:
        entry = keytab.find(server, kvno, enctype)
        return None if entry is None else Key(entry.enctype, entry.key)

    return lookup


def _service_cred(mit_realm: MITRealm, cc: Path) -> ServiceCredential:
    cache = resolve(f"FILE:{cc}")
    cred = cache.find(Principal.parse(mit_realm.host_principal))
    assert cred is not None
    return ServiceCredential.from_ccache(cred)


def _exchange_messages_with_mit(ours, peer: MITPeer) -> None:  # type: ignore[no-untyped-def]
    # ours -> MIT
    for conf in (True, False):
        msg = b"from gssmech " + bytes([conf]) * 100
        got = peer.ok("unwrap", token=ours.wrap(msg, conf))
        assert bytes.fromhex(got["msg"]) == msg and got["conf"] is conf
    mic = ours.get_mic(b"signed by gssmech")
    peer.ok("verify", msg=b"signed by gssmech", token=mic)
    # MIT -> ours
    for conf in (True, False):
        msg = b"from MIT " * 30
        res = ours.unwrap(bytes.fromhex(peer.ok("wrap", msg=msg, conf=conf)["token"]))
        assert res.message == msg and res.encrypted is conf and res.supplementary == 0
    mic_tok = bytes.fromhex(peer.ok("mic", msg=b"signed by MIT")["token"])
    assert ours.verify_mic(b"signed by MIT", mic_tok).supplementary == 0
    # a tampered MIT token is refused by us with BAD_SIG
    bad = bytearray(bytes.fromhex(peer.ok("wrap", msg=b"x" * 40, conf=True)["token"]))
    bad[-1] ^= 1
    with pytest.raises(Exception) as ei:
        ours.unwrap(bytes(bad))
    assert ei.value.major == 6 << 16  # GSS_S_BAD_SIG
    # RFC 4402 PRF agrees with MIT's for both key selections (FULL = 0, PARTIAL = 1)
    for prf_key in (0, 1):
        theirs = peer.ok("prf", key=prf_key, input=b"prf input", len=100)["out"]
        assert ours.pseudo_random(prf_key, b"prf input", 100).hex() == theirs


@pytest.mark.parametrize("who", ["user", "anon"])
def test_mit_initiator_to_our_acceptor(
    mit_realm: MITRealm, caches: dict[str, Path], who: str
) -> None:
    for peer in _peer(mit_realm, caches[who]):
        init = peer.ok("init", target="host@localhost", flags=MUTUAL_SEQ)
        assert init["complete"] is False
        acc = AcceptorContext(
            _key_lookup(mit_realm), principal=Principal.parse(mit_realm.host_principal)
        )
        res = acc.step(bytes.fromhex(init["token"]))
        assert res.complete and res.token is not None
        assert acc.mech == KRB5_MECH
        done = peer.ok("step", token=res.token)
        assert done["complete"] is True
        if who == "user":
            assert str(acc.initiator_name) == mit_realm.user
            assert name_type_of(acc.initiator_name) == NT_KRB5_PRINCIPAL_NAME
            assert not acc.flags & GSSFlag.ANON
        else:
            # MIT never sets ANON; we derive it from the ticket (flag + anonymous name).
            assert str(acc.initiator_name) == "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
            assert name_type_of(acc.initiator_name) == NT_ANONYMOUS
            assert acc.flags & GSSFlag.ANON
            assert not done["flags"] & GSSFlag.ANON  # MIT's own initiator drops it
        assert acc.flags & GSSFlag.MUTUAL and acc.flags & GSSFlag.SEQUENCE
        _exchange_messages_with_mit(acc, peer)


@pytest.mark.parametrize("who", ["user", "anon"])
def test_our_initiator_to_mit_acceptor(
    mit_realm: MITRealm, caches: dict[str, Path], who: str
) -> None:
    cred = _service_cred(mit_realm, caches[who])
    flags = GSSFlag.MUTUAL | GSSFlag.SEQUENCE | GSSFlag.REPLAY
    if who == "anon":
        flags |= GSSFlag.ANON
    ini = InitiatorContext(cred, flags=flags, mech=KRB5_MECH)
    first = ini.step(None)
    assert first.token is not None and not first.complete
    for peer in _peer(mit_realm):
        acc = peer.ok("accept", token=first.token)
        assert acc["complete"] is True and acc["token"]
        fin = ini.step(bytes.fromhex(acc["token"]))
        assert fin.complete and ini.complete
        if who == "anon":
            assert acc["initiator_name"] == "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
            assert acc["name_type"] == str(NT_ANONYMOUS)
            assert ini.flags & GSSFlag.ANON
        else:
            assert acc["initiator_name"] == mit_realm.user
            assert not ini.flags & GSSFlag.ANON
        assert acc["flags"] & GSSFlag.MUTUAL and acc["flags"] & GSSFlag.SEQUENCE
        _exchange_messages_with_mit(ini, peer)


def test_anon_flag_with_user_credential_sends_nothing(
    mit_realm: MITRealm, caches: dict[str, Path]
) -> None:
    """G3: the user's ticket with GSS_C_ANON_FLAG gives an error and no token."""
    ini = InitiatorContext(
        _service_cred(mit_realm, caches["user"]), flags=GSSFlag.ANON | GSSFlag.MUTUAL,
        mech=KRB5_MECH,
    )
    with pytest.raises(AnonymityUnavailable):
        ini.step(None)


def test_channel_bindings_with_mit(mit_realm: MITRealm, caches: dict[str, Path]) -> None:
    cred = _service_cred(mit_realm, caches["user"])
    # ours -> MIT: matching bindings complete; MIT checks our MD5 of the bindings.
    ini = InitiatorContext(cred, flags=GSSFlag.MUTUAL, channel_bindings=b"tls-unique:abc",
                           mech=KRB5_MECH)
    for peer in _peer(mit_realm):
        acc = peer.ok("accept", token=ini.step(None).token, cb=b"tls-unique:abc")
        assert acc["flags"] & GSSFlag.channel_bound
    ini = InitiatorContext(cred, flags=GSSFlag.MUTUAL, channel_bindings=b"tls-unique:abc",
                           mech=KRB5_MECH)
    for peer in _peer(mit_realm):
        resp = peer.call("accept", token=ini.step(None).token, cb=b"tls-unique:XYZ")
        assert "error" in resp or not resp["complete"]
        if resp.get("token"):  # MIT answered with a KRB-ERROR token: we fail typed
            with pytest.raises(APRejected):
                ini.step(bytes.fromhex(resp["token"]))
    # MIT -> ours: mismatch refused with BAD_BINDINGS.
    for peer in _peer(mit_realm, caches["user"]):
        init = peer.ok("init", target="host@localhost", flags=MUTUAL_SEQ, cb=b"one")
        acc_ctx = AcceptorContext(_key_lookup(mit_realm), channel_bindings=b"two")
        with pytest.raises(BadBindings):
            acc_ctx.step(bytes.fromhex(init["token"]))


def test_mits_krb_error_token_is_reported_by_name(
    mit_realm: MITRealm, caches: dict[str, Path], tmp_path: Path
) -> None:
    """MIT's acceptor without the service key answers a mutual AP-REQ with a KRB-ERROR token
    (RFC 4121 §4.1, TOK_ID 03 00); our initiator fails with the error's name and number."""
    other = tmp_path / "other.keytab"
    mit_realm.addprinc(f"HTTP/localhost@{mit_realm.realm}")
    mit_realm.ktadd(f"HTTP/localhost@{mit_realm.realm}", other)
    ini = InitiatorContext(_service_cred(mit_realm, caches["user"]), flags=GSSFlag.MUTUAL,
                           mech=KRB5_MECH)
    peer = MITPeer({**mit_realm.env, "KRB5_KTNAME": f"FILE:{other}"})
    try:
        resp = peer.call("accept", token=ini.step(None).token)
    finally:
        peer.close()
    assert resp.get("token"), resp  # the KRB-ERROR token
    with pytest.raises(APRejected) as exc:
        ini.step(bytes.fromhex(resp["token"]))
    assert "the acceptor refused the context: KRB_AP_ERR_NOT_US (35)" in str(exc.value)


def _krb_error_fields(token: bytes) -> dict[str, object]:
    framed = framing.unframe(token, (KRB5_MECH,), expect=(framing.TOK_KRB_ERROR,))
    err = decode(KRBError, framed.body, what="KRB-ERROR token").native
    return {k: err[k] for k in ("pvno", "msg_type", "error_code", "realm", "sname", "crealm",
                                 "cname", "e_text", "e_data", "ctime", "cusec")}


def test_our_krb_error_token_is_mits(
    mit_realm: MITRealm, caches: dict[str, Path], tmp_path: Path
) -> None:
    """An acceptor without the service key refuses a mutual AP-REQ with a KRB-ERROR token
    (RFC 4121 §4.1).  Ours carries what MIT's does for the same request (same code, server,
    nothing about the client), and MIT's initiator reads it as that Kerberos error."""
    other = tmp_path / "other.keytab"
    mit_realm.addprinc(f"HTTP/localhost@{mit_realm.realm}")
    mit_realm.ktadd(f"HTTP/localhost@{mit_realm.realm}", other)
    theirs = MITPeer({**mit_realm.env, "KRB5_KTNAME": f"FILE:{other}"})
    try:
        for peer in _peer(mit_realm, caches["anon"]):
            ap_req = bytes.fromhex(peer.ok("init", target="host@localhost",
                                           flags=MUTUAL_SEQ)["token"])
            mits = theirs.call("accept", token=ap_req)
            acc = AcceptorContext(_key_lookup(mit_realm, other))
            with pytest.raises(NoAcceptorKey) as exc:
                acc.step(ap_req)
            ours = exc.value.token
            assert ours is not None and mits.get("token")
            assert exc.value.major == mits["major"]  # GSS_S_FAILURE, the key named is missing
            assert _krb_error_fields(ours) == _krb_error_fields(bytes.fromhex(mits["token"]))
            assert _krb_error_fields(ours)["error_code"] == 35  # KRB_AP_ERR_NOT_US
            assert _krb_error_fields(ours)["cname"] is None
            # MIT's initiator turns it into that error (minor = ERROR_TABLE_BASE_krb5 + 35)
            got = peer.call("step", token=ours)
            assert "error" in got and "The ticket isn't for us" in got["error"], got
    finally:
        theirs.close()
