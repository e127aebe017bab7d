"""decode()'s fast builder gives exactly what the generic asn1crypto walk gives, and every
malformed field, however deep, fails inside decode() as DecodeError (never later, lazily).

No timing here (house rule): bench/bench_asn1.py measures the speed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from typing import Any

import pytest
from asn1crypto import core
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.errors import DecodeError
from gssmech.krb5 import asn1 as k
from tests.conftest import get_data, mutate
from tests.test_asn1_pkinit import PKINIT_SAMPLES
from tests.test_asn1_samples import SAMPLES

# The package re-exports the function ``decode``, which hides the module of the same name.
decode_module = importlib.import_module("gssmech.krb5.asn1.decode")
decode_generic = decode_module.decode_generic

_KINDS = {"as_req": k.ASReq, "as_rep": k.ASRep, "tgs_req": k.TGSReq, "tgs_rep": k.TGSRep,
          "krb_error": k.KRBError}


def _mit_messages() -> list[tuple[str, type[core.Asn1Value], bytes]]:
    capture = json.loads(get_data("mit/capture.json"))
    out = []
    for names in capture["messages"].values():
        for name in names:
            cls = next(c for kind, c in _KINDS.items() if f"_{kind}_" in name)
            out.append((name, cls, get_data(f"mit/{name}")))
    for name, _cls, raw in list(out):
        if "tgs_req" in name:  # the AP-REQ inside PA-TGS-REQ, as the KDC decodes it
            for pa in k.decode(k.TGSReq, raw)["padata"]:
                if int(pa["padata_type"]) == 1:
                    out.append((f"{name}:ap_req", k.APReq, pa["padata_value"].native))
    return out


MIT = _mit_messages()
BUILT = [(cls.__name__, cls, build().dump())
         for cls, build in {**SAMPLES, **PKINIT_SAMPLES}.items()]
ALL = MIT + BUILT
#: What Kerberos itself is made of must take the fast path (PKINIT's CMS need not).
KERBEROS = MIT + [(n, c, d) for n, c, d in BUILT if c in SAMPLES]


def snapshot(value: Any) -> Any:
    """Everything asn1crypto keeps on a value (class, instance attributes, children), nested."""
    if isinstance(value, core.Asn1Value):
        state = {name: snapshot(item) for name, item in vars(value).items()}
        return type(value), state
    if isinstance(value, list):
        return [snapshot(item) for item in value]
    return value


@pytest.mark.parametrize(("name", "cls", "data"), ALL, ids=[n for n, _, _ in ALL])
def test_fast_tree_equals_generic_tree(name: str, cls: type[core.Asn1Value], data: bytes) -> None:
    fast, generic = k.decode(cls, data), decode_generic(cls, data)
    assert snapshot(fast) == snapshot(generic)
    assert fast.dump() == data
    assert fast.native == generic.native


@pytest.mark.parametrize(("name", "cls", "data"), KERBEROS, ids=[n for n, _, _ in KERBEROS])
def test_kerberos_messages_take_the_fast_path(
    name: str, cls: type[core.Asn1Value], data: bytes
) -> None:
    # _build_fast raises (and decode() falls back) on whatever it does not cover.
    value = decode_module._build_fast(cls, data)
    assert snapshot(value) == snapshot(decode_generic(cls, data))


def _outcome(decoder: Any, cls: type[core.Asn1Value], data: bytes) -> tuple[str, Any]:
    try:
        return "ok", snapshot(decoder(cls, data))
    except DecodeError as exc:
        return "error", str(exc)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(ALL), data=st.data())
def test_mutated_input_same_verdict_as_generic(case: tuple, data: st.DataObject) -> None:
    """Flip, drop, insert bytes: both builders accept the same value or give the same error."""
    _name, cls, der = case
    mutated = mutate(data, der)
    assert _outcome(k.decode, cls, mutated) == _outcome(decode_generic, cls, mutated)


# --- malformed deep leaves ------------------------------------------------------------------

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


def _enc_ticket_part() -> bytes:
    return k.EncTicketPart({
        "flags": k.TicketFlags({"forwardable", "initial"}),
        "key": {"keytype": 18, "keyvalue": bytes(range(32))},
        "crealm": "EXAMPLE.ORG",
        "cname": {"name_type": 1, "name_string": ["alice"]},
        "transited": {"tr_type": 1, "contents": b""},
        "authtime": NOW, "endtime": NOW + dt.timedelta(hours=10),
        "authorization_data": [{"ad_type": 1, "ad_data": b"\x30\x00"}],
    }).dump()


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


GOOD = _enc_ticket_part()
KEY = k.EncryptionKey({"keytype": 18, "keyvalue": bytes(range(32))}).dump()
CORRUPT = {
    # Month 13 keeps the YYYYMMDDHHMMSSZ shape: only parsing the time finds it.
    "generalized time month 13": _replace_once(GOOD, b"20240501120000Z", b"20241301120000Z"),
    # keytype [0] wraps 02 02 12: the INTEGER claims 2 octets, its wrapper holds 1.
    "truncated INTEGER in key": _replace_once(
        GOOD, KEY, KEY.replace(b"\xa0\x03\x02\x01\x12", b"\xa0\x03\x02\x02\x12")),
    # cname's KerberosString "alice" -> "al\xffce": not UTF-8.
    "invalid UTF-8 in cname": _replace_once(GOOD, b"\x1b\x05alice", b"\x1b\x05al\xffce"),
    # flags [0] BIT STRING with 9 unused bits.
    "bit string unused bits": _replace_once(GOOD, b"\xa0\x07\x03\x05\x00", b"\xa0\x07\x03\x05\x09"),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_deep_leaf_fails_inside_decode(case: str) -> None:
    bad = CORRUPT[case]
    # asn1crypto alone accepts the message and would only raise when the field is touched.
    lazy = k.EncTicketPart.load(bad, strict=True)
    assert lazy.dump() == bad
    with pytest.raises(DecodeError) as info:
        k.decode(k.EncTicketPart, bad, what="EncTicketPart")
    assert info.value.source == "EncTicketPart"
    with pytest.raises(DecodeError):
        decode_generic(k.EncTicketPart, bad)


def test_uncorrupted_ticket_part_decodes() -> None:
    # The corrupt cases above differ from this one only by the replaced octets.
    assert k.decode(k.EncTicketPart, GOOD)["authtime"].timestamp == int(NOW.timestamp())


def _tlv(tag: int, body: bytes) -> bytes:
    assert len(body) < 0x80
    return bytes([tag, len(body)]) + body


def test_slack_inside_a_deep_explicit_tag_is_refused() -> None:
    # Ticket.sname.name-type [0] holds INTEGER 1 and then one stray octet (DER forbids it).
    def ticket(name_type_field: bytes) -> bytes:
        sname = _tlv(0x30, name_type_field + _tlv(0xA1, _tlv(0x30, _tlv(0x1B, b"krbtgt"))))
        enc = _tlv(0x30, _tlv(0xA0, b"\x02\x01\x12") + _tlv(0xA2, _tlv(0x04, b"x")))
        body = (_tlv(0xA0, b"\x02\x01\x05") + _tlv(0xA1, _tlv(0x1B, b"R"))
                + _tlv(0xA2, sname) + _tlv(0xA3, enc))
        return _tlv(0x61, _tlv(0x30, body))

    assert k.decode(k.Ticket, ticket(_tlv(0xA0, b"\x02\x01\x01")))["sname"]["name_type"].native == 1
    bad = ticket(_tlv(0xA0, b"\x02\x01\x01\x00"))
    assert k.Ticket.load(bad)["sname"]["name_type"].native == 1  # asn1crypto ignores the octet
    with pytest.raises(DecodeError, match="explicit tag"):
        k.decode(k.Ticket, bad)


# --- constraint hooks (validate_strict) at every depth --------------------------------------


def _loose(cls: type[core.Sequence], **specs: type[core.Asn1Value]) -> type[core.Sequence]:
    """``cls`` with some fields' types swapped for unconstrained ones, to encode bad values."""
    fields = [(name, specs.get(name, spec), params) for name, spec, params in cls._fields]
    return type(f"Loose{cls.__name__}", (core.Sequence,), {"explicit": cls.explicit,
                                                         "_fields": fields})


def _pvno_4_tgs_req() -> bytes:
    raw = get_data("mit/pw_tgs_req_1.der")
    return raw.replace(b"\xa1\x03\x02\x01\x05\xa2\x03\x02\x01\x0c",
                       b"\xa1\x03\x02\x01\x04\xa2\x03\x02\x01\x0c", 1)


def _tkt_vno_4_ap_req() -> bytes:
    ap_req = next(d for n, _c, d in MIT if n.endswith(":ap_req"))
    ticket = k.decode(k.APReq, ap_req)["ticket"].dump()
    bad_ticket = ticket.replace(b"\xa0\x03\x02\x01\x05", b"\xa0\x03\x02\x01\x04", 1)
    return _replace_once(ap_req, ticket, bad_ticket)


def _cusec_10_6_authenticator() -> bytes:
    good = SAMPLES[k.Authenticator]().dump()  # cusec 999999 = 0f423f
    return _replace_once(good, b"\xa4\x05\x02\x03\x0f\x42\x3f", b"\xa4\x05\x02\x03\x0f\x42\x40")


def _loose_enc_ticket_part(**changes: Any) -> bytes:
    loose_key = _loose(k.EncryptionKey, keytype=core.Integer)
    loose = _loose(k.EncTicketPart, key=loose_key, authtime=core.GeneralizedTime)
    value = k.decode(k.EncTicketPart, GOOD).native
    value.update(changes)
    return loose(value).dump()


CONSTRAINTS = {
    "TGS-REQ pvno 4": (k.TGSReq, _pvno_4_tgs_req),
    "AP-REQ ticket tkt-vno 4": (k.APReq, _tkt_vno_4_ap_req),
    "Authenticator cusec 1000000": (k.Authenticator, _cusec_10_6_authenticator),
    "EncTicketPart authtime with fraction": (k.EncTicketPart, lambda: _loose_enc_ticket_part(
        authtime=NOW.replace(microsecond=500000))),
    "EncTicketPart key.keytype 2**31": (k.EncTicketPart, lambda: _loose_enc_ticket_part(
        key={"keytype": 2**31, "keyvalue": bytes(32)})),
}


@pytest.mark.parametrize("case", list(CONSTRAINTS))
def test_constraint_violation_fails_inside_decode(case: str) -> None:
    cls, build = CONSTRAINTS[case]
    bad = build()
    assert cls.load(bad, strict=True).dump() == bad  # well-formed DER: only a hook refuses it
    with pytest.raises(DecodeError):
        k.decode(cls, bad)
    with pytest.raises(DecodeError):
        decode_generic(cls, bad)


def test_loose_builder_encodes_like_the_real_class() -> None:
    # The loose clone is a faithful encoder: with legal values it gives the original bytes.
    assert _loose_enc_ticket_part() == GOOD
