"""The Authentication Service exchange (RFC 4120 §3.1.2-§3.1.3) with the anonymity rules of
draft-ietf-krb-wg-anon-08 §4.1 (K1, K2, K4, K5, K7, K11) and anonymous PKINIT (K3, K6)."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core

from gssmech.errors import DecodeError, IntegrityError
from gssmech.kdc import pkinit
from gssmech.kdc.context import KDCContext
from gssmech.kdc.db import PrincipalEntry
from gssmech.kdc.errors import KDCError
from gssmech.kdc.tickets import (
    NewTicket,
    build_reply,
    choose_enctype,
    flag_bits,
    flags_value,
    name_of,
    requested_etypes,
    requested_times,
    ticket_times,
)
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    ASReq,
    ErrorCode,
    ETypeInfo2,
    KeyUsage,
    PaDataType,
    PAEncTSEnc,
    anonymous_principal_name,
    decode,
    decode_pa_enc_timestamp,
    find_padata,
    inner_der,
    method_data,
    pa_data,
    padata_types,
    to_principal,
)
from gssmech.krb5.constants import ANONYMOUS_REALM
from gssmech.krb5.principal import Principal

#: padata a client may send that does not by itself authenticate it (so an anonymous request
#: carrying only these is asked for PKINIT rather than refused with NULL_KEY).
_INFORMATIONAL_PADATA = frozenset(
    {PaDataType.PA_PAC_REQUEST, PaDataType.PA_REQ_ENC_PA_REP, PaDataType.PA_FX_COOKIE,
     PaDataType.PA_AS_FRESHNESS}
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the AS decided about the client, before the ticket is built."""

    reply_key: crypto.Key
    reply_kvno: int | None
    cname: core.Asn1Value
    crealm: str
    anonymous: bool
    padata: tuple  # PA-DATA for the AS-REP
    #: ticket session key fixed by the exchange (anonymous PKINIT: KRB-FX-CF2, K6)
    session_key: crypto.Key | None = None
    #: the client proved itself before the reply (PRE-AUTHENT flag, RFC 4120 §2.1)
    pre_authent: bool = True


def process_as(ctx: KDCContext, req: ASReq, raw: bytes, now: float) -> bytes:
    """Answer a decoded AS-REQ (``raw`` is its DER, needed by the PKINIT KDF and checksum)."""
    body = req["req_body"]
    profile = ctx.settings.anon
    realm = ctx.realm
    if body["realm"].native != realm:
        raise KDCError(ErrorCode.KDC_ERR_WRONG_REALM, "request is for another realm")
    if isinstance(body["cname"], core.Void):
        raise KDCError(ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN, "no client name")
    if isinstance(body["sname"], core.Void):
        raise KDCError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "no server name")
    anon_option = body["kdc_options"].is_set(profile.anonymous_bit)
    client = to_principal(body["cname"], realm)
    server = to_principal(body["sname"], realm)
    service = ctx.db.lookup(server)
    if service is None:
        raise KDCError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "server not found")
    if client.is_anonymous_name:
        outcome = _anonymous_pkinit(ctx, req, raw, now, anon_option)
    else:
        entry = ctx.db.lookup(client)
        if entry is None:
            raise KDCError(ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN, "client not found")
        outcome = _long_term_key(ctx, req, entry, now, anon_option)
    check_anonymity_policy(ctx, server, outcome.anonymous)
    reply = _issue(ctx, req, service, outcome, int(now))
    # One line per issued ticket at INFO, as MIT krb5kdc logs (an operator's audit trail).
    if outcome.anonymous:
        # seed §7: no record linking an identity to an anonymous ticket -- neither the
        # client's name nor its address appears in this line.
        ctx.log.info("AS-REQ anonymous -> %s: issued anonymous ticket", server)
    else:
        ctx.log.info("AS-REQ %s -> %s: issued", client, server)
    return reply


def check_anonymity_policy(ctx: KDCContext, server: Principal, anonymous: bool) -> None:
    """Seed §7 local policies: restrict_anonymous_to_tgt, never-normal and refuse-anonymous."""
    settings = ctx.settings
    # unparse only when a per-service list is configured: it is on every request's path
    if anonymous:
        if settings.restrict_anonymous_to_tgt and server.components != ("krbtgt", ctx.realm):
            raise KDCError(ErrorCode.KDC_ERR_POLICY, "KDC policy rejects request")
        if settings.refuse_anonymous and server.unparse() in settings.refuse_anonymous:
            raise KDCError(ErrorCode.KDC_ERR_POLICY, "service refuses anonymous clients")
    elif settings.require_anonymous and server.unparse() in settings.require_anonymous:
        raise KDCError(ErrorCode.KDC_ERR_POLICY, "service only accepts anonymous tickets")


# --- anonymous PKINIT (seed §4.1, §6) --------------------------------------------------------


def preauth_required_e_data(ctx: KDCContext, etype_info: ETypeInfo2 | None) -> bytes:
    """METHOD-DATA for KDC_ERR_PREAUTH_REQUIRED (RFC 4120 §3.1.1): ENC-TIMESTAMP and
    ETYPE-INFO2 for long-term keys, and PKINIT with an EMPTY PA_PKINIT_KX (K5, seed §4.1)."""
    items: list = []
    if etype_info is not None:
        items += [pa_data(PaDataType.PA_ETYPE_INFO2, etype_info),
                  pa_data(PaDataType.PA_ENC_TIMESTAMP)]
    if ctx.pkinit is not None and ctx.settings.allow_anonymous:
        items += [pa_data(PaDataType.PA_PK_AS_REQ), pa_data(ctx.settings.anon.pa_pkinit_kx)]
    return method_data(items).dump()


def _anonymous_pkinit(
    ctx: KDCContext, req: ASReq, raw: bytes, now: float, anon_option: bool
) -> Outcome:
    if not anon_option:  # K1
        raise KDCError(ErrorCode.KDC_ERR_BADOPTION, "anonymous client without anonymous option")
    if not ctx.settings.allow_anonymous or ctx.db.lookup(
        Principal.anonymous(ctx.realm)) is None:
        raise KDCError(ErrorCode.KDC_ERR_POLICY, "anonymous tickets are disabled")
    padata = req["padata"]
    pk = find_padata(padata, PaDataType.PA_PK_AS_REQ)
    if pk is None:
        asking = [t for t in padata_types(padata) if t not in _INFORMATIONAL_PADATA]
        if ctx.pkinit is not None and not asking:  # K5: tell the client to use PKINIT
            raise KDCError(ErrorCode.KDC_ERR_PREAUTH_REQUIRED, "",
                           e_data=preauth_required_e_data(ctx, None))
        # K2: no way to produce a reply key for an anonymous client
        raise KDCError(ErrorCode.KDC_ERR_NULL_KEY, "anonymous client needs PKINIT")
    if ctx.pkinit is None:  # K2
        raise KDCError(ErrorCode.KDC_ERR_NULL_KEY, "PKINIT is not configured")
    tgs_etypes = ctx.settings.key_enctypes
    etype = choose_enctype(requested_etypes(req["req_body"]), tgs_etypes)
    reply = pkinit.anonymous_reply(ctx, req, raw, bytes(pk["padata_value"].native), etype, now)
    contribution = crypto.random_to_key(etype, ctx.rand(crypto.get_profile(etype).seedsize))
    kx = pkinit.pkinit_kx(contribution, reply.reply_key, ctx.rand)  # K6
    profile = ctx.settings.anon
    session = crypto.cf2(contribution, reply.reply_key, profile.pepper1, profile.pepper2)
    return Outcome(
        reply_key=reply.reply_key, reply_kvno=None, cname=anonymous_principal_name(),
        crealm=ANONYMOUS_REALM, anonymous=True,  # K4: crealm is the anonymous realm
        padata=(pa_data(PaDataType.PA_PK_AS_REP, reply.pa_pk_as_rep),
                pa_data(profile.pa_pkinit_kx, kx)),
        session_key=session,
    )


# --- long-term keys (RFC 4120 §5.2.7.2), authenticated anonymity (seed §4.1, K11) -------------


def etype_info2(entry: PrincipalEntry, etypes: list[int]) -> ETypeInfo2 | None:
    items = []
    for etype in etypes:
        key = entry.key_for(etype)
        if key is not None and etype not in [i["etype"] for i in items]:
            item: dict[str, object] = {"etype": etype}
            if key.salt is not None:
                item["salt"] = key.salt
            items.append(item)
    return ETypeInfo2(items) if items else None


def _long_term_key(
    ctx: KDCContext, req: ASReq, entry: PrincipalEntry, now: float, anon_option: bool
) -> Outcome:
    body = req["req_body"]
    etypes = requested_etypes(body)
    reply_etype = choose_enctype(etypes, entry.enctypes)
    ts = find_padata(req["padata"], PaDataType.PA_ENC_TIMESTAMP)
    pre_authent = ts is not None
    if ts is not None:
        reply_etype = _verify_enc_timestamp(ctx, entry, bytes(ts["padata_value"].native), now)
    elif entry.requires_preauth:
        raise KDCError(ErrorCode.KDC_ERR_PREAUTH_REQUIRED, "",
                       e_data=preauth_required_e_data(ctx, etype_info2(entry, etypes)))
    if anon_option and not ctx.settings.allow_anonymous:
        raise KDCError(ErrorCode.KDC_ERR_POLICY, "anonymous tickets are disabled")
    key = entry.key_for(reply_etype)
    assert key is not None  # chosen from entry.enctypes
    padata: tuple = ()
    if key.salt is not None:  # RFC 4120 §3.1.3: tell a password client its salt
        padata = (pa_data(PaDataType.PA_ETYPE_INFO2, etype_info2(entry, [reply_etype])),)
    client = entry.principal
    if anon_option:  # K11: anonymous name, real realm
        cname, crealm = anonymous_principal_name(), client.realm
    else:
        cname, crealm = body["cname"], client.realm
    return Outcome(key.key, key.kvno, cname, crealm, anon_option, padata,
                   pre_authent=pre_authent)


def _verify_enc_timestamp(ctx: KDCContext, entry: PrincipalEntry, value: bytes,
                          now: float) -> int:
    """PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2): decrypt with usage 1, check the clock skew."""
    try:
        enc = decode_pa_enc_timestamp(value)
        key = entry.key_for(int(enc["etype"]))
        if key is None:
            raise KDCError(ErrorCode.KDC_ERR_ETYPE_NOSUPP, "no key for the timestamp's enctype")
        plain = crypto.decrypt(key.key, KeyUsage.AS_REQ_PA_ENC_TIMESTAMP,
                               bytes(enc["cipher"].native))
        stamp = decode(PAEncTSEnc, plain, what="PA-ENC-TS-ENC")
    except (IntegrityError, DecodeError):
        raise KDCError(ErrorCode.KDC_ERR_PREAUTH_FAILED, "pre-authentication failed") from None
    if abs(stamp["patimestamp"].timestamp - now) > ctx.settings.clock_skew:
        raise KDCError(ErrorCode.KRB_AP_ERR_SKEW, "clock skew too great")
    return key.enctype


# --- the reply (RFC 4120 §3.1.3) ---------------------------------------------------------------


def _issue(ctx: KDCContext, req: ASReq, service: PrincipalEntry, out: Outcome, now: int) -> bytes:
    body = req["req_body"]
    settings = ctx.settings
    options = body["kdc_options"]
    times = ticket_times(*requested_times(body), options=options.bit_numbers(), now=now,
                         max_life=settings.max_life, max_renew=settings.max_renew)
    bits = flag_bits("initial")
    if out.pre_authent:
        bits |= flag_bits("pre-authent")
    for opt in ("forwardable", "proxiable"):
        if options.is_set(opt):
            bits |= flag_bits(opt)
    if times.renew_till is not None:
        bits |= flag_bits("renewable")
    if out.anonymous:
        bits.add(settings.anon.anonymous_bit)
    if out.session_key is not None:
        session = out.session_key
    else:
        etype = choose_enctype(requested_etypes(body), service.enctypes)
        session = crypto.random_to_key(etype, ctx.rand(crypto.get_profile(etype).seedsize))
    # K7: nothing identifying (no client addresses) in an anonymous ticket
    caddr = None if out.anonymous or isinstance(body["addresses"], core.Void) \
        else inner_der(body["addresses"])
    new = NewTicket(flags_value(bits), session, out.crealm, name_of(out.cname), times,
                    caddr_der=caddr)
    padata = [(int(p["padata_type"]), bytes(p["padata_value"].native)) for p in out.padata]
    return build_reply(
        is_as=True, realm=ctx.realm, service_key=service.strongest(settings.key_enctypes),
        sname=name_of(body["sname"]), new=new, nonce=int(body["nonce"]) & 0xFFFFFFFF,
        reply_key=out.reply_key, reply_usage=KeyUsage.AS_REP_ENC_PART,
        reply_kvno=out.reply_kvno, padata=padata, now=now, rand=ctx.rand)
