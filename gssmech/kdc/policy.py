"""Realm settings and local policy of the embedded KDC (seed §4.1, §4.2, §7).

:class:`KDCSettings` is the realm configuration kept in ``D/kdc.json`` (no secrets in it):
lifetimes, clock skew, the anonymity wire profile (RFC 8062 by default, draft-08 selectable),
and the seed §7 policies -- ``restrict_anonymous_to_tgt``, services that must never get a
normal ticket (``require_anonymous``) and services that refuse anonymous clients
(``refuse_anonymous``).  ``anonymous_authdata`` gives the local policy for authorization-data
types the KDC does not know when it issues an anonymous ticket (seed §4.2, K9).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from gssmech.errors import ConfigError
from gssmech.krb5.asn1.numbers import AuthDataType
from gssmech.krb5.constants import PROFILES, AnonProfile, Enctype, anon_profile

#: Default enctypes of new keys, strongest first (RFC 3962, RFC 8009).
DEFAULT_KEY_ENCTYPES: tuple[int, ...] = (
    Enctype.AES256_CTS_HMAC_SHA1_96,
    Enctype.AES128_CTS_HMAC_SHA1_96,
    Enctype.AES256_CTS_HMAC_SHA384_192,
    Enctype.AES128_CTS_HMAC_SHA256_128,
)

# --- authorization data and anonymity (seed §4.2, K9) ---------------------------------------
#: Leaf types that name or describe the client: removed from anonymous tickets.
AD_REVEALS_IDENTITY: frozenset[int] = frozenset(
    {
        AuthDataType.AD_INITIAL_VERIFIED_CAS,  # issuer of the client certificate (RFC 4556)
        AuthDataType.AD_WIN2K_PAC,  # user SID, groups, logon name
        AuthDataType.AD_CAMMAC,  # KDC-verified client attributes
        AuthDataType.AD_AUTH_INDICATOR,  # how the client authenticated (links to a method)
        AuthDataType.OSF_DCE,  # DCE PAC: principal UUIDs
        AuthDataType.SESAME,
    }
)
#: Leaf types that restrict the ticket without naming the client: kept.
AD_RESTRICTS_ONLY: frozenset[int] = frozenset(
    {
        AuthDataType.AD_INTENDED_FOR_SERVER,
        AuthDataType.AD_INTENDED_FOR_APPLICATION_CLASS,
        AuthDataType.AD_ETYPE_NEGOTIATION,
    }
)
#: Containers whose content restricts use (RFC 4120 §5.2.6.2-§5.2.6.4): never silently edited.
AD_RESTRICTIVE_CONTAINERS: frozenset[int] = frozenset(
    {AuthDataType.AD_KDC_ISSUED, AuthDataType.AD_AND_OR, AuthDataType.AD_MANDATORY_FOR_KDC}
)
AD_ACTIONS = ("remove", "keep", "reject")


@dataclass(frozen=True, slots=True)
class KDCSettings:
    """One realm's KDC configuration (times in seconds)."""

    realm: str
    listen: tuple[str, ...] = ("127.0.0.1:88",)
    #: anonymity wire profile name: "rfc8062" (bit 16, PA_PKINIT_KX 147) or "draft-08"
    profile: str = "rfc8062"
    max_life: int = 10 * 3600
    max_renew: int = 7 * 86400
    clock_skew: int = 300
    #: seed §4.2 says an anonymous TGT without the anonymous option MUST be refused
    #: (KDC_ERR_BADOPTION); RFC 8062 §4.2 relaxed it, MIT/Heimdal treat the option as set.
    tgs_anonymous_requires_option: bool = False
    #: anonymous clients only get TGTs for this realm (MIT's restrict_anonymous_to_tgt)
    restrict_anonymous_to_tgt: bool = False
    #: services for which a normal (non-anonymous) ticket is NEVER issued (seed §7)
    require_anonymous: tuple[str, ...] = ()
    #: services that refuse anonymous clients
    refuse_anonymous: tuple[str, ...] = ()
    #: anonymous PKINIT and authenticated anonymity enabled at all
    allow_anonymous: bool = True
    #: local policy for unknown authorization-data types in anonymous tickets: ad-type -> action
    anonymous_authdata: dict[int, str] = field(default_factory=dict)
    #: largest UDP reply before KRB_ERR_RESPONSE_TOO_BIG (MIT kdc_max_dgram_reply_size)
    max_dgram_reply: int = 4096
    #: RFC 6806 referrals: host domain suffix -> realm; only served when this realm holds
    #: the cross-realm key krbtgt/OTHER@REALM
    referrals: dict[str, str] = field(default_factory=dict)
    key_enctypes: tuple[int, ...] = DEFAULT_KEY_ENCTYPES

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ConfigError(f"unknown anonymity profile {self.profile!r}", source="kdc.json")
        for ad_type, action in self.anonymous_authdata.items():
            if action not in AD_ACTIONS:
                raise ConfigError(
                    f"authdata policy for {ad_type}: {action!r} not in {AD_ACTIONS}",
                    source="kdc.json",
                )

    @property
    def anon(self) -> AnonProfile:
        return anon_profile(self.profile)

    # --- JSON (kdc.json) ---------------------------------------------------------------------
    def to_json(self) -> str:
        data = asdict(self)
        data["anonymous_authdata"] = {str(k): v for k, v in self.anonymous_authdata.items()}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "kdc.json") -> KDCSettings:
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"not JSON: {exc}", source=source) from None
        if not isinstance(raw, dict) or not isinstance(raw.get("realm"), str):
            raise ConfigError("expected an object with a 'realm' string", source=source)
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"unknown settings {sorted(unknown)}", source=source)
        kwargs: dict[str, Any] = {}
        try:
            for key, value in raw.items():
                if key in ("listen", "require_anonymous", "refuse_anonymous"):
                    kwargs[key] = tuple(str(v) for v in value)
                elif key == "key_enctypes":
                    kwargs[key] = tuple(int(v) for v in value)
                elif key == "referrals":
                    kwargs[key] = {str(k): str(v) for k, v in dict(value).items()}
                elif key == "anonymous_authdata":
                    kwargs[key] = {int(k): str(v) for k, v in dict(value).items()}
                else:
                    kind = cls.__dataclass_fields__[key].type
                    want = {"str": str, "int": int, "bool": bool}[kind]
                    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                        raise TypeError(f"{key} must be {want.__name__}")
                    kwargs[key] = value
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad value: {exc}", source=source) from None


__all__ = [
    "AD_RESTRICTIVE_CONTAINERS",
    "AD_RESTRICTS_ONLY",
    "AD_REVEALS_IDENTITY",
    "DEFAULT_KEY_ENCTYPES",
    "KDCSettings",
]
