"""The messages a GSS context sends: AP-REQ, Authenticator (RFC 4120 §5.5.1), AP-REP and
EncAPRepPart (§5.5.2), written directly with the shared DER writer
(:mod:`gssmech.krb5.asn1.derwrite`).

Each builder returns complete TLV bytes equal to what the asn1crypto schema in
:mod:`gssmech.krb5.asn1` dumps for the same values (tests/test_gss_der.py checks that, and that
the strict decoder reads them back).  Only encoding lives here: what is received is read by
:mod:`gssmech.krb5.asn1.apfields` (or strictly decoded).
"""

from __future__ import annotations

import functools

from gssmech.krb5.asn1.derwrite import (
    app,
    ctx,
    encrypted_data,
    encryption_key,
    integer,
    kerberos_flags,
    kerberos_string,
    kerberos_time,
    octets,
    principal_name,
    seq,
)
from gssmech.krb5.principal import Principal

#: RFC 4120 §5.5.1 AP-REQ/Authenticator and §5.5.2 AP-REP/EncAPRepPart application numbers.
_APP_AUTHENTICATOR = 2
_APP_AP_REQ = 14
_APP_AP_REP = 15
_APP_ENC_AP_REP_PART = 27
PVNO = 5
KRB_AP_REQ = 14
KRB_AP_REP = 15
#: ``mutual-required`` is bit 2 of APOptions (RFC 4120 §5.5.1), MIT's AP_OPTS_MUTUAL_REQUIRED.
AP_OPTS_MUTUAL_REQUIRED = 0x20000000


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
    return app(_APP_AUTHENTICATOR, body)


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
    return app(_APP_AP_REQ, body)


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
    return app(_APP_ENC_AP_REP_PART, body)


def ap_rep(etype: int, cipher: bytes) -> bytes:
    """AP-REP ::= [APPLICATION 15] SEQUENCE { pvno [0], msg-type [1], enc-part [2] }
    (RFC 4120 §5.5.2)."""
    return app(_APP_AP_REP, seq(_AP_REP_HEAD, ctx(2, encrypted_data(etype, cipher))))
