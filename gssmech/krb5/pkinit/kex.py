"""PKINIT key agreement: RFC 3526 MODP groups and RFC 5349 ECDH (the reply-key KDFs are in
kdf.py and re-exported here).  Shared by the client and the embedded KDC; sans-I/O.

Public values travel in two forms: the client's SubjectPublicKeyInfo (AuthPack
clientPublicValue, RFC 4556 §3.2.2 / RFC 5349 §2) and the KDC's bare value (KDCDHKeyInfo
subjectPublicKey: DER INTEGER y for finite-field DH, the uncompressed point for ECDH).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from asn1crypto import core, keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gssmech.krb5.asn1.decode import decode
from gssmech.krb5.pkinit.errors import KexError, UnsupportedGroupError

# The KDFs live in their own module (kdf.py); these names stay part of kex's API.
from gssmech.krb5.pkinit.kdf import (
    KDF_HASHES,
    kdf_8636,
    octetstring2key,
    party_info_der,
    reply_key,
)

__all__ = [
    "CURVES",
    "GROUPS",
    "KDF_HASHES",
    "MODP14",
    "MODP16",
    "ECDHCurve",
    "FFDHGroup",
    "KexError",
    "UnsupportedGroupError",
    "client_public_value",
    "ecdh_generate",
    "ffdh_generate",
    "kdc_public_value",
    "kdf_8636",
    "octetstring2key",
    "parse_kdc_public_value",
    "parse_public_value",
    "party_info_der",
    "reply_key",
    "shared_secret",
]

# NB(cryptography): FFDH is deprecated there (a warning on every attribute access of the
# ``dh`` module) but it is what RFC 4556 and MIT's KDC speak and OpenSSL's named-group
# short exponents make it fast; take the classes once with the warning silenced.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from cryptography.hazmat.primitives.asymmetric import dh

    _DHPrivateKey = dh.DHPrivateKey
    _DHPublicKey = dh.DHPublicKey
    _DHParameterNumbers = dh.DHParameterNumbers
    _DHPublicNumbers = dh.DHPublicNumbers
    _DHPrivateNumbers = dh.DHPrivateNumbers


_T = TypeVar("_T")


def _quiet(fn: Callable[[], _T]) -> _T:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


ID_DHPUBLICNUMBER = "1.2.840.10046.2.1"  # X9.42 dhpublicnumber (RFC 3279 §2.3.3)
ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"




# --- RFC 3526 MODP groups ---------------------------------------------------------------------


def _arctan_inv(x: int, scale: int) -> int:
    """``arctan(1/x) * scale`` by its Taylor series in integers (truncation error < terms)."""
    total = term = scale // x
    x2 = x * x
    n = 1
    sign = -1
    while term:
        term //= x2
        total += sign * (term // (2 * n + 1))
        sign = -sign
        n += 1
    return total


@cache
def pi_floor(bits: int) -> int:
    """``floor(2**bits * pi)`` (Machin: pi = 16 atan(1/5) - 4 atan(1/239)), with 64 guard bits."""
    guard = 64
    scale = 1 << (bits + guard)
    return (16 * _arctan_inv(5, scale) - 4 * _arctan_inv(239, scale)) >> guard


def modp_prime(n: int, k: int) -> int:
    """RFC 3526 §2-§5: p = 2^N - 2^(N-64) - 1 + 2^64 * (floor(2^(N-130) * pi) + K)."""
    return (1 << n) - (1 << (n - 64)) - 1 + (1 << 64) * (pi_floor(n - 130) + k)


@dataclass(frozen=True, slots=True)
class FFDHGroup:
    """A safe-prime MODP group: generator ``g`` of the order-``q`` subgroup, q = (p-1)/2."""

    name: str
    p: int
    g: int
    q: int

    @property
    def size(self) -> int:
        """len(p) in octets (the length of the padded shared secret, RFC 2631 §2.1.2)."""
        return (self.p.bit_length() + 7) // 8


def _group(name: str, n: int, k: int) -> FFDHGroup:
    p = modp_prime(n, k)
    return FFDHGroup(name, p, 2, (p - 1) // 2)


MODP14 = _group("modp14", 2048, 124476)  # RFC 3526 §3
MODP16 = _group("modp16", 4096, 240904)  # RFC 3526 §5
GROUPS: dict[str, FFDHGroup] = {g.name: g for g in (MODP14, MODP16)}


@dataclass(frozen=True, slots=True)
class ECDHCurve:
    """An RFC 5349 named curve."""

    name: str  # asn1crypto / RFC 5480 name
    curve: type[ec.EllipticCurve]

    @property
    def size(self) -> int:
        return (self.curve().key_size + 7) // 8


CURVES: dict[str, ECDHCurve] = {
    c.name: c
    for c in (
        ECDHCurve("secp256r1", ec.SECP256R1),
        ECDHCurve("secp384r1", ec.SECP384R1),
        ECDHCurve("secp521r1", ec.SECP521R1),
    )
}
_CURVE_BY_CRYPTO = {c.curve.name: c for c in CURVES.values()}

Group = FFDHGroup | ECDHCurve
PrivateKey = _DHPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = _DHPublicKey | ec.EllipticCurvePublicKey


@cache
def _dh_parameters(group: FFDHGroup) -> object:
    return _quiet(lambda: _DHParameterNumbers(group.p, group.g, group.q).parameters())


def ffdh_generate(group: FFDHGroup, x: int | None = None) -> PrivateKey:
    """A DH private key in ``group``; ``x`` (1 < x < q) injects the exponent for tests.

    NB(openssl): OpenSSL recognises the RFC 3526 groups and draws a short exponent (2x the
    group's security strength, RFC 3526 §8), which keeps MODP 16 at a few milliseconds.
    """
    params = _dh_parameters(group)
    if x is None:
        return _quiet(params.generate_private_key)  # type: ignore[attr-defined]
    if not 1 < x < group.q:
        raise KexError("DH private exponent out of range", source="ffdh_generate")

    def build() -> PrivateKey:
        pub = _DHPublicNumbers(pow(group.g, x, group.p), params.parameter_numbers())  # type: ignore[attr-defined]
        return _DHPrivateNumbers(x, pub).private_key()

    return _quiet(build)


def ecdh_generate(curve: ECDHCurve | str) -> ec.EllipticCurvePrivateKey:
    c = CURVES[curve] if isinstance(curve, str) else curve
    return ec.generate_private_key(c.curve())


def group_of(priv: PrivateKey | PublicKey) -> Group:
    """The known group or curve of a key (KexError if it is neither)."""
    if isinstance(priv, _DHPrivateKey | _DHPublicKey):
        nums = _quiet(lambda: priv.parameters().parameter_numbers())
        for g in GROUPS.values():
            if g.p == nums.p and g.g == nums.g:
                return g
        raise UnsupportedGroupError("DH key is not in a known MODP group", source="kex")
    c = _CURVE_BY_CRYPTO.get(priv.curve.name)
    if c is None:
        raise UnsupportedGroupError(f"curve {priv.curve.name} not supported", source="kex")
    return c


def client_public_value(priv: PrivateKey) -> bytes:
    """AuthPack clientPublicValue (SubjectPublicKeyInfo DER), RFC 4556 §3.2.2 / RFC 5349 §2."""
    group = group_of(priv)
    if isinstance(group, ECDHCurve):
        return priv.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    y = _quiet(lambda: priv.public_key().public_numbers().y)
    info = keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": ID_DHPUBLICNUMBER,
                "parameters": keys.DomainParameters({"p": group.p, "g": group.g, "q": group.q}),
            },
            "public_key": core.Integer(y),
        }
    )
    return info.dump()


def kdc_public_value(priv: PrivateKey) -> bytes:
    """KDCDHKeyInfo subjectPublicKey contents: DER INTEGER y, or the uncompressed EC point."""
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        return priv.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return core.Integer(_quiet(lambda: priv.public_key().public_numbers().y)).dump()


def _dh_public(group: FFDHGroup, y: int) -> PublicKey:
    # y in 2..p-2 rejects 0, 1 and p-1 (NIST SP 800-56A §5.6.2.3.2 partial validation).  The
    # full y^q = 1 test costs 25 ms (MODP 14) to 190 ms (MODP 16) in Python and, p being a safe
    # prime, would only stop a peer from learning the parity of an ephemeral exponent.
    if not 2 <= y <= group.p - 2:
        raise KexError("DH public value out of range", source="DH public key")
    params = _dh_parameters(group)
    return _quiet(lambda: _DHPublicNumbers(y, params.parameter_numbers()).public_key())  # type: ignore[attr-defined]


def _ec_public(curve: ECDHCurve, point: bytes) -> ec.EllipticCurvePublicKey:
    if not point or point[0] != 4 or len(point) != 1 + 2 * curve.size:
        raise KexError("EC public value is not an uncompressed point", source="EC public key")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve.curve(), point)
    except ValueError:
        raise KexError("EC point is not on the curve", source="EC public key") from None


def parse_public_value(spki_der: bytes) -> tuple[Group, PublicKey]:
    """Decode and check a clientPublicValue: only MODP 14/16 and P-256/384/521 (RFC 4556 §3.2.2,
    RFC 5349 §2).  Raises UnsupportedGroupError for other parameters, KexError for bad values."""
    info = decode(keys.PublicKeyInfo, spki_der, what="clientPublicValue")
    try:
        oid = info["algorithm"]["algorithm"].dotted
        params = info["algorithm"]["parameters"]
        if oid == ID_DHPUBLICNUMBER:
            p, g = params["p"].native, params["g"].native
            group = next((x for x in GROUPS.values() if x.p == p and x.g == g), None)
            if group is None:
                raise UnsupportedGroupError("DH group not accepted", source="clientPublicValue")
            q = params["q"].native
            if q is not None and q != group.q:
                raise UnsupportedGroupError(
                    "DH subgroup order mismatch", source="clientPublicValue"
                )
            y = info["public_key"].parsed.native
            if not isinstance(y, int):
                raise KexError("DH public value is not an INTEGER", source="clientPublicValue")
            return group, _dh_public(group, y)
        if oid == ID_EC_PUBLIC_KEY:
            if params.name != "named":
                raise UnsupportedGroupError("EC parameters must be a named curve",
                                            source="clientPublicValue")
            curve = CURVES.get(params.chosen.native)
            if curve is None:
                raise UnsupportedGroupError(f"curve {params.chosen.native} not accepted",
                                            source="clientPublicValue")
            return curve, _ec_public(curve, bytes(info["public_key"]))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise KexError(f"malformed public key: {exc}", source="clientPublicValue") from None
    raise UnsupportedGroupError(f"key agreement algorithm {oid} not accepted",
                                source="clientPublicValue")


def parse_kdc_public_value(group: Group, value: bytes) -> PublicKey:
    """The KDC's public value from KDCDHKeyInfo subjectPublicKey, in the client's group."""
    if isinstance(group, ECDHCurve):
        return _ec_public(group, value)
    y = decode(core.Integer, value, what="KDC DH public value").native
    return _dh_public(group, y)


def shared_secret(priv: PrivateKey, peer: PublicKey) -> bytes:
    """DHSharedSecret: FFDH ZZ left-padded to len(p) (RFC 2631 §2.1.2, RFC 4556 §3.2.3.1);
    ECDH the x-coordinate of the shared point (RFC 5349 §4)."""
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        if not isinstance(peer, ec.EllipticCurvePublicKey) or peer.curve.name != priv.curve.name:
            raise KexError("ECDH peer key on a different curve", source="shared_secret")
        return priv.exchange(ec.ECDH(), peer)
    if not isinstance(peer, _DHPublicKey):
        raise KexError("DH peer key of the wrong kind", source="shared_secret")
    group = group_of(priv)
    if group_of(peer) != group:
        raise KexError("DH peer key in a different group", source="shared_secret")
    z = _quiet(lambda: priv.exchange(peer))  # type: ignore[union-attr, arg-type]
    return z.rjust(group.size, b"\0")  # type: ignore[union-attr]
