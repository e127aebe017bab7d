"""Ticket protection profiles (DESIGN.md T2): which cipher and MAC protect the §4 ticket.

The layout never changes (draft-salowey-tls-ticket-07 §4, T1); a profile fixes the key sizes,
the MAC hash and thus the MAC length:

=========  ===========  =====================  ========  ===================================
profile    cipher       MAC                    mac size  source
=========  ===========  =====================  ========  ===================================
draft-07   AES-128-CBC  HMAC-SHA1, 128-bit key  20        seed §4, exactly
rfc5077    AES-256-CBC  HMAC-SHA-256, 256-bit   32        default; = OpenSSL/nginx 80-byte keys
nginx-48   AES-128-CBC  HMAC-SHA-256, 128-bit   32        nginx 48-byte ``ssl_session_ticket_key``
=========  ===========  =====================  ========  ===================================

NB(rfc5077): RFC 5077 §4 itself keeps a 128-bit AES key and moves the MAC to HMAC-SHA-256 with a
256-bit key.  Our ``rfc5077`` profile uses a 256-bit AES key as well (DESIGN.md T2), because a
128-bit ticket key caps every resumed session at 128-bit security (OpenSSL's
SSL_CTX_set_tlsext_ticket_key_cb(3) warning) and because it is what OpenSSL ≥ 1.1.0 and nginx's
80-byte key files use (src/event/ngx_event_openssl.c: ``EVP_aes_256_cbc()`` + ``EVP_sha256()``).

NB(nginx-48): nginx reads a 48-byte key file as name(16) | aes(16) | hmac(16) and uses it with
AES-128-CBC and HMAC-SHA-256 keyed with those 16 bytes (``HMAC_Init_ex(hctx, key->hmac_key, 16,
EVP_sha256())``): neither draft-07 (SHA-1) nor RFC 5077 (256-bit HMAC key), hence its own profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes

from gssmech.tlsticket.errors import TicketKeyError

__all__ = [
    "DEFAULT_PROFILE",
    "DRAFT_07",
    "NGINX_48",
    "PROFILES",
    "PROFILES_BY_ID",
    "RFC_5077",
    "TicketProfile",
    "get_profile",
]


@dataclass(frozen=True, slots=True)
class TicketProfile:
    """Algorithms and sizes of one ticket protection profile."""

    #: Name used in configuration and on the command line.
    name: str
    #: Number stored in key directory files (keydir.py).
    profile_id: int
    #: AES key size in bytes (AES in CBC mode, §4).
    aes_key_size: int
    #: HMAC key size in bytes.
    hmac_key_size: int
    #: ``"sha1"`` or ``"sha256"``.
    hash_name: str
    #: Length of the ``mac`` field at the end of the ticket.
    mac_size: int

    def hash_algorithm(self) -> hashes.HashAlgorithm:
        return hashes.SHA1() if self.hash_name == "sha1" else hashes.SHA256()


#: draft-salowey-tls-ticket-07 §4: "one 128-bit key for AES in CBC mode encryption and one
#: 128-bit key for HMAC-SHA1"; ``opaque mac[20]``.
DRAFT_07 = TicketProfile("draft-07", 1, 16, 16, "sha1", 20)
#: The default: AES-256-CBC + HMAC-SHA-256 (256-bit key), ``opaque mac[32]``.
RFC_5077 = TicketProfile("rfc5077", 2, 32, 32, "sha256", 32)
#: nginx 48-byte key files: AES-128-CBC + HMAC-SHA-256 with a 128-bit HMAC key.
NGINX_48 = TicketProfile("nginx-48", 3, 16, 16, "sha256", 32)

PROFILES: dict[str, TicketProfile] = {p.name: p for p in (DRAFT_07, RFC_5077, NGINX_48)}
PROFILES_BY_ID: dict[int, TicketProfile] = {p.profile_id: p for p in PROFILES.values()}
DEFAULT_PROFILE = RFC_5077


def get_profile(name: str | TicketProfile) -> TicketProfile:
    """The profile called ``name`` (or ``name`` itself when it already is one)."""
    if isinstance(name, TicketProfile):
        return name
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(PROFILES))
        raise TicketKeyError(f"unknown ticket profile {name!r} (known: {known})") from None
