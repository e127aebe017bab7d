"""nginx ``ssl_session_ticket_key`` files: read and write, so one tool manages both fleets' keys.

Layouts, verified against nginx's ``ngx_ssl_session_ticket_keys()`` (src/event/ngx_event_openssl.c;
note the different field order)::

    48 bytes:  key_name(16) | aes_key(16) | hmac_key(16)   AES-128-CBC, HMAC-SHA-256 (16-byte key)
    80 bytes:  key_name(16) | hmac_key(32) | aes_key(32)   AES-256-CBC, HMAC-SHA-256 (32-byte key)

An 80-byte key is our ``rfc5077`` profile exactly; a 48-byte key is the ``nginx-48`` profile
(profiles.py).  ``draft-07`` keys use HMAC-SHA1, which nginx never does, so they cannot be
exported.

NB(nginx): only the keys are shared, not tickets: nginx's tickets are OpenSSL's (MAC without the
length field, an SSL_SESSION inside), ours follow the seed's §4.  The differing MAC input keeps a
ticket of one format from verifying as the other under a shared key.
"""

from __future__ import annotations

from gssmech.tlsticket.errors import TicketKeyError, TicketKeyFileError
from gssmech.tlsticket.profiles import NGINX_48, RFC_5077
from gssmech.tlsticket.ticket import TicketKey

__all__ = ["NGINX_KEY_SIZES", "decode_nginx_key", "encode_nginx_key"]

NGINX_KEY_SIZES = (48, 80)


def decode_nginx_key(
    data: bytes, *, not_before: int = 0, encrypt_until: int = 0xFFFFFFFF,
    decrypt_until: int = 0xFFFFFFFF, source: str = "nginx ticket key",
) -> TicketKey:
    """A TicketKey from the bytes of an nginx key file (48 or 80 bytes, as nginx demands)."""
    if not isinstance(data, bytes | bytearray) or len(data) not in NGINX_KEY_SIZES:
        size = len(data) if isinstance(data, bytes | bytearray) else "non-bytes"
        raise TicketKeyFileError(f"must be 48 or 80 bytes, not {size}", source=source)
    data = bytes(data)
    if len(data) == 48:
        profile, aes_key, hmac_key = NGINX_48, data[16:32], data[32:48]
    else:
        profile, hmac_key, aes_key = RFC_5077, data[16:48], data[48:80]
    return TicketKey(
        data[:16], profile, aes_key, hmac_key, not_before, encrypt_until, decrypt_until
    )


def encode_nginx_key(key: TicketKey, size: int | None = None) -> bytes:
    """The nginx key file for ``key``; ``size`` (48/80), if given, must match its profile."""
    wanted = {NGINX_48.name: 48, RFC_5077.name: 80}.get(key.profile.name)
    if wanted is None:
        raise TicketKeyError(f"profile {key.profile.name} has no nginx key format (nginx uses "
                             "HMAC-SHA-256)")
    if size is not None and size != wanted:
        raise TicketKeyError(f"a {key.profile.name} key exports as {wanted} bytes, not {size} "
                             f"(create the directory with --profile "
                             f"{'nginx-48' if size == 48 else 'rfc5077'})")
    if wanted == 48:
        return key.key_name + key.aes_key + key.hmac_key
    return key.key_name + key.hmac_key + key.aes_key
