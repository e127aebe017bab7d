"""nginx key files against the real nginx (issue 6: "so the same keys can serve nginx/HAProxy").

A key made by gssmech is written in nginx's format (80 bytes: name|hmac|aes; 48 bytes:
name|aes|hmac -- the field orders differ), served by a real nginx over TLS 1.2, and the session
ticket nginx issues (read with `openssl s_client`) must carry our key_name, verify under OUR
HMAC key and decrypt under OUR AES key to a DER SSL_SESSION.  Swapped fields would fail here.
NB(nginx): the tickets are OpenSSL's (MAC over name|iv|ciphertext, no length field)."""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gssmech.krb5.certs import make_ca
from gssmech.tlsticket.keyring import new_ticket_key
from gssmech.tlsticket.nginx import decode_nginx_key, encode_nginx_key
from tests.interop.mitrealm import find_program, free_port

pytestmark = pytest.mark.interop

NGINX_CONF = """
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        ssl_protocols TLSv1.2;
        ssl_session_tickets on;
        ssl_session_ticket_key {d}/ticket.key;
        location / {{ return 200 "ok"; }}
    }}
}}
"""


def _ticket_from_nginx(d: Path, key_file: bytes) -> bytes:
    nginx, openssl = find_program("nginx"), shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx or openssl missing (make apt installs them)")
    (d / "tmp").mkdir()
    ca = make_ca("nginx test")
    (d / "cert.pem").write_bytes(ca.cert_pem)
    (d / "key.pem").write_bytes(ca.key_pem)
    (d / "ticket.key").write_bytes(key_file)
    port = free_port()
    (d / "nginx.conf").write_text(NGINX_CONF.format(d=d, port=port))
    proc = subprocess.Popen(
        [nginx, "-c", str(d / "nginx.conf"), "-p", str(d), "-e", str(d / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        out = ""
        for _ in range(100):
            cp = subprocess.run(
                [openssl, "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2"],
                input="", capture_output=True, text=True, timeout=30,
            )
            out = cp.stdout
            if "TLS session ticket:" in out:
                break
            if proc.poll() is not None:
                pytest.fail("nginx exited: " + (d / "error.log").read_text(errors="replace"))
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    lines = out.split("TLS session ticket:")[1].splitlines()
    ticket = bytearray()
    for line in lines[1:]:
        m = re.match(r"\s*[0-9a-f]{4} - (.{47})", line)
        if not m:
            break
        ticket += bytes.fromhex(m.group(1).replace("-", " "))
    return bytes(ticket)


@pytest.mark.parametrize(
    "profile, size, cipher_key_len", [("rfc5077", 80, 32), ("nginx-48", 48, 16)]
)
def test_nginx_issues_tickets_under_our_keys(
    tmp_path: Path, profile: str, size: int, cipher_key_len: int
) -> None:
    key = new_ticket_key(profile, not_before=0, encrypt_until=2**32 - 1, decrypt_until=2**32 - 1)
    data = encode_nginx_key(key)
    assert len(data) == size and decode_nginx_key(data) == key
    ticket = _ticket_from_nginx(tmp_path, data)
    assert len(key.aes_key) == cipher_key_len
    name, iv, body, mac = ticket[:16], ticket[16:32], ticket[32:-32], ticket[-32:]
    assert name == key.key_name
    assert hmac.compare_digest(hmac.new(key.hmac_key, ticket[:-32], hashlib.sha256).digest(), mac)
    dec = Cipher(algorithms.AES(key.aes_key), modes.CBC(iv)).decryptor()
    padded = dec.update(body) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    session = unpadder.update(padded) + unpadder.finalize()
    assert session[0] == 0x30  # a DER SSL_SESSION: nginx used our AES key, not our HMAC key
