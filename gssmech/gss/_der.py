"""A small DER writer (X.690 §10) for the messages a GSS context sends: AP-REQ, Authenticator
(RFC 4120 §5.5.1), AP-REP and EncAPRepPart (§5.5.2).

Building these through asn1crypto objects costs more than the cryptography of the whole
exchange; the structures are few and fixed, so they are written here directly.  Each builder
returns complete TLV bytes equal to what the asn1crypto schema in :mod:`gssmech.krb5.asn1`
dumps for the same values (tests/test_gss_der.py checks that, and that the strict decoder
reads them back).  Only encoding lives here: everything received is still decoded strictly by
:func:`gssmech.krb5.asn1.decode`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence

from gssmech.krb5.principal import Principal

#: RFC 4120 §5.5.1 AP-REQ/Authenticator and §5.5.2 AP-REP/EncAPRepPart application tags.
_APP_AUTHENTICATOR = 0x62
_APP_AP_REQ = 0x6E
_APP_AP_REP = 0x6F
_APP_ENC_AP_REP_PART = 0x7B
PVNO = 5
KRB_AP_REQ = 14
KRB_AP_REP = 15
#: ``mutual-required`` is bit 2 of APOptions (RFC 4120 §5.5.1), MIT's AP_OPTS_MUTUAL_REQUIRED.
AP_OPTS_MUTUAL_REQUIRED = 0x20000000


def tlv(tag: int, content: bytes) -> bytes:
    """One identifier octet (low tag number form), the definite length, the contents."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(body))) + body + content


def ctx(n: int, content: bytes) -> bytes:
    """``[n] EXPLICIT`` (constructed context-specific tag, n < 31)."""
    size = len(content)
    if size < 0x80:  # most fields: skip the general length code
        return bytes((0xA0 | n, size)) + content
    return tlv(0xA0 | n, content)


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


#: INTEGER 0..127 (pvno, msg-types, enctypes, name types, small cusecs), prebuilt.
_SMALL_INTEGERS = tuple(bytes((0x02, 1, v)) for v in range(0x80))


def integer(value: int) -> bytes:
    """INTEGER in the fewest two's-complement octets (X.690 §8.3.2)."""
    if 0 <= value < 0x80:
        return _SMALL_INTEGERS[value]
    size = (value + (value < 0)).bit_length() // 8 + 1
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def kerberos_string(text: str) -> bytes:
    """KerberosString: GeneralString holding UTF-8 (RFC 4120 §5.2.1; gssmech.krb5.asn1.base)."""
    return tlv(0x1B, text.encode("utf-8"))


@functools.lru_cache(maxsize=8)  # contexts made within the same second share the encoding
def kerberos_time(seconds: int) -> bytes:
    """KerberosTime: GeneralizedTime ``YYYYMMDDHHMMSSZ``, UTC, no fraction (RFC 4120 §5.2.3)."""
    t = time.gmtime(seconds)
    text = (
        f"{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}"
        f"{t.tm_hour:02d}{t.tm_min:02d}{t.tm_sec:02d}Z"
    )
    return tlv(0x18, text.encode("ascii"))


def kerberos_flags(value: int) -> bytes:
    """KerberosFlags as exactly 32 bits, no unused bits (RFC 4120 §5.2.8; MIT sends this)."""
    return tlv(0x03, b"\x00" + value.to_bytes(4, "big"))


# --- RFC 4120 structures ---------------------------------------------------------------------


def principal_name(name_type: int, components: Sequence[str]) -> bytes:
    """PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF
    KerberosString } (RFC 4120 §5.2.2)."""
    names = tlv(0x30, b"".join(kerberos_string(c) for c in components))
    return seq(ctx(0, integer(name_type)), ctx(1, names))


def encryption_key(keytype: int, keyvalue: bytes) -> bytes:
    """EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING } (§5.2.9)."""
    return seq(ctx(0, integer(keytype)), ctx(1, octets(keyvalue)))


def encrypted_data(etype: int, cipher: bytes) -> bytes:
    """EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2]
    OCTET STRING } (§5.2.9); no kvno: the ones here are sealed with session keys."""
    return seq(ctx(0, integer(etype)), ctx(2, octets(cipher)))


def _client_fields(client: Principal) -> bytes:
    """authenticator-vno, crealm and cname: the same for every context of one client."""
    if isinstance(client.components, tuple):  # hashable: memoize
        return _client_fields_memo(client)
    return _client_fields_of(client)


def _client_fields_of(client: Principal) -> bytes:
    return (
        ctx(0, integer(PVNO))
        + ctx(1, kerberos_string(client.realm))
        + ctx(2, principal_name(client.name_type, client.components))
    )


_client_fields_memo = functools.lru_cache(maxsize=64)(_client_fields_of)


def authenticator(
    client: Principal,
    *,
    cksumtype: int,
    checksum: bytes,
    cusec: int,
    ctime: int,
    subkey: tuple[int, bytes],
    seq_number: int,
) -> bytes:
    """Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0], crealm [1], cname
    [2], cksum [3], cusec [4], ctime [5], subkey [6], seq-number [7] } (RFC 4120 §5.5.1),
    without authorization-data."""
    body = seq(
        _client_fields(client),
        ctx(3, seq(ctx(0, integer(cksumtype)), ctx(1, octets(checksum)))),
        ctx(4, integer(cusec)),
        ctx(5, kerberos_time(ctime)),
        ctx(6, encryption_key(*subkey)),
        ctx(7, integer(seq_number)),
    )
    return tlv(_APP_AUTHENTICATOR, body)


#: pvno [0] and msg-type [1] of the AP-REQ and AP-REP, constant.
_AP_REQ_HEAD = ctx(0, integer(PVNO)) + ctx(1, integer(KRB_AP_REQ))
_AP_REP_HEAD = ctx(0, integer(PVNO)) + ctx(1, integer(KRB_AP_REP))


def ap_req(ap_options: int, ticket: bytes, etype: int, cipher: bytes) -> bytes:
    """AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0], msg-type [1], ap-options [2], ticket
    [3] Ticket, authenticator [4] EncryptedData } (RFC 4120 §5.5.1).  ``ticket`` is the DER
    of the Ticket exactly as the KDC sent it (and the ccache kept it)."""
    body = seq(
        _AP_REQ_HEAD,
        ctx(2, kerberos_flags(ap_options)),
        ctx(3, ticket),
        ctx(4, encrypted_data(etype, cipher)),
    )
    return tlv(_APP_AP_REQ, body)


def enc_ap_rep_part(
    *, ctime: int, cusec: int, subkey: tuple[int, bytes], seq_number: int
) -> bytes:
    """EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime [0], cusec [1], subkey [2],
    seq-number [3] } (RFC 4120 §5.5.2)."""
    body = seq(
        ctx(0, kerberos_time(ctime)),
        ctx(1, integer(cusec)),
        ctx(2, encryption_key(*subkey)),
        ctx(3, integer(seq_number)),
    )
    return tlv(_APP_ENC_AP_REP_PART, body)


def ap_rep(etype: int, cipher: bytes) -> bytes:
    """AP-REP ::= [APPLICATION 15] SEQUENCE { pvno [0], msg-type [1], enc-part [2] }
    (RFC 4120 §5.5.2)."""
    return tlv(_APP_AP_REP, seq(_AP_REP_HEAD, ctx(2, encrypted_data(etype, cipher))))
