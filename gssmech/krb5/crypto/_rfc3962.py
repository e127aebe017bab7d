"""The RFC 3961 simplified profile instantiated with AES-CTS and HMAC-SHA1 (RFC 3962).

aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18), checksum types
hmac-sha1-96-aes128 (15) and hmac-sha1-96-aes256 (16).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from gssmech.errors import IntegrityError
from gssmech.krb5.crypto import _cts
from gssmech.krb5.crypto._nfold import n_fold
from gssmech.krb5.crypto._profile import KC, KE, KI, Buffer, Profile, usage_constant

BLOCK = _cts.BLOCK
_KERBEROS = b"kerberos"
_PRF_CONSTANT = b"prf"


def dr(key: bytes, constant: bytes, seedsize: int) -> bytes:
    """DR(Key, Constant), RFC 3961 §5.1, with E = AES-CTS (one block = plain AES).

    DR(Key, Constant) = k-truncate(E(Key, Constant, initial-cipher-state))
    K1 = E(Key, n-fold(Constant), initial-cipher-state)
    K2 = E(Key, K1, initial-cipher-state)
    ...
    DR(Key, Constant) = k-truncate(K1 | K2 | K3 | K4 ...)
    """
    block = n_fold(constant, BLOCK)
    out: list[bytes] = []
    have = 0
    while have < seedsize:
        block = _cts.ecb_encrypt_block(key, block)
        out.append(block)
        have += BLOCK
    return b"".join(out)[:seedsize]


def dk(key: bytes, constant: bytes, seedsize: int) -> bytes:
    """DK(Key, Constant) = random-to-key(DR(Key, Constant)), RFC 3961 §5.1 (identity for AES)."""
    return dr(key, constant, seedsize)


class Rfc3962Profile(Profile):
    """Simplified profile (RFC 3961 §5.3) with the RFC 3962 §6 parameters."""

    __slots__ = ("cksum_name", "cksumtype", "enctype", "keysize", "name", "seedsize")

    macsize = 12  # HMAC output size h: 96 bits
    prf_size = 16
    default_iterations = 4096  # s2kparams 00 00 10 00 (RFC 3962 §4)

    def __init__(self, enctype: int, name: str, keysize: int, cksumtype: int, cksum: str) -> None:
        self.enctype = enctype
        self.name = name
        self.keysize = keysize
        self.seedsize = keysize
        self.cksumtype = cksumtype
        self.cksum_name = cksum

    def derive(self, key: bytes, usage: int, kind: int) -> bytes:
        return dk(key, usage_constant(usage, kind), self.seedsize)

    def string_to_key(self, password: bytes, salt: bytes, iterations: int) -> bytes:
        """RFC 3962 §4: tkey = random2key(PBKDF2(passphrase, salt, iter_count, keylength));
        key = DK(tkey, "kerberos")."""
        return dk(self.pbkdf2(password, salt, iterations), _KERBEROS, self.seedsize)

    def pbkdf2(self, password: bytes, salt: bytes, iterations: int) -> bytes:
        """The intermediate PBKDF2-HMAC-SHA1 output (shown in RFC 3962 Appendix B)."""
        kdf = PBKDF2HMAC(hashes.SHA1(), self.keysize, salt, iterations)
        return kdf.derive(password)

    def encrypt(self, key: bytes, usage: int, plaintext: Buffer, confounder: bytes) -> bytes:
        """RFC 3961 §5.3: C = E(Ke, conf | plaintext); H = HMAC(Ki, conf | plaintext)[:h]."""
        ke = self.derived(key, usage, KE)
        ki = self.derived(key, usage, KI)
        mac = hmac.new(ki, confounder, hashlib.sha1)
        mac.update(plaintext)
        n = BLOCK + len(plaintext)
        buf, n = _cts.encrypt_pieces(ke, (confounder, plaintext), n, extra=self.macsize)
        buf[n : n + self.macsize] = mac.digest()[: self.macsize]
        return bytes(memoryview(buf)[: n + self.macsize])

    def decrypt(self, key: bytes, usage: int, ciphertext: Buffer) -> bytes:
        view = memoryview(ciphertext)
        n = len(view) - self.macsize
        if n < BLOCK:
            raise IntegrityError()
        ke = self.derived(key, usage, KE)
        ki = self.derived(key, usage, KI)
        buf = _cts.decrypt_into(ke, view[:n])
        out = memoryview(buf)
        expected = hmac.digest(ki, out[:n], "sha1")[: self.macsize]
        if not hmac.compare_digest(expected, view[n:]):
            raise IntegrityError()
        return bytes(out[BLOCK:n])

    def checksum(self, key: bytes, usage: int, data: Buffer) -> bytes:
        """RFC 3961 §5.4: HMAC(Kc, data) truncated to h octets."""
        return hmac.digest(self.derived(key, usage, KC), data, "sha1")[: self.macsize]

    def prf(self, key: bytes, data: bytes) -> bytes:
        """RFC 3961 §5.3 simplified-profile PRF (RFC 3962 keeps it):

        tmp1 = H(octet-string); tmp2 = truncate tmp1 to a multiple of m (16 octets);
        PRF = E(DK(protocol-key, prfconstant), tmp2, initial-cipher-state), prfconstant = "prf".
        """
        tmp2 = hashlib.sha1(data).digest()[:BLOCK]
        return _cts.ecb_encrypt_block(_prf_key(self, key), tmp2)


@lru_cache(maxsize=256)
def _prf_key(profile: Rfc3962Profile, key: bytes) -> bytes:
    return dk(key, _PRF_CONSTANT, profile.seedsize)


AES128_CTS_HMAC_SHA1_96 = Rfc3962Profile(
    17, "aes128-cts-hmac-sha1-96", 16, 15, "hmac-sha1-96-aes128"
)
AES256_CTS_HMAC_SHA1_96 = Rfc3962Profile(
    18, "aes256-cts-hmac-sha1-96", 32, 16, "hmac-sha1-96-aes256"
)
