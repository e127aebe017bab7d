"""The keytab codec against layouts built here from MIT's ``keytab_file_format`` document."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from gssmech.ccache import Keytab, KeytabEntry
from gssmech.ccache.keytab_format import encode_record, hole, parse, parse_records, serialize
from gssmech.errors import KeytabError, KeytabFormatError
from gssmech.krb5.principal import Principal

NATIVE = "<" if sys.byteorder == "little" else ">"
SVC = Principal(3, ("HTTP", "www.ex.test"), "EX.TEST")


def h_entry(o: str, p: Principal, ts: int, kvno8: int, et: int, key: bytes, v: int = 2) -> bytes:
    out = struct.pack(o + "H", len(p.components) + (1 if v == 1 else 0))
    for part in (p.realm, *p.components):
        out += struct.pack(o + "H", len(part)) + part.encode()
    if v == 2:
        out += struct.pack(o + "i", p.name_type)
    return out + struct.pack(o + "IBHH", ts, kvno8, et, len(key)) + key


def rec(o: str, body: bytes) -> bytes:
    return struct.pack(o + "i", len(body)) + body


def test_v2_layout_with_kvno_trailer() -> None:
    key = bytes(range(32))
    body = h_entry(">", SVC, 1_700_000_000, 300 & 0xFF, 18, key) + struct.pack(">I", 300)
    raw = b"\x05\x02" + rec(">", body)
    want = KeytabEntry(SVC, 1_700_000_000, 300, 18, key)
    assert parse(raw) == [want]
    assert serialize([want]) == raw


def test_v1_native_order_count_includes_realm() -> None:
    p = Principal(0, ("host", "h"), "EX.TEST")
    raw = b"\x05\x01" + rec(NATIVE, h_entry(NATIVE, p, 5, 3, 17, b"k" * 16, v=1))
    assert parse(raw) == [KeytabEntry(p, 5, 3, 17, b"k" * 16)]
    ours = serialize(parse(raw), version=1)  # we add the 32-bit kvno trailer, as MIT >= 1.14
    body = h_entry(NATIVE, p, 5, 3, 17, b"k" * 16, v=1) + struct.pack(NATIVE + "I", 3)
    assert ours == b"\x05\x01" + rec(NATIVE, body)


@pytest.mark.parametrize(
    ("tail", "kvno"),
    [
        (b"", 7),  # pre-1.14: no trailer
        (struct.pack(">I", 0), 7),  # zero trailer: keep the 8-bit kvno
        (struct.pack(">I", 0x1_0007), 0x1_0007),
        (b"\x00\x00\x01", 7),  # fewer than 4 bytes of slack: padding
        (struct.pack(">I", 9) + b"\0" * 8, 9),  # reused hole: trailer then padding
    ],
)
def test_kvno_trailer_rules(tail: bytes, kvno: int) -> None:
    raw = b"\x05\x02" + rec(">", h_entry(">", SVC, 0, 7, 17, b"x" * 16) + tail)
    (entry,) = parse(raw)
    assert entry.kvno == kvno


def test_holes_and_terminator() -> None:
    e1 = h_entry(">", SVC, 1, 1, 17, b"a" * 16)
    e2 = h_entry(">", SVC, 2, 2, 17, b"b" * 16)
    raw = b"\x05\x02" + rec(">", e1) + struct.pack(">i", -20) + bytes(20) + rec(">", e2)
    assert [e.kvno for e in parse(raw)] == [1, 2]
    assert [r.offset for r in parse_records(raw)[1]] == [2, 2 + 4 + len(e1) + 24]
    # a zero length ends the keytab, whatever follows
    assert [e.kvno for e in parse(raw[:2] + rec(">", e1) + bytes(4) + b"garbage")] == [1]
    assert hole(5) == struct.pack(">i", -5) + bytes(5)


@pytest.mark.parametrize(
    ("raw", "offset", "text"),
    [
        (b"\x05\x03", 0, "not an MIT keytab"),
        (b"\x05", 0, "keytab version"),
        (b"\x05\x02" + struct.pack(">i", 1000) + b"x" * 10, 2, "record length"),
        (b"\x05\x02" + struct.pack(">i", -(2**31)), 2, "record length"),
        (b"\x05\x02" + rec(">", b"\x00\x01\xff\xff"), 8, "realm"),
    ],
)
def test_errors_name_source_and_offset(raw: bytes, offset: int, text: str) -> None:
    with pytest.raises(KeytabFormatError) as info:
        parse(raw, source="FILE:/kt")
    assert info.value.offset == offset and info.value.source == "FILE:/kt"
    assert text in str(info.value)


def test_file_keytab_api(tmp_path: Path) -> None:
    path = tmp_path / "kt"
    kt = Keytab.resolve(f"FILE:{path}")
    assert kt.full_name == f"FILE:{path}" and not kt.exists()
    with pytest.raises(KeytabError):
        kt.entries()
    for kvno in (1, 3, 2):
        kt.add(KeytabEntry(SVC, 0, kvno, 17, bytes([kvno]) * 16))
    kt.add(KeytabEntry(SVC, 0, 2, 18, b"\x02" * 32))
    assert path.read_bytes()[:2] == b"\x05\x02" and path.stat().st_mode & 0o777 == 0o600
    assert kt.find(SVC).kvno == 3  # type: ignore[union-attr]
    assert kt.find(SVC, kvno=2, enctype=18).key == b"\x02" * 32  # type: ignore[union-attr]
    assert kt.find(Principal(1, ("HTTP", "www.ex.test"), "EX.TEST")) is not None  # nt ignored
    assert kt.find(SVC, enctype=20) is None
    assert kt.remove(SVC, kvno=2) == 2
    assert sorted(e.kvno for e in kt.entries()) == [1, 3]
    raw = path.read_bytes()
    assert struct.pack(">i", -len(encode_record(kt.entries()[0])[4:])) in raw
    assert kt.remove(SVC) == 2 and kt.entries() == []


def test_resolution(tmp_path: Path) -> None:
    env = {"KRB5_KTNAME": f"WRFILE:{tmp_path}/a"}
    assert Keytab.resolve(env=env).full_name == f"WRFILE:{tmp_path}/a"
    assert Keytab.resolve(f"{tmp_path}/b").full_name == f"FILE:{tmp_path}/b"
    with pytest.raises(KeytabError, match="not supported"):
        Keytab.resolve("KDB:")
    mem = Keytab.resolve("MEMORY:kt-test")
    mem.add(KeytabEntry(SVC, 0, 1, 17, b"m" * 16))
    assert Keytab.resolve("MEMORY:kt-test").entries()[0].key == b"m" * 16
