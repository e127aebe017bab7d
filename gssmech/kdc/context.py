"""What every request handler needs: the database, the settings, the PKINIT identity, and the
injected randomness and logger (sans-I/O: no clock here, ``now`` is passed per request)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gssmech.kdc.db import PrincipalEntry
from gssmech.kdc.policy import KDCSettings
from gssmech.krb5.principal import Principal


class PrincipalStore(Protocol):
    """What the KDC reads from a realm database (``RealmDB`` or a test double)."""

    def lookup(self, principal: Principal) -> PrincipalEntry | None: ...


@dataclass(frozen=True, slots=True)
class PkinitIdentity:
    """The KDC's PKINIT certificate and key (RFC 4556 §3.2.3): ``cert_der`` signs replies,
    ``chain_der`` are extra certificates to include (intermediate CAs)."""

    cert_der: bytes
    private_key: Any = field(repr=False)  # cryptography RSA/EC private key
    chain_der: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class KDCContext:
    db: PrincipalStore
    settings: KDCSettings
    pkinit: PkinitIdentity | None = None
    #: randomness for session keys, contribution keys and confounders (os.urandom by default)
    rand: Callable[[int], bytes] = os.urandom
    #: DH/ECDH key generation for PKINIT: (group_or_curve) -> private key; None = kex default
    dh_keygen: Callable[[Any], Any] | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("gssmech.kdc"))
    #: opened TGTs by ciphertext (gssmech.kdc.tgt): the one mutable, per-KDC piece of state
    ticket_cache: dict[bytes, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def realm(self) -> str:
        return self.settings.realm
