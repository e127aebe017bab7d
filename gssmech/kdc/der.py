"""The KDC's hot-path messages, tickets and KDC-REPs (RFC 4120 §5.3, §5.4.2), written
directly with the shared DER writer (:mod:`gssmech.krb5.asn1.derwrite`).

Every builder returns the complete TLV bytes.  The tests decode each message strictly with the
asn1crypto schema (gssmech.krb5.asn1), and MIT clients parse them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gssmech.krb5.asn1.derwrite import (
    app,
    fields,
    integer,
    kerberos_flags,
    kerberos_string,
    kerberos_time,
    octets,
    principal_name,
    seq_of,
)

# --- RFC 4120 structures ---------------------------------------------------------------------

Name = tuple[int, Sequence[str]]


def _name(n: Name) -> bytes:
    """PrincipalName from the ``(name-type, components)`` pair the KDC carries around."""
    return principal_name(n[0], n[1])


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
    return app(1, fields((0, _PVNO), (1, kerberos_string(realm)), (2, _name(sname)),
                         (3, enc_part)))


def _time(seconds: int | None) -> bytes | None:
    return kerberos_time(seconds) if seconds is not None else None


def enc_ticket_part(*, flags: int, key: bytes, crealm: str, cname: Name, transited_der: bytes,
                    authtime: int, starttime: int | None, endtime: int,
                    renew_till: int | None, caddr_der: bytes | None = None,
                    authdata_der: bytes | None = None) -> bytes:
    """EncTicketPart ::= [APPLICATION 3] SEQUENCE {...} (RFC 4120 §5.3)."""
    return app(3, fields(
        (0, kerberos_flags(flags)), (1, key), (2, kerberos_string(crealm)), (3, _name(cname)),
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
        (0, key), (1, last_req_der), (2, integer(nonce)), (4, kerberos_flags(flags)),
        (5, kerberos_time(authtime)), (6, _time(starttime)), (7, kerberos_time(endtime)),
        (8, _time(renew_till)), (9, kerberos_string(srealm)), (10, _name(sname)),
        (11, caddr_der),
    ))


def kdc_rep(*, tag: int, msg_type: int, padata_der: bytes | None, crealm: str, cname: Name,
            ticket_der: bytes, enc_part_der: bytes) -> bytes:
    """AS-REP [APPLICATION 11] / TGS-REP [APPLICATION 13] (RFC 4120 §5.4.2)."""
    return app(tag, fields(
        (0, _PVNO), (1, integer(msg_type)), (2, padata_der), (3, kerberos_string(crealm)),
        (4, _name(cname)), (5, ticket_der), (6, enc_part_der),
    ))
