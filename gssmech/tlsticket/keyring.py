"""The key ring (DESIGN.md T6): seal with the newest active key, open with any held key.

Rotation follows draft-salowey-tls-ticket-07 §5.5 ("The key should be changed regularly") and
the shape every deployed server uses (notes/tickets-and-ccache.md §1.6-1.7): keys are
``next``, ``current``, ``previous`` (and retired keys still inside their decrypt window).

* seal: the newest key (largest ``not_before``) with ``not_before <= now < encrypt_until``.
  A ``next`` key whose ``not_before`` has come therefore takes over on every node at the same
  moment, even before the operator's ``rotate`` runs.
* open: any held key with ``now < decrypt_until``; ``renew`` is True when the opening key is not
  the key that would seal now, so the caller re-issues (§3.3 "it MAY renew the ticket").
* lifetime hint (§3.3): min(requested, remaining decrypt window of the sealing key, 7 days);
  0 means unspecified, and such a ticket is honoured for at most 7 days.

The ring is immutable: reloading a key directory builds a new ring, which a server swaps in
with one assignment (safe across threads).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from gssmech.tlsticket.errors import (
    TicketExpired,
    TicketInvalid,
    TicketKeyError,
    TicketSealError,
    TicketUnknownKey,
)
from gssmech.tlsticket.profiles import DEFAULT_PROFILE, TicketProfile, get_profile
from gssmech.tlsticket.ticket import (
    IV_SIZE,
    KEY_NAME_SIZE,
    MAX_TICKET_SIZE,
    MIN_TICKET_SIZE,
    TicketBinding,
    TicketKey,
    decode_sealed_state,
    encode_sealed_state,
    open_ticket,
    seal_ticket,
)

__all__ = [
    "DEFAULT_MAX_SKEW",
    "DEFAULT_TICKET_LIFETIME",
    "MAX_LIFETIME",
    "KeyRing",
    "OpenedTicket",
    "SealedTicket",
    "new_ticket_key",
]

#: 7 days: RFC 8446 §4.6.1's ceiling, applied to every ticket here (T5).
MAX_LIFETIME = 604800
DEFAULT_TICKET_LIFETIME = 86400
#: How far in the future a ticket's issued_at may lie (clock skew between fleet nodes).
DEFAULT_MAX_SKEW = 300


class SealedTicket(NamedTuple):
    #: The ticket bytes (§4), for NewSessionTicket or a GSS export token.
    ticket: bytes
    #: ticket_lifetime_hint for NewSessionTicket (§3.3): seconds, 0 = unspecified.
    lifetime_hint: int
    #: key_name of the sealing key.
    key_name: bytes
    #: The timestamp sealed inside.
    issued_at: int


class OpenedTicket(NamedTuple):
    #: The caller's state bytes.
    state: bytes
    #: key_name of the key that opened it.
    key_name: bytes
    #: True when an older (or not yet current) key opened it: re-issue a ticket.
    renew: bool
    #: Seconds since 1970 when it was sealed.
    issued_at: int
    #: Lifetime sealed inside (0 = unspecified).
    lifetime: int


def new_ticket_key(
    profile: str | TicketProfile = DEFAULT_PROFILE,
    *,
    not_before: int,
    encrypt_until: int,
    decrypt_until: int,
    randbytes: Callable[[int], bytes] = os.urandom,
) -> TicketKey:
    """A fresh key from the CSPRNG (§5.5, RFC 4086); the key_name is random too, never derived
    from the key (§4: "The key_name should be randomly generated to avoid collisions")."""
    p = get_profile(profile)
    return TicketKey(
        key_name=randbytes(KEY_NAME_SIZE),
        profile=p,
        aes_key=randbytes(p.aes_key_size),
        hmac_key=randbytes(p.hmac_key_size),
        not_before=not_before,
        encrypt_until=encrypt_until,
        decrypt_until=decrypt_until,
    )


class KeyRing:
    """Ticket keys held by one server; seals and opens tickets (T3-T6)."""

    __slots__ = ("_by_name", "_newest_first", "max_skew", "max_ticket_size", "ticket_lifetime")

    def __init__(
        self,
        keys: Iterable[TicketKey],
        *,
        ticket_lifetime: int = DEFAULT_TICKET_LIFETIME,
        max_skew: int = DEFAULT_MAX_SKEW,
        max_ticket_size: int = MAX_TICKET_SIZE,
    ) -> None:
        held = tuple(keys)
        by_name = {k.key_name: k for k in held}
        if len(by_name) != len(held):
            raise TicketKeyError("duplicate key_name in key ring")
        if not 0 <= ticket_lifetime <= MAX_LIFETIME:
            raise TicketKeyError(f"ticket_lifetime must be within 0..{MAX_LIFETIME} seconds")
        if not MIN_TICKET_SIZE <= max_ticket_size <= MAX_TICKET_SIZE:
            raise TicketKeyError(
                f"max_ticket_size must be within {MIN_TICKET_SIZE}..{MAX_TICKET_SIZE}"
            )
        self._by_name = by_name
        # Stable sort: among equal not_before, the key listed first counts as newer.
        self._newest_first = tuple(sorted(held, key=lambda k: -k.not_before))
        self.ticket_lifetime = ticket_lifetime
        self.max_skew = max_skew
        self.max_ticket_size = max_ticket_size

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str], **kwargs: int) -> KeyRing:
        """The ring in a key directory written by ``gssmech ticket-keys`` (keydir.py)."""
        from gssmech.tlsticket.keydir import load_key_directory

        key_file = load_key_directory(Path(path))
        kwargs.setdefault("ticket_lifetime", min(key_file.lifetime, MAX_LIFETIME))
        return cls(key_file.keys, **kwargs)

    @property
    def keys(self) -> tuple[TicketKey, ...]:
        """Held keys, newest ``not_before`` first."""
        return self._newest_first

    def __len__(self) -> int:
        return len(self._by_name)

    def lookup(self, ticket: bytes) -> TicketKey | None:
        """The held key named by the ticket's first 16 bytes, or None: no crypto (T3, §5.4).

        A pre-filter a server can run before anything else; ``open_at_time`` does the same."""
        return self._by_name.get(ticket[:KEY_NAME_SIZE])

    def sealing_key_at(self, now: int) -> TicketKey | None:
        """The newest key allowed to seal at ``now`` (None if no key is active)."""
        for key in self._newest_first:
            if key.not_before <= now < key.encrypt_until:
                return key
        return None

    # --- sealing -----------------------------------------------------------------------------

    def seal(
        self, state: bytes, binding: TicketBinding, *, lifetime: int | None = None
    ) -> SealedTicket:
        return self.seal_at_time(int(time.time()), state, binding, lifetime=lifetime)

    def seal_at_time(
        self,
        now: int,
        state: bytes,
        binding: TicketBinding,
        *,
        lifetime: int | None = None,
        iv: bytes | None = None,
    ) -> SealedTicket:
        """Seal ``state`` for ``binding`` at ``now`` (``iv`` injectable for tests).

        ``lifetime`` defaults to the ring's ``ticket_lifetime``; 0 asks for "unspecified"
        (§3.3).  The hint is never beyond the sealing key's decrypt window nor 7 days."""
        now = int(now)
        key = self.sealing_key_at(now)
        if key is None:
            raise TicketSealError(f"no ticket key is active for sealing at {now}")
        if type(state) is not bytes:
            if not isinstance(state, bytearray | memoryview):
                raise TicketSealError("state must be bytes")
            state = bytes(state)
        requested = self.ticket_lifetime if lifetime is None else lifetime
        if not isinstance(requested, int) or not 0 <= requested <= 0xFFFFFFFF:
            raise TicketSealError("lifetime must be a uint32 number of seconds")
        hint = min(requested, key.decrypt_until - now, MAX_LIFETIME) if requested else 0
        plaintext = encode_sealed_state(now, hint, binding, state)
        ticket = seal_ticket(key, plaintext, os.urandom(IV_SIZE) if iv is None else iv)
        if len(ticket) > self.max_ticket_size:
            raise TicketSealError(f"ticket of {len(ticket)} bytes exceeds max_ticket_size")
        return SealedTicket(ticket, hint, key.key_name, now)

    # --- opening -----------------------------------------------------------------------------

    def open(self, ticket: bytes, binding: TicketBinding) -> OpenedTicket:
        return self.open_at_time(int(time.time()), ticket, binding)

    def open_at_time(self, now: int, ticket: bytes, binding: TicketBinding) -> OpenedTicket:
        """Open ``ticket`` minted for ``binding``.

        Checks, in this order: size bounds; known key_name (a dict lookup on the 16-byte slice
        and nothing else: TicketUnknownKey, §5.4, T3); the key's decrypt window
        (TicketExpired); the MAC in constant time, then decryption and unpadding (T4,
        TicketInvalid); the sealed state's structure and the binding (TicketInvalid); then
        issued_at/lifetime (T5: TicketExpired, or TicketInvalid when issued in the future).
        """
        if type(ticket) is not bytes:
            if not isinstance(ticket, bytearray | memoryview):
                raise TicketInvalid
            ticket = bytes(ticket)
        if not MIN_TICKET_SIZE <= len(ticket) <= self.max_ticket_size:
            raise TicketInvalid
        key = self._by_name.get(ticket[:KEY_NAME_SIZE])
        if key is None:
            raise TicketUnknownKey
        now = int(now)
        if now >= key.decrypt_until:
            raise TicketExpired
        issued_at, lifetime, bound, state = decode_sealed_state(open_ticket(key, ticket))
        # The binding is checked before the clock: a ticket for another context is not ours at
        # all, so the caller must not learn "ours but old" about it.
        if not hmac.compare_digest(bound, binding.encoded):
            raise TicketInvalid
        if issued_at > now + self.max_skew:
            raise TicketInvalid
        effective = lifetime if 0 < lifetime < MAX_LIFETIME else MAX_LIFETIME
        if now >= issued_at + effective:
            raise TicketExpired
        renew = key is not self.sealing_key_at(now)
        return OpenedTicket(state, key.key_name, renew, issued_at, lifetime)
