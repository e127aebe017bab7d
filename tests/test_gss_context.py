"""In-memory initiator <-> acceptor pairs (the h11 ConnectionPair idea) with a ticket we build
ourselves: an EncTicketPart sealed with the service key, as a KDC would."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.errors import (
    GSS_S_BAD_BINDINGS,
    GSS_S_BAD_MECH,
    GSS_S_BAD_SIG,
    GSS_S_CONTEXT_EXPIRED,
    GSS_S_DEFECTIVE_TOKEN,
    GSS_S_DUPLICATE_TOKEN,
    GSS_S_FAILURE,
    GSS_S_GAP_TOKEN,
    GSS_S_NO_CONTEXT,
    GSS_S_NO_CRED,
    GSS_S_UNAUTHORIZED,
    GSS_S_UNSEQ_TOKEN,
    GSSMechError,
    Minor,
)
from gssmech.gss import framing
from gssmech.gss.context import (
    AcceptorContext,
    AnonymityUnavailable,
    APRejected,
    ContextStateError,
    InitiatorContext,
    MechanismBug,
    ServiceCredential,
    Stage,
    from_state,
    name_type_of,
)
from gssmech.gss.flags import GSSFlag
from gssmech.gss.oids import KRB5_MECH, NT_ANONYMOUS, NT_KRB5_PRINCIPAL_NAME, Oid
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    EncTicketPart,
    KRBError,
    Ticket,
    TicketFlags,
    decode,
    principal_name_of,
)
from gssmech.krb5.constants import TicketFlag
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal

NOW = 1_700_000_000.25
SERVICE = Principal.parse("host/server.example@EXAMPLE.COM")
USER = Principal.parse("alice@EXAMPLE.COM")
ANON = Principal.anonymous()
AUTH_ANON = Principal.anonymous("EXAMPLE.COM")
SVC_KEY = crypto.random_key(18)
ALLBITS = (GSSFlag.MUTUAL, GSSFlag.REPLAY, GSSFlag.SEQUENCE, GSSFlag.CONF, GSSFlag.INTEG)


def make_cred(
    client: Principal = USER, *, anonymous_flag: bool | None = None, enctype: int = 18,
    lifetime: int = 3600,
) -> ServiceCredential:
    if anonymous_flag is None:
        anonymous_flag = client.is_anonymous_name
    flags = int(TicketFlag.PRE_AUTHENT) | (int(TicketFlag.ANONYMOUS) if anonymous_flag else 0)
    session = crypto.random_key(enctype)
    etp = EncTicketPart(
        {
            "flags": TicketFlags(flags),
            "key": {"keytype": enctype, "keyvalue": session.contents},
            "crealm": client.realm,
            "cname": principal_name_of(client),
            "transited": {"tr_type": 1, "contents": b""},
            "authtime": int(NOW) - 10,
            "endtime": int(NOW) + lifetime,
        }
    )
    ticket = Ticket(
        {
            "tkt_vno": 5,
            "realm": SERVICE.realm,
            "sname": principal_name_of(SERVICE),
            "enc_part": {"etype": 18, "kvno": 3, "cipher": crypto.encrypt(SVC_KEY, 2, etp.dump())},
        }
    )
    return ServiceCredential(client, SERVICE, session, ticket.dump(), flags, int(NOW) + lifetime)


def lookup(server: Principal, kvno: int | None, enctype: int) -> Key | None:
    return SVC_KEY if (server, kvno, enctype) == (SERVICE, 3, 18) else None


def clock_at(t: float) -> Callable[[], float]:
    return lambda: t


def establish(
    cred: ServiceCredential | None = None, flags: int = GSSFlag.MUTUAL | GSSFlag.SEQUENCE,
    **acc_kw: object,
) -> tuple[InitiatorContext, AcceptorContext]:
    ini = InitiatorContext(cred or make_cred(), flags=flags, clock=clock_at(NOW))
    acc = AcceptorContext(lookup, clock=clock_at(NOW + 1), **acc_kw)  # type: ignore[arg-type]
    first = ini.step(None)
    assert first.token is not None
    res = acc.step(first.token)
    assert res.complete
    if flags & GSSFlag.MUTUAL:
        assert res.token is not None and not ini.complete
        assert ini.step(res.token).complete
    else:
        assert res.token is None and first.complete
    return ini, acc


def exchange(ini: InitiatorContext, acc: AcceptorContext) -> None:
    for a, b in ((ini, acc), (acc, ini)):
        for conf in (True, False):
            res = b.unwrap(a.wrap(b"payload", conf))
            assert (res.message, res.encrypted, res.supplementary) == (b"payload", conf, 0)
        assert b.verify_mic(b"m", a.get_mic(b"m")).supplementary == 0
    assert ini.pseudo_random(0, b"x", 40) == acc.pseudo_random(0, b"x", 40)


@pytest.mark.parametrize(
    "bits", [c for n in range(6) for c in itertools.combinations(ALLBITS, n)]
)
def test_all_flag_combinations(bits: tuple[GSSFlag, ...]) -> None:
    req = GSSFlag(sum(bits))
    ini, acc = establish(flags=req)
    granted = GSSFlag.CONF | GSSFlag.INTEG | GSSFlag.TRANS | GSSFlag.PROT_READY
    want = granted | (req & (GSSFlag.MUTUAL | GSSFlag.REPLAY | GSSFlag.SEQUENCE))
    assert ini.flags == want and acc.flags == want
    assert acc.initiator_name == USER and acc.target_name == SERVICE
    assert name_type_of(acc.initiator_name) == NT_KRB5_PRINCIPAL_NAME
    assert acc.mech == ini.mech == Oid.from_dotted("2.999.6112.1")
    exchange(ini, acc)


def test_krb5_framing_and_lifetime() -> None:
    ini = InitiatorContext(make_cred(lifetime=600), mech=KRB5_MECH, clock=clock_at(NOW))
    acc = AcceptorContext(lookup, clock=clock_at(NOW))
    token = ini.step(None).token
    assert token is not None and token[4:15].hex() == "06092a864886f712010202"  # 60 82 len
    ini2 = InitiatorContext(make_cred(lifetime=600), mech=KRB5_MECH, clock=clock_at(NOW))
    ini2.step(acc.step(ini2.step(None).token).token)  # type: ignore[arg-type]
    assert acc.mech == KRB5_MECH and acc.lifetime == 599


# --- anonymity (G1-G4) -----------------------------------------------------------------------


def test_g3_anon_requested_with_user_credential_yields_no_token() -> None:
    ini = InitiatorContext(make_cred(), flags=GSSFlag.ANON | GSSFlag.MUTUAL, clock=clock_at(NOW))
    with pytest.raises(AnonymityUnavailable) as ei:
        ini.step(None)
    assert ei.value.major == GSS_S_FAILURE and ini.stage is Stage.FAILED
    with pytest.raises(ContextStateError):
        ini.step(None)


def test_g3_anonymous_name_without_ticket_flag_is_not_anonymous() -> None:
    cred = make_cred(ANON, anonymous_flag=False)
    with pytest.raises(AnonymityUnavailable):
        InitiatorContext(cred, flags=GSSFlag.ANON, clock=clock_at(NOW)).step(None)


@pytest.mark.parametrize("requested", [True, False])
def test_g1_fully_anonymous(requested: bool) -> None:
    flags = GSSFlag.MUTUAL | (GSSFlag.ANON if requested else 0)
    ini, acc = establish(make_cred(ANON), flags=flags)
    assert ini.flags & GSSFlag.ANON and acc.flags & GSSFlag.ANON
    assert acc.initiator_name == ANON and name_type_of(acc.initiator_name) == NT_ANONYMOUS
    exchange(ini, acc)


def test_g2_authenticated_anonymous_keeps_realm() -> None:
    ini, acc = establish(make_cred(AUTH_ANON), flags=GSSFlag.MUTUAL | GSSFlag.ANON)
    assert acc.initiator_name == AUTH_ANON
    assert name_type_of(acc.initiator_name) == NT_KRB5_PRINCIPAL_NAME
    assert acc.flags & GSSFlag.ANON and ini.flags & GSSFlag.ANON


def test_acceptor_does_not_report_anon_without_ticket_flag() -> None:
    # The ccache claims anonymity but the KDC-sealed ticket has no anonymous flag.
    cred = make_cred(ANON, anonymous_flag=False)
    ini, acc = establish(cred, flags=GSSFlag.MUTUAL)
    assert not acc.flags & GSSFlag.ANON and not ini.flags & GSSFlag.ANON


@pytest.mark.parametrize("client", [ANON, AUTH_ANON])
def test_g4_refuse_anonymous(client: Principal) -> None:
    with pytest.raises(GSSMechError) as ei:
        establish(make_cred(client), refuse_anonymous=True)
    assert ei.value.major == GSS_S_UNAUTHORIZED
    establish(make_cred(), refuse_anonymous=True)  # a named user is fine


# --- channel bindings, replay, keys, time -------------------------------------------------------


def _accept_error(ini: InitiatorContext, **acc_kw: object) -> GSSMechError:
    acc = AcceptorContext(lookup, clock=clock_at(NOW), **acc_kw)  # type: ignore[arg-type]
    with pytest.raises(GSSMechError) as ei:
        acc.step(ini.step(None).token)  # type: ignore[arg-type]
    assert acc.stage is Stage.FAILED
    assert not isinstance(ei.value, MechanismBug)
    return ei.value


def test_channel_bindings() -> None:
    _, acc = establish(InitiatorContext(make_cred()).credential, channel_bindings=None)
    ini = InitiatorContext(make_cred(), channel_bindings=b"cb", clock=clock_at(NOW))
    acc = AcceptorContext(lookup, channel_bindings=b"cb", clock=clock_at(NOW))
    acc.step(ini.step(None).token)  # type: ignore[arg-type]
    assert acc.flags & GSSFlag.channel_bound
    ini = InitiatorContext(make_cred(), channel_bindings=b"cb", clock=clock_at(NOW))
    assert _accept_error(ini, channel_bindings=b"other").major == GSS_S_BAD_BINDINGS
    # NB(mit >= 1.19): no initiator bindings are accepted, without CHANNEL_BOUND.
    ini = InitiatorContext(make_cred(), clock=clock_at(NOW))
    acc = AcceptorContext(lookup, channel_bindings=b"cb", clock=clock_at(NOW))
    acc.step(ini.step(None).token)  # type: ignore[arg-type]
    assert acc.complete and not acc.flags & GSSFlag.channel_bound
    # An acceptor without bindings accepts an initiator that has some.
    ini = InitiatorContext(make_cred(), channel_bindings=b"cb", clock=clock_at(NOW))
    AcceptorContext(lookup, clock=clock_at(NOW)).step(ini.step(None).token)  # type: ignore[arg-type]


def test_replayed_ap_req() -> None:
    from gssmech.gss.replaycache import MemoryReplayCache

    rc = MemoryReplayCache()
    token = InitiatorContext(make_cred(), clock=clock_at(NOW)).step(None).token
    AcceptorContext(lookup, replay_cache=rc, clock=clock_at(NOW)).step(token)  # type: ignore[arg-type]
    acc = AcceptorContext(lookup, replay_cache=rc, clock=clock_at(NOW))
    with pytest.raises(GSSMechError) as ei:
        acc.step(token)  # type: ignore[arg-type]
    assert ei.value.major == GSS_S_FAILURE | GSS_S_DUPLICATE_TOKEN  # fatal, and why


def test_missing_key_expired_ticket_and_skew() -> None:
    ini = InitiatorContext(make_cred(), clock=clock_at(NOW))
    token = ini.step(None).token
    acc = AcceptorContext(lambda *a: None, clock=clock_at(NOW))
    with pytest.raises(GSSMechError) as ei:
        acc.step(token)  # type: ignore[arg-type]
    assert ei.value.major == GSS_S_FAILURE and ei.value.minor == Minor.KEYTAB_NO_KEY
    late = AcceptorContext(lookup, clock=clock_at(NOW + 3600 + 301))
    with pytest.raises(GSSMechError) as ei:
        late.step(token)  # type: ignore[arg-type]
    assert ei.value.major == GSS_S_CONTEXT_EXPIRED
    skewed = AcceptorContext(lookup, clock=clock_at(NOW + 400))
    with pytest.raises(GSSMechError) as ei:
        skewed.step(token)  # type: ignore[arg-type]
    assert ei.value.major == GSS_S_FAILURE and not isinstance(ei.value, MechanismBug)


def _krb_error_of(exc: GSSMechError) -> dict[str, object]:
    assert exc.token is not None
    framed = framing.unframe(exc.token, expect=(framing.TOK_KRB_ERROR,))
    return dict(decode(KRBError, framed.body, what="KRB-ERROR token").native)


@pytest.mark.parametrize(("acc_kw", "clock", "code"), [
    ({}, NOW + 400, 37),  # KRB_AP_ERR_SKEW
    ({}, NOW + 3600 + 301, 32),  # KRB_AP_ERR_TKT_EXPIRED
    ({"principal": Principal.parse("HTTP/other@EXAMPLE.COM")}, NOW, 35),  # KRB_AP_ERR_NOT_US
    ({"channel_bindings": b"other"}, NOW, 60),  # KRB_ERR_GENERIC, as MIT
])
def test_refusal_of_a_mutual_ap_req_carries_a_krb_error_token(
    acc_kw: dict[str, object], clock: float, code: int
) -> None:
    """RFC 4121 §4.1: the initiator waits for an answer, so the refusal is a KRB-ERROR token
    (TOK_ID 03 00) with the server's name and time and nothing about the client; our
    initiator reads it as that error."""
    ini = InitiatorContext(make_cred(), flags=GSSFlag.MUTUAL, clock=clock_at(NOW),
                           channel_bindings=b"mine" if acc_kw.get("channel_bindings") else None)
    acc = AcceptorContext(lookup, clock=clock_at(clock), **acc_kw)  # type: ignore[arg-type]
    with pytest.raises(GSSMechError) as ei:
        acc.step(ini.step(None).token)  # type: ignore[arg-type]
    err = _krb_error_of(ei.value)
    assert err["error_code"] == code
    assert err["realm"] == SERVICE.realm
    assert err["sname"]["name_string"] == list(SERVICE.components)  # type: ignore[index]
    assert err["stime"].timestamp() == int(clock)
    assert err["cname"] is None and err["crealm"] is None
    with pytest.raises(APRejected) as refused:
        ini.step(ei.value.token)
    assert f"({code})" in str(refused.value) and ini.stage is Stage.FAILED


def test_no_krb_error_token_when_nobody_waits() -> None:
    """Without mutual authentication the initiator is done after its token: no answer."""
    ini = InitiatorContext(make_cred(), flags=GSSFlag.SEQUENCE, clock=clock_at(NOW))
    with pytest.raises(GSSMechError) as ei:
        AcceptorContext(lookup, clock=clock_at(NOW + 400)).step(ini.step(None).token)  # type: ignore[arg-type]
    assert ei.value.token is None


def test_replayed_mutual_ap_req_gets_krb_ap_err_repeat() -> None:
    from gssmech.gss.replaycache import MemoryReplayCache

    rc = MemoryReplayCache()
    ini = InitiatorContext(make_cred(), flags=GSSFlag.MUTUAL, clock=clock_at(NOW))
    token = ini.step(None).token
    AcceptorContext(lookup, replay_cache=rc, clock=clock_at(NOW)).step(token)  # type: ignore[arg-type]
    with pytest.raises(GSSMechError) as ei:
        AcceptorContext(lookup, replay_cache=rc, clock=clock_at(NOW)).step(token)  # type: ignore[arg-type]
    assert _krb_error_of(ei.value)["error_code"] == 34


def test_wrong_principal_is_refused() -> None:
    ini = InitiatorContext(make_cred(), clock=clock_at(NOW))
    err = _accept_error(ini, principal=Principal.parse("HTTP/other@EXAMPLE.COM"))
    assert err.major == GSS_S_FAILURE


# --- per-message sequencing, expiry, state ------------------------------------------------------


def test_replay_and_sequence_supplementary() -> None:
    ini, acc = establish(flags=GSSFlag.MUTUAL | GSSFlag.REPLAY | GSSFlag.SEQUENCE)
    toks = [ini.wrap(bytes([i])) for i in range(4)]
    assert acc.unwrap(toks[0]).supplementary == 0
    assert acc.unwrap(toks[0]).supplementary == GSS_S_DUPLICATE_TOKEN
    assert acc.unwrap(toks[2]).supplementary == GSS_S_GAP_TOKEN
    assert acc.unwrap(toks[1]).supplementary == GSS_S_UNSEQ_TOKEN
    mic = ini.get_mic(b"m")
    assert acc.verify_mic(b"m", mic).supplementary == GSS_S_GAP_TOKEN  # toks[3] skipped
    assert acc.verify_mic(b"m", mic).supplementary == GSS_S_DUPLICATE_TOKEN


def test_context_expiry() -> None:
    t = [NOW]
    ini = InitiatorContext(make_cred(lifetime=100), flags=0, clock=lambda: t[0])
    acc = AcceptorContext(lookup, clock=lambda: t[0])
    acc.step(ini.step(None).token)  # type: ignore[arg-type]
    tok = ini.wrap(b"ok")
    t[0] = NOW + 101
    for call in (lambda: ini.wrap(b"late"), lambda: acc.unwrap(tok), lambda: acc.get_mic(b"")):
        with pytest.raises(GSSMechError) as ei:
            call()
        assert ei.value.major == GSS_S_CONTEXT_EXPIRED


def test_state_errors() -> None:
    ini = InitiatorContext(make_cred(), clock=clock_at(NOW))
    with pytest.raises(GSSMechError) as ei:
        ini.wrap(b"too early")
    assert ei.value.major == GSS_S_NO_CONTEXT
    ini2, acc = establish()
    with pytest.raises(ContextStateError):
        ini2.step(b"more")
    with pytest.raises(ContextStateError):
        acc.step(b"more")


def test_export_and_resume_both_sides() -> None:
    ini, acc = establish(flags=GSSFlag.MUTUAL | GSSFlag.REPLAY | GSSFlag.SEQUENCE)
    first = ini.wrap(b"one")
    assert acc.unwrap(first).supplementary == 0
    acc2 = from_state(acc.export_state(), clock=clock_at(NOW))
    ini2 = from_state(ini.export_state(), clock=clock_at(NOW))
    assert acc2.initiator_name == USER and acc2.is_acceptor and acc2.flags == acc.flags
    assert acc2.unwrap(first).supplementary == GSS_S_DUPLICATE_TOKEN  # window survived
    assert acc2.unwrap(ini2.wrap(b"two")).message == b"two"
    assert ini2.verify_mic(b"x", acc2.get_mic(b"x")).supplementary == 0
    with pytest.raises(GSSMechError) as ei:
        from_state({"version": 1, "role": "x"})
    assert ei.value.major == GSS_S_DEFECTIVE_TOKEN


# --- tampering: every byte of every context token ------------------------------------------------


def test_flip_every_byte_of_ap_req() -> None:
    """Every flip is refused with a typed error -- except inside ap-options, which RFC 4120
    §5.5.1 leaves outside every checksum (MIT ignores unknown bits; Windows sets bit 17).
    Those flips must not change what the acceptor grants: GSS flags come from the checksum."""
    ini = InitiatorContext(make_cred(), flags=GSSFlag.MUTUAL, clock=clock_at(NOW))
    token = ini.step(None).token
    assert token is not None
    opts = token.find(bytes.fromhex("a20703050020000000"))  # [2] APOptions {mutual-required}
    assert opts > 0
    majors = set()
    for i in range(len(token)):
        bad = bytearray(token)
        bad[i] ^= 0x01
        acc = AcceptorContext(lookup, clock=clock_at(NOW))
        if opts + 2 <= i < opts + 9:
            try:
                acc.step(bytes(bad))
            except GSSMechError as exc:
                assert not isinstance(exc, MechanismBug)
            else:
                assert acc.flags & GSSFlag.MUTUAL and not acc.flags & GSSFlag.SEQUENCE
            continue
        with pytest.raises(GSSMechError) as ei:
            acc.step(bytes(bad))
        assert not isinstance(ei.value, MechanismBug), (i, ei.value)
        majors.add(ei.value.major)
    assert majors <= {GSS_S_DEFECTIVE_TOKEN, GSS_S_BAD_SIG, GSS_S_BAD_MECH, GSS_S_NO_CRED,
                      GSS_S_FAILURE, GSS_S_CONTEXT_EXPIRED}
    assert GSS_S_BAD_SIG in majors and GSS_S_DEFECTIVE_TOKEN in majors


def test_flip_every_byte_of_ap_rep() -> None:
    cred = make_cred()
    probe = InitiatorContext(cred, clock=clock_at(NOW), rng=lambda n: bytes(n))
    rep = AcceptorContext(lookup, clock=clock_at(NOW)).step(probe.step(None).token).token  # type: ignore[arg-type]
    assert rep is not None
    for i in range(len(rep)):
        bad = bytearray(rep)
        bad[i] ^= 0x01
        # the same (fixed-randomness) AP-REQ, so the untampered AP-REP would complete
        ini = InitiatorContext(cred, clock=clock_at(NOW), rng=lambda n: bytes(n))
        ini.step(None)
        with pytest.raises(GSSMechError) as ei:
            ini.step(bytes(bad))
        assert not isinstance(ei.value, MechanismBug), (i, ei.value)
        assert ini.stage is Stage.FAILED
    ini = InitiatorContext(cred, clock=clock_at(NOW), rng=lambda n: bytes(n))
    ini.step(None)
    assert ini.step(rep).complete


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_to_acceptor(data: bytes) -> None:
    acc = AcceptorContext(lookup, clock=clock_at(NOW))
    with pytest.raises(GSSMechError) as ei:
        acc.step(data)
    assert not isinstance(ei.value, MechanismBug)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_to_initiator(data: bytes) -> None:
    ini = InitiatorContext(make_cred(), clock=clock_at(NOW))
    ini.step(None)
    with pytest.raises(GSSMechError) as ei:
        ini.step(data or b"\0")
    assert not isinstance(ei.value, MechanismBug)
