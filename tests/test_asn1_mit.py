"""Messages captured from MIT krb5 1.20.1 (kinit/kinit -n against krb5kdc on loopback).

The lead's golden files under tests/data/mit/ will cover more; these three are inlined so the
ASN.1 layer is checked against a real peer on its own: decode, exact re-encoding (also from the
parsed fields, i.e. our encoder produces MIT's DER), and the fields a client acts on.
"""

from __future__ import annotations

import hashlib

import pytest

from gssmech.krb5 import asn1 as k
from gssmech.krb5.constants import RFC8062

#: KRB-ERROR KDC_ERR_PREAUTH_REQUIRED for alice (requires_preauth), e-data METHOD-DATA.
MIT_PREAUTH_REQUIRED = bytes.fromhex(
    "7e8201213082011da003020105a10302011ea411180f32303236313132333132323533385aa505020308c328"
    "a603020119a70d1b0b4558414d504c452e434f4da8123010a003020101a10930071b05616c696365a90d1b0b"
    "4558414d504c452e434f4daa20301ea003020102a11730151b066b72627467741b0b4558414d504c452e434f"
    "4dab101b0e4e45454445445f50524541555448ac818b048188308185300aa10402020088a20204003026a103"
    "020113a21f041d301b3019a003020112a1121b104558414d504c452e434f4d616c6963653009a103020110a2"
    "020400300aa10402020093a20204003009a103020102a2020400301ea10402020096a21604146b0430c20000"
    "0001ed73391617e40df6c23ee30e300da10402020085a20504034d4954"
)

#: AS-REQ for alice with PA-FX-COOKIE, PA-ENC-TIMESTAMP, PA-AS-FRESHNESS, PA-REQ-ENC-PA-REP.
MIT_AS_REQ_ENC_TS = bytes.fromhex(
    "6a82012530820121a103020105a20302010aa3773075300da10402020085a20504034d4954304ca103020102"
    "a24504433041a003020112a23a0438adff53735f1e2fbd18c31736718a2010b4fa4e96b6402a9e7462350039"
    "d088d85e7e12c1e7d4e46f1cfb15cbf60bf06c0f674841b8ccc477300aa10402020096a2020400300aa10402"
    "020095a2020400a4819b308198a00703050040800000a1123010a003020101a10930071b05616c696365a20d"
    "1b0b4558414d504c452e434f4da320301ea003020102a11730151b066b72627467741b0b4558414d504c452e"
    "434f4da511180f32303236313132343132323533385aa611180f32303236313132353132323533385aa70602"
    "0457f6b118a81a301802011202011102011402011302011002011702011902011a"
)

#: Anonymous PKINIT AS-REQ (kinit -n): unsigned SignedData AuthPack with a finite-field DH key.
MIT_AS_REQ_ANON_PKINIT = bytes.fromhex(
    "6a82054a30820546a103020105a20302010aa382049e3082049a300da10402020085a20504034d4954308204"
    "6fa103020110a2820466048204623082045e808203fa308203f606092a864886f70d010702a08203e7308203"
    "e30201033100308203d806072b060105020301a08203cb048203c7308203c3a0543052a005020301872da111"
    "180f32303236313132333132323532385aa20602041810950aa316041452976b6dd667c6c42444d8fdece1b9"
    "6dd09a387ca41604146b0430b80000000115984201d6aedc8da26d5b8ba182032b308203273082021906072a"
    "8648ce3e02013082020c0282010100ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a"
    "67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e4"
    "85b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ec"
    "e45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9e"
    "d529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec"
    "07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aacaa68ff"
    "ffffffffffffff020102028201007fffffffffffffffe487ed5110b4611a62633145c06e0e68948127044533"
    "e63a0105df531d89cd9128a5043cc71a026ef7ca8cd9e69d218d98158536f92f8a1ba7f09ab6b6a8e122f242"
    "dabb312f3f637a262174d31bf6b585ffae5b7a035bf6f71c35fdad44cfd2d74f9208be258ff324943328f672"
    "2d9ee1003e5c50b1df82cc6d241b0e2ae9cd348b1fd47e9267afc1b2ae91ee51d6cb0e3179ab1042a95dcf6a"
    "9483b84b4b36b3861aa7255e4c0278ba3604650c10be19482f23171b671df1cf3b960c074301cd93c1d17603"
    "d147dae2aef837a62964ef15e5fb4aac0b8c1ccaa4be754ab5728ae9130c4c7d02880ab9472d455655347fff"
    "ffffffffffff0382010600028201010082a709bc48511b04816b59c4b0914d313d3e2879db6d91542c449521"
    "dc15019675b3a0063038fabb09e813b15f299507067252388c211c751446a6252c3fa7e25c31c3162e0564de"
    "f8e4f09ca21b398ade3d997afd6da93b741485f540fe6cf3c4a136341dd56897e15c8a8c1400540e5601a9f3"
    "d73fe21e7a8a7c802ff3d4d92fc830d4e39fc1c7e164b7a2f2f8e9a60397cfa5bfb93b9f436cfe0ed53badbf"
    "1aa24351518aef8d114facf28389f60ebbc977a2a890edc49153668c9f326b4774fd22132ec685d0148aed3c"
    "bb569002b9c282ee6d80717539d84c113970b54ff3a67560f9145a78758dc6d0e196949fef6c37fdc0b49a78"
    "b3030b60da959358a20e300c300a06082a864886f70d0307a42c302a300ca00a06082b06010502030602300c"
    "a00a06082b06010502030601300ca00a06082b060105020306033100a15e305c305a80133011310f300d0603"
    "5504030c06546573744341812b30293011310f300d06035504030c0654657374434102141720772feb0708d9"
    "a0b0c4df19352b9941edbb1a821604148d5f16ff397ce19c2f76c6ec65e8a327bd514820300aa10402020096"
    "a2020400300aa10402020095a2020400a48197308194a00703050000008010a121301fa00302010ba1183016"
    "1b0957454c4c4b4e4f574e1b09414e4f4e594d4f5553a20d1b0b4558414d504c452e434f4da320301ea00302"
    "0102a11730151b066b72627467741b0b4558414d504c452e434f4da511180f32303236313132343132323532"
    "385aa70602041810950aa81a301802011202011102011402011302011002011702011902011a"
)


@pytest.mark.parametrize(
    ("cls", "der"),
    [(k.KRBError, MIT_PREAUTH_REQUIRED), (k.ASReq, MIT_AS_REQ_ENC_TS),
     (k.ASReq, MIT_AS_REQ_ANON_PKINIT)],
)
def test_mit_messages_round_trip(cls: type, der: bytes) -> None:
    value = k.decode(cls, der)
    assert value.dump() == der
    assert value.dump(force=True) == der  # our encoder reproduces MIT's DER field by field


def test_mit_preauth_required() -> None:
    err = k.decode(k.KRBError, MIT_PREAUTH_REQUIRED)
    assert int(err["error_code"]) == k.ErrorCode.KDC_ERR_PREAUTH_REQUIRED
    assert err["e_text"].native == "NEEDED_PREAUTH"
    assert k.to_principal(err["cname"], err["crealm"]).unparse() == "alice@EXAMPLE.COM"
    e_data = err.decoded_e_data()
    assert k.padata_types(e_data) == [
        k.PaDataType.PA_FX_FAST, k.PaDataType.PA_ETYPE_INFO2, k.PaDataType.PA_PK_AS_REQ,
        RFC8062.pa_pkinit_kx, k.PaDataType.PA_ENC_TIMESTAMP, k.PaDataType.PA_AS_FRESHNESS,
        k.PaDataType.PA_FX_COOKIE,
    ]
    info = k.decode_etype_info2(k.find_padata(e_data, 19)["padata_value"].native)
    assert info.native == [{"etype": 18, "salt": "EXAMPLE.COMalice", "s2kparams": None}]
    for empty in (16, 147, 2):
        assert k.find_padata(e_data, empty)["padata_value"].native == b""


def test_mit_as_req_enc_timestamp() -> None:
    req = k.decode(k.ASReq, MIT_AS_REQ_ENC_TS)
    body = req["req_body"]
    assert body["kdc_options"].to_int() == 0x40800000  # forwardable | renewable (kinit -f -r)
    assert body["kdc_options"].native == {"forwardable", "renewable"}
    assert [int(e) for e in body["etype"]] == [18, 17, 20, 19, 16, 23, 25, 26]
    enc = k.decode_pa_enc_timestamp(k.find_padata(req["padata"], 2)["padata_value"].native)
    assert int(enc["etype"]) == 18 and len(enc["cipher"].native) == 56  # 16+12+28 (aes-cts)


def test_mit_anonymous_pkinit_as_req() -> None:
    req = k.decode(k.ASReq, MIT_AS_REQ_ANON_PKINIT)
    body = req["req_body"]
    assert k.anonymous_flag_set(body["kdc_options"], RFC8062)
    assert k.is_anonymous_principal_name(body["cname"], require_name_type=True)
    pk = k.decode(k.PAPKAsReq, k.find_padata(req["padata"], 16)["padata_value"].native)
    info, pack = k.auth_pack_of(pk)
    assert len(info["content"]["signer_infos"]) == 0  # RFC 8062 §4.1: unsigned for anonymity
    auth = pack["pk_authenticator"]
    assert auth["nonce"].native == body["nonce"].native
    assert auth["pa_checksum"].native == hashlib.sha1(k.inner_der(body)).digest()
    assert auth["freshness_token"].native is not None  # RFC 8070, echoed from the KDC
    assert pack["client_public_value"]["algorithm"]["algorithm"].native == "dh"
    assert [kdf["kdf_id"].dotted for kdf in pack["supported_kdfs"]] == [
        k.ID_PKINIT_KDF_AH_SHA256, k.ID_PKINIT_KDF_AH_SHA1, k.ID_PKINIT_KDF_AH_SHA512]
