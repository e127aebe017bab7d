"""PrincipalName <-> :class:`~gssmech.krb5.principal.Principal`, and the anonymity checks of
draft-ietf-krb-wg-anon-08 §3-§4 / RFC 8062 §3-§4 on decoded messages.

An anonymous reply or ticket carries two signals: the anonymous ticket flag (bit 16 in
RFC 8062, bit 14 in draft-08 -- :class:`~gssmech.krb5.constants.AnonProfile`) and the client
name ``WELLKNOWN/ANONYMOUS`` (name-type NT-WELLKNOWN, RFC 6111 §2).  The realm tells fully
anonymous (``WELLKNOWN:ANONYMOUS``) from authenticated-anonymous (the client's real realm).
"""

from __future__ import annotations

from typing import NamedTuple

from asn1crypto import core

from gssmech.krb5.asn1.base import KDCOptions, KerberosFlags, PrincipalName, Realm, TicketFlags
from gssmech.krb5.constants import (
    ANONYMOUS_COMPONENTS,
    ANONYMOUS_REALM,
    RFC8062,
    AnonProfile,
    NameType,
)
from gssmech.krb5.principal import Principal


def principal_name(name_type: int, components: tuple[str, ...] | list[str]) -> PrincipalName:
    """Build a PrincipalName (RFC 4120 §5.2.2)."""
    return PrincipalName({"name_type": int(name_type), "name_string": list(components)})


def principal_name_of(principal: Principal) -> PrincipalName:
    """The PrincipalName part of ``principal`` (its realm travels in a separate Realm field)."""
    return principal_name(principal.name_type, principal.components)


def realm_of(principal: Principal) -> Realm:
    return Realm(principal.realm)


def to_principal(name: PrincipalName, realm: str | Realm) -> Principal:
    """A Principal from a decoded PrincipalName and the Realm field that accompanies it."""
    realm_text = realm.native if isinstance(realm, Realm) else realm
    return Principal(
        int(name["name_type"]), tuple(name["name_string"].native), str(realm_text or "")
    )


def name_components(name: PrincipalName) -> tuple[str, ...]:
    return tuple(name["name_string"].native)


# --- anonymity ------------------------------------------------------------------------------


def anonymous_principal_name() -> PrincipalName:
    """``WELLKNOWN/ANONYMOUS`` with name-type NT-WELLKNOWN (11) (RFC 8062 §2, RFC 6111)."""
    return principal_name(NameType.WELLKNOWN, ANONYMOUS_COMPONENTS)


def anonymous_realm() -> Realm:
    """The anonymous realm ``WELLKNOWN:ANONYMOUS`` (RFC 8062 §2)."""
    return Realm(ANONYMOUS_REALM)


def is_anonymous_principal_name(name: PrincipalName, *, require_name_type: bool = False) -> bool:
    """True if ``name`` is ``WELLKNOWN/ANONYMOUS``.

    NB(mit): MIT compares only the components (krb5_principal_compare_any_realm); RFC 8062 §2
    says the name-type SHOULD be NT-WELLKNOWN, which ``require_name_type`` enforces.
    """
    if name is None or isinstance(name, core.Void):
        return False
    if name_components(name) != ANONYMOUS_COMPONENTS:
        return False
    return not require_name_type or int(name["name_type"]) == NameType.WELLKNOWN


def anonymous_flag_set(flags: KerberosFlags, profile: AnonProfile = RFC8062) -> bool:
    """The profile's anonymous bit in TicketFlags or KDCOptions."""
    return flags.is_set(profile.anonymous_bit)


def with_anonymous_flag(flags: KerberosFlags, profile: AnonProfile = RFC8062) -> KerberosFlags:
    """A copy of ``flags`` with the profile's anonymous bit set."""
    return flags.with_bits(profile.anonymous_bit)


def anonymous_kdc_options(
    *names: str | int, profile: AnonProfile = RFC8062
) -> KDCOptions:
    """KDCOptions with ``names`` and the profile's request-anonymous bit set."""
    return KDCOptions({*names, profile.anonymous_bit})


class AnonymityStatus(NamedTuple):
    """What a decoded reply or ticket says about anonymity under one profile."""

    #: the profile's anonymous ticket flag is set
    flag: bool
    #: the client name is WELLKNOWN/ANONYMOUS
    anonymous_name: bool
    #: ... and the client realm is WELLKNOWN:ANONYMOUS
    anonymous_realm: bool

    @property
    def is_anonymous(self) -> bool:
        """Flag and name agree that the client is anonymous (RFC 8062 §4.1 client check)."""
        return self.flag and self.anonymous_name

    @property
    def is_fully_anonymous(self) -> bool:
        return self.is_anonymous and self.anonymous_realm

    @property
    def consistent(self) -> bool:
        """Flag and name agree (both set or both clear); a mismatch is a KDC bug or an attack."""
        return self.flag == self.anonymous_name


def anonymity_of(
    flags: TicketFlags, cname: PrincipalName, crealm: str | Realm,
    profile: AnonProfile = RFC8062,
) -> AnonymityStatus:
    realm_text = crealm.native if isinstance(crealm, Realm) else crealm
    return AnonymityStatus(
        flag=anonymous_flag_set(flags, profile),
        anonymous_name=is_anonymous_principal_name(cname),
        anonymous_realm=realm_text == ANONYMOUS_REALM,
    )


def reply_anonymity(
    rep: core.Sequence, enc_part: core.Sequence, profile: AnonProfile = RFC8062
) -> AnonymityStatus:
    """Anonymity of a KDC-REP: flags from its decrypted EncKDCRepPart, name from the reply."""
    return anonymity_of(enc_part["flags"], rep["cname"], rep["crealm"], profile)


def ticket_anonymity(enc_ticket: core.Sequence, profile: AnonProfile = RFC8062) -> AnonymityStatus:
    """Anonymity of a decrypted EncTicketPart (what an acceptor or the KDC sees)."""
    return anonymity_of(enc_ticket["flags"], enc_ticket["cname"], enc_ticket["crealm"], profile)
