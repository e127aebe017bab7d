"""GSS names for the Kerberos mechanism (RFC 2743 §2.4 and §4, RFC 1964 §2.1, RFC 4121).

A :class:`GSSName` is resolved to a Kerberos principal when it is imported (this mechanism is the
only one it can belong to), but it remembers the caller's string and name type: like MIT's
mechglue, a name that has not been canonicalized displays as it was imported, and one that has
(``canonicalize``, or a name a context returns) is a mechanism name (MN) and displays as the
principal (``krb5_unparse_name``).

Anonymity (draft-ietf-krb-wg-anon-08 §6, conformance G1/G2):

- G1: the anonymous principal in the anonymous realm, ``WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS``,
  is displayed with name type GSS_C_NT_ANONYMOUS; importing GSS_C_NT_ANONYMOUS (any buffer, the
  empty one included, as MIT's ``import_name.c``) yields it.
- G2: the anonymous principal in a real realm is an *authenticated* name: it keeps
  GSS_KRB5_NT_PRINCIPAL_NAME and its export token carries the realm.

Host-based names resolve like MIT 1.20 with ``dns_canonicalize_hostname = false``: the host is
lower-cased and loses a trailing dot, the realm comes from ``[domain_realm]`` (most specific
match), and an unmapped host gets the empty *referral* realm (``KRB5_REFERRAL_REALM``), which the
ticket layer resolves to the client's realm.  No DNS is ever consulted.
"""

from __future__ import annotations

import pwd
import socket
import struct
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from gssmech.errors import (
    GSS_S_BAD_MECH,
    GSS_S_BAD_NAME,
    GSS_S_BAD_NAMETYPE,
    GSS_S_NAME_NOT_MN,
    DecodeError,
    GSSMechError,
    Minor,
)
from gssmech.gss import oids
from gssmech.gss.oids import Oid
from gssmech.krb5.constants import NameType
from gssmech.krb5.principal import Principal

#: RFC 2743 §3.2: TOK_ID of an exported mechanism name.
EXPORT_TOKEN_ID = b"\x04\x01"


class BadName(GSSMechError):
    MAJOR = GSS_S_BAD_NAME
    MINOR = Minor.BAD_PRINCIPAL


class BadNameType(GSSMechError):
    MAJOR = GSS_S_BAD_NAMETYPE
    MINOR = Minor.BAD_NAME_TYPE


class NameNotMN(GSSMechError):
    MAJOR = GSS_S_NAME_NOT_MN
    MINOR = Minor.BAD_PRINCIPAL


class BadMech(GSSMechError):
    MAJOR = GSS_S_BAD_MECH
    MINOR = Minor.GENERIC


class MalformedExportName(DecodeError):
    """RFC 2744 §5.16: a malformed GSS_C_NT_EXPORT_NAME buffer is GSS_S_BAD_NAME."""

    MAJOR = GSS_S_BAD_NAME


@dataclass(frozen=True, slots=True)
class RealmConfig:
    """What name resolution reads from krb5.conf: ``default_realm`` and ``[domain_realm]``.

    NB(mit): domain_realm keys are matched case-sensitively against the lower-cased host."""

    default_realm: str | None = None
    domain_realm: tuple[tuple[str, str], ...] = ()
    local_hostname: str = ""

    @classmethod
    def from_profile(cls, profile: Any, *, local_hostname: str | None = None) -> RealmConfig:
        mapping = tuple(
            (key, values[0])
            for key in profile.relations("domain_realm")
            if (values := profile.get_all("domain_realm", key))
        )
        return cls(
            default_realm=profile.get("libdefaults", "default_realm"),
            domain_realm=mapping,
            local_hostname=socket.gethostname() if local_hostname is None else local_hostname,
        )

    def host_realm(self, host: str) -> str:
        """MIT ``krb5int_get_domain_realm_mapping``: the host itself, then each parent domain
        as ``.domain`` and ``domain``; the first hit wins.  No hit: the referral realm ``""``."""
        table = dict(self.domain_realm)
        cur = host
        while cur:
            if cur in table:
                return table[cur]
            if cur.startswith("."):
                cur = cur[1:]
            else:
                dot = cur.find(".")
                cur = cur[dot:] if dot >= 0 else ""
        return ""


#: (profile, its RealmConfig without the host name) for the last profile converted.  The profile
#: memo (gssmech.krb5.config) returns the same immutable Profile object while krb5.conf is
#: byte-for-byte unchanged, so identity is a sound key; the host name is still read every time.
_last_realm_config: tuple[Any, RealmConfig] | None = None


def load_realm_config(env: Mapping[str, str] | None = None) -> RealmConfig:
    """Thin I/O: the default profile (``KRB5_CONFIG`` or /etc/krb5.conf) as a RealmConfig."""
    from gssmech.krb5 import config

    return realm_config(config.load_default(env), socket.gethostname())


def realm_config(profile: Any, hostname: str) -> RealmConfig:
    """``profile`` as a RealmConfig for a host named ``hostname``; the conversion is kept for
    the last profile seen."""
    global _last_realm_config
    last = _last_realm_config
    if last is None or last[0] is not profile:
        last = (profile, RealmConfig.from_profile(profile, local_hostname=""))
        _last_realm_config = last
    base = last[1]
    return RealmConfig(base.default_realm, base.domain_realm, hostname)


@dataclass(frozen=True, slots=True)
class GSSName:
    """An imported or returned GSS name.

    ``text``/``name_type`` are what the caller imported (used for display until the name is
    canonical); ``principal`` is the Kerberos principal it denotes; ``mech`` is set on
    mechanism names (canonicalized, returned by a context, or imported from an export token).
    """

    text: str
    name_type: Oid | None
    principal: Principal
    mech: Oid | None = None

    @classmethod
    def from_principal(cls, principal: Principal, mech: Oid = oids.KRB5_MECH) -> GSSName:
        """A mechanism name for a principal (what contexts and credentials return)."""
        return cls(principal.unparse(), principal_name_type(principal), principal, mech)

    @property
    def is_mech_name(self) -> bool:
        return self.mech is not None

    @property
    def is_anonymous(self) -> bool:
        """G1: fully anonymous (anonymous principal *and* anonymous realm)."""
        return self.principal.is_fully_anonymous

    def display(self) -> tuple[str, Oid | None]:
        """RFC 2743 §2.4.4 GSS_Display_name: (string, name type)."""
        if self.mech is None:
            return self.text, self.name_type
        return self.principal.unparse(), principal_name_type(self.principal)

    def __str__(self) -> str:
        return self.display()[0]

    def canonicalize(self, mech: Oid = oids.KRB5_MECH) -> GSSName:
        """RFC 2743 §2.4.14 GSS_Canonicalize_name: the MN for ``mech`` (ours only)."""
        if not oids.is_our_mech(mech):
            raise BadMech(f"mechanism {mech} is not provided by gssmech")
        return replace(
            self,
            mech=mech,
            text=self.principal.unparse(),
            name_type=principal_name_type(self.principal),
        )

    def duplicate(self) -> GSSName:
        """RFC 2743 §2.4.13: names are immutable, so a duplicate is an equal copy."""
        return replace(self)

    def compare(self, other: GSSName) -> bool:
        """RFC 2743 §2.4.3 GSS_Compare_name: same principal (realm and components, the name
        type ignored as ``krb5_principal_compare``); FALSE whenever either is anonymous."""
        if self.is_anonymous or other.is_anonymous:
            return False
        a, b = self.principal, other.principal
        return a.realm == b.realm and a.components == b.components

    def export(self, mech: Oid | None = None) -> bytes:
        """RFC 2743 §3.2 / RFC 1964 §2.1.3 exported name:
        ``04 01 | OID length (2) | OID (DER) | name length (4) | name``.

        The OID is this MN's mechanism unless the caller chooses another of ours (``mech``);
        the name is the principal in MIT string syntax, realm always included (G2)."""
        if self.mech is None:
            raise NameNotMN("export_name needs a mechanism name: canonicalize it first")
        oid = self.mech if mech is None else mech
        if not oids.is_our_mech(oid):
            raise BadMech(f"mechanism {oid} is not provided by gssmech")
        b_oid = oid.tlv
        b_name = self.principal.unparse().encode("utf-8")
        return (
            EXPORT_TOKEN_ID
            + struct.pack(">H", len(b_oid))
            + b_oid
            + struct.pack(">I", len(b_name))
            + b_name
        )


def principal_name_type(principal: Principal) -> Oid:
    """MIT ``disp_name.c``: the anonymous principal displays as GSS_C_NT_ANONYMOUS (G1); every
    other principal, the realm-bearing anonymous one included (G2), as a krb5 name."""
    if principal.is_fully_anonymous:
        return oids.NT_ANONYMOUS
    return oids.NT_KRB5_PRINCIPAL_NAME


UidLookup = Callable[[int], str]


def _passwd_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        raise BadName(f"UID {uid} does not resolve to a user name") from None


def import_name(
    data: bytes | str,
    name_type: object = None,
    *,
    config: RealmConfig | None = None,
    uid_lookup: UidLookup = _passwd_name,
) -> GSSName:
    """RFC 2743 §2.4.5 GSS_Import_name for this mechanism.

    ``name_type`` is an :class:`Oid`, dotted text, DER bytes, a python-gssapi OID, or None
    (GSS_C_NO_OID: the mechanism's default syntax, a krb5 principal).  ``config`` defaults to
    the krb5.conf the environment names.
    """
    nt = None if name_type is None else oids.as_oid(name_type)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if nt == oids.NT_EXPORT_NAME:
        return import_export_token(raw)
    if nt == oids.NT_ANONYMOUS:
        # MIT import_name.c: any buffer, the empty one included, means the anonymous principal.
        return GSSName(_text(raw, nul_ok=True), nt, Principal.anonymous())
    cfg = config if config is not None else load_realm_config()
    if nt == oids.NT_HOSTBASED_SERVICE or nt == oids.NT_HOSTBASED_SERVICE_X:
        return GSSName(_text(raw), nt, hostbased_principal(_text(raw), cfg))
    if nt == oids.NT_MACHINE_UID_NAME:
        if len(raw) != 4:
            raise BadName("GSS_C_NT_MACHINE_UID_NAME must be a 4-byte uid")
        # NB(mit): the uid_t is copied in host byte order (import_name.c memcpy).
        uid = int.from_bytes(raw, sys.byteorder)
        return GSSName(_text(raw, strict=False), nt, _parse(uid_lookup(uid), cfg))
    if nt == oids.NT_STRING_UID_NAME:
        text = _text(raw)
        if not text.isascii() or not text.isdigit():
            raise BadName(f"GSS_C_NT_STRING_UID_NAME is not a decimal uid: {text!r}")
        return GSSName(text, nt, _parse(uid_lookup(int(text)), cfg))
    if nt in (None, oids.NT_USER_NAME, oids.NT_KRB5_PRINCIPAL_NAME):
        text = _text(raw)
        return GSSName(text, nt, _parse(text, cfg))
    raise BadNameType(f"name type {nt} is not supported by gssmech")


def _text(raw: bytes, *, strict: bool = True, nul_ok: bool = False) -> str:
    """A name buffer as text.  A NUL octet is refused: MIT copies the buffer into a C string
    and parses up to the first NUL, so ``host@a\0b`` would name different things to MIT and to
    us (a principal that really holds a NUL is written with the ``\0`` escape)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        if not strict:
            return raw.decode("latin-1")
        raise BadName("name is not valid UTF-8") from None
    if "\0" in text and strict and not nul_ok:
        raise BadName("name contains a NUL octet")
    return text


def _parse(text: str, cfg: RealmConfig) -> Principal:
    # PrincipalError already carries GSS_S_BAD_NAME.
    return Principal.parse(text, default_realm=cfg.default_realm)


def hostbased_principal(text: str, cfg: RealmConfig) -> Principal:
    """RFC 2743 §4.1 ``service@host`` -> ``service/host@realm`` (MIT ``krb5_sname_to_principal``
    with KRB5_NT_SRV_HST): split at the first ``@``; no host means the local host name."""
    service, sep, host = text.partition("@")
    if not sep or not host:
        host = cfg.local_hostname
    host = host.lower().rstrip(".")
    if not host:
        raise BadName("host-based name has no host and the local host name is unknown")
    return Principal(NameType.SRV_HST, (service, host), cfg.host_realm(host))


def import_export_token(token: bytes) -> GSSName:
    """Parse an RFC 2743 §3.2 exported name strictly; accept the krb5 and native OIDs."""
    what = "exported name"
    if len(token) < 4 or token[:2] != EXPORT_TOKEN_ID:
        raise MalformedExportName("expected TOK_ID 04 01", source=what, offset=0)
    (oid_len,) = struct.unpack_from(">H", token, 2)
    oid_end = 4 + oid_len
    if oid_end + 4 > len(token):
        raise MalformedExportName("truncated mechanism OID", source=what, offset=2)
    try:
        mech, used = Oid.from_tlv(token[4:oid_end], what=what)
    except DecodeError as exc:
        raise MalformedExportName(str(exc), source=what, offset=4) from None
    if used != oid_len:
        raise MalformedExportName("OID length field disagrees with the OID", source=what, offset=2)
    if not oids.is_our_mech(mech):
        raise BadMech(f"exported name is for mechanism {mech}, not gssmech")
    (name_len,) = struct.unpack_from(">I", token, oid_end)
    if oid_end + 4 + name_len != len(token):
        raise MalformedExportName(
            "name length disagrees with the token", source=what, offset=oid_end
        )
    text = _text(token[oid_end + 4 :])
    principal = Principal.parse(text)  # no default realm: an exported name carries its own
    return GSSName(text, oids.NT_EXPORT_NAME, principal, mech)
