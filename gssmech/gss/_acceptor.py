"""The acceptor side of an RFC 4121 context (sans-I/O): AP-REQ in, AP-REP out (if MUTUAL).

Anonymity (draft-ietf-krb-wg-anon-08 §5; notes/anonymity.md G1/G2/G4).  The evidence is the
decrypted EncTicketPart, which only the KDC can have written: the anonymous ticket flag of
the profile *and* the client name WELLKNOWN/ANONYMOUS.  MIT's acceptor never reports
GSS_C_ANON_FLAG; we derive it:

- WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS with the flag: ANON in ret_flags, and the source
  name is the anonymous name (GSS_C_NT_ANONYMOUS, G1);
- WELLKNOWN/ANONYMOUS@REALM with the flag (authenticated anonymity, seed §5 and RFC 8062 §5):
  ANON is reported too, because RFC 2743 defines anon_state as "the initiator's identity is
  not revealed" and no user is named; but the source name is an ordinary authenticated
  Kerberos name carrying the realm (GSS_KRB5_NT_PRINCIPAL_NAME), not GSS_C_NT_ANONYMOUS (G2);
- ``refuse_anonymous`` (G4, seed §8 audit trails) refuses a ticket if *either* signal is
  present, so an inconsistent ticket cannot slip through.

Channel bindings (RFC 4121 §4.1.1.2).  NB(mit): since 1.19 (ticket 8899) MIT accepts an
initiator that sent no bindings (Bnd all zeros) even when the acceptor has some, and reports
GSS_C_CHANNEL_BOUND_FLAG only when the hashes match; we do the same.  An acceptor without
bindings accepts any Bnd.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gssmech.errors import DecodeError, GSSMechError, IntegrityError
from gssmech.gss import _der, framing
from gssmech.gss._ctx_errors import (
    AnonymousRefused,
    APRejected,
    BadBindings,
    ContextExpired,
    NoAcceptorKey,
    ReplayedAuthenticator,
)
from gssmech.gss._established import Clock, Established, PerMessage, default_clock
from gssmech.gss._initiator import SEQ_MASK, Random, StepResult
from gssmech.gss._state import Event, Stage, StateMachine
from gssmech.gss.checksum import ZERO_BINDINGS, Bindings, GSSChecksum, bindings_hash
from gssmech.gss.flags import ALWAYS_GRANTED, GSSFlag
from gssmech.gss.oids import DEFAULT_NATIVE_MECH, KRB5_MECH, Oid
from gssmech.gss.replaycache import MemoryReplayCache, ReplayCache
from gssmech.gss.rfc4121 import TokenKeys
from gssmech.gss.seqstate import SeqState
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    AnonymityStatus,
    EncTicketPart,
    ErrorCode,
    KeyUsage,
    decode,
    derwrite,
    ticket_anonymity,
    to_principal,
)
from gssmech.krb5.asn1.apfields import (
    ApReqFields,
    AuthenticatorFields,
    read_ap_req,
    read_authenticator,
)
from gssmech.krb5.constants import RFC8062, AnonProfile, ChecksumType, TicketFlag, flag_bit
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal

KeyLookup = Callable[[Principal, "int | None", int], "Key | None"]
#: RFC 4120 §1.5 / MIT clockskew default.
MAX_SKEW = 300
# Plain ints while a context is checked (IntFlag arithmetic costs ~1 us an operation);
# self.flags becomes a GSSFlag once, at the end.
_NEGOTIATED = int(GSSFlag.MUTUAL | GSSFlag.REPLAY | GSSFlag.SEQUENCE)
_GRANTED = int(ALWAYS_GRANTED | GSSFlag.PROT_READY)
_MUTUAL, _REPLAY, _SEQUENCE = int(GSSFlag.MUTUAL), int(GSSFlag.REPLAY), int(GSSFlag.SEQUENCE)
_BOUND, _ANON = int(GSSFlag.channel_bound), int(GSSFlag.ANON)
#: APOptions use-session-key (RFC 4120 §5.5.1 bit 1) as MIT's AP_OPTS_USE_SESSION_KEY.
_AP_OPTS_USE_SESSION_KEY = flag_bit(1)


def _same(a: Principal, b: Principal) -> bool:
    # NB(mit): krb5_principal_compare ignores the name type.
    return a.components == b.components and a.realm == b.realm


@dataclass(frozen=True, slots=True)
class TicketPart:
    """What the acceptor reads from a decrypted EncTicketPart (RFC 4120 §5.3)."""

    #: the strictly decoded EncTicketPart (read-only: it may be shared, see ticket_part)
    enc: EncTicketPart
    #: TicketFlags as MIT's 32-bit integer
    flags: int
    #: starttime, or authtime when absent (§5.3: "if absent, authtime is used")
    starttime: int
    endtime: int
    keytype: int
    keyvalue: bytes = field(repr=False)
    client: Principal
    #: ticket_anonymity per profile, filled on first use (a pure function of ``enc``)
    _anonymity: dict[AnonProfile, AnonymityStatus] = field(
        default_factory=dict, repr=False, compare=False
    )

    def anonymity(self, profile: AnonProfile) -> AnonymityStatus:
        status = self._anonymity.get(profile)
        if status is None:
            status = self._anonymity[profile] = ticket_anonymity(self.enc, profile)
        return status


def ticket_part(plain: bytes) -> TicketPart:
    """Decode a decrypted EncTicketPart strictly and pick out its fields.

    A client reuses one service ticket for many contexts, so the same plaintext comes back
    again and again; the result is a pure function of it, so it is memoized (errors are not).
    The integrity check (the decryption) is never skipped: only a plaintext that was just
    authenticated with the service key reaches this function.
    """
    if isinstance(plain, bytes):
        return _ticket_part_memo(plain)
    return _ticket_part(plain)


def _ticket_part(plain: bytes) -> TicketPart:
    enc = decode(EncTicketPart, plain, what="EncTicketPart")
    start = enc["starttime"]
    key = enc["key"]
    return TicketPart(
        enc=enc,
        flags=enc["flags"].to_int(),
        starttime=(start if start.native is not None else enc["authtime"]).timestamp,
        endtime=enc["endtime"].timestamp,
        keytype=int(key["keytype"]),
        keyvalue=key["keyvalue"].native,
        client=to_principal(enc["cname"], enc["crealm"]),
    )


_ticket_part_memo = functools.lru_cache(maxsize=64)(_ticket_part)


class AcceptorContext(PerMessage):
    """RFC 4121 §4.1 acceptor.  ``key_lookup(server, kvno, enctype)`` returns the service key
    (the API layer binds it to a keytab); ``principal`` restricts which server it accepts for.
    """

    def __init__(
        self,
        key_lookup: KeyLookup,
        *,
        principal: Principal | None = None,
        channel_bindings: Bindings = None,
        replay_cache: ReplayCache | None = None,
        refuse_anonymous: bool = False,
        accepted_mechs: Iterable[Oid] = (KRB5_MECH, DEFAULT_NATIVE_MECH),
        anon_profile: AnonProfile = RFC8062,
        max_skew: int = MAX_SKEW,
        clock: Clock = default_clock,
        rng: Random = os.urandom,
    ) -> None:
        self.key_lookup = key_lookup
        self.principal = principal
        self.channel_bindings = channel_bindings
        self.replay_cache: ReplayCache = replay_cache or MemoryReplayCache()
        self.refuse_anonymous = refuse_anonymous
        self.accepted_mechs = tuple(accepted_mechs)
        self.anon_profile = anon_profile
        self.max_skew = max_skew
        self.clock = clock
        self.rng = rng
        self._sm = StateMachine()
        self._est: Established | None = None
        self.flags = GSSFlag(0)
        self.mech: Oid | None = None
        self.initiator_name: Principal | None = None
        self.target_name: Principal | None = None
        self.expiry = 0
        #: whether the initiator waits for an answer (mutual authentication asked for)
        self._peer_waits = False

    def step(self, token: bytes) -> StepResult:
        return self._establishing(self._step, token)  # type: ignore[no-any-return]

    def _step(self, token: bytes) -> StepResult:
        if self._sm.stage is not Stage.INITIAL:
            self._sm.process(Event.RECV_AP_REQ)  # raises ContextStateError
        return self._accept(token)

    # --- the AP-REQ checks, in RFC 4120 §3.2.3 order -------------------------------------------
    def _accept(self, token: bytes) -> StepResult:
        framed = framing.unframe(token, self.accepted_mechs, expect=(framing.TOK_AP_REQ,))
        req = read_ap_req(framed.body)
        self._peer_waits = bool(req.ap_options & _der.AP_OPTS_MUTUAL_REQUIRED)
        try:
            return self._accept_ap_req(framed, req)
        except GSSMechError as exc:
            if self._peer_waits:
                exc.token = self._error_token(framed.mech, req.ticket.server, exc)
            raise

    def _error_token(self, mech: Oid, server: Principal, exc: GSSMechError) -> bytes | None:
        """RFC 4121 §4.1: an initiator that asked for mutual authentication waits for an
        answer, so a refusal is a KRB-ERROR token (TOK_ID 03 00) naming the RFC 4120 error,
        as MIT's acceptor sends it (accept_sec_context.c): server name and time, nothing about
        the client."""
        try:
            now = self.clock()
            body = derwrite.krb_error(
                error_code=krb_error_code(exc), stime=int(now), susec=int(now % 1 * 1_000_000),
                realm=server.realm, sname=(server.name_type, server.components),
            )
            return framing.frame(mech, framing.TOK_KRB_ERROR, body)
        except Exception:  # the refusal stands without its token
            return None

    def _accept_ap_req(self, framed: framing.FramedToken, req: ApReqFields) -> StepResult:
        if req.ap_options & _AP_OPTS_USE_SESSION_KEY:
            raise APRejected("user-to-user AP-REQ (use-session-key) is not supported")
        now = self.clock()
        part, server = self._open_ticket(req, now)
        session_key = Key(part.keytype, part.keyvalue)
        client = part.client
        auth = self._open_authenticator(req, session_key, client, now)
        cksum = self._gss_checksum(auth)
        # NB(mit): the checksum's MUTUAL counts too (the AP option is outside every checksum).
        self._peer_waits = self._peer_waits or bool(cksum.flags & _MUTUAL)
        flags = _GRANTED | (cksum.flags & _NEGOTIATED)
        if self.channel_bindings is not None:
            expected = bindings_hash(self.channel_bindings)
            if hmac.compare_digest(cksum.bnd, expected):
                flags |= _BOUND
            elif cksum.bnd != ZERO_BINDINGS:
                raise BadBindings("channel bindings do not match")
        anon = part.anonymity(self.anon_profile)
        if self.refuse_anonymous and (anon.flag or anon.anonymous_name):
            raise AnonymousRefused("policy refuses anonymous initiators (refuse_anonymous)")
        if anon.is_anonymous:
            flags |= _ANON
        # Replay check last: only an authenticator that passed every check is remembered.
        tag = b"gssmech-ap-req\0" + hashlib.sha256(req.authenticator.cipher).digest()
        ctime = auth.ctime
        if not self.replay_cache.check_and_store(
            tag, int(max(ctime, now)) + self.max_skew, int(now)
        ):
            raise ReplayedAuthenticator("the AP-REQ authenticator was replayed")

        sub = auth.subkey
        init_key = session_key if sub is None else Key(sub.keytype, sub.keyvalue)
        init_seq = auth.seq_number or 0
        out: bytes | None = None
        acceptor_subkey = None
        send_seq = init_seq  # NB(mit): without AP-REP both directions use the initiator's
        if flags & _MUTUAL:
            acceptor_subkey = crypto.random_to_key(
                init_key.enctype, self.rng(init_key.profile.seedsize)
            )
            send_seq = int.from_bytes(self.rng(4), "big") & SEQ_MASK
            out = self._ap_rep(framed.mech, session_key, auth, acceptor_subkey, send_seq)
        self.flags = GSSFlag(flags)
        self.mech = framed.mech
        self.initiator_name = client
        self.target_name = server
        self.expiry = part.endtime
        self._est = Established(
            is_acceptor=True,
            mech=framed.mech,
            flags=int(flags),
            initiator_name=client,
            target_name=server,
            expiry=self.expiry,
            keys=TokenKeys(True, init_key, acceptor_subkey),
            send_seq=send_seq,
            recv=SeqState(
                init_seq, bool(flags & _REPLAY), bool(flags & _SEQUENCE)
            ),
        )
        self._sm.process(Event.RECV_AP_REQ)
        return StepResult(out, True)

    def _open_ticket(self, req: ApReqFields, now: float) -> tuple[TicketPart, Principal]:
        server = req.ticket.server
        if self.principal is not None and not _same(server, self.principal):
            raise APRejected(f"ticket is for {server}, not {self.principal}",
                             krb_error=ErrorCode.KRB_AP_ERR_NOT_US)
        enc = req.ticket.enc_part
        key = self.key_lookup(server, enc.kvno, enc.etype)
        if key is None:
            raise NoAcceptorKey(f"no key for {server} kvno {enc.kvno} enctype {enc.etype}")
        plain = crypto.decrypt(key, KeyUsage.KDC_REP_TICKET, enc.cipher)
        part = ticket_part(plain)
        if part.flags & TicketFlag.INVALID:
            raise APRejected("the ticket is marked invalid (postdated, not validated)",
                             krb_error=ErrorCode.KRB_AP_ERR_TKT_NYV)
        if part.starttime - now > self.max_skew:
            raise APRejected("the ticket is not yet valid", krb_error=ErrorCode.KRB_AP_ERR_TKT_NYV)
        if now - part.endtime > self.max_skew:
            raise ContextExpired("the ticket has expired")
        return part, server

    def _open_authenticator(
        self, req: ApReqFields, session_key: Key, client: Principal, now: float
    ) -> AuthenticatorFields:
        enc = req.authenticator
        if enc.etype != session_key.enctype:
            raise IntegrityError()
        plain = crypto.decrypt(session_key, KeyUsage.AP_REQ_AUTH, enc.cipher)
        auth = read_authenticator(plain)
        if not _same(auth.client, client):
            raise APRejected("authenticator client differs from the ticket's",
                             krb_error=ErrorCode.KRB_AP_ERR_BADMATCH)
        if abs(auth.ctime - now) > self.max_skew:
            raise APRejected("clock skew too great", krb_error=ErrorCode.KRB_AP_ERR_SKEW)
        return auth

    @staticmethod
    def _gss_checksum(auth: AuthenticatorFields) -> GSSChecksum:
        ck = auth.cksum
        if ck is None:
            raise DecodeError("authenticator has no GSS checksum", source="Authenticator")
        if ck.cksumtype != ChecksumType.GSSAPI:
            raise DecodeError(f"checksum type {ck.cksumtype}, expected 0x8003",
                              source="Authenticator")
        return GSSChecksum.decode(ck.checksum)

    def _ap_rep(
        self, mech: Oid, session_key: Key, auth: AuthenticatorFields, subkey: Key, seq: int
    ) -> bytes:
        part = _der.enc_ap_rep_part(
            ctime=auth.ctime,
            cusec=auth.cusec,
            subkey=(subkey.enctype, subkey.contents),
            seq_number=seq,
        )
        # RFC 4120 §5.5.2: the EncAPRepPart is sealed with the ticket session key.
        cipher = crypto.encrypt(
            session_key, KeyUsage.AP_REP_ENC_PART, part,
            confounder=self.rng(session_key.profile.confounder_size),
        )
        rep = _der.ap_rep(session_key.enctype, cipher)
        return framing.frame(mech, framing.TOK_AP_REP, rep)


def krb_error_code(exc: GSSMechError) -> int:
    """The RFC 4120 §7.5.9 code for an acceptor's refusal; KRB_ERR_GENERIC when none fits
    (MIT sends that for its non-Kerberos failures: bindings, malformed authenticators)."""
    if isinstance(exc, APRejected):
        return exc.krb_error
    if isinstance(exc, IntegrityError):
        return ErrorCode.KRB_AP_ERR_BAD_INTEGRITY
    if isinstance(exc, ContextExpired):
        return ErrorCode.KRB_AP_ERR_TKT_EXPIRED
    if isinstance(exc, ReplayedAuthenticator):
        return ErrorCode.KRB_AP_ERR_REPEAT
    if isinstance(exc, NoAcceptorKey):
        return ErrorCode.KRB_AP_ERR_NOT_US  # NB(mit): what krb5_rd_req says for a missing key
    return ErrorCode.KRB_ERR_GENERIC
