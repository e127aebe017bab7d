"""The TGS-REQ reader (gssmech.krb5.asn1.kdcfields): the direct DER path gives exactly what
decode() + conversion gives, takes MIT's requests, and never accepts what decode() refuses.

No timing here (house rule): bench/bench_asn1.py and bench/bench_kdc.py measure the speed.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.errors import DecodeError
from gssmech.krb5 import asn1 as k
from gssmech.krb5.asn1 import kdcfields as f
from gssmech.krb5.asn1.derread import NotFast
from tests.conftest import get_data, mutate
from tests.test_asn1_apfields import _OCTETS
from tests.test_asn1_samples import SAMPLES


def _sample_with_addresses() -> bytes:
    req = SAMPLES[k.TGSReq]()
    req["req_body"]["addresses"] = [{"addr_type": 2, "address": b"\x7f\0\0\x01"}]
    req["req_body"]["rtime"] = req["req_body"]["till"].native
    return req.dump()


CASES = {
    "mit:pw": get_data("mit/pw_tgs_req_1.der"),
    "mit:anon": get_data("mit/anon_tgs_req_1.der"),
    "sample": SAMPLES[k.TGSReq]().dump(),
    "sample+addresses": _sample_with_addresses(),
}


def _reference(data: bytes) -> tuple[str, Any]:
    try:
        return "ok", f._tgs_req_of(k.decode(k.TGSReq, data, what="X"))
    except DecodeError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("name", list(CASES))
def test_fast_path_takes_the_request_and_agrees(name: str) -> None:
    data = CASES[name]
    fast = f._fast_tgs_req(data)  # NotFast would mean the slow path
    assert ("ok", fast) == _reference(data)
    assert f.read_tgs_req(data) == fast


def test_fields_of_mit_request() -> None:
    data = CASES["mit:pw"]
    req = f.read_tgs_req(data)
    body = req.req_body
    assert body.realm == "GSSMECH.TEST" and body.sname == (1, ("host", "localhost"))
    assert body.der == k.inner_der(k.decode(k.TGSReq, data)["req_body"])
    assert body.der in data and body.der[0] == 0x30
    ap_req = req.find_padata(1)
    assert ap_req is not None and ap_req[0] == 0x6E  # PA-TGS-REQ carries an AP-REQ
    assert req.find_padata(2) is None


def test_optional_parts() -> None:
    body = f.read_tgs_req(CASES["sample+addresses"]).req_body
    assert body.addresses_der is not None and body.addresses_der[0] == 0x30
    assert body.rtime == body.till
    assert body.additional_tickets is not None and body.additional_tickets[0][0] == 0x61
    assert body.enc_authorization_data is not None


def test_non_minimal_integer_takes_the_slow_path() -> None:
    data = CASES["mit:pw"]
    # nonce [7]: widen its 4-octet INTEGER to a non-minimal 5 octets (and every length around).
    req = k.decode(k.TGSReq, data)
    nonce = req["req_body"]["nonce"].dump()
    assert nonce[2] == 0x02 and nonce[3] == 4 and nonce[4] < 0x80
    loose = bytearray(nonce[:1] + bytes([nonce[1] + 1]) + b"\x02\x05\x00" + nonce[4:])
    body = k.inner_der(req["req_body"])
    content = body[2:].replace(nonce, bytes(loose))
    assert body[1] == len(body) - 2 and len(content) < 0x80  # short-form lengths here
    new_body = b"\x30" + bytes([len(content)]) + content
    rebuilt = k.TGSReq({"pvno": 5, "msg_type": 12, "padata": req["padata"],
                        "req_body": k.KDCReqBody.load(new_body)}).dump()
    with pytest.raises(NotFast):
        f._fast_tgs_req(rebuilt)
    verdict = _reference(rebuilt)
    assert verdict[0] == "ok", verdict
    assert f.read_tgs_req(rebuilt) == verdict[1]
    assert verdict[1].req_body.nonce == f.read_tgs_req(data).req_body.nonce


def test_errors_are_decode_errors() -> None:
    for bad in (b"", b"\x6c\x00", CASES["mit:pw"][:-1], CASES["mit:pw"] + b"\0"):
        with pytest.raises(DecodeError) as info:
            f.read_tgs_req(bad, what="TGS-REQ")
        assert info.value.source == "TGS-REQ"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(list(CASES)), data=st.data())
def test_mutated_input_same_verdict_as_decode(name: str, data: st.DataObject) -> None:
    mutated = mutate(data, CASES[name])
    reference = _reference(mutated)
    try:
        fast = f._fast_tgs_req(mutated)
    except Exception:
        fast = None
    if fast is not None:
        assert reference == ("ok", fast)
    try:
        public = ("ok", f.read_tgs_req(mutated, what="X"))
    except DecodeError as exc:
        public = ("error", str(exc))
    assert public == reference


def test_every_single_octet_substitution_same_verdict() -> None:
    der = CASES["mit:anon"]
    for pos in range(len(der)):
        for octet in {*_OCTETS, der[pos] ^ 1, (der[pos] + 1) & 0xFF} - {der[pos]}:
            mutated = der[:pos] + bytes([octet]) + der[pos + 1:]
            try:
                fast = f._fast_tgs_req(mutated)
            except Exception:
                continue
            assert _reference(mutated) == ("ok", fast), (pos, octet)
