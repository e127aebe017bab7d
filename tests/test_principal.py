"""MIT principal syntax (krb5_parse_name / krb5_unparse_name) and anonymity predicates."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gssmech.errors import GSS_S_BAD_NAME, PrincipalError
from gssmech.krb5.constants import NameType
from gssmech.krb5.principal import Principal


def test_parse_plain_and_service():
    p = Principal.parse("host/web.example.com@EXAMPLE.COM")
    assert p.components == ("host", "web.example.com")
    assert p.realm == "EXAMPLE.COM"
    assert p.name_type == NameType.PRINCIPAL
    assert Principal.parse("krbtgt/A@B").name_type == NameType.SRV_INST


def test_default_realm_and_missing_realm():
    assert Principal.parse("user", default_realm="R").realm == "R"
    with pytest.raises(PrincipalError) as e:
        Principal.parse("user")
    assert e.value.major == GSS_S_BAD_NAME


def test_escapes_round_trip():
    p = Principal(1, ("a/b", "c@d", "e\\f", "tab\there", "nl\n"), "RE@LM")
    text = p.unparse()
    assert text == "a\\/b/c\\@d/e\\\\f/tab\\there/nl\\n@RE\\@LM"
    assert Principal.parse(text) == p


def test_anonymous_forms():
    full = Principal.parse("WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS")
    assert full.is_fully_anonymous and full.name_type == NameType.WELLKNOWN
    auth = Principal.parse("WELLKNOWN/ANONYMOUS@EXAMPLE.COM")
    assert auth.is_anonymous_name and not auth.is_fully_anonymous
    assert Principal.anonymous() == full
    assert not Principal.parse("user@WELLKNOWN:ANONYMOUS").is_anonymous_name


def test_bad_syntax():
    for bad in ("a@b@c", "a@b/c", "trailing\\"):
        with pytest.raises(PrincipalError):
            Principal.parse(bad)
    with pytest.raises(PrincipalError):
        Principal(2**31, ("a",), "R")


@given(
    st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3),
    st.text(min_size=1, max_size=10),
)
def test_unparse_parse_round_trip(components, realm):
    p = Principal(1, tuple(components), realm)
    assert Principal.parse(p.unparse(), name_type=1) == p
