"""The KDC's reply SignedData (:func:`gssmech.kdc.pkinit.sign_content`, which is
:func:`gssmech.krb5.pkinit.cms.sign_signed_data`, RFC 5652 §5) is written with derwrite around
pieces asn1crypto builds once per signer.  It must be, byte for byte,
what asn1crypto's cms schema dumps for the same values, and its signature must verify over the
signed attributes encoded as a SET OF (RFC 5652 §5.4), for RSA and ECDSA KDC keys, with and
without extra chain certificates, at every DER length form of the content."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from asn1crypto import algos, cms, core, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from gssmech.kdc.context import PkinitIdentity
from gssmech.kdc.errors import KDCError
from gssmech.kdc.pkinit import sign_content
from gssmech.krb5.asn1 import ID_PKINIT_DHKEYDATA, ErrorCode
from gssmech.krb5.certs import make_ca, make_kdc_cert


def _identity(kind: str, chain: int) -> PkinitIdentity:
    ca = make_ca("signeddata CA", key_kind=kind)
    kdc = make_kdc_cert(ca, "SD.TEST", key_kind=kind)
    der = cx509.load_pem_x509_certificate(kdc.cert_pem).public_bytes(serialization.Encoding.DER)
    ca_der = cx509.load_pem_x509_certificate(ca.cert_pem).public_bytes(serialization.Encoding.DER)
    key = serialization.load_pem_private_key(kdc.key_pem, password=None)
    return PkinitIdentity(der, key, (ca_der,) * chain)


def _reference(identity: PkinitIdentity, content_type: str, content: bytes,
               signature: bytes) -> bytes:
    """The same SignedData assembled entirely by asn1crypto."""
    cert = x509.Certificate.load(identity.cert_der)
    sig_alg = "sha256_rsa" if isinstance(identity.private_key, rsa.RSAPrivateKey) \
        else "sha256_ecdsa"
    signed_attrs = cms.CMSAttributes([
        {"type": "content_type", "values": [content_type]},
        {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
    ])
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier(name="issuer_and_serial_number", value={
            "issuer": cert.issuer, "serial_number": cert.serial_number}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_alg}),
        "signature": signature,
    })
    signed = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": content_type,
                               "content": core.ParsableOctetString(content)},
        "certificates": [cert] + [x509.Certificate.load(c) for c in identity.chain_der],
        "signer_infos": [signer],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def _verify(identity: PkinitIdentity, signer: Any) -> None:
    attrs = signer["signed_attrs"].dump()
    signed_octets = b"\x31" + attrs[1:]  # RFC 5652 §5.4: as a SET OF, not [0] IMPLICIT
    public = cx509.load_der_x509_certificate(identity.cert_der).public_key()
    signature = signer["signature"].native
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, signed_octets, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, signed_octets, ec.ECDSA(hashes.SHA256()))


_IDENTITIES: dict[tuple[str, int], PkinitIdentity] = {}


@pytest.mark.parametrize("kind", ["rsa", "ec"])
@pytest.mark.parametrize("chain", [0, 2])
@pytest.mark.parametrize("size", [0, 5, 127, 128, 300, 70_000])
def test_signed_data_is_asn1cryptos_and_verifies(kind: str, chain: int, size: int) -> None:
    identity = _IDENTITIES.get((kind, chain))
    if identity is None:
        identity = _IDENTITIES[(kind, chain)] = _identity(kind, chain)
    content = bytes(range(256)) * (size // 256) + bytes(size % 256)
    out = sign_content(identity, ID_PKINIT_DHKEYDATA, content)
    info = cms.ContentInfo.load(out)
    signed = info["content"]
    signer = signed["signer_infos"][0]
    # ECDSA signatures differ per call: build the reference around the one we produced.
    assert out == _reference(identity, ID_PKINIT_DHKEYDATA, content, signer["signature"].native)
    _verify(identity, signer)
    assert signed["encap_content_info"]["content"].native == content
    assert len(signed["certificates"]) == 1 + chain



def test_a_kdc_key_that_cannot_sign_is_a_kdc_error() -> None:
    rsa_identity = _IDENTITIES.get(("rsa", 0)) or _identity("rsa", 0)
    odd = PkinitIdentity(rsa_identity.cert_der, ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(KDCError) as exc:
        sign_content(odd, ID_PKINIT_DHKEYDATA, b"key info")
    assert exc.value.code == ErrorCode.KRB_ERR_GENERIC
