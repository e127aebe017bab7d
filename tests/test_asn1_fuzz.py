"""Hostile input: random, truncated and mutated bytes into every top-level decoder.

The only exception allowed out of a decoder is DecodeError, nothing hangs (hypothesis'
deadline), and whatever a decoder accepts dumps back to exactly the bytes it was given.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from asn1crypto import core
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.errors import DecodeError
from gssmech.krb5 import asn1 as k
from tests.test_asn1_pkinit import PKINIT_SAMPLES
from tests.test_asn1_samples import SAMPLES

ALL_SAMPLES: dict[type[core.Asn1Value], Callable[[], core.Asn1Value]] = {
    **SAMPLES, **PKINIT_SAMPLES}
SEEDS: dict[type[core.Asn1Value], bytes] = {
    cls: build().dump() for cls, build in ALL_SAMPLES.items()}
CLASSES = list(ALL_SAMPLES)


def _use(value: core.Asn1Value) -> None:
    """What callers do next with a decoded value; must not raise anything but DecodeError."""
    if isinstance(value, k.KRBError):
        value.decoded_e_data()
    elif isinstance(value, k.AuthorizationData):
        list(k.walk_authdata(value))
    elif isinstance(value, k.PAPKAsReq):
        k.auth_pack_of(value)
    elif isinstance(value, k.PAPKAsRep) and value.name == "dh_info":
        k.kdc_dh_key_info_of(value.chosen)
    elif isinstance(value, (k.EncTicketPart, k.EncKDCRepPart)):
        value["flags"].to_int()
        value["authtime"].timestamp  # noqa: B018
        k.to_principal(value["cname" if "cname" in value else "sname"],
                       value["crealm" if "crealm" in value else "srealm"])
    elif isinstance(value, k.KDCReq):
        k.inner_der(value["req_body"])
        for item in value["padata"] or ():
            if int(item["padata_type"]) == 1:
                k.decode(k.PATGSReq, item["padata_value"].native)


def check(cls: type[core.Asn1Value], data: bytes) -> None:
    try:
        value = k.decode(cls, data)
    except DecodeError:
        return
    assert value.dump() == data
    try:
        _use(value)
    except DecodeError:
        pass


HELPERS: list[Callable[[bytes], object]] = [
    k.decode_enc_kdc_rep_part, k.decode_e_data, k.decode_etype_info2, k.decode_pa_enc_timestamp,
    k.decode_method_data, k.decode_typed_data,
]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_truncation(cls: type[core.Asn1Value]) -> None:
    seed = SEEDS[cls]
    for end in range(len(seed)):
        with pytest.raises(DecodeError):
            k.decode(cls, seed[:end])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(cls=st.sampled_from(CLASSES), data=st.binary(max_size=300))
def test_random_bytes(cls: type[core.Asn1Value], data: bytes) -> None:
    check(cls, data)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(cls=st.sampled_from(CLASSES), data=st.data())
def test_mutated_valid_messages(cls: type[core.Asn1Value], data: st.DataObject) -> None:
    seed = bytearray(SEEDS[cls])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(seed) - 1))
        action = data.draw(st.sampled_from(["set", "insert", "delete"]))
        if action == "set":
            seed[pos] = data.draw(st.integers(0, 255))
        elif action == "insert":
            seed.insert(pos, data.draw(st.integers(0, 255)))
        elif len(seed) > 1:
            del seed[pos]
    check(cls, bytes(seed))
    # the same bytes offered to a decoder of another type
    check(data.draw(st.sampled_from(CLASSES)), bytes(seed))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(helper=st.sampled_from(HELPERS), seed=st.sampled_from(list(SEEDS.values())),
       cut=st.integers(0, 400), noise=st.binary(max_size=8))
def test_helpers_raise_only_decode_error(
    helper: Callable[[bytes], object], seed: bytes, cut: int, noise: bytes
) -> None:
    for data in (seed, seed[:cut] + noise, noise):
        try:
            helper(data)
        except DecodeError:
            pass


def test_deep_nesting_in_any_fields_is_a_decode_error() -> None:
    # supportedCMSTypes parameters are ANY: 5000 nested SEQUENCEs must not escape as
    # RecursionError or hang.
    depth = 5000
    nested = b""
    for _ in range(depth):
        nested = _tlv(0x30, nested)
    alg = _tlv(0x30, b"\x06\x03\x2a\x03\x04" + nested)
    pack = k.AuthPack.load(PKINIT_SAMPLES[k.AuthPack]().dump())
    body = k.inner_der(pack["pk_authenticator"])
    crafted = _tlv(0x30, _tlv(0xA0, body) + _tlv(0xA2, _tlv(0x30, alg)))
    try:
        value = k.decode(k.AuthPack, crafted)
    except DecodeError:
        return
    assert value.dump() == crafted


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body
