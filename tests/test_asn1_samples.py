"""Realistic instances of every message type, and the generic round-trip property over them.

Other asn1 tests import :data:`SAMPLES` (type -> builder) from here.  Values mirror what an MIT
1.20 client/KDC exchange carries: aes256 session keys, krbtgt service names, a nonce with the
top bit clear (MIT masks nonces to 31 bits), WELLKNOWN/ANONYMOUS clients, 32-bit flags.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from asn1crypto import core

from gssmech.errors import DecodeError
from gssmech.krb5 import asn1 as k
from gssmech.krb5.asn1 import PaDataType as PA

UTC = dt.UTC
NOW = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
LATER = NOW + dt.timedelta(hours=10)
REALM = "EXAMPLE.COM"
KEY32 = bytes(range(32))
GSS_CKSUM = b"\x10\x00\x00\x00" + b"\x00" * 16 + b"\x3e\x00\x00\x00"


def _krbtgt() -> k.PrincipalName:
    return k.principal_name(2, ["krbtgt", REALM])


def _user() -> k.PrincipalName:
    return k.principal_name(1, ["alice"])


def enc_data(
    etype: int = 18, kvno: int | None = 2, cipher: bytes = b"\x5a" * 64
) -> k.EncryptedData:
    value = {"etype": etype, "cipher": cipher}
    if kvno is not None:
        value["kvno"] = kvno
    return k.EncryptedData(value)


def ticket() -> k.Ticket:
    return k.Ticket(
        {"tkt_vno": 5, "realm": REALM, "sname": _krbtgt(), "enc_part": enc_data(18, 1)}
    )


def enc_ticket_part() -> k.EncTicketPart:
    inner = k.AuthorizationData([{"ad_type": 128, "ad_data": b"PAC-bytes"}])
    return k.EncTicketPart(
        {
            "flags": k.TicketFlags({"forwardable", "renewable", "initial", "pre-authent"}),
            "key": {"keytype": 18, "keyvalue": KEY32},
            "crealm": REALM,
            "cname": _user(),
            "transited": {"tr_type": 1, "contents": b""},
            "authtime": NOW,
            "starttime": NOW,
            "endtime": LATER,
            "renew_till": NOW + dt.timedelta(days=7),
            "caddr": [{"addr_type": 2, "address": b"\x7f\x00\x00\x01"}],
            "authorization_data": [{"ad_type": 1, "ad_data": inner.dump()}],
        }
    )


def req_body(anonymous: bool = False) -> k.KDCReqBody:
    options = k.KDCOptions({"forwardable", "renewable", "canonicalize", "renewable-ok"})
    if anonymous:
        options = k.with_anonymous_flag(options)
    return k.KDCReqBody(
        {
            "kdc_options": options,
            "cname": k.anonymous_principal_name() if anonymous else _user(),
            "realm": REALM,
            "sname": _krbtgt(),
            "till": LATER,
            "rtime": NOW + dt.timedelta(days=7),
            "nonce": 0x1234ABCD,
            "etype": [20, 19, 18, 17],
        }
    )


def as_req() -> k.ASReq:
    ts = k.PAEncTSEnc({"patimestamp": NOW, "pausec": 123456})
    padata = k.method_data(
        [(PA.PA_ENC_TIMESTAMP, enc_data(18, None, ts.dump())), (PA.PA_REQ_ENC_PA_REP, b"")]
    )
    return k.ASReq({"pvno": 5, "msg_type": 10, "padata": padata, "req_body": req_body()})


def ap_req() -> k.APReq:
    return k.APReq(
        {
            "pvno": 5,
            "msg_type": 14,
            "ap_options": k.APOptions({"mutual-required"}),
            "ticket": ticket(),
            "authenticator": enc_data(18, None),
        }
    )


def tgs_req() -> k.TGSReq:
    body = req_body()
    del body["cname"]
    body["sname"] = k.principal_name(3, ["host", "server.example.com"])
    body["additional_tickets"] = [ticket()]
    body["enc_authorization_data"] = enc_data(18, None, b"\x01" * 40)
    return k.TGSReq(
        {
            "pvno": 5,
            "msg_type": 12,
            "padata": k.method_data([(PA.PA_TGS_REQ, ap_req())]),
            "req_body": body,
        }
    )


def _kdc_rep(cls: type[k.KDCRep], msg_type: int) -> k.KDCRep:
    return cls(
        {
            "pvno": 5,
            "msg_type": msg_type,
            "padata": k.method_data(
                [(PA.PA_ETYPE_INFO2, k.ETypeInfo2([{"etype": 18, "salt": REALM + "alice"}]))]
            ),
            "crealm": REALM,
            "cname": _user(),
            "ticket": ticket(),
            "enc_part": enc_data(18, 3),
        }
    )


def as_rep() -> k.ASRep:
    return _kdc_rep(k.ASRep, 11)


def tgs_rep() -> k.TGSRep:
    return _kdc_rep(k.TGSRep, 13)


def _enc_rep_part(cls: type[k.EncKDCRepPart]) -> k.EncKDCRepPart:
    return cls(
        {
            "key": {"keytype": 18, "keyvalue": KEY32},
            "last_req": [{"lr_type": 0, "lr_value": NOW}],
            "nonce": 0x1234ABCD,
            "key_expiration": NOW + dt.timedelta(days=90),
            "flags": k.TicketFlags({"forwardable", "initial", "pre-authent", "enc-pa-rep"}),
            "authtime": NOW,
            "starttime": NOW,
            "endtime": LATER,
            "srealm": REALM,
            "sname": _krbtgt(),
            "encrypted_pa_data": k.method_data(
                [(PA.PA_REQ_ENC_PA_REP, k.Checksum({"cksumtype": 16, "checksum": b"\x11" * 12}))]
            ),
        }
    )


def enc_as_rep_part() -> k.EncASRepPart:
    return _enc_rep_part(k.EncASRepPart)


def enc_tgs_rep_part() -> k.EncTGSRepPart:
    return _enc_rep_part(k.EncTGSRepPart)


def authenticator() -> k.Authenticator:
    return k.Authenticator(
        {
            "authenticator_vno": 5,
            "crealm": REALM,
            "cname": _user(),
            # RFC 4121 §4.1.1 GSS checksum: Lgth=16, zero bindings, flags mutual|seq|conf|integ
            "cksum": {"cksumtype": 0x8003, "checksum": GSS_CKSUM},
            "cusec": 999999,
            "ctime": NOW,
            "subkey": {"keytype": 18, "keyvalue": KEY32[::-1]},
            "seq_number": 0xFFFFFFFF,
            "authorization_data": [{"ad_type": 129, "ad_data": b"\x30\x03\x02\x01\x12"}],
        }
    )


def ap_rep() -> k.APRep:
    return k.APRep({"pvno": 5, "msg_type": 15, "enc_part": enc_data(18, None)})


def enc_ap_rep_part() -> k.EncAPRepPart:
    return k.EncAPRepPart(
        {"ctime": NOW, "cusec": 5, "subkey": {"keytype": 17, "keyvalue": KEY32[:16]},
         "seq_number": 77}
    )


def krb_cred() -> k.KRBCred:
    return k.KRBCred(
        {"pvno": 5, "msg_type": 22, "tickets": [ticket()], "enc_part": enc_data(0, None)}
    )


def enc_krb_cred_part() -> k.EncKrbCredPart:
    info = {
        "key": {"keytype": 18, "keyvalue": KEY32},
        "prealm": REALM,
        "pname": _user(),
        "flags": k.TicketFlags({"forwardable", "forwarded"}),
        "authtime": NOW,
        "starttime": NOW,
        "endtime": LATER,
        "srealm": REALM,
        "sname": _krbtgt(),
    }
    return k.EncKrbCredPart({"ticket_info": [info], "nonce": 42, "timestamp": NOW, "usec": 1})


def krb_error_preauth() -> k.KRBError:
    """KDC_ERR_PREAUTH_REQUIRED as an MIT KDC with PKINIT sends it (e-data METHOD-DATA)."""
    e_data = k.method_data(
        [
            (PA.PA_PK_AS_REQ, b""),
            (PA.PA_PKINIT_KX, b""),
            (PA.PA_ETYPE_INFO2, k.ETypeInfo2([{"etype": 18, "salt": "EXAMPLE.COMalice"},
                                              {"etype": 17, "salt": "EXAMPLE.COMalice"}])),
            (PA.PA_ENC_TIMESTAMP, b""),
            (PA.PA_FX_COOKIE, b"MIT1" + b"\x00" * 8),
        ]
    )
    return k.KRBError(
        {
            "pvno": 5,
            "msg_type": 30,
            "stime": NOW,
            "susec": 424242,
            "error_code": k.ErrorCode.KDC_ERR_PREAUTH_REQUIRED,
            "cname": _user(),
            "realm": REALM,
            "sname": _krbtgt(),
            "e_text": "Additional pre-authentication required",
            "e_data": e_data.dump(),
        }
    )


#: Every top-level type with a realistic builder.
SAMPLES: dict[type[core.Asn1Value], Callable[[], core.Asn1Value]] = {
    k.ASReq: as_req,
    k.TGSReq: tgs_req,
    k.ASRep: as_rep,
    k.TGSRep: tgs_rep,
    k.EncASRepPart: enc_as_rep_part,
    k.EncTGSRepPart: enc_tgs_rep_part,
    k.Ticket: ticket,
    k.EncTicketPart: enc_ticket_part,
    k.KDCReqBody: req_body,
    k.APReq: ap_req,
    k.Authenticator: authenticator,
    k.APRep: ap_rep,
    k.EncAPRepPart: enc_ap_rep_part,
    k.KRBCred: krb_cred,
    k.EncKrbCredPart: enc_krb_cred_part,
    k.KRBError: krb_error_preauth,
    k.PAEncTSEnc: lambda: k.PAEncTSEnc({"patimestamp": NOW, "pausec": 7}),
    k.ETypeInfo2: lambda: k.ETypeInfo2([{"etype": 18, "salt": "s", "s2kparams": b"\0\0\x10\0"}]),
    k.MethodData: lambda: krb_error_preauth().decoded_e_data(),
    k.TypedDataList: lambda: k.TypedDataList([{"data_type": 109, "data_value": b"\x30\x00"}]),
    k.PrincipalName: _user,
    k.HostAddresses: lambda: k.HostAddresses([{"addr_type": 24, "address": bytes(16)}]),
    k.EncryptionKey: lambda: k.EncryptionKey({"keytype": 18, "keyvalue": KEY32}),
    k.Checksum: lambda: k.Checksum({"cksumtype": 16, "checksum": b"\x22" * 12}),
    k.LastReq: lambda: k.LastReq([{"lr_type": -1, "lr_value": NOW}]),
    k.AuthorizationData: lambda: k.AuthorizationData.load(
        k.inner_der(enc_ticket_part()["authorization_data"])
    ),
    k.TransitedEncoding: lambda: k.TransitedEncoding({"tr_type": 1, "contents": b"EDU,MIT.,"}),
    k.PAPKINITKX: lambda: k.PAPKINITKX({"etype": 18, "cipher": b"\x33" * 44}),
}


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_round_trip(cls: type[core.Asn1Value]) -> None:
    """build -> dump -> decode -> dump gives the same bytes and the same native value."""
    built = SAMPLES[cls]()
    der = built.dump()
    decoded = k.decode(cls, der)
    assert decoded.dump() == der
    assert decoded.dump(force=True) == der  # re-encoding from parsed fields is also exact
    assert decoded.native == built.native
    # and a second generation, from the decoded native value, encodes identically
    assert cls(decoded.native).dump() == der


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_trailing_garbage_rejected(cls: type[core.Asn1Value]) -> None:
    der = SAMPLES[cls]().dump()
    with pytest.raises(DecodeError):
        k.decode(cls, der + b"\x00")
