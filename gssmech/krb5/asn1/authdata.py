"""Authorization-data containers (RFC 4120 §5.2.6.1-§5.2.6.4) and a bounded recursive walk.

``ad-data`` of the container types holds the DER of another structure; :func:`walk_authdata`
opens AD-IF-RELEVANT (1), AD-KDCIssued (4), AD-AND-OR (5) and AD-MANDATORY-FOR-KDC (8)
recursively so callers (the acceptor's PAC/CAMMAC checks, the KDC) see the leaves with their
nesting path.  Depth is capped so hostile nesting cannot exhaust the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from asn1crypto import core

from gssmech.errors import DecodeError
from gssmech.krb5.asn1.base import AuthorizationData, Checksum, Int32, PrincipalName, Realm
from gssmech.krb5.asn1.decode import decode
from gssmech.krb5.asn1.numbers import AuthDataType

#: Deepest container nesting accepted (MIT has no fixed limit; real tickets nest 2 levels).
MAX_AUTHDATA_DEPTH = 8


class ADIfRelevant(AuthorizationData):
    """``AD-IF-RELEVANT ::= AuthorizationData`` (RFC 4120 §5.2.6.1), ad-type 1."""


class ADKDCIssued(core.Sequence):
    """``AD-KDCIssued ::= SEQUENCE { ad-checksum [0] Checksum, i-realm [1] Realm OPTIONAL,
    i-sname [2] PrincipalName OPTIONAL, elements [3] AuthorizationData }``
    (RFC 4120 §5.2.6.2), ad-type 4."""

    _fields = [
        ("ad_checksum", Checksum, {"explicit": 0}),
        ("i_realm", Realm, {"explicit": 1, "optional": True}),
        ("i_sname", PrincipalName, {"explicit": 2, "optional": True}),
        ("elements", AuthorizationData, {"explicit": 3}),
    ]


class ADAndOr(core.Sequence):
    """``AD-AND-OR ::= SEQUENCE { condition-count [0] Int32, elements [1] AuthorizationData }``
    (RFC 4120 §5.2.6.3), ad-type 5."""

    _fields = [
        ("condition_count", Int32, {"explicit": 0}),
        ("elements", AuthorizationData, {"explicit": 1}),
    ]


class ADMandatoryForKDC(AuthorizationData):
    """``AD-MANDATORY-FOR-KDC ::= AuthorizationData`` (RFC 4120 §5.2.6.4), ad-type 8."""


class ADLeaf(NamedTuple):
    """One non-container authorization-data element found by :func:`walk_authdata`."""

    #: the element's ad-type
    ad_type: int
    #: its ad-data octets
    ad_data: bytes
    #: ad-types of the containers it sits in, outermost first (empty at top level)
    path: tuple[int, ...]


def container_elements(ad_type: int, ad_data: bytes) -> AuthorizationData | None:
    """The inner AuthorizationData of a container element, or None for a leaf type."""
    if ad_type == AuthDataType.AD_IF_RELEVANT:
        return decode(ADIfRelevant, ad_data, what="AD-IF-RELEVANT")
    if ad_type == AuthDataType.AD_MANDATORY_FOR_KDC:
        return decode(ADMandatoryForKDC, ad_data, what="AD-MANDATORY-FOR-KDC")
    if ad_type == AuthDataType.AD_KDC_ISSUED:
        return decode(ADKDCIssued, ad_data, what="AD-KDCIssued")["elements"]
    if ad_type == AuthDataType.AD_AND_OR:
        return decode(ADAndOr, ad_data, what="AD-AND-OR")["elements"]
    return None


def walk_authdata(
    authdata: AuthorizationData | None, *, max_depth: int = MAX_AUTHDATA_DEPTH
) -> Iterator[ADLeaf]:
    """Yield every leaf element of ``authdata``, opening containers recursively.

    Raises DecodeError if a container's ad-data is malformed or nesting exceeds ``max_depth``.
    """
    if authdata is None:
        return
    yield from _walk(authdata, (), max_depth)


def _walk(authdata: AuthorizationData, path: tuple[int, ...], max_depth: int) -> Iterator[ADLeaf]:
    for element in authdata:
        ad_type = int(element["ad_type"])
        ad_data = bytes(element["ad_data"].native)
        inner = container_elements(ad_type, ad_data)
        if inner is None:
            yield ADLeaf(ad_type, ad_data, path)
            continue
        if len(path) + 1 > max_depth:
            raise DecodeError(f"authorization data nested deeper than {max_depth}",
                              source="AuthorizationData")
        yield from _walk(inner, (*path, ad_type), max_depth)


def find_authdata(authdata: AuthorizationData | None, ad_type: int) -> list[ADLeaf]:
    """All leaves of type ``ad_type`` anywhere in ``authdata``."""
    return [leaf for leaf in walk_authdata(authdata) if leaf.ad_type == ad_type]
