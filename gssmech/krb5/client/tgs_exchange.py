"""The TGS exchange, sans-I/O (RFC 4120 §3.3), with anonymity (RFC 8062 §4.2 =
draft-ietf-krb-wg-anon-08 §4.2) and basic cross-realm referrals (RFC 4120 §3.3.1, §1.2).

PA-TGS-REQ carries an AP-REQ whose Authenticator is encrypted in the TGT session key with key
usage 7 and checksums the KDC-REQ-BODY with key usage 6; the reply enc-part uses usage 8 (we
send no subkey) -- RFC 4120 §7.5.1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from gssmech.errors import DecodeError, IntegrityError
from gssmech.krb5.asn1 import APReq, Authenticator, KDCOptions, TGSRep, TGSReq, decode, inner_der
from gssmech.krb5.asn1.krb import Ticket
from gssmech.krb5.asn1.names import principal_name_of, reply_anonymity
from gssmech.krb5.asn1.numbers import ErrorCode, KeyUsage, PaDataType
from gssmech.krb5.client.as_exchange import DEFAULT_ETYPES, random_nonce
from gssmech.krb5.client.results import (
    TAG_KRB_ERROR,
    TAG_TGS_REP,
    AnonymityError,
    KDCReply,
    KDCReplyError,
    ReplyError,
    build_reply,
    check_reply,
    decrypt_enc_part,
    error_of,
    kdc_time_offset,
    kerberos_time,
    message_kind,
    raise_krb_error,
)
from gssmech.krb5.constants import RFC8062, AnonProfile, NameType
from gssmech.krb5.crypto import Key, encrypt, make_checksum
from gssmech.krb5.principal import Principal

MAX_REFERRALS = 5


@dataclass(frozen=True, slots=True)
class TGT:
    """What a TGS request needs from a ticket-granting credential."""

    client: Principal
    server: Principal  # krbtgt/REALM@ISSUER: usable at REALM's KDC
    session_key: Key
    ticket: bytes

    @property
    def kdc_realm(self) -> str:
        return self.server.components[1]

    @classmethod
    def of(cls, reply: KDCReply) -> TGT:
        return cls(reply.client, reply.server, reply.session_key, reply.ticket)


@dataclass(slots=True)
class TGSExchange:
    """Get a ticket for ``server`` with ``tgt``.  ``anonymous`` sets the anonymous KDC option:
    with an anonymous TGT the reply keeps its cname/crealm; with a normal TGT the KDC should
    return WELLKNOWN/ANONYMOUS in the client's real realm (draft-08 §4.2); either way a reply
    that is not anonymous is refused (C8)."""

    tgt: TGT
    server: Principal
    anonymous: bool = False
    kdc_options: frozenset[str] = frozenset({"canonicalize"})
    lifetime: int = 86400
    etypes: tuple[int, ...] = DEFAULT_ETYPES
    profile: AnonProfile = RFC8062
    rng: Callable[[int], bytes] = os.urandom
    nonce: int | None = None
    kdc_offset: int = field(default=0, init=False)
    _skew_retried: bool = field(default=False, init=False)
    _hops: int = field(default=0, init=False)
    _current: TGT | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._current = self.tgt
        if self.nonce is None:
            self.nonce = random_nonce(self.rng)

    @property
    def realm(self) -> str:
        """The realm whose KDC gets the next request (C4: the TGT's service realm)."""
        assert self._current is not None
        return self._current.kdc_realm

    def _target(self) -> Principal:
        if self.server.realm == self.realm:
            return self.server
        # cross-realm: ask this realm's KDC for krbtgt/SERVER-REALM@THIS
        return Principal(NameType.SRV_INST, ("krbtgt", self.server.realm), self.realm)

    def start(self, now: float) -> bytes:
        tgt = self._current
        assert tgt is not None
        kdc_now = now + self.kdc_offset
        names: set[str | int] = set(self.kdc_options)
        if self.anonymous:
            names.add(self.profile.anonymous_bit)
        target = self._target()
        body = TGSReq(
            {
                "pvno": 5,
                "msg_type": 12,
                "req_body": {
                    "kdc_options": KDCOptions(names),
                    "realm": self.realm,
                    "sname": principal_name_of(target),
                    "till": kerberos_time(kdc_now + self.lifetime)[0],
                    "nonce": self.nonce,
                    "etype": list(self.etypes),
                },
            }
        )
        body_der = inner_der(body["req_body"])
        ctime, cusec = kerberos_time(kdc_now)
        key = tgt.session_key
        auth = Authenticator(
            {
                "authenticator_vno": 5,
                "crealm": tgt.client.realm,
                "cname": principal_name_of(tgt.client),
                "cksum": {
                    "cksumtype": key.profile.cksumtype,
                    "checksum": make_checksum(key, KeyUsage.TGS_REQ_AUTH_CKSUM, body_der),
                },
                "cusec": cusec,
                "ctime": ctime,
            }
        )
        ap_req = APReq(
            {
                "pvno": 5,
                "msg_type": 14,
                "ap_options": set(),
                "ticket": decode(Ticket, tgt.ticket, what="TGT"),
                "authenticator": {
                    "etype": key.enctype,
                    "cipher": encrypt(key, KeyUsage.TGS_REQ_AUTH, auth.dump()),
                },
            }
        )
        body["padata"] = [{"padata_type": PaDataType.PA_TGS_REQ, "padata_value": ap_req.dump()}]
        return body.dump()

    def handle(self, reply: bytes, now: float) -> bytes | KDCReply:
        kind = message_kind(reply)
        if kind == TAG_KRB_ERROR:
            err = raise_krb_error(reply)
            code = int(err["error_code"].native)
            if code == ErrorCode.KRB_AP_ERR_SKEW and not self._skew_retried:
                self._skew_retried = True
                self.kdc_offset = kdc_time_offset(err, now)
                return self.start(now)
            exc = error_of(err)
            raise KDCReplyError(exc.code, exc.e_text, message=f"{exc} (asking for {self.server})")
        if kind != TAG_TGS_REP:
            raise DecodeError(f"unexpected message [APPLICATION {kind}]", source="TGS reply")
        rep = decode(TGSRep, reply, what="TGS-REP")
        tgt = self._current
        assert tgt is not None
        try:
            enc = decrypt_enc_part(rep, tgt.session_key, (KeyUsage.TGS_REP_ENC_PART_SESSKEY,))
        except IntegrityError:
            raise ReplyError("cannot decrypt the TGS reply with the TGT session key") from None
        target = self._target()
        referral = target.components[0] == "krbtgt" and target != self.server
        check_reply(rep, enc, nonce=self.nonce or 0, server=None if referral else target)
        self._check_client(rep, enc, tgt)
        result = build_reply(rep, enc, kdc_realm=self.realm, kdc_offset=self.kdc_offset,
                             anonymous=self.anonymous)
        if result.server.components == self.server.components and (
            result.server.realm == self.server.realm
        ):
            return result
        comps = result.server.components
        if len(comps) != 2 or comps[0] != "krbtgt" or result.server.realm != self.realm:
            raise ReplyError(f"KDC returned a ticket for {result.server}, not {self.server}")
        self._hops += 1
        if self._hops > MAX_REFERRALS or comps[1] == self.realm:
            raise ReplyError("cross-realm referral loop")
        self._current = TGT(tgt.client, result.server, result.session_key, result.ticket)
        self.nonce = random_nonce(self.rng)
        return self.start(now)

    def _check_client(self, rep: TGSRep, enc: object, tgt: TGT) -> None:
        status = reply_anonymity(rep, enc, self.profile)  # type: ignore[arg-type]
        if self.anonymous or tgt.client.is_anonymous_name:
            if not status.is_anonymous:
                raise AnonymityError(
                    "KDC ignored the anonymous option and issued a ticket naming the client"
                )
            if tgt.client.is_anonymous_name and rep["crealm"].native != tgt.client.realm:
                raise ReplyError("TGS reply changed the anonymous client realm")
            return
        if rep["cname"]["name_string"].native != list(tgt.client.components) or (
            rep["crealm"].native != tgt.client.realm
        ):
            raise ReplyError("TGS reply names a different client than the TGT")
