"""The initiator side of an RFC 4121 context (sans-I/O): AP-REQ out, AP-REP in.

G3 (draft-ietf-krb-wg-anon-08 §5, "the initiator MUST NOT send the initial security context
token" when anonymity was requested and is not available): with GSS_C_ANON_FLAG the context
refuses, before any token exists, unless the credential is anonymous -- the client principal
is WELLKNOWN/ANONYMOUS (any realm) *and* the ccache's ticket flags carry the anonymous flag of
the profile (RFC 8062 bit 16 by default).  The initiator cannot decrypt its ticket, so the
ccache's client name and ticket flags are the evidence.  An anonymous credential reports ANON
even when it was not requested.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gssmech.errors import DecodeError, IntegrityError
from gssmech.gss import _der, framing
from gssmech.gss._ctx_errors import (
    AnonymityUnavailable,
    APRejected,
    CredentialExpired,
)
from gssmech.gss._established import Clock, Established, PerMessage, default_clock
from gssmech.gss._state import Event, Stage, StateMachine
from gssmech.gss.checksum import Bindings, GSSChecksum, bindings_hash
from gssmech.gss.flags import ALWAYS_GRANTED, GSSFlag
from gssmech.gss.oids import DEFAULT_NATIVE_MECH, Oid
from gssmech.gss.rfc4121 import TokenKeys
from gssmech.gss.seqstate import SeqState
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import ErrorCode, KeyUsage, KRBError, Ticket, decode, derwrite
from gssmech.krb5.asn1.apfields import read_ap_rep, read_enc_ap_rep_part
from gssmech.krb5.constants import RFC8062, AnonProfile, ChecksumType
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal

Random = Callable[[int], bytes]
#: Flags the initiator passes on in the 0x8003 checksum and grants when asked.
_NEGOTIATED = GSSFlag.MUTUAL | GSSFlag.REPLAY | GSSFlag.SEQUENCE
#: NB(mit): initial sequence numbers are kept below 2**30 (old peers decode them signed).
SEQ_MASK = 0x3FFFFFFF


@dataclass(frozen=True, slots=True)
class ServiceCredential:
    """A service ticket as a ccache holds it (RFC 4120 §5.3 outside the encrypted part)."""

    client: Principal
    server: Principal
    session_key: Key = field(repr=False)
    ticket: bytes = field(repr=False)
    ticket_flags: int
    endtime: int

    @classmethod
    def from_ccache(cls, cred: Any) -> ServiceCredential:
        """From a :class:`gssmech.ccache.Credential` (duck-typed to keep gss off ccache)."""
        return cls(
            cred.client,
            cred.server,
            Key(cred.key.enctype, cred.key.contents),
            cred.ticket,
            cred.ticket_flags,
            cred.endtime,
        )

    def is_anonymous(self, profile: AnonProfile = RFC8062) -> bool:
        return self.client.is_anonymous_name and bool(self.ticket_flags & profile.flag_value)


def ticket_der(raw: bytes) -> bytes:
    """The Ticket as the AP-REQ carries it (RFC 4120 §5.3): ``raw`` checked by the strict
    decoder (a ccache is input too: a bad ticket is a DecodeError, never a bad token), with
    its two outer headers in minimal DER form.  A pure function of the bytes, so results are
    memoized (errors are not): the same cached ticket is checked once, not on every context.
    """
    if isinstance(raw, bytes):
        return _ticket_der_memo(raw)
    return _ticket_der(raw)  # decode() reports what is wrong with it


def _ticket_der(raw: bytes) -> bytes:
    ticket = decode(Ticket, raw, what="service ticket")
    return derwrite.app(1, derwrite.tlv(0x30, ticket.contents))  # Ticket, RFC 4120 §5.3


_ticket_der_memo = functools.lru_cache(maxsize=64)(_ticket_der)


class StepResult(NamedTuple):
    #: the token to send to the peer, or None
    token: bytes | None
    #: True once the context is established
    complete: bool


class InitiatorContext(PerMessage):
    """RFC 4121 §4.1 initiator.  ``step(None)`` → AP-REQ; ``step(ap_rep)`` when MUTUAL."""

    def __init__(
        self,
        credential: ServiceCredential,
        *,
        flags: int = GSSFlag.MUTUAL | GSSFlag.SEQUENCE,
        channel_bindings: Bindings = None,
        mech: Oid = DEFAULT_NATIVE_MECH,
        anon_profile: AnonProfile = RFC8062,
        clock: Clock = default_clock,
        rng: Random = os.urandom,
    ) -> None:
        self.credential = credential
        self.requested_flags = GSSFlag(int(flags))
        self.channel_bindings = channel_bindings
        self.mech = mech
        self.anon_profile = anon_profile
        self.clock = clock
        self.rng = rng
        self._sm = StateMachine()
        self._est: Established | None = None
        self._ctime = 0
        self._cusec = 0
        self._subkey: Key | None = None
        self._seq = 0
        self.flags = self._grantable()

    # --- properties ----------------------------------------------------------------------
    @property
    def initiator_name(self) -> Principal:
        return self.credential.client

    @property
    def target_name(self) -> Principal:
        return self.credential.server

    @property
    def expiry(self) -> int:
        return self.credential.endtime

    def _grantable(self) -> GSSFlag:
        flags = ALWAYS_GRANTED | (self.requested_flags & _NEGOTIATED)
        if self.credential.is_anonymous(self.anon_profile):
            flags |= GSSFlag.ANON
        return GSSFlag(flags)

    # --- establishment -----------------------------------------------------------------------
    def step(self, token: bytes | None = None) -> StepResult:
        return self._establishing(self._step, token)  # type: ignore[no-any-return]

    def _step(self, token: bytes | None) -> StepResult:
        if self._sm.stage is Stage.INITIAL:
            if token:
                raise DecodeError("the initiator's first call takes no input token")
            return self._send_ap_req()
        if self._sm.stage is Stage.AWAIT_AP_REP:
            if not token:
                raise DecodeError("an AP-REP token is required", source="GSS context token")
            return self._recv_ap_rep(token)
        self._sm.process(Event.RECV_AP_REP)  # raises: nothing more to do
        raise AssertionError("unreachable")

    def _send_ap_req(self) -> StepResult:
        cred = self.credential
        anonymous = cred.is_anonymous(self.anon_profile)
        if self.requested_flags & GSSFlag.ANON and not anonymous:
            raise AnonymityUnavailable(
                "GSS_C_ANON_FLAG requested but the credential is not an anonymous ticket"
            )
        now = self.clock()
        if now > cred.endtime:
            raise CredentialExpired("the service ticket has expired")
        ticket = ticket_der(cred.ticket)
        key = cred.session_key
        profile = key.profile
        self._ctime, self._cusec = int(now), int((now - int(now)) * 1_000_000) % 1_000_000
        self._subkey = crypto.random_to_key(key.enctype, self.rng(profile.seedsize))
        self._seq = int.from_bytes(self.rng(4), "big") & SEQ_MASK
        mutual = bool(self.requested_flags & GSSFlag.MUTUAL)
        cksum = GSSChecksum(
            bnd=bindings_hash(self.channel_bindings),
            flags=int(self.flags & ~(GSSFlag.ANON | GSSFlag.TRANS | GSSFlag.PROT_READY)),
        )
        auth = _der.authenticator(
            cred.client,
            cksumtype=int(ChecksumType.GSSAPI),
            checksum=cksum.encode(),
            cusec=self._cusec,
            ctime=self._ctime,
            subkey=(key.enctype, self._subkey.contents),
            seq_number=self._seq,
        )
        cipher = crypto.encrypt(
            key, KeyUsage.AP_REQ_AUTH, auth, confounder=self.rng(profile.confounder_size)
        )
        options = _der.AP_OPTS_MUTUAL_REQUIRED if mutual else 0
        req = _der.ap_req(options, ticket, key.enctype, cipher)
        token = framing.frame(self.mech, framing.TOK_AP_REQ, req)
        if mutual:
            self._sm.process(Event.SEND_AP_REQ)
            return StepResult(token, False)
        # NB(mit): without mutual authentication both directions start at the initiator's
        # sequence number (init_sec_context.c: seq_recv = seq_send).
        self._establish(None, self._seq)
        self._sm.process(Event.SEND_AP_REQ_FINAL)
        return StepResult(token, True)

    def _recv_ap_rep(self, token: bytes) -> StepResult:
        framed = framing.unframe(
            token, (self.mech,), expect=(framing.TOK_AP_REP, framing.TOK_KRB_ERROR)
        )
        if framed.tok_id == framing.TOK_KRB_ERROR:
            raise APRejected(_krb_error_text(decode(KRBError, framed.body, what="KRB-ERROR token")))
        enc = read_ap_rep(framed.body).enc_part
        key = self.credential.session_key
        if enc.etype != key.enctype:
            raise IntegrityError()
        plain = crypto.decrypt(key, KeyUsage.AP_REP_ENC_PART, enc.cipher)
        part = read_enc_ap_rep_part(plain)
        if part.ctime != self._ctime or part.cusec != self._cusec:
            raise APRejected("mutual authentication failed: ctime/cusec do not match")
        sub = part.subkey
        acceptor_subkey = None if sub is None else Key(sub.keytype, sub.keyvalue)
        self._establish(acceptor_subkey, part.seq_number or 0)
        self._sm.process(Event.RECV_AP_REP)
        return StepResult(None, True)

    def _establish(self, acceptor_subkey: Key | None, recv_seq: int) -> None:
        assert self._subkey is not None
        self.flags = GSSFlag(self.flags | GSSFlag.PROT_READY)
        want = self.requested_flags
        self._est = Established(
            is_acceptor=False,
            mech=self.mech,
            flags=int(self.flags),
            initiator_name=self.credential.client,
            target_name=self.credential.server,
            expiry=self.credential.endtime,
            keys=TokenKeys(False, self._subkey, acceptor_subkey),
            send_seq=self._seq,
            recv=SeqState(recv_seq, bool(want & GSSFlag.REPLAY), bool(want & GSSFlag.SEQUENCE)),
        )


def _krb_error_text(err: KRBError) -> str:
    """What the acceptor's KRB-ERROR token (RFC 4121 §4.1, TOK_ID 03 00) says, for the caller's
    gss_display_status: the code's name and the e-text, which comes from the peer, so only its
    printable characters and not too many of them."""
    code = int(err["error_code"].native)
    try:
        name = ErrorCode(code).name
    except ValueError:
        name = "error"
    text = f"the acceptor refused the context: {name} ({code})"
    e_text = err["e_text"].native
    if e_text:
        text += ": " + "".join(c if c.isprintable() else "?" for c in e_text[:200])
    return text
