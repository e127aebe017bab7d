"""gssmech.gss._der writes the same DER as the asn1crypto schema for the messages a context
sends, the strict decoder reads it back, and the memoized ticket check still rejects bad
tickets every time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.errors import DecodeError
from gssmech.gss import _der
from gssmech.gss._initiator import ticket_der
from gssmech.krb5.asn1 import (
    APOptions,
    APRep,
    APReq,
    Authenticator,
    EncAPRepPart,
    Ticket,
    decode,
    principal_name_of,
)
from gssmech.krb5.principal import Principal

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
principals = st.builds(
    Principal,
    st.integers(-(2**31), 2**31 - 1),
    st.lists(texts, min_size=1, max_size=4).map(tuple),
    texts,
)
keys = st.tuples(st.integers(-(2**31), 2**31 - 1), st.binary(max_size=300))
#: 1970..2100: the KerberosTime range a context can see.
times = st.integers(0, 4_102_444_799)
uint32 = st.integers(0, 2**32 - 1)


@settings(max_examples=60)
@given(principals, st.integers(0, 2**31 - 1), st.binary(max_size=200), st.integers(0, 999_999),
       times, keys, uint32)
def test_authenticator_matches_schema(
    client: Principal, cksumtype: int, checksum: bytes, cusec: int, ctime: int,
    subkey: tuple[int, bytes], seq: int,
) -> None:
    ours = _der.authenticator(client, cksumtype=cksumtype, checksum=checksum, cusec=cusec,
                              ctime=ctime, subkey=subkey, seq_number=seq)
    ref = Authenticator({
        "authenticator_vno": 5,
        "crealm": client.realm,
        "cname": principal_name_of(client),
        "cksum": {"cksumtype": cksumtype, "checksum": checksum},
        "cusec": cusec,
        "ctime": ctime,
        "subkey": {"keytype": subkey[0], "keyvalue": subkey[1]},
        "seq_number": seq,
    }).dump()
    assert ours == ref
    back = decode(Authenticator, ours)
    assert back["ctime"].timestamp == ctime and back["seq_number"].uint32 == seq
    assert tuple(back["cname"]["name_string"].native) == client.components


def _ticket(cipher: bytes = b"\x01" * 40) -> bytes:
    return Ticket({
        "tkt_vno": 5,
        "realm": "EXAMPLE.COM",
        "sname": principal_name_of(Principal.parse("host/h.example.com@EXAMPLE.COM")),
        "enc_part": {"etype": 18, "kvno": 2, "cipher": cipher},
    }).dump()


@settings(max_examples=40)
@given(st.booleans(), st.binary(min_size=1, max_size=400), st.integers(-(2**31), 2**31 - 1),
       st.binary(max_size=400))
def test_ap_req_matches_schema(mutual: bool, tcipher: bytes, etype: int, cipher: bytes) -> None:
    raw = _ticket(tcipher)
    ours = _der.ap_req(_der.AP_OPTS_MUTUAL_REQUIRED if mutual else 0, ticket_der(raw),
                       etype, cipher)
    ref = APReq({
        "pvno": 5,
        "msg_type": 14,
        "ap_options": APOptions({"mutual-required"} if mutual else set()),
        "ticket": decode(Ticket, raw),
        "authenticator": {"etype": etype, "cipher": cipher},
    }).dump()
    assert ours == ref
    assert decode(APReq, ours)["ap_options"].is_set("mutual-required") is mutual


@settings(max_examples=40)
@given(times, st.integers(0, 999_999), keys, uint32, st.integers(-(2**31), 2**31 - 1),
       st.binary(max_size=300))
def test_ap_rep_matches_schema(
    ctime: int, cusec: int, subkey: tuple[int, bytes], seq: int, etype: int, cipher: bytes
) -> None:
    part = _der.enc_ap_rep_part(ctime=ctime, cusec=cusec, subkey=subkey, seq_number=seq)
    assert part == EncAPRepPart({
        "ctime": ctime, "cusec": cusec,
        "subkey": {"keytype": subkey[0], "keyvalue": subkey[1]}, "seq_number": seq,
    }).dump()
    assert decode(EncAPRepPart, part)["seq_number"].uint32 == seq
    rep = _der.ap_rep(etype, cipher)
    assert rep == APRep({"pvno": 5, "msg_type": 15,
                         "enc_part": {"etype": etype, "cipher": cipher}}).dump()
    assert decode(APRep, rep)["enc_part"]["cipher"].native == cipher


def test_ticket_der_normalizes_headers_like_the_schema() -> None:
    raw = _ticket()
    assert ticket_der(raw) == raw
    # A long-form length where the short form fits: the strict decoder accepts it, and the
    # AP-REQ carries it re-encoded (as asn1crypto re-encoded it before).
    long_form = bytes([raw[0], 0x81, raw[1]]) + raw[2:]
    assert ticket_der(long_form) == raw
    assert ticket_der(bytearray(raw)) == raw  # not memoizable, same answer


def test_bad_ticket_is_rejected_every_time() -> None:
    bad = _ticket()[:-1]
    for _ in range(2):  # errors are not memoized
        with pytest.raises(DecodeError):
            ticket_der(bad)
    with pytest.raises(DecodeError):
        ticket_der(memoryview(bad))
