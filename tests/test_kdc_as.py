"""The AS exchange of the embedded KDC (RFC 4120 §3.1) and the seed's AS rules K1, K2, K5, K11."""

from __future__ import annotations

import logging

import pytest

from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    ASRep,
    ErrorCode,
    decode_etype_info2,
    decode_method_data,
    find_padata,
    padata_types,
)
from gssmech.krb5.constants import DRAFT08, RFC8062, TicketFlag
from gssmech.krb5.principal import Principal
from tests.test_kdc_testlib import (
    ANON,
    HOST,
    NOW,
    REALM,
    TGS,
    USER,
    as_req,
    enc_ts,
    error_code,
    make_db,
    make_kdc,
    open_enc_part,
    open_ticket,
    parse_reply,
    session_key_of,
    user_key,
)


def test_password_principal_requires_preauth_k5_method_data() -> None:
    """PREAUTH_REQUIRED lists ENC-TIMESTAMP, ETYPE-INFO2 with the salt, PKINIT and an EMPTY
    PA_PKINIT_KX (K5, seed §4.1)."""
    kdc = make_kdc()
    err = parse_reply(kdc.handle(as_req(USER), now=NOW))
    assert int(err["error_code"]) == ErrorCode.KDC_ERR_PREAUTH_REQUIRED
    md = decode_method_data(err.e_data_bytes)
    assert {2, 19, 16, 147} <= set(padata_types(md))
    assert bytes(find_padata(md, 147)["padata_value"].native) == b""
    info = decode_etype_info2(bytes(find_padata(md, 19)["padata_value"].native))
    assert info[0]["etype"].native == 18 and info[0]["salt"].native == REALM + "user"


def test_password_as_reply_and_ticket() -> None:
    db = make_db()
    kdc = make_kdc(db=db)
    rep = parse_reply(kdc.handle(as_req(USER, padata=[enc_ts(user_key())], nonce=4242),
                                 now=NOW))
    assert isinstance(rep, ASRep)
    enc = open_enc_part(rep, user_key(), 3)  # usage 3 under the password key
    assert int(enc["nonce"]) == 4242
    flags = enc["flags"].to_int()
    assert flags & TicketFlag.INITIAL and flags & TicketFlag.PRE_AUTHENT
    assert not flags & TicketFlag.ANONYMOUS
    tkt = open_ticket(rep["ticket"], db, TGS)  # usage 2 under krbtgt's key
    assert tkt["cname"].native == rep["cname"].native
    assert tkt["crealm"].native == rep["crealm"].native == REALM
    assert session_key_of(tkt) == session_key_of(enc)
    assert enc["endtime"].timestamp - int(NOW) == 10 * 3600  # max_life caps a 24 h till


def test_wrong_password_and_clock_skew() -> None:
    kdc = make_kdc()
    wrong = crypto.string_to_key(18, "nope", REALM + "user")
    assert error_code(kdc.handle(as_req(USER, padata=[enc_ts(wrong)]), now=NOW)) == \
        ErrorCode.KDC_ERR_PREAUTH_FAILED
    late = enc_ts(user_key(), NOW - 301)
    assert error_code(kdc.handle(as_req(USER, padata=[late]), now=NOW)) == \
        ErrorCode.KRB_AP_ERR_SKEW
    ok = enc_ts(user_key(), NOW - 299)
    assert isinstance(parse_reply(kdc.handle(as_req(USER, padata=[ok]), now=NOW)), ASRep)


def test_options_forwardable_renewable_ok_and_caps() -> None:
    kdc = make_kdc(max_renew=3 * 86400)
    till = int(NOW) + 30 * 86400
    rep = parse_reply(kdc.handle(as_req(USER, padata=[enc_ts(user_key())], till=till,
                                        options={"forwardable", "renewable-ok"}), now=NOW))
    enc = open_enc_part(rep, user_key(), 3)
    flags = enc["flags"].to_int()
    assert flags & TicketFlag.FORWARDABLE and flags & TicketFlag.RENEWABLE
    assert enc["renew_till"].timestamp == int(NOW) + 3 * 86400
    rep = parse_reply(kdc.handle(as_req(USER, padata=[enc_ts(user_key())],
                                        till=int(NOW) + 600), now=NOW))
    enc = open_enc_part(rep, user_key(), 3)
    assert enc["endtime"].timestamp == int(NOW) + 600
    assert not enc["flags"].to_int() & (TicketFlag.RENEWABLE | TicketFlag.FORWARDABLE)
    assert error_code(kdc.handle(as_req(USER, padata=[enc_ts(user_key())],
                                        till=int(NOW) - 10), now=NOW)) == \
        ErrorCode.KDC_ERR_NEVER_VALID


@pytest.mark.parametrize("etype", [17, 18, 19, 20])
def test_enctype_follows_client_request(etype: int) -> None:
    kdc = make_kdc()
    key = user_key(etype)
    rep = parse_reply(kdc.handle(as_req(USER, padata=[enc_ts(key)], etypes=(etype,)), now=NOW))
    assert int(rep["enc_part"]["etype"]) == etype
    assert session_key_of(open_enc_part(rep, key, 3)).enctype == etype


def test_unsupported_enctype_and_unknown_names() -> None:
    kdc = make_kdc()
    assert error_code(kdc.handle(as_req(USER, etypes=(23,)), now=NOW)) == \
        ErrorCode.KDC_ERR_ETYPE_NOSUPP
    ghost = Principal.parse(f"ghost@{REALM}")
    assert error_code(kdc.handle(as_req(ghost), now=NOW)) == ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN
    assert error_code(kdc.handle(as_req(USER, sname=ghost), now=NOW)) == \
        ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN
    assert error_code(kdc.handle(as_req(USER, realm="OTHER.TEST"), now=NOW)) == \
        ErrorCode.KDC_ERR_WRONG_REALM


def test_k1_anonymous_client_without_option_is_badoption() -> None:
    kdc = make_kdc()
    assert error_code(kdc.handle(as_req(ANON), now=NOW)) == ErrorCode.KDC_ERR_BADOPTION


def test_k5_anonymous_without_padata_is_told_to_use_pkinit() -> None:
    kdc = make_kdc()
    err = parse_reply(kdc.handle(as_req(ANON, options={RFC8062.anonymous_bit}), now=NOW))
    assert int(err["error_code"]) == ErrorCode.KDC_ERR_PREAUTH_REQUIRED
    md = decode_method_data(err.e_data_bytes)
    assert find_padata(md, 16) is not None
    assert bytes(find_padata(md, 147)["padata_value"].native) == b""


def test_k2_anonymous_without_reply_key_is_null_key() -> None:
    """No PKINIT padata but other pre-authentication, or a KDC without PKINIT: NULL_KEY."""
    kdc = make_kdc()
    req = as_req(ANON, padata=[enc_ts(user_key())], options={RFC8062.anonymous_bit})
    assert error_code(kdc.handle(req, now=NOW)) == ErrorCode.KDC_ERR_NULL_KEY
    no_pkinit = make_kdc(pkinit=False)
    assert error_code(no_pkinit.handle(as_req(ANON, options={RFC8062.anonymous_bit}),
                                       now=NOW)) == ErrorCode.KDC_ERR_NULL_KEY


def test_k11_authenticated_anonymity_and_log_does_not_name_client(
        caplog: pytest.LogCaptureFixture) -> None:
    """Long-term keys + anonymous option: cname WELLKNOWN/ANONYMOUS, crealm the real realm,
    the anonymous flag (seed §4.1, §5); the KDC log keeps no link to the client (seed §7)."""
    db = make_db()
    kdc = make_kdc(db=db)
    caplog.set_level(logging.DEBUG, logger="gssmech.kdc")
    req = as_req(USER, padata=[enc_ts(user_key())], options={RFC8062.anonymous_bit},
                 addresses=[{"addr_type": 2, "address": b"\x0a\0\0\x01"}])
    rep = parse_reply(kdc.handle(req, now=NOW, client_addr=("10.0.0.1", 5555)))
    assert isinstance(rep, ASRep)
    assert rep["cname"]["name_string"].native == ["WELLKNOWN", "ANONYMOUS"]
    assert rep["crealm"].native == REALM
    enc = open_enc_part(rep, user_key(), 3)
    assert enc["flags"].to_int() & TicketFlag.ANONYMOUS
    tkt = open_ticket(rep["ticket"], db, TGS)
    assert tkt["cname"].native == rep["cname"].native and tkt["crealm"].native == REALM
    assert tkt["caddr"].native is None  # K7: the request's addresses are not copied
    text = caplog.text
    assert "issued anonymous ticket" in text
    assert "user" not in text and "10.0.0.1" not in text


def test_k11_failed_preauth_with_anonymous_option_is_not_logged_by_name(
        caplog: pytest.LogCaptureFixture) -> None:
    kdc = make_kdc()
    caplog.set_level(logging.DEBUG, logger="gssmech.kdc")
    kdc.handle(as_req(USER, options={RFC8062.anonymous_bit}), now=NOW, client_addr=("10.9.9.9", 1))
    assert "user" not in caplog.text and "10.9.9.9" not in caplog.text
    kdc.handle(as_req(USER), now=NOW, client_addr=("10.9.9.9", 1))
    assert "user" in caplog.text  # a normal request is logged with its name


def test_draft08_profile_uses_bit_14() -> None:
    """The seed's numbering: option and flag bit 14; bit 16 is then an unknown option."""
    kdc = make_kdc(profile="draft-08")
    req = as_req(USER, padata=[enc_ts(user_key())], options={DRAFT08.anonymous_bit})
    rep = parse_reply(kdc.handle(req, now=NOW))
    enc = open_enc_part(rep, user_key(), 3)
    assert enc["flags"].is_set(14) and not enc["flags"].is_set(16)
    assert rep["cname"]["name_string"].native == ["WELLKNOWN", "ANONYMOUS"]
    assert error_code(kdc.handle(as_req(ANON, options={16}), now=NOW)) == \
        ErrorCode.KDC_ERR_BADOPTION


def test_service_principal_without_preauth_and_ticket_for_service() -> None:
    """A random-key principal (kinit -k) needs no preauth; AS can issue a service ticket."""
    db = make_db()
    kdc = make_kdc(db=db)
    key = db.lookup(HOST).key_for(18).key
    rep = parse_reply(kdc.handle(as_req(HOST, sname=HOST), now=NOW))
    enc = open_enc_part(rep, key, 3)
    assert not enc["flags"].to_int() & TicketFlag.PRE_AUTHENT
    assert open_ticket(rep["ticket"], db, HOST)["cname"].native["name_string"] == \
        ["host", "localhost"]
