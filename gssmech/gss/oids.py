"""Object identifiers of the mechanism and its name types, and their DER encoding.

OIDs reach the GSS-API in three shapes: dotted text (``"1.2.840.113554.1.2.2"``), DER content
octets (what ``gss_OID_desc.elements`` holds, RFC 2744 §3.3) and a whole DER TLV (tag 06, as in
the RFC 2743 §3.1 token framing and the RFC 2743 §3.2 exported-name object).  :class:`Oid`
converts between them strictly: a malformed encoding is a :class:`DecodeError`, never a
ValueError.

The native mechanism OID is configurable (DESIGN.md "The plugin library"): the mechglue tells
the plugin which OID its ``mech.d`` line registered; pure-Python users set ``GSSMECH_OID``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gssmech.environ import ENVIRON
from gssmech.errors import GSS_S_BAD_MECH, ConfigError, DecodeError, GSSMechError, Minor

_DOTTED = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+")
DER_OID_TAG = 0x06


class OidSyntaxError(GSSMechError):
    """A dotted OID string that is not a valid OID (caller or configuration error)."""

    MAJOR = GSS_S_BAD_MECH
    MINOR = Minor.DECODE


@dataclass(frozen=True, slots=True)
class Oid:
    """An OID, held as its DER content octets (X.690 §8.19); ``str()`` is dotted text."""

    der: bytes

    def __post_init__(self) -> None:
        _decode_arcs(self.der)  # every Oid in the program is well formed

    @classmethod
    def from_dotted(cls, text: str) -> Oid:
        if not _DOTTED.fullmatch(text):
            raise OidSyntaxError(f"not a dotted OID: {text!r}")
        arcs = [int(a) for a in text.split(".")]
        if arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
            raise OidSyntaxError(f"invalid first arcs in OID {text!r} (X.690 §8.19.4)")
        body = [40 * arcs[0] + arcs[1], *arcs[2:]]
        return cls(b"".join(_base128(a) for a in body))

    @classmethod
    def from_tlv(cls, data: bytes, *, what: str = "OID") -> tuple[Oid, int]:
        """Decode ``06 len content`` at the start of ``data``; return the OID and bytes used."""
        if len(data) < 2 or data[0] != DER_OID_TAG:
            raise DecodeError("expected a DER OBJECT IDENTIFIER (tag 06)", source=what, offset=0)
        length, hdr = read_der_length(data, 1, what=what)
        end = hdr + length
        if end > len(data):
            raise DecodeError("OID runs past the end of the data", source=what, offset=hdr)
        content = data[hdr:end]
        try:
            return cls(content), end
        except DecodeError as exc:
            raise DecodeError(str(exc), source=what, offset=hdr) from None

    @property
    def tlv(self) -> bytes:
        """The whole DER encoding: tag 06, definite length, content."""
        return bytes([DER_OID_TAG]) + der_length(len(self.der)) + self.der

    @property
    def arcs(self) -> tuple[int, ...]:
        return _decode_arcs(self.der)

    @property
    def dotted(self) -> str:
        return ".".join(str(a) for a in self.arcs)

    def __str__(self) -> str:
        return self.dotted

    def __repr__(self) -> str:
        return f"Oid({self.dotted!r})"


def _base128(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _decode_arcs(der: bytes) -> tuple[int, ...]:
    if not der:
        raise DecodeError("empty OID")
    if der[-1] & 0x80:
        raise DecodeError("OID ends inside a sub-identifier")
    values: list[int] = []
    cur = 0
    start = True
    for i, b in enumerate(der):
        if start and b == 0x80:
            # X.690 §8.19.2: a sub-identifier is encoded in the fewest octets.
            raise DecodeError("OID sub-identifier has a leading 0x80 octet", offset=i)
        cur = (cur << 7) | (b & 0x7F)
        start = not b & 0x80
        if start:
            values.append(cur)
            cur = 0
    first = values[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *values[1:])


def der_length(n: int) -> bytes:
    """X.690 §8.1.3 definite length, shortest form."""
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def read_der_length(data: bytes, pos: int, *, what: str = "DER") -> tuple[int, int]:
    """Read a DER length at ``pos``: (length, offset after it).  Minimal form is required."""
    if pos >= len(data):
        raise DecodeError("missing DER length", source=what, offset=pos)
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 4:
        raise DecodeError("unsupported DER length form", source=what, offset=pos)
    raw = data[pos + 1 : pos + 1 + count]
    if len(raw) != count:
        raise DecodeError("truncated DER length", source=what, offset=pos)
    n = int.from_bytes(raw, "big")
    if n < 0x80 or raw[0] == 0:
        raise DecodeError("non-minimal DER length", source=what, offset=pos)
    return n, pos + 1 + count


# --- mechanisms ---------------------------------------------------------------------------
#: RFC 1964 §1 / RFC 4121 §1: the Kerberos V5 mechanism.
KRB5_MECH = Oid.from_dotted("1.2.840.113554.1.2.2")
#: DESIGN.md: our own (unregistered, ITU-T example arc) native mechanism OID.
DEFAULT_NATIVE_MECH = Oid.from_dotted("2.999.6112.1")
#: Environment variable that overrides the native mechanism OID in pure-Python use.
NATIVE_MECH_ENV = "GSSMECH_OID"


#: The OID the plugin's mech.d line registered (:func:`register_native_mech`).
_registered: Oid | None = None


def register_native_mech(oid: Oid) -> None:
    """Inside the plugin, the mech.d line names the native mechanism, whatever ``GSSMECH_OID``
    says; kept here rather than written to the host's environment, which is the host's."""
    global _registered
    _registered = oid


def native_mech(env: Mapping[str, str] | None = None) -> Oid:
    """The native mechanism OID: the plugin's registered one, else ``$GSSMECH_OID`` (dotted)
    if set, else the default."""
    if _registered is not None:
        return _registered
    env = ENVIRON if env is None else env
    text = env.get(NATIVE_MECH_ENV, "").strip()
    return Oid.from_dotted(text) if text else DEFAULT_NATIVE_MECH


#: ``krb5`` or ``native``: how an initiator frames its first token (also krb5.conf
#: ``[libdefaults] gssmech_wire``).  ``krb5`` lets a gssmech initiator, even one reached through
#: the plugin under our own OID, talk to MIT, Heimdal or AD acceptors (DESIGN.md, wire framing).
WIRE_ENV = "GSSMECH_WIRE"


def initiator_framing(mech: Oid, env: Mapping[str, str] | None = None) -> Oid:
    """The RFC 2743 §3.1 framing OID for an initiator asked for ``mech``.

    An explicit krb5 request frames with krb5; otherwise ``$GSSMECH_WIRE``, else
    ``[libdefaults] gssmech_wire``, chooses ``krb5`` or ``native`` (the default).
    """
    if mech == KRB5_MECH:
        return KRB5_MECH
    env = ENVIRON if env is None else env
    choice = env.get(WIRE_ENV)
    source = WIRE_ENV
    if choice is None:
        from gssmech.krb5.config import libdefault, load_default

        choice, source = libdefault(load_default(env), "gssmech_wire"), "krb5.conf"
    choice = (choice or "native").strip().lower()
    if choice == "krb5":
        return KRB5_MECH
    if choice == "native":
        return mech
    raise ConfigError(f"gssmech_wire = {choice!r}: expected krb5 or native", source=source)


def is_our_mech(oid: Oid, env: Mapping[str, str] | None = None) -> bool:
    """Both framings carry the same RFC 4121 body, so both OIDs name this mechanism."""
    return oid == KRB5_MECH or oid == native_mech(env)


# --- name types ---------------------------------------------------------------------------
#: RFC 2743 §4.1 / RFC 1964 §2.1.2: ``service@host``.
NT_HOSTBASED_SERVICE = Oid.from_dotted("1.2.840.113554.1.2.1.4")
#: The same name type under its RFC 2078 OID, which RFC 2743 §4.1 keeps for compatibility
#: (RFC 2744 §4 GSS_C_NT_HOSTBASED_SERVICE_X); MIT accepts it too.
NT_HOSTBASED_SERVICE_X = Oid.from_dotted("1.3.6.1.5.6.2")
#: RFC 2743 §4.2 / RFC 1964 §2.1.4: a local user name.
NT_USER_NAME = Oid.from_dotted("1.2.840.113554.1.2.1.1")
#: RFC 2743 §4.3: a local numeric uid, 4 bytes network order.
NT_MACHINE_UID_NAME = Oid.from_dotted("1.2.840.113554.1.2.1.2")
#: RFC 2743 §4.4: a local numeric uid as decimal text.
NT_STRING_UID_NAME = Oid.from_dotted("1.2.840.113554.1.2.1.3")
#: RFC 1964 §2.1.1: a Kerberos principal in MIT string syntax.
NT_KRB5_PRINCIPAL_NAME = Oid.from_dotted("1.2.840.113554.1.2.2.1")
#: RFC 2743 §4.6 (and draft-ietf-krb-wg-anon-08 §6): the anonymous name.
NT_ANONYMOUS = Oid.from_dotted("1.3.6.1.5.6.3")
#: RFC 2743 §4.7 / §3.2: an exported mechanism name.
NT_EXPORT_NAME = Oid.from_dotted("1.3.6.1.5.6.4")

NAME_TYPE_LABELS: dict[Oid, str] = {
    NT_HOSTBASED_SERVICE: "GSS_C_NT_HOSTBASED_SERVICE",
    NT_HOSTBASED_SERVICE_X: "GSS_C_NT_HOSTBASED_SERVICE_X",
    NT_USER_NAME: "GSS_C_NT_USER_NAME",
    NT_MACHINE_UID_NAME: "GSS_C_NT_MACHINE_UID_NAME",
    NT_STRING_UID_NAME: "GSS_C_NT_STRING_UID_NAME",
    NT_KRB5_PRINCIPAL_NAME: "GSS_KRB5_NT_PRINCIPAL_NAME",
    NT_ANONYMOUS: "GSS_C_NT_ANONYMOUS",
    NT_EXPORT_NAME: "GSS_C_NT_EXPORT_NAME",
}


def as_oid(value: object) -> Oid:
    """Accept an :class:`Oid`, dotted text, DER content octets (a ``gss_OID``'s bytes), or
    any object with a ``dotted_form`` (python-gssapi's ``OID``)."""
    if isinstance(value, Oid):
        return value
    if isinstance(value, str):
        return Oid.from_dotted(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return Oid(bytes(value))
    # python-gssapi's OID objects expose dotted_form; accept them without importing gssapi.
    dotted = getattr(value, "dotted_form", None)
    if isinstance(dotted, str):
        return Oid.from_dotted(dotted)
    raise OidSyntaxError(f"not an OID: {value!r}")
