"""The KDC half of anonymous PKINIT (RFC 4556 §3.2, seed §4.1 and §6): K3, K4, K6, K7."""

from __future__ import annotations

import pytest
from asn1crypto import core, keys

from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    ID_PKINIT_KDF_AH_SHA1,
    ID_PKINIT_KDF_AH_SHA256,
    ID_PKINIT_KDF_AH_SHA512,
    AuthDataType,
    ErrorCode,
    walk_authdata,
)
from gssmech.krb5.constants import ANONYMOUS_REALM, DRAFT08, TicketFlag
from gssmech.krb5.pkinit import kex
from tests.test_kdc_testlib import (
    NOW,
    REALM,
    TGS,
    anon_pkinit_req,
    error_code,
    finish_pkinit,
    make_db,
    make_kdc,
    open_ticket,
    session_key_of,
)


def test_k3_k4_k6_k7_anonymous_pkinit_modp14_sha256() -> None:
    db = make_db()
    kdc = make_kdc(db=db)
    req = anon_pkinit_req()
    res = finish_pkinit(req, kdc.handle(req.der, now=NOW))  # signature verified inside
    assert res.kdf == ID_PKINIT_KDF_AH_SHA256
    rep, enc = res.rep, res.enc_part
    # K4: crealm is the anonymous realm, sname the TGS
    assert rep["crealm"].native == ANONYMOUS_REALM
    assert rep["cname"]["name_string"].native == ["WELLKNOWN", "ANONYMOUS"]
    assert enc["sname"]["name_string"].native == ["krbtgt", REALM]
    assert enc["flags"].to_int() & TicketFlag.ANONYMOUS
    # K6: session key = KRB-FX-CF2(contribution key, reply key, "PKINIT", "KEYEXCHANGE")
    assert res.contribution is not None
    expected = crypto.cf2(res.contribution, res.reply_key, b"PKINIT", b"KEYEXCHANGE")
    assert session_key_of(enc) == expected
    assert res.contribution != res.reply_key
    # K7: the ticket names nobody and carries nothing about the client
    tkt = open_ticket(rep["ticket"], db, TGS)
    assert tkt["cname"].native == rep["cname"].native
    assert tkt["crealm"].native == ANONYMOUS_REALM
    assert tkt["flags"].to_int() & TicketFlag.ANONYMOUS
    assert tkt["caddr"].native is None
    leaves = list(walk_authdata(None if isinstance(tkt["authorization_data"], core.Void)
                                else tkt["authorization_data"]))
    assert AuthDataType.AD_INITIAL_VERIFIED_CAS not in [leaf.ad_type for leaf in leaves]
    assert session_key_of(tkt) == expected


def test_contribution_key_is_fresh_per_request() -> None:
    kdc = make_kdc()
    a = anon_pkinit_req()
    b = anon_pkinit_req()
    ka = finish_pkinit(a, kdc.handle(a.der, now=NOW)).contribution
    kb = finish_pkinit(b, kdc.handle(b.der, now=NOW)).contribution
    assert ka != kb


def test_octetstring2key_without_supported_kdfs() -> None:
    kdc = make_kdc()
    req = anon_pkinit_req(kdfs=None)
    res = finish_pkinit(req, kdc.handle(req.der, now=NOW))
    assert res.kdf is None


@pytest.mark.parametrize("offered,chosen", [
    ((ID_PKINIT_KDF_AH_SHA1, ID_PKINIT_KDF_AH_SHA512, ID_PKINIT_KDF_AH_SHA256),
     ID_PKINIT_KDF_AH_SHA256),
    ((ID_PKINIT_KDF_AH_SHA1,), ID_PKINIT_KDF_AH_SHA1),
])
def test_kdf_choice_prefers_sha256(offered: tuple[str, ...], chosen: str) -> None:
    kdc = make_kdc()
    req = anon_pkinit_req(kdfs=offered)
    assert finish_pkinit(req, kdc.handle(req.der, now=NOW)).kdf == chosen


def test_no_acceptable_kdf() -> None:
    kdc = make_kdc()
    req = anon_pkinit_req(kdfs=("1.2.3.4",))
    assert error_code(kdc.handle(req.der, now=NOW)) == ErrorCode.KDC_ERR_NO_ACCEPTABLE_KDF


@pytest.mark.parametrize("group", [kex.CURVES["secp256r1"], kex.CURVES["secp384r1"],
                                   kex.MODP16])
def test_other_accepted_groups(group: object) -> None:
    kdc = make_kdc()
    req = anon_pkinit_req(group=group)
    res = finish_pkinit(req, kdc.handle(req.der, now=NOW))
    assert res.enc_part["flags"].to_int() & TicketFlag.ANONYMOUS


def test_k3_no_client_public_value() -> None:
    kdc = make_kdc()
    req = anon_pkinit_req(public_value=False)
    assert error_code(kdc.handle(req.der, now=NOW)) == \
        ErrorCode.KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED


def test_k3_dh_parameters_checked() -> None:
    """A group other than MODP 14/16 (here MODP 14's prime with generator 5) is refused."""
    kdc = make_kdc()
    g = kex.MODP14
    spki = keys.PublicKeyInfo({
        "algorithm": {"algorithm": "1.2.840.10046.2.1",
                      "parameters": keys.DomainParameters({"p": g.p, "g": 5, "q": g.q})},
        "public_key": core.Integer(pow(5, 12345, g.p)),
    }).dump()
    req = anon_pkinit_req(spki=spki)
    assert error_code(kdc.handle(req.der, now=NOW)) == \
        ErrorCode.KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED


def test_k3_degenerate_public_value_refused() -> None:
    kdc = make_kdc()
    g = kex.MODP14
    spki = keys.PublicKeyInfo({
        "algorithm": {"algorithm": "1.2.840.10046.2.1",
                      "parameters": keys.DomainParameters({"p": g.p, "g": g.g, "q": g.q})},
        "public_key": core.Integer(1),
    }).dump()
    req = anon_pkinit_req(spki=spki)
    assert error_code(kdc.handle(req.der, now=NOW)) == ErrorCode.KDC_ERR_PREAUTH_FAILED


def test_pa_checksum_verified() -> None:
    kdc = make_kdc()
    assert error_code(kdc.handle(anon_pkinit_req(checksum="bad").der, now=NOW)) == \
        ErrorCode.KRB_AP_ERR_MODIFIED
    assert error_code(kdc.handle(anon_pkinit_req(checksum="none").der, now=NOW)) == \
        ErrorCode.KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED


def test_pkauthenticator_clock_skew() -> None:
    kdc = make_kdc()
    req = anon_pkinit_req(now=NOW - 3600)
    assert error_code(kdc.handle(req.der, now=NOW)) == ErrorCode.KRB_AP_ERR_SKEW


def test_k1_pkinit_without_anonymous_option() -> None:
    kdc = make_kdc()
    req = anon_pkinit_req(options=set())
    assert error_code(kdc.handle(req.der, now=NOW)) == ErrorCode.KDC_ERR_BADOPTION


def test_k2_kdc_without_certificate() -> None:
    kdc = make_kdc(pkinit=False)
    req = anon_pkinit_req()
    assert error_code(kdc.handle(req.der, now=NOW)) == ErrorCode.KDC_ERR_NULL_KEY


def test_draft08_profile_kx_135_and_pepper() -> None:
    """Seed §6: PA_PKINIT_KX 135 and pepper2 "KeyExchange" under the draft-08 profile."""
    kdc = make_kdc(profile="draft-08")
    req = anon_pkinit_req(options={DRAFT08.anonymous_bit})
    res = finish_pkinit(req, kdc.handle(req.der, now=NOW), kx_type=135)
    assert res.contribution is not None
    assert session_key_of(res.enc_part) == crypto.cf2(res.contribution, res.reply_key,
                                                      b"PKINIT", b"KeyExchange")
    assert res.enc_part["flags"].is_set(14)


def test_signed_request_for_anonymous_principal_is_refused() -> None:
    """Seed §4.1: an anonymous client's SignedData has no signerInfos; one that is signed is not
    anonymous PKINIT (and certificate PKINIT is not offered): CLIENT_NOT_TRUSTED."""
    from asn1crypto import cms, x509

    from tests.test_kdc_testlib import pkinit_identity

    cert = x509.Certificate.load(pkinit_identity().cert_der)
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier(name="issuer_and_serial_number", value={
            "issuer": cert.issuer, "serial_number": cert.serial_number}),
        "digest_algorithm": {"algorithm": "sha256"},
        "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
        "signature": b"\x01" * 256,
    })
    kdc = make_kdc()
    req = anon_pkinit_req(signer_infos=[signer])
    assert error_code(kdc.handle(req.der, now=NOW)) == ErrorCode.KDC_ERR_CLIENT_NOT_TRUSTED
