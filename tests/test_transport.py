"""KDC transport (RFC 4120 §7.2): address syntax, TCP framing, UDP→TCP fallback, failover."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest

from gssmech.krb5.transport import (
    KDCAddress,
    KDCUnreachable,
    is_response_too_big,
    send_to_kdc,
    tcp_frame,
)


def test_address_syntax():
    assert KDCAddress.parse("kdc.example.com") == KDCAddress("kdc.example.com", 88, "any")
    assert KDCAddress.parse("127.0.0.1:6088") == KDCAddress("127.0.0.1", 6088)
    assert KDCAddress.parse("[::1]:750") == KDCAddress("::1", 750)
    assert KDCAddress.parse("tcp/kdc:89") == KDCAddress("kdc", 89, "tcp")
    assert KDCAddress.parse("udp/kdc") == KDCAddress("kdc", 88, "udp")
    with pytest.raises(Exception, match="bad port"):
        KDCAddress.parse("kdc:99999")


def test_tcp_frame():
    assert tcp_frame(b"abc") == b"\x00\x00\x00\x03abc"


class Servers:
    """Loopback UDP and TCP responders on one port, recording what they were sent."""

    def __init__(
        self,
        udp_reply: Callable[[bytes], bytes | None],
        tcp_reply: Callable[[bytes], bytes],
    ):
        self.udp_seen: list[bytes] = []
        self.tcp_seen: list[bytes] = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self._udp_reply, self._tcp_reply = udp_reply, tcp_reply
        threading.Thread(target=self._serve_udp, daemon=True).start()
        threading.Thread(target=self._serve_tcp, daemon=True).start()

    def _serve_udp(self) -> None:
        while True:
            try:
                data, peer = self.udp.recvfrom(65536)
            except OSError:
                return
            self.udp_seen.append(data)
            reply = self._udp_reply(data)
            if reply is not None:
                self.udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                (n,) = struct.unpack(">I", conn.recv(4))
                data = b""
                while len(data) < n:
                    data += conn.recv(n - len(data))
                self.tcp_seen.append(data)
                conn.sendall(self._tcp_reply(data))

    def close(self) -> None:
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def servers() -> Iterator[Callable[..., Servers]]:
    made: list[Servers] = []

    def make(udp_reply=lambda d: b"udp:" + d, tcp_reply=lambda d: tcp_frame(b"tcp:" + d)):
        s = Servers(udp_reply, tcp_reply)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_small_request_goes_udp_large_goes_tcp(servers):
    s = servers()
    kdc = [f"127.0.0.1:{s.port}"]
    assert send_to_kdc(b"hello", kdc, timeouts=(2,)) == b"udp:hello"
    big = b"x" * 2000
    assert send_to_kdc(big, kdc, timeouts=(2,)) == b"tcp:" + big
    assert s.tcp_seen == [big]
    assert send_to_kdc(b"hi", [f"tcp/127.0.0.1:{s.port}"], timeouts=(2,)) == b"tcp:hi"


def test_failover_to_second_kdc(servers):
    silent = servers(udp_reply=lambda d: None)
    good = servers()
    kdcs = [f"udp/127.0.0.1:{silent.port}", f"127.0.0.1:{good.port}"]
    assert send_to_kdc(b"req", kdcs, timeouts=(0.3,)) == b"udp:req"
    assert silent.udp_seen == [b"req"]


def test_response_too_big_retries_over_tcp(servers):
    """RFC 4120 §7.2.1: KRB_ERR_RESPONSE_TOO_BIG over UDP → same KDC over TCP."""
    from gssmech.krb5.asn1 import KRBError, decode
    from tests.conftest import get_data

    err = decode(KRBError, get_data("mit/pw_krb_error_1.der"))
    err["error_code"] = 52
    too_big = err.dump(force=True)
    assert is_response_too_big(too_big)
    assert not is_response_too_big(get_data("mit/pw_krb_error_1.der"))
    s = servers(udp_reply=lambda d: too_big)
    assert send_to_kdc(b"req", [f"127.0.0.1:{s.port}"], timeouts=(2,)) == b"tcp:req"
    assert s.udp_seen == [b"req"] and s.tcp_seen == [b"req"]


def test_tcp_reply_with_reserved_bit_is_refused(servers):
    s = servers(tcp_reply=lambda d: b"\x80\x00\x00\x01x")
    with pytest.raises(KDCUnreachable, match="Cannot contact any KDC for realm 'R'"):
        send_to_kdc(b"y" * 2000, [f"127.0.0.1:{s.port}"], realm="R", timeouts=(0.5,))


def test_no_kdcs_configured():
    with pytest.raises(KDCUnreachable, match="Cannot find KDC"):
        send_to_kdc(b"x", [], realm="R")
