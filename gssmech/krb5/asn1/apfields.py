"""The AP exchange as read on the hot paths: AP-REQ (with its Ticket), Authenticator, AP-REP and
EncAPRepPart (RFC 4120 §5.3, §5.5) as frozen dataclasses of the fields their readers use.

Every GSS context and every TGS request reads these from untrusted bytes, and building
asn1crypto trees for them was the larger part of a context's cost.  Each ``read_*`` function
reads the common DER shape directly (:mod:`gssmech.krb5.asn1.derread`); on any other input it
falls back to the strict :func:`decode` with the asn1crypto class and converts that tree, so
what is accepted, and every error message, is decode()'s.  tests/test_asn1_apfields.py
checks that both ways give equal results and that mutated messages never pass the fast way
alone.

Names come out as :class:`~gssmech.krb5.principal.Principal` (the PrincipalName with the
Realm that travels next to it), times as POSIX seconds, flags as MIT's 32-bit integer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from asn1crypto import core

from gssmech.krb5.asn1 import derread as r
from gssmech.krb5.asn1.ap import APRep, APReq, Authenticator, EncAPRepPart
from gssmech.krb5.asn1.base import EncryptedData, EncryptionKey, KerberosNonce
from gssmech.krb5.asn1.decode import decode
from gssmech.krb5.asn1.names import to_principal
from gssmech.krb5.asn1.numbers import PVNO, MessageType
from gssmech.krb5.principal import Principal

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EncryptedPart:
    """``EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2]
    OCTET STRING }`` (RFC 4120 §5.2.9)."""

    etype: int
    kvno: int | None
    cipher: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class KeyFields:
    """``EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING }``
    (RFC 4120 §5.2.9)."""

    keytype: int
    keyvalue: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ChecksumFields:
    """``Checksum ::= SEQUENCE { cksumtype [0] Int32, checksum [1] OCTET STRING }``
    (RFC 4120 §5.2.9)."""

    cksumtype: int
    checksum: bytes


@dataclass(frozen=True, slots=True)
class TicketFields:
    """``Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0] INTEGER (5), realm [1] Realm, sname
    [2] PrincipalName, enc-part [3] EncryptedData }`` (RFC 4120 §5.3)."""

    #: sname @ realm
    server: Principal
    enc_part: EncryptedPart


@dataclass(frozen=True, slots=True)
class ApReqFields:
    """``AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (14),
    ap-options [2] APOptions, ticket [3] Ticket, authenticator [4] EncryptedData }``
    (RFC 4120 §5.5.1)."""

    #: APOptions as MIT's 32-bit integer (AP_OPTS_*)
    ap_options: int
    ticket: TicketFields
    authenticator: EncryptedPart


@dataclass(frozen=True, slots=True)
class AuthenticatorFields:
    """``Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0] INTEGER (5), crealm
    [1] Realm, cname [2] PrincipalName, cksum [3] Checksum OPTIONAL, cusec [4] Microseconds,
    ctime [5] KerberosTime, subkey [6] EncryptionKey OPTIONAL, seq-number [7] UInt32 OPTIONAL,
    authorization-data [8] AuthorizationData OPTIONAL }`` (RFC 4120 §5.5.1)."""

    #: cname @ crealm
    client: Principal
    cksum: ChecksumFields | None
    cusec: int
    ctime: int
    subkey: KeyFields | None
    #: modulo 2^32 (RFC 1510 senders may encode it negative; see base.KerberosNonce)
    seq_number: int | None
    #: (ad-type, ad-data) pairs
    authorization_data: tuple[tuple[int, bytes], ...] | None


@dataclass(frozen=True, slots=True)
class ApRepFields:
    """``AP-REP ::= [APPLICATION 15] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER
    (15), enc-part [2] EncryptedData }`` (RFC 4120 §5.5.2)."""

    enc_part: EncryptedPart


@dataclass(frozen=True, slots=True)
class EncApRepPartFields:
    """``EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime [0] KerberosTime, cusec [1]
    Microseconds, subkey [2] EncryptionKey OPTIONAL, seq-number [3] UInt32 OPTIONAL }``
    (RFC 4120 §5.5.2)."""

    ctime: int
    cusec: int
    subkey: KeyFields | None
    #: modulo 2^32, as in the Authenticator
    seq_number: int | None


# --- the readers: fast DER first, decode() for everything else ----------------------------


def fast_or_decode(fast: Callable[[bytes], T], cls: type[core.Asn1Value],
                   convert: Callable[[Any], T], data: bytes, what: str) -> T:
    """``fast(data)`` if it reads the bytes, else ``convert(decode(cls, data))``: decode()
    accepts or rejects, with its own message, whatever the fast reader does not take."""
    if type(data) is bytes:
        try:
            return fast(data)
        except Exception:  # NotFast, or a ValueError from text/time: decode() decides
            pass
    return convert(decode(cls, data, what=what))


def read_ap_req(data: bytes, *, what: str = "AP-REQ") -> ApReqFields:
    return fast_or_decode(_fast_ap_req, APReq, _ap_req_of, data, what)


def read_authenticator(data: bytes, *, what: str = "Authenticator") -> AuthenticatorFields:
    return fast_or_decode(_fast_authenticator, Authenticator, _authenticator_of, data, what)


def read_ap_rep(data: bytes, *, what: str = "AP-REP") -> ApRepFields:
    return fast_or_decode(_fast_ap_rep, APRep, _ap_rep_of, data, what)


def read_enc_ap_rep_part(data: bytes, *, what: str = "EncAPRepPart") -> EncApRepPartFields:
    return fast_or_decode(_fast_enc_ap_rep_part, EncAPRepPart, _enc_ap_rep_part_of, data, what)


# --- fast: the DER shapes senders use ------------------------------------------------------


def _header(d: bytes, start: int, stop: int, msg_type: int) -> int:
    """pvno [0] and msg-type [1] of a message (RFC 4120 §5.1); position after them."""
    pvno, pos = r.int_field(d, start, stop, 0)
    got, pos = r.int_field(d, pos, stop, 1)
    if pvno != PVNO or got != msg_type:
        raise r.NotFast
    return pos


def _encrypted(d: bytes, start: int, stop: int) -> EncryptedPart:
    etype, pos = r.int_field(d, start, stop, 0)
    kvno = None
    if r.present(d, pos, stop, 1):
        kvno, pos = r.int_field(d, pos, stop, 1, r.UINT32)
    cipher, pos = r.octets_field(d, pos, stop, 2)
    r.done(pos, stop)
    return EncryptedPart(etype, kvno, cipher)


def _key(d: bytes, start: int, stop: int) -> KeyFields:
    keytype, pos = r.int_field(d, start, stop, 0)
    keyvalue, pos = r.octets_field(d, pos, stop, 1)
    r.done(pos, stop)
    return KeyFields(keytype, keyvalue)


def _subkey_and_seq(d: bytes, pos: int, end: int, tag: int
                    ) -> tuple[KeyFields | None, int | None, int]:
    """The optional ``subkey [tag] EncryptionKey`` and ``seq-number [tag + 1] UInt32`` that
    end both the Authenticator and the EncAPRepPart; the sequence number modulo 2^32."""
    subkey = seq = None
    if r.present(d, pos, end, tag):
        key, pos = r.field(d, pos, end, tag, r.SEQUENCE)
        subkey = _key(d, key, pos)
    if r.present(d, pos, end, tag + 1):
        seq, pos = r.int_field(d, pos, end, tag + 1, r.NONCE)
        seq &= 0xFFFFFFFF
    return subkey, seq, pos


def _vno_realm_name(d: bytes, pos: int, end: int) -> tuple[Principal, int]:
    """``tkt-vno``/``authenticator-vno [0] INTEGER (5)``, a Realm [1] and a PrincipalName [2]:
    how both the Ticket and the Authenticator begin."""
    vno, pos = r.int_field(d, pos, end, 0)
    if vno != PVNO:
        raise r.NotFast
    realm, pos = r.string_field(d, pos, end, 1)
    name, pos = r.field(d, pos, end, 2, r.SEQUENCE)
    name_type, names = r.principal_name(d, name, pos)
    return Principal(name_type, names, realm), pos


def _ticket(d: bytes, start: int, stop: int) -> TicketFields:
    """The contents of Ticket's [APPLICATION 1]."""
    seq, end = r.tlv(d, start, stop, r.SEQUENCE)
    r.done(end, stop)
    server, pos = _vno_realm_name(d, seq, end)
    enc, pos = r.field(d, pos, end, 3, r.SEQUENCE)
    enc_part = _encrypted(d, enc, pos)
    r.done(pos, end)
    return TicketFields(server, enc_part)


def _fast_ap_req(d: bytes) -> ApReqFields:
    start, end = r.application(d, 14)
    pos = _header(d, start, end, MessageType.KRB_AP_REQ)
    options, pos = r.flags_field(d, pos, end, 2)
    tkt, pos = r.field(d, pos, end, 3, 0x61)  # [APPLICATION 1]
    ticket = _ticket(d, tkt, pos)
    enc, pos = r.field(d, pos, end, 4, r.SEQUENCE)
    authenticator = _encrypted(d, enc, pos)
    r.done(pos, end)
    return ApReqFields(options, ticket, authenticator)


def _fast_authenticator(d: bytes) -> AuthenticatorFields:
    start, end = r.application(d, 2)
    client, pos = _vno_realm_name(d, start, end)
    cksum = None
    if r.present(d, pos, end, 3):
        ck, ck_end = r.field(d, pos, end, 3, r.SEQUENCE)
        cksumtype, pos = r.int_field(d, ck, ck_end, 0)
        checksum, pos = r.octets_field(d, pos, ck_end, 1)
        r.done(pos, ck_end)
        cksum = ChecksumFields(cksumtype, checksum)
    cusec, pos = r.int_field(d, pos, end, 4, r.MICROSECONDS)
    ctime, pos = r.time_field(d, pos, end, 5)
    subkey, seq, pos = _subkey_and_seq(d, pos, end, 6)
    authz = None
    if r.present(d, pos, end, 8):
        items, pos = r.field(d, pos, end, 8, r.SEQUENCE)
        authz = _authorization_data(d, items, pos)
    r.done(pos, end)
    return AuthenticatorFields(client, cksum, cusec, ctime, subkey, seq, authz)


def _authorization_data(d: bytes, pos: int, stop: int) -> tuple[tuple[int, bytes], ...]:
    """``AuthorizationData`` contents (RFC 4120 §5.2.6)."""
    out = []
    while pos < stop:
        item, item_end = r.tlv(d, pos, stop, r.SEQUENCE)
        ad_type, at = r.int_field(d, item, item_end, 0)
        ad_data, at = r.octets_field(d, at, item_end, 1)
        r.done(at, item_end)
        out.append((ad_type, ad_data))
        pos = item_end
    return tuple(out)


def _fast_ap_rep(d: bytes) -> ApRepFields:
    start, end = r.application(d, 15)
    pos = _header(d, start, end, MessageType.KRB_AP_REP)
    enc, pos = r.field(d, pos, end, 2, r.SEQUENCE)
    enc_part = _encrypted(d, enc, pos)
    r.done(pos, end)
    return ApRepFields(enc_part)


def _fast_enc_ap_rep_part(d: bytes) -> EncApRepPartFields:
    start, end = r.application(d, 27)
    ctime, pos = r.time_field(d, start, end, 0)
    cusec, pos = r.int_field(d, pos, end, 1, r.MICROSECONDS)
    subkey, seq, pos = _subkey_and_seq(d, pos, end, 2)
    r.done(pos, end)
    return EncApRepPartFields(ctime, cusec, subkey, seq)


# --- from a decode() tree: every other encoding decode() accepts ----------------------------


def _absent(value: core.Asn1Value) -> bool:
    return isinstance(value, core.Void)


def _encrypted_of(v: EncryptedData) -> EncryptedPart:
    return EncryptedPart(int(v["etype"]), v["kvno"].native, bytes(v["cipher"].native))


def _key_of(v: EncryptionKey) -> KeyFields | None:
    return None if _absent(v) else KeyFields(int(v["keytype"]), bytes(v["keyvalue"].native))


def _seq_of(v: KerberosNonce) -> int | None:
    return None if _absent(v) else v.uint32


def _ap_req_of(req: APReq) -> ApReqFields:
    ticket = req["ticket"]
    return ApReqFields(
        req["ap_options"].to_int(),
        TicketFields(to_principal(ticket["sname"], ticket["realm"]),
                     _encrypted_of(ticket["enc_part"])),
        _encrypted_of(req["authenticator"]),
    )


def _authenticator_of(auth: Authenticator) -> AuthenticatorFields:
    ck = auth["cksum"]
    authz = auth["authorization_data"]
    return AuthenticatorFields(
        to_principal(auth["cname"], auth["crealm"]),
        None if _absent(ck) else ChecksumFields(int(ck["cksumtype"]),
                                                bytes(ck["checksum"].native)),
        int(auth["cusec"]),
        auth["ctime"].timestamp,
        _key_of(auth["subkey"]),
        _seq_of(auth["seq_number"]),
        None if _absent(authz) else tuple(
            (int(el["ad_type"]), bytes(el["ad_data"].native)) for el in authz),
    )


def _ap_rep_of(rep: APRep) -> ApRepFields:
    return ApRepFields(_encrypted_of(rep["enc_part"]))


def _enc_ap_rep_part_of(part: EncAPRepPart) -> EncApRepPartFields:
    return EncApRepPartFields(part["ctime"].timestamp, int(part["cusec"]),
                              _key_of(part["subkey"]), _seq_of(part["seq_number"]))


__all__ = [
    "ApRepFields",
    "ApReqFields",
    "AuthenticatorFields",
    "ChecksumFields",
    "EncApRepPartFields",
    "EncryptedPart",
    "KeyFields",
    "TicketFields",
    "fast_or_decode",
    "read_ap_rep",
    "read_ap_req",
    "read_authenticator",
    "read_enc_ap_rep_part",
]
