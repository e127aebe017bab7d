"""GSS credentials for the Kerberos mechanism (RFC 2743 §2.1, RFC 5588 store_cred).

- Initiator: tickets in a credential cache (``store={"ccache": name}`` or ``KRB5CCNAME``); a
  name that is not the cache's principal is looked for in the cache's DIR collection, like
  MIT's ``krb5_cc_cache_match``.
- Acceptor: keys in a keytab (``store={"keytab": name}`` or ``KRB5_KTNAME``): any key in it,
  or only the named principal's (an unmapped host-based name has the referral realm and
  matches that service in any realm, like MIT's ``krb5_sname_match``).
- Anonymous (draft-ietf-krb-wg-anon-08 §6/§7; G3): asked for with a GSS_C_NT_ANONYMOUS name,
  or ``anonymous=True`` (the anon flag with the default credential).  An anonymous TGT is taken
  from a cache whose principal is ``WELLKNOWN/ANONYMOUS`` (the caller's, the collection's, or the
  configured anonymous cache); failing that one is obtained per configuration through the
  Kerberos client (:func:`gssmech.tools.kinit.kinit_anonymous`) and cached.  Failing *that*,
  the result is :class:`AnonymityUnavailable`, never a named credential.

The clock is a parameter (``now``) everywhere; files are touched only through the ccache layer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from gssmech.ccache import CCache, Credential, Keytab, resolve
from gssmech.ccache.resolve import DirCollection, split_name
from gssmech.environ import ENVIRON
from gssmech.errors import (
    GSS_S_CREDENTIALS_EXPIRED,
    GSS_S_DUPLICATE_ELEMENT,
    GSS_S_NO_CRED,
    CCacheError,
    GSSMechError,
    KeytabError,
    Minor,
)
from gssmech.gss import oids
from gssmech.gss._ctx_errors import AnonymityUnavailable  # one class for G3, shared with the core
from gssmech.gss.names import GSSName
from gssmech.krb5.constants import RFC8062, AnonProfile
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal

Usage = Literal["initiate", "accept", "both"]

#: Environment variable naming the cache anonymous TGTs are kept in.
ANON_CCACHE_ENV = "GSSMECH_ANON_CCACHE"


class NoCredentials(GSSMechError):
    MAJOR = GSS_S_NO_CRED
    MINOR = Minor.CCACHE_NO_MATCH


class CredentialExists(GSSMechError):
    """RFC 5588 §2: GSS_Store_cred into a cache that holds credentials, without overwrite_cred."""

    MAJOR = GSS_S_DUPLICATE_ELEMENT
    MINOR = Minor.CCACHE_EXISTS


class CredentialsExpired(GSSMechError):
    MAJOR = GSS_S_CREDENTIALS_EXPIRED
    MINOR = Minor.TICKET_EXPIRED


def _same(a: Principal, b: Principal) -> bool:
    return a.realm == b.realm and a.components == b.components


def _name_matches(want: Principal, have: Principal) -> bool:
    """``krb5_sname_match``: the referral (empty) realm matches any realm."""
    return want.components == have.components and (not want.realm or want.realm == have.realm)


def is_anonymous_ticket(cred: Credential, profile: AnonProfile = RFC8062) -> bool:
    """The ticket's client is the anonymous principal *and* the anonymous flag is set (§3)."""
    return cred.client.is_anonymous_name and bool(cred.ticket_flags & profile.flag_value)


@dataclass(frozen=True, slots=True)
class Credentials:
    """A GSS credential: an initiator ccache and/or an acceptor keytab, and what they hold."""

    usage: Usage
    name: GSSName | None
    ccache: CCache | None = None
    keytab: Keytab | None = None
    anonymous: bool = False
    #: acquire-time lifetime request, seconds (None: as long as the tickets)
    requested_lifetime: int | None = None
    #: the environment acquire() used (KRB5_CONFIG...): later TGS requests use the same KDCs
    env: Mapping[str, str] | None = None

    # --- inquiry ---------------------------------------------------------------------------
    @property
    def principal(self) -> Principal | None:
        return None if self.name is None else self.name.principal

    def reported_name(self) -> GSSName | None:
        """The name GSS_Inquire_cred reports (RFC 2743 §2.1.3).  A default acceptor credential
        has no name (any key in its keytab will do), and reports its keytab's first principal,
        as MIT's krb5 mechanism does: the mechglue cannot pass GSS_C_NO_NAME up, and python-gssapi
        callers print ``Credentials(usage="accept").name``.  None when the keytab has no keys
        any more."""
        if self.name is not None or self.keytab is None:
            return self.name
        try:
            entries = self.keytab.entries()
        except KeytabError:
            return None
        return GSSName.from_principal(entries[0].principal) if entries else None

    def lifetime(self, now: int | None = None) -> int | None:
        """Seconds left (RFC 2743 §2.1.3); None = GSS_C_INDEFINITE (acceptor-only creds)."""
        if self.ccache is None:
            return None
        t = int(time.time()) if now is None else now
        end = self._tgt_endtime()
        left = max(0, end - t)
        return left if self.requested_lifetime is None else min(left, self.requested_lifetime)

    def _tgt_endtime(self) -> int:
        assert self.ccache is not None
        contents = self.ccache.read()  # one read and parse for the principal and the tickets
        client = contents.principal
        creds = [c for c in contents.live_credentials() if _same(c.client, client)]
        tgts = [c for c in creds if c.server.components[:1] == ("krbtgt",)]
        return max((c.endtime for c in (tgts or creds)), default=0)

    # --- initiator ---------------------------------------------------------------------------
    def service_ticket(self, target: Principal, now: int | None = None) -> Credential:
        """The ticket for ``target``: from the cache, else from the KDC (cached on the way)."""
        if self.ccache is None:
            raise NoCredentials("credential is not usable to initiate")
        t = int(time.time()) if now is None else now
        contents = self.ccache.read()  # one read and parse for the principal and the tickets
        client = contents.principal
        found = find_service_ticket(contents.live_credentials(), client, target, t)
        if found is not None:
            return found
        return _fetch_service_ticket(self.ccache, client, target, t, self.env)

    # --- acceptor ----------------------------------------------------------------------------
    def key_lookup(self, principal: Principal, kvno: int | None, enctype: int) -> Key | None:
        """The keytab key a ticket for ``principal`` was sealed with, if this credential may use
        it (RFC 4120 §3.2.3: the ticket's sname, kvno and enctype choose the key)."""
        if self.keytab is None:
            return None
        acceptor = self.principal
        if acceptor is not None and not _name_matches(acceptor, principal):
            return None
        entry = self.keytab.find(principal, kvno=kvno, enctype=enctype)
        if entry is None and kvno is not None:
            # NB(mit): a kvno mismatch falls back to any kvno (rd_req_dec.c "try all keys").
            entry = self.keytab.find(principal, enctype=enctype)
        return None if entry is None else Key(entry.enctype, entry.key)

    # --- store_cred (RFC 5588) ---------------------------------------------------------------
    def store(self, store: Mapping[str, str] | None = None, *, overwrite: bool = True) -> CCache:
        """Write this credential's principal and tickets into a ccache MIT's klist reads."""
        if self.ccache is None:
            raise NoCredentials("only initiator credentials can be stored")
        target = resolve((store or {}).get("ccache"))
        if target.full_name == self.ccache.full_name:
            return target
        if target.exists() and not overwrite:
            raise CredentialExists(f"{target.full_name} exists and overwrite was not requested")
        self.ccache.copy_to(target)
        return target


def find_service_ticket(
    creds: Sequence[Credential], client: Principal, target: Principal, now: int
) -> Credential | None:
    """A live ticket from ``client`` to ``target``.  The referral realm prefers the client's
    realm, then the name exactly as requested (MIT caches referral results under it)."""
    live = [c for c in creds if _same(c.client, client) and c.endtime > now]
    if target.realm:
        return next((c for c in live if _same(c.server, target)), None)
    for realm in (client.realm, ""):
        want = Principal(target.name_type, target.components, realm)
        hit = next((c for c in live if _same(c.server, want)), None)
        if hit is not None:
            return hit
    return next((c for c in live if _name_matches(target, c.server)), None)


def _fetch_service_ticket(
    ccache: CCache,
    client: Principal,
    target: Principal,
    now: int,
    env: Mapping[str, str] | None,
) -> Credential:
    """TGS through the Kerberos client; the ticket is cached on the way (issue-3 client)."""
    from gssmech.tools.kvno import get_service_ticket

    return get_service_ticket(ccache, target, now=now, env=ENVIRON if env is None else env)


# --- acquisition (thin I/O) ------------------------------------------------------------------
def acquire(
    name: GSSName | None = None,
    usage: Usage = "both",
    *,
    store: Mapping[str, str] | None = None,
    lifetime: int | None = None,
    anonymous: bool = False,
    env: Mapping[str, str] | None = None,
    now: int | None = None,
) -> Credentials:
    """RFC 2743 §2.1.1 GSS_Acquire_cred (and RFC 5588-style ``store`` locations)."""
    env = ENVIRON if env is None else env
    t = int(time.time()) if now is None else now
    want_anon = (
        anonymous
        or (name is not None and name.name_type == oids.NT_ANONYMOUS)
        or (name is not None and name.is_anonymous)
    )
    ccache = keytab = None
    if usage in ("initiate", "both"):
        try:
            ccache = _initiator_cache(name, store, env, t, want_anon)
        except (NoCredentials, CredentialsExpired, CCacheError):
            if usage == "initiate" or want_anon:
                raise
    if usage in ("accept", "both"):
        try:
            keytab = _acceptor_keytab(name, store, env)
        except (NoCredentials, KeytabError):
            if usage == "accept" or ccache is None:
                raise
    if ccache is not None:
        principal = ccache.principal()
        cred_name = GSSName.from_principal(principal)
        anon = principal.is_anonymous_name
    else:
        cred_name = name.canonicalize() if name is not None else None
        anon = False
    if usage == "both" and (ccache is None or keytab is None):
        usage = "initiate" if keytab is None else "accept"
    return Credentials(
        usage=usage,
        name=cred_name,
        ccache=ccache,
        keytab=keytab,
        anonymous=anon,
        requested_lifetime=lifetime,
        env=env,
    )


def _initiator_cache(
    name: GSSName | None,
    store: Mapping[str, str] | None,
    env: Mapping[str, str],
    now: int,
    want_anon: bool,
) -> CCache:
    cc_name = (store or {}).get("ccache")
    if want_anon:
        return _anonymous_cache(cc_name, store, env, now)
    cache = resolve(cc_name, env=env)
    if name is not None and not _cache_is_for(cache, name.principal):
        cache = _collection_match(cache, name.principal, env)
    _check_live(cache, now)
    return cache


def _cache_is_for(cache: CCache, principal: Principal) -> bool:
    try:
        return cache.exists() and _same(cache.principal(), principal)
    except CCacheError:
        return False


def _collection_match(cache: CCache, principal: Principal, env: Mapping[str, str]) -> CCache:
    kind, residual = split_name(cache.full_name)
    if kind == "DIR":
        directory = os.path.dirname(residual[1:]) if residual.startswith(":") else residual
        for member in DirCollection(directory, env=env).caches():
            if _cache_is_for(member, principal):
                return member
    raise NoCredentials(f"no credential cache for {principal}")


def _check_live(cache: CCache, now: int) -> None:
    if not cache.exists():
        raise NoCredentials(
            f"credential cache {cache.full_name} not found", minor=Minor.CCACHE_NOT_FOUND
        )
    contents = cache.read()
    client = contents.principal
    creds = [c for c in contents.live_credentials() if _same(c.client, client)]
    if not creds:
        raise NoCredentials(f"credential cache {cache.full_name} holds no tickets")
    if all(c.endtime <= now for c in creds):
        raise CredentialsExpired(f"tickets in {cache.full_name} have expired")


def anonymous_cache_name(store: Mapping[str, str] | None, env: Mapping[str, str]) -> str:
    """Where anonymous TGTs live: ``store["anon_ccache"]``, ``$GSSMECH_ANON_CCACHE``, or the
    default cache's name with ``.anon`` appended (a separate cache: the user's stays theirs)."""
    explicit = (store or {}).get("anon_ccache") or env.get(ANON_CCACHE_ENV)
    if explicit:
        return explicit
    base = resolve((store or {}).get("ccache"), env=env)
    kind = "FILE" if base.cache_type == "DIR" else base.cache_type
    return f"{kind}:{base.path}.anon"


def _anonymous_cache(
    cc_name: str | None,
    store: Mapping[str, str] | None,
    env: Mapping[str, str],
    now: int,
) -> CCache:
    """A cache whose principal is the anonymous one, with a live anonymous TGT (§6)."""
    candidates: list[CCache] = []
    try:
        primary = resolve(cc_name, env=env)
        candidates.append(primary)
        kind, residual = split_name(primary.full_name)
        if kind == "DIR":
            directory = os.path.dirname(residual[1:]) if residual.startswith(":") else residual
            candidates += DirCollection(directory, env=env).caches()
    except CCacheError:
        pass
    anon_name = anonymous_cache_name(store, env)
    candidates.append(resolve(anon_name, env=env))
    for cache in candidates:
        if _usable_anonymous(cache, now):
            return cache
    return _obtain_anonymous(resolve(anon_name, env=env), env, now)


def _usable_anonymous(cache: CCache, now: int) -> bool:
    try:
        if not cache.exists():
            return False
        if not cache.principal().is_anonymous_name:
            return False
        return any(is_anonymous_ticket(c) and c.endtime > now for c in cache.credentials())
    except CCacheError:
        return False


def _obtain_anonymous(cache: CCache, env: Mapping[str, str], now: int) -> CCache:
    """Anonymous PKINIT (or anonymous TGS, per config) through the Kerberos client, cached in
    ``cache``.  Whatever the KDC returns is checked again: a named ticket is never used (G3)."""
    from gssmech.tools.kinit import kinit_anonymous

    try:
        kinit_anonymous(cache, env=env, now=now)
    except GSSMechError as exc:
        raise AnonymityUnavailable(f"cannot obtain an anonymous ticket: {exc}") from exc
    if not _usable_anonymous(cache, now):
        raise AnonymityUnavailable("the KDC did not issue an anonymous ticket")
    return cache


def _acceptor_keytab(
    name: GSSName | None, store: Mapping[str, str] | None, env: Mapping[str, str]
) -> Keytab:
    keytab = Keytab.resolve((store or {}).get("keytab"), env=env)
    if not keytab.exists():
        raise NoCredentials(f"keytab {keytab.full_name} not found", minor=Minor.KEYTAB_NOT_FOUND)
    entries = keytab.entries()
    if name is not None:
        entries = [e for e in entries if _name_matches(name.principal, e.principal)]
    if not entries:
        what = f"for {name.principal}" if name is not None else "at all"
        raise NoCredentials(
            f"keytab {keytab.full_name} has no keys {what}", minor=Minor.KEYTAB_NO_KEY
        )
    return keytab
