"""X.509 material for PKINIT KDCs (RFC 4556 §3.2.2): a CA and a KDC certificate.

The KDC certificate carries EKU id-pkinit-KPKdc (1.3.6.1.5.2.3.5) and the otherName SAN
id-pkinit-san (1.3.6.1.5.2.2) whose value is KRB5PrincipalName for krbtgt/REALM@REALM, which
is what MIT's client checks (pkinit_clnt.c verify_kdc_san).  Used by the embedded KDC's
``kdc init`` and by the test fixture that runs MIT's KDC.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

ID_PKINIT_SAN = "1.3.6.1.5.2.2"
ID_PKINIT_KPKDC = "1.3.6.1.5.2.3.5"
ID_PKINIT_KPCLIENTAUTH = "1.3.6.1.5.2.3.4"


class _Components(core.SequenceOf):
    _child_spec = core.GeneralString


class _PrincipalName(core.Sequence):
    _fields = [
        ("name-type", core.Integer, {"explicit": 0}),
        ("name-string", _Components, {"explicit": 1}),
    ]


class _KRB5PrincipalName(core.Sequence):
    """KRB5PrincipalName ::= SEQUENCE { realm [0] Realm, principalName [1] PrincipalName }."""

    _fields = [
        ("realm", core.GeneralString, {"explicit": 0}),
        ("principalName", _PrincipalName, {"explicit": 1}),
    ]


def pkinit_san_value(realm: str, components: tuple[str, ...], name_type: int) -> bytes:
    """DER of the id-pkinit-san otherName value (RFC 4556 §3.2.2)."""
    return _KRB5PrincipalName(
        {
            "realm": realm,
            "principalName": {"name-type": name_type, "name-string": list(components)},
        }
    ).dump()


@dataclass(frozen=True)
class Issued:
    cert_pem: bytes
    key_pem: bytes


def _usage(**bits: bool) -> x509.KeyUsage:
    names = (
        "digital_signature content_commitment key_encipherment data_encipherment key_agreement "
        "key_cert_sign crl_sign encipher_only decipher_only"
    ).split()
    return x509.KeyUsage(**{n: bits.get(n, False) for n in names})


def _key(kind: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def make_ca(
    common_name: str,
    *,
    days: int = 3650,
    key_kind: str = "rsa",
    now: datetime.datetime | None = None,
) -> Issued:
    """A self-signed CA certificate usable as ``pkinit_anchors``."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = _key(key_kind)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def make_kdc_cert(
    ca: Issued,
    realm: str,
    *,
    san_realm: str | None = None,
    days: int = 3650,
    key_kind: str = "rsa",
    dns_names: tuple[str, ...] = (),
    now: datetime.datetime | None = None,
) -> Issued:
    """A KDC certificate for ``realm`` signed by ``ca``.

    ``san_realm`` names another realm in id-pkinit-san (negative tests: a certificate issued for
    a different realm must be refused by clients).
    """
    now = now or datetime.datetime.now(datetime.UTC)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    key = _key(key_kind)
    r = san_realm or realm
    san: list[x509.GeneralName] = [
        x509.OtherName(
            x509.ObjectIdentifier(ID_PKINIT_SAN), pkinit_san_value(r, ("krbtgt", r), 2)
        )
    ]
    san += [x509.DNSName(d) for d in dns_names]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"KDC {realm}")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _usage(digital_signature=True, key_encipherment=True, key_agreement=True),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(ID_PKINIT_KPKDC)]), critical=False
        )
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_cert.public_key()  # type: ignore[arg-type]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))
