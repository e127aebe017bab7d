"""Opening the TGT of a TGS-REQ (RFC 4120 §3.3.2, §3.2.3): the PA-TGS-REQ AP-REQ, its ticket,
authenticator and req-body checksum.

A client sends the same TGT with every TGS-REQ until it expires, and decrypting and strictly
decoding its EncTicketPart costs about as much as the rest of the exchange.  So the opened
ticket is kept in a small per-KDC cache keyed by the ticket's ciphertext and checked against
the key that decrypts it (a krbtgt key change is a miss).  Only tickets that decrypted and
decoded are cached; every per-request check (times, authenticator, checksum) still runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core

from gssmech.errors import DecodeError, GSSMechError, IntegrityError
from gssmech.kdc import der
from gssmech.kdc.authz import Element, elements_of
from gssmech.kdc.context import KDCContext
from gssmech.kdc.db import KeyEntry
from gssmech.kdc.errors import KDCError
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    EncTicketPart,
    ErrorCode,
    KeyUsage,
    PaDataType,
    TicketFlags,
    decode,
    inner_der,
)
from gssmech.krb5.asn1.apfields import read_ap_req, read_authenticator
from gssmech.krb5.asn1.kdcfields import TgsReqFields
from gssmech.krb5.constants import ANONYMOUS_REALM

#: Opened tickets kept per KDC; the oldest is dropped first.
TICKET_CACHE_SIZE = 1024
_INVALID = TicketFlags._bit_number("invalid")


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """A decrypted, strictly decoded EncTicketPart (RFC 4120 §5.3) and the fields the TGS
    reads from it, converted once."""

    enc: EncTicketPart
    session: crypto.Key
    flags: frozenset[int]
    cname: der.Name
    crealm: str
    authtime: int
    #: starttime, or authtime when absent (RFC 4120 §5.3)
    begins: int
    endtime: int
    renew_till: int | None
    caddr_der: bytes | None
    authdata: tuple[Element, ...]
    #: TransitedEncoding of a ticket issued from this one (K10: without the anonymous realm)
    transited_der: bytes


@dataclass(frozen=True, slots=True)
class Tgt:
    """The TGT of a TGS-REQ that passed every check, and the authenticator's subkey."""

    ticket: OpenTicket
    subkey: crypto.Key | None


def transited_for(tgt_enc: EncTicketPart) -> dict[str, int | bytes]:
    """Transited of the new ticket (RFC 4120 §3.3.3.2): the TGT's list with the anonymous realm
    never present (K10, seed §4.2).  Only local TGTs are accepted, so no realm is added."""
    tr = tgt_enc["transited"]
    realms = [r for r in bytes(tr["contents"].native).split(b",") if r]
    kept = [r for r in realms if r != ANONYMOUS_REALM.encode()]
    return {"tr_type": int(tr["tr_type"]), "contents": b",".join(kept)}


def _time_or_none(value: core.Asn1Value) -> int | None:
    return None if isinstance(value, core.Void) else value.timestamp


def _open(key: KeyEntry, cipher: bytes) -> OpenTicket:
    try:
        plain = crypto.decrypt(key.key, KeyUsage.KDC_REP_TICKET, cipher)
        tkt = decode(EncTicketPart, plain, what="EncTicketPart")
        tkt_key = tkt["key"]
        session = crypto.Key(int(tkt_key["keytype"]), bytes(tkt_key["keyvalue"].native))
    except (IntegrityError, DecodeError, GSSMechError):
        raise KDCError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY, "ticket does not decrypt") from None
    cname = tkt["cname"]
    authtime = tkt["authtime"].timestamp
    start = _time_or_none(tkt["starttime"])
    caddr = tkt["caddr"]
    tr = transited_for(tkt)
    return OpenTicket(
        tkt, session, tkt["flags"].bit_numbers(),
        (int(cname["name_type"]), tuple(cname["name_string"].native)), tkt["crealm"].native,
        authtime, authtime if start is None else start, tkt["endtime"].timestamp,
        _time_or_none(tkt["renew_till"]),
        None if isinstance(caddr, core.Void) else inner_der(caddr),
        tuple(elements_of(tkt["authorization_data"])),
        der.transited(int(tr["tr_type"]), bytes(tr["contents"])))


def open_ticket(ctx: KDCContext, key: KeyEntry, cipher: bytes) -> OpenTicket:
    """The ticket sealed in ``cipher`` under ``key`` (usage 2), from the cache when seen."""
    cache = ctx.ticket_cache
    hit = cache.get(cipher)
    if hit is not None and hit[0] == key.enctype and hit[1] == key.key.contents:
        return hit[2]
    opened = _open(key, cipher)
    if len(cache) >= TICKET_CACHE_SIZE:
        del cache[next(iter(cache))]
    cache[cipher] = (key.enctype, key.key.contents, opened)
    return opened


def open_tgt(ctx: KDCContext, req: TgsReqFields, now: float) -> Tgt:
    """Check the PA-TGS-REQ AP-REQ (RFC 4120 §3.3.2, §3.2.3): ticket, authenticator (usage 7),
    and the req-body checksum (usage 6)."""
    pa = req.find_padata(PaDataType.PA_TGS_REQ)
    if pa is None:
        raise KDCError(ErrorCode.KDC_ERR_PADATA_TYPE_NOSUPP, "no PA-TGS-REQ")
    try:
        ap = read_ap_req(pa, what="PA-TGS-REQ")
    except DecodeError:
        raise KDCError(ErrorCode.KRB_AP_ERR_MSG_TYPE, "malformed PA-TGS-REQ") from None
    tgs = ap.ticket.server
    if tgs.components != ("krbtgt", ctx.realm) or tgs.realm != ctx.realm:
        raise KDCError(ErrorCode.KRB_AP_ERR_NOT_US, "ticket is not a TGT of this realm")
    tgs_entry = ctx.db.lookup(tgs)
    if tgs_entry is None:
        raise KDCError(ErrorCode.KRB_AP_ERR_NOT_US, "no key for the ticket's server")
    enc = ap.ticket.enc_part
    key = tgs_entry.key_for(enc.etype, enc.kvno)
    if key is None:
        raise KDCError(ErrorCode.KRB_AP_ERR_BADKEYVER, "no key of that version and enctype")
    tkt = open_ticket(ctx, key, enc.cipher)
    skew = ctx.settings.clock_skew
    if tkt.endtime < now - skew:
        raise KDCError(ErrorCode.KRB_AP_ERR_TKT_EXPIRED, "ticket expired")
    if tkt.begins > now + skew or _INVALID in tkt.flags:
        raise KDCError(ErrorCode.KRB_AP_ERR_TKT_NYV, "ticket not yet valid")
    session = tkt.session
    try:
        auth_plain = crypto.decrypt(session, KeyUsage.TGS_REQ_AUTH, ap.authenticator.cipher)
        auth = read_authenticator(auth_plain)
    except (IntegrityError, DecodeError):
        raise KDCError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY, "authenticator does not decrypt") \
            from None
    if auth.client.realm != tkt.crealm or auth.client.components != tuple(tkt.cname[1]):
        raise KDCError(ErrorCode.KRB_AP_ERR_BADMATCH, "authenticator does not match ticket")
    if abs(auth.ctime - now) > skew:
        raise KDCError(ErrorCode.KRB_AP_ERR_SKEW, "clock skew too great")
    cksum = auth.cksum
    if cksum is None:
        raise KDCError(ErrorCode.KRB_AP_ERR_INAPP_CKSUM, "authenticator has no checksum")
    try:
        crypto.verify_checksum(session, KeyUsage.TGS_REQ_AUTH_CKSUM,
                               req.req_body.der, cksum.checksum, cksum.cksumtype)
    except (IntegrityError, GSSMechError):
        raise KDCError(ErrorCode.KRB_AP_ERR_MODIFIED, "request body checksum mismatch") \
            from None
    subkey = None
    if auth.subkey is not None:
        try:
            subkey = crypto.Key(auth.subkey.keytype, auth.subkey.keyvalue)
        except GSSMechError:
            raise KDCError(ErrorCode.KDC_ERR_ETYPE_NOSUPP, "unusable subkey") from None
    return Tgt(tkt, subkey)


__all__ = ["TICKET_CACHE_SIZE", "OpenTicket", "Tgt", "open_tgt", "open_ticket", "transited_for"]
