"""A minimal DER writer (X.690 §10) for the KDC's hot path: tickets and KDC-REPs.

asn1crypto builds values through several layers of objects, which costs the TGS more than
its cryptography; the reply structures of RFC 4120 §5.3/§5.4.2 are few and fixed, so they are
written here directly.  Every builder returns the complete TLV bytes.  The tests decode each
message strictly with the asn1crypto schema (gssmech.krb5.asn1), and MIT clients parse them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

_UTC = datetime.UTC


def length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + length(len(content)) + content


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


def integer(value: int) -> bytes:
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def general_string(text: str) -> bytes:
    return tlv(0x1B, text.encode("utf-8"))


def kerberos_time(seconds: int) -> bytes:
    """KerberosTime: GeneralizedTime YYYYMMDDHHMMSSZ (RFC 4120 §5.2.3)."""
    t = datetime.datetime.fromtimestamp(seconds, _UTC)
    return tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def flags32(value: int) -> bytes:
    """KerberosFlags as exactly 32 bits (RFC 4120 §5.2.8; MIT's encoding)."""
    return tlv(0x03, b"\x00" + value.to_bytes(4, "big"))


# --- RFC 4120 structures ---------------------------------------------------------------------

Name = tuple[int, Sequence[str]]


def principal_name(name: Name) -> bytes:
    return seq(ctx(0, integer(name[0])), ctx(1, seq_of(general_string(c) for c in name[1])))


def encryption_key(enctype: int, contents: bytes) -> bytes:
    return seq(ctx(0, integer(enctype)), ctx(1, octets(contents)))


def encrypted_data(etype: int, cipher: bytes, kvno: int | None = None) -> bytes:
    kv = ctx(1, integer(kvno)) if kvno is not None else b""
    return seq(ctx(0, integer(etype)), kv, ctx(2, octets(cipher)))


def transited(tr_type: int, contents: bytes) -> bytes:
    return seq(ctx(0, integer(tr_type)), ctx(1, octets(contents)))


def authorization_data(elements: Iterable[tuple[int, bytes]]) -> bytes:
    return seq_of(seq(ctx(0, integer(t)), ctx(1, octets(d))) for t, d in elements)


def method_data(items: Iterable[tuple[int, bytes]]) -> bytes:
    """METHOD-DATA / padata: PA-DATA ::= SEQUENCE { padata-type [1], padata-value [2] }."""
    return seq_of(seq(ctx(1, integer(t)), ctx(2, octets(v))) for t, v in items)


def last_req(entries: Iterable[tuple[int, int]]) -> bytes:
    return seq_of(seq(ctx(0, integer(t)), ctx(1, kerberos_time(v))) for t, v in entries)


def ticket(realm: str, sname: Name, enc_part: bytes) -> bytes:
    """Ticket ::= [APPLICATION 1] SEQUENCE {...} (RFC 4120 §5.3)."""
    return app(1, seq(ctx(0, integer(5)), ctx(1, general_string(realm)),
                      ctx(2, principal_name(sname)), ctx(3, enc_part)))


def _opt(n: int, value: bytes | None) -> bytes:
    return ctx(n, value) if value is not None else b""


def enc_ticket_part(*, flags: int, key: bytes, crealm: str, cname: Name, transited_der: bytes,
                    authtime: int, starttime: int | None, endtime: int,
                    renew_till: int | None, caddr_der: bytes | None = None,
                    authdata_der: bytes | None = None) -> bytes:
    """EncTicketPart ::= [APPLICATION 3] SEQUENCE {...} (RFC 4120 §5.3)."""
    return app(3, seq(
        ctx(0, flags32(flags)), ctx(1, key), ctx(2, general_string(crealm)),
        ctx(3, principal_name(cname)), ctx(4, transited_der), ctx(5, kerberos_time(authtime)),
        _opt(6, kerberos_time(starttime) if starttime is not None else None),
        ctx(7, kerberos_time(endtime)),
        _opt(8, kerberos_time(renew_till) if renew_till is not None else None),
        _opt(9, caddr_der), _opt(10, authdata_der),
    ))


def enc_kdc_rep_part(*, tag: int, key: bytes, last_req_der: bytes, nonce: int, flags: int,
                     authtime: int, starttime: int | None, endtime: int,
                     renew_till: int | None, srealm: str, sname: Name,
                     caddr_der: bytes | None = None) -> bytes:
    """EncASRepPart [APPLICATION 25] / EncTGSRepPart [APPLICATION 26] (RFC 4120 §5.4.2)."""
    return app(tag, seq(
        ctx(0, key), ctx(1, last_req_der), ctx(2, integer(nonce)), ctx(4, flags32(flags)),
        ctx(5, kerberos_time(authtime)),
        _opt(6, kerberos_time(starttime) if starttime is not None else None),
        ctx(7, kerberos_time(endtime)),
        _opt(8, kerberos_time(renew_till) if renew_till is not None else None),
        ctx(9, general_string(srealm)), ctx(10, principal_name(sname)), _opt(11, caddr_der),
    ))


def kdc_rep(*, tag: int, msg_type: int, padata_der: bytes | None, crealm: str, cname: Name,
            ticket_der: bytes, enc_part_der: bytes) -> bytes:
    """AS-REP [APPLICATION 11] / TGS-REP [APPLICATION 13] (RFC 4120 §5.4.2)."""
    return app(tag, seq(
        ctx(0, integer(5)), ctx(1, integer(msg_type)), _opt(2, padata_der),
        ctx(3, general_string(crealm)), ctx(4, principal_name(cname)), ctx(5, ticket_der),
        ctx(6, enc_part_der),
    ))
