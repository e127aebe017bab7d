"""Kerberos V5 encryption and checksums: RFC 3961 framework, RFC 3962 and RFC 8009 enctypes.

Supported: aes128-cts-hmac-sha1-96 (17), aes256-cts-hmac-sha1-96 (18),
aes128-cts-hmac-sha256-128 (19), aes256-cts-hmac-sha384-192 (20) and their mandatory keyed
checksums (15, 16, 19, 20).  All primitives come from ``cryptography`` / OpenSSL.

Errors: misuse (unknown enctype, wrong key length, bad parameters) raises
:class:`~gssmech.errors.CryptoError` (or its subclass ``UnsupportedEnctype``); every failure to
decrypt or verify raises one opaque :class:`~gssmech.errors.IntegrityError`.

Randomness is injectable: ``encrypt(..., confounder=...)``; ``os.urandom`` otherwise.
"""

from __future__ import annotations

import hmac
import os

from gssmech.errors import CryptoError, IntegrityError
from gssmech.krb5.crypto._cts import aes_cts_decrypt, aes_cts_encrypt, next_iv
from gssmech.krb5.crypto._key import (
    CKSUM_PROFILES,
    PROFILES,
    Key,
    checksum_size,
    cksum_profile,
    get_profile,
)
from gssmech.krb5.crypto._nfold import n_fold
from gssmech.krb5.crypto._profile import Profile, clear_derived_cache
from gssmech.krb5.crypto._rfc3962 import dk, dr
from gssmech.krb5.crypto._rfc8009 import kdf_hmac_sha2

__all__ = [
    "CKSUM_PROFILES",
    "MAX_ITERATIONS",
    "PROFILES",
    "Key",
    "Profile",
    "aes_cts_decrypt",
    "aes_cts_encrypt",
    "cf2",
    "checksum_size",
    "clear_derived_cache",
    "decrypt",
    "dk",
    "dr",
    "encrypt",
    "get_profile",
    "kdf_hmac_sha2",
    "make_checksum",
    "n_fold",
    "next_iv",
    "prf",
    "prf_plus",
    "random_key",
    "random_to_key",
    "string_to_key",
    "verify_checksum",
]

#: Highest PBKDF2 iteration count accepted from s2kparams.  RFC 3962 §4 lets a KDC-supplied
#: count cost a client 2**32 iterations; an implementation limit "SHOULD be no less than
#: 50,000".  16M keeps a spoofed reply from pinning a CPU for hours.
MAX_ITERATIONS = 1 << 24

Buffer = bytes | bytearray | memoryview


def _check_key(key: Key) -> Profile:
    if not isinstance(key, Key):
        raise CryptoError("expected a gssmech.krb5.crypto.Key")
    return PROFILES[key.enctype]


def _octets(value: Buffer, what: str) -> memoryview:
    """A flat octet view of a bytes-like argument (never ``bytes(int)``'s zero-fill)."""
    try:
        return memoryview(value).cast("B")
    except TypeError:
        raise CryptoError(f"{what} must be a contiguous bytes-like object") from None


def _check_usage(usage: int) -> None:
    if not isinstance(usage, int) or not 0 <= usage <= 0xFFFFFFFF:
        raise CryptoError(f"key usage {usage!r} is not a 32-bit unsigned number")


def encrypt(key: Key, usage: int, plaintext: Buffer, *, confounder: bytes | None = None) -> bytes:
    """encrypt(specific-key, state, octet-string), RFC 3961 §3 (initial cipher state).

    ``confounder`` (16 octets) is drawn from ``os.urandom`` when not given.
    """
    profile = _check_key(key)
    _check_usage(usage)
    if confounder is None:
        b_conf = os.urandom(profile.confounder_size)
    else:
        b_conf = bytes(_octets(confounder, "confounder"))
        if len(b_conf) != profile.confounder_size:
            raise CryptoError(f"the confounder must be {profile.confounder_size} octets")
    return profile.encrypt(key.contents, usage, _octets(plaintext, "plaintext"), b_conf)


def decrypt(key: Key, usage: int, ciphertext: Buffer) -> bytes:
    """decrypt(specific-key, state, octet-string), RFC 3961 §3.

    Wrong key, wrong usage, truncation or tampering all raise the same IntegrityError.
    """
    profile = _check_key(key)
    _check_usage(usage)
    try:
        return profile.decrypt(key.contents, usage, memoryview(ciphertext).cast("B"))
    except IntegrityError:
        raise
    except (TypeError, ValueError, CryptoError):
        # Not bytes-like, or a length OpenSSL refused: still just "does not decrypt".
        raise IntegrityError() from None


def _cksum_profile_for(key: Key, cksumtype: int | None) -> Profile:
    profile = _check_key(key)
    if cksumtype is None or cksumtype == profile.cksumtype:
        return profile
    other = cksum_profile(cksumtype)
    raise CryptoError(f"checksum type {other.cksum_name} needs a {other.name} key")


def make_checksum(key: Key, usage: int, data: Buffer, cksumtype: int | None = None) -> bytes:
    """get_mic(specific-key, message), RFC 3961 §4; default: the enctype's mandatory type."""
    profile = _cksum_profile_for(key, cksumtype)
    _check_usage(usage)
    return profile.checksum(key.contents, usage, _octets(data, "data"))


def verify_checksum(
    key: Key, usage: int, data: Buffer, checksum: Buffer, cksumtype: int | None = None
) -> None:
    """verify_mic, RFC 3961 §4, compared in constant time.

    A wrong or truncated checksum, and a checksum type this key cannot compute (the type
    usually comes from the peer's message), raise IntegrityError.
    """
    try:
        profile = _cksum_profile_for(key, cksumtype)
    except CryptoError:
        if not isinstance(key, Key):
            raise
        raise IntegrityError() from None
    _check_usage(usage)
    try:
        expected = profile.checksum(key.contents, usage, data)
        ok = hmac.compare_digest(expected, checksum)
    except TypeError:
        raise IntegrityError() from None
    if not ok:
        raise IntegrityError()


def _to_bytes(value: Buffer | str, what: str) -> bytes:
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise CryptoError(f"{what} is not valid Unicode text") from None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise CryptoError(f"{what} must be bytes or str")


def string_to_key(
    enctype: int,
    password: bytes | str,
    salt: bytes | str,
    s2kparams: bytes | None = None,
) -> Key:
    """string-to-key(UTF-8 string, UTF-8 string, opaque), RFC 3961 §3.

    ``s2kparams`` is the 4-octet big-endian PBKDF2 iteration count (RFC 3962 §4, RFC 8009 §4);
    absent means 4096 (RFC 3962) or 32768 (RFC 8009).  00 00 00 00 means 2**32, which like
    anything above :data:`MAX_ITERATIONS` is refused.
    """
    profile = get_profile(enctype)
    b_password = _to_bytes(password, "password")
    b_salt = _to_bytes(salt, "salt")
    if s2kparams is None:
        iterations = profile.default_iterations
    else:
        params = _octets(s2kparams, "string-to-key parameters")
        if len(params) != 4:
            raise CryptoError("string-to-key parameters must be 4 octets")
        iterations = int.from_bytes(params, "big") or 1 << 32
        if iterations > MAX_ITERATIONS:
            raise CryptoError(f"refusing {iterations} PBKDF2 iterations (limit {MAX_ITERATIONS})")
    return Key(enctype, profile.string_to_key(b_password, b_salt, iterations))


def random_to_key(enctype: int, data: Buffer) -> Key:
    """random-to-key(bitstring[K]), RFC 3961 §3: identity for AES (RFC 3962 §6, RFC 8009 §4)."""
    profile = get_profile(enctype)
    seed = _octets(data, "random-to-key input")
    if len(seed) != profile.seedsize:
        raise CryptoError(f"{profile.name} random-to-key takes {profile.seedsize} octets")
    return Key(enctype, profile.random_to_key(bytes(seed)))


def random_key(enctype: int) -> Key:
    """A fresh key from the OS CSPRNG."""
    profile = get_profile(enctype)
    return random_to_key(enctype, os.urandom(profile.seedsize))


def prf(key: Key, data: Buffer) -> bytes:
    """pseudo-random(protocol-key, octet-string), RFC 3961 §3 / §5.3, RFC 8009 §5."""
    profile = _check_key(key)
    return profile.prf(key.contents, bytes(_octets(data, "data")))


def prf_plus(key: Key, data: Buffer, length: int) -> bytes:
    """PRF+(protocol key, octet string), RFC 6113 §5.1:

    PRF+ = PRF(key, 1 | shared-info) | PRF(key, 2 | shared-info) | ..., truncated to
    ``length`` octets, the counter being one octet starting at 1.
    """
    profile = _check_key(key)
    if not isinstance(length, int) or not 0 <= length <= 255 * profile.prf_size:
        raise CryptoError(f"PRF+ cannot produce {length} octets with {profile.name}")
    b_data = bytes(_octets(data, "data"))
    blocks = -(-length // profile.prf_size)
    out = b"".join(profile.prf(key.contents, bytes((i,)) + b_data) for i in range(1, blocks + 1))
    return out[:length]


def cf2(k1: Key, k2: Key, pepper1: Buffer, pepper2: Buffer) -> Key:
    """KRB-FX-CF2(protocol key 1, protocol key 2, pepper 1, pepper 2), RFC 6113 §5.1:

    random-to-key(PRF+(key1, pepper1) ^ PRF+(key2, pepper2)), each PRF+ producing the
    key-generation seed length of key 1's enctype; the result has key 1's enctype.
    """
    profile = _check_key(k1)
    _check_key(k2)
    size = profile.seedsize
    a = int.from_bytes(prf_plus(k1, pepper1, size), "big")
    b = int.from_bytes(prf_plus(k2, pepper2, size), "big")
    return random_to_key(k1.enctype, (a ^ b).to_bytes(size, "big"))
