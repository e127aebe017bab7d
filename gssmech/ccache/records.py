"""Credential-cache records, as MIT's FILE ccache stores them (MIT doc ``ccache_file_format``).

These are plain values: the codec in :mod:`gssmech.ccache.fileformat` turns bytes into them and
back, and the cache layer (:mod:`gssmech.ccache.cache`) never touches bytes directly.

Two kinds of record share the credential layout with ordinary tickets:

* **config entries** (``krb5_cc_set_config``): server
  ``krb5_ccache_conf_data/<key>[/<assoc principal>]@X-CACHECONF:``, value in the ticket field,
  every other field zero;
* **removed entries** (``krb5_cc_remove_cred`` on FILE): overwritten in place with endtime 0
  and authtime -1 (config entries also get the realm ``X-RMED-CONF:``).  Lookups skip them, a
  rewrite keeps them, exactly like MIT's ``cc_file.c``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from gssmech.krb5.constants import NameType
from gssmech.krb5.principal import Principal

CONF_REALM = "X-CACHECONF:"
REMOVED_CONF_REALM = "X-RMED-CONF:"
CONF_NAME = "krb5_ccache_conf_data"

#: ``authtime`` written by MIT's ``delete_cred`` (-1 as an unsigned 32-bit field).
REMOVED_AUTHTIME = 0xFFFFFFFF

#: v4 header tag for the KDC time offset (``FCC_TAG_DELTATIME``).
TAG_DELTATIME = 1


@dataclass(frozen=True, slots=True)
class KeyBlock:
    """``krb5_keyblock``: enctype (16 bits on disk) and raw key bytes (never in repr/logs)."""

    enctype: int
    contents: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Credential:
    """One ``krb5_creds`` record.  Times are unsigned 32-bit Unix seconds (MIT ≥1.17 reads
    them as unsigned, so they run to 2106); ``ticket`` and ``second_ticket`` are raw DER."""

    client: Principal
    server: Principal
    key: KeyBlock = KeyBlock(0, b"")
    authtime: int = 0
    starttime: int = 0
    endtime: int = 0
    renew_till: int = 0
    is_skey: bool = False
    ticket_flags: int = 0
    addresses: tuple[tuple[int, bytes], ...] = ()
    authdata: tuple[tuple[int, bytes], ...] = ()
    ticket: bytes = b""
    second_ticket: bytes = b""

    @property
    def is_removed(self) -> bool:
        """MIT's ``cred_removed``: endtime 0 with a non-zero authtime."""
        return self.endtime == 0 and self.authtime != 0

    @property
    def is_config(self) -> bool:
        """A live ``X-CACHECONF:`` entry (``krb5_is_config_principal``)."""
        return _is_conf_server(self.server, CONF_REALM)

    @property
    def config_key(self) -> str | None:
        if not _is_conf_server(self.server, CONF_REALM, REMOVED_CONF_REALM):
            return None
        return self.server.components[1]

    @property
    def config_principal(self) -> str | None:
        """The associated principal, as MIT stored it (its unparsed name), or None."""
        if not _is_conf_server(self.server, CONF_REALM, REMOVED_CONF_REALM):
            return None
        comps = self.server.components
        return comps[2] if len(comps) > 2 else None

    @property
    def config_value(self) -> bytes:
        return self.ticket

    def removed(self) -> Credential:
        """The tombstone MIT's ``delete_cred`` writes over this record (same length)."""
        server = self.server
        if server.realm == CONF_REALM:
            server = Principal(server.name_type, server.components, REMOVED_CONF_REALM)
        return replace(self, server=server, endtime=0, authtime=REMOVED_AUTHTIME)


def _is_conf_server(server: Principal, *realms: str) -> bool:
    return (
        server.realm in realms and len(server.components) >= 2 and server.components[0] == CONF_NAME
    )


def config_server(key: str, principal: Principal | None = None) -> Principal:
    """``krb5_ccache_conf_data/<key>[/<unparsed principal>]@X-CACHECONF:`` (name type 1)."""
    comps: tuple[str, ...] = (CONF_NAME, key)
    if principal is not None:
        comps += (principal.unparse(),)
    return Principal(NameType.PRINCIPAL, comps, CONF_REALM)


def config_credential(
    client: Principal, key: str, value: bytes, principal: Principal | None = None
) -> Credential:
    """The record ``krb5_cc_set_config`` stores: value in the ticket field, all else zero."""
    return Credential(client=client, server=config_server(key, principal), ticket=bytes(value))


def same_principal(a: Principal, b: Principal) -> bool:
    """``krb5_principal_compare``: realm and components; the name type is ignored."""
    return a.realm == b.realm and a.components == b.components


@dataclass(frozen=True, slots=True)
class CCacheContents:
    """A whole FILE ccache: version 1-4, v4 header, default principal, records in file order.

    ``header_tags`` holds the v4 header tags other than DELTATIME, verbatim and in order
    (MIT skips tags it does not know; we keep them so a rewrite loses nothing).
    ``kdc_offset`` is the DELTATIME tag (seconds, microseconds) or None when absent.
    ``credentials`` includes config and removed entries.
    """

    version: int
    principal: Principal
    credentials: tuple[Credential, ...] = ()
    header_tags: tuple[tuple[int, bytes], ...] = ()
    kdc_offset: tuple[int, int] | None = None

    def live_credentials(self) -> tuple[Credential, ...]:
        """Tickets only: neither config entries nor removed records."""
        return tuple(
            c
            for c in self.credentials
            if not c.is_removed and not _is_conf_server(c.server, CONF_REALM, REMOVED_CONF_REALM)
        )

    def config_entries(self) -> tuple[Credential, ...]:
        return tuple(c for c in self.credentials if c.is_config and not c.is_removed)

    def get_config(self, key: str, principal: Principal | None = None) -> bytes | None:
        """First live match wins, as in ``krb5_cc_get_config`` (duplicates are tolerated)."""
        want = config_server(key, principal)
        for cred in self.config_entries():
            if same_principal(cred.server, want):
                return cred.ticket
        return None
