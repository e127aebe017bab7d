"""Results and errors of the client exchanges, plus the reply checks AS and TGS share
(RFC 4120 §3.1.5 / §3.3.4)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from asn1crypto import core

from gssmech.errors import DecodeError, GSSMechError, IntegrityError, Minor
from gssmech.krb5.asn1 import KRBError, decode, decode_enc_kdc_rep_part, inner_der, peek_tag
from gssmech.krb5.asn1.krb import EncKDCRepPart, KDCRep
from gssmech.krb5.asn1.names import to_principal
from gssmech.krb5.asn1.numbers import ErrorCode
from gssmech.krb5.crypto import Key, decrypt
from gssmech.krb5.principal import Principal

#: APPLICATION tag numbers (RFC 4120 §5.10)
TAG_AS_REP = 11
TAG_TGS_REP = 13
TAG_KRB_ERROR = 30


class KDCReplyError(GSSMechError):
    """The KDC answered with a KRB-ERROR (RFC 4120 §5.9.1) we cannot recover from."""

    MINOR = Minor.KDC_ERROR

    def __init__(self, code: int, e_text: str = "", message: str = "") -> None:
        try:
            name = ErrorCode(code).name
        except ValueError:
            name = f"error {code}"
        self.code = code
        self.e_text = e_text
        self.name = name
        super().__init__(message or f"KDC returned {name} ({code})" + (
            f": {e_text}" if e_text else ""
        ))


class ReplyError(GSSMechError):
    """A KDC reply that decodes but does not answer our request (nonce, names, realm)."""

    MINOR = Minor.KDC_ERROR


class AnonymityError(GSSMechError):
    """Anonymity was requested and the reply is not anonymous (conformance C8): never hand
    back a named ticket as if it were anonymous."""

    MINOR = Minor.ANONYMITY_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class KDCReply:
    """A verified AS or TGS reply: what a ccache credential needs, plus exchange metadata."""

    client: Principal  # cname/crealm from the reply (C5: kept as the KDC sent them)
    server: Principal  # sname/srealm from the encrypted part
    session_key: Key
    ticket: bytes  # DER Ticket
    flags: int  # MIT 32-bit ticket flags
    authtime: int
    starttime: int
    endtime: int
    renew_till: int
    kdc_realm: str  # the realm whose KDC issued it (ccache start_realm)
    pa_type: int | None = None  # the preauth mechanism that succeeded (ccache pa_type)
    fast_avail: bool = False  # the KDC advertised PA-FX-FAST (ccache fast_avail)
    kdc_offset: int = 0  # KDC time minus local time, seconds (ccache DELTATIME)
    anonymous: bool = False


def _secs(value: core.Asn1Value) -> int:
    native = value.native
    if native is None:
        return 0
    return int(native.timestamp())


def kerberos_time(now: float) -> tuple[datetime.datetime, int]:
    """(KerberosTime without fraction, microseconds) for ``now`` (RFC 4120 §5.2.3)."""
    whole = int(now)
    usec = round((now - whole) * 1_000_000) % 1_000_000
    return datetime.datetime.fromtimestamp(whole, datetime.UTC), usec


def message_kind(data: bytes) -> int:
    """The APPLICATION tag number of a KDC message, or DecodeError."""
    tag = peek_tag(data)
    if tag is None or tag[0] != 1:
        raise DecodeError("not a Kerberos message", source="KDC reply")
    return tag[2]


def raise_krb_error(data: bytes) -> KRBError:
    """Decode a KRB-ERROR (returns it so callers can inspect recoverable codes)."""
    return decode(KRBError, data, what="KRB-ERROR")


def error_of(err: KRBError) -> KDCReplyError:
    return KDCReplyError(int(err["error_code"].native), err["e_text"].native or "")


def kdc_time_offset(err: KRBError, now: float) -> int:
    """KDC clock minus ours from a KRB-ERROR's stime/susec (RFC 4120 §5.9.1), whole seconds."""
    stime = err["stime"].native.timestamp() + (err["susec"].native or 0) / 1e6
    return round(stime - now)


def decrypt_enc_part(rep: KDCRep, key: Key, usages: tuple[int, ...]) -> EncKDCRepPart:
    """Decrypt and decode a KDC-REP enc-part (usage 3 for AS, 8/9 for TGS; RFC 4120 §7.5.1).

    Accepts EncASRepPart or EncTGSRepPart whatever the reply type (§5.4.2, MIT sends [26])."""
    enc = rep["enc_part"]
    if enc["etype"].native != key.enctype:
        raise ReplyError(
            f"reply encrypted with enctype {enc['etype'].native}, reply key is {key.enctype}"
        )
    last: IntegrityError | None = None
    for usage in usages:
        try:
            plain = decrypt(key, usage, enc["cipher"].native)
            break
        except IntegrityError as exc:
            last = exc
    else:
        raise last or IntegrityError()
    return decode_enc_kdc_rep_part(plain)


def check_reply(
    rep: KDCRep,
    enc: EncKDCRepPart,
    *,
    nonce: int,
    server: Principal | None,
) -> None:
    """RFC 4120 §3.1.5: the nonce matches and the server is the one we asked for."""
    if enc["nonce"].native != nonce:
        raise ReplyError("KDC reply nonce does not match the request (replay?)")
    got = to_principal(enc["sname"], enc["srealm"])
    if server is not None and (
        got.components != server.components or got.realm != server.realm
    ):
        raise ReplyError(f"KDC reply is for {got}, not the requested {server}")
    tkt = rep["ticket"]
    if tkt["realm"].native != got.realm:
        raise ReplyError("ticket realm differs from the reply's server realm")


def flags_value(enc: EncKDCRepPart) -> int:
    """The TicketFlags bit string as MIT's 32-bit integer (bit 0 = most significant)."""
    return int(enc["flags"].to_int())


def build_reply(
    rep: KDCRep,
    enc: EncKDCRepPart,
    *,
    kdc_realm: str,
    pa_type: int | None = None,
    fast_avail: bool = False,
    kdc_offset: int = 0,
    anonymous: bool = False,
) -> KDCReply:
    key = enc["key"]
    authtime = _secs(enc["authtime"])
    return KDCReply(
        client=to_principal(rep["cname"], rep["crealm"]),
        server=to_principal(enc["sname"], enc["srealm"]),
        session_key=Key(key["keytype"].native, key["keyvalue"].native),
        ticket=inner_der(rep["ticket"]),
        flags=flags_value(enc),
        authtime=authtime,
        starttime=_secs(enc["starttime"]) or authtime,
        endtime=_secs(enc["endtime"]),
        renew_till=_secs(enc["renew_till"]),
        kdc_realm=kdc_realm,
        pa_type=pa_type,
        fast_avail=fast_avail,
        kdc_offset=kdc_offset,
        anonymous=anonymous,
    )

