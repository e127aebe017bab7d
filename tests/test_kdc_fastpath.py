"""The KDC's fast paths give the same bytes and verdicts as the slow ones: the DER writer
(memoised names, times and strings, short/long lengths) against asn1crypto's encoder, and the
cache of opened TGTs against a krbtgt key change and expiry."""

from __future__ import annotations

import datetime

from asn1crypto import core
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.kdc import der
from gssmech.kdc.tgt import TICKET_CACHE_SIZE
from gssmech.krb5.asn1 import (
    EncryptedData,
    ErrorCode,
    KerberosTime,
    PrincipalName,
    TGSRep,
    principal_name,
)
from tests.test_kdc_testlib import (
    HOST,
    NOW,
    TGS,
    error_code,
    make_db,
    make_kdc,
    parse_reply,
    password_tgt,
    tgs_req,
)

_names = st.lists(st.text(st.characters(codec="ascii", exclude_categories=["Cs"]), max_size=40),
                  min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(name_type=st.integers(-(2**31), 2**31 - 1), components=_names)
def test_principal_name_matches_asn1crypto(name_type: int, components: list[str]) -> None:
    want = principal_name(name_type, components).dump()
    assert der.principal_name((name_type, tuple(components))) == want
    assert der.principal_name((name_type, tuple(components))) == want  # memoised


@settings(max_examples=200, deadline=None)
@given(seconds=st.integers(0, 253402300799))  # 1970 .. 9999-12-31T23:59:59Z
def test_kerberos_time_matches_asn1crypto(seconds: int) -> None:
    want = KerberosTime(datetime.datetime.fromtimestamp(seconds, datetime.UTC)).dump()
    assert der.kerberos_time(seconds) == want
    assert der.kerberos_time(seconds) == want  # memoised


@given(value=st.integers(-(2**70), 2**70))
def test_integer_matches_asn1crypto(value: int) -> None:
    assert der.integer(value) == core.Integer(value).dump()


@given(size=st.sampled_from([0, 1, 127, 128, 255, 256, 65535, 65536, 70000]),
       kvno=st.none() | st.integers(0, 2**31 - 1))
def test_lengths_and_optional_fields_match_asn1crypto(size: int, kvno: int | None) -> None:
    cipher = bytes(size)
    assert der.octets(cipher) == core.OctetString(cipher).dump()
    fields: dict = {"etype": 18, "cipher": cipher}
    if kvno is not None:
        fields["kvno"] = kvno
    assert der.encrypted_data(18, cipher, kvno) == EncryptedData(fields).dump()


def test_memo_tables_stay_bounded() -> None:
    for n in range(3 * der._MEMO_MAX):
        der.general_string(f"realm-{n}")
        der.principal_name((1, (f"user{n}",)))
    assert len(der._strings) <= der._MEMO_MAX and len(der._names) <= der._MEMO_MAX
    big = "x" * (der._MEMO_VALUE_MAX + 1)
    assert der.general_string(big) == core.GeneralString(big).dump()
    assert big not in der._strings
    assert PrincipalName.load(der.principal_name((1, (big,))))["name_string"].native == [big]


def test_cached_tgt_serves_many_requests_and_is_dropped_on_rekey() -> None:
    db = make_db()
    kdc = make_kdc(db=db)
    creds = password_tgt(kdc)
    for _ in range(3):  # the second and third requests reuse the opened ticket
        assert isinstance(parse_reply(kdc.handle(tgs_req(creds, HOST), now=NOW)), TGSRep)
    assert len(kdc.ctx.ticket_cache) == 1
    # still checked per request: an expired TGT is refused although it is cached
    assert error_code(kdc.handle(tgs_req(creds, HOST, now=NOW + 86400 * 3),
                                 now=NOW + 86400 * 3)) == ErrorCode.KRB_AP_ERR_TKT_EXPIRED
    # new krbtgt keys (kvno 2): the old ticket names kvno 1, which no longer exists
    db.add_principal(TGS, replace_existing=True)
    assert error_code(kdc.handle(tgs_req(creds, HOST), now=NOW)) == \
        ErrorCode.KRB_AP_ERR_BADKEYVER


def test_cache_never_answers_for_another_key() -> None:
    """Same ciphertext, same enctype, different key: the cached entry must not be used."""
    from gssmech.kdc.tgt import open_ticket

    db = make_db()
    kdc = make_kdc(db=db)
    creds = password_tgt(kdc)
    assert isinstance(parse_reply(kdc.handle(tgs_req(creds, HOST), now=NOW)), TGSRep)
    (cipher,) = kdc.ctx.ticket_cache
    other = make_db().lookup(TGS).key_for(18)
    try:
        open_ticket(kdc.ctx, other, cipher)
    except Exception as exc:  # KDCError(BAD_INTEGRITY): the other key cannot decrypt it
        assert getattr(exc, "code", None) == ErrorCode.KRB_AP_ERR_BAD_INTEGRITY
    else:
        raise AssertionError("a ticket opened with the wrong key")


def test_cache_is_bounded_and_evicts_oldest_first() -> None:
    from gssmech.kdc.tgt import open_ticket

    db = make_db()
    kdc = make_kdc(db=db)
    creds = password_tgt(kdc)
    assert isinstance(parse_reply(kdc.handle(tgs_req(creds, HOST), now=NOW)), TGSRep)
    cache = kdc.ctx.ticket_cache
    ((cipher, entry),) = cache.items()
    cache.clear()
    for n in range(TICKET_CACHE_SIZE):
        cache[n.to_bytes(4, "big")] = entry
    key = db.lookup(TGS).key_for(18)
    opened = open_ticket(kdc.ctx, key, cipher)  # a miss: decrypts, evicts the oldest
    assert len(cache) == TICKET_CACHE_SIZE
    assert (0).to_bytes(4, "big") not in cache and cache[cipher][2] is opened
    assert open_ticket(kdc.ctx, key, cipher) is opened  # a hit
