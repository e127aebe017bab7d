"""The KDC half of anonymous PKINIT (RFC 4556 §3.2.1-§3.2.3.1 as profiled by seed §4.1 and §6;
K3, K4, K6).

The request's SignedData must be unsigned (no signerInfos, no certificates: the client is
anonymous); its AuthPack must carry a clientPublicValue in an accepted group (MODP 14/16,
P-256/384/521: :func:`gssmech.krb5.pkinit.kex.parse_public_value`) and a paChecksum equal to
SHA-1 of the DER KDC-REQ-BODY.  The reply is a DHRepInfo whose KDCDHKeyInfo is signed by the
KDC (CMS SignedData, eContentType id-pkinit-DHKeyData, the KDC certificate included) and the
reply key comes from the RFC 8636 KDF when the client offered one (SHA-256 preferred), else
from octetstring2key.  :func:`pkinit_kx` builds PA_PKINIT_KX (seed §6).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from asn1crypto import core

from gssmech.errors import DecodeError
from gssmech.kdc.context import KDCContext, PkinitIdentity
from gssmech.kdc.errors import KDCError
from gssmech.kdc.tickets import RandomBytes
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    ID_PKINIT_DHKEYDATA,
    ID_PKINIT_KDF_AH_SHA1,
    ID_PKINIT_KDF_AH_SHA256,
    ID_PKINIT_KDF_AH_SHA384,
    ID_PKINIT_KDF_AH_SHA512,
    ASReq,
    DHRepInfo,
    EncryptedData,
    EncryptionKey,
    ErrorCode,
    KDCDHKeyInfo,
    KeyUsage,
    PAPKAsRep,
    PAPKAsReq,
    auth_pack_of,
    decode,
    inner_der,
    to_principal,
)
from gssmech.krb5.pkinit import kex
from gssmech.krb5.pkinit.cms import sign_signed_data
from gssmech.krb5.pkinit.errors import PKINITError
from gssmech.krb5.principal import Principal

#: KDFs we implement, in the order we pick them (RFC 8636 §3: the KDC chooses; SHA-256 first).
KDF_PREFERENCE = (ID_PKINIT_KDF_AH_SHA256, ID_PKINIT_KDF_AH_SHA512, ID_PKINIT_KDF_AH_SHA384,
                  ID_PKINIT_KDF_AH_SHA1)


@dataclass(frozen=True, slots=True)
class PkinitReply:
    reply_key: crypto.Key
    #: DER of the PA-PK-AS-REP padata-value
    pa_pk_as_rep: bytes


def anonymous_reply(ctx: KDCContext, req: ASReq, raw: bytes, pa_value: bytes, enctype: int,
                    now: float) -> PkinitReply:
    """Check an anonymous PA-PK-AS-REQ and build the PA-PK-AS-REP and reply key."""
    identity = ctx.pkinit
    if identity is None:  # K2
        raise KDCError(ErrorCode.KDC_ERR_NULL_KEY, "PKINIT is not configured")
    try:
        pk_req = decode(PAPKAsReq, pa_value, what="PA-PK-AS-REQ")
        info, auth_pack = auth_pack_of(pk_req)
    except DecodeError:
        raise KDCError(ErrorCode.KDC_ERR_PREAUTH_FAILED, "malformed PA-PK-AS-REQ") from None
    signed = info["content"]
    certs = signed["certificates"]
    if len(signed["signer_infos"]) or not (isinstance(certs, core.Void) or len(certs) == 0):
        # seed §4.1: an anonymous client's SignedData has neither signers nor certificates
        raise KDCError(ErrorCode.KDC_ERR_CLIENT_NOT_TRUSTED,
                       "signed PKINIT is not supported for the anonymous principal")
    pk_auth = auth_pack["pk_authenticator"]
    if abs(pk_auth["ctime"].timestamp - now) > ctx.settings.clock_skew:
        raise KDCError(ErrorCode.KRB_AP_ERR_SKEW, "clock skew too great")
    checksum = pk_auth["pa_checksum"]
    if isinstance(checksum, core.Void):
        raise KDCError(ErrorCode.KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED, "no paChecksum")
    expected = hashlib.sha1(inner_der(req["req_body"])).digest()
    if not hmac.compare_digest(bytes(checksum.native), expected):
        raise KDCError(ErrorCode.KRB_AP_ERR_MODIFIED, "paChecksum does not match the request")
    spki = auth_pack["client_public_value"]
    if isinstance(spki, core.Void):  # K3
        raise KDCError(ErrorCode.KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED,
                       "anonymous PKINIT requires Diffie-Hellman")
    try:
        group, peer = kex.parse_public_value(inner_der(spki))  # K3: only accepted groups
    except kex.UnsupportedGroupError:
        raise KDCError(ErrorCode.KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED,
                       "Diffie-Hellman group not accepted") from None
    except DecodeError:
        raise KDCError(ErrorCode.KDC_ERR_PREAUTH_FAILED, "bad Diffie-Hellman public value") \
            from None
    kdf = _choose_kdf(auth_pack["supported_kdfs"])
    if ctx.dh_keygen is not None:
        priv = ctx.dh_keygen(group)
    elif isinstance(group, kex.FFDHGroup):
        priv = kex.ffdh_generate(group)
    else:
        priv = kex.ecdh_generate(group)
    z = kex.shared_secret(priv, peer)
    key_info = KDCDHKeyInfo({
        "subject_public_key": kex.kdc_public_value(priv),
        "nonce": int(pk_auth["nonce"]),
    })
    dh_rep: dict[str, object] = {
        "dh_signed_data": sign_content(identity, ID_PKINIT_DHKEYDATA, key_info.dump())
    }
    if kdf is not None:
        dh_rep["kdf"] = {"kdf_id": kdf}
    rep = PAPKAsRep(name="dh_info", value=DHRepInfo(dh_rep))
    rep_der = rep.dump()
    body = req["req_body"]
    client = to_principal(body["cname"], body["realm"].native)
    key = kex.reply_key(
        enctype, z, kdf_oid=kdf, client=client, kdc=Principal.krbtgt(ctx.realm),
        as_req_der=raw, pk_as_rep_der=rep_der,
    )
    return PkinitReply(key, rep_der)


def _choose_kdf(offered: core.Asn1Value) -> str | None:
    """RFC 8636 §3: None (octetstring2key) when the client sent no supportedKDFs."""
    if isinstance(offered, core.Void):
        return None
    dotted = {item["kdf_id"].dotted for item in offered}
    for oid in KDF_PREFERENCE:
        if oid in dotted:
            return oid
    raise KDCError(ErrorCode.KDC_ERR_NO_ACCEPTABLE_KDF, "no acceptable KDF")


def pkinit_kx(contribution: crypto.Key, reply_key: crypto.Key, rand: RandomBytes) -> bytes:
    """PA-PKINIT-KX: EncryptedData of the DER EncryptionKey of the KDC contribution key, under
    the reply key with key usage 44 (seed §6, K6)."""
    plain = EncryptionKey({"keytype": contribution.enctype,
                           "keyvalue": contribution.contents}).dump()
    cipher = crypto.encrypt(reply_key, KeyUsage.PA_PKINIT_KX, plain, confounder=rand(16))
    return EncryptedData({"etype": reply_key.enctype, "cipher": cipher}).dump()


def sign_content(identity: PkinitIdentity, content_type: str, content: bytes) -> bytes:
    """DER ContentInfo(SignedData) over ``content`` signed by the KDC key (RFC 4556 §3.2.3.1;
    :func:`gssmech.krb5.pkinit.cms.sign_signed_data`), the KDC certificate included."""
    try:
        return sign_signed_data(content_type, content, identity.private_key, identity.cert_der,
                                extra_certs=identity.chain_der)
    except PKINITError as exc:
        raise KDCError(ErrorCode.KRB_ERR_GENERIC, f"KDC PKINIT key: {exc}") from None


__all__ = ["KDF_PREFERENCE", "PkinitReply", "anonymous_reply", "pkinit_kx", "sign_content"]
