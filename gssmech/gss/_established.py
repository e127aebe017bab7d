"""An established RFC 4121 context: keys, sequence numbers, flags, names, expiry, and the
per-message calls (RFC 2743 §2.3) on top of :mod:`gssmech.gss.rfc4121` and
:mod:`gssmech.gss.seqstate`.  Also the plain-dict export/import of that state (the ticket
helper seals it; RFC 2743 §2.2.8/§2.2.9 GSS_Export/Import_sec_context).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from gssmech.errors import DecodeError, GSSMechError
from gssmech.gss._ctx_errors import ContextExpired, MechanismBug
from gssmech.gss._state import Event, Stage, StateMachine
from gssmech.gss.flags import GSSFlag
from gssmech.gss.oids import NT_ANONYMOUS, NT_KRB5_PRINCIPAL_NAME, Oid
from gssmech.gss.rfc4121 import MASK64, TokenKeys
from gssmech.gss.seqstate import SeqState
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal

STATE_VERSION = 1
Clock = Callable[[], float]


class UnwrapResult(NamedTuple):
    #: the message
    message: bytes
    #: True if the token was encrypted
    encrypted: bool
    #: quality of protection (always 0 for RFC 4121)
    qop: int
    #: RFC 2743 supplementary bits (DUPLICATE/OLD/UNSEQ/GAP_TOKEN), 0 if in order
    supplementary: int


class VerifyResult(NamedTuple):
    qop: int
    supplementary: int


def name_type_of(principal: Principal) -> Oid:
    """G1/G2: only WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS is GSS_C_NT_ANONYMOUS."""
    return NT_ANONYMOUS if principal.is_fully_anonymous else NT_KRB5_PRINCIPAL_NAME


@dataclass(slots=True)
class Established:
    """Everything an established context needs for per-message protection."""

    is_acceptor: bool
    mech: Oid
    flags: int
    initiator_name: Principal
    target_name: Principal
    expiry: int
    keys: TokenKeys
    send_seq: int
    recv: SeqState

    # --- per-message calls -------------------------------------------------------------------
    def _alive(self, clock: Clock) -> None:
        # NB(mit): kg_seal/kg_unseal refuse once the ticket end time has passed.
        if clock() > self.expiry:
            raise ContextExpired("the security context has expired")

    def _next_seq(self) -> int:
        seq = self.send_seq
        self.send_seq = (seq + 1) & MASK64
        return seq

    def wrap(
        self, message: bytes, conf: bool, clock: Clock, confounder: bytes | None = None
    ) -> bytes:
        self._alive(clock)
        return self.keys.wrap(message, self._next_seq(), conf=conf, confounder=confounder)

    def unwrap(self, token: bytes, clock: Clock) -> UnwrapResult:
        self._alive(clock)
        res = guarded(self.keys.unwrap, token)
        return UnwrapResult(res.message, res.conf_state, 0, self.recv.check(res.seq_number))

    def get_mic(self, message: bytes, clock: Clock) -> bytes:
        self._alive(clock)
        return self.keys.get_mic(message, self._next_seq())

    def verify_mic(self, message: bytes, token: bytes, clock: Clock) -> VerifyResult:
        self._alive(clock)
        seq = guarded(self.keys.verify_mic, message, token)
        return VerifyResult(0, self.recv.check(seq))

    def lifetime(self, clock: Clock) -> int:
        return max(0, int(self.expiry - clock()))

    # --- export / import ---------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "role": "acceptor" if self.is_acceptor else "initiator",
            "mech": self.mech.dotted,
            "flags": int(self.flags),
            "initiator_name": _principal_dict(self.initiator_name),
            "target_name": _principal_dict(self.target_name),
            "expiry": int(self.expiry),
            "key": _key_dict(self.keys.key),
            "acceptor_subkey": _key_dict(self.keys.acceptor_subkey),
            "send_seq": self.send_seq,
            "recv": self.recv.to_dict(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Established:
        try:
            if state["version"] != STATE_VERSION:
                raise DecodeError(f"state version {state['version']!r}")
            if state["role"] not in ("acceptor", "initiator"):
                raise DecodeError(f"role {state['role']!r}")
            is_acceptor = state["role"] == "acceptor"
            sub = state["acceptor_subkey"]
            return cls(
                is_acceptor=is_acceptor,
                mech=Oid.from_dotted(state["mech"]),
                flags=int(state["flags"]),
                initiator_name=_principal_from(state["initiator_name"]),
                target_name=_principal_from(state["target_name"]),
                expiry=int(state["expiry"]),
                keys=TokenKeys(
                    is_acceptor, _key_from(state["key"]), None if sub is None else _key_from(sub)
                ),
                send_seq=int(state["send_seq"]) & MASK64,
                recv=SeqState.from_dict(state["recv"]),
            )
        except DecodeError as exc:
            raise DecodeError(str(exc), source="exported context state") from None
        except (GSSMechError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DecodeError(f"{type(exc).__name__}: {exc}", source="exported context state") \
                from None


class PerMessage:
    """RFC 2743 §2.3 per-message calls of an established context (initiator, acceptor, or
    one resumed from exported state); every one is refused until establishment."""

    _est: Established | None
    _sm: StateMachine
    clock: Clock

    @property
    def stage(self) -> Stage:
        return self._sm.stage

    @property
    def complete(self) -> bool:
        return self._sm.stage is Stage.ESTABLISHED

    def _establishing(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one establishment step: any failure ends the context (RFC 2743 §2.2.1: a
        context that failed to establish cannot be continued), and nothing untyped escapes."""
        try:
            return guarded(fn, *args)
        except GSSMechError:  # guarded() turned anything else into MechanismBug already
            self._sm.fail()
            raise

    def _established(self) -> Established:
        self._sm.require_established()
        assert self._est is not None
        return self._est

    def wrap(self, message: bytes, conf: bool = True, *, confounder: bytes | None = None) -> bytes:
        """GSS_Wrap; ``conf`` False gives an integrity-only token."""
        return guarded(self._established().wrap, message, conf, self.clock, confounder)

    def unwrap(self, token: bytes) -> UnwrapResult:
        """GSS_Unwrap; replay/sequence findings are in ``supplementary``."""
        return guarded(self._established().unwrap, token, self.clock)

    def get_mic(self, message: bytes) -> bytes:
        return guarded(self._established().get_mic, message, self.clock)

    def verify_mic(self, message: bytes, token: bytes) -> VerifyResult:
        return guarded(self._established().verify_mic, message, token, self.clock)

    def wrap_size_limit(self, output_size: int, conf: bool = True) -> int:
        return guarded(self._established().keys.wrap_size_limit, output_size, conf)

    def pseudo_random(self, prf_key: int, data: bytes, length: int) -> bytes:
        """GSS_Pseudo_random (RFC 4401, krb5: RFC 4402)."""
        return guarded(self._established().keys.pseudo_random, prf_key, data, length)

    @property
    def lifetime(self) -> int:
        """Seconds left (0 if expired or not yet established)."""
        return self._est.lifetime(self.clock) if self._est is not None else 0

    def export_state(self) -> dict[str, Any]:
        """Everything needed to resume per-message protection elsewhere (keys included!)."""
        return self._established().to_state()


class EstablishedContext(PerMessage):
    """A context resumed from :meth:`PerMessage.export_state` output."""

    def __init__(self, est: Established, *, clock: Clock | None = None) -> None:
        self._est = est
        self._sm = StateMachine()
        self._sm.process(Event.IMPORT)
        self.clock = clock or default_clock

    @classmethod
    def from_state(cls, state: dict[str, Any], *, clock: Clock | None = None) -> EstablishedContext:
        return cls(Established.from_state(state), clock=clock)

    @property
    def is_acceptor(self) -> bool:
        assert self._est is not None
        return self._est.is_acceptor

    @property
    def flags(self) -> GSSFlag:
        assert self._est is not None
        return GSSFlag(self._est.flags)

    @property
    def initiator_name(self) -> Principal:
        assert self._est is not None
        return self._est.initiator_name

    @property
    def target_name(self) -> Principal:
        assert self._est is not None
        return self._est.target_name

    @property
    def mech(self) -> Oid:
        assert self._est is not None
        return self._est.mech


def guarded(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a token check; any non-GSS exception is a bug, reported as GSS_S_FAILURE."""
    try:
        return fn(*args)
    except GSSMechError:
        raise
    except Exception as exc:  # the house rule: nothing untyped escapes
        raise MechanismBug(f"{type(exc).__name__}: {exc}") from exc


def _principal_dict(p: Principal) -> dict[str, Any]:
    return {"name_type": p.name_type, "components": list(p.components), "realm": p.realm}


def _principal_from(d: dict[str, Any]) -> Principal:
    comps = d["components"]
    if not isinstance(comps, list | tuple) or not all(isinstance(c, str) for c in comps):
        raise DecodeError("principal components must be text")
    if not isinstance(d["realm"], str):
        raise DecodeError("realm must be text")
    return Principal(int(d["name_type"]), tuple(comps), d["realm"])


def _key_dict(key: Key | None) -> dict[str, Any] | None:
    return None if key is None else {"enctype": key.enctype, "contents": key.contents}


def _key_from(d: dict[str, Any]) -> Key:
    return Key(int(d["enctype"]), bytes(d["contents"]))


def default_clock() -> float:
    return time.time()


def flags_of(value: int) -> GSSFlag:
    return GSSFlag(int(value))
