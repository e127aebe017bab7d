"""The Ticket-Granting Service exchange (RFC 4120 §3.3) with the anonymity rules of
draft-ietf-krb-wg-anon-08 §4.2 (K8 options and names, K9 authorization data, K10 transited)
and the seed §7 policies."""

from __future__ import annotations

import logging

from gssmech.errors import DecodeError, IntegrityError
from gssmech.kdc import der
from gssmech.kdc.as_req import check_anonymity_policy
from gssmech.kdc.authz import elements_of, filter_for_anonymous
from gssmech.kdc.context import KDCContext
from gssmech.kdc.db import PrincipalEntry
from gssmech.kdc.errors import KDCError
from gssmech.kdc.tgt import Tgt, open_tgt
from gssmech.kdc.tickets import (
    NewTicket,
    build_reply,
    choose_enctype,
    flags_value,
    ticket_times,
)
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    AuthorizationData,
    ErrorCode,
    KDCOptions,
    KeyUsage,
    TicketFlags,
    decode,
)
from gssmech.krb5.asn1.kdcfields import TgsReqFields
from gssmech.krb5.constants import ANONYMOUS_COMPONENTS, NameType
from gssmech.krb5.principal import Principal

#: KDCOptions / TicketFlags bit numbers by name: the request's flags are read once as a set of
#: bit numbers and tested with these (RFC 4120 §5.4.1, §5.3).
_OPT = {name: n for n, name in KDCOptions._map.items()}
_TKT = {name: n for n, name in TicketFlags._map.items()}
#: validate, user-to-user and S4U2Proxy are not offered (checked in this order).  NB(draft-08):
#: bit 14 is MIT's cname-in-addl-tkt but the draft-08 profile's anonymous option.
_UNSUPPORTED = tuple((name, _OPT[name]) for name in
                     ("cname-in-addl-tkt", "enc-tkt-in-skey", "validate"))
_ANONYMOUS_NAME: der.Name = (int(NameType.WELLKNOWN), ANONYMOUS_COMPONENTS)


def process_tgs(ctx: KDCContext, req: TgsReqFields, raw: bytes, now: float) -> bytes:
    body = req.req_body
    settings = ctx.settings
    realm = ctx.realm
    if body.realm != realm:
        raise KDCError(ErrorCode.KDC_ERR_WRONG_REALM, "request is for another realm")
    if body.sname is None:
        raise KDCError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "no server name")
    options = body.kdc_options
    profile = settings.anon
    for name, bit in _UNSUPPORTED:
        if bit in options and not (bit == 14 and profile.anonymous_bit == 14):
            raise KDCError(ErrorCode.KDC_ERR_BADOPTION, f"option {name} not supported")
    tgt = open_tgt(ctx, req, now)
    tkt = tgt.ticket
    tgt_anonymous = profile.anonymous_bit in tkt.flags
    anonymous = profile.anonymous_bit in options
    if tgt_anonymous and not anonymous:
        # K8: seed §4.2 MUST (BADOPTION); RFC 8062 §4.2 and MIT/Heimdal: treat as set.
        if settings.tgs_anonymous_requires_option:
            raise KDCError(ErrorCode.KDC_ERR_BADOPTION, "anonymous ticket without the option")
        anonymous = True
    # K8: an anonymous TGT's cname/crealm are copied; seed §4.2: the anonymous option on a
    # normal TGT gives the anonymous name with the client's true realm.
    cname = _ANONYMOUS_NAME if anonymous and not tgt_anonymous else tkt.cname
    server = Principal(body.sname[0], body.sname[1], realm)
    service, sname = _service(ctx, server, _OPT["canonicalize"] in options)
    check_anonymity_policy(ctx, service.principal, anonymous)
    reply = _issue(ctx, req, tgt, options, service, sname, cname, anonymous, int(now))
    # One line per issued ticket at INFO, as MIT krb5kdc logs: an operator's audit trail is worth
    # its cost (~12% of a TGS exchange); the Principal is only formatted when INFO is enabled.
    if anonymous:
        # seed §7: the log must not link the TGT's identity to the anonymous ticket.
        ctx.log.info("TGS-REQ anonymous -> %s: issued anonymous ticket", service.principal)
    elif ctx.log.isEnabledFor(logging.INFO):
        client = Principal(cname[0], tuple(cname[1]), tkt.crealm)
        ctx.log.info("TGS-REQ %s -> %s: issued", client, service.principal)
    return reply


def _service(ctx: KDCContext, server: Principal, canonicalize: bool
             ) -> tuple[PrincipalEntry, der.Name]:
    """The service entry and the sname to put in the ticket; an RFC 6806 referral TGT when the
    service is unknown, the host matches a configured domain and the cross-realm key exists."""
    entry = ctx.db.lookup(server)
    if entry is not None:
        return entry, (server.name_type, server.components)
    if canonicalize and len(server.components) >= 2:
        host = server.components[1].lower()
        for suffix, other in ctx.settings.referrals.items():
            suffix = suffix.lower().lstrip(".")
            if other != ctx.realm and (host == suffix or host.endswith("." + suffix)):
                cross = Principal(NameType.SRV_INST, ("krbtgt", other), ctx.realm)
                found = ctx.db.lookup(cross)
                if found is not None:
                    return found, (int(NameType.SRV_INST), cross.components)
    raise KDCError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "server not found")


def _authdata(ctx: KDCContext, req: TgsReqFields, tgt: Tgt, anonymous: bool
              ) -> list[tuple[int, bytes]]:
    elements = list(tgt.ticket.authdata)
    enc = req.req_body.enc_authorization_data
    if enc is not None:
        key, usage = ((tgt.subkey, KeyUsage.TGS_REQ_AD_SUBKEY) if tgt.subkey is not None
                      else (tgt.ticket.session, KeyUsage.TGS_REQ_AD_SESSKEY))
        try:
            plain = crypto.decrypt(key, usage, enc.cipher)
            elements += elements_of(decode(AuthorizationData, plain, what="AuthorizationData"))
        except (IntegrityError, DecodeError):
            raise KDCError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY,
                           "enc-authorization-data does not decrypt") from None
    if anonymous:
        elements = filter_for_anonymous(elements, ctx.settings)  # K9
    return elements


def _issue(ctx: KDCContext, req: TgsReqFields, tgt: Tgt, options: frozenset[int],
           service: PrincipalEntry, sname: der.Name, cname: der.Name, anonymous: bool,
           now: int) -> bytes:
    body = req.req_body
    settings = ctx.settings
    tkt = tgt.ticket
    tgt_flags = tkt.flags
    renewable_tgt = _TKT["renewable"] in tgt_flags
    renew_cap = tkt.renew_till if renewable_tgt and tkt.renew_till is not None else now
    if _OPT["renew"] in options:
        if not renewable_tgt or renew_cap < now:
            raise KDCError(ErrorCode.KDC_ERR_BADOPTION, "ticket is not renewable")
        end_cap = None
    else:
        end_cap = tkt.endtime
    times = ticket_times(body.till, body.rtime, now=now, max_life=settings.max_life,
                         max_renew=settings.max_renew, authtime=tkt.authtime,
                         end_cap=end_cap, renew_cap=renew_cap, options=options)
    bits = {b for b in (_TKT["pre-authent"], _TKT["hw-authent"]) if b in tgt_flags}
    for opt in ("forwardable", "proxiable"):
        if _OPT[opt] in options and _TKT[opt] in tgt_flags:
            bits.add(_TKT[opt])
    forwarded = _OPT["forwarded"] in options
    if (forwarded and _TKT["forwardable"] in tgt_flags) or _TKT["forwarded"] in tgt_flags:
        bits.add(_TKT["forwarded"])
    if times.renew_till is not None:
        bits.add(_TKT["renewable"])
    if anonymous:
        bits.add(settings.anon.anonymous_bit)
    etype = choose_enctype(body.etype, service.enctypes)
    session = crypto.random_to_key(etype, ctx.rand(crypto.get_profile(etype).seedsize))
    caddr = None
    if not anonymous:  # K7: no addresses in anonymous tickets
        if forwarded and body.addresses_der is not None:
            caddr = body.addresses_der
        else:
            caddr = tkt.caddr_der
    authdata = _authdata(ctx, req, tgt, anonymous)
    new = NewTicket(flags_value(bits), session, tkt.crealm, cname, times,
                    transited_der=tkt.transited_der, caddr_der=caddr,
                    authdata_der=der.authorization_data(authdata) if authdata else None)
    if tgt.subkey is not None:
        reply_key, usage = tgt.subkey, KeyUsage.TGS_REP_ENC_PART_SUBKEY
    else:
        reply_key, usage = tkt.session, KeyUsage.TGS_REP_ENC_PART_SESSKEY
    return build_reply(
        is_as=False, realm=ctx.realm, service_key=service.strongest(settings.key_enctypes),
        sname=sname, new=new, nonce=body.nonce,
        reply_key=reply_key, reply_usage=usage, reply_kvno=None, now=now, rand=ctx.rand)
