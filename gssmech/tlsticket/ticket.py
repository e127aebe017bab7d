"""The ticket itself: draft-salowey-tls-ticket-07 §4 "Recommended Ticket Construction".

Wire layout (DESIGN.md T1), identical in every profile (profiles.py, T2)::

    struct {
        opaque key_name[16];
        opaque iv[16];
        opaque encrypted_state<0..2^16-1>;
        opaque mac[20 or 32];
    } ticket;

"The MAC is calculated using HMAC-SHA1 over key_name (16 octets) and IV (16 octets), followed by
the length of the encrypted_state field (2 octets) and its contents" (§4; SHA-256 in the other
profiles).  encrypted_state is AES-CBC under ``iv`` with PKCS#7 padding.

NB(openssl): OpenSSL and nginx leave the 2-byte length out of the MAC input; we follow the seed.
Keys can be shared with nginx (keydir.py), tickets cannot, and the differing MAC input keeps the
two ticket formats apart when they do share a key.

The plaintext inside encrypted_state is our *sealed state* (T5 + the context binding)::

    struct {
        uint8  version;                  /* 1 */
        uint32 issued_at;                /* seconds since 1970 (the seed's uint32 timestamp) */
        uint32 lifetime;                 /* seconds; 0 = unspecified (§3.3) */
        opaque purpose<1..2^8-1>;        /* } context binding, UTF-8   */
        opaque service<0..2^16-1>;       /* }                          */
        opaque state<0..2^16-1>;         /* the caller's bytes, e.g. a StatePlaintext (tls.py) */
    } SealedState;

Binding design: the purpose and service are *inside the MAC'd plaintext*, so they are as
authenticated as the state itself; after the MAC check and decryption the opener compares the
binding bytes with the ones it expects (hmac.compare_digest) and a mismatch is the same opaque
TicketInvalid as a bad MAC.  A ticket minted for ``("gss-export", "host/a")`` therefore cannot be
replayed into ``("gss-export", "host/b")`` or another purpose, even when a fleet shares one key
(picotls GHSA-5v5r-rghf-rm6q is this bug).  Keeping the binding out of the MAC input keeps the
§4 MAC definition exact (T1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hmac import HMAC

from gssmech.tlsticket._codec import vector
from gssmech.tlsticket.errors import (
    TicketEncodeError,
    TicketInvalid,
    TicketKeyError,
    TicketSealError,
)
from gssmech.tlsticket.profiles import TicketProfile, get_profile

__all__ = [
    "IV_SIZE",
    "KEY_NAME_SIZE",
    "MAX_ENCRYPTED_STATE",
    "MAX_TICKET_SIZE",
    "MIN_TICKET_SIZE",
    "SEALED_STATE_VERSION",
    "TicketBinding",
    "TicketKey",
    "decode_sealed_state",
    "encode_sealed_state",
    "open_ticket",
    "seal_ticket",
]

KEY_NAME_SIZE = 16
IV_SIZE = 16
_BLOCK = 16
_HEADER = KEY_NAME_SIZE + IV_SIZE + 2
#: encrypted_state<0..2^16-1> holds whole AES blocks: at most 65520 bytes.
MAX_ENCRYPTED_STATE = 0xFFFF - 0xFFFF % _BLOCK
#: PKCS#7 always adds a block or part of one, so encrypted_state is at least 16 bytes; the
#: smallest MAC is draft-07's 20 bytes.
MIN_TICKET_SIZE = _HEADER + _BLOCK + 20
MAX_TICKET_SIZE = _HEADER + MAX_ENCRYPTED_STATE + 32
SEALED_STATE_VERSION = 1
_U32 = 0xFFFFFFFF
_SEALED_HEAD = struct.Struct(">BII")


@dataclass(frozen=True, slots=True)
class TicketKey:
    """One ticket protection key: a random key_name, AES and HMAC keys, and its windows.

    Windows (integer seconds since 1970): the key may seal while
    ``not_before <= now < encrypt_until`` and may open while ``now < decrypt_until`` (keys are
    distributed before they seal, so a node that has not yet switched can open tickets from one
    that has: notes/tickets-and-ccache.md §1.7 item 3).  Key material is kept out of repr.
    """

    key_name: bytes
    profile: TicketProfile
    aes_key: bytes = field(repr=False)
    hmac_key: bytes = field(repr=False)
    not_before: int = 0
    encrypt_until: int = _U32
    decrypt_until: int = _U32
    _aes: algorithms.AES = field(init=False, repr=False, compare=False)
    _hmac: HMAC = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        profile = get_profile(self.profile)
        object.__setattr__(self, "profile", profile)
        for name, value, size in (
            ("key_name", self.key_name, KEY_NAME_SIZE),
            ("aes_key", self.aes_key, profile.aes_key_size),
            ("hmac_key", self.hmac_key, profile.hmac_key_size),
        ):
            if not isinstance(value, bytes) or len(value) != size:
                raise TicketKeyError(f"{name} must be {size} bytes for profile {profile.name}")
        windows = (self.not_before, self.encrypt_until, self.decrypt_until)
        if not all(isinstance(t, int) and 0 <= t < 1 << 64 for t in windows):
            raise TicketKeyError("key windows must be non-negative integer seconds")
        if not self.not_before <= self.encrypt_until <= self.decrypt_until:
            raise TicketKeyError(
                "key windows must satisfy not_before <= encrypt_until <= decrypt_until"
            )
        object.__setattr__(self, "_aes", algorithms.AES(self.aes_key))
        # One HMAC keyed once; each ticket uses a copy (cheaper than re-keying per ticket).
        object.__setattr__(self, "_hmac", HMAC(self.hmac_key, profile.hash_algorithm()))

    def can_seal_at(self, now: int) -> bool:
        return self.not_before <= now < self.encrypt_until

    def can_open_at(self, now: int) -> bool:
        return now < self.decrypt_until


@dataclass(frozen=True, slots=True)
class TicketBinding:
    """The context a ticket is minted for: ``purpose`` (e.g. ``"gss-export-context"``) and
    ``service`` (e.g. ``"host/db.example.com@EXAMPLE.COM"``).  See the module docstring."""

    purpose: str
    service: str = ""
    #: ``opaque purpose<1..2^8-1>`` ‖ ``opaque service<0..2^16-1>`` (UTF-8).
    encoded: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.purpose, str) or not isinstance(self.service, str):
            raise TicketEncodeError("binding purpose and service must be str")
        try:
            encoded = vector(self.purpose.encode(), 1, floor=1) + vector(self.service.encode(), 2)
        except UnicodeEncodeError:
            raise TicketEncodeError("binding purpose and service must be valid UTF-8") from None
        object.__setattr__(self, "encoded", encoded)


def encode_sealed_state(
    issued_at: int, lifetime: int, binding: TicketBinding, state: bytes
) -> bytes:
    """The SealedState plaintext (module docstring)."""
    if not 0 <= issued_at <= _U32 or not 0 <= lifetime <= _U32:
        raise TicketSealError("issued_at and lifetime must fit in uint32")
    if len(state) > 0xFFFF:
        raise TicketSealError(f"state of {len(state)} bytes exceeds state<0..2^16-1>")
    return (
        _SEALED_HEAD.pack(SEALED_STATE_VERSION, issued_at, lifetime)
        + binding.encoded
        + len(state).to_bytes(2, "big")
        + state
    )


def decode_sealed_state(data: bytes) -> tuple[int, int, bytes, bytes]:
    """``(issued_at, lifetime, binding_bytes, state)``; any malformation is TicketInvalid.

    Hand-parsed rather than through _codec.Reader: this runs on every resumption.
    """
    n = len(data)
    if n < 9 + 1 + 1 + 2 + 2:
        raise TicketInvalid
    version, issued_at, lifetime = _SEALED_HEAD.unpack_from(data)
    purpose_len = data[9]
    if version != SEALED_STATE_VERSION or purpose_len == 0:
        raise TicketInvalid
    p = 10 + purpose_len
    if p + 2 > n:
        raise TicketInvalid
    p += 2 + int.from_bytes(data[p : p + 2], "big")
    if p + 2 > n:
        raise TicketInvalid
    if p + 2 + int.from_bytes(data[p : p + 2], "big") != n:
        raise TicketInvalid
    return issued_at, lifetime, data[9:p], data[p + 2 :]


def seal_ticket(key: TicketKey, plaintext: bytes, iv: bytes) -> bytes:
    """key_name ‖ iv ‖ encrypted_state<0..2^16-1> ‖ mac (§4); PKCS#7 inside AES-CBC."""
    if not isinstance(iv, bytes) or len(iv) != IV_SIZE:
        raise TicketSealError("iv must be 16 bytes")
    pad = _BLOCK - len(plaintext) % _BLOCK
    if len(plaintext) + pad > MAX_ENCRYPTED_STATE:
        raise TicketSealError(f"sealed state of {len(plaintext)} bytes does not fit a ticket")
    encryptor = Cipher(key._aes, modes.CBC(iv)).encryptor()
    encrypted_state = encryptor.update(plaintext + bytes((pad,)) * pad) + encryptor.finalize()
    body = key.key_name + iv + len(encrypted_state).to_bytes(2, "big") + encrypted_state
    mac = key._hmac.copy()
    mac.update(body)
    return body + mac.finalize()


def open_ticket(key: TicketKey, ticket: bytes) -> bytes:
    """The plaintext of ``ticket``, whose key_name the caller already matched to ``key``.

    Order (T4, §5.1, §5.3): structural length checks, then the MAC in constant time
    (cryptography's ``HMAC.verify``), and only then decryption and unpadding.  Every failure is
    the same TicketInvalid.
    """
    mac_size = key.profile.mac_size
    size = len(ticket) - _HEADER - mac_size
    if (
        size < _BLOCK
        or size % _BLOCK
        or int.from_bytes(ticket[KEY_NAME_SIZE + IV_SIZE : _HEADER], "big") != size
    ):
        raise TicketInvalid
    mac = key._hmac.copy()
    mac.update(ticket[:-mac_size])
    try:
        mac.verify(ticket[-mac_size:])
    except InvalidSignature:
        raise TicketInvalid from None
    decryptor = Cipher(key._aes, modes.CBC(ticket[KEY_NAME_SIZE:_HEADER - 2])).decryptor()
    padded = decryptor.update(ticket[_HEADER:-mac_size]) + decryptor.finalize()
    pad = padded[-1]
    # Reached only for MAC-valid tickets, i.e. ones we sealed: no padding oracle to protect.
    if not 1 <= pad <= _BLOCK or padded[-pad:] != bytes((pad,)) * pad:
        raise TicketInvalid
    return padded[:-pad]
