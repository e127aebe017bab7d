"""CMS SignedData for PKINIT (RFC 5652 §5, RFC 4556 §3.2.1 / §3.2.3.1, RFC 8062 §4.1).

The anonymous client's AuthPack travels in a SignedData with no signerInfos and no
certificates (RFC 8062 §4.1: "the client ... MUST NOT include ... signerInfos").  The KDC's
KDCDHKeyInfo is signed: :func:`verify_signed_data` checks the signature, chains the signer
certificate to the configured anchors, and :func:`check_kdc_certificate` checks that it names
the KDC (RFC 4556 §3.2.4; anonymity conformance C6).

Chain validation is a manual issuer-signature walk (``verify_directly_issued_by`` plus validity
and basicConstraints at an injected ``now``) rather than ``cryptography.x509.verification``:
that API's client/server policies insist on their own EKUs and on a SAN profile that a
PKINIT KDC certificate (id-pkinit-KPKdc, otherName SAN) does not have.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import algos, cms, core
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from gssmech.errors import DecodeError
from gssmech.krb5.asn1 import derwrite
from gssmech.krb5.asn1.decode import decode
from gssmech.krb5.asn1.pkinit import ID_PKINIT_KPKDC, krb5_principal_names
from gssmech.krb5.pkinit.errors import PKINITError

ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_MAX_CHAIN = 8


def unsigned_signed_data(content_type: str, content: bytes) -> bytes:
    """ContentInfo(SignedData) with empty digestAlgorithms and signerInfos, certificates absent:
    the anonymous AuthPack wrapper (RFC 8062 §4.1, conformance C2).  Version 3 because the
    eContentType is not id-data (RFC 5652 §5.1), as MIT sends it."""
    signed = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [],
            "encap_content_info": {
                "content_type": content_type,
                "content": core.ParsableOctetString(content),
            },
            "signer_infos": [],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def _set_of_der(attrs: cms.CMSAttributes) -> bytes:
    """The DER the signature covers: signedAttrs re-tagged as a universal SET (RFC 5652 §5.4)."""
    der = attrs.dump()
    return b"\x31" + der[1:]


#: RFC 5652 §5.3 signed attributes: id-contentType, id-messageDigest.
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


@functools.lru_cache(maxsize=16)
def _oid(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


@dataclass(frozen=True, slots=True)
class _SignerPieces:
    """The DER of everything in a SignedData that depends only on the signer, built once with
    asn1crypto; each signature then only writes the digest, the signature and the content
    around them (asn1crypto assembling the whole structure cost more than an RSA signature, on
    every KDC reply)."""

    digest_algorithms: bytes  # SET OF DigestAlgorithmIdentifier
    certificates: bytes  # [0] IMPLICIT CertificateSet
    sid: bytes  # IssuerAndSerialNumber
    digest_algorithm: bytes
    signature_algorithm: bytes


@functools.lru_cache(maxsize=8)
def _signer_pieces(cert_der: bytes, extra_der: tuple[bytes, ...], sig_alg: str) -> _SignerPieces:
    cert = a_x509.Certificate.load(cert_der)
    digest_alg = algos.DigestAlgorithm({"algorithm": "sha256"})
    certificates = cms.CertificateSet([cert] + [a_x509.Certificate.load(c) for c in extra_der])
    sid = cms.IssuerAndSerialNumber({"issuer": cert.issuer, "serial_number": cert.serial_number})
    return _SignerPieces(
        digest_algorithms=cms.DigestAlgorithms([digest_alg]).dump(),
        certificates=certificates.retag("implicit", 0).dump(),
        sid=sid.dump(),
        digest_algorithm=digest_alg.dump(),
        signature_algorithm=algos.SignedDigestAlgorithm({"algorithm": sig_alg}).dump(),
    )


def sign_signed_data(
    content_type: str,
    content: bytes,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    cert_der: bytes,
    *,
    extra_certs: Sequence[bytes] = (),
) -> bytes:
    """A signed ContentInfo(SignedData), as a KDC signs KDCDHKeyInfo (RFC 4556 §3.2.3.1):
    SHA-256, signed attributes content-type + message-digest, signer identified by issuer and
    serial, its certificate (DER) and ``extra_certs`` included.  Byte for byte what asn1crypto's
    cms schema dumps for the same values (tests/test_kdc_signeddata.py)."""
    if isinstance(key, rsa.RSAPrivateKey):
        sig_alg = "sha256_rsa"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        sig_alg = "sha256_ecdsa"
    else:
        raise PKINITError(f"cannot sign with a {type(key).__name__}")
    pieces = _signer_pieces(bytes(cert_der), tuple(bytes(c) for c in extra_certs), sig_alg)
    econtent_type = _oid(content_type)
    # Attributes in DER SET OF order (X.690 §11.6): the contentType one encodes shorter.
    attrs = derwrite.seq(_oid(_OID_CONTENT_TYPE), derwrite.tlv(0x31, econtent_type)) + derwrite.seq(
        _oid(_OID_MESSAGE_DIGEST),
        derwrite.tlv(0x31, derwrite.octets(hashlib.sha256(content).digest())),
    )
    # RFC 5652 §5.4: the signature covers the attributes as a SET OF (tag 0x31); in the
    # SignerInfo they are [0] IMPLICIT.
    to_sign = derwrite.tlv(0x31, attrs)
    if sig_alg == "sha256_rsa":
        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
    signer = derwrite.seq(
        derwrite.integer(1), pieces.sid, pieces.digest_algorithm, derwrite.tlv(0xA0, attrs),
        pieces.signature_algorithm, derwrite.octets(signature),
    )
    signed = derwrite.seq(
        derwrite.integer(3),
        pieces.digest_algorithms,
        derwrite.seq(econtent_type, derwrite.ctx(0, derwrite.octets(content))),
        pieces.certificates,
        derwrite.tlv(0x31, signer),
    )
    return derwrite.seq(_oid(ID_SIGNED_DATA), derwrite.ctx(0, signed))


def _econtent(info: cms.ContentInfo, content_type: str) -> tuple[cms.SignedData, bytes]:
    if info["content_type"].dotted != ID_SIGNED_DATA:
        raise PKINITError("PKINIT reply is not a CMS SignedData")
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].dotted != content_type:
        raise PKINITError(f"SignedData carries {encap['content_type'].dotted}, not {content_type}")
    if isinstance(encap["content"], core.Void):
        raise PKINITError("SignedData has no content")
    return signed, bytes(encap["content"])


def is_unsigned(info: cms.ContentInfo) -> bool:
    """True for a SignedData without signerInfos (an unsigned reply, RFC 8062 §4.1)."""
    return info["content_type"].dotted == ID_SIGNED_DATA and not len(
        info["content"]["signer_infos"]
    )


def _load_certs(signed: cms.SignedData) -> list[x509.Certificate]:
    out = []
    for choice in signed["certificates"] or ():
        if choice.name != "certificate":
            continue
        try:
            out.append(x509.load_der_x509_certificate(choice.chosen.dump()))
        except ValueError:
            raise PKINITError("malformed certificate in the KDC's SignedData") from None
    return out


def _find_signer(
    sid: cms.SignerIdentifier, certs: list[x509.Certificate]
) -> x509.Certificate:
    for cert in certs:
        a_cert = a_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        if sid.name == "issuer_and_serial_number":
            if (
                a_cert.issuer == sid.chosen["issuer"]
                and a_cert.serial_number == sid.chosen["serial_number"].native
            ):
                return cert
        elif a_cert.key_identifier == sid.chosen.native:
            return cert
    raise PKINITError("the KDC's SignedData does not include its signing certificate")


def _verify_signature(
    cert: x509.Certificate, data: bytes, signature: bytes, sig_alg: str, digest: str
) -> None:
    h = _HASHES.get(digest)
    if h is None:
        raise PKINITError(f"unsupported digest algorithm {digest} in the KDC's SignedData")
    pub = cert.public_key()
    try:
        if isinstance(pub, rsa.RSAPublicKey) and sig_alg in (
            "rsassa_pkcs1v15", "sha1_rsa", "sha256_rsa", "sha384_rsa", "sha512_rsa"
        ):
            pub.verify(signature, data, padding.PKCS1v15(), h())
        elif isinstance(pub, ec.EllipticCurvePublicKey) and sig_alg.endswith("ecdsa"):
            pub.verify(signature, data, ec.ECDSA(h()))
        else:
            raise PKINITError(f"unsupported signature algorithm {sig_alg} for the KDC's key")
    except InvalidSignature:
        raise PKINITError("the KDC's CMS signature does not verify") from None


def _valid_at(cert: x509.Certificate, now: datetime.datetime, what: str) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise PKINITError(f"{what} certificate {cert.subject.rfc4514_string()} is not valid now")


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def chain_to_anchors(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    now: datetime.datetime,
) -> x509.Certificate:
    """Walk issuer signatures from ``leaf`` through CA certificates in ``pool`` to one of
    ``anchors``; return the anchor.  Every certificate must be valid at ``now``."""
    if not anchors:
        raise PKINITError("no pkinit_anchors configured: cannot authenticate the KDC")
    current = leaf
    _valid_at(leaf, now, "KDC")
    for _ in range(_MAX_CHAIN):
        for anchor in anchors:
            if anchor == current:
                return anchor
            if anchor.subject == current.issuer and _issued_by(current, anchor):
                _valid_at(anchor, now, "anchor")
                return anchor
        nxt = next(
            (
                c
                for c in pool
                if c != current and c.subject == current.issuer and _is_ca(c)
                and _issued_by(current, c)
            ),
            None,
        )
        if nxt is None:
            break
        _valid_at(nxt, now, "intermediate")
        current = nxt
    raise PKINITError(
        f"KDC certificate {leaf.subject.rfc4514_string()} does not chain to a trusted "
        "pkinit_anchors CA"
    )


def verify_signed_data(
    info: cms.ContentInfo,
    content_type: str,
    anchors: Sequence[x509.Certificate],
    now: datetime.datetime,
) -> tuple[bytes, x509.Certificate]:
    """Verify a KDC-signed SignedData (RFC 5652 §5.6) and its chain; return (eContent, signer).

    Exactly one signerInfo; with signed attributes, content-type must equal the eContentType
    and message-digest the digest of the eContent (RFC 5652 §11.1, §11.2)."""
    signed, content = _econtent(info, content_type)
    signers = signed["signer_infos"]
    if len(signers) == 0:
        raise PKINITError("the KDC's reply is unsigned and the KDC is not otherwise authenticated")
    if len(signers) != 1:
        raise PKINITError("the KDC's SignedData has more than one signer")
    si = signers[0]
    certs = _load_certs(signed)
    signer = _find_signer(si["sid"], certs)
    digest = si["digest_algorithm"]["algorithm"].native
    sig_alg = si["signature_algorithm"]["algorithm"].native
    attrs = si["signed_attrs"]
    if isinstance(attrs, core.Void) or not len(attrs):
        to_check = content
    else:
        seen: dict[str, list] = {}
        for attr in attrs:
            seen.setdefault(attr["type"].native, []).extend(attr["values"])
        ctypes = seen.get("content_type", [])
        digests = seen.get("message_digest", [])
        if len(ctypes) != 1 or ctypes[0].dotted != content_type:
            raise PKINITError("signed content-type attribute missing or wrong")
        if digest not in _HASHES:
            raise PKINITError(f"unsupported digest algorithm {digest}")
        expected = hashlib.new(digest, content).digest()
        if len(digests) != 1 or not hmac.compare_digest(bytes(digests[0].native), expected):
            raise PKINITError("signed message-digest does not match the content")
        to_check = _set_of_der(attrs)
    _verify_signature(signer, to_check, bytes(si["signature"]), sig_alg, digest)
    chain_to_anchors(signer, certs, anchors, now)
    return content, signer


def check_kdc_certificate(
    cert: x509.Certificate,
    realm: str,
    *,
    kdc_hostnames: Sequence[str] = (),
    require_eku: bool = True,
) -> None:
    """RFC 4556 §3.2.4 (C6): the certificate's id-pkinit-san is krbtgt/REALM@REALM, or one of
    its dNSNames is a configured pkinit_kdc_hostname; and its EKU includes id-pkinit-KPKdc
    (MIT's default pkinit_eku_checking = kpKDC)."""
    if require_eku:
        try:
            ekus = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            ekus = None
        if ekus is None or x509.ObjectIdentifier(ID_PKINIT_KPKDC) not in ekus:
            raise PKINITError("KDC certificate lacks the id-pkinit-KPKdc extended key usage")
    a_cert = a_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    try:
        sans = a_cert.subject_alt_name_value
        names = krb5_principal_names(sans)
    except (DecodeError, ValueError):
        raise PKINITError("KDC certificate has a malformed subjectAltName") from None
    for name in names:
        if name["realm"].native == realm and name["principal_name"]["name_string"].native == [
            "krbtgt", realm
        ]:
            return
    dns = [g.native.lower() for g in sans or () if g.name == "dns_name"]
    if any(h.lower() in dns for h in kdc_hostnames):
        return
    found = ", ".join(
        "/".join(n["principal_name"]["name_string"].native) + "@" + n["realm"].native
        for n in names
    )
    raise PKINITError(
        f"KDC certificate does not name krbtgt/{realm}@{realm} (it names {found or 'nothing'})"
    )


def load_anchors(pem_or_der: bytes) -> list[x509.Certificate]:
    """Certificates from a PEM bundle or one DER certificate (a pkinit_anchors FILE:)."""
    try:
        if b"-----BEGIN" in pem_or_der:
            return x509.load_pem_x509_certificates(pem_or_der)
        return [x509.load_der_x509_certificate(pem_or_der)]
    except ValueError as exc:
        raise PKINITError(f"unreadable pkinit_anchors: {exc}") from None


def decode_content_info(data: bytes, what: str) -> cms.ContentInfo:
    return decode(cms.ContentInfo, data, what=what)
