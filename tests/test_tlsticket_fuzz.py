"""Hostile input: random, truncated, bit-flipped and oversized tickets, key files and TLS
messages never raise anything but the engine's typed errors (and never hang)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.errors import DecodeError, GSSMechError
from gssmech.tlsticket import (
    DRAFT_07,
    KeyRing,
    TicketBinding,
    TicketExpired,
    TicketInvalid,
    TicketKeyFileError,
    TicketUnknownKey,
    new_ticket_key,
)
from gssmech.tlsticket.keydir import decode_key_file, encode_key_file, new_key_file_at_time
from gssmech.tlsticket.nginx import decode_nginx_key
from gssmech.tlsticket.ticket import MAX_TICKET_SIZE
from gssmech.tlsticket.tls import (
    AnonymousIdentity,
    KerberosIdentity,
    NewSessionTicket,
    SessionTicketExtension,
    StatePlaintext,
)

T0 = 1_700_000_000
B = TicketBinding("gss-export", "host/a@EXAMPLE.COM")
KEYS = [
    new_ticket_key(not_before=0, encrypt_until=T0 * 2, decrypt_until=T0 * 2),
    new_ticket_key(DRAFT_07, not_before=0, encrypt_until=T0 * 2, decrypt_until=T0 * 2),
]
RINGS = [KeyRing([k]) for k in KEYS]
TICKETS = [r.seal_at_time(T0, b"state" * 20, B).ticket for r in RINGS]
KEY_FILE = encode_key_file(new_key_file_at_time(T0))
STATE = StatePlaintext(0x0303, 0xC02F, 0, b"\x22" * 48, KerberosIdentity("u@R", True), T0)
TLS_SAMPLES = [
    (StatePlaintext.decode, STATE.encode()),
    (StatePlaintext.decode,
     StatePlaintext(0x0301, 0x2F, 0, b"\x00" * 48, AnonymousIdentity(), 0).encode()),
    (NewSessionTicket.decode, NewSessionTicket(3600, TICKETS[0]).encode()),
    (SessionTicketExtension.decode, SessionTicketExtension(TICKETS[0]).encode()),
    (lambda d: SessionTicketExtension.decode(d, "rfc4507"),
     SessionTicketExtension(TICKETS[0]).encode("rfc4507")),
]
ENGINE_ERRORS = (TicketInvalid, TicketUnknownKey, TicketExpired)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _open_all(data: bytes) -> None:
    for ring in RINGS:
        try:
            ring.open_at_time(T0, data, B)
        except ENGINE_ERRORS:
            pass


@FAST
@given(st.binary(max_size=400))
def test_random_tickets(data):
    _open_all(data)
    _open_all(KEYS[0].key_name + data)  # known key_name: reaches the MAC check
    _open_all(KEYS[1].key_name + data)


@FAST
@given(st.sampled_from([0, 1]), st.data())
def test_truncated_extended_and_flipped_tickets(which, data):
    ticket = TICKETS[which]
    ring = RINGS[which]
    cut = data.draw(st.integers(0, len(ticket) - 1))
    with pytest.raises(ENGINE_ERRORS):
        ring.open_at_time(T0, ticket[:cut], B)
    extra = data.draw(st.binary(min_size=1, max_size=64))
    with pytest.raises(TicketInvalid):
        ring.open_at_time(T0, ticket + extra, B)
    flips = data.draw(st.lists(st.integers(0, len(ticket) * 8 - 1), min_size=1, max_size=8,
                               unique=True))
    tampered = bytearray(ticket)
    for bit in flips:
        tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(ENGINE_ERRORS):
        ring.open_at_time(T0, bytes(tampered), B)


def test_oversized_tickets_are_cheap_rejections():
    for size in (MAX_TICKET_SIZE + 1, 1 << 20):
        with pytest.raises(TicketInvalid):
            RINGS[0].open_at_time(T0, KEYS[0].key_name + bytes(size), B)


@FAST
@given(st.binary(max_size=300))
def test_random_key_files(data):
    for blob in (data, KEY_FILE[:8] + data, KEY_FILE[: len(data)] + data[len(KEY_FILE):]):
        try:
            decode_key_file(blob)
        except TicketKeyFileError:
            pass


@FAST
@given(st.data())
def test_mutated_key_files(data):
    blob = bytearray(KEY_FILE)
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    blob = blob[: data.draw(st.integers(0, len(blob)))]
    try:
        decode_key_file(bytes(blob))
    except TicketKeyFileError:
        pass


@FAST
@given(st.binary(max_size=100))
def test_random_nginx_key_files(data):
    try:
        decode_nginx_key(data)
    except TicketKeyFileError:
        pass


@FAST
@given(st.sampled_from(range(len(TLS_SAMPLES))), st.data())
def test_mutated_tls_messages(index, data):
    decode, sample = TLS_SAMPLES[index]
    blob = bytearray(sample)
    for _ in range(data.draw(st.integers(0, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    blob = blob[: data.draw(st.integers(0, len(blob)))] + data.draw(st.binary(max_size=8))
    try:
        decode(bytes(blob))
    except DecodeError:
        pass


@FAST
@given(st.binary(max_size=200))
def test_random_tls_messages(data):
    for decode, _ in TLS_SAMPLES:
        try:
            decode(data)
        except DecodeError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.text(min_size=1, max_size=40), st.text(max_size=40),
       st.one_of(st.none(), st.integers(0, 2**32 - 1)))
def test_any_state_round_trips(state, purpose, service, lifetime):
    try:
        binding = TicketBinding(purpose, service)
    except GSSMechError:
        return  # purpose over 255 UTF-8 bytes or a lone surrogate: refused with our error
    sealed = RINGS[0].seal_at_time(T0, state, binding, lifetime=lifetime)
    assert sealed.lifetime_hint <= 604800
    assert RINGS[0].open_at_time(T0, sealed.ticket, binding).state == state
