"""RFC 4120 §5.2 basic types on asn1crypto: KerberosString, Realm, KerberosTime, Int32,
UInt32, Microseconds, PrincipalName, HostAddress(es), EncryptedData, EncryptionKey, Checksum,
AuthorizationData, LastReq, TransitedEncoding.  The flag types (TicketFlags, KDCOptions,
APOptions) are in :mod:`gssmech.krb5.asn1.flags` and re-exported here.

The module is ``DEFINITIONS EXPLICIT TAGS`` (RFC 4120 Appendix A), so every context tag below is
``explicit``.  Classes whose values are range-limited or format-limited define
``validate_strict()``; :func:`gssmech.krb5.asn1.decode.decode` calls it on every node after a
full parse, so constraint violations surface as :class:`~gssmech.errors.DecodeError`.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from asn1crypto import core

from gssmech.krb5.asn1.flags import APOptions, KDCOptions, KerberosFlags, TicketFlags

_UTC = _dt.UTC


class KerberosString(core.GeneralString):
    """``KerberosString ::= GeneralString (IA5String)`` (RFC 4120 §5.2.1).

    NB(utf8): MIT and Heimdal treat the octets as opaque; modern deployments put UTF-8 there
    and gssmech's :class:`~gssmech.krb5.principal.Principal` holds text, so we decode UTF-8
    (invalid UTF-8 is a DecodeError; the raw octets stay available in ``.contents``).
    """

    _encoding = "utf-8"


class Realm(KerberosString):
    """``Realm ::= KerberosString`` (RFC 4120 §5.2.2)."""


class _RangedInteger(core.Integer):
    _min = -(2**31)
    _max = 2**31 - 1

    def set(self, value: Any) -> None:
        if isinstance(value, int):
            self._check_range(value)
        super().set(value)

    def validate_strict(self) -> None:
        self._check_range(int(self))

    def _check_range(self, value: int) -> None:
        if not self._min <= value <= self._max:
            raise ValueError(f"{type(self).__name__} {value} outside {self._min}..{self._max}")


class Int32(_RangedInteger):
    """``Int32 ::= INTEGER (-2147483648..2147483647)`` (RFC 4120 §5.2.4)."""


class UInt32(_RangedInteger):
    """``UInt32 ::= INTEGER (0..4294967295)`` (RFC 4120 §5.2.4)."""

    _min = 0
    _max = 2**32 - 1


class Microseconds(_RangedInteger):
    """``Microseconds ::= INTEGER (0..999999)`` (RFC 4120 §5.2.4)."""

    _min = 0
    _max = 999999


class KerberosNonce(UInt32):
    """A ``nonce``/``seq-number`` field: ``UInt32`` (RFC 4120 §5.4.1).

    NB(nonce): RFC 1510 had these as signed INTEGER and old Windows/Heimdal encoders emit
    negative values; MIT decodes them as 32-bit anyway.  We accept -2^31..2^32-1 when decoding
    and only emit 0..2^32-1.  :attr:`uint32` gives the value modulo 2^32.
    """

    def validate_strict(self) -> None:
        value = int(self)
        if not -(2**31) <= value <= 2**32 - 1:
            raise ValueError(f"nonce {value} does not fit in 32 bits")

    @property
    def uint32(self) -> int:
        return int(self) & 0xFFFFFFFF


_KERBEROS_TIME_RE = re.compile(rb"\A[0-9]{14}Z\Z")


class KerberosTime(core.GeneralizedTime):
    """``KerberosTime ::= GeneralizedTime -- with no fractional seconds`` (RFC 4120 §5.2.3).

    Always ``YYYYMMDDHHMMSSZ``.  Setting a datetime drops sub-second precision on purpose
    (microseconds travel in separate ``cusec``/``susec`` fields); an ``int`` is POSIX seconds.
    Decoding rejects any other form, as MIT's ``asn1_decode_generaltime`` does.
    """

    def set(self, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            value = _dt.datetime.fromtimestamp(value, _UTC)
        if isinstance(value, _dt.datetime):
            if value.tzinfo is None:
                raise ValueError("KerberosTime needs a timezone-aware datetime")
            value = value.astimezone(_UTC)
            value = (
                f"{value.year:04d}{value.month:02d}{value.day:02d}"
                f"{value.hour:02d}{value.minute:02d}{value.second:02d}Z"
            )
        text = value.encode("ascii", "replace") if isinstance(value, str) else b""
        if not _KERBEROS_TIME_RE.match(text):
            raise ValueError(f"KerberosTime must be YYYYMMDDHHMMSSZ, not {value!r}")
        super().set(value)

    def validate_strict(self) -> None:
        if not _KERBEROS_TIME_RE.match(self.contents or b""):
            raise ValueError(f"KerberosTime not in YYYYMMDDHHMMSSZ form: {self.contents!r}")
        if not isinstance(self.native, _dt.datetime):  # year 0 parses as extended_datetime
            raise ValueError(f"KerberosTime out of range: {self.contents!r}")

    @property
    def timestamp(self) -> int:
        """POSIX seconds (what ccaches and ``krb5_timestamp`` hold)."""
        native = self.native
        if not isinstance(native, _dt.datetime):  # year 0: asn1crypto's extended_datetime
            raise ValueError("KerberosTime before year 1")
        return int(native.timestamp())


# --- Names and simple structures ------------------------------------------------------------


class KerberosStrings(core.SequenceOf):
    _child_spec = KerberosString


class PrincipalName(core.Sequence):
    """``PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF
    KerberosString }`` (RFC 4120 §5.2.2)."""

    _fields = [
        ("name_type", Int32, {"explicit": 0}),
        ("name_string", KerberosStrings, {"explicit": 1}),
    ]


class HostAddress(core.Sequence):
    """``HostAddress ::= SEQUENCE { addr-type [0] Int32, address [1] OCTET STRING }``
    (RFC 4120 §5.2.5)."""

    _fields = [
        ("addr_type", Int32, {"explicit": 0}),
        ("address", core.OctetString, {"explicit": 1}),
    ]


class HostAddresses(core.SequenceOf):
    """``HostAddresses ::= SEQUENCE OF HostAddress`` (RFC 4120 §5.2.5)."""

    _child_spec = HostAddress


class AuthorizationDataElement(core.Sequence):
    """One element of ``AuthorizationData`` (RFC 4120 §5.2.6): ad-type [0] Int32,
    ad-data [1] OCTET STRING."""

    _fields = [
        ("ad_type", Int32, {"explicit": 0}),
        ("ad_data", core.OctetString, {"explicit": 1}),
    ]


class AuthorizationData(core.SequenceOf):
    """``AuthorizationData ::= SEQUENCE OF SEQUENCE {...}`` (RFC 4120 §5.2.6)."""

    _child_spec = AuthorizationDataElement


class EncryptedData(core.Sequence):
    """``EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL,
    cipher [2] OCTET STRING }`` (RFC 4120 §5.2.9)."""

    _fields = [
        ("etype", Int32, {"explicit": 0}),
        ("kvno", UInt32, {"explicit": 1, "optional": True}),
        ("cipher", core.OctetString, {"explicit": 2}),
    ]


class EncryptionKey(core.Sequence):
    """``EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING }``
    (RFC 4120 §5.2.9)."""

    _fields = [
        ("keytype", Int32, {"explicit": 0}),
        ("keyvalue", core.OctetString, {"explicit": 1}),
    ]


class Checksum(core.Sequence):
    """``Checksum ::= SEQUENCE { cksumtype [0] Int32, checksum [1] OCTET STRING }``
    (RFC 4120 §5.2.9)."""

    _fields = [
        ("cksumtype", Int32, {"explicit": 0}),
        ("checksum", core.OctetString, {"explicit": 1}),
    ]


class LastReqEntry(core.Sequence):
    """One ``LastReq`` entry: lr-type [0] Int32, lr-value [1] KerberosTime (RFC 4120 §5.4.2)."""

    _fields = [
        ("lr_type", Int32, {"explicit": 0}),
        ("lr_value", KerberosTime, {"explicit": 1}),
    ]


class LastReq(core.SequenceOf):
    """``LastReq ::= SEQUENCE OF SEQUENCE {...}`` (RFC 4120 §5.4.2)."""

    _child_spec = LastReqEntry


class TransitedEncoding(core.Sequence):
    """``TransitedEncoding ::= SEQUENCE { tr-type [0] Int32, contents [1] OCTET STRING }``
    (RFC 4120 §5.3)."""

    _fields = [
        ("tr_type", Int32, {"explicit": 0}),
        ("contents", core.OctetString, {"explicit": 1}),
    ]


class ETypeList(core.SequenceOf):
    """``SEQUENCE OF Int32 -- EncryptionType`` (RFC 4120 §5.4.1 ``etype``)."""

    _child_spec = Int32


__all__ = [
    "APOptions",
    "AuthorizationData",
    "AuthorizationDataElement",
    "Checksum",
    "ETypeList",
    "EncryptedData",
    "EncryptionKey",
    "HostAddress",
    "HostAddresses",
    "Int32",
    "KDCOptions",
    "KerberosFlags",
    "KerberosNonce",
    "KerberosString",
    "KerberosStrings",
    "KerberosTime",
    "LastReq",
    "LastReqEntry",
    "Microseconds",
    "PrincipalName",
    "Realm",
    "TicketFlags",
    "TransitedEncoding",
    "UInt32",
]
