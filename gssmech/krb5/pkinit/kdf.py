"""PKINIT reply-key derivation: RFC 4556 §3.2.3.1 octetstring2key and the RFC 8636 §8 KDF
(SP 800-56A concatenation KDF over OtherInfo).  Sans-I/O; shared by the client and the KDC."""

from __future__ import annotations

import functools
import hashlib

from asn1crypto import core

from gssmech.krb5.asn1 import derwrite
from gssmech.krb5.asn1.pkinit import (
    ID_PKINIT_KDF_AH_SHA1,
    ID_PKINIT_KDF_AH_SHA256,
    ID_PKINIT_KDF_AH_SHA384,
    ID_PKINIT_KDF_AH_SHA512,
)
from gssmech.krb5.constants import ANONYMOUS_REALM, NameType
from gssmech.krb5.crypto import Key, get_profile, random_to_key
from gssmech.krb5.pkinit.errors import KexError, UnsupportedGroupError
from gssmech.krb5.principal import Principal


def octetstring2key(enctype: int, x: bytes) -> Key:
    """RFC 4556 §3.2.3.1: random-to-key(K-truncate(SHA1(0x00|x) | SHA1(0x01|x) | ...)), K =
    the enctype's key-generation seed length; x = DHSharedSecret | n_c | n_k."""
    k = get_profile(enctype).seedsize
    out = bytearray()
    counter = 0
    while len(out) < k:
        out += hashlib.sha1(bytes([counter & 0xFF]) + x).digest()
        counter += 1
    return random_to_key(enctype, bytes(out[:k]))


KDF_HASHES: dict[str, str] = {
    ID_PKINIT_KDF_AH_SHA1: "sha1",
    ID_PKINIT_KDF_AH_SHA256: "sha256",
    ID_PKINIT_KDF_AH_SHA384: "sha384",
    ID_PKINIT_KDF_AH_SHA512: "sha512",
}


class _AlgId(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _OtherInfo(core.Sequence):
    """RFC 8636 §8 OtherInfo (SP 800-56A §5.8.1), explicit tags as MIT encodes it."""

    _fields = [
        ("algorithm_id", _AlgId),
        ("party_u_info", core.OctetString, {"explicit": 0}),
        ("party_v_info", core.OctetString, {"explicit": 1}),
        ("supp_pub_info", core.OctetString, {"explicit": 2, "optional": True}),
        ("supp_priv_info", core.OctetString, {"explicit": 3, "optional": True}),
    ]


class _PkinitSuppPubInfo(core.Sequence):
    """RFC 8636 §8: PkinitSuppPubInfo ::= SEQUENCE { enctype [0] Int32, as-REQ [1] OCTET
    STRING, pk-as-rep [2] OCTET STRING, ... }."""

    _fields = [
        ("enctype", core.Integer, {"explicit": 0}),
        ("as_req", core.OctetString, {"explicit": 1}),
        ("pk_as_rep", core.OctetString, {"explicit": 2}),
    ]


def party_info_der(principal: Principal) -> bytes:
    """DER KRB5PrincipalName for partyUInfo/partyVInfo (RFC 8636 §8).

    NB(mit): for an anonymous client MIT substitutes WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS
    (NT-WELLKNOWN) whatever realm the request named (pkinit_alg_agility_kdf); so do we.
    """
    if principal.is_anonymous_name:
        principal = Principal(NameType.WELLKNOWN, principal.components, ANONYMOUS_REALM)
    # derwrite, not the KRB5PrincipalName schema: the KDC does this twice per PKINIT reply.
    return derwrite.fields(
        (0, derwrite.kerberos_string(principal.realm)),
        (1, derwrite.principal_name(principal.name_type, principal.components)),
    )


@functools.lru_cache(maxsize=8)
def _algorithm_id(oid: str) -> bytes:
    return _AlgId({"algorithm": oid}).dump()


def kdf_8636(
    kdf_oid: str,
    z: bytes,
    enctype: int,
    client_princ_der: bytes,
    kdc_princ_der: bytes,
    as_req_der: bytes,
    pk_as_rep_der: bytes,
) -> Key:
    """RFC 8636 §8 KDF: concatenation KDF Hash(counter | Z | OtherInfo), counter from 1,
    truncated to the enctype's seed length, then random-to-key."""
    try:
        hname = KDF_HASHES[kdf_oid]
    except KeyError:
        raise UnsupportedGroupError(f"KDF {kdf_oid} not supported", source="kdf") from None
    # _PkinitSuppPubInfo and _OtherInfo, written with derwrite (tests compare the schemas).
    supp = derwrite.fields((0, derwrite.integer(enctype)), (1, derwrite.octets(as_req_der)),
                           (2, derwrite.octets(pk_as_rep_der)))
    other = derwrite.seq(
        _algorithm_id(kdf_oid),
        derwrite.ctx(0, derwrite.octets(client_princ_der)),
        derwrite.ctx(1, derwrite.octets(kdc_princ_der)),
        derwrite.ctx(2, derwrite.octets(supp)),
    )
    k = get_profile(enctype).seedsize
    out = bytearray()
    counter = 1
    while len(out) < k:
        out += hashlib.new(hname, counter.to_bytes(4, "big") + z + other).digest()
        counter += 1
    return random_to_key(enctype, bytes(out[:k]))


def reply_key(
    enctype: int,
    z: bytes,
    *,
    kdf_oid: str | None = None,
    client_dh_nonce: bytes = b"",
    server_dh_nonce: bytes = b"",
    client: Principal | None = None,
    kdc: Principal | None = None,
    as_req_der: bytes = b"",
    pk_as_rep_der: bytes = b"",
) -> Key:
    """The AS reply key: the RFC 8636 KDF when the KDC chose one (DHRepInfo.kdf), else
    RFC 4556 §3.2.3.1 octetstring2key(Z | n_c | n_k)."""
    if kdf_oid is None:
        return octetstring2key(enctype, z + client_dh_nonce + server_dh_nonce)
    if client is None or kdc is None:
        raise KexError("the RFC 8636 KDF needs the client and KDC principals", source="kdf")
    return kdf_8636(
        kdf_oid, z, enctype, party_info_der(client), party_info_der(kdc), as_req_der,
        pk_as_rep_der,
    )
