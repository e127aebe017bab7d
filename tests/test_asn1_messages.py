"""RFC 4120 messages: tags on the wire, strict msg-type checks, e-data, enc-part variants,
authorization-data containers, anonymity checks."""

from __future__ import annotations

import pytest
from asn1crypto import core

from gssmech.errors import DecodeError
from gssmech.krb5 import asn1 as k
from gssmech.krb5.asn1 import AuthDataType as AD
from gssmech.krb5.asn1 import PaDataType as PA
from gssmech.krb5.constants import ANONYMOUS_REALM, DRAFT08
from tests import test_asn1_samples as s

# [APPLICATION n] constructed = 0x60 | n (RFC 4120 Appendix A; X.690 §8.1.2)
APPLICATION_TAGS = {
    k.Ticket: 1, k.Authenticator: 2, k.EncTicketPart: 3, k.ASReq: 10, k.ASRep: 11,
    k.TGSReq: 12, k.TGSRep: 13, k.APReq: 14, k.APRep: 15, k.KRBCred: 22, k.EncASRepPart: 25,
    k.EncTGSRepPart: 26, k.EncAPRepPart: 27, k.EncKrbCredPart: 29, k.KRBError: 30,
}


@pytest.mark.parametrize("cls", list(APPLICATION_TAGS), ids=lambda c: c.__name__)
def test_application_tag_wraps_a_sequence(cls: type[core.Asn1Value]) -> None:
    der = s.SAMPLES[cls]().dump()
    assert der[0] == 0x60 | APPLICATION_TAGS[cls]
    header_len = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    assert der[header_len] == 0x30  # EXPLICIT: the universal SEQUENCE follows


def test_kdc_req_fields_start_at_tag_1() -> None:
    der = s.as_req().dump()
    body = der[der.index(b"\x30", 1):]
    seq_header = 2 + (body[1] & 0x7F if body[1] & 0x80 else 0)
    assert body[seq_header:seq_header + 5] == b"\xa1\x03\x02\x01\x05"  # pvno [1] 5
    assert body[seq_header + 5:seq_header + 10] == b"\xa2\x03\x02\x01\x0a"  # msg-type [2] 10


def test_pa_data_hand_built() -> None:
    # PA-DATA { padata-type [1] 147, padata-value [2] '' } -- 147 needs a leading 00 octet
    expected = bytes.fromhex("300a a104 02020093 a202 0400".replace(" ", ""))
    assert k.pa_data(PA.PA_PKINIT_KX).dump() == expected
    assert k.decode(k.PAData, expected).native == {"padata_type": 147, "padata_value": b""}


@pytest.mark.parametrize(
    ("cls", "field", "bad"),
    [(k.ASReq, "msg_type", 12), (k.ASReq, "pvno", 4), (k.TGSRep, "msg_type", 11),
     (k.APReq, "msg_type", 15), (k.KRBError, "pvno", 6), (k.Ticket, "tkt_vno", 4),
     (k.Authenticator, "authenticator_vno", 1)],
)
def test_wrong_pvno_or_msg_type_rejected(cls: type[core.Sequence], field: str, bad: int) -> None:
    value = s.SAMPLES[cls]()
    value[field] = bad
    with pytest.raises(DecodeError, match=cls.__name__):
        k.decode(cls, value.dump())


def test_request_and_reply_types_are_not_interchangeable() -> None:
    with pytest.raises(DecodeError):
        k.decode(k.TGSReq, s.as_req().dump())
    with pytest.raises(DecodeError):
        k.decode(k.ASRep, s.krb_error_preauth().dump())
    assert k.peek_tag(s.krb_error_preauth().dump()) == (1, 1, 30)
    assert k.peek_tag(s.as_rep().dump()) == (1, 1, 11)


def test_enc_kdc_rep_part_accepts_either_tag() -> None:
    as_part = k.decode_enc_kdc_rep_part(s.enc_as_rep_part().dump())
    tgs_part = k.decode_enc_kdc_rep_part(s.enc_tgs_rep_part().dump())
    assert isinstance(as_part, k.EncASRepPart) and isinstance(tgs_part, k.EncTGSRepPart)
    assert as_part.native == tgs_part.native  # same EncKDCRepPart body
    with pytest.raises(DecodeError):
        k.decode_enc_kdc_rep_part(s.enc_ticket_part().dump())


def test_inner_der_of_req_body_is_the_body_as_sent() -> None:
    req = k.decode(k.ASReq, s.as_req().dump())
    raw = k.inner_der(req["req_body"])
    assert raw == s.req_body().dump()
    assert req["req_body"].dump()[0] == 0xA4  # the field itself keeps its [4] tag
    assert raw in s.as_req().dump()
    # a field whose type has its own [APPLICATION 1] keeps that tag
    assert k.inner_der(k.decode(k.ASRep, s.as_rep().dump())["ticket"]) == s.ticket().dump()


# --- KRB-ERROR e-data ----------------------------------------------------------------------


def test_krb_error_preauth_required_e_data() -> None:
    err = k.decode(k.KRBError, s.krb_error_preauth().dump())
    assert int(err["error_code"]) == k.ErrorCode.KDC_ERR_PREAUTH_REQUIRED == 25
    e_data = err.decoded_e_data()
    assert isinstance(e_data, k.MethodData)
    assert k.padata_types(e_data) == [16, 147, 19, 2, 133]
    assert bytes(k.find_padata(e_data, PA.PA_PKINIT_KX)["padata_value"].native) == b""
    assert bytes(k.find_padata(e_data, PA.PA_PK_AS_REQ)["padata_value"].native) == b""
    info = k.decode_etype_info2(k.find_padata(e_data, PA.PA_ETYPE_INFO2)["padata_value"].native)
    assert [(int(e["etype"]), e["salt"].native) for e in info] == [
        (18, "EXAMPLE.COMalice"), (17, "EXAMPLE.COMalice")]
    assert k.find_padata(e_data, 999) is None


def test_pa_enc_timestamp_decodes() -> None:
    req = k.decode(k.ASReq, s.as_req().dump())
    enc = k.decode_pa_enc_timestamp(k.find_padata(req["padata"], PA.PA_ENC_TIMESTAMP)[
        "padata_value"].native)
    ts = k.decode(k.PAEncTSEnc, enc["cipher"].native)  # the sample "encrypts" as identity
    assert ts["patimestamp"].native == s.NOW and int(ts["pausec"]) == 123456


def test_typed_data_e_data_with_dh_parameters() -> None:
    # X9.42 DomainParameters (RFC 3279 §2.3.3) under dhpublicnumber, as MIT sends them;
    # the numbers only need the right shape here.
    p = (1 << 2047) | 0x1D
    q = (p - 1) // 2
    alg = {"algorithm": "dh", "parameters": {"p": p, "g": 2, "q": q}}
    td = k.TypedDataList(
        [{"data_type": k.TypedDataType.TD_DH_PARAMETERS,
          "data_value": k.TDDHParameters([alg]).dump()}]
    )
    decoded = k.decode_e_data(td.dump())
    assert isinstance(decoded, k.TypedDataList)
    params_list = k.decode(k.TDDHParameters, decoded[0]["data_value"].native)
    assert params_list[0]["algorithm"].dotted == "1.2.840.10046.2.1"
    assert params_list[0]["parameters"]["p"].native == p
    assert params_list[0]["parameters"]["q"].native == q


def test_e_data_garbage() -> None:
    with pytest.raises(DecodeError):
        k.decode_e_data(b"\x30\x03\x02\x01\x00")
    assert len(k.decode_e_data(b"\x30\x00")) == 0


# --- authorization data -------------------------------------------------------------------


def _ad(items: list[tuple[int, bytes]]) -> k.AuthorizationData:
    return k.AuthorizationData([{"ad_type": t, "ad_data": d} for t, d in items])


def test_walk_nested_containers() -> None:
    and_or = k.ADAndOr({"condition_count": 1, "elements": _ad([(97, b"indicator")])})
    issued = k.ADKDCIssued(
        {"ad_checksum": {"cksumtype": 16, "checksum": b"\0" * 12}, "i_realm": "EXAMPLE.COM",
         "elements": _ad([(AD.AD_AND_OR, and_or.dump()), (128, b"PAC")])}
    )
    relevant = _ad([(AD.AD_KDC_ISSUED, issued.dump()), (AD.AD_CAMMAC, b"cammac")])
    top = _ad([(AD.AD_IF_RELEVANT, relevant.dump()), (AD.AD_MANDATORY_FOR_KDC, _ad([]).dump())])
    decoded = k.decode(k.AuthorizationData, top.dump())
    leaves = list(k.walk_authdata(decoded))
    assert leaves == [
        k.ADLeaf(97, b"indicator", (1, 4, 5)),
        k.ADLeaf(128, b"PAC", (1, 4)),
        k.ADLeaf(96, b"cammac", (1,)),
    ]
    assert k.find_authdata(decoded, 128) == [leaves[1]]
    assert list(k.walk_authdata(None)) == []


def test_walk_depth_limit_and_malformed_container() -> None:
    ad = _ad([(128, b"deep")])
    for _ in range(k.MAX_AUTHDATA_DEPTH + 1):
        ad = _ad([(AD.AD_IF_RELEVANT, ad.dump())])
    with pytest.raises(DecodeError, match="nested"):
        list(k.walk_authdata(ad))
    with pytest.raises(DecodeError, match="AD-IF-RELEVANT"):
        list(k.walk_authdata(_ad([(AD.AD_IF_RELEVANT, b"\x30\x05")])))


# --- anonymity checks on decoded messages ---------------------------------------------------


def _anonymous_reply(realm: str, flags: set[str | int]) -> tuple[k.ASRep, k.EncASRepPart]:
    rep = s.as_rep()
    rep["cname"] = k.anonymous_principal_name()
    rep["crealm"] = realm
    part = s.enc_as_rep_part()
    part["flags"] = k.TicketFlags(flags)
    return k.decode(k.ASRep, rep.dump()), k.decode(k.EncASRepPart, part.dump())


def test_reply_anonymity_rfc8062_and_draft() -> None:
    rep, part = _anonymous_reply(ANONYMOUS_REALM, {"initial", "anonymous"})
    status = k.reply_anonymity(rep, part)
    assert status.is_fully_anonymous and status.consistent
    assert not k.reply_anonymity(rep, part, DRAFT08).is_anonymous  # bit 14 not set
    rep, part = _anonymous_reply("EXAMPLE.COM", {"anonymous-draft08"})
    status = k.reply_anonymity(rep, part, DRAFT08)
    assert status.is_anonymous and not status.is_fully_anonymous  # authenticated anonymity


def test_reply_anonymity_mismatch_detected() -> None:
    rep, part = _anonymous_reply(ANONYMOUS_REALM, {"initial"})  # name says anonymous, flag not
    status = k.reply_anonymity(rep, part)
    assert not status.is_anonymous and not status.consistent
    named = k.decode(k.EncTicketPart, s.enc_ticket_part().dump())
    assert k.ticket_anonymity(named) == k.AnonymityStatus(False, False, False)
