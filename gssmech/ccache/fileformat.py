"""Sans-I/O codec for MIT's FILE credential cache, versions 1-4 (MIT doc ``ccache_file_format``;
``src/lib/krb5/ccache/ccmarshal.c``).

Layout per version (byte 0 is 5, byte 1 the version):

* v4 (0x0504): big-endian; a header ``u16 len ‖ (u16 tag ‖ u16 len ‖ value)*``;
* v3 (0x0503): big-endian; no header; the keyblock enctype is written twice;
* v2 (0x0502): like v4 without a header, but integers in the host's native byte order;
* v1 (0x0501): native order; principals have no name type and their count includes the realm.

Credentials follow the default principal with no count, until end of data.  Every length is
checked against the bytes that remain *before* anything is allocated, so hostile input gives a
:class:`~gssmech.errors.CCacheFormatError` naming the source and offset, never a hang.
"""

from __future__ import annotations

import struct
import sys

from gssmech.ccache.records import TAG_DELTATIME, CCacheContents, Credential, KeyBlock
from gssmech.errors import CCacheError, CCacheFormatError, DecodeError
from gssmech.krb5.principal import Principal

FVNO_BASE = 0x0500
VERSIONS = (1, 2, 3, 4)
_NATIVE = "<" if sys.byteorder == "little" else ">"


def byte_order(version: int) -> str:
    """``struct`` prefix: versions 1 and 2 use host order (MIT's ``get32``/``put32``)."""
    return _NATIVE if version in (1, 2) else ">"


def _text(raw: bytes) -> str:
    # surrogateescape makes str <-> bytes a bijection, so any byte string round-trips.
    return raw.decode("utf-8", "surrogateescape")


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class Reader:
    """Bounded cursor over ``data``; every short read is a typed error at its offset."""

    __slots__ = ("_error", "base", "data", "order", "pos", "source")

    def __init__(
        self,
        data: bytes,
        *,
        source: str,
        order: str = ">",
        error: type[DecodeError] = CCacheFormatError,
        base: int = 0,
    ) -> None:
        self.base = base  # offset of data[0] in the whole input, for error messages
        self.data = data
        self.pos = 0
        self.source = source
        self.order = order
        self._error = error

    def fail(self, message: str, offset: int | None = None) -> DecodeError:
        where = self.pos if offset is None else offset
        return self._error(message, source=self.source, offset=self.base + where)

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or n > self.remaining:
            raise self.fail(f"{what}: needs {n} bytes, {self.remaining} remain")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _unpack(self, fmt: str, size: int, what: str) -> int:
        value: int = struct.unpack(self.order + fmt, self.take(size, what))[0]
        return value

    def u8(self, what: str) -> int:
        return self._unpack("B", 1, what)

    def u16(self, what: str) -> int:
        return self._unpack("H", 2, what)

    def u32(self, what: str) -> int:
        return self._unpack("I", 4, what)

    def s32(self, what: str) -> int:
        return self._unpack("i", 4, what)

    def count(self, what: str, min_item: int) -> int:
        """A u32 item count, refused when the items could not possibly fit."""
        at = self.pos
        n = self.u32(what)
        if n * min_item > self.remaining:
            raise self.fail(f"{what} {n} exceeds the {self.remaining} bytes that remain", at)
        return n

    def data32(self, what: str) -> bytes:
        """``u32 length ‖ bytes`` (MIT's ``krb5_data`` in a ccache)."""
        at = self.pos
        n = self.u32(what + " length")
        if n > self.remaining:
            raise self.fail(f"{what} length {n} exceeds the {self.remaining} bytes that remain", at)
        return self.take(n, what)


class Writer:
    """Accumulates fields; an out-of-range value is a :class:`CCacheError`, not struct.error."""

    __slots__ = ("order", "parts")

    def __init__(self, order: str = ">") -> None:
        self.order = order
        self.parts: list[bytes] = []

    def _pack(self, fmt: str, value: int, what: str) -> None:
        try:
            self.parts.append(struct.pack(self.order + fmt, value))
        except struct.error as exc:
            raise CCacheError(f"cannot encode {what}={value!r}: {exc}") from None

    def u8(self, value: int, what: str) -> None:
        self._pack("B", value, what)

    def u16(self, value: int, what: str) -> None:
        self._pack("H", value, what)

    def u32(self, value: int, what: str) -> None:
        # Negative values are written as their 32-bit two's complement, like MIT's put32.
        self._pack("I", value & 0xFFFFFFFF if -(2**31) <= value < 0 else value, what)

    def s32(self, value: int, what: str) -> None:
        self._pack("i", value, what)

    def raw(self, value: bytes) -> None:
        self.parts.append(bytes(value))

    def data32(self, value: bytes, what: str) -> None:
        self.u32(len(value), what + " length")
        self.raw(value)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


# --- principal, keyblock, credential ---------------------------------------------------------
def read_principal(r: Reader, version: int) -> Principal:
    if version == 1:
        name_type = 0  # KRB5_NT_UNKNOWN: v1 does not store it
        at = r.pos
        ncomps = r.u32("principal component count")
        if ncomps == 0:
            raise r.fail("v1 principal count must include the realm", at)
        ncomps -= 1
    else:
        name_type = r.s32("principal name type")
        at = r.pos
        ncomps = r.u32("principal component count")
    if ncomps * 4 > r.remaining - 4:
        raise r.fail(f"principal component count {ncomps} exceeds the data", at)
    realm = _text(r.data32("realm"))
    comps = tuple(_text(r.data32("principal component")) for _ in range(ncomps))
    return Principal(name_type, comps, realm)


def write_principal(w: Writer, p: Principal, version: int) -> None:
    if version == 1:
        w.u32(len(p.components) + 1, "principal component count")
    else:
        w.s32(p.name_type, "principal name type")
        w.u32(len(p.components), "principal component count")
    w.data32(_raw(p.realm), "realm")
    for comp in p.components:
        w.data32(_raw(comp), "principal component")


def _read_pairs(r: Reader, what: str) -> tuple[tuple[int, bytes], ...]:
    n = r.count(what + " count", 6)
    return tuple((r.u16(what + " type"), r.data32(what + " contents")) for _ in range(n))


def _write_pairs(w: Writer, pairs: tuple[tuple[int, bytes], ...], what: str) -> None:
    w.u32(len(pairs), what + " count")
    for kind, value in pairs:
        w.u16(kind & 0xFFFF if -0x8000 <= kind < 0 else kind, what + " type")
        w.data32(value, what + " contents")


def read_credential(r: Reader, version: int) -> Credential:
    client = read_principal(r, version)
    server = read_principal(r, version)
    enctype = r.u16("keyblock enctype")
    if version == 3:
        r.u16("keyblock enctype (v3 repeat)")  # old keytype slot; MIT ignores it too
    key = KeyBlock(enctype, r.data32("keyblock contents"))
    times = [r.u32(name) for name in ("authtime", "starttime", "endtime", "renew_till")]
    is_skey = r.u8("is_skey") != 0
    flags = r.u32("ticket_flags")
    addresses = _read_pairs(r, "address")
    authdata = _read_pairs(r, "authdata")
    ticket = r.data32("ticket")
    second = r.data32("second_ticket")
    return Credential(
        client, server, key, *times, is_skey, flags, addresses, authdata, ticket, second
    )


def encode_credential(cred: Credential, version: int) -> bytes:
    """One credential record, as ``fcc_store`` writes it in a single ``write()``."""
    _check_version(version)
    w = Writer(byte_order(version))
    write_principal(w, cred.client, version)
    write_principal(w, cred.server, version)
    enctype = cred.key.enctype & 0xFFFF if -0x8000 <= cred.key.enctype < 0 else cred.key.enctype
    w.u16(enctype, "keyblock enctype")
    if version == 3:
        w.u16(enctype, "keyblock enctype")
    w.data32(cred.key.contents, "keyblock contents")
    for name in ("authtime", "starttime", "endtime", "renew_till"):
        w.u32(getattr(cred, name), name)
    w.u8(1 if cred.is_skey else 0, "is_skey")
    w.u32(cred.ticket_flags, "ticket_flags")
    _write_pairs(w, cred.addresses, "address")
    _write_pairs(w, cred.authdata, "authdata")
    w.data32(cred.ticket, "ticket")
    w.data32(cred.second_ticket, "second_ticket")
    return w.getvalue()


# --- header and whole file -------------------------------------------------------------------
def _check_version(version: int) -> None:
    if version not in VERSIONS:
        raise CCacheError(f"ccache version {version!r} is not one of 1-4")


def read_version(r: Reader) -> int:
    at = r.pos
    fvno = struct.unpack(">H", r.take(2, "file format version"))[0]
    if fvno - FVNO_BASE not in VERSIONS:
        raise r.fail(f"not an MIT FILE ccache (version bytes {fvno:#06x})", at)
    return int(fvno - FVNO_BASE)


def _read_header(r: Reader) -> tuple[tuple[tuple[int, bytes], ...], tuple[int, int] | None]:
    """v4 header TLVs: DELTATIME decoded, every other tag kept verbatim."""
    at = r.pos
    length = r.u16("header length")
    if length > r.remaining:
        raise r.fail(f"header length {length} exceeds the {r.remaining} bytes that remain", at)
    end = r.pos + length
    tags: list[tuple[int, bytes]] = []
    offset: tuple[int, int] | None = None
    while r.pos < end:
        if end - r.pos < 4:
            raise r.fail(f"{end - r.pos} stray bytes at the end of the header")
        tag = r.u16("header tag")
        at = r.pos
        size = r.u16("header tag length")
        if size > end - r.pos:
            raise r.fail(f"header tag {tag} length {size} overruns the header", at)
        value = r.take(size, "header tag value")
        if tag == TAG_DELTATIME and offset is None:
            if size != 8:
                raise r.fail(f"DELTATIME tag has length {size}, not 8", at)
            offset = struct.unpack(">ii", value)
        else:
            tags.append((tag, value))
    return tuple(tags), offset


def _write_header(w: Writer, contents: CCacheContents) -> None:
    body = Writer(">")
    if contents.kdc_offset is not None:
        body.u16(TAG_DELTATIME, "header tag")
        body.u16(8, "header tag length")
        body.s32(contents.kdc_offset[0], "kdc_offset seconds")
        body.s32(contents.kdc_offset[1], "kdc_offset microseconds")
    for tag, value in contents.header_tags:
        body.u16(tag, "header tag")
        body.u16(len(value), "header tag length")
        body.raw(value)
    raw = body.getvalue()
    w.u16(len(raw), "header length")
    w.raw(raw)


def parse_with_offsets(
    data: bytes, *, source: str = "<ccache>"
) -> tuple[CCacheContents, tuple[int, ...]]:
    """Parse a whole cache; also return each credential's starting byte offset (for
    in-place removal).  The last credential ends at ``len(data)``."""
    r = Reader(bytes(data), source=source)
    version = read_version(r)
    r.order = byte_order(version)
    tags: tuple[tuple[int, bytes], ...] = ()
    kdc_offset = None
    if version == 4:
        tags, kdc_offset = _read_header(r)
    principal = read_principal(r, version)
    creds: list[Credential] = []
    offsets: list[int] = []
    while r.remaining:
        offsets.append(r.pos)
        creds.append(read_credential(r, version))
    contents = CCacheContents(version, principal, tuple(creds), tags, kdc_offset)
    return contents, tuple(offsets)


def parse(data: bytes, *, source: str = "<ccache>") -> CCacheContents:
    """Bytes of a FILE ccache -> :class:`CCacheContents` (config and removed entries kept)."""
    return parse_with_offsets(data, source=source)[0]


def encode_header(contents: CCacheContents) -> bytes:
    """Version, v4 header and default principal: what ``fcc_initialize`` writes."""
    _check_version(contents.version)
    w = Writer(">")
    w.u16(FVNO_BASE + contents.version, "version")
    w.order = byte_order(contents.version)
    if contents.version == 4:
        _write_header(w, contents)
    write_principal(w, contents.principal, contents.version)
    return w.getvalue()


def serialize(contents: CCacheContents) -> bytes:
    """:class:`CCacheContents` -> bytes; MIT-written caches come back byte-identical."""
    records = (encode_credential(c, contents.version) for c in contents.credentials)
    return encode_header(contents) + b"".join(records)
