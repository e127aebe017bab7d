"""The AS exchange, sans-I/O (RFC 4120 §3.1): password (PA-ENC-TIMESTAMP), keytab keys, and
anonymous PKINIT (RFC 8062 §4.1 = draft-ietf-krb-wg-anon-08 §4.1), plus authenticated
anonymity with long-term keys (draft-08 §4.2 first paragraph / RFC 8062 §4.1 end).

Drive it with :meth:`ASExchange.start` and :meth:`ASExchange.handle`: each returns the next
request to send, or (``handle``) the verified :class:`~.results.KDCReply`.  Time, nonces and
the DH key are injected, so an exchange is replayable in tests.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gssmech.errors import DecodeError, IntegrityError
from gssmech.krb5.asn1 import ASRep, ASReq, KDCOptions, decode, inner_der
from gssmech.krb5.asn1.krb import EncKDCRepPart
from gssmech.krb5.asn1.names import (
    anonymous_principal_name,
    principal_name_of,
    reply_anonymity,
)
from gssmech.krb5.asn1.numbers import ErrorCode, KeyUsage, PaDataType
from gssmech.krb5.asn1.padata import (
    ETypeInfo2,
    PAEncTimestamp,
    PAEncTSEnc,
    decode_etype_info2,
    decode_method_data,
    find_padata,
    padata_types,
)
from gssmech.krb5.client.results import (
    TAG_AS_REP,
    TAG_KRB_ERROR,
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
from gssmech.krb5.crypto import Key, encrypt, string_to_key
from gssmech.krb5.pkinit.client import AnonymousPKINIT
from gssmech.krb5.principal import Principal

DEFAULT_ETYPES = (18, 17, 20, 19)
PA_FX_COOKIE = 133
PA_FX_FAST = 136
PA_AS_FRESHNESS = 150


def random_nonce(rng: Callable[[int], bytes] = os.urandom) -> int:
    """A 31-bit nonce (MIT masks to 0x7fffffff: some KDCs treat the field as signed)."""
    return int.from_bytes(rng(4), "big") & 0x7FFFFFFF


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """What kinit asks for (RFC 4120 §5.4.1)."""

    lifetime: int = 86400
    renew_life: int = 0
    kdc_options: frozenset[str] = frozenset({"renewable-ok"})
    etypes: tuple[int, ...] = DEFAULT_ETYPES
    profile: AnonProfile = RFC8062


@dataclass(slots=True)
class ASExchange:
    """One AS exchange for ``client`` (its realm is the target realm, C4).

    Exactly one key source: ``password``, ``keys`` (from a keytab), or ``pkinit``.
    ``anonymous`` sets the anonymous KDC option; with ``pkinit`` the request names
    WELLKNOWN/ANONYMOUS, so the caller's principal never goes on the wire.
    """

    client: Principal
    password: str | None = None
    keys: Sequence[Key] = ()
    pkinit: AnonymousPKINIT | None = None
    anonymous: bool = False
    options: RequestOptions = RequestOptions()
    rng: Callable[[int], bytes] = os.urandom
    nonce: int | None = None
    # --- state -----------------------------------------------------------------------------
    kdc_offset: int = field(default=0, init=False)
    _method_data: list[int] = field(default_factory=list, init=False)
    _etype_info: ETypeInfo2 | None = field(default=None, init=False)
    _cookie: bytes | None = field(default=None, init=False)
    _freshness: bytes | None = field(default=None, init=False)
    _preauth_sent: bool = field(default=False, init=False)
    _skew_retried: bool = field(default=False, init=False)
    _last_request: bytes = field(default=b"", init=False)
    _pa_type: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.nonce is None:
            self.nonce = random_nonce(self.rng)
        if self.pkinit is not None:
            # C1/C4: the anonymous principal, in the realm whose KDC we ask
            self.anonymous = True
            self.client = Principal.anonymous(self.pkinit.realm)

    @property
    def realm(self) -> str:
        return self.client.realm

    @property
    def tgs(self) -> Principal:
        return Principal(NameType.SRV_INST, ("krbtgt", self.realm), self.realm)

    # --- requests ---------------------------------------------------------------------------
    def _body(self, now: float) -> dict[str, object]:
        kdc_now = now + self.kdc_offset
        names: set[str | int] = set(self.options.kdc_options)
        if self.anonymous:
            names.add(self.options.profile.anonymous_bit)
        body: dict[str, object] = {
            "kdc_options": KDCOptions(names),
            "cname": anonymous_principal_name()
            if self.pkinit is not None
            else principal_name_of(self.client),
            "realm": self.realm,
            "sname": principal_name_of(self.tgs),
            "till": kerberos_time(kdc_now + self.options.lifetime)[0],
            "nonce": self.nonce,
            "etype": list(self.options.etypes),
        }
        if self.options.renew_life:
            body["rtime"] = kerberos_time(kdc_now + self.options.renew_life)[0]
        return body

    def _request(self, now: float, padata: list[tuple[int, bytes]]) -> bytes:
        req = ASReq({"pvno": 5, "msg_type": 10, "req_body": self._body(now)})
        if padata:
            req["padata"] = [{"padata_type": t, "padata_value": v} for t, v in padata]
        self._last_request = req.dump()
        return self._last_request

    def start(self, now: float) -> bytes:
        """The first AS-REQ: no pre-authentication, as MIT kinit does, so the KDC tells us
        what it supports (ETYPE-INFO2, PA-PK-AS-REQ, PA-PKINIT-KX, FX-FAST)."""
        return self._request(now, [])

    def _preauth_request(self, now: float) -> bytes:
        kdc_now = now + self.kdc_offset
        ctime, cusec = kerberos_time(kdc_now)
        padata: list[tuple[int, bytes]] = []
        if self._cookie is not None:
            padata.append((PA_FX_COOKIE, self._cookie))  # RFC 6113 §5.2: echo the cookie
        if self.pkinit is not None:
            if PaDataType.PA_PK_AS_REQ not in self._method_data:
                raise KDCReplyError(ErrorCode.KDC_ERR_PREAUTH_REQUIRED,
                                    message="KDC does not offer PKINIT (no PA-PK-AS-REQ "
                                    "in its pre-authentication list)")
            # paChecksum covers the KDC-REQ-BODY exactly as it will be sent
            body_der = inner_der(ASReq({"pvno": 5, "msg_type": 10,
                                        "req_body": self._body(now)})["req_body"])
            value = self.pkinit.build_padata(
                body_der, ctime=ctime, cusec=cusec, nonce=self.nonce or 0,
                freshness_token=self._freshness,
            )
            padata.append((PaDataType.PA_PK_AS_REQ, value))
            self._pa_type = PaDataType.PA_PK_AS_REQ
        else:
            key = self._preauth_key()
            ts = PAEncTSEnc({"patimestamp": ctime, "pausec": cusec}).dump()
            cipher = encrypt(key, KeyUsage.AS_REQ_PA_ENC_TIMESTAMP, ts)
            value = PAEncTimestamp({"etype": key.enctype, "cipher": cipher}).dump()
            padata.append((PaDataType.PA_ENC_TIMESTAMP, value))
            self._pa_type = PaDataType.PA_ENC_TIMESTAMP
        self._preauth_sent = True
        return self._request(now, padata)

    # --- keys -------------------------------------------------------------------------------
    def _default_salt(self) -> str:
        return self.client.realm + "".join(self.client.components)  # RFC 4120 §4

    def _long_term_key(self, enctype: int, info: ETypeInfo2 | None) -> Key:
        for key in self.keys:
            if key.enctype == enctype:
                return key
        if self.password is None:
            raise KDCReplyError(ErrorCode.KDC_ERR_ETYPE_NOSUPP,
                                message=f"no key for enctype {enctype} in the keytab")
        salt, params = self._default_salt(), None
        for entry in info or ():
            if entry["etype"].native == enctype:
                if entry["salt"].native is not None:
                    salt = entry["salt"].native
                if entry["s2kparams"].native is not None:
                    params = bytes(entry["s2kparams"].native)
        return string_to_key(enctype, self.password, salt, params)

    def _preauth_key(self) -> Key:
        info = self._etype_info
        etypes = [e["etype"].native for e in info] if info is not None else []
        for etype in etypes or list(self.options.etypes):
            if etype in self.options.etypes and (
                self.password is not None or any(k.enctype == etype for k in self.keys)
            ):
                return self._long_term_key(etype, info)
        raise KDCReplyError(ErrorCode.KDC_ERR_ETYPE_NOSUPP,
                            message="no common encryption type with the KDC")

    # --- replies ----------------------------------------------------------------------------
    def handle(self, reply: bytes, now: float) -> bytes | KDCReply:
        """Process a KDC reply: the next request to send, or the verified result."""
        kind = message_kind(reply)
        if kind == TAG_KRB_ERROR:
            return self._handle_error(reply, now)
        if kind != TAG_AS_REP:
            raise DecodeError(f"unexpected message [APPLICATION {kind}]", source="AS reply")
        return self._handle_rep(decode(ASRep, reply, what="AS-REP"), now)

    def _handle_error(self, data: bytes, now: float) -> bytes:
        err = raise_krb_error(data)
        code = int(err["error_code"].native)
        if code == ErrorCode.KRB_AP_ERR_SKEW and not self._skew_retried:
            self._skew_retried = True  # retry once with the KDC's clock (MIT does the same)
            self.kdc_offset = kdc_time_offset(err, now)
            return self._preauth_request(now) if self._preauth_sent else self.start(now)
        if code == ErrorCode.KDC_ERR_PREAUTH_REQUIRED and not self._preauth_sent:
            e_data = err["e_data"].native
            methods = decode_method_data(bytes(e_data)) if e_data else None
            self._method_data = padata_types(methods)
            found = find_padata(methods, PaDataType.PA_ETYPE_INFO2)
            if found is not None:
                self._etype_info = decode_etype_info2(bytes(found["padata_value"].native))
            for pa_type, attr in ((PA_FX_COOKIE, "_cookie"), (PA_AS_FRESHNESS, "_freshness")):
                item = find_padata(methods, pa_type)
                if item is not None:
                    setattr(self, attr, bytes(item["padata_value"].native))
            return self._preauth_request(now)
        exc = error_of(err)
        if code == ErrorCode.KDC_ERR_BADOPTION and self.anonymous:
            exc = KDCReplyError(code, exc.e_text, message=(
                f"{exc}: the KDC refused the anonymous option (bit "
                f"{self.options.profile.anonymous_bit}, profile {self.options.profile.name})"))
        raise exc

    def _reply_key(self, rep: ASRep, now: float) -> Key:
        etype = rep["enc_part"]["etype"].native
        if self.pkinit is not None:
            when = datetime.datetime.fromtimestamp(now + self.kdc_offset, datetime.UTC)
            return self.pkinit.reply_key(
                rep, as_req_der=self._last_request, client=self.client, kdc=self.tgs, now=when
            )
        info = self._etype_info
        found = find_padata(rep["padata"], PaDataType.PA_ETYPE_INFO2)
        if found is not None:
            info = decode_etype_info2(bytes(found["padata_value"].native))
        return self._long_term_key(etype, info)

    def _handle_rep(self, rep: ASRep, now: float) -> KDCReply:
        key = self._reply_key(rep, now)
        try:
            enc = decrypt_enc_part(rep, key, (KeyUsage.AS_REP_ENC_PART,))
        except IntegrityError:
            raise ReplyError("cannot decrypt the AS reply: wrong password or key") from None
        check_reply(rep, enc, nonce=self.nonce or 0, server=self.tgs)
        self._check_client(rep, enc)
        result = build_reply(
            rep, enc, kdc_realm=self.realm, pa_type=self._pa_type,
            fast_avail=PA_FX_FAST in self._method_data, kdc_offset=self.kdc_offset,
            anonymous=self.anonymous,
        )
        if self.pkinit is not None:
            self.pkinit.check_kdc_contribution(rep, key, result.session_key)  # C7
        return result

    def _check_client(self, rep: ASRep, enc: EncKDCRepPart) -> None:
        status = reply_anonymity(rep, enc, self.options.profile)
        if self.anonymous:
            # C8: anonymity asked -> the anonymous flag and name, or nothing
            if not status.is_anonymous:
                raise AnonymityError(
                    "KDC ignored the anonymous option and issued a ticket naming the client"
                    if not status.anonymous_name
                    else "KDC reply names the anonymous principal without the anonymous flag"
                )
            return
        got = rep["cname"]["name_string"].native
        if list(self.client.components) != got or rep["crealm"].native != self.realm:
            raise ReplyError("AS reply is for a different client than requested")
