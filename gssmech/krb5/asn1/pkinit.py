"""PKINIT messages: RFC 4556 §3.2 (with RFC 8070 freshnessToken), RFC 8636 KDF negotiation,
and RFC 6112/8062 PA-PKINIT-KX.

The PKINIT module is ``DEFINITIONS EXPLICIT TAGS``; the fields the RFC marks ``IMPLICIT``
(signedAuthPack, kdcPkId, dhSignedData, encKeyPack, ExternalPrincipalIdentifier's fields)
are implicit here too.  CMS ContentInfo/SignedData, SubjectPublicKeyInfo and
AlgorithmIdentifier are asn1crypto's own (``cms``, ``keys``, ``algos``), not re-declared.
"""

from __future__ import annotations

from asn1crypto import cms, core, keys, x509

from gssmech.errors import DecodeError
from gssmech.krb5.asn1.base import (
    Checksum,
    EncryptedData,
    EncryptionKey,
    KerberosTime,
    Microseconds,
    PrincipalName,
    Realm,
    UInt32,
)
from gssmech.krb5.asn1.decode import decode, inner_der

# --- Object identifiers, RFC 4556 §3.1 / §3.2.2, RFC 8636 §4 --------------------------------
ID_PKINIT = "1.3.6.1.5.2.3"
ID_PKINIT_AUTHDATA = "1.3.6.1.5.2.3.1"  # eContentType of the signed AuthPack
ID_PKINIT_DHKEYDATA = "1.3.6.1.5.2.3.2"  # eContentType of the signed KDCDHKeyInfo
ID_PKINIT_RKEYDATA = "1.3.6.1.5.2.3.3"  # eContentType of the signed ReplyKeyPack
ID_PKINIT_KPCLIENTAUTH = "1.3.6.1.5.2.3.4"  # EKU of client certificates
ID_PKINIT_KPKDC = "1.3.6.1.5.2.3.5"  # EKU of KDC certificates
ID_PKINIT_KDF = "1.3.6.1.5.2.3.6"
ID_PKINIT_KDF_AH_SHA1 = "1.3.6.1.5.2.3.6.1"
ID_PKINIT_KDF_AH_SHA256 = "1.3.6.1.5.2.3.6.2"
ID_PKINIT_KDF_AH_SHA512 = "1.3.6.1.5.2.3.6.3"
ID_PKINIT_KDF_AH_SHA384 = "1.3.6.1.5.2.3.6.4"
ID_PKINIT_SAN = "1.3.6.1.5.2.2"  # otherName type-id of KRB5PrincipalName
ID_MS_SAN_UPN = "1.3.6.1.4.1.311.20.2.3"  # Microsoft UPN otherName (UTF8String)
ID_MS_KP_SC_LOGON = "1.3.6.1.4.1.311.20.2.2"  # Microsoft smart-card logon EKU


class KDFId(core.ObjectIdentifier):
    """An RFC 8636 §4 KDF identifier; ``.native`` is the RFC name, ``.dotted`` the OID."""

    _map = {
        ID_PKINIT_KDF_AH_SHA1: "id-pkinit-kdf-ah-sha1",
        ID_PKINIT_KDF_AH_SHA256: "id-pkinit-kdf-ah-sha256",
        ID_PKINIT_KDF_AH_SHA512: "id-pkinit-kdf-ah-sha512",
        ID_PKINIT_KDF_AH_SHA384: "id-pkinit-kdf-ah-sha384",
    }


class KDFAlgorithmId(core.Sequence):
    """``KDFAlgorithmId ::= SEQUENCE { kdf-id [0] OBJECT IDENTIFIER, ... }`` (RFC 8636 §3)."""

    _fields = [("kdf_id", KDFId, {"explicit": 0})]


class KDFAlgorithmIds(core.SequenceOf):
    _child_spec = KDFAlgorithmId


class DHNonce(core.OctetString):
    """``DHNonce ::= OCTET STRING`` (RFC 4556 §3.2.1)."""


class ExternalPrincipalIdentifier(core.Sequence):
    """``ExternalPrincipalIdentifier ::= SEQUENCE { subjectName [0] IMPLICIT OCTET STRING
    OPTIONAL, issuerAndSerialNumber [1] IMPLICIT OCTET STRING OPTIONAL, subjectKeyIdentifier
    [2] IMPLICIT OCTET STRING OPTIONAL, ... }`` (RFC 4556 §3.2.1).  The octets are the DER of a
    Name, an IssuerAndSerialNumber and a SubjectKeyIdentifier."""

    _fields = [
        ("subject_name", core.OctetString, {"implicit": 0, "optional": True}),
        ("issuer_and_serial_number", core.OctetString, {"implicit": 1, "optional": True}),
        ("subject_key_identifier", core.OctetString, {"implicit": 2, "optional": True}),
    ]


class ExternalPrincipalIdentifiers(core.SequenceOf):
    _child_spec = ExternalPrincipalIdentifier


class TDTrustedCertifiers(ExternalPrincipalIdentifiers):
    """``TD-TRUSTED-CERTIFIERS ::= SEQUENCE OF ExternalPrincipalIdentifier`` (RFC 4556 §3.2.2,
    data-type 104)."""


class TDInvalidCertificates(ExternalPrincipalIdentifiers):
    """``TD-INVALID-CERTIFICATES ::= SEQUENCE OF ExternalPrincipalIdentifier`` (RFC 4556
    §3.2.2, data-type 105)."""


class ADInitialVerifiedCAs(ExternalPrincipalIdentifiers):
    """``AD-INITIAL-VERIFIED-CAS ::= SEQUENCE OF ExternalPrincipalIdentifier`` (RFC 4556 §3.2.2,
    ad-type 9)."""


class TrustedCA(core.Sequence):
    """``TrustedCA ::= SEQUENCE { caName [0] IMPLICIT OCTET STRING, certificateSerialNumber [1]
    INTEGER OPTIONAL, subjectKeyIdentifier [2] OCTET STRING OPTIONAL, ... }`` (PKINIT drafts
    before RFC 4556, kept by Heimdal; RFC 4556 replaced it with ExternalPrincipalIdentifier)."""

    _fields = [
        ("ca_name", core.OctetString, {"implicit": 0}),
        ("certificate_serial_number", core.Integer, {"explicit": 1, "optional": True}),
        ("subject_key_identifier", core.OctetString, {"explicit": 2, "optional": True}),
    ]


class PAPKAsReq(core.Sequence):
    """``PA-PK-AS-REQ ::= SEQUENCE { signedAuthPack [0] IMPLICIT OCTET STRING,
    trustedCertifiers [1] SEQUENCE OF ExternalPrincipalIdentifier OPTIONAL, kdcPkId [2]
    IMPLICIT OCTET STRING OPTIONAL, ... }`` (RFC 4556 §3.2.1), padata 16.  signedAuthPack is
    the DER of a CMS ContentInfo (SignedData, eContentType id-pkinit-authData)."""

    _fields = [
        ("signed_auth_pack", core.OctetString, {"implicit": 0}),
        ("trusted_certifiers", ExternalPrincipalIdentifiers, {"explicit": 1, "optional": True}),
        ("kdc_pk_id", core.OctetString, {"implicit": 2, "optional": True}),
    ]


class PKAuthenticator(core.Sequence):
    """``PKAuthenticator ::= SEQUENCE { cusec [0] INTEGER (0..999999), ctime [1] KerberosTime,
    nonce [2] INTEGER (0..4294967295), paChecksum [3] OCTET STRING OPTIONAL, ...,
    freshnessToken [4] OCTET STRING OPTIONAL }`` (RFC 4556 §3.2.1; [4] RFC 8070 §4).
    paChecksum is the SHA-1 of the DER KDC-REQ-BODY."""

    _fields = [
        ("cusec", Microseconds, {"explicit": 0}),
        ("ctime", KerberosTime, {"explicit": 1}),
        ("nonce", UInt32, {"explicit": 2}),
        ("pa_checksum", core.OctetString, {"explicit": 3, "optional": True}),
        ("freshness_token", core.OctetString, {"explicit": 4, "optional": True}),
    ]


class AlgorithmIdentifier(core.Sequence):
    """``AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY
    OPTIONAL }`` (RFC 5280 §4.1.1.2), kept generic for supportedCMSTypes.

    NB(asn1crypto): ``algos.AnyAlgorithmIdentifier`` cannot be built from a dotted OID before
    its lazy OID map is set up, and it adds NULL parameters on its own; this plain form keeps
    exactly what the peer sent.
    """

    _fields = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class AlgorithmIdentifiers(core.SequenceOf):
    """``SEQUENCE OF AlgorithmIdentifier`` (supportedCMSTypes)."""

    _child_spec = AlgorithmIdentifier


class AuthPack(core.Sequence):
    """``AuthPack ::= SEQUENCE { pkAuthenticator [0] PKAuthenticator, clientPublicValue [1]
    SubjectPublicKeyInfo OPTIONAL, supportedCMSTypes [2] SEQUENCE OF AlgorithmIdentifier
    OPTIONAL, clientDHNonce [3] DHNonce OPTIONAL, ..., supportedKDFs [4] SEQUENCE OF
    KDFAlgorithmId OPTIONAL, ... }`` (RFC 4556 §3.2.1; [4] RFC 8636 §3).

    An anonymous client (RFC 8062 §4.1) must send clientPublicValue (DH/ECDH only)."""

    _fields = [
        ("pk_authenticator", PKAuthenticator, {"explicit": 0}),
        ("client_public_value", keys.PublicKeyInfo, {"explicit": 1, "optional": True}),
        ("supported_cms_types", AlgorithmIdentifiers, {"explicit": 2, "optional": True}),
        ("client_dh_nonce", DHNonce, {"explicit": 3, "optional": True}),
        ("supported_kdfs", KDFAlgorithmIds, {"explicit": 4, "optional": True}),
    ]


class DHRepInfo(core.Sequence):
    """``DHRepInfo ::= SEQUENCE { dhSignedData [0] IMPLICIT OCTET STRING, serverDHNonce [1]
    DHNonce OPTIONAL, ..., kdf [2] KDFAlgorithmId OPTIONAL, ... }`` (RFC 4556 §3.2.3.1;
    [2] RFC 8636 §3).  dhSignedData is the DER of a CMS ContentInfo (SignedData,
    eContentType id-pkinit-DHKeyData, content KDCDHKeyInfo)."""

    _fields = [
        ("dh_signed_data", core.OctetString, {"implicit": 0}),
        ("server_dh_nonce", DHNonce, {"explicit": 1, "optional": True}),
        ("kdf", KDFAlgorithmId, {"explicit": 2, "optional": True}),
    ]


class PAPKAsRep(core.Choice):
    """``PA-PK-AS-REP ::= CHOICE { dhInfo [0] DHRepInfo, encKeyPack [1] IMPLICIT OCTET STRING,
    ... }`` (RFC 4556 §3.2.3), padata 17.  encKeyPack is the DER of a CMS ContentInfo
    (EnvelopedData of a signed ReplyKeyPack)."""

    _alternatives = [
        ("dh_info", DHRepInfo, {"explicit": 0}),
        ("enc_key_pack", core.OctetString, {"implicit": 1}),
    ]


class KDCDHKeyInfo(core.Sequence):
    """``KDCDHKeyInfo ::= SEQUENCE { subjectPublicKey [0] BIT STRING, nonce [1] INTEGER
    (0..4294967295), dhKeyExpiration [2] KerberosTime OPTIONAL, ... }`` (RFC 4556 §3.2.3.1).
    subjectPublicKey holds the DER INTEGER y (finite-field DH) or the EC point (RFC 5349)."""

    _fields = [
        ("subject_public_key", core.OctetBitString, {"explicit": 0}),
        ("nonce", UInt32, {"explicit": 1}),
        ("dh_key_expiration", KerberosTime, {"explicit": 2, "optional": True}),
    ]


class ReplyKeyPack(core.Sequence):
    """``ReplyKeyPack ::= SEQUENCE { replyKey [0] EncryptionKey, asChecksum [1] Checksum, ... }``
    (RFC 4556 §3.2.3.2)."""

    _fields = [
        ("reply_key", EncryptionKey, {"explicit": 0}),
        ("as_checksum", Checksum, {"explicit": 1}),
    ]


class KRB5PrincipalName(core.Sequence):
    """``KRB5PrincipalName ::= SEQUENCE { realm [0] Realm, principalName [1] PrincipalName }``
    (RFC 4556 §3.2.2): the value of an id-pkinit-san otherName in a certificate."""

    _fields = [
        ("realm", Realm, {"explicit": 0}),
        ("principal_name", PrincipalName, {"explicit": 1}),
    ]


class TDDHParameters(core.SequenceOf):
    """``TD-DH-PARAMETERS ::= SEQUENCE OF AlgorithmIdentifier`` (RFC 4556 §3.2.2, data-type
    109), sent with KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED; for finite-field DH each
    parameters field is a DomainParameters (asn1crypto ``keys.PublicKeyAlgorithm``)."""

    _child_spec = keys.PublicKeyAlgorithm


class PAPKINITKX(EncryptedData):
    """``PA-PKINIT-KX`` padata-value: an EncryptedData of the DER EncryptionKey holding the
    KDC's contribution key, encrypted in the reply key with key usage 44 (RFC 6112 §7 /
    RFC 8062 §7); type 147 (RFC 8062) or 135 (draft-ietf-krb-wg-anon-08), see
    AnonProfile.pa_pkinit_kx.  The ticket session key must equal
    KRB-FX-CF2(contribution key, reply key, pepper1, pepper2).  In a PREAUTH_REQUIRED error
    the padata-value is empty (it only advertises support)."""


def pkinit_san(realm: str, name: PrincipalName) -> x509.GeneralName:
    """An id-pkinit-san otherName GeneralName for a certificate (RFC 4556 §3.2.2)."""
    value = KRB5PrincipalName({"realm": realm, "principal_name": name})
    # NB(asn1crypto): AnotherName.value is [0] EXPLICIT ANY; a typed value must carry the tag.
    return x509.GeneralName(
        "other_name", {"type_id": ID_PKINIT_SAN, "value": value.retag({"explicit": 0})}
    )


def krb5_principal_names(names: x509.GeneralNames | None) -> list[KRB5PrincipalName]:
    """Every id-pkinit-san in a SubjectAltName, strictly decoded (others are skipped)."""
    found: list[KRB5PrincipalName] = []
    for general_name in names or ():
        if general_name.name != "other_name":
            continue
        other = general_name.chosen
        if other["type_id"].dotted == ID_PKINIT_SAN:
            found.append(decode(KRB5PrincipalName, inner_der(other["value"]), what="id-pkinit-san"))
    return found


# --- CMS unwrapping -------------------------------------------------------------------------


def content_info(data: bytes, *, what: str) -> cms.ContentInfo:
    """Strictly decode a CMS ContentInfo carried in an IMPLICIT OCTET STRING field."""
    return decode(cms.ContentInfo, data, what=what)


def signed_content(info: cms.ContentInfo, content_type: str, *, what: str) -> bytes:
    """The eContent octets of a SignedData ContentInfo whose eContentType is ``content_type``.

    Verifying the signature is the PKINIT layer's job; this only checks the shape.
    """
    if info["content_type"].dotted != "1.2.840.113549.1.7.2":
        raise DecodeError("ContentInfo is not SignedData", source=what)
    encap = info["content"]["encap_content_info"]
    if encap["content_type"].dotted != content_type:
        raise DecodeError(
            f"eContentType {encap['content_type'].dotted}, expected {content_type}", source=what
        )
    if isinstance(encap["content"], core.Void):
        raise DecodeError("SignedData has no eContent", source=what)
    return bytes(encap["content"])


def auth_pack_of(req: PAPKAsReq) -> tuple[cms.ContentInfo, AuthPack]:
    """The SignedData and the AuthPack inside a PA-PK-AS-REQ (RFC 4556 §3.2.1)."""
    info = content_info(bytes(req["signed_auth_pack"].native), what="signedAuthPack")
    raw = signed_content(info, ID_PKINIT_AUTHDATA, what="signedAuthPack")
    return info, decode(AuthPack, raw, what="AuthPack")


def kdc_dh_key_info_of(rep: DHRepInfo) -> tuple[cms.ContentInfo, KDCDHKeyInfo]:
    """The SignedData and the KDCDHKeyInfo inside a DHRepInfo (RFC 4556 §3.2.3.1)."""
    info = content_info(bytes(rep["dh_signed_data"].native), what="dhSignedData")
    raw = signed_content(info, ID_PKINIT_DHKEYDATA, what="dhSignedData")
    return info, decode(KDCDHKeyInfo, raw, what="KDCDHKeyInfo")
