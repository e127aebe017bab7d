"""T1/T2/T3/T4: the §4 ticket layout, the profiles, opening order, and tamper rejection.

The pinned vectors were computed with the openssl(1) command-line tool, independently of the
engine (inner.bin = the SealedState hex below):

    openssl enc -aes-128-cbc -K 1011..1f -iv a0a1..af -in inner.bin          # draft-07
    openssl enc -aes-256-cbc -K 3031..4f -iv a0a1..af -in inner.bin          # rfc5077
    printf name|iv|0030|ct | openssl dgst -sha1 -mac HMAC -macopt hexkey:2021..2f
    printf name|iv|0030|ct | openssl dgst -sha256 -mac HMAC -macopt hexkey:5051..6f

and each MAC is recomputed again here with the standard library's hmac/hashlib.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from gssmech.errors import GSS_S_CONTEXT_EXPIRED, GSS_S_DEFECTIVE_TOKEN, GSS_S_NO_CONTEXT, Minor
from gssmech.tlsticket import (
    DRAFT_07,
    NGINX_48,
    RFC_5077,
    KeyRing,
    TicketBinding,
    TicketExpired,
    TicketInvalid,
    TicketKey,
    TicketUnknownKey,
)
from gssmech.tlsticket.ticket import MAX_TICKET_SIZE, MIN_TICKET_SIZE

NAME = bytes(range(16))
IV = bytes(range(0xA0, 0xB0))
NOW = 1700000000  # 0x6553F100
BINDING = TicketBinding("gss-export", "host/a@EXAMPLE.COM")
# SealedState: version 1 | issued_at 0x6553f100 | lifetime 3600 | purpose<1..255> |
# service<0..2^16-1> | state<0..2^16-1>, written out from the layout in ticket.py.
INNER = bytes.fromhex(
    "01" "6553f100" "00000e10"
    "0a" "6773732d6578706f7274"  # "gss-export"
    "0012" "686f73742f61404558414d504c452e434f4d"  # "host/a@EXAMPLE.COM"
    "0005" "7374617465"  # "state"
)
CT_128 = bytes.fromhex(
    "342fa04a3c3390aeefb73a91b42c72a35384a8a5072d4b17ca4b963243d32e9c"
    "4e793f917b0e065ec9e18e68ac019f42"
)
CT_256 = bytes.fromhex(
    "42c8a7faa177f5a679a9ca09160412b744ee4ce4193d44a33331d5711910cb58"
    "0296a31f787e750644beb65fdf8d17d5"
)
MAC_SHA1 = bytes.fromhex("4f5e61c217c3e7ba34f1772388d8ee5ad2f37144")
MAC_SHA256 = bytes.fromhex("70b8df5437ad74b6c67cb68e1cb41139a3bad19b4690b0c02e3bf6252e1cd860")

KEY_07 = TicketKey(NAME, DRAFT_07, bytes(range(0x10, 0x20)), bytes(range(0x20, 0x30)))
KEY_5077 = TicketKey(NAME, RFC_5077, bytes(range(0x30, 0x50)), bytes(range(0x50, 0x70)))


def _seal(key: TicketKey, state: bytes = b"state", binding: TicketBinding = BINDING) -> bytes:
    return KeyRing([key]).seal_at_time(NOW, state, binding, lifetime=3600, iv=IV).ticket


@pytest.mark.parametrize(
    ("key", "ct", "mac", "digest"),
    [(KEY_07, CT_128, MAC_SHA1, hashlib.sha1), (KEY_5077, CT_256, MAC_SHA256, hashlib.sha256)],
    ids=["draft-07", "rfc5077"],
)
def test_pinned_vector_layout_and_mac(key, ct, mac, digest):
    ticket = _seal(key)
    head = NAME + IV + len(ct).to_bytes(2, "big")
    # §4: key_name(16) | iv(16) | encrypted_state<0..2^16-1> | mac
    assert ticket == head + ct + mac
    # §4: "HMAC ... over key_name (16 octets) and IV (16 octets), followed by the length of the
    # encrypted_state field (2 octets) and its contents", recomputed with the stdlib.
    assert hmac.new(key.hmac_key, head + ct, digest).digest() == mac
    assert len(mac) == key.profile.mac_size
    assert KeyRing([key]).open_at_time(NOW + 1, ticket, BINDING).state == b"state"


def test_inner_plaintext_is_the_documented_sealed_state():
    # Decrypt the engine's ticket with an independent AES-CBC and compare to INNER + PKCS#7.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    ticket = _seal(KEY_5077)
    dec = Cipher(algorithms.AES(KEY_5077.aes_key), modes.CBC(IV)).decryptor()
    assert dec.update(ticket[34:-32]) + dec.finalize() == INNER + b"\x01"


def test_mac_omitting_length_is_not_accepted():
    # NB(openssl): OpenSSL/nginx MAC name|iv|ct without the length; such a ticket must fail here.
    ct = CT_256
    openssl_style = NAME + IV + len(ct).to_bytes(2, "big") + ct
    openssl_style += hmac.new(KEY_5077.hmac_key, NAME + IV + ct, hashlib.sha256).digest()
    with pytest.raises(TicketInvalid):
        KeyRing([KEY_5077]).open_at_time(NOW, openssl_style, BINDING)


def test_nginx48_profile_is_aes128_with_sha256():
    key = TicketKey(NAME, NGINX_48, bytes(range(0x10, 0x20)), bytes(range(0x20, 0x30)))
    ticket = _seal(key)
    assert ticket[34:-32] == CT_128  # same AES-128 key and IV as the draft-07 vector
    assert ticket[-32:] == hmac.new(key.hmac_key, ticket[:-32], hashlib.sha256).digest()


@pytest.mark.parametrize("key", [KEY_07, KEY_5077], ids=["draft-07", "rfc5077"])
def test_every_single_bit_flip_is_rejected(key):
    ring = KeyRing([key])
    ticket = _seal(key, state=bytes(range(60)))
    assert ring.open_at_time(NOW, ticket, BINDING).state == bytes(range(60))
    for bit in range(len(ticket) * 8):
        flipped = bytearray(ticket)
        flipped[bit // 8] ^= 1 << (bit % 8)
        expected = TicketUnknownKey if bit < 128 else TicketInvalid
        with pytest.raises(expected):
            ring.open_at_time(NOW, bytes(flipped), BINDING)


def test_unknown_key_name_is_rejected_without_crypto(monkeypatch):
    import gssmech.tlsticket.keyring as keyring_mod

    def boom(*args):
        raise AssertionError("crypto ran for an unknown key_name")

    monkeypatch.setattr(keyring_mod, "open_ticket", boom)
    ticket = b"\xff" * 16 + _seal(KEY_5077)[16:]
    with pytest.raises(TicketUnknownKey) as info:
        KeyRing([KEY_5077]).open_at_time(NOW, ticket, BINDING)
    assert (info.value.major, info.value.minor) == (GSS_S_NO_CONTEXT, Minor.TICKET_UNKNOWN_KEY)
    assert "unknown key" in str(info.value)


def test_size_bounds_checked_first():
    ring = KeyRing([KEY_5077], max_ticket_size=200)
    for size in (0, 16, MIN_TICKET_SIZE - 1, 201, MAX_TICKET_SIZE + 1):
        with pytest.raises(TicketInvalid):
            ring.open_at_time(NOW, NAME + bytes(max(0, size - 16)), BINDING)


def test_mac_checked_before_decryption(monkeypatch):
    import gssmech.tlsticket.ticket as ticket_mod

    calls = []
    real = ticket_mod.Cipher

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    ticket = bytearray(_seal(KEY_5077))
    ticket[40] ^= 1
    monkeypatch.setattr(ticket_mod, "Cipher", spy)
    with pytest.raises(TicketInvalid) as info:
        KeyRing([KEY_5077]).open_at_time(NOW, bytes(ticket), BINDING)
    assert calls == []
    assert (info.value.major, info.value.minor) == (GSS_S_DEFECTIVE_TOKEN, Minor.TICKET_INVALID)


def test_length_field_must_match():
    ticket = bytearray(_seal(KEY_5077))
    ticket[33] -= 16  # claims one block less; MAC would also fail, but length is caught first
    with pytest.raises(TicketInvalid):
        KeyRing([KEY_5077]).open_at_time(NOW, bytes(ticket), BINDING)


@pytest.mark.parametrize(
    "other",
    [TicketBinding("gss-export", "host/b@EXAMPLE.COM"), TicketBinding("other", BINDING.service),
     TicketBinding("gss-export", "")],
)
def test_binding_mismatch_is_the_same_opaque_error(other):
    ticket = _seal(KEY_5077)
    with pytest.raises(TicketInvalid) as info:
        KeyRing([KEY_5077]).open_at_time(NOW, ticket, other)
    assert str(info.value) == str(TicketInvalid())


def test_bad_padding_and_bad_inner_under_a_valid_mac_are_invalid():
    # Forge tickets with the real keys (as only the server could) whose plaintext is wrong.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    def forge(plaintext: bytes) -> bytes:
        enc = Cipher(algorithms.AES(KEY_5077.aes_key), modes.CBC(IV)).encryptor()
        ct = enc.update(plaintext) + enc.finalize()
        head = NAME + IV + len(ct).to_bytes(2, "big")
        return head + ct + hmac.new(KEY_5077.hmac_key, head + ct, hashlib.sha256).digest()

    ring = KeyRing([KEY_5077])
    assert ring.open_at_time(NOW, forge(INNER + b"\x01"), BINDING).state == b"state"
    for bad in (INNER + b"\x02", INNER[:-1] + b"\x00\x00", b"\x10" * 48,
                b"\x02" + INNER[1:] + b"\x01", INNER[:-2] + b"\x02\x02\x02",
                INNER + b"x" + b"\x10" * 16):
        with pytest.raises(TicketInvalid):
            ring.open_at_time(NOW, forge(bad), BINDING)


def test_expired_error_codes():
    ticket = _seal(KEY_5077)
    with pytest.raises(TicketExpired) as info:
        KeyRing([KEY_5077]).open_at_time(NOW + 3600, ticket, BINDING)
    assert info.value.major == GSS_S_CONTEXT_EXPIRED
    assert info.value.minor == Minor.TICKET_EXPIRED


def test_non_bytes_ticket_is_invalid():
    ring = KeyRing([KEY_5077])
    assert ring.open_at_time(NOW, bytearray(_seal(KEY_5077)), BINDING).state == b"state"
    for junk in ("x" * 100, None, 12345):
        with pytest.raises(TicketInvalid):
            ring.open_at_time(NOW, junk, BINDING)  # type: ignore[arg-type]
