"""Ticket-engine errors: subclasses of the one gssmech hierarchy (gssmech.errors).

The opening rules of draft-salowey-tls-ticket-07 §3.2 ("If the server fails to verify the ticket
then it falls back to performing a full handshake") give callers three outcomes to tell apart:

* :class:`TicketUnknownKey`: the key_name is not held; nothing was computed (§5.4).  Fall back.
* :class:`TicketExpired`: the ticket (or the key that sealed it) is past its lifetime (§5.6).
* :class:`TicketInvalid`: ONE opaque error for every authentication failure (bad MAC, bad
  padding, wrong context binding, malformed sealed state, bad length).  It carries no detail on
  purpose, so the reason cannot act as an oracle (§5.3).
"""

from __future__ import annotations

from gssmech.errors import (
    GSS_S_CONTEXT_EXPIRED,
    GSS_S_DEFECTIVE_CREDENTIAL,
    GSS_S_DEFECTIVE_TOKEN,
    GSS_S_FAILURE,
    GSS_S_NO_CONTEXT,
    GSS_S_NO_CRED,
    MINOR_MESSAGES,
    DecodeError,
    GSSMechError,
    Minor,
)

__all__ = [
    "TicketEncodeError",
    "TicketError",
    "TicketExpired",
    "TicketInvalid",
    "TicketKeyError",
    "TicketKeyFileError",
    "TicketSealError",
    "TicketUnknownKey",
]


class TicketError(GSSMechError):
    """Root of the ticket engine's errors."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.GENERIC


class TicketInvalid(TicketError):
    """The ticket failed authentication; deliberately without detail (§5.3)."""

    MAJOR = GSS_S_DEFECTIVE_TOKEN
    MINOR = Minor.TICKET_INVALID

    def __init__(self) -> None:
        super().__init__()


class TicketExpired(TicketError):
    """The ticket's lifetime, or its key's decrypt window, has passed (§5.6)."""

    MAJOR = GSS_S_CONTEXT_EXPIRED
    MINOR = Minor.TICKET_EXPIRED

    def __init__(self) -> None:
        super().__init__()


class TicketUnknownKey(TicketError):
    """The ticket's key_name is not in the key ring (§4, §5.4).

    NB(tlsticket): this is the denial-of-service path (seed §5.4: "The key_name field ... helps
    the server efficiently reject tickets that it did not issue"), measured at ≥ 1,000,000
    rejections/s by bench/bench_tlsticket.py.  GSSMechError.__init__ is Python code and costs
    about half of that budget, so this class keeps the C-level ``BaseException.__init__`` and
    serves ``minor`` and the message from class attributes: ``raise TicketUnknownKey`` then
    allocates nothing but the instance.
    """

    MAJOR = GSS_S_NO_CONTEXT
    MINOR = Minor.TICKET_UNKNOWN_KEY
    minor = int(Minor.TICKET_UNKNOWN_KEY)
    __init__ = BaseException.__init__  # type: ignore[assignment]

    def __str__(self) -> str:
        return MINOR_MESSAGES[Minor.TICKET_UNKNOWN_KEY]


class TicketEncodeError(TicketError):
    """A value does not fit its TLS field (a caller's mistake, not peer input)."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.GENERIC


class TicketSealError(TicketError):
    """A ticket cannot be sealed: state too large, bad lifetime, or no key active (local)."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.GENERIC


class TicketKeyError(TicketError):
    """A ticket key or key ring is unusable: wrong key length, duplicate key_name, bad window."""

    MAJOR = GSS_S_NO_CRED
    MINOR = Minor.TICKET_KEYS


class TicketKeyFileError(DecodeError, TicketKeyError):
    """A key directory file or an nginx key file is malformed, truncated or unreadable."""

    MAJOR = GSS_S_DEFECTIVE_CREDENTIAL
    MINOR = Minor.TICKET_KEYS
