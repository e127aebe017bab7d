"""The AP exchange readers (gssmech.krb5.asn1.apfields): the direct DER path gives exactly what
decode() + conversion gives, takes real messages, and never accepts what decode() refuses.

No timing here (house rule): bench/bench_asn1.py measures the speed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asn1crypto import core
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.errors import DecodeError
from gssmech.gss import _der
from gssmech.krb5 import asn1 as k
from gssmech.krb5.asn1 import apfields as f
from gssmech.krb5.asn1.derread import NotFast
from gssmech.krb5.principal import Principal
from tests.conftest import get_data, mutate
from tests.test_asn1_samples import SAMPLES

#: class -> (fast reader, tree converter, public reader)
READERS: dict[type[core.Asn1Value], tuple[Callable, Callable, Callable]] = {
    k.APReq: (f._fast_ap_req, f._ap_req_of, f.read_ap_req),
    k.Authenticator: (f._fast_authenticator, f._authenticator_of, f.read_authenticator),
    k.APRep: (f._fast_ap_rep, f._ap_rep_of, f.read_ap_rep),
    k.EncAPRepPart: (f._fast_enc_ap_rep_part, f._enc_ap_rep_part_of, f.read_enc_ap_rep_part),
}

ALICE = Principal(1, ("alice",), "EXAMPLE.ORG")
ANON = Principal(11, ("WELLKNOWN", "ANONYMOUS"), "WELLKNOWN:ANONYMOUS")


def _mit_ap_reqs() -> list[tuple[str, type, bytes]]:
    """The AP-REQs inside MIT's PA-TGS-REQs (tests/data/mit)."""
    out = []
    for name in ("pw_tgs_req_1.der", "anon_tgs_req_1.der"):
        for pa in k.decode(k.TGSReq, get_data(f"mit/{name}"))["padata"]:
            if int(pa["padata_type"]) == 1:
                out.append((f"mit:{name}", k.APReq, bytes(pa["padata_value"].native)))
    return out


def _ours() -> list[tuple[str, type, bytes]]:
    """What gssmech.gss._der builds for contexts (so the acceptor reads our own tokens fast)."""
    ticket = SAMPLES[k.Ticket]().dump()
    out = []
    for client, seq, cusec in ((ALICE, 0, 0), (ANON, 0x7FFFFFFF, 999999), (ALICE, 2**32 - 1, 7)):
        auth = _der.authenticator(client, cksumtype=0x8003, checksum=bytes(24), cusec=cusec,
                                  ctime=1_700_000_000, subkey=(18, bytes(32)),
                                  seq_number=seq)
        out.append((f"ours:authenticator:{seq}", k.Authenticator, auth))
        out.append((f"ours:enc_ap_rep_part:{seq}", k.EncAPRepPart,
                    _der.enc_ap_rep_part(ctime=1_700_000_000, cusec=cusec,
                                         subkey=(17, bytes(16)), seq_number=seq)))
    out.append(("ours:ap_req", k.APReq, _der.ap_req(0x20000000, ticket, 18, b"\x01" * 200)))
    out.append(("ours:ap_req:long", k.APReq, _der.ap_req(0, ticket, 18, b"\x02" * 70000)))
    out.append(("ours:ap_rep", k.APRep, _der.ap_rep(18, b"\x03" * 40)))
    return out


CASES = (_mit_ap_reqs() + _ours()
         + [(f"sample:{cls.__name__}", cls, SAMPLES[cls]().dump()) for cls in READERS])


def _reference(cls: type, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", READERS[cls][1](k.decode(cls, data, what="X"))
    except DecodeError as exc:
        return "error", str(exc)


@pytest.mark.parametrize(("name", "cls", "data"), CASES, ids=[n for n, _, _ in CASES])
def test_fast_path_takes_the_message_and_agrees(name: str, cls: type, data: bytes) -> None:
    fast = READERS[cls][0](data)  # raises NotFast if the message would take the slow path
    assert ("ok", fast) == _reference(cls, data)
    assert READERS[cls][2](data) == fast


def test_fields_read_from_mit() -> None:
    _name, _cls, data = _mit_ap_reqs()[0]
    req = f.read_ap_req(data)
    assert req.ticket.server == Principal(2, ("krbtgt", "GSSMECH.TEST"), "GSSMECH.TEST")
    assert req.ticket.enc_part.etype == 18 and req.ticket.enc_part.kvno == 1
    assert req.authenticator.kvno is None and req.ap_options == 0


def test_authenticator_fields() -> None:
    auth = f.read_authenticator(SAMPLES[k.Authenticator]().dump())
    assert auth.client.components == ("alice",)
    assert auth.cksum is not None and auth.cksum.cksumtype == 0x8003
    assert (auth.cusec, auth.seq_number) == (999999, 0xFFFFFFFF)
    assert auth.subkey is not None and auth.subkey.keytype == 18
    assert auth.authorization_data == ((129, b"\x30\x03\x02\x01\x12"),)
    assert "keyvalue" not in repr(auth)  # a key never shows in a log line


# --- valid but unusual encodings: decode() accepts them, the readers must too --------------

def _t(tag: int, body: bytes) -> bytes:
    assert len(body) < 0x80
    return bytes([tag, len(body)]) + body


def _ap_rep_with(etype: bytes, cipher: bytes) -> bytes:
    enc = _t(0x30, _t(0xA0, etype) + _t(0xA2, cipher))
    return _t(0x6F, _t(0x30, b"\xa0\x03\x02\x01\x05\xa1\x03\x02\x01\x0f" + _t(0xA2, enc)))


UNUSUAL = {
    # etype as a non-minimal INTEGER (00 12): BER, asn1crypto accepts it.
    "non-minimal integer": _ap_rep_with(b"\x02\x02\x00\x12", b"\x04\x01\x00"),
    # cipher's length in long form although short would do.
    "long-form length": _ap_rep_with(b"\x02\x01\x12", b"\x04\x81\x01\x00"),
}


@pytest.mark.parametrize("case", list(UNUSUAL))
def test_unusual_encoding_takes_the_slow_path_with_the_same_answer(case: str) -> None:
    data = UNUSUAL[case]
    with pytest.raises(NotFast):
        f._fast_ap_rep(data)
    verdict = _reference(k.APRep, data)
    assert verdict[0] == "ok", verdict  # otherwise this case proves nothing
    assert f.read_ap_rep(data) == verdict[1]


def test_negative_seq_number_rfc1510() -> None:
    auth = _der.authenticator(ALICE, cksumtype=0x8003, checksum=bytes(24), cusec=1,
                              ctime=1_700_000_000, subkey=(18, bytes(32)), seq_number=0)
    negative = auth.replace(b"\xa7\x03\x02\x01\x00", b"\xa7\x03\x02\x01\xff")
    assert f._fast_authenticator(negative).seq_number == 0xFFFFFFFF
    assert f._fast_authenticator(negative) == _reference(k.Authenticator, negative)[1]


@pytest.mark.parametrize("reader", [r[2] for r in READERS.values()])
def test_errors_are_decode_errors_naming_the_message(reader: Callable) -> None:
    for bad in (b"", b"\x30\x00", b"\x6e\x80\x00\x00", bytes(40)):
        with pytest.raises(DecodeError) as info:
            reader(bad, what="the token")
        assert info.value.source == "the token"


# --- mutations: the fast path never accepts what decode() refuses --------------------------

SMALL_CASES = [c for c in CASES if len(c[2]) < 4096]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(SMALL_CASES), data=st.data())
def test_mutated_input_same_verdict_as_decode(case: tuple, data: st.DataObject) -> None:
    _name, cls, der = case
    mutated = mutate(data, der)
    reference = _reference(cls, mutated)
    try:
        fast = READERS[cls][0](mutated)
    except Exception:
        fast = None
    if fast is not None:
        assert reference == ("ok", fast)
    try:
        public = ("ok", READERS[cls][2](mutated, what="X"))
    except DecodeError as exc:
        public = ("error", str(exc))
    assert public == reference


#: Replacement octets that matter to DER and to the text fields: 0, small lengths, space and
#: sign (int() would skip or take them), digits, 'Z', the high bit, 0xFF.
_OCTETS = (0x00, 0x01, 0x02, 0x20, 0x2B, 0x2D, 0x30, 0x39, 0x5A, 0x7F, 0x80, 0x81, 0xFF)


@pytest.mark.parametrize("cls", [k.Authenticator, k.EncAPRepPart, k.APRep])
def test_every_single_octet_substitution_same_verdict(cls: type) -> None:
    """Exhaustive over positions (random mutations rarely hit e.g. the 'Z' of a time)."""
    der = SAMPLES[cls]().dump()
    fast_reader = READERS[cls][0]
    for pos in range(len(der)):
        for octet in {*_OCTETS, der[pos] ^ 1, (der[pos] + 1) & 0xFF} - {der[pos]}:
            mutated = der[:pos] + bytes([octet]) + der[pos + 1:]
            try:
                fast = fast_reader(mutated)
            except Exception:
                continue
            assert _reference(cls, mutated) == ("ok", fast), (pos, octet)
