"""Bad input to the sans-I/O KDC handler: typed KRB-ERRORs or silent drops, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.krb5.asn1 import ErrorCode, KRBError, decode
from tests.test_kdc_testlib import (
    HOST,
    NOW,
    USER,
    anon_pkinit_req,
    as_req,
    enc_ts,
    error_code,
    make_kdc,
    parse_reply,
    password_tgt,
    tgs_req,
    user_key,
)

KDC_ = make_kdc()
VALID = [
    as_req(USER, padata=[enc_ts(user_key())]),
    anon_pkinit_req().der,
    tgs_req(password_tgt(KDC_), HOST),
]


def test_non_kerberos_bytes_are_dropped() -> None:
    for junk in (b"", b"\x00", b"GET / HTTP/1.1\r\n\r\n", bytes(range(256)), b"\x7e\x03abc"):
        assert KDC_.handle(junk, now=NOW) is None


def test_truncated_and_malformed_requests_get_generic_error() -> None:
    for req in VALID:
        for cut in (1, 2, 10, len(req) // 2, len(req) - 1):
            reply = KDC_.handle(req[:cut], now=NOW)
            if reply is not None:
                assert error_code(reply) == ErrorCode.KRB_ERR_GENERIC
    # right tag, wrong content
    assert error_code(KDC_.handle(b"\x6a\x03\x02\x01\x05", now=NOW)) == ErrorCode.KRB_ERR_GENERIC


def test_krb_error_fields() -> None:
    err = decode(KRBError, KDC_.handle(b"\x6a\x00", now=NOW))
    assert err["stime"].timestamp == int(NOW) and int(err["susec"]) == 250000
    assert err["realm"].native == KDC_.realm


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(VALID), st.integers(0, 4000), st.integers(1, 255), st.binary(max_size=8))
def test_mutated_requests_never_raise(base: bytes, pos: int, xor: int, tail: bytes) -> None:
    data = bytearray(base)
    data[pos % len(data)] ^= xor
    reply = KDC_.handle(bytes(data) + tail, now=NOW)
    if reply is not None:
        parse_reply(reply)  # a well-formed KRB-ERROR or KDC-REP


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    reply = KDC_.handle(data, now=NOW)
    if reply is not None:
        parse_reply(reply)


def test_oversized_request_is_dropped() -> None:
    big = b"\x6a\x84" + (2**21).to_bytes(4, "big") + b"\0" * (2**21)
    assert KDC_.handle(big, now=NOW) is None
