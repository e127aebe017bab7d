"""AES-CTS with HMAC-SHA-256/384, RFC 8009.

aes128-cts-hmac-sha256-128 (19) and aes256-cts-hmac-sha384-192 (20), checksum types
hmac-sha256-128-aes128 (19) and hmac-sha384-192-aes256 (20).  Unlike RFC 3962 this is
encrypt-then-MAC (the HMAC covers IV | ciphertext), so decryption authenticates first.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from gssmech.errors import CryptoError, IntegrityError
from gssmech.krb5.crypto import _cts
from gssmech.krb5.crypto._profile import KC, KE, KI, Buffer, Profile, usage_constant

BLOCK = _cts.BLOCK
_KERBEROS = b"kerberos"
_PRF_LABEL = b"prf"


def kdf_hmac_sha2(
    key: bytes, label: bytes, k_bits: int, context: bytes = b"", hash_name: str = "sha256"
) -> bytes:
    """KDF-HMAC-SHA2(key, label, [context,] k), RFC 8009 §3 (SP 800-108 counter mode):

        k-truncate(K1), K1 = HMAC-SHA-256|384(key, 0x00000001 | label | 0x00 | context | k)

    where k is a 4-octet big-endian bit count; RFC 8009 never needs more than one block.
    """
    message = b"".join((b"\x00\x00\x00\x01", label, b"\x00", context, k_bits.to_bytes(4, "big")))
    out = hmac.digest(key, message, hash_name)
    if k_bits > len(out) * 8 or k_bits % 8:
        raise CryptoError(f"KDF-HMAC-SHA2 cannot produce {k_bits} bits with {hash_name}")
    return out[: k_bits // 8]


class Rfc8009Profile(Profile):
    """RFC 8009 §5 encryption and checksum with the §4 parameters."""

    __slots__ = (
        "_hash",
        "cksum_name",
        "cksumtype",
        "enctype",
        "keysize",
        "macsize",
        "name",
        "prf_size",
        "seedsize",
    )

    default_iterations = 32768  # RFC 8009 §4: default s2kparams 00 00 80 00

    def __init__(
        self, enctype: int, name: str, keysize: int, hash_name: str, mac: int, cksum: str
    ) -> None:
        self.enctype = enctype
        self.name = name
        self.keysize = keysize
        self.seedsize = keysize
        self.cksumtype = enctype  # the checksum types share the enctype numbers
        self.cksum_name = cksum
        self._hash = hash_name
        self.macsize = mac
        self.prf_size = hashlib.new(hash_name).digest_size

    def derive(self, key: bytes, usage: int, kind: int) -> bytes:
        """RFC 8009 §5: Kc = KDF(base, usage|0x99, 128|192), Ke = KDF(base, usage|0xAA,
        128|256), Ki = KDF(base, usage|0x55, 128|192)."""
        bits = self.keysize * 8 if kind == KE else self.macsize * 8
        return kdf_hmac_sha2(key, usage_constant(usage, kind), bits, hash_name=self._hash)

    def string_to_key(self, password: bytes, salt: bytes, iterations: int) -> bytes:
        """RFC 8009 §4: saltp = enctype-name | 0x00 | salt;
        tkey = random-to-key(PBKDF2(passphrase, saltp, iter_count, keylength));
        base-key = random-to-key(KDF-HMAC-SHA2(tkey, "kerberos", keylength))."""
        tkey = self.pbkdf2(password, self.saltp(salt), iterations)
        return kdf_hmac_sha2(tkey, _KERBEROS, self.keysize * 8, hash_name=self._hash)

    def saltp(self, salt: bytes) -> bytes:
        return b"".join((self.name.encode("ascii"), b"\x00", salt))

    def pbkdf2(self, password: bytes, saltp: bytes, iterations: int) -> bytes:
        algorithm = hashes.SHA256() if self._hash == "sha256" else hashes.SHA384()
        return PBKDF2HMAC(algorithm, self.keysize, saltp, iterations).derive(password)

    def encrypt(self, key: bytes, usage: int, plaintext: Buffer, confounder: bytes) -> bytes:
        """RFC 8009 §5: C = E(Ke, N | plaintext, IV); H = HMAC(Ki, IV | C)[:h]; out C | H."""
        ke = self.derived(key, usage, KE)
        ki = self.derived(key, usage, KI)
        n = BLOCK + len(plaintext)
        buf, n = _cts.encrypt_pieces(ke, (confounder, plaintext), n, extra=self.macsize)
        view = memoryview(buf)
        mac = hmac.new(ki, _cts.ZERO_IV, self._hash)
        mac.update(view[:n])
        view[n : n + self.macsize] = mac.digest()[: self.macsize]
        return bytes(view[: n + self.macsize])

    def decrypt(self, key: bytes, usage: int, ciphertext: Buffer) -> bytes:
        view = memoryview(ciphertext)
        n = len(view) - self.macsize
        if n < BLOCK:
            raise IntegrityError()
        ke = self.derived(key, usage, KE)
        ki = self.derived(key, usage, KI)
        mac = hmac.new(ki, _cts.ZERO_IV, self._hash)
        mac.update(view[:n])
        if not hmac.compare_digest(mac.digest()[: self.macsize], view[n:]):
            raise IntegrityError()
        buf = _cts.decrypt_into(ke, view[:n])
        return bytes(memoryview(buf)[BLOCK:n])

    def checksum(self, key: bytes, usage: int, data: Buffer) -> bytes:
        """RFC 8009 §5: HMAC(Kc, msg) truncated to h octets."""
        kc = self.derived(key, usage, KC)
        return hmac.digest(kc, data, self._hash)[: self.macsize]

    def prf(self, key: bytes, data: bytes) -> bytes:
        """RFC 8009 §5: PRF = KDF-HMAC-SHA2(base-key, "prf", octet-string, 256|384)."""
        return kdf_hmac_sha2(key, _PRF_LABEL, self.prf_size * 8, bytes(data), self._hash)


AES128_CTS_HMAC_SHA256_128 = Rfc8009Profile(
    19, "aes128-cts-hmac-sha256-128", 16, "sha256", 16, "hmac-sha256-128-aes128"
)
AES256_CTS_HMAC_SHA384_192 = Rfc8009Profile(
    20, "aes256-cts-hmac-sha384-192", 32, "sha384", 24, "hmac-sha384-192-aes256"
)
