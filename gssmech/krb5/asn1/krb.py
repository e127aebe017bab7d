"""RFC 4120 §5.3-§5.4 tickets and KDC exchange messages on asn1crypto.

[APPLICATION n] tags are explicit (RFC 4120 Appendix A is ``EXPLICIT TAGS``): ``AS-REQ ::=
[APPLICATION 10] KDC-REQ`` is a constructed [APPLICATION 10] wrapping the KDC-REQ SEQUENCE,
which asn1crypto expresses as ``explicit = (1, 10)`` on a subclass.
"""

from __future__ import annotations

from asn1crypto import core

from gssmech.errors import DecodeError
from gssmech.krb5.asn1.base import (
    AuthorizationData,
    EncryptedData,
    EncryptionKey,
    ETypeList,
    HostAddresses,
    Int32,
    KDCOptions,
    KerberosNonce,
    KerberosTime,
    LastReq,
    PrincipalName,
    Realm,
    TicketFlags,
    TransitedEncoding,
)
from gssmech.krb5.asn1.decode import decode, peek_tag
from gssmech.krb5.asn1.numbers import PVNO, MessageType
from gssmech.krb5.asn1.padata import MethodData

_APPLICATION = 1


class _Message(core.Sequence):
    """A message with ``pvno`` and ``msg-type``; strict decode checks both (RFC 4120 §5.1)."""

    _msg_types: tuple[int, ...] = ()

    def validate_strict(self) -> None:
        pvno = int(self["pvno"])
        if pvno != PVNO:
            raise DecodeError(f"pvno {pvno}, expected {PVNO}")
        msg_type = int(self["msg_type"])
        if self._msg_types and msg_type not in self._msg_types:
            raise DecodeError(f"msg-type {msg_type}, expected one of {list(self._msg_types)}")


class Ticket(core.Sequence):
    """``Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0] INTEGER (5), realm [1] Realm,
    sname [2] PrincipalName, enc-part [3] EncryptedData -- EncTicketPart }`` (RFC 4120 §5.3)."""

    explicit = (_APPLICATION, 1)
    _fields = [
        ("tkt_vno", Int32, {"explicit": 0}),
        ("realm", Realm, {"explicit": 1}),
        ("sname", PrincipalName, {"explicit": 2}),
        ("enc_part", EncryptedData, {"explicit": 3}),
    ]

    def validate_strict(self) -> None:
        if int(self["tkt_vno"]) != PVNO:
            raise DecodeError(f"tkt-vno {int(self['tkt_vno'])}, expected {PVNO}")


class Tickets(core.SequenceOf):
    """``SEQUENCE OF Ticket`` (additional-tickets, KRB-CRED tickets)."""

    _child_spec = Ticket


class EncTicketPart(core.Sequence):
    """``EncTicketPart ::= [APPLICATION 3] SEQUENCE { flags [0] TicketFlags, key [1]
    EncryptionKey, crealm [2] Realm, cname [3] PrincipalName, transited [4]
    TransitedEncoding, authtime [5] KerberosTime, starttime [6] KerberosTime OPTIONAL,
    endtime [7] KerberosTime, renew-till [8] KerberosTime OPTIONAL, caddr [9] HostAddresses
    OPTIONAL, authorization-data [10] AuthorizationData OPTIONAL }`` (RFC 4120 §5.3)."""

    explicit = (_APPLICATION, 3)
    _fields = [
        ("flags", TicketFlags, {"explicit": 0}),
        ("key", EncryptionKey, {"explicit": 1}),
        ("crealm", Realm, {"explicit": 2}),
        ("cname", PrincipalName, {"explicit": 3}),
        ("transited", TransitedEncoding, {"explicit": 4}),
        ("authtime", KerberosTime, {"explicit": 5}),
        ("starttime", KerberosTime, {"explicit": 6, "optional": True}),
        ("endtime", KerberosTime, {"explicit": 7}),
        ("renew_till", KerberosTime, {"explicit": 8, "optional": True}),
        ("caddr", HostAddresses, {"explicit": 9, "optional": True}),
        ("authorization_data", AuthorizationData, {"explicit": 10, "optional": True}),
    ]


class KDCReqBody(core.Sequence):
    """``KDC-REQ-BODY ::= SEQUENCE { kdc-options [0] KDCOptions, cname [1] PrincipalName
    OPTIONAL, realm [2] Realm, sname [3] PrincipalName OPTIONAL, from [4] KerberosTime
    OPTIONAL, till [5] KerberosTime, rtime [6] KerberosTime OPTIONAL, nonce [7] UInt32,
    etype [8] SEQUENCE OF Int32, addresses [9] HostAddresses OPTIONAL,
    enc-authorization-data [10] EncryptedData OPTIONAL, additional-tickets [11] SEQUENCE OF
    Ticket OPTIONAL }`` (RFC 4120 §5.4.1).

    NB(checksum): the TGS-REQ authenticator checksum and the PKINIT paChecksum cover the DER of
    this body *as sent*; take it with ``inner_der(req["req_body"])`` (``.dump()`` of the field
    would include its [4] tag).
    """

    _fields = [
        ("kdc_options", KDCOptions, {"explicit": 0}),
        ("cname", PrincipalName, {"explicit": 1, "optional": True}),
        ("realm", Realm, {"explicit": 2}),
        ("sname", PrincipalName, {"explicit": 3, "optional": True}),
        ("from", KerberosTime, {"explicit": 4, "optional": True}),
        ("till", KerberosTime, {"explicit": 5}),
        ("rtime", KerberosTime, {"explicit": 6, "optional": True}),
        ("nonce", KerberosNonce, {"explicit": 7}),
        ("etype", ETypeList, {"explicit": 8}),
        ("addresses", HostAddresses, {"explicit": 9, "optional": True}),
        ("enc_authorization_data", EncryptedData, {"explicit": 10, "optional": True}),
        ("additional_tickets", Tickets, {"explicit": 11, "optional": True}),
    ]


class KDCReq(_Message):
    """``KDC-REQ ::= SEQUENCE { pvno [1] INTEGER (5), msg-type [2] INTEGER (10 -- AS -- |
    12 -- TGS --), padata [3] SEQUENCE OF PA-DATA OPTIONAL, req-body [4] KDC-REQ-BODY }``
    (RFC 4120 §5.4.1).  Note the tags start at 1."""

    _msg_types = (MessageType.KRB_AS_REQ, MessageType.KRB_TGS_REQ)
    _fields = [
        ("pvno", Int32, {"explicit": 1}),
        ("msg_type", Int32, {"explicit": 2}),
        ("padata", MethodData, {"explicit": 3, "optional": True}),
        ("req_body", KDCReqBody, {"explicit": 4}),
    ]


class ASReq(KDCReq):
    """``AS-REQ ::= [APPLICATION 10] KDC-REQ`` (RFC 4120 §5.4.1)."""

    explicit = (_APPLICATION, 10)
    _msg_types = (MessageType.KRB_AS_REQ,)


class TGSReq(KDCReq):
    """``TGS-REQ ::= [APPLICATION 12] KDC-REQ`` (RFC 4120 §5.4.1)."""

    explicit = (_APPLICATION, 12)
    _msg_types = (MessageType.KRB_TGS_REQ,)


class KDCRep(_Message):
    """``KDC-REP ::= SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (11 | 13),
    padata [2] SEQUENCE OF PA-DATA OPTIONAL, crealm [3] Realm, cname [4] PrincipalName,
    ticket [5] Ticket, enc-part [6] EncryptedData -- EncASRepPart or EncTGSRepPart }``
    (RFC 4120 §5.4.2)."""

    _msg_types = (MessageType.KRB_AS_REP, MessageType.KRB_TGS_REP)
    _fields = [
        ("pvno", Int32, {"explicit": 0}),
        ("msg_type", Int32, {"explicit": 1}),
        ("padata", MethodData, {"explicit": 2, "optional": True}),
        ("crealm", Realm, {"explicit": 3}),
        ("cname", PrincipalName, {"explicit": 4}),
        ("ticket", Ticket, {"explicit": 5}),
        ("enc_part", EncryptedData, {"explicit": 6}),
    ]


class ASRep(KDCRep):
    """``AS-REP ::= [APPLICATION 11] KDC-REP`` (RFC 4120 §5.4.2)."""

    explicit = (_APPLICATION, 11)
    _msg_types = (MessageType.KRB_AS_REP,)


class TGSRep(KDCRep):
    """``TGS-REP ::= [APPLICATION 13] KDC-REP`` (RFC 4120 §5.4.2)."""

    explicit = (_APPLICATION, 13)
    _msg_types = (MessageType.KRB_TGS_REP,)


class EncKDCRepPart(core.Sequence):
    """``EncKDCRepPart ::= SEQUENCE { key [0] EncryptionKey, last-req [1] LastReq, nonce [2]
    UInt32, key-expiration [3] KerberosTime OPTIONAL, flags [4] TicketFlags, authtime [5]
    KerberosTime, starttime [6] KerberosTime OPTIONAL, endtime [7] KerberosTime, renew-till [8]
    KerberosTime OPTIONAL, srealm [9] Realm, sname [10] PrincipalName, caddr [11] HostAddresses
    OPTIONAL, encrypted-pa-data [12] SEQUENCE OF PA-DATA OPTIONAL }`` (RFC 4120 §5.4.2;
    [12] from RFC 6806 §11)."""

    _fields = [
        ("key", EncryptionKey, {"explicit": 0}),
        ("last_req", LastReq, {"explicit": 1}),
        ("nonce", KerberosNonce, {"explicit": 2}),
        ("key_expiration", KerberosTime, {"explicit": 3, "optional": True}),
        ("flags", TicketFlags, {"explicit": 4}),
        ("authtime", KerberosTime, {"explicit": 5}),
        ("starttime", KerberosTime, {"explicit": 6, "optional": True}),
        ("endtime", KerberosTime, {"explicit": 7}),
        ("renew_till", KerberosTime, {"explicit": 8, "optional": True}),
        ("srealm", Realm, {"explicit": 9}),
        ("sname", PrincipalName, {"explicit": 10}),
        ("caddr", HostAddresses, {"explicit": 11, "optional": True}),
        ("encrypted_pa_data", MethodData, {"explicit": 12, "optional": True}),
    ]


class EncASRepPart(EncKDCRepPart):
    """``EncASRepPart ::= [APPLICATION 25] EncKDCRepPart`` (RFC 4120 §5.4.2)."""

    explicit = (_APPLICATION, 25)


class EncTGSRepPart(EncKDCRepPart):
    """``EncTGSRepPart ::= [APPLICATION 26] EncKDCRepPart`` (RFC 4120 §5.4.2)."""

    explicit = (_APPLICATION, 26)


def decode_enc_kdc_rep_part(data: bytes) -> EncASRepPart | EncTGSRepPart:
    """Decode the plaintext of a KDC-REP enc-part as either application tag.

    NB(mit): RFC 4120 §5.4.2 says implementations SHOULD accept either; MIT's KDC encodes an
    EncTGSRepPart [26] even in AS replies, so a client must not insist on [25].
    """
    tag = peek_tag(data)
    if tag == (_APPLICATION, 1, 25):
        return decode(EncASRepPart, data, what="EncASRepPart")
    if tag == (_APPLICATION, 1, 26):
        return decode(EncTGSRepPart, data, what="EncTGSRepPart")
    raise DecodeError("not [APPLICATION 25] or [APPLICATION 26]", source="EncKDCRepPart")
