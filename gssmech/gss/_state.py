"""Context establishment stages as a transition table (house style 4; model: h11 ``_state``).

Rules:

- A context starts in ``INITIAL``.
- The initiator's first step sends the AP-REQ: ``SEND_AP_REQ`` leads to ``AWAIT_AP_REP`` when
  mutual authentication was requested, otherwise ``SEND_AP_REQ_FINAL`` leads straight to
  ``ESTABLISHED``; in ``AWAIT_AP_REP`` only ``RECV_AP_REP`` (→ ``ESTABLISHED``) is legal.
- The acceptor's only step is ``RECV_AP_REQ`` (→ ``ESTABLISHED``, with or without an AP-REP).
- ``FAIL`` is legal from every stage that is not already terminal; ``FAILED`` is terminal and
  so is ``ESTABLISHED`` for establishment (per-message calls need ``ESTABLISHED``).
- An import (``IMPORT``) goes from ``INITIAL`` to ``ESTABLISHED``.

This module does not know which role it serves: roles only choose which events they send.
"""

from __future__ import annotations

import enum

from gssmech.errors import GSS_S_FAILURE, GSS_S_NO_CONTEXT, GSSMechError, Minor


class Stage(enum.Enum):
    INITIAL = "initial"
    AWAIT_AP_REP = "await-ap-rep"
    ESTABLISHED = "established"
    FAILED = "failed"


class Event(enum.Enum):
    SEND_AP_REQ = "send-ap-req"
    SEND_AP_REQ_FINAL = "send-ap-req-final"
    RECV_AP_REP = "recv-ap-rep"
    RECV_AP_REQ = "recv-ap-req"
    IMPORT = "import"
    FAIL = "fail"


TRANSITIONS: dict[tuple[Stage, Event], Stage] = {
    (Stage.INITIAL, Event.SEND_AP_REQ): Stage.AWAIT_AP_REP,
    (Stage.INITIAL, Event.SEND_AP_REQ_FINAL): Stage.ESTABLISHED,
    (Stage.AWAIT_AP_REP, Event.RECV_AP_REP): Stage.ESTABLISHED,
    (Stage.INITIAL, Event.RECV_AP_REQ): Stage.ESTABLISHED,
    (Stage.INITIAL, Event.IMPORT): Stage.ESTABLISHED,
    (Stage.INITIAL, Event.FAIL): Stage.FAILED,
    (Stage.AWAIT_AP_REP, Event.FAIL): Stage.FAILED,
}


class ContextStateError(GSSMechError):
    """A call the context's stage does not allow (a step after completion or failure)."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.GENERIC


class ContextNotEstablished(GSSMechError):
    """A per-message call on a context that is not established (MIT: GSS_S_NO_CONTEXT)."""

    MAJOR = GSS_S_NO_CONTEXT
    MINOR = Minor.GENERIC


class StateMachine:
    """Holds the current stage; :meth:`process` applies one event or raises."""

    __slots__ = ("stage",)

    def __init__(self, stage: Stage = Stage.INITIAL) -> None:
        self.stage = stage

    def process(self, event: Event) -> Stage:
        try:
            self.stage = TRANSITIONS[(self.stage, event)]
        except KeyError:
            raise ContextStateError(
                f"cannot {event.value} in stage {self.stage.value}"
            ) from None
        return self.stage

    def fail(self) -> None:
        """Mark failure if not already terminal (errors during a step end the context)."""
        if (self.stage, Event.FAIL) in TRANSITIONS:
            self.stage = TRANSITIONS[(self.stage, Event.FAIL)]

    def require_established(self) -> None:
        if self.stage is not Stage.ESTABLISHED:
            raise ContextNotEstablished(f"context is {self.stage.value}, not established")
