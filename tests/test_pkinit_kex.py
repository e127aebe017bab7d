"""PKINIT key agreement (pkinit.kex): RFC 3526 groups, RFC 5349 curves, RFC 8636 KDF."""

from __future__ import annotations

import hashlib
import random

import pytest
from asn1crypto import core, keys
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.errors import DecodeError
from gssmech.krb5.asn1.pkinit import (
    ID_PKINIT_KDF_AH_SHA1,
    ID_PKINIT_KDF_AH_SHA256,
    ID_PKINIT_KDF_AH_SHA512,
    KRB5PrincipalName,
)
from gssmech.krb5.constants import ANONYMOUS_REALM, NameType
from gssmech.krb5.pkinit import kdf, kex
from gssmech.krb5.principal import Principal

# RFC 3526 §3 / §5, the printed hex: first and last 128 bits of each prime.
MODP14_HEAD = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
MODP14_TAIL = "15728E5A8AACAA68FFFFFFFFFFFFFFFF"
MODP16_HEAD = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
MODP16_TAIL = "4DF435C934063199FFFFFFFFFFFFFFFF"


def _miller_rabin(n: int, rounds: int = 8) -> bool:
    if n % 2 == 0:
        return n == 2
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    rng = random.Random(6112)
    for _ in range(rounds):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


@pytest.mark.parametrize(
    ("group", "bits", "head", "tail"),
    [(kex.MODP14, 2048, MODP14_HEAD, MODP14_TAIL), (kex.MODP16, 4096, MODP16_HEAD, MODP16_TAIL)],
)
def test_modp_group_matches_rfc3526(group: kex.FFDHGroup, bits: int, head: str, tail: str) -> None:
    text = f"{group.p:X}"
    assert group.p.bit_length() == bits
    assert text.startswith(head) and text.endswith(tail)
    assert group.g == 2 and group.q == (group.p - 1) // 2
    assert group.size == bits // 8


def test_modp14_is_a_safe_prime() -> None:
    assert _miller_rabin(kex.MODP14.p) and _miller_rabin(kex.MODP14.q)


def test_pi_digits() -> None:
    # floor(2**64 * pi) = 0x3243F6A8885A308D3 (pi = 3.243F6A8885A308D3... in hex)
    assert kex.pi_floor(64) == 0x3243F6A8885A308D3


def test_a_composite_fails_miller_rabin() -> None:
    assert not _miller_rabin(kex.MODP14.p + 2)


# --- RFC 8636 Appendix A test vectors (also MIT's pkinit_kdf_test.c) ---------------------------
_U = kex.party_info_der(Principal(NameType.PRINCIPAL, ("lha",), "SU.SE"))
_V = kex.party_info_der(Principal(NameType.PRINCIPAL, ("krbtgt", "SU.SE"), "SU.SE"))


@pytest.mark.parametrize(
    ("oid", "expected"),
    [
        (ID_PKINIT_KDF_AH_SHA1, "e6ab38c9413e035bb079201ed0b6b73d8d49a814a737c04ee6649614206f73ad"),
        (
            ID_PKINIT_KDF_AH_SHA256,
            "77ef4e48c420ae3fec75109d7981697eed5d295c90c62564f7bfd101fa9bc1d5",
        ),
    ],
)
def test_kdf_8636_appendix_a(oid: str, expected: str) -> None:
    key = kex.kdf_8636(oid, bytes(256), 18, _U, _V, b"\xaa" * 10, b"\xbb" * 9)
    assert key.enctype == 18 and key.contents.hex() == expected


def test_kdf_8636_depends_on_every_input() -> None:
    base = (ID_PKINIT_KDF_AH_SHA512, bytes(256), 18, _U, _V, b"\xaa" * 10, b"\xbb" * 9)
    ref = kex.kdf_8636(*base)
    for i, changed in [(1, b"\x01" * 256), (3, _V), (4, _U), (5, b"x"), (6, b"y")]:
        args = list(base)
        args[i] = changed
        assert kex.kdf_8636(*args) != ref  # type: ignore[arg-type]


def test_kdf_unknown_oid_is_typed_error() -> None:
    with pytest.raises(kex.UnsupportedGroupError):
        kex.kdf_8636("1.2.3", b"z", 18, _U, _V, b"", b"")


_components = st.lists(st.text(max_size=20), min_size=1, max_size=4).map(tuple)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**31 - 1), _components, st.text(min_size=1, max_size=30),
       st.binary(max_size=300), st.binary(max_size=300))
def test_kdf_encodings_are_the_schemas(
    name_type: int, components: tuple[str, ...], realm: str, as_req: bytes, pk_as_rep: bytes
) -> None:
    """party_info_der and the OtherInfo the KDF hashes are written with derwrite; they must be
    what the asn1crypto schemas (KRB5PrincipalName, _OtherInfo, _PkinitSuppPubInfo) dump."""
    principal = Principal(name_type, components, realm)
    if principal.is_anonymous_name:
        return
    der = kex.party_info_der(principal)
    assert der == KRB5PrincipalName({"realm": realm, "principal_name": {
        "name_type": name_type, "name_string": list(components)}}).dump()
    supp = kdf._PkinitSuppPubInfo({"enctype": 18, "as_req": as_req, "pk_as_rep": pk_as_rep})
    other = kdf._OtherInfo({"algorithm_id": {"algorithm": ID_PKINIT_KDF_AH_SHA256},
                            "party_u_info": der, "party_v_info": _V,
                            "supp_pub_info": supp.dump()}).dump()
    expected = hashlib.sha256(b"\x00\x00\x00\x01" + b"z" * 32 + other).digest()
    key = kex.kdf_8636(ID_PKINIT_KDF_AH_SHA256, b"z" * 32, 18, der, _V, as_req, pk_as_rep)
    assert key.contents == expected  # aes256: one SHA-256 block, random-to-key is identity


def test_party_info_anonymous_uses_anonymous_realm() -> None:
    """MIT's KDF rule: an anonymous client is WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS."""
    in_realm = kex.party_info_der(Principal.anonymous("GSSMECH.TEST"))
    assert in_realm == kex.party_info_der(Principal.anonymous(ANONYMOUS_REALM))
    assert ANONYMOUS_REALM.encode() in in_realm and b"GSSMECH" not in in_realm


def test_octetstring2key_lengths_and_nonces() -> None:
    k1 = kex.octetstring2key(18, b"z" * 256)
    k2 = kex.octetstring2key(17, b"z" * 256)
    assert len(k1.contents) == 32 and len(k2.contents) == 16
    # AES random-to-key is the identity, so the 128-bit key is the head of the 256-bit one
    # (both are K-truncate of the same SHA-1 stream, RFC 4556 §3.2.3.1)
    assert k1.contents[:16] == k2.contents
    assert kex.reply_key(18, b"z" * 256, client_dh_nonce=b"n") != k1


@pytest.mark.parametrize("group", [kex.MODP14, kex.MODP16, *kex.CURVES.values()], ids=str)
def test_agreement_round_trip(group: kex.FFDHGroup | kex.ECDHCurve) -> None:
    gen = kex.ffdh_generate if isinstance(group, kex.FFDHGroup) else kex.ecdh_generate
    client, kdc = gen(group), gen(group)  # type: ignore[operator]
    parsed_group, client_pub = kex.parse_public_value(kex.client_public_value(client))
    assert parsed_group == group
    kdc_pub = kex.parse_kdc_public_value(group, kex.kdc_public_value(kdc))
    z = kex.shared_secret(client, kdc_pub)
    assert z == kex.shared_secret(kdc, client_pub)
    assert len(z) == group.size


def test_ffdh_injected_exponent_is_deterministic() -> None:
    a = kex.ffdh_generate(kex.MODP14, x=0x1234567)
    assert kex.kdc_public_value(a) == core.Integer(pow(2, 0x1234567, kex.MODP14.p)).dump()
    with pytest.raises(kex.KexError):
        kex.ffdh_generate(kex.MODP14, x=1)


def test_dh_spki_carries_domain_parameters() -> None:
    spki = keys.PublicKeyInfo.load(kex.client_public_value(kex.ffdh_generate(kex.MODP14)))
    assert spki["algorithm"]["algorithm"].dotted == "1.2.840.10046.2.1"
    params = spki["algorithm"]["parameters"]
    assert params["p"].native == kex.MODP14.p and params["q"].native == kex.MODP14.q


def _dh_spki(p: int, g: int, y: int, q: int) -> bytes:
    params = {"p": p, "g": g, "q": q}
    return keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "1.2.840.10046.2.1", "parameters": params},
            "public_key": core.Integer(y),
        }
    ).dump()


@pytest.mark.parametrize("y", [0, 1, kex.MODP14.p - 1, kex.MODP14.p, kex.MODP14.p + 5])
def test_dh_public_value_out_of_range_refused(y: int) -> None:
    """K3: y must lie in 2..p-2."""
    with pytest.raises(kex.KexError):
        kex.parse_public_value(_dh_spki(kex.MODP14.p, 2, y, kex.MODP14.q))


def test_unknown_dh_group_refused() -> None:
    p = kex.modp_prime(1536, 741804)  # RFC 3526 §2 group 5: valid but not accepted
    with pytest.raises(kex.UnsupportedGroupError):
        kex.parse_public_value(_dh_spki(p, 2, 5, (p - 1) // 2))
    with pytest.raises(kex.UnsupportedGroupError):
        kex.parse_public_value(_dh_spki(kex.MODP14.p, 2, 5, q=7))


def test_ec_point_off_curve_refused() -> None:
    good = kex.client_public_value(kex.ecdh_generate("secp256r1"))
    bad = bytearray(good)
    bad[-1] ^= 1
    with pytest.raises(kex.KexError):
        kex.parse_public_value(bytes(bad))


def test_unsupported_curve_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    der = ec.generate_private_key(ec.SECP256K1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(kex.UnsupportedGroupError):
        kex.parse_public_value(der)


def test_rsa_key_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    der = rsa.generate_private_key(65537, 1024).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(kex.UnsupportedGroupError):
        kex.parse_public_value(der)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_parse_public_value_fuzz(data: bytes) -> None:
    try:
        kex.parse_public_value(data)
    except DecodeError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=80))
def test_parse_kdc_public_value_fuzz(data: bytes) -> None:
    for group in (kex.MODP14, kex.CURVES["secp256r1"]):
        try:
            kex.parse_kdc_public_value(group, data)
        except DecodeError:
            pass
