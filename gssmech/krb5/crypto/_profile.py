"""What every enctype profile exposes (RFC 3961 §3 and §4), and the derived-key cache.

RFC 4121 wrap and get_mic call encrypt/checksum on every message with the same session key
and one of a handful of usages, so deriving Ke/Ki/Kc each time would double the cost of small
messages.  Derived keys are memoised in one process-wide LRU keyed by the profile, the base
key octets, the usage and the derivation constant's last octet (RFC 3961 §5.3: 0x99 = Kc,
0xAA = Ke, 0x55 = Ki).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import lru_cache

KC = 0x99  # checksum key, RFC 3961 §5.3
KE = 0xAA  # encryption key
KI = 0x55  # integrity (HMAC) key

#: Derived keys kept per process; each entry is a few dozen octets.
DERIVED_CACHE_SIZE = 4096

Buffer = bytes | bytearray | memoryview


def usage_constant(usage: int, kind: int) -> bytes:
    """The 5-octet derivation constant ``usage | kind`` (RFC 3961 §5.3, RFC 8009 §5)."""
    return usage.to_bytes(4, "big") + bytes((kind,))


class Profile(ABC):
    """One encryption type and its mandatory checksum type (RFC 3961 §3, §4)."""

    __slots__ = ()

    enctype: int
    name: str
    keysize: int  # octets of protocol key
    seedsize: int  # octets of random-to-key input ("key-generation seed length")
    blocksize: int = 16  # the cipher block size; CTS never pads the message
    macsize: int  # octets of the (truncated) HMAC appended to ciphertext
    confounder_size: int = 16
    cksumtype: int
    cksum_name: str
    prf_size: int  # octets returned by prf()
    default_iterations: int  # PBKDF2 iterations when s2kparams are absent

    def encrypted_length(self, plaintext_len: int) -> int:
        """Ciphertext octets for ``plaintext_len`` octets: CTS adds no padding."""
        return self.confounder_size + plaintext_len + self.macsize

    def plaintext_length(self, ciphertext_len: int) -> int:
        """Largest plaintext whose ciphertext fits ``ciphertext_len`` (0 if none fits)."""
        return max(0, ciphertext_len - self.confounder_size - self.macsize)

    def random_to_key(self, seed: bytes) -> bytes:
        """AES keys are dense: random-to-key is the identity (RFC 3962 §6, RFC 8009 §4)."""
        return bytes(seed)

    def derived(self, key: bytes, usage: int, kind: int) -> bytes:
        """Kc/Ke/Ki for ``usage``, memoised (see module docstring)."""
        return _derived(self, key, usage, kind)

    @abstractmethod
    def derive(self, key: bytes, usage: int, kind: int) -> bytes:
        """Uncached Kc/Ke/Ki derivation."""

    @abstractmethod
    def string_to_key(self, password: bytes, salt: bytes, iterations: int) -> bytes: ...

    @abstractmethod
    def encrypt(self, key: bytes, usage: int, plaintext: Buffer, confounder: bytes) -> bytes: ...

    @abstractmethod
    def decrypt(self, key: bytes, usage: int, ciphertext: Buffer) -> bytes:
        """Plaintext, or raise IntegrityError for anything wrong."""

    @abstractmethod
    def checksum(self, key: bytes, usage: int, data: Buffer) -> bytes: ...

    @abstractmethod
    def prf(self, key: bytes, data: bytes) -> bytes: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.enctype} {self.name}>"


@lru_cache(maxsize=DERIVED_CACHE_SIZE)
def _derived(profile: Profile, key: bytes, usage: int, kind: int) -> bytes:
    return profile.derive(key, usage, kind)


def clear_derived_cache() -> None:
    """Forget every derived key (tests; or after a key is destroyed)."""
    _derived.cache_clear()
