"""The DER writer (X.690 §10) for the Kerberos messages gssmech sends on its hot paths: the
context tokens (gssmech.gss._der) and the KDC's tickets and replies (gssmech.kdc.der).

asn1crypto builds values through several layers of objects, which costs more than the
cryptography of a whole context exchange or TGS reply; the RFC 4120 structures are few and
fixed, so they are written directly from these pieces.  Every function returns complete TLV
bytes, equal to what the asn1crypto schema in this package dumps for the same values (the
tests compare them).  The counterpart for reading is :mod:`derread`.

Memo tables keep pieces that repeat from message to message (realm and principal names, the
current second).  Each is emptied when it reaches _MEMO_MAX entries and keeps only values of
at most _MEMO_VALUE_MAX octets, so a peer choosing the names cannot grow them.  A dict get or
set is atomic under the GIL, so concurrent writers at worst compute a value twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

_MEMO_MAX = 512
_MEMO_VALUE_MAX = 256
_times: dict[int, bytes] = {}
_strings: dict[str, bytes] = {}
_names: dict[tuple[int, tuple[str, ...]], bytes] = {}


def _remember(memo: dict, key: object, value: bytes) -> bytes:
    if len(value) <= _MEMO_VALUE_MAX:
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        memo[key] = value
    return value


# --- X.690 framing -----------------------------------------------------------------------------
def length(n: int) -> bytes:
    """Definite length octets, short form below 128, else the fewest long-form octets."""
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def header(tag: int, n: int) -> bytes:
    """Identifier (one octet: low tag number form) and length octets for ``n`` content octets
    (X.690 §8.1.2, §8.1.3)."""
    if n < 0x80:  # short form: the common case
        return bytes((tag, n))
    if n < 0x100:
        return bytes((tag, 0x81, n))
    if n < 0x10000:
        return bytes((tag, 0x82, n >> 8, n & 0xFF))
    return bytes((tag,)) + length(n)


def tlv(tag: int, content: bytes) -> bytes:
    return header(tag, len(content)) + content


def ctx(n: int, content: bytes) -> bytes:
    """``[n] EXPLICIT`` (constructed context-specific tag, n < 31)."""
    size = len(content)
    if size < 0x80:  # most fields: skip the general header code
        return bytes((0xA0 | n, size)) + content
    return header(0xA0 | n, size) + content


def app(n: int, content: bytes) -> bytes:
    """``[APPLICATION n]`` (constructed, n < 31): every RFC 4120 message type."""
    return header(0x60 | n, len(content)) + content


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def seq_of(items: Iterable[bytes]) -> bytes:
    return tlv(0x30, b"".join(items))


def fields(*items: tuple[int, bytes | None]) -> bytes:
    """SEQUENCE { [n] EXPLICIT value, ... } from ``(n, value)`` pairs, None for an absent
    OPTIONAL field: the shape of every RFC 4120 structure, built in one call."""
    parts = []
    for n, value in items:
        if value is not None:
            size = len(value)
            parts.append(bytes((0xA0 | n, size)) if size < 0x80 else header(0xA0 | n, size))
            parts.append(value)
    body = b"".join(parts)
    return header(0x30, len(body)) + body


# --- RFC 4120 §5.2 basic types -----------------------------------------------------------------
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
    """KerberosString: GeneralString holding UTF-8 (RFC 4120 §5.2.1; base.KerberosString)."""
    found = _strings.get(text)
    if found is None:
        found = _remember(_strings, text, tlv(0x1B, text.encode("utf-8")))
    return found


def kerberos_time(seconds: int) -> bytes:
    """KerberosTime: GeneralizedTime ``YYYYMMDDHHMMSSZ``, UTC, no fraction (RFC 4120 §5.2.3).
    Most times in a message are "now" or a ticket's, so each second is formatted once."""
    found = _times.get(seconds)
    if found is None:
        t = time.gmtime(seconds)
        text = (
            f"{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}"
            f"{t.tm_hour:02d}{t.tm_min:02d}{t.tm_sec:02d}Z"
        )
        found = _remember(_times, seconds, tlv(0x18, text.encode("ascii")))
    return found


def kerberos_flags(value: int) -> bytes:
    """KerberosFlags as exactly 32 bits, no unused bits (RFC 4120 §5.2.8; MIT sends this)."""
    return tlv(0x03, b"\x00" + value.to_bytes(4, "big"))


def principal_name(name_type: int, components: Sequence[str]) -> bytes:
    """PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF
    KerberosString } (RFC 4120 §5.2.2)."""
    key = (name_type, tuple(components))
    found = _names.get(key)
    if found is None:
        strings = seq_of(kerberos_string(c) for c in key[1])
        found = _remember(_names, key, fields((0, integer(name_type)), (1, strings)))
    return found


def encryption_key(keytype: int, keyvalue: bytes) -> bytes:
    """EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING } (§5.2.9)."""
    return fields((0, integer(keytype)), (1, octets(keyvalue)))


def encrypted_data(etype: int, cipher: bytes, kvno: int | None = None) -> bytes:
    """EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2]
    OCTET STRING } (§5.2.9)."""
    return fields(
        (0, integer(etype)), (1, integer(kvno) if kvno is not None else None), (2, octets(cipher))
    )


def krb_error(
    *, error_code: int, stime: int, susec: int, realm: str, sname: tuple[int, Sequence[str]],
    e_text: str = "", e_data: bytes | None = None,
) -> bytes:
    """KRB-ERROR ::= [APPLICATION 30] SEQUENCE { pvno [0], msg-type [1], ctime [2] OPTIONAL,
    cusec [3] OPTIONAL, stime [4], susec [5], error-code [6], crealm [7] OPTIONAL, cname [8]
    OPTIONAL, realm [9], sname [10], e-text [11] OPTIONAL, e-data [12] OPTIONAL } (RFC 4120
    §5.9.1), as the KDC and a GSS acceptor send it.  ctime/cusec and crealm/cname are never
    written: an error must not name the client it refuses (seed §7, anonymity)."""
    return app(30, fields(
        (0, _SMALL_INTEGERS[5]),
        (1, _SMALL_INTEGERS[30]),
        (4, kerberos_time(stime)),
        (5, integer(susec)),
        (6, integer(error_code)),
        (9, kerberos_string(realm)),
        (10, principal_name(*sname)),
        (11, kerberos_string(e_text) if e_text else None),
        (12, octets(e_data) if e_data is not None else None),
    ))
