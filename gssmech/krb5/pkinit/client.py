"""Anonymous PKINIT, client side (RFC 8062 §4.1 = draft-ietf-krb-wg-anon-08 §4.1; RFC 4556).

:class:`AnonymousPKINIT` builds the PA-PK-AS-REQ (unsigned AuthPack, C2/C3) and turns the
KDC's PA-PK-AS-REP into the reply key after verifying the KDC's signature and certificate (C6);
:meth:`AnonymousPKINIT.check_kdc_contribution` is the PA-PKINIT-KX check (C7).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from asn1crypto import keys
from cryptography import x509

from gssmech.errors import CryptoError, DecodeError, IntegrityError
from gssmech.krb5.asn1 import EncryptionKey, decode
from gssmech.krb5.asn1.krb import KDCRep
from gssmech.krb5.asn1.numbers import KeyUsage, PaDataType
from gssmech.krb5.asn1.padata import find_padata
from gssmech.krb5.asn1.pkinit import (
    ID_PKINIT_AUTHDATA,
    ID_PKINIT_DHKEYDATA,
    ID_PKINIT_KDF_AH_SHA1,
    ID_PKINIT_KDF_AH_SHA256,
    ID_PKINIT_KDF_AH_SHA512,
    PAPKINITKX,
    AuthPack,
    KDCDHKeyInfo,
    PAPKAsRep,
    PAPKAsReq,
)
from gssmech.krb5.constants import RFC8062, AnonProfile
from gssmech.krb5.crypto import Key, cf2, decrypt
from gssmech.krb5.pkinit import kex
from gssmech.krb5.pkinit.cms import (
    check_kdc_certificate,
    decode_content_info,
    is_unsigned,
    unsigned_signed_data,
    verify_signed_data,
)
from gssmech.krb5.pkinit.errors import PKINITError
from gssmech.krb5.principal import Principal

#: RFC 8636 §3: our preference order, as MIT sends it.
DEFAULT_KDFS = (ID_PKINIT_KDF_AH_SHA256, ID_PKINIT_KDF_AH_SHA1, ID_PKINIT_KDF_AH_SHA512)


@dataclass(slots=True)
class AnonymousPKINIT:
    """One anonymous PKINIT attempt.  ``private_key`` injects the DH/ECDH key (tests, bench);
    ``kdc_hostnames`` are pkinit_kdc_hostname values (dNSName match, RFC 4556 §3.2.4)."""

    realm: str
    anchors: Sequence[x509.Certificate]
    group: kex.FFDHGroup | kex.ECDHCurve = kex.MODP14
    private_key: kex.PrivateKey | None = None
    kdc_hostnames: Sequence[str] = ()
    profile: AnonProfile = RFC8062
    client_dh_nonce: bytes | None = None
    supported_kdfs: Sequence[str] = DEFAULT_KDFS
    require_eku: bool = True
    #: set by build_padata: the pkAuthenticator nonce the KDC must echo in KDCDHKeyInfo
    _nonce: int = field(default=-1, init=False)
    #: the verified KDC certificate, after reply_key()
    kdc_certificate: x509.Certificate | None = field(default=None, init=False)

    def key(self) -> kex.PrivateKey:
        if self.private_key is None:
            if isinstance(self.group, kex.FFDHGroup):
                self.private_key = kex.ffdh_generate(self.group)
            else:
                self.private_key = kex.ecdh_generate(self.group)
        return self.private_key

    def build_padata(
        self,
        req_body_der: bytes,
        *,
        ctime: datetime.datetime,
        cusec: int,
        nonce: int,
        freshness_token: bytes | None = None,
    ) -> bytes:
        """PA-PK-AS-REQ value (RFC 4556 §3.2.1): AuthPack{pkAuthenticator{cusec, ctime, nonce,
        paChecksum = SHA-1(KDC-REQ-BODY)}, clientPublicValue, supportedKDFs} in a SignedData
        with no signers and no certificates (RFC 8062 §4.1; C2, C3)."""
        self._nonce = nonce
        authenticator: dict[str, object] = {
            "cusec": cusec,
            "ctime": ctime,
            "nonce": nonce,
            "pa_checksum": hashlib.sha1(req_body_der).digest(),
        }
        if freshness_token is not None:
            authenticator["freshness_token"] = freshness_token  # RFC 8070 §4
        pack: dict[str, object] = {
            "pk_authenticator": authenticator,
            "client_public_value": decode_spki(kex.client_public_value(self.key())),
            "supported_kdfs": [{"kdf_id": k} for k in self.supported_kdfs],
        }
        if self.client_dh_nonce is not None:
            pack["client_dh_nonce"] = self.client_dh_nonce
        signed = unsigned_signed_data(ID_PKINIT_AUTHDATA, AuthPack(pack).dump())
        return PAPKAsReq({"signed_auth_pack": signed}).dump()

    def reply_key(
        self,
        rep: KDCRep,
        *,
        as_req_der: bytes,
        client: Principal,
        kdc: Principal,
        now: datetime.datetime,
    ) -> Key:
        """Verify PA-PK-AS-REP dhInfo and derive the reply key (RFC 4556 §3.2.3.1, §3.2.4;
        RFC 8636 §8 when the KDC names a KDF)."""
        pa = find_padata(rep["padata"], PaDataType.PA_PK_AS_REP)
        if pa is None:
            raise PKINITError("KDC reply has no PA-PK-AS-REP")
        pk_as_rep_der = bytes(pa["padata_value"].native)
        pk_rep = decode(PAPKAsRep, pk_as_rep_der, what="PA-PK-AS-REP")
        if pk_rep.name != "dh_info":
            raise PKINITError("KDC used RSA key transport; anonymous PKINIT needs DH")
        dh_info = pk_rep.chosen
        info = decode_content_info(bytes(dh_info["dh_signed_data"].native), "dhSignedData")
        if is_unsigned(info):
            # RFC 8062 §4.1: an unsigned reply is only acceptable when the KDC is otherwise
            # authenticated (e.g. by a FAST armor); we have no such channel, so refuse.
            raise PKINITError("the KDC's PKINIT reply is unsigned and the KDC is not otherwise "
                              "authenticated")
        content, signer = verify_signed_data(info, ID_PKINIT_DHKEYDATA, self.anchors, now)
        check_kdc_certificate(
            signer, self.realm, kdc_hostnames=self.kdc_hostnames, require_eku=self.require_eku
        )
        self.kdc_certificate = signer
        key_info = decode(KDCDHKeyInfo, content, what="KDCDHKeyInfo")
        if key_info["nonce"].native != self._nonce:
            raise PKINITError("KDCDHKeyInfo nonce does not match the pkAuthenticator nonce")
        expiry = key_info["dh_key_expiration"].native
        if expiry is not None and expiry < now:
            raise PKINITError("the KDC's DH key has expired")
        peer = kex.parse_kdc_public_value(self.group, bytes(key_info["subject_public_key"]))
        z = kex.shared_secret(self.key(), peer)
        kdf = None if dh_info["kdf"].native is None else dh_info["kdf"]["kdf_id"].dotted
        if kdf is not None and kdf not in self.supported_kdfs:
            raise PKINITError(f"KDC chose KDF {kdf}, which we did not offer")
        server_nonce = dh_info["server_dh_nonce"].native
        return kex.reply_key(
            rep["enc_part"]["etype"].native,
            z,
            kdf_oid=kdf,
            client_dh_nonce=self.client_dh_nonce or b"",
            server_dh_nonce=bytes(server_nonce or b""),
            client=client,
            kdc=kdc,
            as_req_der=as_req_der,
            pk_as_rep_der=pk_as_rep_der,
        )

    def check_kdc_contribution(self, rep: KDCRep, reply_key: Key, session_key: Key) -> None:
        """C7 (RFC 8062 §7, draft-08 §4.1): decrypt PA-PKINIT-KX with the reply key (usage 44)
        to get the KDC's contribution key; the ticket session key must equal
        KRB-FX-CF2(contribution, reply key, pepper1, pepper2).  Absent or wrong: refuse."""
        pa = find_padata(rep["padata"], self.profile.pa_pkinit_kx)
        if pa is None:
            raise PKINITError(
                f"KDC reply lacks PA-PKINIT-KX ({self.profile.pa_pkinit_kx}): the KDC did not "
                "prove it contributed to the session key"
            )
        try:
            enc = decode(PAPKINITKX, bytes(pa["padata_value"].native), what="PA-PKINIT-KX")
            if enc["etype"].native != reply_key.enctype:
                raise PKINITError("PA-PKINIT-KX is not encrypted in the reply key's enctype")
            plain = decrypt(reply_key, KeyUsage.PA_PKINIT_KX, enc["cipher"].native)
            ek = decode_encryption_key(plain)
        except (DecodeError, IntegrityError) as exc:
            raise PKINITError(f"PA-PKINIT-KX unusable: {exc}") from None
        expected = cf2(ek, reply_key, self.profile.pepper1, self.profile.pepper2)
        if expected.enctype != session_key.enctype or expected.contents != session_key.contents:
            raise PKINITError(
                "ticket session key is not KRB-FX-CF2(KDC contribution, reply key): refused"
            )


def decode_spki(der: bytes) -> keys.PublicKeyInfo:
    return keys.PublicKeyInfo.load(der)


def decode_encryption_key(plain: bytes) -> Key:
    ek = decode(EncryptionKey, plain, what="PA-PKINIT-KX key")
    try:
        return Key(ek["keytype"].native, ek["keyvalue"].native)
    except CryptoError as exc:
        raise DecodeError(f"bad contribution key: {exc}", source="PA-PKINIT-KX") from None
