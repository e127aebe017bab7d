"""Every message captured from MIT 1.20.1 (scripts/capture_mit_golden.py) decodes and re-encodes
byte for byte, and the anonymous PKINIT reply has the RFC 8062 shape (K4, K6, K7)."""

import json

import pytest

from gssmech.krb5 import asn1
from gssmech.krb5.asn1.numbers import ErrorCode, PaDataType
from gssmech.krb5.constants import RFC8062
from tests.conftest import DATA, get_data

CAPTURE = json.loads(get_data("mit/capture.json"))
NAMES = [name for names in CAPTURE["messages"].values() for name in names]
CLASSES = {
    "as_req": asn1.ASReq,
    "as_rep": asn1.ASRep,
    "tgs_req": asn1.TGSReq,
    "tgs_rep": asn1.TGSRep,
    "krb_error": asn1.KRBError,
}


def _cls(name: str):
    return next(cls for kind, cls in CLASSES.items() if f"_{kind}_" in name)


def test_all_captures_listed():
    assert len(NAMES) == 12
    assert sorted(p.name for p in (DATA / "mit").glob("*.der")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_golden_round_trip(name):
    raw = get_data(f"mit/{name}")
    msg = asn1.decode(_cls(name), raw, what=name)
    assert msg.dump() == raw
    assert msg.dump(force=True) == raw


def test_anonymous_pkinit_reply_shape():
    rep = asn1.decode(asn1.ASRep, get_data("mit/anon_as_rep_1.der"))
    assert rep["crealm"].native == "WELLKNOWN:ANONYMOUS"
    assert asn1.is_anonymous_principal_name(rep["cname"], require_name_type=True)
    types = [pa["padata_type"].native for pa in rep["padata"]]
    assert PaDataType(RFC8062.pa_pkinit_kx) in types or RFC8062.pa_pkinit_kx in types


def test_preauth_required_advertises_pkinit_kx():
    err = asn1.decode(asn1.KRBError, get_data("mit/anon_krb_error_1.der"))
    assert err["error_code"].native == ErrorCode.KDC_ERR_PREAUTH_REQUIRED
    method = err.decoded_e_data()
    kx = [pa for pa in method if pa["padata_type"].native == RFC8062.pa_pkinit_kx]
    assert kx and kx[0]["padata_value"].native == b""


def test_bytes_left_inside_an_explicit_tag_are_refused():
    """DER strictness: [2] of length 7 around a 6-byte BIT STRING (a tampered ap-options)."""
    from asn1crypto import core

    from gssmech.errors import DecodeError

    class S(core.Sequence):
        _fields = [("a", core.BitString, {"explicit": 2})]

    assert asn1.decode(S, bytes.fromhex("3008a206030400200000")).dump() == bytes.fromhex(
        "3008a206030400200000"
    )
    with pytest.raises(DecodeError, match="explicit tag length"):
        asn1.decode(S, bytes.fromhex("3009a20703040020000000"))
