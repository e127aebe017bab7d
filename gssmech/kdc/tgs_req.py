"""The Ticket-Granting Service exchange (RFC 4120 §3.3) with the anonymity rules of
draft-ietf-krb-wg-anon-08 §4.2 (K8 options and names, K9 authorization data, K10 transited)
and the seed §7 policies."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core

from gssmech.errors import DecodeError, GSSMechError, IntegrityError
from gssmech.kdc import der
from gssmech.kdc.as_req import check_anonymity_policy
from gssmech.kdc.authz import elements_of, filter_for_anonymous
from gssmech.kdc.context import KDCContext
from gssmech.kdc.db import PrincipalEntry
from gssmech.kdc.errors import KDCError
from gssmech.kdc.tickets import (
    NewTicket,
    build_reply,
    choose_enctype,
    flags_value,
    name_of,
    requested_etypes,
    ticket_times,
)
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    APReq,
    Authenticator,
    AuthorizationData,
    EncTicketPart,
    ErrorCode,
    KDCOptions,
    KeyUsage,
    PaDataType,
    PrincipalName,
    TGSReq,
    TicketFlags,
    anonymous_principal_name,
    decode,
    find_padata,
    inner_der,
    principal_name,
    to_principal,
)
from gssmech.krb5.constants import ANONYMOUS_REALM, NameType
from gssmech.krb5.principal import Principal


@dataclass(frozen=True, slots=True)
class _Tgt:
    enc: EncTicketPart
    session: crypto.Key
    subkey: crypto.Key | None


def process_tgs(ctx: KDCContext, req: TGSReq, raw: bytes, now: float) -> bytes:
    body = req["req_body"]
    settings = ctx.settings
    realm = ctx.realm
    if body["realm"].native != realm:
        raise KDCError(ErrorCode.KDC_ERR_WRONG_REALM, "request is for another realm")
    if isinstance(body["sname"], core.Void):
        raise KDCError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "no server name")
    options = body["kdc_options"]
    # validate, user-to-user and S4U2Proxy are not offered.  NB(draft-08): bit 14 is MIT's
    # cname-in-addl-tkt but the draft-08 profile's anonymous option, so it is allowed there.
    unsupported = {"validate", "enc-tkt-in-skey"}
    if settings.anon.anonymous_bit != 14:
        unsupported.add("cname-in-addl-tkt")
    for name in sorted(unsupported):
        if options.is_set(name):
            raise KDCError(ErrorCode.KDC_ERR_BADOPTION, f"option {name} not supported")
    tgt = _open_tgt(ctx, req, now)
    profile = settings.anon
    tgt_anonymous = tgt.enc["flags"].is_set(profile.anonymous_bit)
    anonymous = options.is_set(profile.anonymous_bit)
    if tgt_anonymous and not anonymous:
        # K8: seed §4.2 MUST (BADOPTION); RFC 8062 §4.2 and MIT/Heimdal: treat as set.
        if settings.tgs_anonymous_requires_option:
            raise KDCError(ErrorCode.KDC_ERR_BADOPTION, "anonymous ticket without the option")
        anonymous = True
    if tgt_anonymous:  # K8: copy cname/crealm of an anonymous ticket
        cname, crealm = tgt.enc["cname"], tgt.enc["crealm"].native
    elif anonymous:  # seed §4.2: anonymous name, the client's true realm
        cname, crealm = anonymous_principal_name(), tgt.enc["crealm"].native
    else:
        cname, crealm = tgt.enc["cname"], tgt.enc["crealm"].native
    server = to_principal(body["sname"], realm)
    service, sname = _service(ctx, server, options.is_set("canonicalize"))
    check_anonymity_policy(ctx, service.principal, anonymous)
    reply = _issue(ctx, req, tgt, service, sname, cname, crealm, anonymous, int(now))
    if anonymous:
        # seed §7: the log must not link the TGT's identity to the anonymous ticket.
        ctx.log.info("TGS-REQ anonymous -> %s: issued anonymous ticket", service.principal)
    else:
        client = to_principal(cname, crealm)
        ctx.log.info("TGS-REQ %s -> %s: issued", client, service.principal)
    return reply


def _service(ctx: KDCContext, server: Principal, canonicalize: bool
             ) -> tuple[PrincipalEntry, PrincipalName]:
    """The service entry and the sname to put in the ticket; an RFC 6806 referral TGT when the
    service is unknown, the host matches a configured domain and the cross-realm key exists."""
    entry = ctx.db.lookup(server)
    if entry is not None:
        return entry, principal_name(server.name_type, server.components)
    if canonicalize and len(server.components) >= 2:
        host = server.components[1].lower()
        for suffix, other in ctx.settings.referrals.items():
            suffix = suffix.lower().lstrip(".")
            if other != ctx.realm and (host == suffix or host.endswith("." + suffix)):
                cross = Principal(NameType.SRV_INST, ("krbtgt", other), ctx.realm)
                found = ctx.db.lookup(cross)
                if found is not None:
                    return found, principal_name(NameType.SRV_INST, cross.components)
    raise KDCError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "server not found")


def _open_tgt(ctx: KDCContext, req: TGSReq, now: float) -> _Tgt:
    """Check the PA-TGS-REQ AP-REQ (RFC 4120 §3.3.2, §3.2.3): ticket, authenticator (usage 7),
    and the req-body checksum (usage 6)."""
    pa = find_padata(req["padata"], PaDataType.PA_TGS_REQ)
    if pa is None:
        raise KDCError(ErrorCode.KDC_ERR_PADATA_TYPE_NOSUPP, "no PA-TGS-REQ")
    try:
        ap = decode(APReq, bytes(pa["padata_value"].native), what="PA-TGS-REQ")
    except DecodeError:
        raise KDCError(ErrorCode.KRB_AP_ERR_MSG_TYPE, "malformed PA-TGS-REQ") from None
    ticket = ap["ticket"]
    tgs = to_principal(ticket["sname"], ticket["realm"])
    if tgs.components != ("krbtgt", ctx.realm) or tgs.realm != ctx.realm:
        raise KDCError(ErrorCode.KRB_AP_ERR_NOT_US, "ticket is not a TGT of this realm")
    tgs_entry = ctx.db.lookup(tgs)
    if tgs_entry is None:
        raise KDCError(ErrorCode.KRB_AP_ERR_NOT_US, "no key for the ticket's server")
    enc = ticket["enc_part"]
    kvno = None if isinstance(enc["kvno"], core.Void) else int(enc["kvno"])
    key = tgs_entry.key_for(int(enc["etype"]), kvno)
    if key is None:
        raise KDCError(ErrorCode.KRB_AP_ERR_BADKEYVER, "no key of that version and enctype")
    try:
        plain = crypto.decrypt(key.key, KeyUsage.KDC_REP_TICKET, bytes(enc["cipher"].native))
        tkt = decode(EncTicketPart, plain, what="EncTicketPart")
        session = crypto.Key(int(tkt["key"]["keytype"]), bytes(tkt["key"]["keyvalue"].native))
    except (IntegrityError, DecodeError, GSSMechError):
        raise KDCError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY, "ticket does not decrypt") from None
    skew = ctx.settings.clock_skew
    if tkt["endtime"].timestamp < now - skew:
        raise KDCError(ErrorCode.KRB_AP_ERR_TKT_EXPIRED, "ticket expired")
    start = tkt["starttime"]
    begins = tkt["authtime"].timestamp if isinstance(start, core.Void) else start.timestamp
    if begins > now + skew or tkt["flags"].is_set("invalid"):
        raise KDCError(ErrorCode.KRB_AP_ERR_TKT_NYV, "ticket not yet valid")
    try:
        auth_enc = ap["authenticator"]
        auth_plain = crypto.decrypt(session, KeyUsage.TGS_REQ_AUTH,
                                    bytes(auth_enc["cipher"].native))
        auth = decode(Authenticator, auth_plain, what="Authenticator")
    except (IntegrityError, DecodeError):
        raise KDCError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY, "authenticator does not decrypt") \
            from None
    if (auth["crealm"].native != tkt["crealm"].native
            or auth["cname"].native["name_string"] != tkt["cname"].native["name_string"]):
        raise KDCError(ErrorCode.KRB_AP_ERR_BADMATCH, "authenticator does not match ticket")
    if abs(auth["ctime"].timestamp - now) > skew:
        raise KDCError(ErrorCode.KRB_AP_ERR_SKEW, "clock skew too great")
    cksum = auth["cksum"]
    if isinstance(cksum, core.Void):
        raise KDCError(ErrorCode.KRB_AP_ERR_INAPP_CKSUM, "authenticator has no checksum")
    try:
        crypto.verify_checksum(session, KeyUsage.TGS_REQ_AUTH_CKSUM,
                               inner_der(req["req_body"]), bytes(cksum["checksum"].native),
                               int(cksum["cksumtype"]))
    except (IntegrityError, GSSMechError):
        raise KDCError(ErrorCode.KRB_AP_ERR_MODIFIED, "request body checksum mismatch") \
            from None
    subkey = None
    if not isinstance(auth["subkey"], core.Void):
        try:
            subkey = crypto.Key(int(auth["subkey"]["keytype"]),
                                bytes(auth["subkey"]["keyvalue"].native))
        except GSSMechError:
            raise KDCError(ErrorCode.KDC_ERR_ETYPE_NOSUPP, "unusable subkey") from None
    return _Tgt(tkt, session, subkey)


def transited_for(tgt_enc: EncTicketPart) -> dict[str, int | bytes]:
    """Transited of the new ticket (RFC 4120 §3.3.3.2): the TGT's list with the anonymous realm
    never present (K10, seed §4.2).  Only local TGTs are accepted, so no realm is added."""
    tr = tgt_enc["transited"]
    realms = [r for r in bytes(tr["contents"].native).split(b",") if r]
    kept = [r for r in realms if r != ANONYMOUS_REALM.encode()]
    return {"tr_type": int(tr["tr_type"]), "contents": b",".join(kept)}


def _authdata(ctx: KDCContext, req: TGSReq, tgt: _Tgt, anonymous: bool
              ) -> list[tuple[int, bytes]]:
    elements = elements_of(tgt.enc["authorization_data"])
    enc = req["req_body"]["enc_authorization_data"]
    if not isinstance(enc, core.Void):
        key, usage = ((tgt.subkey, KeyUsage.TGS_REQ_AD_SUBKEY) if tgt.subkey is not None
                      else (tgt.session, KeyUsage.TGS_REQ_AD_SESSKEY))
        try:
            plain = crypto.decrypt(key, usage, bytes(enc["cipher"].native))
            elements += elements_of(decode(AuthorizationData, plain, what="AuthorizationData"))
        except (IntegrityError, DecodeError):
            raise KDCError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY,
                           "enc-authorization-data does not decrypt") from None
    if anonymous:
        elements = filter_for_anonymous(elements, ctx.settings)  # K9
    return elements


def _issue(ctx: KDCContext, req: TGSReq, tgt: _Tgt, service: PrincipalEntry,
           sname: PrincipalName, cname: PrincipalName, crealm: str, anonymous: bool,
           now: int) -> bytes:
    body = req["req_body"]
    settings = ctx.settings
    options = body["kdc_options"].bit_numbers()
    tgt_flags = tgt.enc["flags"].bit_numbers()
    has = TicketFlags._bit_number
    renewable_tgt = has("renewable") in tgt_flags
    renew_till = tgt.enc["renew_till"]
    renew_cap = renew_till.timestamp if renewable_tgt and not isinstance(renew_till, core.Void) \
        else now
    if KDCOptions._bit_number("renew") in options:
        if not renewable_tgt or renew_cap < now:
            raise KDCError(ErrorCode.KDC_ERR_BADOPTION, "ticket is not renewable")
        end_cap = None
    else:
        end_cap = tgt.enc["endtime"].timestamp
    times = ticket_times(body, now=now, max_life=settings.max_life,
                         max_renew=settings.max_renew, authtime=tgt.enc["authtime"].timestamp,
                         end_cap=end_cap, renew_cap=renew_cap)
    bits = {b for b in (has("pre-authent"), has("hw-authent")) if b in tgt_flags}
    for opt in ("forwardable", "proxiable"):
        if has(opt) in options and has(opt) in tgt_flags:
            bits.add(has(opt))
    forwarded = KDCOptions._bit_number("forwarded") in options
    if (forwarded and has("forwardable") in tgt_flags) or has("forwarded") in tgt_flags:
        bits.add(has("forwarded"))
    if times.renew_till is not None:
        bits.add(has("renewable"))
    if anonymous:
        bits.add(settings.anon.anonymous_bit)
    etype = choose_enctype(requested_etypes(body), service.enctypes)
    session = crypto.random_to_key(etype, ctx.rand(crypto.get_profile(etype).seedsize))
    caddr = None
    if not anonymous:  # K7: no addresses in anonymous tickets
        if forwarded and not isinstance(body["addresses"], core.Void):
            caddr = inner_der(body["addresses"])
        elif not isinstance(tgt.enc["caddr"], core.Void):
            caddr = inner_der(tgt.enc["caddr"])
    authdata = _authdata(ctx, req, tgt, anonymous)
    tr = transited_for(tgt.enc)
    new = NewTicket(flags_value(bits), session, crealm, name_of(cname), times,
                    transited_der=der.transited(int(tr["tr_type"]), bytes(tr["contents"])),
                    caddr_der=caddr,
                    authdata_der=der.authorization_data(authdata) if authdata else None)
    if tgt.subkey is not None:
        reply_key, usage = tgt.subkey, KeyUsage.TGS_REP_ENC_PART_SUBKEY
    else:
        reply_key, usage = tgt.session, KeyUsage.TGS_REP_ENC_PART_SESSKEY
    return build_reply(
        is_as=False, realm=ctx.realm, service_key=service.strongest(settings.key_enctypes),
        sname=name_of(sname), new=new, nonce=int(body["nonce"]) & 0xFFFFFFFF,
        reply_key=reply_key, reply_usage=usage, reply_kvno=None, now=now, rand=ctx.rand)
