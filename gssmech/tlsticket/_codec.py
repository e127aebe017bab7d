"""TLS presentation-language primitives (RFC 2246 §4): integers and length-prefixed vectors.

``opaque x<floor..ceiling>`` is encoded with a big-endian length prefix just wide enough for
``ceiling`` (RFC 2246 §4.3): 1 byte up to 2^8-1, 2 up to 2^16-1, 3 up to 2^24-1.  The reader
raises the caller's DecodeError class with the source and the byte offset, never IndexError.
"""

from __future__ import annotations

from gssmech.errors import DecodeError
from gssmech.tlsticket.errors import TicketEncodeError


def uint(value: int, size: int) -> bytes:
    """An unsigned big-endian integer of ``size`` bytes (uint8/16/24/32/64)."""
    if not 0 <= value < 1 << (8 * size):
        raise TicketEncodeError(f"{value} does not fit in uint{8 * size}")
    return value.to_bytes(size, "big")


def vector(data: bytes, prefix: int, floor: int = 0) -> bytes:
    """``opaque data<floor..2^(8*prefix)-1>``: length prefix then the bytes."""
    if not floor <= len(data) < 1 << (8 * prefix):
        raise TicketEncodeError(f"vector of {len(data)} bytes outside <{floor}..2^{8 * prefix}-1>")
    return len(data).to_bytes(prefix, "big") + data


class Reader:
    """Reads TLS structures from ``data``; every failure is ``error(msg, source, offset)``."""

    __slots__ = ("data", "error", "pos", "source")

    def __init__(
        self, data: bytes, source: str, error: type[DecodeError] = DecodeError
    ) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise error(f"expected bytes, got {type(data).__name__}", source=source)
        self.data = bytes(data)
        self.pos = 0
        self.source = source
        self.error = error

    def fail(self, message: str, offset: int | None = None) -> DecodeError:
        where = self.pos if offset is None else offset
        return self.error(message, source=self.source, offset=where)

    def take(self, n: int, what: str) -> bytes:
        if n > len(self.data) - self.pos:
            raise self.fail(f"truncated {what}: need {n} bytes, have {len(self.data) - self.pos}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "big")

    def vector(self, prefix: int, what: str, floor: int = 0) -> bytes:
        start = self.pos
        n = self.uint(prefix, f"{what} length")
        if n < floor:
            raise self.fail(f"{what} shorter than its floor {floor}", start)
        return self.take(n, what)

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def end(self, what: str) -> None:
        if self.pos != len(self.data):
            raise self.fail(f"{len(self.data) - self.pos} trailing bytes after {what}")
