"""``kinit``: obtain a TGT (password, keytab, or anonymous PKINIT) and store it as MIT does.

The cache gets what MIT 1.20 ``kinit`` writes (compare tests/data/mit/cc.anon): the DELTATIME
header (KDC clock offset), config entries ``fast_avail`` (only when the KDC advertised
PA-FX-FAST) and ``pa_type`` associated with the TGS principal, ``start_realm`` when the TGT's
realm differs from the client's (anonymous PKINIT: the issuing realm), then the TGT.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from gssmech.ccache import CCache, Credential, KeyBlock, Keytab, resolve
from gssmech.environ import ENVIRON
from gssmech.errors import ConfigError
from gssmech.krb5.client.as_exchange import ASExchange, RequestOptions
from gssmech.krb5.client.results import KDCReply
from gssmech.krb5.client.runner import run
from gssmech.krb5.config import (
    Profile,
    default_realm,
    libdefault,
    pkinit_anchors,
    pkinit_libdefault_strings,
    realm_kdcs,
)
from gssmech.krb5.constants import anon_profile
from gssmech.krb5.crypto import Key
from gssmech.krb5.pkinit import kex
from gssmech.krb5.pkinit.client import AnonymousPKINIT
from gssmech.krb5.pkinit.cms import load_anchors
from gssmech.krb5.principal import Principal


def kdcs_for(profile: Profile) -> Callable[[str], list[str]]:
    def lookup(realm: str) -> list[str]:
        return realm_kdcs(profile, realm)

    return lookup


def load_pkinit_anchors(profile: Profile, realm: str) -> list:
    """pkinit_anchors FILE:/DIR: values (MIT syntax) as certificates; none configured -> []."""
    certs = []
    for value in pkinit_anchors(profile, realm):
        kind, _, path = value.partition(":")
        if kind == "FILE":
            certs += load_anchors(Path(path).read_bytes())
        elif kind == "DIR":
            for item in sorted(Path(path).iterdir()):
                if item.suffix in (".pem", ".crt", ".0"):
                    certs += load_anchors(item.read_bytes())
        else:
            raise ConfigError(f"unsupported pkinit_anchors type {kind!r}", source="krb5.conf")
    return certs


def _options(profile: Profile, realm: str) -> RequestOptions:
    name = libdefault(profile, "gssmech_anon_profile", realm)
    try:
        anon = anon_profile(name)
    except ValueError as exc:
        raise ConfigError(str(exc), source="krb5.conf") from None
    return RequestOptions(profile=anon)


def _dh_group(profile: Profile, realm: str) -> kex.FFDHGroup:
    # MIT's pkinit_dh_min_bits (default 2048) picks the smallest group it allows
    bits = pkinit_libdefault_strings(profile, realm, "pkinit_dh_min_bits")
    return kex.MODP16 if bits and bits[0].strip().isdigit() and int(bits[0]) > 2048 else kex.MODP14


def anonymous_exchange(profile: Profile, realm: str) -> ASExchange:
    pkinit = AnonymousPKINIT(
        realm,
        load_pkinit_anchors(profile, realm),
        group=_dh_group(profile, realm),
        kdc_hostnames=tuple(pkinit_libdefault_strings(profile, realm, "pkinit_kdc_hostname")),
        profile=_options(profile, realm).profile,
    )
    return ASExchange(Principal.anonymous(realm), pkinit=pkinit, options=_options(profile, realm))


def keytab_keys(keytab: Keytab, principal: Principal) -> list[Key]:
    """The highest-kvno key of each enctype for ``principal`` in ``keytab``."""
    best: dict[int, tuple[int, bytes]] = {}
    for entry in keytab.entries():
        p = entry.principal
        if p.components == principal.components and p.realm == principal.realm:
            if entry.enctype not in best or entry.kvno >= best[entry.enctype][0]:
                best[entry.enctype] = (entry.kvno, entry.key)
    return [Key(e, k) for e, (_, k) in best.items()]


def store_initial(ccache: CCache, reply: KDCReply) -> None:
    """Write the TGT and MIT's config entries (order and values as MIT 1.20 kinit)."""
    ccache.initialize(reply.client, kdc_offset=(reply.kdc_offset, 0))
    if reply.fast_avail:
        ccache.set_config("fast_avail", b"yes", reply.server)
    if reply.pa_type is not None:
        ccache.set_config("pa_type", str(reply.pa_type).encode(), reply.server)
    if reply.kdc_realm != reply.client.realm:
        ccache.set_config("start_realm", reply.kdc_realm.encode())
    ccache.store(credential_of(reply))


def credential_of(reply: KDCReply) -> Credential:
    return Credential(
        client=reply.client,
        server=reply.server,
        key=KeyBlock(reply.session_key.enctype, reply.session_key.contents),
        authtime=reply.authtime,
        starttime=reply.starttime,
        endtime=reply.endtime,
        renew_till=reply.renew_till,
        ticket_flags=reply.flags,
        ticket=reply.ticket,
    )


def kinit(
    profile: Profile,
    *,
    principal: str | None = None,
    anonymous: bool = False,
    use_keytab: bool = False,
    keytab: str | None = None,
    ccname: str | None = None,
    password: Callable[[Principal], str] | None = None,
    env: Mapping[str, str] = ENVIRON,
) -> tuple[KDCReply, CCache]:
    """Run kinit: returns the reply and the cache it was stored in.

    ``anonymous`` with no principal or ``@REALM`` is anonymous PKINIT (seed §4.1); with a
    principal it is authenticated anonymity: the client's own keys plus the anonymous option,
    giving WELLKNOWN/ANONYMOUS with the client's realm (seed §5, K11; MIT's KDC refuses it).
    """
    realm = default_realm(profile)
    if principal and principal.startswith("@"):
        realm, principal = principal[1:], None
    if anonymous and not principal:
        if not realm:
            raise ConfigError("no default realm configured", source="krb5.conf")
        exchange = anonymous_exchange(profile, realm)
    elif use_keytab:
        kt = Keytab.resolve(keytab, config=profile, env=env)
        if principal:
            client = Principal.parse(principal, default_realm=realm)
        else:
            entries = kt.entries()
            if not entries:
                raise ConfigError(f"keytab {kt.full_name} is empty", source="keytab")
            client = entries[0].principal
        exchange = ASExchange(
            client,
            keys=keytab_keys(kt, client),
            anonymous=anonymous,
            options=_options(profile, client.realm),
        )
    else:
        if not principal:
            principal = env.get("USER") or os.getlogin()
        client = Principal.parse(principal, default_realm=realm)
        if password is None:
            raise ConfigError("no password source", source="kinit")
        exchange = ASExchange(
            client,
            password=password(client),
            anonymous=anonymous,
            options=_options(profile, client.realm),
        )
    reply = run(exchange, kdcs_for(profile))
    ccache = resolve(ccname, config=profile, env=env)
    store_initial(ccache, reply)
    return reply, ccache


def kinit_anonymous(
    ccache: CCache, *, env: Mapping[str, str] = ENVIRON, now: int | None = None
) -> KDCReply:
    """Obtain an anonymous TGT into ``ccache`` for the GSS layer (DESIGN.md, acquire_cred).

    ``[libdefaults] gssmech_anonymous_source`` picks how (per realm, like every libdefault):
    ``pkinit`` (default): anonymous PKINIT to the default realm, a fully anonymous ticket
    (seed §4.1); ``tgs``: the anonymous option in a TGS request made with the user's TGT from
    the default cache, giving WELLKNOWN/ANONYMOUS with the user's realm (seed §4.2, §5).
    ``now`` is accepted for the caller's clock seam; exchanges read the clock themselves.
    """
    from gssmech.krb5.client.tgs_exchange import TGSExchange
    from gssmech.krb5.config import load_default
    from gssmech.tools.kvno import find_tgt

    profile = load_default(env)
    realm = default_realm(profile)
    if not realm:
        raise ConfigError("no default realm configured", source="krb5.conf")
    source = (libdefault(profile, "gssmech_anonymous_source", realm) or "pkinit").lower()
    if source == "pkinit":
        reply = run(anonymous_exchange(profile, realm), kdcs_for(profile))
    elif source == "tgs":
        tgt = find_tgt(resolve(None, config=profile, env=env))
        krbtgt = Principal.krbtgt(tgt.server.realm)
        reply = run(TGSExchange(tgt, krbtgt, anonymous=True), kdcs_for(profile))
    else:
        raise ConfigError(
            f"gssmech_anonymous_source = {source!r}: expected pkinit or tgs", source="krb5.conf"
        )
    store_initial(ccache, reply)
    return reply
