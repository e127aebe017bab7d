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

import hashlib
import os
from collections.abc import Callable, Iterable

from gssmech.errors import DecodeError, GSSMechError, IntegrityError
from gssmech.gss import framing
from gssmech.gss._ctx_errors import (
    AnonymousRefused,
    APRejected,
    BadBindings,
    ContextExpired,
    MechanismBug,
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
    APRep,
    APReq,
    Authenticator,
    EncAPRepPart,
    EncTicketPart,
    KeyUsage,
    decode,
    ticket_anonymity,
    to_principal,
)
from gssmech.krb5.constants import RFC8062, AnonProfile, ChecksumType, TicketFlag
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal

KeyLookup = Callable[[Principal, "int | None", int], "Key | None"]
#: RFC 4120 §1.5 / MIT clockskew default.
MAX_SKEW = 300
_NEGOTIATED = GSSFlag.MUTUAL | GSSFlag.REPLAY | GSSFlag.SEQUENCE


def _same(a: Principal, b: Principal) -> bool:
    # NB(mit): krb5_principal_compare ignores the name type.
    return a.components == b.components and a.realm == b.realm


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

    @property
    def stage(self) -> Stage:
        return self._sm.stage

    @property
    def complete(self) -> bool:
        return self._sm.stage is Stage.ESTABLISHED

    def step(self, token: bytes) -> StepResult:
        try:
            if self._sm.stage is not Stage.INITIAL:
                self._sm.process(Event.RECV_AP_REQ)  # raises ContextStateError
            return self._accept(token)
        except GSSMechError:
            self._sm.fail()
            raise
        except Exception as exc:  # the house rule: nothing untyped escapes
            self._sm.fail()
            raise MechanismBug(f"{type(exc).__name__}: {exc}") from exc

    # --- the AP-REQ checks, in RFC 4120 §3.2.3 order -------------------------------------------
    def _accept(self, token: bytes) -> StepResult:
        framed = framing.unframe(token, self.accepted_mechs, expect=(framing.TOK_AP_REQ,))
        req = decode(APReq, framed.body, what="AP-REQ")
        if req["ap_options"].is_set("use-session-key"):
            raise APRejected("user-to-user AP-REQ (use-session-key) is not supported")
        now = self.clock()
        enc_ticket, server = self._open_ticket(req, now)
        session_key = Key(int(enc_ticket["key"]["keytype"]), enc_ticket["key"]["keyvalue"].native)
        client = to_principal(enc_ticket["cname"], enc_ticket["crealm"])
        auth = self._open_authenticator(req, session_key, client, now)
        cksum = self._gss_checksum(auth)
        flags = ALWAYS_GRANTED | GSSFlag.PROT_READY | (GSSFlag(cksum.flags) & _NEGOTIATED)
        if self.channel_bindings is not None:
            expected = bindings_hash(self.channel_bindings)
            if cksum.bnd == expected:
                flags |= GSSFlag.channel_bound
            elif cksum.bnd != ZERO_BINDINGS:
                raise BadBindings("channel bindings do not match")
        anon = ticket_anonymity(enc_ticket, self.anon_profile)
        if self.refuse_anonymous and (anon.flag or anon.anonymous_name):
            raise AnonymousRefused("policy refuses anonymous initiators (refuse_anonymous)")
        if anon.is_anonymous:
            flags |= GSSFlag.ANON
        # Replay check last: only an authenticator that passed every check is remembered.
        tag = b"gssmech-ap-req\0" + hashlib.sha256(req["authenticator"]["cipher"].native).digest()
        ctime = auth["ctime"].timestamp
        if not self.replay_cache.check_and_store(
            tag, int(max(ctime, now)) + self.max_skew, int(now)
        ):
            raise ReplayedAuthenticator("the AP-REQ authenticator was replayed")

        sub = auth["subkey"]
        init_key = session_key
        if sub.native is not None:
            init_key = Key(int(sub["keytype"]), sub["keyvalue"].native)
        seq = auth["seq_number"]
        init_seq = 0 if seq.native is None else seq.uint32
        out: bytes | None = None
        acceptor_subkey = None
        send_seq = init_seq  # NB(mit): without AP-REP both directions use the initiator's
        if flags & GSSFlag.MUTUAL:
            acceptor_subkey = crypto.random_to_key(
                init_key.enctype, self.rng(init_key.profile.seedsize)
            )
            send_seq = int.from_bytes(self.rng(4), "big") & SEQ_MASK
            out = self._ap_rep(framed.mech, session_key, auth, acceptor_subkey, send_seq)
        self.flags = GSSFlag(flags)
        self.mech = framed.mech
        self.initiator_name = client
        self.target_name = server
        self.expiry = enc_ticket["endtime"].timestamp
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
                init_seq, bool(flags & GSSFlag.REPLAY), bool(flags & GSSFlag.SEQUENCE)
            ),
        )
        self._sm.process(Event.RECV_AP_REQ)
        return StepResult(out, True)

    def _open_ticket(self, req: APReq, now: float) -> tuple[EncTicketPart, Principal]:
        ticket = req["ticket"]
        server = to_principal(ticket["sname"], ticket["realm"])
        if self.principal is not None and not _same(server, self.principal):
            raise APRejected(f"ticket is for {server}, not {self.principal}")
        enc = ticket["enc_part"]
        kvno = enc["kvno"].native
        enctype = int(enc["etype"])
        key = self.key_lookup(server, kvno, enctype)
        if key is None:
            raise NoAcceptorKey(f"no key for {server} kvno {kvno} enctype {enctype}")
        plain = crypto.decrypt(key, KeyUsage.KDC_REP_TICKET, enc["cipher"].native)
        enc_ticket = decode(EncTicketPart, plain, what="EncTicketPart")
        tflags = enc_ticket["flags"].to_int()
        if tflags & TicketFlag.INVALID:
            raise APRejected("the ticket is marked invalid (postdated, not validated)")
        start = enc_ticket["starttime"]
        start_ts = start.timestamp if start.native is not None else enc_ticket["authtime"].timestamp
        if start_ts - now > self.max_skew:
            raise APRejected("the ticket is not yet valid")
        if now - enc_ticket["endtime"].timestamp > self.max_skew:
            raise ContextExpired("the ticket has expired")
        return enc_ticket, server

    def _open_authenticator(
        self, req: APReq, session_key: Key, client: Principal, now: float
    ) -> Authenticator:
        enc = req["authenticator"]
        if int(enc["etype"]) != session_key.enctype:
            raise IntegrityError()
        plain = crypto.decrypt(session_key, KeyUsage.AP_REQ_AUTH, enc["cipher"].native)
        auth = decode(Authenticator, plain, what="Authenticator")
        if not _same(to_principal(auth["cname"], auth["crealm"]), client):
            raise APRejected("authenticator client differs from the ticket's")
        if abs(auth["ctime"].timestamp - now) > self.max_skew:
            raise APRejected("clock skew too great")
        return auth

    @staticmethod
    def _gss_checksum(auth: Authenticator) -> GSSChecksum:
        ck = auth["cksum"]
        if ck.native is None:
            raise DecodeError("authenticator has no GSS checksum", source="Authenticator")
        if int(ck["cksumtype"]) != ChecksumType.GSSAPI:
            raise DecodeError(f"checksum type {int(ck['cksumtype'])}, expected 0x8003",
                              source="Authenticator")
        return GSSChecksum.decode(ck["checksum"].native)

    def _ap_rep(
        self, mech: Oid, session_key: Key, auth: Authenticator, subkey: Key, seq: int
    ) -> bytes:
        part = EncAPRepPart(
            {
                "ctime": auth["ctime"].timestamp,
                "cusec": int(auth["cusec"]),
                "subkey": {"keytype": subkey.enctype, "keyvalue": subkey.contents},
                "seq_number": seq,
            }
        )
        # RFC 4120 §5.5.2: the EncAPRepPart is sealed with the ticket session key.
        cipher = crypto.encrypt(
            session_key, KeyUsage.AP_REP_ENC_PART, part.dump(),
            confounder=self.rng(session_key.profile.confounder_size),
        )
        rep = APRep({"pvno": 5, "msg_type": 15,
                     "enc_part": {"etype": session_key.enctype, "cipher": cipher}})
        return framing.frame(mech, framing.TOK_AP_REP, rep.dump())
