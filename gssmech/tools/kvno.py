"""``kvno``: get service tickets with the cached TGT and store them (MIT ``kvno``).

An anonymous cache's client realm is WELLKNOWN:ANONYMOUS; its TGT is found through the
``start_realm`` config entry (what MIT's get_creds does), C5.
"""

from __future__ import annotations

from collections.abc import Mapping

from gssmech.ccache import CCache, Credential
from gssmech.environ import ENVIRON
from gssmech.errors import CCacheError
from gssmech.krb5.asn1 import Ticket, decode
from gssmech.krb5.client.results import KDCReply
from gssmech.krb5.client.runner import run
from gssmech.krb5.client.tgs_exchange import TGT, TGSExchange
from gssmech.krb5.config import Profile, default_realm, load_default
from gssmech.krb5.constants import NameType
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal
from gssmech.tools.kinit import credential_of, kdcs_for


def tgt_realm(ccache: CCache) -> str:
    """start_realm if present, else the client's realm (MIT get_creds)."""
    start = ccache.get_config("start_realm")
    return start.decode("utf-8", "replace") if start else ccache.principal().realm


def find_tgt(ccache: CCache) -> TGT:
    realm = tgt_realm(ccache)
    server = Principal(NameType.SRV_INST, ("krbtgt", realm), realm)
    cred = ccache.find(server)
    if cred is None:
        raise CCacheError(f"No credentials found for krbtgt/{realm}@{realm} in {ccache.full_name}")
    return TGT(cred.client, cred.server, Key(cred.key.enctype, cred.key.contents), cred.ticket)


def service_principal(name: str, profile: Profile) -> Principal:
    p = Principal.parse(name, default_realm=default_realm(profile))
    if p.name_type == NameType.PRINCIPAL and len(p.components) == 2:
        p = Principal(NameType.SRV_HST, p.components, p.realm)  # MIT kvno default: NT-SRV-HST
    return p


def ticket_kvno(reply: KDCReply) -> int:
    tkt = decode(Ticket, reply.ticket, what="Ticket")
    kvno = tkt["enc_part"]["kvno"].native
    return int(kvno or 0)


def kvno(profile: Profile, ccache: CCache, service: str) -> KDCReply:
    server = service_principal(service, profile)
    tgt = find_tgt(ccache)
    # MIT kvno asks the KDC even when the cache holds a ticket (KRB5_GC_CACHED is not set)
    reply = run(TGSExchange(tgt, server), kdcs_for(profile))
    ccache.store(credential_of(reply))
    return reply


def get_service_ticket(
    ccache: CCache,
    target: Principal,
    *,
    now: int | None = None,
    env: Mapping[str, str] = ENVIRON,
) -> Credential:
    """TGS for ``target`` with the cache's TGT; the ticket is stored in the cache and returned.

    An anonymous TGT keeps asking anonymously (seed §4.2, C1).  A target with the empty
    (referral) realm, as MIT gives unmapped host-based names, is asked of the TGT's realm.
    ``now`` is the caller's clock seam; the exchange reads the clock itself.
    """
    profile = load_default(env)
    tgt = find_tgt(ccache)
    if not target.realm:
        target = Principal(target.name_type, target.components, tgt.server.realm)
    exchange = TGSExchange(tgt, target, anonymous=tgt.client.is_anonymous_name)
    cred = credential_of(run(exchange, kdcs_for(profile)))
    ccache.store(cred)
    return cred
