"""Sans-I/O RFC 4121 security contexts (RFC 2743 §2.2, RFC 4121 §4.1).

- :class:`InitiatorContext` (``gssmech.gss._initiator``): built from a
  :class:`ServiceCredential`; ``step(None)`` returns the AP-REQ token, ``step(ap_rep)``
  completes mutual authentication.  G3: GSS_C_ANON_FLAG without an anonymous credential raises
  :class:`AnonymityUnavailable` and produces no token.
- :class:`AcceptorContext` (``gssmech.gss._acceptor``): built from a key lookup
  ``(server, kvno, enctype) -> Key | None``; ``step(ap_req)`` returns the AP-REP (or None).
  G1/G2/G4 anonymity rules are documented there.
- Both, once complete, and :class:`EstablishedContext` (resumed from ``export_state()``):
  ``wrap``/``unwrap``/``get_mic``/``verify_mic``/``wrap_size_limit``/``pseudo_random``.

Stages: :mod:`gssmech.gss._state`; tokens: :mod:`gssmech.gss.rfc4121`; errors carry their GSS
major codes (:mod:`gssmech.gss._ctx_errors`).
"""

from __future__ import annotations

from typing import Any

from gssmech.gss._acceptor import MAX_SKEW, AcceptorContext, KeyLookup
from gssmech.gss._ctx_errors import (
    AnonymityUnavailable,
    AnonymousRefused,
    APRejected,
    BadBindings,
    ContextExpired,
    CredentialExpired,
    MechanismBug,
    NoAcceptorKey,
    ReplayedAuthenticator,
)
from gssmech.gss._established import (
    Clock,
    EstablishedContext,
    UnwrapResult,
    VerifyResult,
    name_type_of,
)
from gssmech.gss._initiator import InitiatorContext, ServiceCredential, StepResult
from gssmech.gss._state import ContextNotEstablished, ContextStateError, Stage
from gssmech.gss.checksum import ChannelBindings

__all__ = [
    "MAX_SKEW",
    "APRejected",
    "AcceptorContext",
    "AnonymityUnavailable",
    "AnonymousRefused",
    "BadBindings",
    "ChannelBindings",
    "Clock",
    "ContextExpired",
    "ContextNotEstablished",
    "ContextStateError",
    "CredentialExpired",
    "EstablishedContext",
    "InitiatorContext",
    "KeyLookup",
    "MechanismBug",
    "NoAcceptorKey",
    "ReplayedAuthenticator",
    "ServiceCredential",
    "Stage",
    "StepResult",
    "UnwrapResult",
    "VerifyResult",
    "from_state",
    "name_type_of",
]


def from_state(state: dict[str, Any], *, clock: Clock | None = None) -> EstablishedContext:
    """Resume an established context from :meth:`export_state` output."""
    return EstablishedContext.from_state(state, clock=clock)
