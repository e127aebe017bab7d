"""Kerberos protocol numbers shared by every layer (RFC 4120 §7.5, RFC 3961 §8, RFC 6112/8062).

Ticket flags and KDC options are bit strings numbered from the most significant bit (RFC 4120
§5.2.8): bit ``n`` is the value ``1 << (31 - n)`` in MIT's 32-bit representation (ccache
``ticket_flags``, krb5.hin ``TKT_FLG_*``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class NameType(enum.IntEnum):
    """PrincipalName name-type, RFC 4120 §6.2 and RFC 6111 (WELLKNOWN)."""

    UNKNOWN = 0
    PRINCIPAL = 1
    SRV_INST = 2
    SRV_HST = 3
    SRV_XHST = 4
    UID = 5
    X500_PRINCIPAL = 6
    SMTP_NAME = 7
    ENTERPRISE = 10
    WELLKNOWN = 11


class Enctype(enum.IntEnum):
    """Encryption types, RFC 3961 §8 / RFC 3962 / RFC 8009."""

    AES128_CTS_HMAC_SHA1_96 = 17
    AES256_CTS_HMAC_SHA1_96 = 18
    AES128_CTS_HMAC_SHA256_128 = 19
    AES256_CTS_HMAC_SHA384_192 = 20


#: MIT's enctype names (klist -e, krb5.conf permitted_enctypes).
ENCTYPE_NAMES: dict[int, str] = {
    17: "aes128-cts-hmac-sha1-96",
    18: "aes256-cts-hmac-sha1-96",
    19: "aes128-cts-hmac-sha256-128",
    20: "aes256-cts-hmac-sha384-192",
    16: "des3-cbc-sha1",
    23: "arcfour-hmac",
    1: "des-cbc-crc",
    3: "des-cbc-md5",
}


class ChecksumType(enum.IntEnum):
    """Checksum types, RFC 3961 §8 / RFC 3962 / RFC 8009."""

    HMAC_SHA1_96_AES128 = 15
    HMAC_SHA1_96_AES256 = 16
    HMAC_SHA256_128_AES128 = 19
    HMAC_SHA384_192_AES256 = 20
    GSSAPI = 0x8003  # RFC 4121 §4.1.1


class TicketFlag(enum.IntFlag):
    """MIT's 32-bit ticket-flag values (bit n of RFC 4120 §5.3 = 1 << (31 - n))."""

    RESERVED = 1 << 31
    FORWARDABLE = 1 << 30
    FORWARDED = 1 << 29
    PROXIABLE = 1 << 28
    PROXY = 1 << 27
    MAY_POSTDATE = 1 << 26
    POSTDATED = 1 << 25
    INVALID = 1 << 24
    RENEWABLE = 1 << 23
    INITIAL = 1 << 22
    PRE_AUTHENT = 1 << 21
    HW_AUTHENT = 1 << 20
    TRANSITED_POLICY_CHECKED = 1 << 19
    OK_AS_DELEGATE = 1 << 18
    BIT_14_DRAFT_ANONYMOUS = 1 << 17  # draft-ietf-krb-wg-anon-08 §3 (bit 14)
    ENC_PA_REP = 1 << 16
    ANONYMOUS = 1 << 15  # RFC 6112/8062 §3 (bit 16)


#: klist -f letters, in MIT's order (src/clients/klist/klist.c flags_string).
FLAG_LETTERS: tuple[tuple[int, str], ...] = (
    (TicketFlag.FORWARDABLE, "F"),
    (TicketFlag.FORWARDED, "f"),
    (TicketFlag.PROXIABLE, "P"),
    (TicketFlag.PROXY, "p"),
    (TicketFlag.MAY_POSTDATE, "D"),
    (TicketFlag.POSTDATED, "d"),
    (TicketFlag.INVALID, "i"),
    (TicketFlag.RENEWABLE, "R"),
    (TicketFlag.INITIAL, "I"),
    (TicketFlag.HW_AUTHENT, "H"),
    (TicketFlag.PRE_AUTHENT, "A"),
    (TicketFlag.TRANSITED_POLICY_CHECKED, "T"),
    (TicketFlag.OK_AS_DELEGATE, "O"),
    (TicketFlag.ANONYMOUS, "a"),
)


def flag_bit(n: int) -> int:
    """The 32-bit value of RFC 4120 bit number ``n`` (0 = most significant)."""
    return 1 << (31 - n)


# --- Anonymity, draft-ietf-krb-wg-anon-08 §2/§3 and RFC 8062 -------------------------------
ANONYMOUS_REALM = "WELLKNOWN:ANONYMOUS"
ANONYMOUS_COMPONENTS = ("WELLKNOWN", "ANONYMOUS")
KEY_USAGE_PA_PKINIT_KX = 44


@dataclass(frozen=True, slots=True)
class AnonProfile:
    """Wire numbers that differ between the seed (draft-08) and RFC 8062 (what MIT speaks)."""

    name: str
    anonymous_bit: int  # KDCOptions and TicketFlags bit number
    pa_pkinit_kx: int
    pepper1: bytes
    pepper2: bytes

    @property
    def flag_value(self) -> int:
        return flag_bit(self.anonymous_bit)


RFC8062 = AnonProfile("rfc8062", 16, 147, b"PKINIT", b"KEYEXCHANGE")
DRAFT08 = AnonProfile("draft-08", 14, 135, b"PKINIT", b"KeyExchange")
PROFILES: dict[str, AnonProfile] = {p.name: p for p in (RFC8062, DRAFT08)}


def anon_profile(name: str | None) -> AnonProfile:
    """Look up a profile by its configuration name (default ``rfc8062``)."""
    try:
        return PROFILES[name or "rfc8062"]
    except KeyError:
        raise ValueError(f"unknown anonymity profile {name!r}; known: {sorted(PROFILES)}") from None
