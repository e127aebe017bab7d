"""Client-side ticket storage (DESIGN.md T7) in a Kerberos credential cache.

draft-salowey-tls-ticket-07 gives the client three duties:

* §3.3: keep the ticket *opaque* ("Clients MUST NOT examine the ticket", §4) together with its
  ``ticket_lifetime_hint`` (seconds, relative to when the ticket was received; 0 = unspecified)
  and "delete the ticket and associated state when the time expires";
* §3.2: "If the ticket is accepted by the server but the handshake fails the client SHOULD
  delete the ticket" (:meth:`TicketStore.discard`);
* §5.8: a ticket presented twice lets an on-path observer link the two connections.  RFC 8446
  Appendix C.4 turns that into "Clients SHOULD NOT reuse a ticket for multiple connections", so
  a *single-use* entry is removed as :meth:`TicketStore.get` hands it out.

Storage: one ccache config entry per server (MIT ``krb5_cc_set_config``), so the tickets live
beside the Kerberos credentials they belong with and MIT's ``klist -C`` lists them::

    krb5_ccache_conf_data/gssmech_tls_ticket/<assoc>@X-CACHECONF:

``<assoc>`` is the associated-principal component, which MIT fills with
``krb5_unparse_name(principal)``: any bytes but NUL (the component is built from C strings),
shown raw by ``klist -C``.  The server identifier is mapped to it injectively:

* a Kerberos principal string with a realm that unparses back to itself
  (``host/localhost@REALM``) is stored as is, so MIT's ``krb5_cc_get_config(ctx, cc, princ,
  "gssmech_tls_ticket")`` finds it too;
* anything else (``example.com:443``, ``[::1]:8443``, text with ``/ @ \\``, controls, spaces
  or non-ASCII) is percent-encoded (UTF-8; only ``A-Z a-z 0-9 - . _ ~ : [ ]`` stay literal)
  and followed by ``@``, i.e. a one-component principal with an empty realm, so it never
  needs escaping and can never collide with the first form (whose realm is never empty).

Value (the config entry's ticket field): printable ASCII without spaces, so ``klist -C``
(which escapes anything but graphic characters, a space as ``\\040``) shows it unescaped::

    1:<received_at>:<lifetime_hint>:<reusable|single-use>:<base64 ticket>

``1`` is the format version; ``received_at`` Unix seconds (0..2^63-1) and ``lifetime_hint``
(0..2^32-1) in canonical decimal; the ticket in canonical padded base64 (RFC 4648 §4),
1..65535 bytes (``opaque ticket<0..2^16-1>``, §3.3).  Decoding accepts only what
:func:`encode_stored_ticket` produces; anything else is malformed, and a malformed entry is
removed and treated as absent.

Expiry: a ticket may be used while ``received_at <= now < received_at + lifetime`` with
``lifetime = min(hint, max_lifetime)``, and ``max_lifetime`` (7 days by default, RFC 8446
§4.6.1: "Clients MUST NOT cache tickets for longer than 7 days") when the hint is 0.  A
``received_at`` in the future means the clock went back: the age is unknown, so the ticket is
treated as expired (local policy, which §3.3 allows: "It MAY delete the ticket earlier").

Concurrency: ``set_config`` replaces an entry under the cache's exclusive lock.  Taking a
single-use ticket (read, then remove) is atomic between threads of this process; between
processes it needs a remove-and-return primitive in the ccache layer (not there yet).
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from gssmech.errors import CCacheFormatError, PrincipalError
from gssmech.krb5.constants import NameType
from gssmech.krb5.principal import Principal
from gssmech.tlsticket.errors import TicketEncodeError, TicketError
from gssmech.tlsticket.keyring import MAX_LIFETIME

__all__ = [
    "CONFIG_KEY",
    "FORMAT_VERSION",
    "MAX_TICKET_SIZE",
    "StoredTicket",
    "TicketEntry",
    "TicketStore",
    "assoc_principal",
    "decode_stored_ticket",
    "encode_stored_ticket",
    "server_from_assoc",
]

#: The ccache config key (``krb5_ccache_conf_data/<key>/...``).
CONFIG_KEY = "gssmech_tls_ticket"
FORMAT_VERSION = 1
#: ``opaque ticket<0..2^16-1>`` (seed §3.3); an empty ticket is never stored.
MAX_TICKET_SIZE = 0xFFFF
MAX_RECEIVED_AT = (1 << 63) - 1
MAX_HINT = 0xFFFFFFFF
_MODES = {"reusable": False, "single-use": True}
_MODE_NAMES = {v: k for k, v in _MODES.items()}
_SAFE = ":[]"  # with urllib's always-safe A-Z a-z 0-9 - . _ ~
_VALUE_RE = re.compile(
    rb"1:(0|[1-9][0-9]{0,18}):(0|[1-9][0-9]{0,9}):(reusable|single-use):([A-Za-z0-9+/=]+)"
)


class ConfigCache(Protocol):
    """What the store needs from a credential cache (:class:`gssmech.ccache.CCache`)."""

    def set_config(
        self, key: str, value: bytes | None, principal: Principal | None = None
    ) -> None: ...

    def get_config(self, key: str, principal: Principal | None = None) -> bytes | None: ...

    def take_config(
        self,
        key: str,
        principal: Principal | None = None,
        *,
        consume: Callable[[bytes], bool] = ...,
    ) -> bytes | None: ...

    def config_entries(self) -> Sequence[_ConfigEntry]: ...


class _ConfigEntry(Protocol):
    @property
    def config_key(self) -> str | None: ...

    @property
    def config_principal(self) -> str | None: ...

    @property
    def config_value(self) -> bytes: ...


# --- the value codec (sans-I/O) ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredTicket:
    """What the client keeps per server (seed §3.3): the opaque ticket and its hint."""

    received_at: int
    lifetime_hint: int
    single_use: bool
    ticket: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.ticket, bytes) or not 1 <= len(self.ticket) <= MAX_TICKET_SIZE:
            raise TicketEncodeError(f"a stored ticket must be 1..{MAX_TICKET_SIZE} bytes")
        if not 0 <= self.received_at <= MAX_RECEIVED_AT:
            raise TicketEncodeError(f"received_at {self.received_at} out of range")
        if not 0 <= self.lifetime_hint <= MAX_HINT:
            raise TicketEncodeError(f"lifetime_hint {self.lifetime_hint} does not fit uint32")

    def expires_at(self, max_lifetime: int = MAX_LIFETIME) -> int:
        """First second at which the ticket is no longer used (hint 0 → ``max_lifetime``)."""
        hint = self.lifetime_hint or max_lifetime
        return self.received_at + min(hint, max_lifetime)

    def is_usable_at(self, now: int, max_lifetime: int = MAX_LIFETIME) -> bool:
        return self.received_at <= now < self.expires_at(max_lifetime)


def encode_stored_ticket(entry: StoredTicket) -> bytes:
    """The config-entry value (format in the module docstring)."""
    mode = _MODE_NAMES[entry.single_use]
    b64 = base64.b64encode(entry.ticket).decode("ascii")
    return f"{FORMAT_VERSION}:{entry.received_at}:{entry.lifetime_hint}:{mode}:{b64}".encode()


def decode_stored_ticket(data: bytes, *, source: str = CONFIG_KEY) -> StoredTicket:
    """Inverse of :func:`encode_stored_ticket`; anything it would not produce raises
    :class:`~gssmech.errors.CCacheFormatError`."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CCacheFormatError(f"expected bytes, got {type(data).__name__}", source=source)
    raw = bytes(data)
    m = _VALUE_RE.fullmatch(raw)
    if m is None:
        raise CCacheFormatError("not a gssmech stored-ticket value (version 1)", source=source)
    received_at, hint = int(m[1]), int(m[2])
    if received_at > MAX_RECEIVED_AT or hint > MAX_HINT:
        raise CCacheFormatError("stored time or lifetime hint out of range", source=source)
    try:
        ticket = base64.b64decode(m[4], validate=True)
    except binascii.Error:
        raise CCacheFormatError("stored ticket is not valid base64", source=source) from None
    if base64.b64encode(ticket) != m[4]:  # non-canonical padding bits or '=' placement
        raise CCacheFormatError("stored ticket is not canonical base64", source=source)
    if not 1 <= len(ticket) <= MAX_TICKET_SIZE:
        raise CCacheFormatError(f"stored ticket is not 1..{MAX_TICKET_SIZE} bytes", source=source)
    return StoredTicket(received_at, hint, _MODES[m[3].decode("ascii")], ticket)


# --- server identifier <-> associated principal ----------------------------------------------
def _principal_form(server: str) -> Principal | None:
    try:
        princ = Principal.parse(server)
    except PrincipalError:
        return None
    return princ if princ.realm and princ.unparse() == server else None


def assoc_principal(server: str) -> Principal:
    """The principal whose unparsed name is the config entry's associated component."""
    if not isinstance(server, str) or not server:
        raise PrincipalError("a ticket's server identifier must be a non-empty string")
    princ = _principal_form(server)
    if princ is not None:
        return princ
    try:
        encoded = urllib.parse.quote(server, safe=_SAFE, encoding="utf-8", errors="strict")
    except UnicodeEncodeError:  # lone surrogates cannot be stored as UTF-8
        raise PrincipalError(f"server identifier {server!r} is not valid text") from None
    return Principal(NameType.UNKNOWN, (encoded,), "")


def server_from_assoc(assoc: str) -> str | None:
    """Inverse of ``assoc_principal(server).unparse()``; None when ``assoc`` is not one."""
    candidates = [assoc]
    if assoc.endswith("@"):  # the percent-encoded form (or a realm ending in an escaped @)
        try:
            candidates.append(urllib.parse.unquote(assoc[:-1], encoding="utf-8", errors="strict"))
        except UnicodeDecodeError:
            pass
    for server in candidates:
        try:
            if server and assoc_principal(server).unparse() == assoc:
                return server  # the mapping is injective: at most one candidate matches
        except PrincipalError:
            continue
    return None


# --- the store over a ccache ------------------------------------------------------------------
class TicketEntry(NamedTuple):
    """One stored ticket, described without handing out its bytes."""

    #: The server identifier given to :meth:`TicketStore.store`.
    server: str
    #: When the client received the ticket (Unix seconds).
    received_at: int
    #: ticket_lifetime_hint as received (0 = unspecified).
    lifetime_hint: int
    #: True when :meth:`TicketStore.get` consumes the ticket.
    single_use: bool
    #: First second at which it is no longer used (hint, capped by ``max_lifetime``).
    expires_at: int


def _clock() -> int:
    return int(time.time())


def _seconds(now: float | None) -> int:
    value = _clock() if now is None else now
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MAX_RECEIVED_AT  # also rejects NaN
    ):
        raise TicketEncodeError(f"now must be non-negative Unix seconds, got {value!r}")
    return int(value)


# One lock for every store in the process: a take (read + remove) must not interleave with
# another take, store or discard of the same entry, whichever TicketStore object made it.
_LOCK = threading.RLock()


class TicketStore:
    """Opaque session tickets per server in a credential cache (seed §3.2, §3.3, §5.8).

    ``single_use`` is the default mode for :meth:`store`; the mode is saved with each ticket,
    so a ticket stored single-use is consumed by any reader.  ``max_lifetime`` caps every
    hint and replaces a hint of 0 (at most 7 days, RFC 8446 §4.6.1).
    """

    def __init__(
        self, cache: ConfigCache, *, single_use: bool = False, max_lifetime: int = MAX_LIFETIME
    ) -> None:
        if isinstance(max_lifetime, bool) or not isinstance(max_lifetime, int):
            raise TicketError("max_lifetime must be an integer number of seconds")
        if not 1 <= max_lifetime <= MAX_LIFETIME:
            raise TicketError(f"max_lifetime must be within 1..{MAX_LIFETIME} seconds")
        self.cache = cache
        self.single_use = bool(single_use)
        self.max_lifetime = max_lifetime

    def store(
        self,
        server: str,
        ticket: bytes,
        lifetime_hint: int,
        *,
        now: float | None = None,
        single_use: bool | None = None,
    ) -> None:
        """Keep ``ticket`` (from NewSessionTicket, §3.3) for ``server``, replacing any older
        one (a renewed ticket supersedes the old, §3.3).  A zero-length ticket means the
        server decided not to issue one (§3.3): any stored ticket is discarded instead."""
        princ = assoc_principal(server)
        if not isinstance(ticket, bytes | bytearray | memoryview):
            raise TicketEncodeError(f"ticket must be bytes, got {type(ticket).__name__}")
        if isinstance(lifetime_hint, bool) or not isinstance(lifetime_hint, int):
            raise TicketEncodeError("lifetime_hint must be an integer (uint32 seconds)")
        if not bytes(ticket):
            with _LOCK:
                self.cache.set_config(CONFIG_KEY, None, princ)
            return
        mode = self.single_use if single_use is None else bool(single_use)
        entry = StoredTicket(_seconds(now), lifetime_hint, mode, bytes(ticket))
        with _LOCK:
            self.cache.set_config(CONFIG_KEY, encode_stored_ticket(entry), princ)

    def get(self, server: str, *, now: float | None = None) -> bytes | None:
        """The ticket to present to ``server`` (SessionTicket extension, §3.2), or None.

        Expired or malformed entries are removed and reported as absent; a single-use
        entry is removed as it is returned, so it is never presented twice (§5.8)."""
        princ = assoc_principal(server)
        at = _seconds(now)

        def decoded(raw: bytes) -> StoredTicket | None:
            try:
                return decode_stored_ticket(raw, source=f"{CONFIG_KEY}({server})")
            except CCacheFormatError:
                return None

        def consume(raw: bytes) -> bool:
            entry = decoded(raw)
            if entry is None or entry.single_use:
                return True
            return not entry.is_usable_at(at, self.max_lifetime)

        # One exclusive ccache lock covers read and removal, so a single-use ticket is handed
        # out once even to several processes (the thread lock covers MEMORY: caches too).
        with _LOCK:
            raw = self.cache.take_config(CONFIG_KEY, princ, consume=consume)
        entry = decoded(raw) if raw is not None else None
        usable = entry is not None and entry.is_usable_at(at, self.max_lifetime)
        return entry.ticket if entry is not None and usable else None

    def discard(self, server: str) -> None:
        """Forget ``server``'s ticket: the server accepted it but the handshake then failed
        (§3.2: "the client SHOULD delete the ticket"), or the caller wants a full exchange."""
        princ = assoc_principal(server)
        with _LOCK:
            self.cache.set_config(CONFIG_KEY, None, princ)

    def _decoded(self) -> list[tuple[str, StoredTicket | None]]:
        out: list[tuple[str, StoredTicket | None]] = []
        seen: set[str] = set()
        for cred in self.cache.config_entries():
            assoc = cred.config_principal
            if cred.config_key != CONFIG_KEY or assoc is None:
                continue
            server = server_from_assoc(assoc)
            if server is None or server in seen:  # first live entry wins, as get_config
                continue
            seen.add(server)
            try:
                out.append((server, decode_stored_ticket(cred.config_value)))
            except CCacheFormatError:
                out.append((server, None))
        return out

    def entries(self, *, now: float | None = None) -> list[TicketEntry]:
        """The usable tickets at ``now``, in cache order, without their bytes."""
        at = _seconds(now)
        with _LOCK:
            decoded = self._decoded()
        return [
            TicketEntry(
                server,
                e.received_at,
                e.lifetime_hint,
                e.single_use,
                e.expires_at(self.max_lifetime),
            )
            for server, e in decoded
            if e is not None and e.is_usable_at(at, self.max_lifetime)
        ]

    def purge(self, *, now: float | None = None) -> list[str]:
        """Remove every expired or malformed entry (§3.3 "SHOULD delete ... when the time
        expires"); return the servers whose entries were removed."""
        at = _seconds(now)
        removed: list[str] = []
        with _LOCK:
            for server, entry in self._decoded():
                if entry is None or not entry.is_usable_at(at, self.max_lifetime):
                    self.cache.set_config(CONFIG_KEY, None, assoc_principal(server))
                    removed.append(server)
        return removed
