"""PKINIT structures (RFC 4556, RFC 8636, RFC 8062 anonymous PKINIT) with real CMS wrapping."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from asn1crypto import cms, core, keys, x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gssmech.errors import DecodeError
from gssmech.krb5 import asn1 as k
from tests import test_asn1_samples as s


def _client_spki(secret: int = 0x1234567890ABCDEF) -> keys.PublicKeyInfo:
    key = ec.derive_private_key(secret, ec.SECP256R1()).public_key()
    der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return keys.PublicKeyInfo.load(der)


def _unsigned_signed_data(content_type: str, content: bytes) -> cms.ContentInfo:
    """SignedData without signers, as an anonymous client sends its AuthPack (RFC 8062 §4.1)."""
    return cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": {
                "version": "v3",
                "digest_algorithms": [],
                "encap_content_info": {
                    "content_type": content_type,
                    "content": core.ParsableOctetString(content),
                },
                "signer_infos": [],
            },
        }
    )


def auth_pack() -> k.AuthPack:
    body = s.req_body(anonymous=True)
    return k.AuthPack(
        {
            "pk_authenticator": {
                "cusec": 123456,
                "ctime": s.NOW,
                "nonce": 0x7EADBEEF,
                "pa_checksum": hashlib.sha1(body.dump()).digest(),
            },
            "client_public_value": _client_spki(),
            "supported_cms_types": [
                {"algorithm": "1.2.840.10045.4.3.2"},  # ecdsa-with-SHA256
                {"algorithm": "1.2.840.113549.1.1.11", "parameters": core.Null()},  # sha256RSA
            ],
            "client_dh_nonce": b"\x42" * 32,
            "supported_kdfs": [
                {"kdf_id": k.ID_PKINIT_KDF_AH_SHA256},
                {"kdf_id": k.ID_PKINIT_KDF_AH_SHA1},
                {"kdf_id": k.ID_PKINIT_KDF_AH_SHA512},
            ],
        }
    )


def pa_pk_as_req() -> k.PAPKAsReq:
    info = _unsigned_signed_data(k.ID_PKINIT_AUTHDATA, auth_pack().dump())
    return k.PAPKAsReq({"signed_auth_pack": info.dump()})


def kdc_dh_key_info() -> k.KDCDHKeyInfo:
    point = _client_spki(0xC0FFEE)["public_key"].native  # an uncompressed P-256 point
    return k.KDCDHKeyInfo(
        {"subject_public_key": point, "nonce": 0x7EADBEEF,
         "dh_key_expiration": s.NOW + dt.timedelta(hours=1)}
    )


def pa_pk_as_rep() -> k.PAPKAsRep:
    info = _unsigned_signed_data(k.ID_PKINIT_DHKEYDATA, kdc_dh_key_info().dump())
    return k.PAPKAsRep(
        {"dh_info": {"dh_signed_data": info.dump(), "server_dh_nonce": b"\x24" * 32,
                     "kdf": {"kdf_id": k.ID_PKINIT_KDF_AH_SHA256}}}
    )


PKINIT_SAMPLES = {
    k.AuthPack: auth_pack,
    k.PAPKAsReq: pa_pk_as_req,
    k.PAPKAsRep: pa_pk_as_rep,
    k.KDCDHKeyInfo: kdc_dh_key_info,
    k.PKAuthenticator: lambda: auth_pack()["pk_authenticator"].untag(),
    k.DHRepInfo: lambda: pa_pk_as_rep().chosen.untag(),
    k.ReplyKeyPack: lambda: k.ReplyKeyPack(
        {"reply_key": {"keytype": 18, "keyvalue": s.KEY32},
         "as_checksum": {"cksumtype": 16, "checksum": b"\x01" * 12}}
    ),
    k.KRB5PrincipalName: lambda: k.KRB5PrincipalName(
        {"realm": s.REALM, "principal_name": k.principal_name(2, ["krbtgt", s.REALM])}
    ),
    k.TDTrustedCertifiers: lambda: k.TDTrustedCertifiers(
        [{"subject_name": b"\x30\x00", "subject_key_identifier": b"\x01\x02"}]
    ),
    k.TrustedCA: lambda: k.TrustedCA({"ca_name": b"\x30\x00", "certificate_serial_number": 7}),
    k.KDFAlgorithmId: lambda: k.KDFAlgorithmId({"kdf_id": k.ID_PKINIT_KDF_AH_SHA512}),
}


@pytest.mark.parametrize("cls", list(PKINIT_SAMPLES), ids=lambda c: c.__name__)
def test_pkinit_round_trip(cls: type[core.Asn1Value]) -> None:
    built = PKINIT_SAMPLES[cls]()
    der = built.dump()
    decoded = k.decode(cls, der)
    assert decoded.dump() == der
    assert decoded.native == built.native


def test_implicit_tags_on_the_wire() -> None:
    # ExternalPrincipalIdentifier { subjectKeyIdentifier [2] IMPLICIT OCTET STRING }
    epi = k.ExternalPrincipalIdentifier({"subject_key_identifier": b"\x01\x02"})
    assert epi.dump() == bytes.fromhex("30048202" "0102")
    # PA-PK-AS-REQ { signedAuthPack [0] IMPLICIT OCTET STRING }: primitive 0x80
    assert k.PAPKAsReq({"signed_auth_pack": b"\x30\x00"}).dump() == bytes.fromhex("30048002" "3000")
    # PA-PK-AS-REP encKeyPack [1] IMPLICIT: 0x81; dhInfo [0] (explicit) wraps a SEQUENCE
    assert k.PAPKAsRep({"enc_key_pack": b"\x30\x00"}).dump() == bytes.fromhex("81023000")
    assert pa_pk_as_rep().dump()[:1] == b"\xa0"
    # DHRepInfo { dhSignedData [0] IMPLICIT ..., kdf [2] KDFAlgorithmId { kdf-id [0] OID } }
    kdf = k.KDFAlgorithmId({"kdf_id": k.ID_PKINIT_KDF_AH_SHA256})
    assert kdf.dump() == bytes.fromhex("300ca00a06082b06010502030602")


def test_kdf_ids() -> None:
    assert k.KDFAlgorithmId({"kdf_id": "1.3.6.1.5.2.3.6.1"}).native == {
        "kdf_id": "id-pkinit-kdf-ah-sha1"}
    assert k.ID_PKINIT_KDF_AH_SHA512 == k.ID_PKINIT_KDF + ".3" == k.ID_PKINIT + ".6.3"


def test_auth_pack_inside_signed_auth_pack() -> None:
    req = k.decode(k.PAPKAsReq, pa_pk_as_req().dump())
    info, pack = k.auth_pack_of(req)
    assert info["content"]["signer_infos"].native == []  # anonymous: unsigned
    assert pack["pk_authenticator"]["pa_checksum"].native == hashlib.sha1(
        s.req_body(anonymous=True).dump()).digest()
    assert pack["client_public_value"]["algorithm"]["algorithm"].native == "ec"
    assert [kdf["kdf_id"].dotted for kdf in pack["supported_kdfs"]] == [
        k.ID_PKINIT_KDF_AH_SHA256, k.ID_PKINIT_KDF_AH_SHA1, k.ID_PKINIT_KDF_AH_SHA512]


def test_kdc_dh_key_info_inside_dh_signed_data() -> None:
    rep = k.decode(k.PAPKAsRep, pa_pk_as_rep().dump())
    assert rep.name == "dh_info"
    _, key_info = k.kdc_dh_key_info_of(rep.chosen)
    assert key_info.native == kdc_dh_key_info().native
    assert rep.chosen["kdf"]["kdf_id"].native == "id-pkinit-kdf-ah-sha256"


def test_wrong_content_type_rejected() -> None:
    info = _unsigned_signed_data(k.ID_PKINIT_DHKEYDATA, auth_pack().dump())
    req = k.decode(k.PAPKAsReq, k.PAPKAsReq({"signed_auth_pack": info.dump()}).dump())
    with pytest.raises(DecodeError, match="eContentType"):
        k.auth_pack_of(req)
    data = cms.ContentInfo({"content_type": "data", "content": b"x"})
    req = k.decode(k.PAPKAsReq, k.PAPKAsReq({"signed_auth_pack": data.dump()}).dump())
    with pytest.raises(DecodeError, match="SignedData"):
        k.auth_pack_of(req)
    req = k.decode(k.PAPKAsReq, k.PAPKAsReq({"signed_auth_pack": b"\x30\x01"}).dump())
    with pytest.raises(DecodeError, match="signedAuthPack"):
        k.auth_pack_of(req)


def test_krb5_principal_name_as_certificate_san() -> None:
    """id-pkinit-san otherName (RFC 4556 §3.2.2) inside an X.509 SubjectAltName."""
    san = x509.GeneralNames(
        [
            x509.GeneralName("dns_name", "kdc.example.com"),
            k.pkinit_san(s.REALM, k.principal_name(2, ["krbtgt", s.REALM])),
        ]
    )
    der = san.dump()
    # otherName [0] { type-id 1.3.6.1.5.2.2, value [0] EXPLICIT KRB5PrincipalName }
    value = PKINIT_SAMPLES[k.KRB5PrincipalName]().dump()
    oid = bytes.fromhex("06062b0601050202")
    other = oid + bytes([0xA0, len(value)]) + value
    assert bytes([0xA0, len(other)]) + other in der
    (parsed,) = k.krb5_principal_names(x509.GeneralNames.load(der))
    assert k.to_principal(parsed["principal_name"], parsed["realm"]).unparse() == (
        "krbtgt/EXAMPLE.COM@EXAMPLE.COM")
    assert k.krb5_principal_names(None) == []


def test_pa_pkinit_kx_in_reply_padata() -> None:
    kx = k.PAPKINITKX({"etype": 18, "cipher": b"\x33" * 44})
    rep = s.as_rep()
    rep["padata"] = k.method_data([(k.PaDataType.PA_PK_AS_REP, pa_pk_as_rep()),
                                   (k.PaDataType.PA_PKINIT_KX, kx)])
    decoded = k.decode(k.ASRep, rep.dump())
    raw = k.find_padata(decoded["padata"], 147)["padata_value"].native
    assert k.decode(k.PAPKINITKX, raw).native == {"etype": 18, "kvno": None, "cipher": b"3" * 44}
    pk_rep = k.find_padata(decoded["padata"], 17)["padata_value"].native
    assert k.decode(k.PAPKAsRep, pk_rep).dump() == pa_pk_as_rep().dump()
