"""The KDC's network runner: UDP and TCP on configurable addresses (RFC 4120 §7.2).

TCP is served by asyncio.  Each UDP address gets a daemon thread with a plain blocking socket
(recvfrom, answer, sendto): a UDP exchange is one datagram each way, so the event loop's
per-datagram machinery bought nothing and cost a measurable share of a TGS request.  Requests
from all listeners are answered one at a time, as on the single event loop before, so the
sans-I/O handler never sees concurrent calls.

TCP framing is RFC 4120 §7.2.2: a 4-octet big-endian length, then the message.  A length with
the reserved high bit set or above :data:`MAX_TCP_MESSAGE` closes the connection without a
reply (the high bit announces extensions we do not implement).  A UDP reply larger than
``max_dgram_reply`` is replaced by KRB_ERR_RESPONSE_TOO_BIG so the client retries over TCP.
Every request is handled in its own try block: one bad packet never stops the server.  Logs go
to the ``gssmech.kdc`` logger and never contain keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable

from gssmech.kdc.handler import KDC
from gssmech.kdc.tickets import krb_error
from gssmech.krb5.asn1 import ErrorCode

MAX_TCP_MESSAGE = 1 << 20
#: Seconds a TCP connection may sit idle (or trickle a message) before it is closed.
TCP_IDLE_TIMEOUT = 30.0

log = logging.getLogger("gssmech.kdc")


def parse_listen(text: str, default_port: int = 88) -> tuple[str, int]:
    """``HOST:PORT``, ``[v6]:PORT`` or ``HOST`` -> (host, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or str(default_port)
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, str(default_port)
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"bad listen address {text!r}") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"bad port in listen address {text!r}")
    return host or "0.0.0.0", number


#: Largest datagram accepted; anything longer is truncated by the kernel and fails to decode.
UDP_RECV_SIZE = 65536
#: Bound on joining one UDP thread in close(); it normally exits within a millisecond.
UDP_JOIN_TIMEOUT = 2.0
#: Name prefix of the UDP listener threads.
UDP_THREAD_PREFIX = "gssmech-kdc-udp"


class _UDPListener:
    """One bound UDP socket and the daemon thread answering it."""

    def __init__(self, server: KDCServer, host: str, port: int) -> None:
        self.server = server
        self.sock = _bind_udp(host, port)
        self.stopping = threading.Event()
        bound = self.sock.getsockname()
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"{UDP_THREAD_PREFIX} {bound[0]}:{bound[1]}")

    def _run(self) -> None:
        sock = self.sock
        while not self.stopping.is_set():
            try:
                data, addr = sock.recvfrom(UDP_RECV_SIZE)
            except OSError as exc:  # an ICMP error queued on the socket, ENOBUFS, ...
                if self.stopping.is_set():
                    break
                log.debug("UDP error: %s", exc)
                continue
            if self.stopping.is_set():  # the empty read that shutdown() wakes us with
                break
            try:
                reply = self.server.udp_reply(data, addr)
                if reply is not None:
                    sock.sendto(reply, addr)
            except OSError as exc:
                log.debug("UDP %s: %s", addr, exc)
            except Exception:  # one bad packet never stops the listener
                log.exception("UDP request from %s: unexpected failure", addr)

    def stop(self) -> None:
        """Ask the thread to stop and wake it; :meth:`join` waits for it."""
        self.stopping.set()
        # On Linux, close() from another thread does not wake a recvfrom() blocked on the same
        # socket (the call holds its own reference to the file), and a socket timeout to poll
        # the event would cost an extra poll() per datagram.  shutdown() of an unconnected UDP
        # socket raises ENOTCONN but still marks it shut down and wakes the blocked reader,
        # whose recvfrom() then returns b"" at once.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def join(self) -> None:
        if self.thread.ident is not None:  # started
            self.thread.join(0.2)
            if self.thread.is_alive():  # a kernel where shutdown() does not wake: a datagram will
                self._poke()
                self.thread.join(UDP_JOIN_TIMEOUT)
            if self.thread.is_alive():
                log.warning("%s did not stop", self.thread.name)
        self.sock.close()

    def _poke(self) -> None:
        family = self.sock.family
        host, port = self.sock.getsockname()[:2]
        if host in ("0.0.0.0", "::"):
            host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as s:
            s.sendto(b"", (host, port))


def _bind_udp(host: str, port: int) -> socket.socket:
    """A blocking UDP socket on (host, port), trying each address as asyncio does."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    error: OSError | None = None
    for family, type_, proto, _, sockaddr in infos:
        sock = socket.socket(family, type_, proto)
        try:
            sock.bind(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error or OSError(f"getaddrinfo({host!r}) returned no addresses")


class KDCServer:
    """UDP + TCP listeners around one :class:`KDC`."""

    def __init__(self, kdc: KDC, listen: Iterable[tuple[str, int]], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.kdc = kdc
        self.listen = list(listen)
        self.clock = clock
        self.addresses: list[tuple[str, int]] = []
        self._udp: list[_UDPListener] = []
        self._tcp: list[asyncio.base_events.Server] = []
        # UDP threads and the TCP event loop share one handler whose caches were written for a
        # single caller; serializing keeps that true and costs nothing next to a request.
        self._lock = threading.Lock()

    def answer(self, data: bytes, addr: object) -> bytes | None:
        try:
            with self._lock:
                return self.kdc.handle(bytes(data), now=self.clock(), client_addr=addr)
        except Exception:  # handle() does not raise, but the server must survive regardless
            log.exception("request from %s: unexpected failure", addr)
            return None

    def udp_reply(self, data: bytes, addr: object) -> bytes | None:
        """:meth:`answer`, with replies too big for a datagram turned into an error."""
        reply = self.answer(data, addr)
        if reply is not None and len(reply) > self.kdc.ctx.settings.max_dgram_reply:
            # RFC 4120 §7.2.1: too big for UDP -> the client must retry over TCP
            reply = krb_error(ErrorCode.KRB_ERR_RESPONSE_TOO_BIG, now=self.clock(),
                              realm=self.kdc.realm)
        return reply

    async def start(self) -> None:
        try:
            for host, port in self.listen:
                tcp = await asyncio.start_server(self._serve_tcp, host, port, reuse_address=True)
                self._tcp.append(tcp)
                bound = tcp.sockets[0].getsockname()
                # Same port for UDP, so ":0" gives one free port for both
                udp = _UDPListener(self, host, bound[1])
                self._udp.append(udp)
                udp.thread.start()
                self.addresses.append((bound[0], bound[1]))
                log.info("listening on %s:%d (UDP and TCP)", bound[0], bound[1])
        except BaseException:
            await self.close()  # no listener thread may outlive a failed start
            raise

    async def _serve_tcp(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    header = await asyncio.wait_for(reader.readexactly(4), TCP_IDLE_TIMEOUT)
                except (asyncio.IncompleteReadError, TimeoutError):
                    return
                (length,) = struct.unpack(">I", header)
                if length & 0x80000000 or length > MAX_TCP_MESSAGE:
                    log.info("TCP %s: length %#x refused, closing", peer, length)
                    return
                try:
                    data = await asyncio.wait_for(reader.readexactly(length), TCP_IDLE_TIMEOUT)
                except (asyncio.IncompleteReadError, TimeoutError):
                    return
                reply = self.answer(data, peer)
                if reply is None:
                    return
                writer.write(struct.pack(">I", len(reply)) + reply)
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            log.debug("TCP %s: %s", peer, exc)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def close(self) -> None:
        self.close_udp()
        for tcp in self._tcp:
            tcp.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(tcp.wait_closed(), 2)
        self._tcp.clear()

    def close_udp(self) -> None:
        """Stop every UDP thread and wait for it (all are woken first, then joined)."""
        for udp in self._udp:
            udp.stop()
        for udp in self._udp:
            udp.join()
        self._udp.clear()


async def serve_until(server: KDCServer, stop: asyncio.Event) -> None:
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.close()
        log.info("stopped")


def run_forever(kdc: KDC, listen: Iterable[tuple[str, int]]) -> None:
    """Foreground server for ``gssmech kdc serve``: stops cleanly on SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve_until(KDCServer(kdc, listen), stop)

    asyncio.run(main())


class ThreadedKDC:
    """A server on its own event loop in a background thread (tests, benchmarks, demos)."""

    def __init__(self, kdc: KDC, listen: Iterable[tuple[str, int]] = (("127.0.0.1", 0),)) -> None:
        self.server = KDCServer(kdc, listen)
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gssmech-kdc", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            try:
                await self.server.start()
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            await self._stop.wait()
            await self.server.close()

        self._loop.run_until_complete(main())
        self._loop.close()

    def start(self) -> ThreadedKDC:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    @property
    def address(self) -> tuple[str, int]:
        return self.server.addresses[0]

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> ThreadedKDC:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["MAX_TCP_MESSAGE", "UDP_THREAD_PREFIX", "KDCServer", "ThreadedKDC", "parse_listen",
           "run_forever", "serve_until"]
