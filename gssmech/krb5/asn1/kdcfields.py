"""The TGS-REQ as the KDC reads it (RFC 4120 §5.4.1): KDC-REQ with its padata and KDC-REQ-BODY
as frozen dataclasses, read like :mod:`gssmech.krb5.asn1.apfields` reads the AP messages.

A TGS request costs the embedded KDC ~250 us, of which the strict asn1crypto decode of the
TGS-REQ was a quarter.  :func:`read_tgs_req` reads the usual DER shape directly and falls
back to :func:`decode` + conversion for anything else, so acceptance and error messages are
decode()'s (tests/test_asn1_kdcfields.py compares both ways, on mutations too).
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core

from gssmech.krb5.asn1 import derread as r
from gssmech.krb5.asn1.apfields import (
    EncryptedPart,
    _encrypted,
    _encrypted_of,
    _ticket,
    fast_or_decode,
)
from gssmech.krb5.asn1.decode import inner_der
from gssmech.krb5.asn1.krb import KDCReqBody, TGSReq
from gssmech.krb5.asn1.numbers import PVNO, MessageType

#: (name-type, name-string) of a PrincipalName whose realm is another field
Name = tuple[int, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class KdcReqBodyFields:
    """``KDC-REQ-BODY ::= SEQUENCE { kdc-options [0] KDCOptions, cname [1] PrincipalName
    OPTIONAL, realm [2] Realm, sname [3] PrincipalName OPTIONAL, from [4] KerberosTime
    OPTIONAL, till [5] KerberosTime, rtime [6] KerberosTime OPTIONAL, nonce [7] UInt32, etype
    [8] SEQUENCE OF Int32, addresses [9] HostAddresses OPTIONAL, enc-authorization-data [10]
    EncryptedData OPTIONAL, additional-tickets [11] SEQUENCE OF Ticket OPTIONAL }``
    (RFC 4120 §5.4.1)."""

    #: the KDCOptions bit numbers that are set
    kdc_options: frozenset[int]
    cname: Name | None
    realm: str
    sname: Name | None
    from_: int | None
    till: int
    rtime: int | None
    #: modulo 2^32 (see base.KerberosNonce)
    nonce: int
    etype: tuple[int, ...]
    #: the HostAddresses DER as received
    addresses_der: bytes | None
    enc_authorization_data: EncryptedPart | None
    #: each Ticket's DER as received
    additional_tickets: tuple[bytes, ...] | None
    #: this KDC-REQ-BODY's DER as received: the authenticator checksum covers it (§7.2.2)
    der: bytes


@dataclass(frozen=True, slots=True)
class TgsReqFields:
    """``TGS-REQ ::= [APPLICATION 12] KDC-REQ``; ``KDC-REQ ::= SEQUENCE { pvno [1] INTEGER
    (5), msg-type [2] INTEGER (12), padata [3] SEQUENCE OF PA-DATA OPTIONAL, req-body [4]
    KDC-REQ-BODY }`` (RFC 4120 §5.4.1)."""

    #: (padata-type, padata-value) in order (RFC 4120 §5.2.7); empty if absent
    padata: tuple[tuple[int, bytes], ...]
    req_body: KdcReqBodyFields

    def find_padata(self, padata_type: int) -> bytes | None:
        """The value of the first PA-DATA of ``padata_type``."""
        for kind, value in self.padata:
            if kind == padata_type:
                return value
        return None


def read_tgs_req(data: bytes, *, what: str = "TGS-REQ") -> TgsReqFields:
    return fast_or_decode(_fast_tgs_req, TGSReq, _tgs_req_of, data, what)


# --- fast ----------------------------------------------------------------------------------

_OPTION_BITS: dict[int, frozenset[int]] = {}


def _bit_numbers(value: int) -> frozenset[int]:
    bits = _OPTION_BITS.get(value)
    if bits is None:
        bits = frozenset(n for n in range(32) if value & (1 << (31 - n)))
        if len(_OPTION_BITS) >= 256:  # option words repeat; a client cannot grow this
            _OPTION_BITS.clear()
        _OPTION_BITS[value] = bits
    return bits


def _name(d: bytes, pos: int, end: int, tag: int) -> tuple[Name, int]:
    start, stop = r.field(d, pos, end, tag, r.SEQUENCE)
    return r.principal_name(d, start, stop), stop


def _optional_time(d: bytes, pos: int, end: int, tag: int) -> tuple[int | None, int]:
    if r.present(d, pos, end, tag):
        return r.time_field(d, pos, end, tag)
    return None, pos


def _host_addresses(d: bytes, pos: int, stop: int) -> None:
    """Check ``HostAddresses`` contents (RFC 4120 §5.2.5); the caller keeps the DER."""
    while pos < stop:
        item, item_end = r.tlv(d, pos, stop, r.SEQUENCE)
        _addr_type, at = r.int_field(d, item, item_end, 0)
        _address, at = r.octets_field(d, at, item_end, 1)
        r.done(at, item_end)
        pos = item_end


def _body(d: bytes, der_start: int, start: int, end: int) -> KdcReqBodyFields:
    options, pos = r.flags_field(d, start, end, 0)
    cname = sname = None
    if r.present(d, pos, end, 1):
        cname, pos = _name(d, pos, end, 1)
    realm, pos = r.string_field(d, pos, end, 2)
    if r.present(d, pos, end, 3):
        sname, pos = _name(d, pos, end, 3)
    from_, pos = _optional_time(d, pos, end, 4)
    till, pos = r.time_field(d, pos, end, 5)
    rtime, pos = _optional_time(d, pos, end, 6)
    nonce, pos = r.int_field(d, pos, end, 7, r.NONCE)
    seq, pos = r.field(d, pos, end, 8, r.SEQUENCE)
    etypes = []
    while seq < pos:
        a, seq = r.tlv(d, seq, pos, r.INTEGER)
        etypes.append(r.integer(d, a, seq, r.INT32))
    addresses = enc_ad = tickets = None
    if r.present(d, pos, end, 9):
        header, seq, pos = r.element(d, pos, end, 9, r.SEQUENCE)
        _host_addresses(d, seq, pos)
        addresses = d[header:pos]
    if r.present(d, pos, end, 10):
        seq, pos = r.field(d, pos, end, 10, r.SEQUENCE)
        enc_ad = _encrypted(d, seq, pos)
    if r.present(d, pos, end, 11):
        seq, pos = r.field(d, pos, end, 11, r.SEQUENCE)
        found = []
        while seq < pos:
            a, b = r.tlv(d, seq, pos, 0x61)  # Ticket ::= [APPLICATION 1]
            _ticket(d, a, b)
            found.append(d[seq:b])
            seq = b
        tickets = tuple(found)
    r.done(pos, end)
    return KdcReqBodyFields(_bit_numbers(options), cname, realm, sname, from_, till, rtime,
                            nonce & 0xFFFFFFFF, tuple(etypes), addresses, enc_ad, tickets,
                            d[der_start:end])


def _fast_tgs_req(d: bytes) -> TgsReqFields:
    start, end = r.application(d, 12)
    pvno, pos = r.int_field(d, start, end, 1)
    msg_type, pos = r.int_field(d, pos, end, 2)
    if pvno != PVNO or msg_type != MessageType.KRB_TGS_REQ:
        raise r.NotFast
    padata = []
    if r.present(d, pos, end, 3):
        seq, pos = r.field(d, pos, end, 3, r.SEQUENCE)
        while seq < pos:
            item, item_end = r.tlv(d, seq, pos, r.SEQUENCE)
            kind, at = r.int_field(d, item, item_end, 1)  # PA-DATA's tags start at 1
            value, at = r.octets_field(d, at, item_end, 2)
            r.done(at, item_end)
            padata.append((kind, value))
            seq = item_end
    header, seq, pos = r.element(d, pos, end, 4, r.SEQUENCE)
    body = _body(d, header, seq, pos)
    r.done(pos, end)
    return TgsReqFields(tuple(padata), body)


# --- from a decode() tree ------------------------------------------------------------------


def _absent(value: core.Asn1Value) -> bool:
    return isinstance(value, core.Void)


def _name_of(value: core.Asn1Value) -> Name | None:
    if _absent(value):
        return None
    return int(value["name_type"]), tuple(value["name_string"].native)


def _time_of(value: core.Asn1Value) -> int | None:
    return None if _absent(value) else value.timestamp


def _body_of(body: KDCReqBody) -> KdcReqBodyFields:
    addresses, enc_ad, tickets = (body["addresses"], body["enc_authorization_data"],
                                  body["additional_tickets"])
    return KdcReqBodyFields(
        body["kdc_options"].bit_numbers(), _name_of(body["cname"]), body["realm"].native,
        _name_of(body["sname"]), _time_of(body["from"]), body["till"].timestamp,
        _time_of(body["rtime"]), body["nonce"].uint32, tuple(int(e) for e in body["etype"]),
        None if _absent(addresses) else inner_der(addresses),
        None if _absent(enc_ad) else _encrypted_of(enc_ad),
        None if _absent(tickets) else tuple(t.dump() for t in tickets),
        inner_der(body))


def _tgs_req_of(req: TGSReq) -> TgsReqFields:
    padata = req["padata"]
    pairs = () if _absent(padata) else tuple(
        (int(pa["padata_type"]), bytes(pa["padata_value"].native)) for pa in padata)
    return TgsReqFields(pairs, _body_of(req["req_body"]))


__all__ = ["KdcReqBodyFields", "Name", "TgsReqFields", "read_tgs_req"]
