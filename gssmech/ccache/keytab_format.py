"""Sans-I/O codec for MIT's FILE keytab (MIT doc ``keytab_file_format``; ``kt_file.c``).

``05 02`` (big-endian) or ``05 01`` (host order, principal count includes the realm, no name
type), then records ``s32 length ‖ entry``.  A negative length is a hole of ``|length|`` zero
bytes left by a removal; 0 or end of data ends the keytab.  An entry is::

    u16 count ‖ realm ‖ components (u16 len ‖ bytes each) ‖ u32 name_type (not in v1)
    ‖ u32 timestamp ‖ u8 kvno ‖ u16 enctype ‖ u16 keylen ‖ key ‖ [u32 kvno]

The optional 32-bit kvno (MIT ≥1.14) wins when at least 4 bytes remain in the record and it is
non-zero; any other slack after the entry is padding (a reused hole).
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, field

from gssmech.ccache.fileformat import Reader, Writer
from gssmech.errors import CCacheError, KeytabError, KeytabFormatError
from gssmech.krb5.principal import Principal

KT_VNO_1 = 0x0501
KT_VNO_2 = 0x0502


@dataclass(frozen=True, slots=True)
class KeytabEntry:
    principal: Principal
    timestamp: int
    kvno: int
    enctype: int
    key: bytes = field(repr=False)  # never in repr, so never in a log or an error message


@dataclass(frozen=True, slots=True)
class KeytabRecord:
    """Where an entry sits in the file (for in-place removal): ``offset`` of its length field
    and ``size`` = the record's positive length."""

    offset: int
    size: int
    entry: KeytabEntry


def byte_order(version: int) -> str:
    """Keytab 0x0501 is in host order, 0x0502 big-endian (not the ccache's v1/v2 rule)."""
    if version == 1:
        return "<" if sys.byteorder == "little" else ">"
    return ">"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _data16(r: Reader, what: str) -> bytes:
    at = r.pos
    n = r.u16(what + " length")
    if n > r.remaining:
        raise r.fail(f"{what} length {n} exceeds the {r.remaining} bytes left in the record", at)
    return r.take(n, what)


def _read_entry(r: Reader, version: int) -> KeytabEntry:
    at = r.pos
    count = r.u16("principal component count")
    if version == 1:
        if count == 0:
            raise r.fail("v1 principal count must include the realm", at)
        count -= 1
    realm = _text(_data16(r, "realm"))
    comps = tuple(_text(_data16(r, "principal component")) for _ in range(count))
    name_type = r.s32("principal name type") if version == 2 else 0
    timestamp = r.u32("timestamp")
    kvno = r.u8("kvno")
    enctype = r.u16("enctype")
    key = _data16(r, "key")
    if r.remaining >= 4:
        kvno32 = r.u32("32-bit kvno")
        if kvno32:
            kvno = kvno32
    return KeytabEntry(Principal(name_type, comps, realm), timestamp, kvno, enctype, key)


def parse_records(data: bytes, *, source: str = "<keytab>") -> tuple[int, list[KeytabRecord]]:
    """Keytab bytes -> (version 1 or 2, entries with their positions); holes are skipped."""
    r = Reader(bytes(data), source=source, error=KeytabFormatError)
    vno = struct.unpack(">H", r.take(2, "keytab version"))[0]
    if vno not in (KT_VNO_1, KT_VNO_2):
        raise r.fail(f"not an MIT keytab (version bytes {vno:#06x})", 0)
    version = vno - 0x0500
    r.order = byte_order(version)
    records: list[KeytabRecord] = []
    while r.remaining:
        if r.remaining < 4:
            break  # MIT treats a short tail as end of file
        at = r.pos
        size = r.s32("record length")
        if size == 0:
            break
        if abs(size) > r.remaining:
            raise r.fail(f"record length {size} exceeds the {r.remaining} bytes that remain", at)
        body = r.take(abs(size), "record")
        if size < 0:
            continue  # a hole left by a removal
        sub = Reader(body, source=source, order=r.order, error=KeytabFormatError, base=at + 4)
        entry = _read_entry(sub, version)
        records.append(KeytabRecord(at, size, entry))
    return version, records


def parse(data: bytes, *, source: str = "<keytab>") -> list[KeytabEntry]:
    return [rec.entry for rec in parse_records(data, source=source)[1]]


def encode_entry(entry: KeytabEntry, version: int = 2) -> bytes:
    """The entry body (no length prefix), with the 32-bit kvno trailer as MIT ≥1.14 writes."""
    if version not in (1, 2):
        raise KeytabError(f"keytab version {version!r} is not 1 or 2")
    w = Writer(byte_order(version))
    p = entry.principal
    comps = [_raw(c) for c in p.components]
    try:
        w.u16(len(comps) + (1 if version == 1 else 0), "principal component count")
        for value, what in ((_raw(p.realm), "realm"), *((c, "component") for c in comps)):
            w.u16(len(value), what + " length")
            w.raw(value)
        if version == 2:
            w.s32(p.name_type, "name type")
        w.u32(entry.timestamp, "timestamp")
        w.u8(entry.kvno & 0xFF, "kvno")
        w.u16(entry.enctype & 0xFFFF if -0x8000 <= entry.enctype < 0 else entry.enctype, "enctype")
        w.u16(len(entry.key), "key length")
        w.raw(entry.key)
        w.u32(entry.kvno, "32-bit kvno")
    except CCacheError as exc:  # the shared Writer's error; report it as a keytab problem
        raise KeytabError(str(exc)) from None
    return w.getvalue()


def encode_record(entry: KeytabEntry, version: int = 2, *, size: int | None = None) -> bytes:
    """``s32 length ‖ entry``, zero-padded to ``size`` bytes of body when reusing a hole."""
    body = encode_entry(entry, version)
    if size is not None:
        body = body.ljust(size, b"\0")
    return struct.pack(byte_order(version) + "i", len(body)) + body


def hole(size: int, version: int = 2) -> bytes:
    """What MIT's removal writes over a record: ``-size`` followed by ``size`` zero bytes."""
    return struct.pack(byte_order(version) + "i", -size) + bytes(size)


def serialize(entries: list[KeytabEntry], version: int = 2) -> bytes:
    head = struct.pack(">H", 0x0500 + version)
    return head + b"".join(encode_record(e, version) for e in entries)
