"""The asyncio UDP/TCP runner: RFC 4120 §7.2 framing, bad packets, SIGTERM shutdown."""

from __future__ import annotations

import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gssmech.kdc.realm import init_realm
from gssmech.kdc.server import ThreadedKDC, parse_listen
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
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, addr)
        try:
            return s.recv(65535)
        except TimeoutError:
            return None


def tcp(addr: tuple[str, int], *frames: bytes, raw: bytes | None = None) -> list[bytes | None]:
    """Send framed messages on one connection; None marks a closed connection."""
    out: list[bytes | None] = []
    with socket.create_connection(addr, timeout=5) as s:
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
