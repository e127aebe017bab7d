"""The acceptor remembers decoded EncTicketParts (one ticket serves many contexts); that must
never skip a check: the decryption (integrity) and the time and flag checks run every time."""

from __future__ import annotations

import pytest

from gssmech.errors import IntegrityError
from gssmech.gss import _acceptor
from gssmech.gss.context import MAX_SKEW, AcceptorContext, APRejected, ContextExpired
from gssmech.gss.flags import GSSFlag
from gssmech.krb5 import crypto
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal
from tests.test_gss_context import NOW, SERVICE, clock_at, establish, lookup, make_cred


def _ap_req(cred: object) -> bytes:
    from gssmech.gss.context import InitiatorContext

    tok = InitiatorContext(cred, flags=GSSFlag.MUTUAL, clock=clock_at(NOW)).step(None).token
    assert tok is not None
    return tok


def test_reused_ticket_is_still_checked_for_expiry() -> None:
    cred = make_cred(lifetime=100)
    establish(cred)
    late = NOW + 100 + MAX_SKEW + 5
    acc = AcceptorContext(lookup, clock=clock_at(late))
    with pytest.raises(ContextExpired):
        acc.step(_ap_req(cred))


def test_reused_ticket_is_still_decrypted_with_the_acceptor_key() -> None:
    cred = make_cred()
    establish(cred)
    wrong = crypto.random_key(18)

    def bad_lookup(server: Principal, kvno: int | None, enctype: int) -> Key | None:
        return wrong if server == SERVICE else None

    with pytest.raises(IntegrityError):
        AcceptorContext(bad_lookup, clock=clock_at(NOW + 1)).step(_ap_req(cred))
    establish(cred)  # the right key still works afterwards


def test_not_yet_valid_is_checked_on_every_use() -> None:
    cred = make_cred()
    tok = _ap_req(cred)
    early = AcceptorContext(lookup, clock=clock_at(NOW - 10 - MAX_SKEW - 5))
    with pytest.raises(APRejected, match="not yet valid"):
        early.step(tok)
    establish(cred)
    with pytest.raises(APRejected, match="not yet valid"):
        AcceptorContext(lookup, clock=clock_at(NOW - 10 - MAX_SKEW - 5)).step(_ap_req(cred))


def test_memoized_and_fresh_decodes_give_the_same_context() -> None:
    cred = make_cred()
    _acceptor._ticket_part_memo.cache_clear()
    _ini1, acc1 = establish(cred)
    _ini2, acc2 = establish(cred)  # second use: from the memo
    assert _acceptor._ticket_part_memo.cache_info().hits >= 1
    for attr in ("flags", "initiator_name", "target_name", "expiry", "mech"):
        assert getattr(acc1, attr) == getattr(acc2, attr)
    anon = make_cred(Principal.anonymous())
    _a, acc3 = establish(anon, flags=GSSFlag.MUTUAL | GSSFlag.ANON)
    _b, acc4 = establish(anon, flags=GSSFlag.MUTUAL | GSSFlag.ANON)
    assert acc3.flags & GSSFlag.ANON and acc4.flags == acc3.flags
