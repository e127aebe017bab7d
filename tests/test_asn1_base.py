"""Basic types: DER built by hand from X.690 / RFC 4120 §5.2, flags vs MIT integers, strictness."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gssmech.errors import DecodeError
from gssmech.krb5 import asn1 as k
from gssmech.krb5.constants import DRAFT08, RFC8062, TicketFlag, flag_bit
from gssmech.krb5.principal import Principal


def tlv(tag: int, body: bytes) -> bytes:
    assert len(body) < 128
    return bytes([tag, len(body)]) + body


def ctx(n: int, body: bytes) -> bytes:  # [n] EXPLICIT, constructed context tag A0+n
    return tlv(0xA0 + n, body)


def general_string(text: str) -> bytes:
    return tlv(0x1B, text.encode())


# --- hand-built DER -----------------------------------------------------------------------


def test_principal_name_der() -> None:
    expected = tlv(
        0x30,
        ctx(0, tlv(0x02, b"\x03"))  # name-type NT-SRV-HST
        + ctx(1, tlv(0x30, general_string("host") + general_string("kdc.example.com"))),
    )
    built = k.principal_name(3, ["host", "kdc.example.com"])
    assert built.dump() == expected
    assert k.decode(k.PrincipalName, expected).native == {
        "name_type": 3,
        "name_string": ["host", "kdc.example.com"],
    }


def test_kerberos_time_der() -> None:
    when = dt.datetime(2024, 2, 29, 23, 59, 58, 999999, tzinfo=dt.UTC)
    assert k.KerberosTime(when).dump() == b"\x18\x0f" + b"20240229235958Z"
    # a non-UTC zone is converted, and POSIX seconds are accepted
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert k.KerberosTime(dt.datetime(2024, 3, 1, 1, 59, 58, tzinfo=plus2)).dump() == (
        b"\x18\x0f20240229235958Z"
    )
    assert k.KerberosTime(0).dump() == b"\x18\x0f19700101000000Z"
    assert k.decode(k.KerberosTime, b"\x18\x0f20240229235958Z").timestamp == 1709251198


def test_kdc_options_forwardable_renewable_anonymous_der() -> None:
    # bit 1 -> 0x40 in octet 0, bit 8 -> 0x80 in octet 1, bit 16 -> 0x80 in octet 2;
    # 32 bits, 0 unused.
    expected = bytes([0x03, 0x05, 0x00, 0x40, 0x80, 0x80, 0x00])
    options = k.KDCOptions({"forwardable", "renewable", "anonymous"})
    assert options.dump() == expected
    assert options.to_int() == 0x40808000
    assert k.KDCOptions(0x40808000).dump() == expected
    assert k.decode(k.KDCOptions, expected).native == {"forwardable", "renewable", "anonymous"}


def test_empty_flags_still_32_bits() -> None:
    # RFC 4120 §5.2.8: at least 32 bits; asn1crypto's named BIT STRING would send 03 01 00.
    assert k.TicketFlags(set()).dump() == b"\x03\x05\x00\x00\x00\x00\x00"
    assert k.APOptions({"mutual-required"}).dump() == b"\x03\x05\x00\x20\x00\x00\x00"


def test_short_flags_from_peer_decode_and_round_trip() -> None:
    # A minimal (non-MIT) encoding: only bit 1 set, 6 unused bits of one octet.
    der = b"\x03\x02\x06\x40"
    flags = k.decode(k.TicketFlags, der)
    assert flags.native == {"forwardable"}
    assert flags.to_int() == TicketFlag.FORWARDABLE
    assert flags.dump() == der


def test_flags_longer_than_32_bits() -> None:
    flags = k.TicketFlags({"initial", 40})
    assert flags.dump() == b"\x03\x07\x07" + b"\x00\x40\x00\x00\x00\x80"
    assert flags.bit_numbers() == {9, 40}
    assert flags.to_int() == TicketFlag.INITIAL  # MIT's 32-bit view drops bit 40


# --- flags vs MIT integers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mit"),
    [
        ("forwardable", TicketFlag.FORWARDABLE),
        ("forwarded", TicketFlag.FORWARDED),
        ("proxiable", TicketFlag.PROXIABLE),
        ("proxy", TicketFlag.PROXY),
        ("may-postdate", TicketFlag.MAY_POSTDATE),
        ("postdated", TicketFlag.POSTDATED),
        ("invalid", TicketFlag.INVALID),
        ("renewable", TicketFlag.RENEWABLE),
        ("initial", TicketFlag.INITIAL),
        ("pre-authent", TicketFlag.PRE_AUTHENT),
        ("hw-authent", TicketFlag.HW_AUTHENT),
        ("transited-policy-checked", TicketFlag.TRANSITED_POLICY_CHECKED),
        ("ok-as-delegate", TicketFlag.OK_AS_DELEGATE),
        ("anonymous-draft08", TicketFlag.BIT_14_DRAFT_ANONYMOUS),
        ("enc-pa-rep", TicketFlag.ENC_PA_REP),
        ("anonymous", TicketFlag.ANONYMOUS),
    ],
)
def test_ticket_flag_names_match_mit_values(name: str, mit: int) -> None:
    assert k.TicketFlags({name}).to_int() == mit
    assert k.TicketFlags(int(mit)).native == {name}


@pytest.mark.parametrize(
    ("name", "mit"),  # KDC_OPT_* from MIT krb5.h
    [
        ("forwardable", 0x40000000),
        ("allow-postdate", 0x04000000),
        ("renewable", 0x00800000),
        ("cname-in-addl-tkt", 0x00020000),
        ("canonicalize", 0x00010000),
        ("anonymous", 0x00008000),
        ("disable-transited-check", 0x00000020),
        ("renewable-ok", 0x00000010),
        ("enc-tkt-in-skey", 0x00000008),
        ("renew", 0x00000002),
        ("validate", 0x00000001),
    ],
)
def test_kdc_option_names_match_mit_values(name: str, mit: int) -> None:
    assert k.KDCOptions({name}).to_int() == mit


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_flags_int_round_trip(value: int) -> None:
    flags = k.TicketFlags.from_int(value)
    assert flags.to_int() == value
    der = flags.dump()
    assert len(der) == 7  # always exactly 32 bits, like MIT
    again = k.decode(k.TicketFlags, der)
    assert again.to_int() == value
    assert again.bit_numbers() == {n for n in range(32) if value & flag_bit(n)}


def test_flag_helpers() -> None:
    flags = k.TicketFlags({"forwardable"}).with_bits("renewable", 16, clear=["forwardable"])
    assert flags.native == {"renewable", "anonymous"}
    assert flags.is_set("anonymous") and flags.is_set(16) and not flags.is_set("forwardable")
    with pytest.raises(ValueError):
        k.TicketFlags({"no-such-flag"})
    with pytest.raises(ValueError):
        k.TicketFlags(2**32)


def test_anonymous_bit_per_profile() -> None:
    rfc = k.anonymous_kdc_options("forwardable")
    draft = k.anonymous_kdc_options("forwardable", profile=DRAFT08)
    assert rfc.to_int() == 0x40000000 | RFC8062.flag_value
    assert draft.to_int() == 0x40000000 | DRAFT08.flag_value
    assert k.anonymous_flag_set(rfc) and not k.anonymous_flag_set(rfc, DRAFT08)
    assert k.anonymous_flag_set(draft, DRAFT08) and not k.anonymous_flag_set(draft)


# --- integers, strings, strictness ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "der"),
    [
        (k.Int32, b"\x02\x05\x00\x80\x00\x00\x00"),  # 2^31
        (k.UInt32, b"\x02\x01\xff"),  # -1
        (k.UInt32, b"\x02\x05\x01\x00\x00\x00\x00"),  # 2^32
        (k.Microseconds, b"\x02\x03\x0f\x42\x40"),  # 1000000
        (k.KerberosNonce, b"\x02\x05\x01\x00\x00\x00\x00"),
    ],
)
def test_integer_ranges_enforced_on_decode(cls: type, der: bytes) -> None:
    with pytest.raises(DecodeError):
        k.decode(cls, der)


def test_integer_ranges_enforced_on_build() -> None:
    with pytest.raises(ValueError):
        k.Int32(2**31)
    with pytest.raises(ValueError):
        k.Microseconds(10**6)


def test_nonce_accepts_negative_legacy_encoding() -> None:
    nonce = k.decode(k.KerberosNonce, b"\x02\x04\xff\xff\xff\xfe")
    assert int(nonce) == -2 and nonce.uint32 == 0xFFFFFFFE
    assert k.KerberosNonce(0xFFFFFFFE).dump() == b"\x02\x05\x00\xff\xff\xff\xfe"


@pytest.mark.parametrize(
    "text",
    [b"20240229235958", b"20240229235958.5Z", b"202402292359Z", b"20240229235958+0000",
     b"2024022923595aZ", b"20241329235958Z"],
)
def test_kerberos_time_rejects_other_generalized_time_forms(text: bytes) -> None:
    with pytest.raises(DecodeError):
        k.decode(k.KerberosTime, bytes([0x18, len(text)]) + text)


def test_kerberos_time_build_rejects_naive_and_garbage() -> None:
    with pytest.raises(ValueError):
        k.KerberosTime(dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        k.KerberosTime("2024")


def test_kerberos_string_utf8() -> None:
    der = general_string("jürgen")
    assert k.decode(k.KerberosString, der).native == "jürgen"
    with pytest.raises(DecodeError):
        k.decode(k.KerberosString, b"\x1b\x02\xff\xfe")


def test_decode_requires_bytes_and_reports_what() -> None:
    with pytest.raises(DecodeError, match="my-field"):
        k.decode(k.PrincipalName, b"\x30\x03\x02\x01", what="my-field")
    with pytest.raises(DecodeError):
        k.decode(k.PrincipalName, "not bytes")  # type: ignore[arg-type]
    with pytest.raises(DecodeError):
        k.decode(k.PrincipalName, b"")


# --- Principal conversion ------------------------------------------------------------------


def test_principal_conversion() -> None:
    p = Principal.parse("HTTP/www.example.com@EXAMPLE.COM", name_type=3)
    name = k.principal_name_of(p)
    assert name.native == {"name_type": 3, "name_string": ["HTTP", "www.example.com"]}
    assert k.realm_of(p).dump() == general_string("EXAMPLE.COM")
    decoded = k.decode(k.PrincipalName, name.dump())
    assert k.to_principal(decoded, "EXAMPLE.COM") == p
    assert k.to_principal(decoded, k.Realm("EXAMPLE.COM")) == p


def test_anonymous_principal_name() -> None:
    name = k.anonymous_principal_name()
    assert name.dump() == tlv(
        0x30,
        ctx(0, b"\x02\x01\x0b")
        + ctx(1, tlv(0x30, general_string("WELLKNOWN") + general_string("ANONYMOUS"))),
    )
    assert k.to_principal(name, k.anonymous_realm().native).is_fully_anonymous
    assert k.is_anonymous_principal_name(name, require_name_type=True)
    other_type = k.principal_name(1, ["WELLKNOWN", "ANONYMOUS"])
    assert k.is_anonymous_principal_name(other_type)
    assert not k.is_anonymous_principal_name(other_type, require_name_type=True)
    assert not k.is_anonymous_principal_name(k.principal_name(1, ["alice"]))
