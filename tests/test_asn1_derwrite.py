"""The shared DER writer (gssmech.krb5.asn1.derwrite) writes what asn1crypto's encoder writes:
integers, times, names (memoised), short and long lengths, optional fields; and its memo
tables stay bounded whatever names a peer sends."""

from __future__ import annotations

import datetime

from asn1crypto import core
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.krb5.asn1 import (
    EncryptedData,
    KerberosTime,
    KRBError,
    PrincipalName,
    TicketFlags,
    decode,
    derwrite,
    principal_name,
)

_names = st.lists(st.text(st.characters(codec="ascii", exclude_categories=["Cs"]), max_size=40),
                  min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(name_type=st.integers(-(2**31), 2**31 - 1), components=_names)
def test_principal_name_matches_asn1crypto(name_type: int, components: list[str]) -> None:
    want = principal_name(name_type, components).dump()
    assert derwrite.principal_name(name_type, components) == want
    assert derwrite.principal_name(name_type, components) == want  # memoised


@settings(max_examples=200, deadline=None)
@given(seconds=st.integers(0, 253402300799))  # 1970 .. 9999-12-31T23:59:59Z
def test_kerberos_time_matches_asn1crypto(seconds: int) -> None:
    want = KerberosTime(datetime.datetime.fromtimestamp(seconds, datetime.UTC)).dump()
    assert derwrite.kerberos_time(seconds) == want
    assert derwrite.kerberos_time(seconds) == want  # memoised


@given(value=st.integers(-(2**70), 2**70))
def test_integer_matches_asn1crypto(value: int) -> None:
    assert derwrite.integer(value) == core.Integer(value).dump()


@given(size=st.sampled_from([0, 1, 127, 128, 255, 256, 65535, 65536, 70000]),
       kvno=st.none() | st.integers(0, 2**31 - 1))
def test_lengths_and_optional_fields_match_asn1crypto(size: int, kvno: int | None) -> None:
    cipher = bytes(size)
    assert derwrite.octets(cipher) == core.OctetString(cipher).dump()
    fields: dict = {"etype": 18, "cipher": cipher}
    if kvno is not None:
        fields["kvno"] = kvno
    assert derwrite.encrypted_data(18, cipher, kvno) == EncryptedData(fields).dump()


def test_memo_tables_stay_bounded() -> None:
    for n in range(3 * derwrite._MEMO_MAX):
        derwrite.kerberos_string(f"realm-{n}")
        derwrite.principal_name(1, (f"user{n}",))
    assert len(derwrite._strings) <= derwrite._MEMO_MAX
    assert len(derwrite._names) <= derwrite._MEMO_MAX
    big = "x" * (derwrite._MEMO_VALUE_MAX + 1)
    assert derwrite.kerberos_string(big) == core.GeneralString(big).dump()
    assert big not in derwrite._strings
    assert PrincipalName.load(derwrite.principal_name(1, (big,)))["name_string"].native == [big]


@given(value=st.integers(0, 2**32 - 1))
def test_kerberos_flags_are_32_bits(value: int) -> None:
    """MIT sends (and we send) exactly 32 bits with no unused bits (RFC 4120 §5.2.8)."""
    ours = derwrite.kerberos_flags(value)
    assert ours == TicketFlags.from_int(value).dump()
    assert TicketFlags.load(ours).to_int() == value


@given(tag=st.integers(1, 30), size=st.sampled_from([0, 1, 127, 128, 255, 256, 65536]))
def test_context_and_application_tags(tag: int, size: int) -> None:
    content = bytes(size)
    assert derwrite.ctx(tag, content) == derwrite.header(0xA0 | tag, size) + content
    assert derwrite.app(tag, content) == derwrite.header(0x60 | tag, size) + content
    assert derwrite.header(0x30, size) == core.Sequence(contents=content).dump()[: -size or None]


@settings(max_examples=100, deadline=None)
@given(code=st.integers(-(2**31), 2**31 - 1), stime=st.integers(0, 4_102_444_799),
       susec=st.integers(0, 999_999), realm=st.text(max_size=30), name_type=st.integers(0, 10),
       components=_names, e_text=st.text(max_size=60),
       e_data=st.none() | st.binary(max_size=200))
def test_krb_error_matches_asn1crypto(
    code: int, stime: int, susec: int, realm: str, name_type: int, components: list[str],
    e_text: str, e_data: bytes | None,
) -> None:
    """One KRB-ERROR writer for the KDC and the GSS acceptor (RFC 4120 §5.9.1)."""
    want: dict[str, object] = {
        "pvno": 5, "msg_type": 30, "stime": stime, "susec": susec, "error_code": code,
        "realm": realm, "sname": principal_name(name_type, components),
    }
    if e_text:
        want["e_text"] = e_text
    if e_data is not None:
        want["e_data"] = e_data
    ours = derwrite.krb_error(error_code=code, stime=stime, susec=susec, realm=realm,
                              sname=(name_type, components), e_text=e_text, e_data=e_data)
    assert ours == KRBError(want).dump()
    assert decode(KRBError, ours)["error_code"].native == code
