"""Pre-authentication data (RFC 4120 §5.2.7) and KRB-ERROR e-data helpers (§5.9.1).

``padata-value`` and ``e-data`` are OCTET STRINGs holding the DER of a type chosen by
``padata-type`` / the error code; the helpers here decode those inner values strictly.
"""

from __future__ import annotations

from collections.abc import Iterable

from asn1crypto import core

from gssmech.errors import DecodeError
from gssmech.krb5.asn1.base import EncryptedData, Int32, KerberosString, KerberosTime, Microseconds
from gssmech.krb5.asn1.decode import decode, inner_der
from gssmech.krb5.asn1.numbers import PaDataType


class PAData(core.Sequence):
    """``PA-DATA ::= SEQUENCE { -- NOTE: first tag is [1], not [0] padata-type [1] Int32,
    padata-value [2] OCTET STRING }`` (RFC 4120 §5.2.7)."""

    _fields = [
        ("padata_type", Int32, {"explicit": 1}),
        ("padata_value", core.OctetString, {"explicit": 2}),
    ]


class MethodData(core.SequenceOf):
    """``METHOD-DATA ::= SEQUENCE OF PA-DATA`` (RFC 4120 §5.9.1); also the type of the
    ``padata`` fields of KDC-REQ/KDC-REP."""

    _child_spec = PAData


class PAEncTimestamp(EncryptedData):
    """``PA-ENC-TIMESTAMP ::= EncryptedData -- PA-ENC-TS-ENC`` (RFC 4120 §5.2.7.2), padata 2,
    key usage 1."""


class PAEncTSEnc(core.Sequence):
    """``PA-ENC-TS-ENC ::= SEQUENCE { patimestamp [0] KerberosTime, pausec [1] Microseconds
    OPTIONAL }`` (RFC 4120 §5.2.7.2)."""

    _fields = [
        ("patimestamp", KerberosTime, {"explicit": 0}),
        ("pausec", Microseconds, {"explicit": 1, "optional": True}),
    ]


class ETypeInfo2Entry(core.Sequence):
    """``ETYPE-INFO2-ENTRY ::= SEQUENCE { etype [0] Int32, salt [1] KerberosString OPTIONAL,
    s2kparams [2] OCTET STRING OPTIONAL }`` (RFC 4120 §5.2.7.5)."""

    _fields = [
        ("etype", Int32, {"explicit": 0}),
        ("salt", KerberosString, {"explicit": 1, "optional": True}),
        ("s2kparams", core.OctetString, {"explicit": 2, "optional": True}),
    ]


class ETypeInfo2(core.SequenceOf):
    """``ETYPE-INFO2 ::= SEQUENCE SIZE (1..MAX) OF ETYPE-INFO2-ENTRY`` (RFC 4120 §5.2.7.5)."""

    _child_spec = ETypeInfo2Entry

    def validate_strict(self) -> None:
        if len(self) == 0:
            raise DecodeError("ETYPE-INFO2 must have at least one entry")


class ETypeInfoEntry(core.Sequence):
    """``ETYPE-INFO-ENTRY ::= SEQUENCE { etype [0] Int32, salt [1] OCTET STRING OPTIONAL }``
    (RFC 4120 §5.2.7.4; superseded by ETYPE-INFO2, still sent by old KDCs)."""

    _fields = [
        ("etype", Int32, {"explicit": 0}),
        ("salt", core.OctetString, {"explicit": 1, "optional": True}),
    ]


class ETypeInfo(core.SequenceOf):
    """``ETYPE-INFO ::= SEQUENCE OF ETYPE-INFO-ENTRY`` (RFC 4120 §5.2.7.4)."""

    _child_spec = ETypeInfoEntry


class TypedData(core.Sequence):
    """``TypedData ::= SEQUENCE { data-type [0] Int32, data-value [1] OCTET STRING OPTIONAL }``
    (RFC 4120 §5.9.1)."""

    _fields = [
        ("data_type", Int32, {"explicit": 0}),
        ("data_value", core.OctetString, {"explicit": 1, "optional": True}),
    ]


class TypedDataList(core.SequenceOf):
    """``TYPED-DATA ::= SEQUENCE SIZE (1..MAX) OF TypedData`` (RFC 4120 §5.9.1)."""

    _child_spec = TypedData

    def validate_strict(self) -> None:
        if len(self) == 0:
            raise DecodeError("TYPED-DATA must have at least one element")


# --- builders and lookups -----------------------------------------------------------------


def pa_data(padata_type: int, value: bytes | core.Asn1Value = b"") -> PAData:
    """A PA-DATA element; ``value`` may be an asn1crypto value (its DER is used)."""
    raw = inner_der(value) if isinstance(value, core.Asn1Value) else bytes(value)
    return PAData({"padata_type": int(padata_type), "padata_value": raw})


def method_data(items: Iterable[PAData | tuple[int, bytes | core.Asn1Value]]) -> MethodData:
    """A METHOD-DATA from PA-DATA values or ``(type, value)`` pairs."""
    out = []
    for item in items:
        out.append(item if isinstance(item, PAData) else pa_data(item[0], item[1]))
    return MethodData(out)


def find_padata(padata: MethodData | None, padata_type: int) -> PAData | None:
    """The first PA-DATA of ``padata_type`` (an absent padata field counts as empty)."""
    if padata is None or isinstance(padata, core.Void):
        return None
    for item in padata:
        if int(item["padata_type"]) == padata_type:
            return item
    return None


def padata_types(padata: MethodData | None) -> list[int]:
    """The padata-type of each element, in order."""
    if padata is None or isinstance(padata, core.Void):
        return []
    return [int(item["padata_type"]) for item in padata]


def decode_etype_info2(value: bytes) -> ETypeInfo2:
    """The padata-value of PA-ETYPE-INFO2 (19)."""
    return decode(ETypeInfo2, value, what="ETYPE-INFO2")


def decode_pa_enc_timestamp(value: bytes) -> PAEncTimestamp:
    """The padata-value of PA-ENC-TIMESTAMP (2): an EncryptedData of PA-ENC-TS-ENC."""
    return decode(PAEncTimestamp, value, what="PA-ENC-TIMESTAMP")


def decode_method_data(e_data: bytes) -> MethodData:
    """KRB-ERROR e-data holding METHOD-DATA (KDC_ERR_PREAUTH_REQUIRED, §5.9.1/§3.1.1)."""
    return decode(MethodData, e_data, what="e-data METHOD-DATA")


def decode_typed_data(e_data: bytes) -> TypedDataList:
    """KRB-ERROR e-data holding TYPED-DATA (e.g. PKINIT errors, RFC 4556 §3.2.2)."""
    return decode(TypedDataList, e_data, what="e-data TYPED-DATA")


def decode_e_data(e_data: bytes) -> MethodData | TypedDataList:
    """e-data as METHOD-DATA or TYPED-DATA (RFC 4120 §5.9.1).

    The shapes cannot be confused: PA-DATA's first field is [1], TypedData's is [0].  An
    empty SEQUENCE OF decodes as an empty METHOD-DATA.
    """
    try:
        return decode_method_data(e_data)
    except DecodeError as method_error:
        try:
            return decode_typed_data(e_data)
        except DecodeError:
            raise method_error from None


__all__ = [
    "ETypeInfo",
    "ETypeInfo2",
    "ETypeInfo2Entry",
    "ETypeInfoEntry",
    "MethodData",
    "PAData",
    "PAEncTSEnc",
    "PAEncTimestamp",
    "PaDataType",
    "TypedData",
    "TypedDataList",
    "decode_e_data",
    "decode_etype_info2",
    "decode_method_data",
    "decode_pa_enc_timestamp",
    "decode_typed_data",
    "find_padata",
    "method_data",
    "pa_data",
    "padata_types",
]
