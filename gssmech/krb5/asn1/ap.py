"""RFC 4120 §5.5, §5.8, §5.9 messages: AP-REQ, Authenticator, AP-REP, EncAPRepPart, KRB-CRED,
EncKrbCredPart, KrbCredInfo, KRB-ERROR.
"""

from __future__ import annotations

from asn1crypto import core

from gssmech.errors import DecodeError
from gssmech.krb5.asn1.base import (
    APOptions,
    AuthorizationData,
    Checksum,
    EncryptedData,
    EncryptionKey,
    HostAddress,
    HostAddresses,
    Int32,
    KerberosNonce,
    KerberosString,
    KerberosTime,
    Microseconds,
    PrincipalName,
    Realm,
    TicketFlags,
)
from gssmech.krb5.asn1.krb import Ticket, Tickets, _Message
from gssmech.krb5.asn1.numbers import PVNO, MessageType
from gssmech.krb5.asn1.padata import MethodData, TypedDataList, decode_e_data

_APPLICATION = 1


class APReq(_Message):
    """``AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (14),
    ap-options [2] APOptions, ticket [3] Ticket, authenticator [4] EncryptedData --
    Authenticator }`` (RFC 4120 §5.5.1).  Also the padata-value of PA-TGS-REQ (§5.4.1)."""

    explicit = (_APPLICATION, 14)
    _msg_types = (MessageType.KRB_AP_REQ,)
    _fields = [
        ("pvno", Int32, {"explicit": 0}),
        ("msg_type", Int32, {"explicit": 1}),
        ("ap_options", APOptions, {"explicit": 2}),
        ("ticket", Ticket, {"explicit": 3}),
        ("authenticator", EncryptedData, {"explicit": 4}),
    ]


class PATGSReq(APReq):
    """``padata-value`` of PA-TGS-REQ (1): the DER of an AP-REQ (RFC 4120 §5.4.1)."""


class Authenticator(core.Sequence):
    """``Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0] INTEGER (5),
    crealm [1] Realm, cname [2] PrincipalName, cksum [3] Checksum OPTIONAL, cusec [4]
    Microseconds, ctime [5] KerberosTime, subkey [6] EncryptionKey OPTIONAL, seq-number [7]
    UInt32 OPTIONAL, authorization-data [8] AuthorizationData OPTIONAL }`` (RFC 4120 §5.5.1)."""

    explicit = (_APPLICATION, 2)
    _fields = [
        ("authenticator_vno", Int32, {"explicit": 0}),
        ("crealm", Realm, {"explicit": 1}),
        ("cname", PrincipalName, {"explicit": 2}),
        ("cksum", Checksum, {"explicit": 3, "optional": True}),
        ("cusec", Microseconds, {"explicit": 4}),
        ("ctime", KerberosTime, {"explicit": 5}),
        ("subkey", EncryptionKey, {"explicit": 6, "optional": True}),
        ("seq_number", KerberosNonce, {"explicit": 7, "optional": True}),
        ("authorization_data", AuthorizationData, {"explicit": 8, "optional": True}),
    ]

    def validate_strict(self) -> None:
        if int(self["authenticator_vno"]) != PVNO:
            raise DecodeError(f"authenticator-vno {int(self['authenticator_vno'])}")


class APRep(_Message):
    """``AP-REP ::= [APPLICATION 15] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (15),
    enc-part [2] EncryptedData -- EncAPRepPart }`` (RFC 4120 §5.5.2)."""

    explicit = (_APPLICATION, 15)
    _msg_types = (MessageType.KRB_AP_REP,)
    _fields = [
        ("pvno", Int32, {"explicit": 0}),
        ("msg_type", Int32, {"explicit": 1}),
        ("enc_part", EncryptedData, {"explicit": 2}),
    ]


class EncAPRepPart(core.Sequence):
    """``EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime [0] KerberosTime, cusec [1]
    Microseconds, subkey [2] EncryptionKey OPTIONAL, seq-number [3] UInt32 OPTIONAL }``
    (RFC 4120 §5.5.2)."""

    explicit = (_APPLICATION, 27)
    _fields = [
        ("ctime", KerberosTime, {"explicit": 0}),
        ("cusec", Microseconds, {"explicit": 1}),
        ("subkey", EncryptionKey, {"explicit": 2, "optional": True}),
        ("seq_number", KerberosNonce, {"explicit": 3, "optional": True}),
    ]


class KrbCredInfo(core.Sequence):
    """``KrbCredInfo ::= SEQUENCE { key [0] EncryptionKey, prealm [1] Realm OPTIONAL, pname [2]
    PrincipalName OPTIONAL, flags [3] TicketFlags OPTIONAL, authtime [4] KerberosTime OPTIONAL,
    starttime [5] ..., endtime [6] ..., renew-till [7] KerberosTime OPTIONAL, srealm [8] Realm
    OPTIONAL, sname [9] PrincipalName OPTIONAL, caddr [10] HostAddresses OPTIONAL }``
    (RFC 4120 §5.8.1)."""

    _fields = [
        ("key", EncryptionKey, {"explicit": 0}),
        ("prealm", Realm, {"explicit": 1, "optional": True}),
        ("pname", PrincipalName, {"explicit": 2, "optional": True}),
        ("flags", TicketFlags, {"explicit": 3, "optional": True}),
        ("authtime", KerberosTime, {"explicit": 4, "optional": True}),
        ("starttime", KerberosTime, {"explicit": 5, "optional": True}),
        ("endtime", KerberosTime, {"explicit": 6, "optional": True}),
        ("renew_till", KerberosTime, {"explicit": 7, "optional": True}),
        ("srealm", Realm, {"explicit": 8, "optional": True}),
        ("sname", PrincipalName, {"explicit": 9, "optional": True}),
        ("caddr", HostAddresses, {"explicit": 10, "optional": True}),
    ]


class KrbCredInfos(core.SequenceOf):
    _child_spec = KrbCredInfo


class KRBCred(_Message):
    """``KRB-CRED ::= [APPLICATION 22] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER
    (22), tickets [2] SEQUENCE OF Ticket, enc-part [3] EncryptedData -- EncKrbCredPart }``
    (RFC 4120 §5.8.1)."""

    explicit = (_APPLICATION, 22)
    _msg_types = (MessageType.KRB_CRED,)
    _fields = [
        ("pvno", Int32, {"explicit": 0}),
        ("msg_type", Int32, {"explicit": 1}),
        ("tickets", Tickets, {"explicit": 2}),
        ("enc_part", EncryptedData, {"explicit": 3}),
    ]


class EncKrbCredPart(core.Sequence):
    """``EncKrbCredPart ::= [APPLICATION 29] SEQUENCE { ticket-info [0] SEQUENCE OF
    KrbCredInfo, nonce [1] UInt32 OPTIONAL, timestamp [2] KerberosTime OPTIONAL, usec [3]
    Microseconds OPTIONAL, s-address [4] HostAddress OPTIONAL, r-address [5] HostAddress
    OPTIONAL }`` (RFC 4120 §5.8.1)."""

    explicit = (_APPLICATION, 29)
    _fields = [
        ("ticket_info", KrbCredInfos, {"explicit": 0}),
        ("nonce", KerberosNonce, {"explicit": 1, "optional": True}),
        ("timestamp", KerberosTime, {"explicit": 2, "optional": True}),
        ("usec", Microseconds, {"explicit": 3, "optional": True}),
        ("s_address", HostAddress, {"explicit": 4, "optional": True}),
        ("r_address", HostAddress, {"explicit": 5, "optional": True}),
    ]


class KRBError(_Message):
    """``KRB-ERROR ::= [APPLICATION 30] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER
    (30), ctime [2] KerberosTime OPTIONAL, cusec [3] Microseconds OPTIONAL, stime [4]
    KerberosTime, susec [5] Microseconds, error-code [6] Int32, crealm [7] Realm OPTIONAL,
    cname [8] PrincipalName OPTIONAL, realm [9] Realm -- service realm --, sname [10]
    PrincipalName -- service name --, e-text [11] KerberosString OPTIONAL, e-data [12] OCTET
    STRING OPTIONAL }`` (RFC 4120 §5.9.1)."""

    explicit = (_APPLICATION, 30)
    _msg_types = (MessageType.KRB_ERROR,)
    _fields = [
        ("pvno", Int32, {"explicit": 0}),
        ("msg_type", Int32, {"explicit": 1}),
        ("ctime", KerberosTime, {"explicit": 2, "optional": True}),
        ("cusec", Microseconds, {"explicit": 3, "optional": True}),
        ("stime", KerberosTime, {"explicit": 4}),
        ("susec", Microseconds, {"explicit": 5}),
        ("error_code", Int32, {"explicit": 6}),
        ("crealm", Realm, {"explicit": 7, "optional": True}),
        ("cname", PrincipalName, {"explicit": 8, "optional": True}),
        ("realm", Realm, {"explicit": 9}),
        ("sname", PrincipalName, {"explicit": 10}),
        ("e_text", KerberosString, {"explicit": 11, "optional": True}),
        ("e_data", core.OctetString, {"explicit": 12, "optional": True}),
    ]

    @property
    def e_data_bytes(self) -> bytes | None:
        value = self["e_data"]
        return None if isinstance(value, core.Void) else bytes(value.native)

    def decoded_e_data(self) -> MethodData | TypedDataList | None:
        """e-data as METHOD-DATA or TYPED-DATA (see padata.decode_e_data); None if absent."""
        raw = self.e_data_bytes
        return None if raw is None else decode_e_data(raw)
