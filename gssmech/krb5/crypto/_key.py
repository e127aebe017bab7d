"""Protocol keys and the enctype / checksum-type registry (RFC 3961 §3, §4, §8)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gssmech.errors import CryptoError, UnsupportedEnctype
from gssmech.krb5.crypto._profile import Profile
from gssmech.krb5.crypto._rfc3962 import AES128_CTS_HMAC_SHA1_96, AES256_CTS_HMAC_SHA1_96
from gssmech.krb5.crypto._rfc8009 import AES128_CTS_HMAC_SHA256_128, AES256_CTS_HMAC_SHA384_192

#: enctype number -> profile, for every enctype gssmech implements.
PROFILES: dict[int, Profile] = {
    p.enctype: p
    for p in (
        AES128_CTS_HMAC_SHA1_96,
        AES256_CTS_HMAC_SHA1_96,
        AES128_CTS_HMAC_SHA256_128,
        AES256_CTS_HMAC_SHA384_192,
    )
}

#: keyed checksum type -> the profile whose keys compute it (each is tied to one enctype).
CKSUM_PROFILES: dict[int, Profile] = {p.cksumtype: p for p in PROFILES.values()}


def get_profile(enctype: int) -> Profile:
    """The profile of ``enctype``; :class:`UnsupportedEnctype` if gssmech lacks it."""
    try:
        return PROFILES[enctype]
    except (KeyError, TypeError):
        raise UnsupportedEnctype(f"encryption type {enctype!r} is not supported") from None


def cksum_profile(cksumtype: int) -> Profile:
    try:
        return CKSUM_PROFILES[cksumtype]
    except (KeyError, TypeError):
        raise UnsupportedEnctype(f"checksum type {cksumtype!r} is not supported") from None


def checksum_size(cksumtype: int) -> int:
    """Octets of a checksum of type ``cksumtype`` (RFC 3962 §7, RFC 8009 §8)."""
    return cksum_profile(cksumtype).macsize


@dataclass(frozen=True, slots=True)
class Key:
    """An encryption key: RFC 4120 §5.2.9 EncryptionKey (keytype + keyvalue).

    The constructor checks the enctype and the key length, so a Key is always usable.  The key
    octets are left out of ``repr`` to keep them out of logs and tracebacks.
    """

    enctype: int
    contents: bytes = field(repr=False)

    def __post_init__(self) -> None:
        profile = get_profile(self.enctype)
        if isinstance(self.contents, bytearray | memoryview):
            object.__setattr__(self, "contents", bytes(self.contents))
        if not isinstance(self.contents, bytes):
            raise CryptoError("key contents must be bytes")
        if len(self.contents) != profile.keysize:
            raise CryptoError(
                f"{profile.name} keys are {profile.keysize} octets, not {len(self.contents)}"
            )

    @property
    def profile(self) -> Profile:
        return PROFILES[self.enctype]
