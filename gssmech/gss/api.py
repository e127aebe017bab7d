"""The python-gssapi-shaped high-level API (``gssapi.Name``, ``gssapi.Credentials``,
``gssapi.SecurityContext``), so an application can switch by changing its import.

Differences kept on purpose: errors are :class:`gssmech.errors.GSSMechError` subclasses carrying
``major``/``minor`` (RFC 2744 §3.9.1); there is only one mechanism, reached through either the
krb5 OID (krb5 wire framing, talks to MIT/Heimdal/AD acceptors) or our native OID (default).

Anonymity (draft-ietf-krb-wg-anon-08 §6/§7, G3): an initiator asked for ``anonymity`` takes the
anonymous default credential when none is given, and refuses -- before asking a KDC for anything
and before producing a token -- when the credential it was given is not anonymous.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

from gssmech.errors import GSS_S_DUPLICATE_TOKEN, GSS_S_OLD_TOKEN, DecodeError, GSSMechError
from gssmech.gss import creds as _creds
from gssmech.gss import export as _export
from gssmech.gss import oids
from gssmech.gss._api_names import Credentials, MechType, Name, NameType, _gss_name
from gssmech.gss.checksum import ChannelBindings
from gssmech.gss.context import (
    AcceptorContext,
    AnonymityUnavailable,
    ContextNotEstablished,
    EstablishedContext,
    InitiatorContext,
    ServiceCredential,
)
from gssmech.gss.display import display_major
from gssmech.gss.flags import DEFAULT_INIT_FLAGS, GSSFlag, RequirementFlag
from gssmech.gss.names import GSSName, NameNotMN
from gssmech.gss.oids import Oid
from gssmech.gss.replaycache import ReplayCache, default_replay_cache

__all__ = [
    "ChannelBindings",
    "Credentials",
    "MechType",
    "Name",
    "NameType",
    "RequirementFlag",
    "SecurityContext",
    "UnwrapResult",
    "WrapResult",
]

Usage = Literal["initiate", "accept", "both"]
Clock = Callable[[], float]


class WrapResult(NamedTuple):
    #: the wrapped token
    message: bytes
    #: True if the message was encrypted
    encrypted: bool


class UnwrapResult(NamedTuple):
    #: the unwrapped message
    message: bytes
    #: True if the token was encrypted
    encrypted: bool
    #: quality of protection (always 0, RFC 4121)
    qop: int


# --- contexts -----------------------------------------------------------------------------------
def _bindings(value: object) -> ChannelBindings | bytes | None:
    """Ours, raw application data, or a python-gssapi ``ChannelBindings`` (duck-typed)."""
    if value is None or isinstance(value, ChannelBindings | bytes):
        return value
    return ChannelBindings(
        application_data=bytes(getattr(value, "application_data", None) or b""),
        initiator_addrtype=int(getattr(value, "initiator_address_type", None) or 0),
        initiator_address=bytes(getattr(value, "initiator_address", None) or b""),
        acceptor_addrtype=int(getattr(value, "acceptor_address_type", None) or 0),
        acceptor_address=bytes(getattr(value, "acceptor_address", None) or b""),
    )


class SecurityContext:
    """``gssapi.SecurityContext``: ``usage="initiate"`` with ``name`` (the target), or
    ``usage="accept"`` with acceptor ``creds``; ``SecurityContext(token=...)`` imports.

    After an import, ``ticket_renew`` is True when an older ticket key opened the token: export
    the context again to get a ticket under the current key (gssmech.gss.export)."""

    #: Set by an import (token=...): the ticket was opened by a key that no longer seals.
    ticket_renew: bool = False

    def __init__(
        self,
        base: Any = None,
        token: bytes | None = None,
        name: Name | GSSName | None = None,
        creds: Credentials | None = None,
        lifetime: int | None = None,
        flags: int | None = None,
        mech: object = None,
        channel_bindings: object = None,
        usage: Usage | None = None,
        *,
        replay_cache: ReplayCache | None = None,
        refuse_anonymous: bool = False,
        clock: Clock = time.time,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._clock = clock
        self._env = env
        self._core: Any = base
        self._creds = creds
        self._lifetime_req = lifetime
        self._bindings = _bindings(channel_bindings)
        self._replay_cache = replay_cache
        self._refuse_anonymous = refuse_anonymous
        if token is not None:
            self._core, self.ticket_renew = _import_context(token, clock, env)
            self.usage: str = "accept" if self._core._est.is_acceptor else "initiate"
            return
        if usage is None:
            usage = "initiate" if name is not None else "accept"
        self.usage = usage
        self._target = _gss_name(name)
        if usage == "initiate" and self._target is None:
            raise GSSMechError("an initiator needs the target name")
        # python-gssapi: falsy flags mean MUTUAL | SEQUENCE (out_of_sequence_detection).
        self._flags = GSSFlag(int(flags)) if flags else DEFAULT_INIT_FLAGS
        self._mech = oids.native_mech(env) if mech is None else oids.as_oid(mech)
        if not oids.is_our_mech(self._mech, env):
            raise GSSMechError(f"mechanism {self._mech} is not provided by gssmech")

    # --- establishment ------------------------------------------------------------------
    def step(self, token: bytes | None = None) -> bytes | None:
        if self.usage == "accept":
            return self._acceptor_step(token or b"")
        if self._core is None:
            self._core = self._new_initiator()
        result = self._core.step(token)
        return result.token

    def _new_initiator(self) -> InitiatorContext:
        anon = bool(self._flags & GSSFlag.anonymity)
        cred = self._creds.inner if self._creds is not None else None
        if cred is None:
            cred = _creds.acquire(usage="initiate", anonymous=anon, env=self._env)
        if anon and not cred.anonymous:
            # G3: refuse before the KDC or the acceptor sees anything naming the user.
            raise AnonymityUnavailable(
                "GSS_C_ANON_FLAG requested but the credential is not anonymous"
            )
        assert self._target is not None
        now = int(self._clock())
        ticket = cred.service_ticket(self._target.principal, now)
        return InitiatorContext(
            ServiceCredential.from_ccache(ticket),
            flags=self._flags,
            channel_bindings=self._bindings,
            mech=oids.initiator_framing(self._mech, self._env),
            clock=self._clock,
        )

    def _acceptor_step(self, token: bytes) -> bytes | None:
        if self._core is None:
            self._core = self._new_acceptor()
        result = self._core.step(token)
        return result.token

    def _new_acceptor(self) -> AcceptorContext:
        cred = self._creds.inner if self._creds is not None else None
        if cred is None:
            cred = _creds.acquire(usage="accept", env=self._env)
        if cred.keytab is None:  # RFC 2743 §2.2.2: GSS_S_NO_CRED, before the token is read
            raise _creds.NoCredentials("credential is not usable to accept")
        rc = self._replay_cache if self._replay_cache is not None else default_replay_cache()
        acceptor = cred.principal
        return AcceptorContext(
            cred.key_lookup,  # enforces the acceptor name, referral realm included
            principal=acceptor if acceptor is not None and acceptor.realm else None,
            replay_cache=rc,
            refuse_anonymous=self._refuse_anonymous,
            channel_bindings=self._bindings,
            accepted_mechs=(oids.KRB5_MECH, oids.native_mech(self._env)),
            clock=self._clock,
        )

    @property
    def complete(self) -> bool:
        return bool(self._core is not None and self._core.complete)

    @property
    def actual_flags(self) -> GSSFlag:
        return GSSFlag(int(self._core.flags)) if self._core is not None else GSSFlag(0)

    @property
    def initiator_name(self) -> Name | None:
        return self._name_of("initiator_name")

    @property
    def target_name(self) -> Name | None:
        if self._core is None:
            return None if self._target is None else Name(self._target)
        return self._name_of("target_name")

    def _name_of(self, attr: str) -> Name | None:
        est = getattr(self._core, "_est", None)
        principal = getattr(est, attr, None) or getattr(self._core, attr, None)
        if principal is None:
            return None
        mech = getattr(est, "mech", None) or oids.KRB5_MECH
        return Name(GSSName.from_principal(principal, mech))

    @property
    def lifetime(self) -> int:
        left = self._core.lifetime if self._core is not None else 0
        return left if self._lifetime_req is None else min(left, self._lifetime_req)

    @property
    def mech(self) -> Oid:
        est = getattr(self._core, "_est", None)
        return est.mech if est is not None else self._mech

    @property
    def locally_initiated(self) -> bool:
        return self.usage == "initiate"

    # --- per-message ------------------------------------------------------------------------
    def _established(self) -> Any:
        if self._core is None:
            raise ContextNotEstablished("context has not been established")
        return self._core

    def wrap(self, message: bytes, encrypt: bool) -> WrapResult:
        return WrapResult(self._established().wrap(message, encrypt), bool(encrypt))

    def unwrap(self, message: bytes) -> UnwrapResult:
        res, supplementary = self.unwrap_with_status(message)
        _raise_supplementary(supplementary)
        return res

    def unwrap_with_status(self, message: bytes) -> tuple[UnwrapResult, int]:
        """GSS_Unwrap as the C binding has it (RFC 2744 §5.31): the message and the RFC 2743
        §1.2.3 supplementary bits (DUPLICATE/OLD/UNSEQ/GAP_TOKEN), returned, never raised.
        The plugin hands the bits to its caller as the major status, as MIT does."""
        res = self._established().unwrap(message)
        return UnwrapResult(res.message, res.encrypted, res.qop), int(res.supplementary)

    def encrypt(self, message: bytes) -> bytes:
        return self.wrap(message, True).message

    def decrypt(self, message: bytes) -> bytes:
        res = self.unwrap(message)
        if not res.encrypted:
            raise GSSMechError("the message was not encrypted")
        return res.message

    def get_signature(self, message: bytes) -> bytes:
        return bytes(self._established().get_mic(message))

    def verify_signature(self, message: bytes, mic: bytes) -> int:
        qop, supplementary = self.verify_signature_with_status(message, mic)
        _raise_supplementary(supplementary)
        return qop

    def verify_signature_with_status(self, message: bytes, mic: bytes) -> tuple[int, int]:
        """GSS_VerifyMIC as the C binding has it: ``(qop, supplementary bits)``, never raised."""
        res = self._established().verify_mic(message, mic)
        return int(res.qop), int(res.supplementary)

    def get_wrap_size_limit(self, desired_output_size: int, encrypted: bool = True) -> int:
        return int(self._established().wrap_size_limit(desired_output_size, encrypted))

    def pseudo_random(self, prf_key: int, data: bytes, length: int) -> bytes:
        return bytes(self._established().pseudo_random(prf_key, data, length))

    def process_token(self, token: bytes) -> None:
        """RFC 4121 defines no context-level tokens after establishment (§4.3 deletion tokens
        are not used), so any token here is defective."""
        raise DecodeError("RFC 4121 has no context-level tokens to process")

    def export(self) -> bytes:
        """GSS_Export_sec_context (RFC 2743 §2.2.8): the established state (keys, sequence
        state, flags, names, expiry, mech) sealed as a stateless ticket with the key ring of
        :func:`gssmech.gss.export.default_ring` (``$GSSMECH_TICKET_KEYS``, krb5.conf
        ``gssmech_ticket_keys``, else a per-process ring: then only this process can import)."""
        state = self._established().export_state()
        ring = _export.default_ring(self._env)
        data = _export.seal_context(state, ring=ring, now=int(self._clock()))
        self._core = None  # RFC 2743 §2.2.8: the exported context is no longer usable here
        return data

    def delete(self) -> None:
        self._core = None


def _import_context(
    token: bytes, clock: Clock, env: Mapping[str, str] | None
) -> tuple[EstablishedContext, bool]:
    """GSS_Import_sec_context (RFC 2743 §2.2.9): open the sealed ticket; also "renew"."""
    ring = _export.default_ring(env)
    opened = _export.unseal_context(token, ring=ring, now=int(clock()))
    return EstablishedContext.from_state(opened.state, clock=clock), opened.renew


class SupplementaryStatus(GSSMechError):
    """A per-message token that verified but must not be delivered: a replay
    (GSS_S_DUPLICATE_TOKEN) or one too old to tell (GSS_S_OLD_TOKEN), RFC 2743 §1.2.3.
    ``major`` is the supplementary bits themselves, as MIT returns them."""

    def __init__(self, bits: int) -> None:
        # Supplementary information, not a failure: minor 0, as MIT reports it.
        super().__init__(" / ".join(display_major(bits)), minor=0)
        self.bits = bits

    @property
    def major(self) -> int:
        return self.bits


def _raise_supplementary(bits: int) -> None:
    """Replays and too-old tokens raise (python-gssapi raises DuplicateTokenError too); an
    out-of-order but new token (UNSEQ/GAP) is delivered -- it is authentic and unseen."""
    bad = bits & (GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN)
    if bad:
        raise SupplementaryStatus(bad)


__all__ += ["NameNotMN", "SupplementaryStatus"]
