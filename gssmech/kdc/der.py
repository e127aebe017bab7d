"""A minimal DER writer (X.690 §10) for the KDC's hot path: tickets and KDC-REPs.

asn1crypto builds values through several layers of objects, which costs the TGS more than
its cryptography; the reply structures of RFC 4120 §5.3/§5.4.2 are few and fixed, so they are
written here directly.  Every builder returns the complete TLV bytes.  The tests decode each
message strictly with the asn1crypto schema (gssmech.krb5.asn1), and MIT clients parse them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

#: Memo tables for pieces that repeat from request to request (realm and service names, the
#: current second); each is emptied when it reaches _MEMO_MAX entries and only values of at
#: most _MEMO_VALUE_MAX octets are kept, so a client cannot grow them.
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


def length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def header(tag: int, n: int) -> bytes:
    """Identifier and length octets (X.690 §8.1.2, §8.1.3) for ``n`` content octets."""
    if n < 0x80:  # short form: the common case
        return bytes((tag, n))
    if n < 0x100:
        return bytes((tag, 0x81, n))
    if n < 0x10000:
        return bytes((tag, 0x82, n >> 8, n & 0xFF))
    return bytes((tag,)) + length(n)


def tlv(tag: int, content: bytes) -> bytes:
    return header(tag, len(content)) + content


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


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def seq_of(items: Iterable[bytes]) -> bytes:
    return tlv(0x30, b"".join(items))


def ctx(n: int, content: bytes) -> bytes:
    """[n] EXPLICIT (constructed context tag, n < 31)."""
    return tlv(0xA0 | n, content)


def app(n: int, content: bytes) -> bytes:
    """[APPLICATION n] EXPLICIT (n < 31)."""
    return tlv(0x60 | n, content)


#: DER of INTEGER 0..127, the common case (msg-type, pvno, enctypes, name types).
_SMALL_INTEGERS = tuple(bytes((0x02, 1, v)) for v in range(0x80))


def integer(value: int) -> bytes:
    if 0 <= value < 0x80:
        return _SMALL_INTEGERS[value]
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def general_string(text: str) -> bytes:
    found = _strings.get(text)
    if found is None:
        found = _remember(_strings, text, tlv(0x1B, text.encode("utf-8")))
    return found


def kerberos_time(seconds: int) -> bytes:
    """KerberosTime: GeneralizedTime YYYYMMDDHHMMSSZ (RFC 4120 §5.2.3).  A reply holds
    several times and most are "now" or the TGT's, so each second is formatted once."""
    found = _times.get(seconds)
    if found is None:
        t = time.gmtime(seconds)
        text = (f"{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}"
                f"{t.tm_hour:02d}{t.tm_min:02d}{t.tm_sec:02d}Z")
        found = _remember(_times, seconds, tlv(0x18, text.encode("ascii")))
    return found


def flags32(value: int) -> bytes:
    """KerberosFlags as exactly 32 bits (RFC 4120 §5.2.8; MIT's encoding)."""
    return tlv(0x03, b"\x00" + value.to_bytes(4, "big"))


# --- RFC 4120 structures ---------------------------------------------------------------------

Name = tuple[int, Sequence[str]]


def principal_name(name: Name) -> bytes:
    key = (name[0], tuple(name[1]))
    found = _names.get(key)
    if found is None:
        found = _remember(_names, key, fields(
            (0, integer(name[0])), (1, seq_of(general_string(c) for c in name[1]))))
    return found


def encryption_key(enctype: int, contents: bytes) -> bytes:
    return fields((0, integer(enctype)), (1, octets(contents)))


def encrypted_data(etype: int, cipher: bytes, kvno: int | None = None) -> bytes:
    return fields((0, integer(etype)), (1, integer(kvno) if kvno is not None else None),
                  (2, octets(cipher)))


def transited(tr_type: int, contents: bytes) -> bytes:
    return fields((0, integer(tr_type)), (1, octets(contents)))


def authorization_data(elements: Iterable[tuple[int, bytes]]) -> bytes:
    return seq_of(fields((0, integer(t)), (1, octets(d))) for t, d in elements)


def method_data(items: Iterable[tuple[int, bytes]]) -> bytes:
    """METHOD-DATA / padata: PA-DATA ::= SEQUENCE { padata-type [1], padata-value [2] }."""
    return seq_of(fields((1, integer(t)), (2, octets(v))) for t, v in items)


def last_req(entries: Iterable[tuple[int, int]]) -> bytes:
    return seq_of(fields((0, integer(t)), (1, kerberos_time(v))) for t, v in entries)


_PVNO = integer(5)


def ticket(realm: str, sname: Name, enc_part: bytes) -> bytes:
    """Ticket ::= [APPLICATION 1] SEQUENCE {...} (RFC 4120 §5.3)."""
    return app(1, fields((0, _PVNO), (1, general_string(realm)), (2, principal_name(sname)),
                         (3, enc_part)))


def _time(seconds: int | None) -> bytes | None:
    return kerberos_time(seconds) if seconds is not None else None


def enc_ticket_part(*, flags: int, key: bytes, crealm: str, cname: Name, transited_der: bytes,
                    authtime: int, starttime: int | None, endtime: int,
                    renew_till: int | None, caddr_der: bytes | None = None,
                    authdata_der: bytes | None = None) -> bytes:
    """EncTicketPart ::= [APPLICATION 3] SEQUENCE {...} (RFC 4120 §5.3)."""
    return app(3, fields(
        (0, flags32(flags)), (1, key), (2, general_string(crealm)), (3, principal_name(cname)),
        (4, transited_der), (5, kerberos_time(authtime)), (6, _time(starttime)),
        (7, kerberos_time(endtime)), (8, _time(renew_till)), (9, caddr_der),
        (10, authdata_der),
    ))


def enc_kdc_rep_part(*, tag: int, key: bytes, last_req_der: bytes, nonce: int, flags: int,
                     authtime: int, starttime: int | None, endtime: int,
                     renew_till: int | None, srealm: str, sname: Name,
                     caddr_der: bytes | None = None) -> bytes:
    """EncASRepPart [APPLICATION 25] / EncTGSRepPart [APPLICATION 26] (RFC 4120 §5.4.2)."""
    return app(tag, fields(
        (0, key), (1, last_req_der), (2, integer(nonce)), (4, flags32(flags)),
        (5, kerberos_time(authtime)), (6, _time(starttime)), (7, kerberos_time(endtime)),
        (8, _time(renew_till)), (9, general_string(srealm)), (10, principal_name(sname)),
        (11, caddr_der),
    ))


def kdc_rep(*, tag: int, msg_type: int, padata_der: bytes | None, crealm: str, cname: Name,
            ticket_der: bytes, enc_part_der: bytes) -> bytes:
    """AS-REP [APPLICATION 11] / TGS-REP [APPLICATION 13] (RFC 4120 §5.4.2)."""
    return app(tag, fields(
        (0, _PVNO), (1, integer(msg_type)), (2, padata_der), (3, general_string(crealm)),
        (4, principal_name(cname)), (5, ticket_der), (6, enc_part_der),
    ))
