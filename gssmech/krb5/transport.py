"""Sending a KDC request to a realm's KDCs (RFC 4120 §7.2): the only module here with sockets.

- UDP first when the request is at most ``udp_preference_limit`` bytes (MIT default 1465),
  TCP otherwise; a UDP reply that is KRB_ERR_RESPONSE_TOO_BIG (52) is retried over TCP at the
  same KDC (§7.2.1).
- TCP framing is a 4-byte big-endian length whose high bit is reserved (§7.2.2): a reply with
  it set, or longer than ``MAX_TCP_MESSAGE``, is refused instead of read.
- Failover: each pass tries every KDC in configured order, waiting 1 s, then 2 s, then 4 s,
  the way MIT's sendto_kdc backs off; the first reply wins.

KDC strings follow krb5.conf ``kdc =`` syntax: ``host``, ``host:port``, ``[v6addr]:port``,
optionally prefixed ``tcp/`` or ``udp/``.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gssmech.errors import DecodeError, GSSMechError, Minor
from gssmech.krb5.asn1 import KRBError, decode

DEFAULT_PORT = 88
MAX_TCP_MESSAGE = 1 << 20  # generous for PKINIT replies with certificate chains
KRB_ERR_RESPONSE_TOO_BIG = 52
_LENGTH = struct.Struct(">I")


class KDCUnreachable(GSSMechError):
    """No KDC of the realm answered (MIT: "Cannot contact any KDC for realm")."""

    MINOR = Minor.KDC_ERROR


@dataclass(frozen=True, slots=True)
class KDCAddress:
    host: str
    port: int = DEFAULT_PORT
    transport: str = "any"  # "udp", "tcp" or "any"

    @classmethod
    def parse(cls, text: str) -> KDCAddress:
        t = text.strip()
        transport = "any"
        for prefix in ("tcp/", "udp/"):
            if t.lower().startswith(prefix):
                transport, t = prefix[:3], t[4:]
        port = DEFAULT_PORT
        if t.startswith("["):
            host, _, rest = t[1:].partition("]")
            if rest.startswith(":"):
                port = _port(rest[1:], text)
        elif t.count(":") == 1:
            host, p = t.split(":")
            port = _port(p, text)
        else:
            host = t
        if not host:
            raise GSSMechError(f"bad KDC address {text!r}", minor=Minor.CONFIG_SYNTAX)
        return cls(host, port, transport)


def _port(p: str, text: str) -> int:
    if not p.isdigit() or not 0 < int(p) < 65536:
        raise GSSMechError(f"bad port in KDC address {text!r}", minor=Minor.CONFIG_SYNTAX)
    return int(p)


def tcp_frame(message: bytes) -> bytes:
    """RFC 4120 §7.2.2: length prefix with the reserved high bit clear."""
    if len(message) >= 1 << 31:
        raise ValueError("message too long for TCP framing")
    return _LENGTH.pack(len(message)) + message


def is_response_too_big(reply: bytes) -> bool:
    """Whether a UDP reply is KRB-ERROR with error-code 52 (checked without a full decode).

    KRB-ERROR is [APPLICATION 30] (0x7e); anything else is not worth decoding here.
    """
    if not reply or reply[0] != 0x7E:
        return False
    try:
        err = decode(KRBError, reply, what="KRB-ERROR from KDC")
    except DecodeError:
        return False  # a malformed reply is not "too big"; the caller reports it
    return int(err["error_code"].native) == KRB_ERR_RESPONSE_TOO_BIG


def _udp_exchange(addr: tuple, family: int, message: bytes, timeout: float) -> bytes | None:
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.connect(addr)
        s.send(message)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            s.settimeout(remaining)
            try:
                return s.recv(65536)
            except TimeoutError:
                return None
            except ConnectionRefusedError:
                return None


def _recv_exact(s: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = s.recv(min(n, 65536))
        if not chunk:
            raise ConnectionError("KDC closed the connection early")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _tcp_exchange(addr: tuple, family: int, message: bytes, timeout: float) -> bytes | None:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(addr)
            s.sendall(tcp_frame(message))
            (n,) = _LENGTH.unpack(_recv_exact(s, 4))
            if n & 0x80000000 or n > MAX_TCP_MESSAGE:
                return None
            return _recv_exact(s, n)
    except (OSError, ConnectionError):
        return None


def _resolve(kdc: KDCAddress, kind: int) -> list[tuple[int, tuple]]:
    try:
        infos = socket.getaddrinfo(kdc.host, kdc.port, type=kind)
    except socket.gaierror:
        return []
    return [(fam, sa) for fam, _t, _p, _c, sa in infos]


def send_to_kdc(
    message: bytes,
    kdcs: Sequence[str | KDCAddress],
    *,
    realm: str = "",
    udp_preference_limit: int = 1465,
    timeouts: Sequence[float] = (1.0, 2.0, 4.0),
    udp: Callable[[tuple, int, bytes, float], bytes | None] = _udp_exchange,
    tcp: Callable[[tuple, int, bytes, float], bytes | None] = _tcp_exchange,
) -> bytes:
    """Send ``message`` and return the first reply from any of ``kdcs``.

    ``udp``/``tcp`` are injectable so the retry logic is testable without a network.
    """
    addrs = [k if isinstance(k, KDCAddress) else KDCAddress.parse(k) for k in kdcs]
    if not addrs:
        raise KDCUnreachable(f"Cannot find KDC for realm \"{realm}\"")
    prefer_tcp = len(message) > udp_preference_limit
    for timeout in timeouts:
        for kdc in addrs:
            use_udp = kdc.transport == "udp" or (kdc.transport == "any" and not prefer_tcp)
            if use_udp:
                for fam, sa in _resolve(kdc, socket.SOCK_DGRAM):
                    reply = udp(sa, fam, message, timeout)
                    if reply is None:
                        continue
                    if not is_response_too_big(reply) or kdc.transport == "udp":
                        return reply
                    break  # §7.2.1: retry the same KDC over TCP
                else:
                    continue
            for fam, sa in _resolve(kdc, socket.SOCK_STREAM):
                reply = tcp(sa, fam, message, timeout)
                if reply is not None:
                    return reply
    raise KDCUnreachable(f"Cannot contact any KDC for realm '{realm}'")
