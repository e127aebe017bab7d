"""T6 key management: the shared key directory, the CLI, nginx key files, and concurrent readers."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gssmech.tlsticket import (
    NGINX_48,
    RFC_5077,
    KeyRing,
    TicketBinding,
    TicketKeyError,
    TicketKeyFileError,
)
from gssmech.tlsticket.cli import main
from gssmech.tlsticket.keydir import (
    KEY_FILE_NAME,
    decode_key_file,
    encode_key_file,
    init_key_directory,
    load_key_directory,
    new_key_file_at_time,
    rotate_key_directory,
    rotate_key_file_at_time,
)
from gssmech.tlsticket.nginx import decode_nginx_key, encode_nginx_key

T0 = 1_700_000_000
B = TicketBinding("gss-export", "host/a@EXAMPLE.COM")
REPO = Path(__file__).resolve().parent.parent


def test_key_file_round_trip_and_layout():
    kf = rotate_key_file_at_time(new_key_file_at_time(T0, period=600, lifetime=900), T0 + 600)
    data = encode_key_file(kf)
    assert data[:8] == b"GSMTKEY1"
    assert data[8:17] == bytes.fromhex("00000258" "00000384" "03")  # period, lifetime, count
    k0 = kf.keys[0]
    assert data[17:33] == k0.key_name and data[33] == RFC_5077.profile_id
    assert data[34:58] == (k0.not_before.to_bytes(8, "big") + k0.encrypt_until.to_bytes(8, "big")
                           + k0.decrypt_until.to_bytes(8, "big"))
    assert data[58] == 32 and data[59:91] == k0.aes_key
    assert data[-32:] == hashlib.sha256(data[:-32]).digest()
    assert decode_key_file(data) == kf
    assert [kf.role(i) for i in range(3)] == ["next", "current", "previous"]


def test_every_truncation_and_corruption_is_rejected():
    data = encode_key_file(new_key_file_at_time(T0))
    for n in range(len(data)):
        with pytest.raises(TicketKeyFileError):
            decode_key_file(data[:n])
    for i in range(0, len(data), 7):
        bad = bytearray(data)
        bad[i] ^= 0x40
        with pytest.raises(TicketKeyFileError):
            decode_key_file(bytes(bad))


def test_structurally_bad_files_with_valid_checksum():
    def seal(body: bytes) -> bytes:
        return body + hashlib.sha256(body).digest()

    good = encode_key_file(new_key_file_at_time(T0))[:-32]
    bad_profile = bytearray(good)
    bad_profile[17 + 16] = 9
    short_key = bytearray(good)
    short_key[17 + 16 + 1 + 24] = 31  # aes_key length 31 for an rfc5077 key
    one_key = bytearray(good)
    one_key[16] = 1
    for body in (bytes(bad_profile), bytes(short_key), bytes(one_key), good + b"\x00",
                 good[:8] + b"\x00\x00\x00\x00" + good[12:]):  # period 0
        with pytest.raises(TicketKeyFileError):
            decode_key_file(seal(body))


def test_directory_init_rotate_load(tmp_path):
    d = tmp_path / "keys"
    kf = init_key_directory(d, period=3600, lifetime=7200, now=T0)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((d / KEY_FILE_NAME).stat().st_mode) == 0o600
    assert load_key_directory(d) == kf
    with pytest.raises(TicketKeyError):
        init_key_directory(d, now=T0)  # never clobber a fleet's keys by accident
    ticket = KeyRing.from_directory(d).seal_at_time(T0 + 1, b"s", B).ticket
    rotate_key_directory(d, now=T0 + 3600)
    ring = KeyRing.from_directory(d)
    assert ring.ticket_lifetime == 7200
    opened = ring.open_at_time(T0 + 3601, ticket, B)
    assert opened.renew and opened.state == b"s"
    assert sorted(p.name for p in d.iterdir()) == [".lock", KEY_FILE_NAME]  # no temp files left


def test_loader_refuses_readable_key_file(tmp_path):
    init_key_directory(tmp_path / "k", now=T0)
    os.chmod(tmp_path / "k" / KEY_FILE_NAME, 0o640)
    with pytest.raises(TicketKeyError):
        KeyRing.from_directory(tmp_path / "k")
    with pytest.raises(TicketKeyError):
        KeyRing.from_directory(tmp_path / "missing")
    with pytest.raises(TicketKeyError):
        rotate_key_directory(tmp_path / "missing")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(TicketKeyError):
        init_key_directory(tmp_path / "file" / "sub")


def test_cli_never_prints_key_material(tmp_path, capsys):
    d = str(tmp_path / "k")
    assert main(["ticket-keys", "init", d, "--period", "3600", "--lifetime", "3600"]) == 0
    assert main(["ticket-keys", "rotate", d]) == 0
    assert main(["ticket-keys", "list", d]) == 0
    out = capsys.readouterr().out
    kf = load_key_directory(Path(d))
    for k in kf.keys:
        assert k.key_name.hex() in out
        assert k.aes_key.hex() not in out and k.hmac_key.hex() not in out
        assert k.aes_key.hex()[:16] not in out
    assert "next" in out and "current" in out and "previous" in out and "seals" in out
    assert main(["ticket-keys", "rotate", str(tmp_path / "nope")]) == 1
    assert "gssmech ticket-keys:" in capsys.readouterr().err


# --- nginx key files: src/event/ngx_event_openssl.c ngx_ssl_session_ticket_keys() ------------

NAME = bytes(range(16))
NGINX_48_FILE = NAME + bytes(range(0x10, 0x20)) + bytes(range(0x20, 0x30))  # name|aes|hmac
NGINX_80_FILE = NAME + bytes(range(0x40, 0x60)) + bytes(range(0x60, 0x80))  # name|hmac|aes


def test_nginx_field_order():
    k48 = decode_nginx_key(NGINX_48_FILE)
    assert (k48.profile, k48.key_name) == (NGINX_48, NAME)
    assert k48.aes_key == bytes(range(0x10, 0x20)) and k48.hmac_key == bytes(range(0x20, 0x30))
    k80 = decode_nginx_key(NGINX_80_FILE)
    assert k80.profile == RFC_5077
    assert k80.hmac_key == bytes(range(0x40, 0x60)) and k80.aes_key == bytes(range(0x60, 0x80))
    assert encode_nginx_key(k48) == encode_nginx_key(k48, 48) == NGINX_48_FILE
    assert encode_nginx_key(k80) == encode_nginx_key(k80, 80) == NGINX_80_FILE


def test_nginx_48_key_macs_with_sha256_and_its_16_byte_hmac_key():
    ring = KeyRing([decode_nginx_key(NGINX_48_FILE)])
    ticket = ring.seal_at_time(T0, b"x", B).ticket
    mac = hmac.new(NGINX_48_FILE[32:48], ticket[:-32], hashlib.sha256).digest()
    assert ticket[-32:] == mac


@pytest.mark.parametrize("size", [0, 47, 49, 79, 81, 96])
def test_nginx_bad_sizes(size):
    with pytest.raises(TicketKeyFileError):
        decode_nginx_key(bytes(size))


def test_nginx_export_constraints():
    draft = new_key_file_at_time(T0, profile=decode_nginx_key(NGINX_48_FILE).profile)
    with pytest.raises(TicketKeyError):
        encode_nginx_key(draft.keys[1], 80)
    from gssmech.tlsticket import DRAFT_07

    with pytest.raises(TicketKeyError):
        encode_nginx_key(new_key_file_at_time(T0, profile=DRAFT_07).keys[1])


def test_cli_nginx_export_import_round_trip(tmp_path, capsys):
    d, f, d2 = tmp_path / "k", tmp_path / "nginx.key", tmp_path / "k2"
    assert main(["ticket-keys", "init", str(d), "--profile", "nginx-48"]) == 0
    assert main(["ticket-keys", "export-nginx", str(d), str(f), "--size", "48"]) == 0
    assert f.stat().st_size == 48 and stat.S_IMODE(f.stat().st_mode) == 0o600
    current = load_key_directory(d).keys[1]
    assert f.read_bytes() == current.key_name + current.aes_key + current.hmac_key
    assert main(["ticket-keys", "export-nginx", str(d), str(f), "--size", "80"]) == 1
    assert main(["ticket-keys", "import-nginx", str(f), str(d2)]) == 0
    imported = load_key_directory(d2)
    assert imported.keys[1].key_name == current.key_name
    assert imported.keys[0].profile == NGINX_48
    # a ticket sealed by one directory opens with the other (same key, same profile)
    now = int(time.time())
    ticket = KeyRing.from_directory(d).seal_at_time(now, b"fleet", B).ticket
    assert KeyRing.from_directory(d2).open_at_time(now, ticket, B).state == b"fleet"
    capsys.readouterr()


# --- concurrency: readers never see a partial key ------------------------------------------

_ROTATOR = """
import sys
from gssmech.tlsticket.keydir import rotate_key_directory
for i in range(int(sys.argv[2])):
    rotate_key_directory(sys.argv[1], now=1_700_000_000 + 600 * (i + 1))
"""


def test_reader_never_sees_a_partial_key_while_another_process_rotates(tmp_path):
    d = tmp_path / "k"
    init_key_directory(d, period=600, lifetime=600, now=T0)
    rotations = 150
    env = dict(os.environ, PYTHONPATH=str(REPO))
    writer = subprocess.Popen([sys.executable, "-c", _ROTATOR, str(d), str(rotations)], env=env)
    seen, loads = set(), 0
    try:
        while writer.poll() is None or loads == 0:
            ring = KeyRing.from_directory(d)  # raises on any partial or corrupt file
            loads += 1
            assert len(ring) >= 2
            seen.add(ring.keys[0].key_name)
            current = ring.sealing_key_at(ring.keys[1].not_before)
            assert current is not None
            # every loaded ring is whole: it seals and opens with its own keys
            t = ring.seal_at_time(current.not_before, b"x", B)
            assert ring.open_at_time(current.not_before, t.ticket, B).state == b"x"
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == 0
    assert len(load_key_directory(d).keys) == 3
    assert len(seen) > 1, "the reader never overlapped a rotation; the test proved nothing"
    assert loads > 10
