"""Pieces shared by the AS and TGS exchanges: KRB-ERROR, enctype choice, ticket times and
flags, sealing tickets and replies (RFC 4120 §3.1.3, §3.3.3, §5.3, §5.4.2, §5.9.1)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from asn1crypto import core

from gssmech.kdc import der
from gssmech.kdc.db import KeyEntry
from gssmech.kdc.errors import KDCError
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    ErrorCode,
    KDCOptions,
    KDCReqBody,
    PrincipalName,
    TicketFlags,
    derwrite,
)
from gssmech.krb5.constants import NameType, flag_bit
from gssmech.krb5.crypto import PROFILES

RandomBytes = Callable[[int], bytes]

#: KerberosTime "19700101000000Z" in ``till``/``rtime`` means "as long as allowed"
#: (RFC 4120 §5.4.1: a till of 0 asks for the maximum).
_INFINITE = 0
_POSTDATED, _ALLOW_POSTDATE, _RENEWABLE, _RENEWABLE_OK = (
    KDCOptions._bit_number(n) for n in ("postdated", "allow-postdate", "renewable", "renewable-ok"))


def krb_error(
    code: int, *, now: float, realm: str, sname: der.Name | None = None, e_text: str = "",
    e_data: bytes | None = None,
) -> bytes:
    """A KRB-ERROR (RFC 4120 §5.9.1; :func:`derwrite.krb_error`).  ``sname`` defaults to
    krbtgt/realm."""
    return derwrite.krb_error(
        error_code=int(code), stime=int(now), susec=int((now % 1) * 1_000_000), realm=realm,
        sname=sname if sname is not None else (NameType.SRV_INST, ("krbtgt", realm)),
        e_text=e_text, e_data=e_data,
    )


def requested_etypes(body: KDCReqBody) -> list[int]:
    return [int(e) for e in body["etype"]]


def choose_enctype(requested: Sequence[int], available: Iterable[int]) -> int:
    """The first requested enctype that we implement and ``available`` contains (RFC 4120
    §3.1.3: the client lists them in preference order); KDC_ERR_ETYPE_NOSUPP otherwise."""
    have = set(available)
    for etype in requested:
        if etype in PROFILES and etype in have:
            return etype
    raise KDCError(ErrorCode.KDC_ERR_ETYPE_NOSUPP, "no requested encryption type is usable")


@dataclass(frozen=True, slots=True)
class Times:
    authtime: int
    starttime: int
    endtime: int
    renew_till: int | None


def _time_of(body: KDCReqBody, field: str) -> int | None:
    value = body[field]
    if isinstance(value, core.Void):
        return None
    return value.timestamp


def requested_times(body: KDCReqBody) -> tuple[int | None, int | None]:
    """(till, rtime) of a decoded KDC-REQ-BODY as POSIX seconds (absent: None)."""
    return _time_of(body, "till"), _time_of(body, "rtime")


def ticket_times(
    till: int | None, rtime: int | None, *, options: frozenset[int], now: int, max_life: int,
    max_renew: int, authtime: int | None = None, end_cap: int | None = None,
    renew_cap: int | None = None,
) -> Times:
    """Start, end and renew-till of a new ticket (RFC 4120 §3.1.3 / §3.3.3) from the request's
    ``till``/``rtime`` and KDCOptions bit numbers.

    ``end_cap``/``renew_cap`` bound them by the TGT's in a TGS exchange.
    """
    if _POSTDATED in options or _ALLOW_POSTDATE in options:
        raise KDCError(ErrorCode.KDC_ERR_CANNOT_POSTDATE, "postdated tickets are not issued")
    start = now
    if till is None or till == _INFINITE:
        till = 2**31 - 1
    end = min(till, start + max_life, *([end_cap] if end_cap is not None else []))
    if end <= start:
        raise KDCError(ErrorCode.KDC_ERR_NEVER_VALID, "requested end time is in the past")
    if rtime == _INFINITE:
        rtime = 2**31 - 1
    renew_till: int | None = None
    if _RENEWABLE_OK in options and _RENEWABLE not in options and till > end:
        rtime = till  # RFC 4120 §3.1.3: renewable-ok turns a long till into a renewable ticket
        options_renewable = True
    else:
        options_renewable = _RENEWABLE in options
    if options_renewable and max_renew > 0:
        limit = start + max_renew
        if renew_cap is not None:
            limit = min(limit, renew_cap)
        renew_till = min(rtime if rtime is not None else till, limit)
        if renew_till <= end:
            renew_till = None
    return Times(authtime if authtime is not None else now, start, end, renew_till)


def flag_bits(*names: str | int) -> set[int]:
    return {TicketFlags._bit_number(n) for n in names}


def name_of(name: PrincipalName) -> der.Name:
    """(name-type, components) of a decoded PrincipalName, for the DER writer."""
    return int(name["name_type"]), tuple(name["name_string"].native)


def flags_value(bits: set[int]) -> int:
    """MIT's 32-bit flags value of a set of RFC 4120 bit numbers."""
    value = 0
    for n in bits:
        value |= flag_bit(n)
    return value


@dataclass(frozen=True, slots=True)
class NewTicket:
    """Everything in a new ticket's EncTicketPart (RFC 4120 §5.3)."""

    flags: int
    session: crypto.Key
    crealm: str
    cname: der.Name
    times: Times
    transited_der: bytes = der.transited(1, b"")
    caddr_der: bytes | None = None
    authdata_der: bytes | None = None


def build_reply(
    *, is_as: bool, realm: str, service_key: KeyEntry, sname: der.Name, new: NewTicket,
    nonce: int, reply_key: crypto.Key, reply_usage: int, reply_kvno: int | None,
    padata: Sequence[tuple[int, bytes]] = (), now: int, rand: RandomBytes,
) -> bytes:
    """Seal the ticket in the service key (usage 2) and the EncKDCRepPart in the reply key;
    return the AS-REP or TGS-REP (RFC 4120 §3.1.3, §3.3.3, §5.4.2)."""
    t = new.times
    key = derwrite.encryption_key(new.session.enctype, new.session.contents)
    renew = t.renew_till
    enc_ticket = der.enc_ticket_part(
        flags=new.flags, key=key, crealm=new.crealm, cname=new.cname,
        transited_der=new.transited_der, authtime=t.authtime, starttime=t.starttime,
        endtime=t.endtime, renew_till=renew, caddr_der=new.caddr_der,
        authdata_der=new.authdata_der)
    ticket_cipher = crypto.encrypt(service_key.key, 2, enc_ticket, confounder=rand(16))
    ticket = der.ticket(realm, sname, derwrite.encrypted_data(service_key.enctype, ticket_cipher,
                                                         service_key.kvno))
    enc_rep = der.enc_kdc_rep_part(
        tag=25 if is_as else 26, key=key, last_req_der=der.last_req([(0, now)]), nonce=nonce,
        flags=new.flags, authtime=t.authtime, starttime=t.starttime, endtime=t.endtime,
        renew_till=renew, srealm=realm, sname=sname, caddr_der=new.caddr_der)
    rep_cipher = crypto.encrypt(reply_key, reply_usage, enc_rep, confounder=rand(16))
    return der.kdc_rep(
        tag=11 if is_as else 13, msg_type=11 if is_as else 13,
        padata_der=der.method_data(padata) if padata else None, crealm=new.crealm,
        cname=new.cname, ticket_der=ticket,
        enc_part_der=derwrite.encrypted_data(reply_key.enctype, rep_cipher, reply_kvno))


__all__ = [
    "NewTicket",
    "RandomBytes",
    "Times",
    "build_reply",
    "choose_enctype",
    "flag_bits",
    "flags_value",
    "krb_error",
    "name_of",
    "requested_etypes",
    "requested_times",
    "ticket_times",
]
