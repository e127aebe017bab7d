"""The UDP-thread/asyncio-TCP runner: RFC 4120 §7.2 framing, bad packets, shutdown."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gssmech.kdc.realm import init_realm
from gssmech.kdc.server import UDP_THREAD_PREFIX, KDCServer, ThreadedKDC, parse_listen
from gssmech.krb5.asn1 import ASRep, ErrorCode
from gssmech.krb5.principal import Principal
from tests.interop.mitrealm import free_port
from tests.test_kdc_testlib import (
    USER,
    as_req,
    enc_ts,
    error_code,
    make_kdc,
    parse_reply,
    user_key,
    with_settings,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedKDC]:
    with ThreadedKDC(make_kdc()) as srv:
        yield srv


def _valid() -> bytes:
    now = time.time()
    return as_req(USER, padata=[enc_ts(user_key(), now)], now=now)


def udp(addr: tuple[str, int], data: bytes, timeout: float = 2.0) -> bytes | None:
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, addr)
        try:
            return s.recv(65535)
        except TimeoutError:
            return None


def tcp(addr: tuple[str, int], *frames: bytes, raw: bytes | None = None) -> list[bytes | None]:
    """Send framed messages on one connection; None marks a closed connection."""
    out: list[bytes | None] = []
    with socket.create_connection(addr[:2], timeout=5) as s:
        if raw is not None:
            s.sendall(raw)
            out.append(_read_frame(s))
            return out
        for frame in frames:
            s.sendall(struct.pack(">I", len(frame)) + frame)
            out.append(_read_frame(s))
    return out


def _read_frame(s: socket.socket) -> bytes | None:
    head = _recv_exact(s, 4)
    if head is None:
        return None
    return _recv_exact(s, struct.unpack(">I", head)[0])


def _recv_exact(s: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        try:
            chunk = s.recv(n - len(buf))
        except (ConnectionResetError, TimeoutError):
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:88") == ("127.0.0.1", 88)
    assert parse_listen("[::1]:750") == ("::1", 750)
    assert parse_listen("kdc.example") == ("kdc.example", 88)
    with pytest.raises(ValueError):
        parse_listen("h:99999")


def test_udp_and_tcp_valid_exchange(server: ThreadedKDC) -> None:
    assert isinstance(parse_reply(udp(server.address, _valid())), ASRep)
    replies = tcp(server.address, _valid(), _valid())  # two requests on one connection
    assert all(isinstance(parse_reply(r), ASRep) for r in replies)


def test_burst_of_malformed_packets_then_valid_exchange(server: ThreadedKDC) -> None:
    rnd = random.Random(7)
    valid = _valid()
    junk = [rnd.randbytes(rnd.randrange(1, 1400)) for _ in range(60)]
    junk += [valid[:n] for n in range(1, len(valid), 17)]
    junk += [b"\x6a" + rnd.randbytes(40) for _ in range(20)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for packet in junk:
            s.sendto(packet, server.address)
    for packet in junk[:10] + junk[-10:]:  # TCP: each bad message gets an error or a close
        reply = tcp(server.address, packet)[0]
        if reply is not None:
            assert error_code(reply) in (ErrorCode.KRB_ERR_GENERIC,)
    # oversized and reserved-bit lengths close the connection without a reply
    assert tcp(server.address, raw=struct.pack(">I", (1 << 20) + 1)) == [None]
    assert tcp(server.address, raw=struct.pack(">I", 0x80000010) + b"x" * 16) == [None]
    # a truncated frame, then the peer goes away
    with socket.create_connection(server.address) as s:
        s.sendall(struct.pack(">I", 500) + b"\x6a\x82")
    assert isinstance(parse_reply(udp(server.address, _valid())), ASRep)
    assert isinstance(parse_reply(tcp(server.address, _valid())[0]), ASRep)


def test_udp_reply_too_big_sends_error() -> None:
    kdc = with_settings(make_kdc(), max_dgram_reply=200)
    with ThreadedKDC(kdc) as srv:
        assert error_code(udp(srv.address, _valid())) == ErrorCode.KRB_ERR_RESPONSE_TOO_BIG
        assert isinstance(parse_reply(tcp(srv.address, _valid())[0]), ASRep)


def test_serve_subprocess_stops_on_sigterm_and_logs_no_secrets(tmp_path: Path) -> None:
    port = free_port()
    db = init_realm(tmp_path, "SERVE.TEST", listen=(f"127.0.0.1:{port}",))
    entry = db.add_principal(Principal.parse("u@SERVE.TEST"), password="pw")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "gssmech.kdc", "serve", "--dir",
                             str(tmp_path), "-v"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        reply = udp(("127.0.0.1", port), b"\x6a\x03\x02\x01\x05")
        assert error_code(reply) == ErrorCode.KRB_ERR_GENERIC
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "listening on" in err and "stopped" in err
    for key in entry.keys:
        assert key.key.contents.hex() not in err


def _udp_threads(port: int) -> list[threading.Thread]:
    return [t for t in threading.enumerate()
            if t.name.startswith(UDP_THREAD_PREFIX) and t.name.endswith(f":{port}")]


def test_ephemeral_port_is_shared_by_udp_and_tcp() -> None:
    with ThreadedKDC(make_kdc(), listen=[("127.0.0.1", 0)]) as srv:
        host, port = srv.address
        assert port != 0
        assert [t.daemon for t in _udp_threads(port)] == [True]
        assert isinstance(parse_reply(udp((host, port), _valid())), ASRep)
        assert isinstance(parse_reply(tcp((host, port), _valid())[0]), ASRep)


def test_garbage_datagram_gets_no_reply_then_valid_answered(server: ThreadedKDC) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        for junk in (b"", b"\x00garbage", b"\x30\x03\x02\x01\x05"):  # not AS-/TGS-REQ tags
            s.sendto(junk, server.address)
            with pytest.raises(TimeoutError):
                s.recv(65535)
        s.settimeout(5)
        s.sendto(_valid(), server.address)  # same client socket: the server still answers it
        assert isinstance(parse_reply(s.recv(65535)), ASRep)


def test_udp_listener_survives_failures_while_answering() -> None:
    with ThreadedKDC(make_kdc()) as srv:
        real = srv.server.udp_reply
        failures = [OSError("sendto-like failure"), RuntimeError("bug")]

        def flaky(data: bytes, addr: object) -> bytes | None:
            if failures:
                raise failures.pop(0)
            return real(data, addr)

        srv.server.udp_reply = flaky  # type: ignore[method-assign]
        assert udp(srv.address, _valid(), timeout=0.5) is None
        assert udp(srv.address, _valid(), timeout=0.5) is None
        assert not failures
        assert isinstance(parse_reply(udp(srv.address, _valid())), ASRep)


def test_stop_joins_every_udp_thread_promptly() -> None:
    srv = ThreadedKDC(make_kdc(), listen=[("127.0.0.1", 0), ("127.0.0.1", 0)]).start()
    ports = [port for _, port in srv.server.addresses]
    assert len(set(ports)) == 2 and all(len(_udp_threads(p)) == 1 for p in ports)
    assert isinstance(parse_reply(udp(srv.server.addresses[1], _valid())), ASRep)
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 0.15  # woken at once, not by the fallback poke
    assert not srv._thread.is_alive()
    assert [t.name for p in ports for t in _udp_threads(p)] == []
    assert udp(srv.server.addresses[0], _valid(), timeout=0.3) is None


def test_server_close_in_caller_loop_and_failed_start_leave_no_thread() -> None:
    async def cycle() -> tuple[int, float]:
        server = KDCServer(make_kdc(), [("127.0.0.1", 0)])
        await server.start()
        port = server.addresses[0][1]
        assert len(_udp_threads(port)) == 1
        reply = await asyncio.to_thread(udp, server.addresses[0], _valid())
        assert isinstance(parse_reply(reply), ASRep)
        started = time.monotonic()
        await server.close()
        return port, time.monotonic() - started

    port, took = asyncio.run(cycle())
    assert took < 0.15 and _udp_threads(port) == []

    async def failing(busy_port: int) -> None:
        # the first listener starts its thread, the second cannot bind: start() must undo both
        await KDCServer(make_kdc(), [("127.0.0.1", 0), ("127.0.0.1", busy_port)]).start()

    before = {t.ident for t in threading.enumerate()}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError):
            asyncio.run(failing(busy.getsockname()[1]))
    leaked = [t.name for t in threading.enumerate()
              if t.ident not in before and t.name.startswith(UDP_THREAD_PREFIX)]
    assert leaked == []


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_loopback_listener() -> None:
    with ThreadedKDC(make_kdc(), listen=[parse_listen("[::1]:0")]) as srv:
        host, port = srv.address
        assert host == "::1" and port != 0
        assert isinstance(parse_reply(udp((host, port), _valid())), ASRep)
        assert isinstance(parse_reply(tcp((host, port), _valid())[0]), ASRep)
    assert _udp_threads(port) == []
