"""T5/T6: key selection, rotation, renew, lifetime hints and expiry, with an injected clock."""

from __future__ import annotations

import pytest

from gssmech.tlsticket import (
    DRAFT_07,
    MAX_LIFETIME,
    KeyRing,
    TicketBinding,
    TicketExpired,
    TicketInvalid,
    TicketKey,
    TicketKeyError,
    TicketSealError,
    TicketUnknownKey,
    new_ticket_key,
)
from gssmech.tlsticket.keydir import new_key_file_at_time, rotate_key_file_at_time
from gssmech.tlsticket.keyring import DEFAULT_MAX_SKEW

T0 = 1_700_000_000
P = 3600  # rotation period
L = 7200  # ticket lifetime (> P: keys outlive one rotation)
B = TicketBinding("gss-export", "host/a@EXAMPLE.COM")


def _ring_at(key_file, **kw):
    return KeyRing(key_file.keys, ticket_lifetime=key_file.lifetime, **kw)


def _counter_randbytes(start: int = 0):
    state = [start]

    def randbytes(n: int) -> bytes:
        state[0] += 1
        return state[0].to_bytes(2, "big") * (n // 2)

    return randbytes


def test_seal_with_current_then_rotate_gives_renew():
    kf = new_key_file_at_time(T0, period=P, lifetime=L)
    nxt, cur = kf.keys
    sealed = _ring_at(kf).seal_at_time(T0 + 10, b"s", B)
    assert sealed.key_name == cur.key_name
    opened = _ring_at(kf).open_at_time(T0 + 20, sealed.ticket, B)
    assert not opened.renew and opened.state == b"s" and opened.issued_at == T0 + 10

    rotated = rotate_key_file_at_time(kf, T0 + P)
    assert [k.key_name for k in rotated.keys[1:]] == [nxt.key_name, cur.key_name]
    ring = _ring_at(rotated)
    assert ring.sealing_key_at(T0 + P + 1).key_name == nxt.key_name
    opened = ring.open_at_time(T0 + P + 1, sealed.ticket, B)
    assert opened.renew and opened.key_name == cur.key_name
    # the renewed ticket comes from the new current key and does not ask for renewal
    fresh = ring.seal_at_time(T0 + P + 1, opened.state, B)
    assert fresh.key_name == nxt.key_name
    assert not ring.open_at_time(T0 + P + 2, fresh.ticket, B).renew


def test_next_key_takes_over_at_its_not_before_without_rotate():
    kf = new_key_file_at_time(T0, period=P, lifetime=L)
    nxt, cur = kf.keys
    ring = _ring_at(kf)
    assert ring.sealing_key_at(T0 + P - 1) is cur
    assert ring.sealing_key_at(T0 + P) is nxt
    # a ticket sealed by a node that already switched opens on one that has not (renew=True there)
    early = ring.seal_at_time(T0 + P, b"x", B)
    assert ring.open_at_time(T0 + P - 5, early.ticket, B).renew


def test_previous_key_expires_then_is_dropped():
    kf = new_key_file_at_time(T0, period=P, lifetime=L)
    cur = kf.keys[1]
    sealed = _ring_at(kf).seal_at_time(T0, b"s", B)
    assert sealed.lifetime_hint == L
    kf1 = rotate_key_file_at_time(kf, T0 + P)
    prev = kf1.keys[2]
    assert prev.key_name == cur.key_name and prev.decrypt_until == T0 + P + L
    assert not prev.can_seal_at(T0 + P)
    # past the ticket's own lifetime: expired
    with pytest.raises(TicketExpired):
        _ring_at(kf1).open_at_time(T0 + L, sealed.ticket, B)
    # past the key's decrypt window: expired without any crypto
    with pytest.raises(TicketExpired):
        _ring_at(kf1).open_at_time(T0 + P + L, sealed.ticket, B)
    # L > P: the key survives one more rotation as "retired", then it is gone
    kf2 = rotate_key_file_at_time(kf1, T0 + 2 * P)
    assert cur.key_name in {k.key_name for k in kf2.keys}
    assert kf2.role(3) == "retired"
    kf3 = rotate_key_file_at_time(kf2, T0 + P + L)
    assert cur.key_name not in {k.key_name for k in kf3.keys}
    with pytest.raises(TicketUnknownKey):
        _ring_at(kf3).open_at_time(T0 + P + L, sealed.ticket, B)


def test_lifetime_hint_caps():
    key = new_ticket_key(not_before=T0, encrypt_until=T0 + 100, decrypt_until=T0 + 1000)
    ring = KeyRing([key], ticket_lifetime=900)
    assert ring.seal_at_time(T0, b"", B).lifetime_hint == 900
    assert ring.seal_at_time(T0 + 50, b"", B).lifetime_hint == 900
    assert ring.seal_at_time(T0 + 99, b"", B, lifetime=5000).lifetime_hint == 901  # key window
    long = new_ticket_key(not_before=T0, encrypt_until=T0 + 100, decrypt_until=T0 + 10**7)
    capped = KeyRing([long]).seal_at_time(T0, b"", B, lifetime=10**6)
    assert capped.lifetime_hint == MAX_LIFETIME == 604800
    # §3.3: 0 = unspecified; such a ticket is honoured for at most 7 days
    zero = KeyRing([long]).seal_at_time(T0, b"", B, lifetime=0)
    assert zero.lifetime_hint == 0
    opened = KeyRing([long]).open_at_time(T0 + MAX_LIFETIME - 1, zero.ticket, B)
    assert opened.lifetime == 0
    with pytest.raises(TicketExpired):
        KeyRing([long]).open_at_time(T0 + MAX_LIFETIME, zero.ticket, B)


@pytest.mark.parametrize("lifetime", [-1, 2**32, 1.5])
def test_bad_lifetime_rejected(lifetime):
    ring = KeyRing([new_ticket_key(not_before=0, encrypt_until=T0 * 2, decrypt_until=T0 * 2)])
    with pytest.raises(TicketSealError):
        ring.seal_at_time(T0, b"", B, lifetime=lifetime)


def test_no_active_key_and_oversized_state():
    ring = KeyRing([new_ticket_key(not_before=T0, encrypt_until=T0 + 10, decrypt_until=T0 + 20)])
    with pytest.raises(TicketSealError):
        ring.seal_at_time(T0 + 10, b"", B)
    with pytest.raises(TicketSealError):
        ring.seal_at_time(T0 - 1, b"", B)
    with pytest.raises(TicketSealError):
        ring.seal_at_time(T0, b"x" * 65536, B)
    biggest = 65519 - (1 + 4 + 4 + len(B.encoded) + 2)
    ticket = ring.seal_at_time(T0, b"x" * biggest, B).ticket
    assert len(ticket) == 16 + 16 + 2 + 65520 + 32
    assert ring.open_at_time(T0, ticket, B).state == b"x" * biggest
    with pytest.raises(TicketSealError):
        ring.seal_at_time(T0, b"x" * (biggest + 1), B)


def test_future_issued_at_beyond_skew_is_invalid():
    ring = KeyRing([new_ticket_key(not_before=0, encrypt_until=T0 * 2, decrypt_until=T0 * 2)])
    sealed = ring.seal_at_time(T0, b"", B)
    assert ring.open_at_time(T0 - DEFAULT_MAX_SKEW, sealed.ticket, B).issued_at == T0
    with pytest.raises(TicketInvalid):
        ring.open_at_time(T0 - DEFAULT_MAX_SKEW - 1, sealed.ticket, B)


def test_mixed_profiles_in_one_ring():
    old = new_ticket_key(DRAFT_07, not_before=T0 - 100, encrypt_until=T0, decrypt_until=T0 + 100)
    new = new_ticket_key(not_before=T0, encrypt_until=T0 + 100, decrypt_until=T0 + 200)
    legacy = KeyRing([old]).seal_at_time(T0 - 1, b"legacy", B)
    ring = KeyRing([old, new])
    opened = ring.open_at_time(T0 + 1, legacy.ticket, B)
    assert opened.state == b"legacy" and opened.renew
    # sealed state of an empty state: 1 + 4 + 4 + 31 (binding) + 2 = 42 -> 48 bytes padded
    assert len(ring.seal_at_time(T0 + 1, b"", B).ticket) == 16 + 16 + 2 + 48 + 32


def test_ring_validation():
    k = new_ticket_key(not_before=0, encrypt_until=1, decrypt_until=2)
    with pytest.raises(TicketKeyError):
        KeyRing([k, k])
    with pytest.raises(TicketKeyError):
        KeyRing([k], ticket_lifetime=MAX_LIFETIME + 1)
    with pytest.raises(TicketKeyError):
        TicketKey(b"short", "rfc5077", bytes(32), bytes(32))
    with pytest.raises(TicketKeyError):
        TicketKey(bytes(16), "rfc5077", bytes(16), bytes(32))
    with pytest.raises(TicketKeyError):
        TicketKey(bytes(16), "nope", bytes(32), bytes(32))
    with pytest.raises(TicketKeyError):
        TicketKey(bytes(16), "rfc5077", bytes(32), bytes(32), 10, 5, 20)


def test_keys_are_random_and_names_independent():
    keys = [new_ticket_key(not_before=0, encrypt_until=1, decrypt_until=2) for _ in range(50)]
    assert len({k.key_name for k in keys}) == 50
    assert len({k.aes_key for k in keys}) == 50
    assert all(k.key_name not in (k.aes_key[:16], k.hmac_key[:16]) for k in keys)
    assert "aes_key=" not in repr(keys[0]) and "hmac_key=" not in repr(keys[0])


def test_ivs_are_fresh():
    ring = KeyRing([new_ticket_key(not_before=0, encrypt_until=T0 * 2, decrypt_until=T0 * 2)])
    ivs = {ring.seal_at_time(T0, b"same", B).ticket[16:32] for _ in range(100)}
    assert len(ivs) == 100


def test_injected_randomness_makes_rotation_deterministic():
    a = new_key_file_at_time(T0, period=P, lifetime=L, randbytes=_counter_randbytes())
    b = new_key_file_at_time(T0, period=P, lifetime=L, randbytes=_counter_randbytes())
    assert a == b
    ra = rotate_key_file_at_time(a, T0 + P, randbytes=_counter_randbytes(100))
    assert ra == rotate_key_file_at_time(b, T0 + P, randbytes=_counter_randbytes(100))
    assert ra.keys[0].key_name == b"\x00\x65" * 8  # 101st draw is the new next's key_name
    # a colliding key_name (a broken RNG) is refused, not silently merged
    with pytest.raises(TicketKeyError):
        rotate_key_file_at_time(a, T0 + P, randbytes=_counter_randbytes())


def test_wall_clock_wrappers():
    ring = KeyRing([new_ticket_key(not_before=0, encrypt_until=2**40, decrypt_until=2**40)])
    assert ring.open(ring.seal(b"now", B).ticket, B).state == b"now"
    assert ring.lookup(ring.seal(b"", B).ticket) is ring.keys[0]
    assert ring.lookup(b"\x00" * 100) is None
