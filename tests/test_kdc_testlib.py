"""Client-side helpers for the embedded-KDC tests: build raw AS/TGS requests (RFC 4120 §5.4.1),
anonymous PKINIT requests (RFC 4556 §3.2.1, seed §4.1) and open the replies.

Written independently of the KDC code (it only shares the ASN.1 classes, crypto and kex
primitives), so the KDC tests check the KDC against RFC structures, not against itself.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from asn1crypto import cms, core
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from gssmech.kdc.db import RealmDB
from gssmech.kdc.handler import KDC
from gssmech.kdc.policy import KDCSettings
from gssmech.kdc.realm import load_identity
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    ID_PKINIT_AUTHDATA,
    ID_PKINIT_KDF_AH_SHA256,
    APReq,
    ASRep,
    ASReq,
    Authenticator,
    AuthPack,
    EncryptedData,
    EncryptionKey,
    EncTicketPart,
    KDCOptions,
    KRBError,
    PAEncTSEnc,
    PAPKAsRep,
    PAPKAsReq,
    PKAuthenticator,
    TGSRep,
    TGSReq,
    decode,
    decode_enc_kdc_rep_part,
    find_padata,
    inner_der,
    kdc_dh_key_info_of,
    method_data,
    pa_data,
    peek_tag,
    principal_name,
)
from gssmech.krb5.certs import make_ca, make_kdc_cert
from gssmech.krb5.pkinit import kex
from gssmech.krb5.principal import Principal

REALM = "KDC.TEST"
PASSWORD = "pass-word-1"
USER = Principal.parse(f"user@{REALM}")
HOST = Principal.parse(f"host/localhost@{REALM}")
TGS = Principal.krbtgt(REALM)
ANON = Principal.anonymous(REALM)
AES256 = 18
NOW = 1_800_000_000.25

_IDENTITY_CACHE: dict[str, Any] = {}


def pkinit_identity(tmp_dir: Any = None) -> Any:
    """A KDC PKINIT identity (made once per session: RSA key generation is slow)."""
    if "id" not in _IDENTITY_CACHE:
        import tempfile
        from pathlib import Path

        d = Path(tempfile.mkdtemp())
        ca = make_ca("test CA")
        kdc = make_kdc_cert(ca, REALM)
        (d / "kdc.pem").write_bytes(kdc.cert_pem)
        (d / "kdc-key.pem").write_bytes(kdc.key_pem)
        _IDENTITY_CACHE["id"] = load_identity(d)
        _IDENTITY_CACHE["ca"] = ca
    return _IDENTITY_CACHE["id"]


def make_db() -> RealmDB:
    db = RealmDB(REALM, crypto.random_key(AES256))
    db.add_principal(TGS)
    db.add_principal(ANON)
    db.add_principal(USER, password=PASSWORD)
    db.add_principal(HOST)
    return db


def make_kdc(*, pkinit: bool = True, db: RealmDB | None = None, **settings: Any) -> KDC:
    s = KDCSettings(realm=REALM, **settings)
    return KDC(db or make_db(), s, pkinit=pkinit_identity() if pkinit else None,
               log=logging.getLogger("gssmech.kdc"))


def with_settings(kdc: KDC, **changes: Any) -> KDC:
    kdc.ctx = replace(kdc.ctx, settings=replace(kdc.ctx.settings, **changes))
    return kdc


def pname(p: Principal) -> Any:
    return principal_name(p.name_type, p.components)


def body(cname: Principal | None, sname: Principal, *, options: set | int = frozenset(),
         etypes: tuple[int, ...] = (AES256, 17), now: float = NOW, till: int | None = None,
         rtime: int | None = None, nonce: int = 12345, realm: str = REALM,
         addresses: list | None = None, enc_authdata: Any = None) -> dict:
    b: dict[str, Any] = {
        "kdc_options": KDCOptions(set(options)) if not isinstance(options, int)
        else KDCOptions(options),
        "realm": realm, "sname": pname(sname),
        "till": till if till is not None else int(now) + 86400, "nonce": nonce,
        "etype": list(etypes),
    }
    if cname is not None:
        b["cname"] = pname(cname)
    if rtime is not None:
        b["rtime"] = rtime
    if addresses is not None:
        b["addresses"] = addresses
    if enc_authdata is not None:
        b["enc_authorization_data"] = enc_authdata
    return b


def as_req(cname: Principal, sname: Principal = TGS, padata: list | None = None,
           **kw: Any) -> bytes:
    req: dict[str, Any] = {"pvno": 5, "msg_type": 10, "req_body": body(cname, sname, **kw)}
    if padata:
        req["padata"] = method_data(padata)
    return ASReq(req).dump()


def user_key(etype: int = AES256) -> crypto.Key:
    return crypto.string_to_key(etype, PASSWORD, REALM + "user")


def enc_ts(key: crypto.Key, now: float = NOW) -> Any:
    ts = PAEncTSEnc({"patimestamp": int(now), "pausec": 0}).dump()
    enc = EncryptedData({"etype": key.enctype, "cipher": crypto.encrypt(key, 1, ts)})
    return pa_data(2, enc)


def parse_reply(data: bytes | None) -> Any:
    assert data is not None
    tag = peek_tag(data)
    if tag == (1, 1, 30):
        return decode(KRBError, data)
    if tag == (1, 1, 11):
        return decode(ASRep, data)
    if tag == (1, 1, 13):
        return decode(TGSRep, data)
    raise AssertionError(f"unexpected reply tag {tag}")


def error_code(data: bytes | None) -> int:
    rep = parse_reply(data)
    assert isinstance(rep, KRBError), f"expected KRB-ERROR, got {type(rep).__name__}"
    return int(rep["error_code"])


def open_enc_part(rep: Any, key: crypto.Key, usage: int) -> Any:
    return decode_enc_kdc_rep_part(crypto.decrypt(key, usage,
                                                  bytes(rep["enc_part"]["cipher"].native)))


def open_ticket(ticket: Any, db: RealmDB, service: Principal) -> Any:
    entry = db.lookup(service)
    assert entry is not None
    enc = ticket["enc_part"]
    key = entry.key_for(int(enc["etype"]), int(enc["kvno"]))
    assert key is not None
    return decode(EncTicketPart, crypto.decrypt(key.key, 2, bytes(enc["cipher"].native)))


def session_key_of(enc_part: Any) -> crypto.Key:
    return crypto.Key(int(enc_part["key"]["keytype"]), bytes(enc_part["key"]["keyvalue"].native))


@dataclass
class Creds:
    ticket: Any
    session: crypto.Key
    cname: Any
    crealm: str


def password_tgt(kdc: KDC, *, options: set | int = frozenset(), now: float = NOW) -> Creds:
    rep = parse_reply(kdc.handle(as_req(USER, padata=[enc_ts(user_key(), now)],
                                        options=options, now=now), now=now))
    assert isinstance(rep, ASRep), rep.native
    enc = open_enc_part(rep, user_key(), 3)
    return Creds(rep["ticket"], session_key_of(enc), rep["cname"], rep["crealm"].native)


def forge_tgt(db: RealmDB, *, cname: Principal, crealm: str, flags: set, authdata: list | None
              = None, transited: bytes = b"", now: float = NOW) -> Creds:
    """A TGT sealed with the krbtgt key directly (to feed the TGS unusual contents)."""
    from gssmech.krb5.asn1 import Ticket

    session = crypto.random_key(AES256)
    enc: dict[str, Any] = {
        "flags": set(flags), "key": {"keytype": AES256, "keyvalue": session.contents},
        "crealm": crealm, "cname": pname(cname),
        "transited": {"tr_type": 1, "contents": transited},
        "authtime": int(now), "endtime": int(now) + 3600,
    }
    if authdata is not None:
        enc["authorization_data"] = authdata
    from gssmech.krb5.asn1 import TicketFlags

    enc["flags"] = TicketFlags(set(flags))
    key = db.lookup(TGS).key_for(AES256)
    ticket = Ticket({"tkt_vno": 5, "realm": REALM, "sname": pname(TGS), "enc_part": {
        "etype": AES256, "kvno": key.kvno,
        "cipher": crypto.encrypt(key.key, 2, EncTicketPart(enc).dump())}})
    return Creds(ticket, session, pname(cname), crealm)


def tgs_req(creds: Creds, sname: Principal, *, now: float = NOW, subkey: crypto.Key | None =
            None, bad_checksum: bool = False, auth_key: crypto.Key | None = None,
            **kw: Any) -> bytes:
    b = body(None, sname, now=now, **kw)
    req_body = TGSReq({"pvno": 5, "msg_type": 12, "req_body": b})["req_body"]
    body_der = inner_der(req_body)
    cksum = crypto.make_checksum(creds.session, 6, body_der + (b"x" if bad_checksum else b""))
    auth: dict[str, Any] = {
        "authenticator_vno": 5, "crealm": creds.crealm, "cname": creds.cname,
        "cksum": {"cksumtype": creds.session.profile.cksumtype, "checksum": cksum},
        "cusec": 0, "ctime": int(now),
    }
    if subkey is not None:
        auth["subkey"] = {"keytype": subkey.enctype, "keyvalue": subkey.contents}
    auth_der = Authenticator(auth).dump()
    ap = APReq({
        "pvno": 5, "msg_type": 14, "ap_options": set(), "ticket": creds.ticket,
        "authenticator": {"etype": AES256, "cipher": crypto.encrypt(
            auth_key or creds.session, 7, auth_der)},
    })
    return TGSReq({"pvno": 5, "msg_type": 12, "padata": method_data([pa_data(1, ap)]),
                   "req_body": b}).dump()


# --- anonymous PKINIT, client side (RFC 4556 §3.2.1, seed §4.1) ---------------------------------


@dataclass
class PkinitRequest:
    der: bytes
    priv: Any
    group: Any
    kdfs: tuple[str, ...]


def anon_pkinit_req(*, now: float = NOW, group: Any = kex.MODP14,
                    kdfs: tuple[str, ...] | None = (ID_PKINIT_KDF_AH_SHA256,),
                    public_value: bool = True, checksum: str = "good",
                    spki: bytes | None = None, options: set | int | None = None,
                    etypes: tuple[int, ...] = (AES256, 17), signer_infos: list | None = None
                    ) -> PkinitRequest:
    from gssmech.krb5.constants import RFC8062

    opts = options if options is not None else {RFC8062.anonymous_bit}
    b = body(ANON, TGS, options=opts, now=now, etypes=etypes)
    req_body = ASReq({"pvno": 5, "msg_type": 10, "req_body": b})["req_body"]
    pa_cksum = hashlib.sha1(inner_der(req_body)).digest()
    priv = kex.ffdh_generate(group) if isinstance(group, kex.FFDHGroup) \
        else kex.ecdh_generate(group)
    pk_auth: dict[str, Any] = {"cusec": 0, "ctime": int(now), "nonce": 777}
    if checksum == "good":
        pk_auth["pa_checksum"] = pa_cksum
    elif checksum == "bad":
        pk_auth["pa_checksum"] = b"\0" * 20
    pack: dict[str, Any] = {"pk_authenticator": PKAuthenticator(pk_auth)}
    if public_value:
        from asn1crypto import keys

        pack["client_public_value"] = keys.PublicKeyInfo.load(
            spki if spki is not None else kex.client_public_value(priv))
    if kdfs is not None:
        pack["supported_kdfs"] = [{"kdf_id": k} for k in kdfs]
    auth_pack = AuthPack(pack).dump()
    signed = cms.SignedData({
        "version": "v3", "digest_algorithms": [],
        "encap_content_info": {"content_type": ID_PKINIT_AUTHDATA,
                               "content": core.ParsableOctetString(auth_pack)},
        "signer_infos": signer_infos or [],
    })
    info = cms.ContentInfo({"content_type": "signed_data", "content": signed})
    pa = PAPKAsReq({"signed_auth_pack": info.dump()})
    der = ASReq({"pvno": 5, "msg_type": 10, "padata": method_data([pa_data(16, pa)]),
                 "req_body": b}).dump()
    return PkinitRequest(der, priv, group, tuple(kdfs or ()))


@dataclass
class PkinitResult:
    rep: ASRep
    reply_key: crypto.Key
    enc_part: Any
    contribution: crypto.Key | None
    signed: cms.ContentInfo
    kdf: str | None


def finish_pkinit(req: PkinitRequest, reply: bytes | None, *, kx_type: int = 147) -> PkinitResult:
    """Client processing of the reply: verify the KDC signature with its certificate, derive
    the reply key, open the enc-part and PA_PKINIT_KX."""
    rep = parse_reply(reply)
    assert isinstance(rep, ASRep), rep.native
    pa = find_padata(rep["padata"], 17)
    assert pa is not None
    pa_der = bytes(pa["padata_value"].native)
    pk_rep = decode(PAPKAsRep, pa_der)
    dh_info = pk_rep.chosen
    info, key_info = kdc_dh_key_info_of(dh_info)
    verify_signed_data(info)
    peer = kex.parse_kdc_public_value(req.group, bytes(key_info["subject_public_key"]))
    z = kex.shared_secret(req.priv, peer)
    kdf = None if isinstance(dh_info["kdf"], core.Void) else dh_info["kdf"]["kdf_id"].dotted
    etype = int(rep["enc_part"]["etype"])
    reply_key = kex.reply_key(etype, z, kdf_oid=kdf, client=ANON, kdc=TGS,
                              as_req_der=req.der, pk_as_rep_der=pa_der)
    enc = open_enc_part(rep, reply_key, 3)
    kx = find_padata(rep["padata"], kx_type)
    contribution = None
    if kx is not None:
        ed = decode(EncryptedData, bytes(kx["padata_value"].native))
        ek = decode(EncryptionKey, crypto.decrypt(reply_key, 44, bytes(ed["cipher"].native)))
        contribution = crypto.Key(int(ek["keytype"]), bytes(ek["keyvalue"].native))
    return PkinitResult(rep, reply_key, enc, contribution, info, kdf)


def verify_signed_data(info: cms.ContentInfo) -> None:
    """RFC 5652 §5.6 verification with the embedded certificate (chain to the test CA)."""
    signed = info["content"]
    certs = list(signed["certificates"])
    assert certs, "KDC certificate must be included"
    cert = cx509.load_der_x509_certificate(certs[0].chosen.dump())
    ca = cx509.load_pem_x509_certificate(_IDENTITY_CACHE["ca"].cert_pem)
    cert.verify_directly_issued_by(ca)
    (signer,) = list(signed["signer_infos"])
    attrs = signer["signed_attrs"]
    content = bytes(signed["encap_content_info"]["content"])
    digest = {a["type"].native: a["values"][0].native for a in attrs}
    assert digest["message_digest"] == hashlib.sha256(content).digest()
    assert digest["content_type"] == "1.3.6.1.5.2.3.2"
    cert.public_key().verify(bytes(signer["signature"]), b"\x31" + attrs.dump()[1:],
                             padding.PKCS1v15(), hashes.SHA256())


def test_helpers_build_decodable_requests() -> None:
    """The helpers' own requests are strict-decodable AS/TGS requests."""
    decode(ASReq, as_req(USER))
    decode(ASReq, anon_pkinit_req().der)
    kdc = make_kdc(pkinit=False)
    creds = password_tgt(kdc, now=time.time())
    decode(TGSReq, tgs_req(creds, HOST, now=time.time()))
