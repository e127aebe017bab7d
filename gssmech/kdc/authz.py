"""Authorization data in anonymous tickets (seed §4.1 and §4.2, K4/K9).

The TGS "MUST process the authorization data recursively ... beyond the container levels such
that all embedded authorization elements are interpreted" (seed §4.2).  For an anonymous
ticket each leaf is classified by :mod:`gssmech.kdc.policy`:

- reveals identity (PAC, AD-INITIAL-VERIFIED-CAS, CAMMAC, ...): removed;
- restricts the ticket without naming the client (AD-INTENDED-FOR-SERVER ...): kept;
- unknown: the realm's local policy (``anonymous_authdata``: remove / keep / reject), and with
  no policy the request is rejected with KDC_ERR_POLICY.

AD-IF-RELEVANT containers are rebuilt from their filtered content (dropped when emptied).
Restrictive containers (AD-KDCIssued, AD-AND-OR, AD-MANDATORY-FOR-KDC) cannot be edited
without changing what they restrict (and AD-KDCIssued is checksummed), so they are kept only
when every leaf inside may stay; otherwise KDC_ERR_POLICY ("it cannot be removed in order to
hide the client's identity").
"""

from __future__ import annotations

from collections.abc import Iterable

from asn1crypto import core

from gssmech.errors import DecodeError
from gssmech.kdc.errors import KDCError
from gssmech.kdc.policy import (
    AD_RESTRICTIVE_CONTAINERS,
    AD_RESTRICTS_ONLY,
    AD_REVEALS_IDENTITY,
    KDCSettings,
)
from gssmech.krb5.asn1 import (
    MAX_AUTHDATA_DEPTH,
    ADIfRelevant,
    AuthDataType,
    AuthorizationData,
    ErrorCode,
    container_elements,
    walk_authdata,
)

Element = tuple[int, bytes]


def leaf_action(ad_type: int, settings: KDCSettings) -> str:
    """"remove", "keep" or "reject" for one non-container element in an anonymous ticket."""
    if ad_type in AD_REVEALS_IDENTITY:
        return "remove"
    if ad_type in AD_RESTRICTS_ONLY:
        return "keep"
    return settings.anonymous_authdata.get(ad_type, "reject")


def elements_of(authdata: AuthorizationData | None) -> list[Element]:
    if authdata is None or isinstance(authdata, core.Void):
        return []
    return [(int(e["ad_type"]), bytes(e["ad_data"].native)) for e in authdata]


def filter_for_anonymous(elements: Iterable[Element], settings: KDCSettings) -> list[Element]:
    """The authorization data an anonymous ticket may carry (K9); KDCError(KDC_ERR_POLICY)
    when something identifying cannot be removed or an unknown type has no local policy."""
    try:
        return _filter(list(elements), settings, 0)
    except DecodeError:
        raise KDCError(ErrorCode.KDC_ERR_POLICY, "malformed authorization data") from None


def _filter(elements: list[Element], settings: KDCSettings, depth: int) -> list[Element]:
    if depth > MAX_AUTHDATA_DEPTH:
        raise KDCError(ErrorCode.KDC_ERR_POLICY, "authorization data nested too deeply")
    out: list[Element] = []
    for ad_type, ad_data in elements:
        if ad_type == AuthDataType.AD_IF_RELEVANT:
            inner = elements_of(container_elements(ad_type, ad_data))
            kept = _filter(inner, settings, depth + 1)
            if kept:
                out.append((ad_type, to_authdata(kept, ADIfRelevant).dump()))
        elif ad_type in AD_RESTRICTIVE_CONTAINERS:
            whole = AuthorizationData([{"ad_type": ad_type, "ad_data": ad_data}])
            for leaf in walk_authdata(whole, max_depth=MAX_AUTHDATA_DEPTH):
                if leaf_action(leaf.ad_type, settings) != "keep":
                    raise KDCError(ErrorCode.KDC_ERR_POLICY,
                                   "restrictive authorization data would reveal the client")
            out.append((ad_type, ad_data))
        else:
            action = leaf_action(ad_type, settings)
            if action == "keep":
                out.append((ad_type, ad_data))
            elif action == "reject":
                raise KDCError(ErrorCode.KDC_ERR_POLICY,
                               f"no anonymity policy for authorization data type {ad_type}")
    return out


def to_authdata(elements: Iterable[Element], cls: type = AuthorizationData) -> AuthorizationData:
    return cls([{"ad_type": t, "ad_data": d} for t, d in elements])


__all__ = ["elements_of", "filter_for_anonymous", "leaf_action", "to_authdata"]
