"""``kvno``: get service tickets with the cached TGT and store them (MIT ``kvno``).

An anonymous cache's client realm is WELLKNOWN:ANONYMOUS; its TGT is found through the
``start_realm`` config entry (what MIT's get_creds does), C5.
"""

from __future__ import annotations

from gssmech.ccache import CCache
from gssmech.errors import CCacheError
from gssmech.krb5.asn1 import Ticket, decode
from gssmech.krb5.client.results import KDCReply
from gssmech.krb5.client.runner import run
from gssmech.krb5.client.tgs_exchange import TGT, TGSExchange
from gssmech.krb5.config import Profile, default_realm
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
