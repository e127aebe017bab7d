"""Anonymous PKINIT client (pkinit.client / pkinit.cms / client.as_exchange) against a scripted
KDC built in the test, and the verifier against MIT's captured reply (C2, C3, C6, C7)."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gssmech.krb5.asn1 import ASRep, ASReq, KRBError, decode, inner_der
from gssmech.krb5.asn1.pkinit import (
    ID_PKINIT_AUTHDATA,
    ID_PKINIT_DHKEYDATA,
    ID_PKINIT_KDF_AH_SHA256,
    PAPKAsRep,
    PAPKAsReq,
    auth_pack_of,
)
from gssmech.krb5.certs import make_ca, make_kdc_cert
from gssmech.krb5.client.as_exchange import ASExchange
from gssmech.krb5.client.results import KDCReply
from gssmech.krb5.constants import RFC8062
from gssmech.krb5.crypto import Key, cf2, encrypt
from gssmech.krb5.pkinit import kex
from gssmech.krb5.pkinit.client import AnonymousPKINIT
from gssmech.krb5.pkinit.cms import (
    check_kdc_certificate,
    decode_content_info,
    load_anchors,
    sign_signed_data,
    unsigned_signed_data,
    verify_signed_data,
)
from gssmech.krb5.pkinit.errors import PKINITError
from gssmech.krb5.principal import Principal

DATA = Path(__file__).parent / "data" / "mit"
REALM = "GSSMECH.TEST"
NOW = 1_900_000_000.0
CA = make_ca("test CA")
KDC = make_kdc_cert(CA, REALM)
CA_CERT = x509.load_pem_x509_certificate(CA.cert_pem)
KDC_CERT = x509.load_pem_x509_certificate(KDC.cert_pem)
KDC_KEY = serialization.load_pem_private_key(KDC.key_pem, None)


def _krb_error(code: int, e_data: bytes) -> bytes:
    when = datetime.datetime.fromtimestamp(int(NOW), datetime.UTC)
    return KRBError({
        "pvno": 5, "msg_type": 30, "stime": when, "susec": 0, "error_code": code,
        "realm": REALM, "sname": {"name_type": 2, "name_string": ["krbtgt", REALM]},
        "e_data": e_data,
    }).dump()


def _preauth_required() -> bytes:
    from gssmech.krb5.asn1.padata import method_data

    return _krb_error(25, method_data([(16, b""), (147, b""), (136, b"")]).dump())


def _kdc_reply(
    req_der: bytes,
    *,
    sign: bool = True,
    kx: str = "good",
    kdf: str | None = ID_PKINIT_KDF_AH_SHA256,
) -> bytes:
    """A KDC's AS-REP for an anonymous PKINIT request (RFC 4556 §3.2.3.1, RFC 8062 §4.1)."""
    req = decode(ASReq, req_der)
    pa = next(p for p in req["padata"] if p["padata_type"].native == 16)
    _, pack = auth_pack_of(decode(PAPKAsReq, bytes(pa["padata_value"].native)))
    group, client_pub = kex.parse_public_value(inner_der(pack["client_public_value"]))
    kdc_priv = kex.ffdh_generate(group)  # type: ignore[arg-type]
    info = {"subject_public_key": kex.kdc_public_value(kdc_priv),
            "nonce": pack["pk_authenticator"]["nonce"].native}
    from gssmech.krb5.asn1.pkinit import KDCDHKeyInfo

    content = KDCDHKeyInfo(info).dump()
    kdc_der = KDC_CERT.public_bytes(serialization.Encoding.DER)
    signed = (sign_signed_data(ID_PKINIT_DHKEYDATA, content, KDC_KEY, kdc_der) if sign
              else unsigned_signed_data(ID_PKINIT_DHKEYDATA, content))
    dh_info: dict[str, object] = {"dh_signed_data": signed}
    if kdf:
        dh_info["kdf"] = {"kdf_id": kdf}
    pk_rep = PAPKAsRep(name="dh_info", value=dh_info).dump()
    z = kex.shared_secret(kdc_priv, client_pub)
    client = Principal.anonymous(REALM)
    tgs = Principal(2, ("krbtgt", REALM), REALM)
    reply_key = kex.reply_key(18, z, kdf_oid=kdf, client=client, kdc=tgs, as_req_der=req_der,
                              pk_as_rep_der=pk_rep)
    contribution = Key(18, b"\x11" * 32)
    session = cf2(contribution, reply_key, b"PKINIT", b"KEYEXCHANGE")
    if kx == "tampered":
        contribution = Key(18, b"\x22" * 32)
    from gssmech.krb5.asn1 import EncryptionKey
    from gssmech.krb5.asn1.krb import EncASRepPart

    kx_value = {"etype": 18, "cipher": encrypt(reply_key, 44, EncryptionKey(
        {"keytype": 18, "keyvalue": contribution.contents}).dump())}
    padata = [{"padata_type": 17, "padata_value": pk_rep}]
    if kx != "stripped":
        from gssmech.krb5.asn1.pkinit import PAPKINITKX

        padata.append({"padata_type": 147, "padata_value": PAPKINITKX(kx_value).dump()})
    when = datetime.datetime.fromtimestamp(int(NOW), datetime.UTC)
    enc = EncASRepPart({
        "key": {"keytype": 18, "keyvalue": session.contents},
        "last_req": [], "nonce": req["req_body"]["nonce"].native,
        "flags": RFC8062.flag_value | (1 << 22), "authtime": when,
        "endtime": when + datetime.timedelta(hours=10),
        "srealm": REALM, "sname": {"name_type": 2, "name_string": ["krbtgt", REALM]},
    })
    ticket = {"tkt_vno": 5, "realm": REALM,
              "sname": {"name_type": 2, "name_string": ["krbtgt", REALM]},
              "enc_part": {"etype": 18, "kvno": 1, "cipher": b"opaque"}}
    return ASRep({
        "pvno": 5, "msg_type": 11, "padata": padata, "crealm": "WELLKNOWN:ANONYMOUS",
        "cname": {"name_type": 11, "name_string": ["WELLKNOWN", "ANONYMOUS"]},
        "ticket": ticket,
        "enc_part": {"etype": 18, "cipher": encrypt(reply_key, 3, enc.dump())},
    }).dump()


def _exchange(anchors: list[x509.Certificate] | None = None) -> tuple[ASExchange, bytes]:
    pk = AnonymousPKINIT(REALM, [CA_CERT] if anchors is None else anchors)
    ex = ASExchange(Principal.parse(f"alice@{REALM}"), pkinit=pk, nonce=12345)
    ex.start(NOW)
    second = ex.handle(_preauth_required(), NOW)
    assert isinstance(second, bytes)
    return ex, second


def test_c1_c2_c3_request_shape() -> None:
    """C1: WELLKNOWN/ANONYMOUS + anonymous option; C2: unsigned SignedData, no certificates;
    C3: clientPublicValue present; paChecksum = SHA-1(KDC-REQ-BODY); no user name anywhere."""
    _, second = _exchange()
    assert b"alice" not in second
    req = decode(ASReq, second)
    body = req["req_body"]
    assert body["cname"]["name_string"].native == ["WELLKNOWN", "ANONYMOUS"]
    assert body["cname"]["name_type"].native == 11 and body["realm"].native == REALM
    assert body["kdc_options"].is_set(16)
    pa = next(p for p in req["padata"] if p["padata_type"].native == 16)
    info, pack = auth_pack_of(decode(PAPKAsReq, bytes(pa["padata_value"].native)))
    signed = info["content"]
    assert len(signed["signer_infos"]) == 0 and not signed["certificates"].native
    assert signed["encap_content_info"]["content_type"].dotted == ID_PKINIT_AUTHDATA
    auth = pack["pk_authenticator"]
    assert auth["pa_checksum"].native == hashlib.sha1(inner_der(body)).digest()
    assert auth["nonce"].native == 12345 == body["nonce"].native
    group, _ = kex.parse_public_value(inner_der(pack["client_public_value"]))
    assert group == kex.MODP14
    assert next(k["kdf_id"].dotted for k in pack["supported_kdfs"]) == ID_PKINIT_KDF_AH_SHA256


@pytest.mark.parametrize("kdf", [ID_PKINIT_KDF_AH_SHA256, None], ids=["kdf", "octetstring2key"])
def test_good_reply_accepted(kdf: str | None) -> None:
    ex, second = _exchange()
    result = ex.handle(_kdc_reply(second, kdf=kdf), NOW)
    assert isinstance(result, KDCReply)
    assert result.client == Principal.anonymous()  # C5: the reply's cname/crealm
    assert result.kdc_realm == REALM and result.pa_type == 16 and result.fast_avail


@pytest.mark.parametrize(
    ("kwargs", "anchors", "message"),
    [
        ({"kx": "stripped"}, None, "lacks PA-PKINIT-KX"),
        ({"kx": "tampered"}, None, "not KRB-FX-CF2"),
        ({"sign": False}, None, "unsigned"),
        ({}, [], "no pkinit_anchors"),
        ({}, [x509.load_pem_x509_certificate(make_ca("rogue").cert_pem)], "does not chain"),
    ],
    ids=["c7-stripped-kx", "c7-tampered-kx", "c6-unsigned", "c6-no-anchors", "c6-wrong-ca"],
)
def test_bad_reply_refused(
    kwargs: dict[str, object], anchors: list[x509.Certificate] | None, message: str
) -> None:
    ex, second = _exchange(anchors)
    with pytest.raises(PKINITError, match=message):
        ex.handle(_kdc_reply(second, **kwargs), NOW)  # type: ignore[arg-type]


def test_c6_certificate_for_other_realm_refused() -> None:
    other = make_kdc_cert(CA, REALM, san_realm="OTHER.TEST")
    with pytest.raises(PKINITError, match=r"does not name krbtgt/GSSMECH\.TEST"):
        check_kdc_certificate(x509.load_pem_x509_certificate(other.cert_pem), REALM)
    # pkinit_kdc_hostname: a dNSName match is enough (RFC 4556 §3.2.4)
    named = make_kdc_cert(CA, REALM, san_realm="OTHER.TEST", dns_names=("kdc.example",))
    check_kdc_certificate(x509.load_pem_x509_certificate(named.cert_pem), REALM,
                          kdc_hostnames=("KDC.example",))


# --- MIT's captured reply (tests/data/mit/anon_as_rep_1.der, signed by the CA in ca.pem) ----

def _golden_info():
    rep = decode(ASRep, (DATA / "anon_as_rep_1.der").read_bytes())
    pa = next(p for p in rep["padata"] if p["padata_type"].native == 17)
    pk = decode(PAPKAsRep, bytes(pa["padata_value"].native))
    return decode_content_info(bytes(pk.chosen["dh_signed_data"].native), "dhSignedData")


def _golden_now(delta: datetime.timedelta = datetime.timedelta()) -> datetime.datetime:
    anchor = load_anchors((DATA / "ca.pem").read_bytes())[0]
    return anchor.not_valid_before_utc + datetime.timedelta(days=1) + delta


def test_mit_golden_reply_verifies() -> None:
    anchors = load_anchors((DATA / "ca.pem").read_bytes())
    content, signer = verify_signed_data(_golden_info(), ID_PKINIT_DHKEYDATA, anchors,
                                         _golden_now())
    check_kdc_certificate(signer, REALM)
    with pytest.raises(PKINITError):
        check_kdc_certificate(signer, "OTHER.TEST")
    assert content


def test_mit_golden_reply_wrong_ca_or_time_refused() -> None:
    rogue = [x509.load_pem_x509_certificate(make_ca("rogue").cert_pem)]
    with pytest.raises(PKINITError, match="does not chain"):
        verify_signed_data(_golden_info(), ID_PKINIT_DHKEYDATA, rogue, _golden_now())
    anchors = load_anchors((DATA / "ca.pem").read_bytes())
    with pytest.raises(PKINITError, match="not valid now"):
        verify_signed_data(_golden_info(), ID_PKINIT_DHKEYDATA, anchors,
                           _golden_now(-datetime.timedelta(days=30)))


def test_mit_golden_reply_tampered_content_refused() -> None:
    info = _golden_info()
    content = bytes(info["content"]["encap_content_info"]["content"])
    raw = info.dump()
    at = raw.index(content) + len(content) - 3
    tampered = raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1:]
    anchors = load_anchors((DATA / "ca.pem").read_bytes())
    with pytest.raises(PKINITError, match="message-digest"):
        verify_signed_data(decode_content_info(tampered, "x"), ID_PKINIT_DHKEYDATA, anchors,
                           _golden_now())
