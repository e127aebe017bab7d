"""Names and credentials of the python-gssapi-shaped API (``gssapi.Name``,
``gssapi.Credentials``, ``gssapi.NameType``, ``gssapi.MechType``); see :mod:`gssmech.gss.api`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from gssmech.errors import GSSMechError
from gssmech.gss import creds as _creds
from gssmech.gss import oids
from gssmech.gss.names import GSSName, RealmConfig, import_name
from gssmech.gss.oids import Oid

Usage = Literal["initiate", "accept", "both"]


class NameType:
    """python-gssapi's ``NameType`` attribute names, as :class:`Oid` values."""

    hostbased_service = oids.NT_HOSTBASED_SERVICE
    user = oids.NT_USER_NAME
    machine_uid = oids.NT_MACHINE_UID_NAME
    string_uid = oids.NT_STRING_UID_NAME
    kerberos_principal = oids.NT_KRB5_PRINCIPAL_NAME
    krb5_nt_principal_name = oids.NT_KRB5_PRINCIPAL_NAME
    anonymous = oids.NT_ANONYMOUS
    export = oids.NT_EXPORT_NAME


class MechType:
    kerberos = oids.KRB5_MECH
    native = oids.DEFAULT_NATIVE_MECH  # the default; ``oids.native_mech()`` honours GSSMECH_OID


# --- names --------------------------------------------------------------------------------------
class Name:
    """``gssapi.Name(base, name_type)``; ``Name(token=...)`` imports an exported name."""

    __slots__ = ("_name",)

    def __init__(
        self,
        base: str | bytes | GSSName | Name | None = None,
        name_type: object = None,
        token: bytes | None = None,
        *,
        config: RealmConfig | None = None,
    ) -> None:
        if isinstance(base, Name):
            self._name: GSSName = base._name
        elif isinstance(base, GSSName):
            self._name = base
        elif token is not None:
            self._name = import_name(token, oids.NT_EXPORT_NAME)
        elif base is None:
            raise GSSMechError("Name needs a base name or an export token")
        else:
            self._name = import_name(base, name_type, config=config)

    @property
    def gss_name(self) -> GSSName:
        return self._name

    def __str__(self) -> str:
        return self._name.display()[0]

    def __bytes__(self) -> bytes:
        return str(self).encode("utf-8")

    def __repr__(self) -> str:
        return f"Name({str(self)!r}, {self.name_type})"

    @property
    def name_type(self) -> Oid | None:
        return self._name.display()[1]

    @property
    def is_mech_name(self) -> bool:
        return self._name.is_mech_name

    @property
    def mech(self) -> Oid | None:
        return self._name.mech

    def canonicalize(self, mech: object = oids.KRB5_MECH) -> Name:
        return Name(self._name.canonicalize(oids.as_oid(mech)))

    def export(self, mech: object = None) -> bytes:
        return self._name.export(None if mech is None else oids.as_oid(mech))

    def duplicate(self) -> Name:
        return Name(self._name.duplicate())

    __copy__ = duplicate

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Name):
            return self._name.compare(other._name)
        return NotImplemented

    def __hash__(self) -> int:
        p = self._name.principal
        return hash((p.components, p.realm))


def _gss_name(value: Name | GSSName | str | bytes | None, nt: object = None) -> GSSName | None:
    if value is None:
        return None
    if isinstance(value, Name):
        return value.gss_name
    if isinstance(value, GSSName):
        return value
    return import_name(value, nt)


# --- credentials ----------------------------------------------------------------------------
class Credentials:
    """``gssapi.Credentials(name=, lifetime=, usage=, store=)``; ``anonymous=True`` asks for the
    anonymous default credential (what the anon flag does with GSS_C_NO_CREDENTIAL)."""

    __slots__ = ("_cred",)

    def __init__(
        self,
        base: _creds.Credentials | None = None,
        name: Name | GSSName | None = None,
        lifetime: int | None = None,
        mechs: Iterable[object] | None = None,
        usage: Usage = "both",
        store: Mapping[str, str] | None = None,
        *,
        anonymous: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if mechs is not None and not all(oids.is_our_mech(oids.as_oid(m)) for m in mechs):
            raise GSSMechError("gssmech provides only the krb5 and native mechanisms")
        self._cred = base or _creds.acquire(
            _gss_name(name), usage, store=store, lifetime=lifetime, anonymous=anonymous, env=env
        )

    @property
    def inner(self) -> _creds.Credentials:
        return self._cred

    @property
    def name(self) -> Name | None:
        name = self._cred.reported_name()
        return None if name is None else Name(name)

    @property
    def lifetime(self) -> int | None:
        return self._cred.lifetime()

    @property
    def usage(self) -> str:
        return self._cred.usage

    @property
    def mechs(self) -> set[Oid]:
        return {oids.KRB5_MECH, oids.native_mech()}

    @property
    def anonymous(self) -> bool:
        return self._cred.anonymous

    def store(self, store: Mapping[str, str] | None = None, overwrite: bool = True) -> str:
        """gss_store_cred_into; returns the name of the cache written."""
        return self._cred.store(store, overwrite=overwrite).full_name
