"""The TGS exchange of the embedded KDC (RFC 4120 §3.3) and seed §4.2/§7: K8, K9, K10, policies."""

from __future__ import annotations

import logging

import pytest

from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    ADIfRelevant,
    AuthDataType,
    AuthorizationData,
    ErrorCode,
    TGSRep,
    decode,
    walk_authdata,
)
from gssmech.krb5.constants import ANONYMOUS_REALM, RFC8062, TicketFlag
from gssmech.krb5.principal import Principal
from tests.test_kdc_testlib import (
    ANON,
    HOST,
    NOW,
    REALM,
    TGS,
    USER,
    anon_pkinit_req,
    error_code,
    finish_pkinit,
    forge_tgt,
    make_db,
    make_kdc,
    open_enc_part,
    open_ticket,
    parse_reply,
    password_tgt,
    session_key_of,
    tgs_req,
    with_settings,
)

ANON_BIT = RFC8062.anonymous_bit
PAC = AuthDataType.AD_WIN2K_PAC
FOR_SERVER = AuthDataType.AD_INTENDED_FOR_SERVER


def _service_ticket(kdc, creds, sname=HOST, **kw):
    rep = parse_reply(kdc.handle(tgs_req(creds, sname, **kw), now=NOW))
    assert isinstance(rep, TGSRep), rep.native
    return rep


def test_normal_tgs_reply_usage_8_and_9() -> None:
    db = make_db()
    kdc = make_kdc(db=db)
    creds = password_tgt(kdc)
    rep = _service_ticket(kdc, creds)
    enc = open_enc_part(rep, creds.session, 8)
    tkt = open_ticket(rep["ticket"], db, HOST)
    assert tkt["cname"].native["name_string"] == ["user"] and tkt["crealm"].native == REALM
    assert session_key_of(tkt) == session_key_of(enc)
    assert not enc["flags"].to_int() & (TicketFlag.ANONYMOUS | TicketFlag.INITIAL)
    assert enc["flags"].to_int() & TicketFlag.PRE_AUTHENT
    subkey = crypto.random_key(17)
    rep = _service_ticket(kdc, creds, subkey=subkey)
    open_enc_part(rep, subkey, 9)


def test_tgs_authenticator_checks() -> None:
    kdc = make_kdc()
    creds = password_tgt(kdc)
    assert error_code(kdc.handle(tgs_req(creds, HOST, bad_checksum=True), now=NOW)) == \
        ErrorCode.KRB_AP_ERR_MODIFIED
    assert error_code(kdc.handle(tgs_req(creds, HOST, auth_key=crypto.random_key(18)),
                                 now=NOW)) == ErrorCode.KRB_AP_ERR_BAD_INTEGRITY
    late = NOW + 11 * 3600
    assert error_code(kdc.handle(tgs_req(creds, HOST, now=late), now=late)) == \
        ErrorCode.KRB_AP_ERR_TKT_EXPIRED
    assert error_code(kdc.handle(tgs_req(creds, Principal.parse(f"nope@{REALM}")),
                                 now=NOW)) == ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN


def _anon_tgt(kdc):
    req = anon_pkinit_req()
    res = finish_pkinit(req, kdc.handle(req.der, now=NOW))
    from tests.test_kdc_testlib import Creds

    return Creds(res.rep["ticket"], session_key_of(res.enc_part), res.rep["cname"],
                 res.rep["crealm"].native)


def test_k8_anonymous_tgt_without_option_rfc8062_treats_it_as_set() -> None:
    db = make_db()
    kdc = make_kdc(db=db)
    creds = _anon_tgt(kdc)
    rep = _service_ticket(kdc, creds)  # no anonymous option
    assert rep["crealm"].native == ANONYMOUS_REALM  # K8: copied from the anonymous TGT
    tkt = open_ticket(rep["ticket"], db, HOST)
    assert tkt["flags"].to_int() & TicketFlag.ANONYMOUS
    assert tkt["cname"].native == rep["cname"].native
    assert tkt["crealm"].native == ANONYMOUS_REALM


def test_k8_anonymous_tgt_without_option_seed_profile_is_badoption() -> None:
    kdc = make_kdc(tgs_anonymous_requires_option=True)
    creds = _anon_tgt(kdc)
    assert error_code(kdc.handle(tgs_req(creds, HOST), now=NOW)) == ErrorCode.KDC_ERR_BADOPTION
    rep = _service_ticket(kdc, creds, options={ANON_BIT})
    assert rep["crealm"].native == ANONYMOUS_REALM


def test_k8_normal_tgt_with_option_gives_anonymous_name_real_realm(
        caplog: pytest.LogCaptureFixture) -> None:
    """Seed §4.2 (MIT does not implement this): anonymous name, the client's true realm."""
    db = make_db()
    kdc = make_kdc(db=db)
    creds = password_tgt(kdc)
    caplog.set_level(logging.DEBUG, logger="gssmech.kdc")
    rep = _service_ticket(kdc, creds, options={ANON_BIT})
    assert rep["cname"]["name_string"].native == ["WELLKNOWN", "ANONYMOUS"]
    assert rep["crealm"].native == REALM
    enc = open_enc_part(rep, creds.session, 8)
    assert enc["flags"].to_int() & TicketFlag.ANONYMOUS
    tkt = open_ticket(rep["ticket"], db, HOST)
    assert tkt["cname"].native == rep["cname"].native and tkt["crealm"].native == REALM
    assert "user" not in caplog.text  # seed §7: no log line links user to the ticket


def _ad(*elements: tuple[int, bytes]) -> AuthorizationData:
    return AuthorizationData([{"ad_type": t, "ad_data": d} for t, d in elements])


def _if_relevant(*elements: tuple[int, bytes]) -> tuple[int, bytes]:
    return (AuthDataType.AD_IF_RELEVANT,
            ADIfRelevant([{"ad_type": t, "ad_data": d} for t, d in elements]).dump())


def _leaves(tkt):
    ad = tkt["authorization_data"]
    return [] if ad.native is None else [(x.ad_type, x.ad_data, x.path)
                                         for x in walk_authdata(ad)]


def test_k9_identity_elements_removed_recursively() -> None:
    db = make_db()
    kdc = make_kdc(db=db)
    ad = _ad(_if_relevant((PAC, b"pac-naming-user"), (FOR_SERVER, b"srv")),
             _if_relevant(_if_relevant((AuthDataType.AD_INITIAL_VERIFIED_CAS, b"ca"))))
    creds = forge_tgt(db, cname=USER, crealm=REALM, flags={"pre-authent"}, authdata=ad)
    rep = _service_ticket(kdc, creds, options={ANON_BIT})
    leaves = _leaves(open_ticket(rep["ticket"], db, HOST))
    assert leaves == [(FOR_SERVER, b"srv", (AuthDataType.AD_IF_RELEVANT,))]
    # the same TGT without the anonymous option keeps everything (not an anonymous ticket)
    rep = _service_ticket(kdc, creds)
    assert len(_leaves(open_ticket(rep["ticket"], db, HOST))) == 3


@pytest.mark.parametrize("policy,expect", [({}, "reject"), ({555: "remove"}, []),
                                           ({555: "keep"}, [(555, b"x", ())])])
def test_k9_unknown_type_needs_local_policy(policy: dict, expect: object) -> None:
    db = make_db()
    kdc = make_kdc(db=db, anonymous_authdata=policy)
    creds = forge_tgt(db, cname=USER, crealm=REALM, flags=set(), authdata=_ad((555, b"x")))
    reply = kdc.handle(tgs_req(creds, HOST, options={ANON_BIT}), now=NOW)
    if expect == "reject":
        assert error_code(reply) == ErrorCode.KDC_ERR_POLICY
    else:
        assert _leaves(open_ticket(parse_reply(reply)["ticket"], db, HOST)) == expect


def test_k9_restrictive_container_revealing_identity_is_policy() -> None:
    db = make_db()
    kdc = make_kdc(db=db)
    inner = _ad((PAC, b"pac")).dump()
    creds = forge_tgt(db, cname=USER, crealm=REALM, flags=set(),
                      authdata=_ad((AuthDataType.AD_MANDATORY_FOR_KDC, inner)))
    assert error_code(kdc.handle(tgs_req(creds, HOST, options={ANON_BIT}), now=NOW)) == \
        ErrorCode.KDC_ERR_POLICY
    harmless = _ad((FOR_SERVER, b"srv")).dump()
    creds = forge_tgt(db, cname=USER, crealm=REALM, flags=set(),
                      authdata=_ad((AuthDataType.AD_MANDATORY_FOR_KDC, harmless)))
    rep = _service_ticket(kdc, creds, options={ANON_BIT})
    assert _leaves(open_ticket(rep["ticket"], db, HOST)) == \
        [(FOR_SERVER, b"srv", (AuthDataType.AD_MANDATORY_FOR_KDC,))]


def test_k9_request_enc_authorization_data_filtered() -> None:
    db = make_db()
    kdc = make_kdc(db=db)
    creds = password_tgt(kdc)
    ad = _ad((PAC, b"p"), (FOR_SERVER, b"s")).dump()
    enc_ad = {"etype": 18, "cipher": crypto.encrypt(creds.session, 4, ad)}
    rep = _service_ticket(kdc, creds, options={ANON_BIT}, enc_authdata=enc_ad)
    assert _leaves(open_ticket(rep["ticket"], db, HOST)) == [(FOR_SERVER, b"s", ())]


def test_k10_anonymous_realm_never_in_transited() -> None:
    db = make_db()
    kdc = make_kdc(db=db)
    creds = forge_tgt(db, cname=ANON, crealm=ANONYMOUS_REALM, flags={ANON_BIT},
                      transited=b"OTHER.TEST,WELLKNOWN:ANONYMOUS")
    rep = _service_ticket(kdc, creds, options={ANON_BIT})
    contents = bytes(open_ticket(rep["ticket"], db, HOST)["transited"]["contents"].native)
    assert b"WELLKNOWN:ANONYMOUS" not in contents and b"OTHER.TEST" in contents
    rep = _service_ticket(kdc, _anon_tgt(kdc))
    assert bytes(open_ticket(rep["ticket"], db, HOST)["transited"]["contents"].native) == b""


def test_policy_restrict_anonymous_to_tgt() -> None:
    kdc = make_kdc(restrict_anonymous_to_tgt=True)
    creds = _anon_tgt(kdc)  # the AS still issues the local TGT
    assert error_code(kdc.handle(tgs_req(creds, HOST), now=NOW)) == ErrorCode.KDC_ERR_POLICY
    _service_ticket(kdc, creds, sname=TGS)
    normal = password_tgt(kdc)
    _service_ticket(kdc, normal)


def test_policy_never_normal_and_refuse_anonymous() -> None:
    """Seed §7: per-service policy -- a poll service gets only anonymous tickets."""
    kdc = make_kdc(require_anonymous=(str(HOST),))
    creds = password_tgt(kdc)
    assert error_code(kdc.handle(tgs_req(creds, HOST), now=NOW)) == ErrorCode.KDC_ERR_POLICY
    _service_ticket(kdc, creds, options={ANON_BIT})
    with_settings(kdc, require_anonymous=(), refuse_anonymous=(str(HOST),))
    assert error_code(kdc.handle(tgs_req(creds, HOST, options={ANON_BIT}), now=NOW)) == \
        ErrorCode.KDC_ERR_POLICY
    assert error_code(kdc.handle(tgs_req(_anon_tgt(kdc), HOST), now=NOW)) == \
        ErrorCode.KDC_ERR_POLICY
    _service_ticket(kdc, creds)


def test_referral_only_when_configured() -> None:
    db = make_db()
    kdc = make_kdc(db=db, referrals={"other.test": "OTHER.TEST"})
    creds = password_tgt(kdc)
    far = Principal.parse(f"host/h.other.test@{REALM}")
    assert error_code(kdc.handle(tgs_req(creds, far, options={"canonicalize"}), now=NOW)) == \
        ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN  # no cross-realm key yet
    db.add_principal(Principal.krbtgt("OTHER.TEST", REALM))
    rep = _service_ticket(kdc, creds, sname=far, options={"canonicalize"})
    assert rep["ticket"]["sname"]["name_string"].native == ["krbtgt", "OTHER.TEST"]
    assert error_code(kdc.handle(tgs_req(creds, far), now=NOW)) == \
        ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN  # referrals need canonicalize


def test_renewal() -> None:
    kdc = make_kdc()
    creds = password_tgt(kdc, options={"renewable"})
    later = NOW + 9 * 3600
    rep = parse_reply(kdc.handle(tgs_req(creds, TGS, now=later, options={"renew"},
                                         till=int(later) + 86400), now=later))
    enc = open_enc_part(rep, creds.session, 8)
    assert enc["endtime"].timestamp == int(later) + 10 * 3600
    decode(TGSRep, rep.dump())
    plain = password_tgt(kdc)
    assert error_code(kdc.handle(tgs_req(plain, TGS, options={"renew"}), now=NOW)) == \
        ErrorCode.KDC_ERR_BADOPTION


def test_draft08_profile_tgs_anonymous_bit_14() -> None:
    """Under the seed's numbering bit 14 requests anonymity in TGS too (not S4U2Proxy)."""
    db = make_db()
    kdc = make_kdc(db=db, profile="draft-08")
    creds = password_tgt(kdc)
    rep = _service_ticket(kdc, creds, options={14})
    tkt = open_ticket(rep["ticket"], db, HOST)
    assert tkt["flags"].is_set(14) and not tkt["flags"].is_set(16)
    assert tkt["cname"].native["name_string"] == ["WELLKNOWN", "ANONYMOUS"]
    rfc = make_kdc()  # under RFC 8062 bit 14 is S4U2Proxy's cname-in-addl-tkt: not offered
    assert error_code(rfc.handle(tgs_req(password_tgt(rfc), HOST, options={14}), now=NOW)) == \
        ErrorCode.KDC_ERR_BADOPTION
