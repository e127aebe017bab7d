"""Thin I/O driver for the sans-I/O exchanges: send each request to a KDC of the realm the
exchange names (RFC 4120 §7.2 via :mod:`gssmech.krb5.transport`) until a result comes back."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from gssmech.krb5.client.results import KDCReply, ReplyError
from gssmech.krb5.transport import send_to_kdc

#: AS: first try, PREAUTH_REQUIRED, one skew retry; TGS referrals add a few more.
MAX_ROUND_TRIPS = 8


class Exchange(Protocol):
    @property
    def realm(self) -> str: ...

    def start(self, now: float) -> bytes: ...

    def handle(self, reply: bytes, now: float) -> bytes | KDCReply: ...


def run(
    exchange: Exchange,
    kdcs_for: Callable[[str], Sequence[str]],
    *,
    clock: Callable[[], float] = time.time,
    send: Callable[..., bytes] = send_to_kdc,
) -> KDCReply:
    """Drive ``exchange`` to completion; ``kdcs_for(realm)`` lists the KDCs of a realm."""
    message = exchange.start(clock())
    for _ in range(MAX_ROUND_TRIPS):
        realm = exchange.realm
        reply = send(message, list(kdcs_for(realm)), realm=realm)
        out = exchange.handle(reply, clock())
        if isinstance(out, KDCReply):
            return out
        message = out
    raise ReplyError("too many round trips with the KDC")
