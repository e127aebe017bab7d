"""The GSS authenticator checksum, type 0x8003 (RFC 4121 §4.1.1), and channel bindings.

::

    Octet  Name    Description
    0..3   Lgth    Number of octets in Bnd field; currently 16 (little-endian, like all here)
    4..19  Bnd     MD5 hash of channel bindings (§4.1.1.2), or zeros
    20..23 Flags   context establishment flags (§4.1.1.1)
    24..25 DlgOpt  delegation option identifier = 1       -- only with GSS_C_DELEG_FLAG
    26..27 Dlgth   length of Deleg                        -- only with GSS_C_DELEG_FLAG
    28..   Deleg   KRB_CRED message                       -- only with GSS_C_DELEG_FLAG
    n..    Exts    extensions: type (4, big-endian), length (4, big-endian), data

The channel-bindings hash (RFC 4121 §4.1.1.2, RFC 2744 §3.11) is MD5 over the little-endian
32-bit initiator address type, address length, address, the same for the acceptor, then the
application data length and the application data.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from gssmech.errors import DecodeError

LGTH = 16
ZERO_BINDINGS = bytes(16)
DELEG_FLAG = 1
DLG_OPT = 1
_SOURCE = "GSS authenticator checksum (RFC 4121 §4.1.1)"


@dataclass(frozen=True, slots=True)
class ChannelBindings:
    """``gss_channel_bindings_struct`` (RFC 2744 §3.11).  Most callers (TLS channel bindings,
    python-gssapi's ``ChannelBindings(application_data=...)``) use only application data."""

    application_data: bytes = b""
    initiator_addrtype: int = 0
    initiator_address: bytes = b""
    acceptor_addrtype: int = 0
    acceptor_address: bytes = b""

    def md5(self) -> bytes:
        """Bnd: MD5 over the little-endian encoding of RFC 4121 §4.1.1.2."""
        buf = b"".join(
            (
                struct.pack("<II", self.initiator_addrtype, len(self.initiator_address)),
                self.initiator_address,
                struct.pack("<II", self.acceptor_addrtype, len(self.acceptor_address)),
                self.acceptor_address,
                struct.pack("<I", len(self.application_data)),
                self.application_data,
            )
        )
        return hashlib.md5(buf, usedforsecurity=False).digest()


Bindings = ChannelBindings | bytes | None


def bindings_hash(bindings: Bindings) -> bytes:
    """The Bnd field: zeros for no bindings; plain bytes are the application data."""
    if bindings is None:
        return ZERO_BINDINGS
    if isinstance(bindings, bytes | bytearray | memoryview):
        bindings = ChannelBindings(bytes(bindings))
    return bindings.md5()


@dataclass(frozen=True, slots=True)
class GSSChecksum:
    """The decoded 0x8003 checksum value."""

    bnd: bytes
    flags: int
    deleg: bytes | None = None
    exts: tuple[tuple[int, bytes], ...] = ()

    def encode(self) -> bytes:
        if len(self.bnd) != LGTH:
            raise ValueError("Bnd must be 16 octets")
        out = [struct.pack("<I", LGTH), self.bnd, struct.pack("<I", self.flags & 0xFFFFFFFF)]
        if self.deleg is not None:
            out.append(struct.pack("<HH", DLG_OPT, len(self.deleg)))
            out.append(self.deleg)
        for ext_type, data in self.exts:
            out.append(struct.pack(">II", ext_type, len(data)))
            out.append(data)
        return b"".join(out)

    @classmethod
    def decode(cls, data: bytes) -> GSSChecksum:
        """Parse strictly: Lgth must be 16, the delegation part must be complete when the
        DELEG flag announces it, extensions must be whole, nothing may trail."""
        if len(data) < 24:
            raise DecodeError("shorter than 24 octets", source=_SOURCE, offset=len(data))
        (lgth,) = struct.unpack_from("<I", data, 0)
        if lgth != LGTH:
            raise DecodeError(f"Lgth is {lgth}, not 16", source=_SOURCE, offset=0)
        bnd = data[4:20]
        (flags,) = struct.unpack_from("<I", data, 20)
        pos = 24
        deleg = None
        # NB(mit): the delegation fields are present iff the DELEG flag is set (MIT
        # kg_accept_krb5 reads them only then); a DELEG flag without them is malformed.
        if flags & DELEG_FLAG:
            if len(data) < pos + 4:
                raise DecodeError("DELEG flag without DlgOpt/Dlgth", source=_SOURCE, offset=pos)
            dlg_opt, dlgth = struct.unpack_from("<HH", data, pos)
            if dlg_opt != DLG_OPT:
                raise DecodeError(f"DlgOpt {dlg_opt}, not 1", source=_SOURCE, offset=pos)
            pos += 4
            if len(data) < pos + dlgth:
                raise DecodeError("Deleg runs past the checksum", source=_SOURCE, offset=pos)
            deleg = data[pos : pos + dlgth]
            pos += dlgth
        exts = []
        while pos < len(data):
            if len(data) < pos + 8:
                raise DecodeError("truncated extension header", source=_SOURCE, offset=pos)
            ext_type, ext_len = struct.unpack_from(">II", data, pos)
            pos += 8
            if len(data) < pos + ext_len:
                raise DecodeError("extension runs past the checksum", source=_SOURCE, offset=pos)
            exts.append((ext_type, data[pos : pos + ext_len]))
            pos += ext_len
        return cls(bnd, flags, deleg, tuple(exts))
