"""The KDC's fast paths give the same verdicts as the slow ones: the cache of opened TGTs
against a krbtgt key change and expiry.  (The DER writer is tested in test_asn1_derwrite.)"""

from __future__ import annotations

from gssmech.kdc.tgt import TICKET_CACHE_SIZE
from gssmech.krb5.asn1 import (
    ErrorCode,
    TGSRep,
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
