"""``MEMORY:`` storage: process-local bytes shared by name, like MIT's ``cc_memory.c``.

The bytes are kept in FILE format so that every cache operation shares one code path; a lock
per process stands in for the file lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from gssmech.errors import CCacheError, GSSMechError

_LOCK = threading.RLock()
_STORES: dict[tuple[str, str], bytearray] = {}


class MemoryLocked:
    """In-memory counterpart of :class:`gssmech.ccache.file.LockedFile`."""

    __slots__ = ("_buf", "data")

    def __init__(self, buf: bytearray) -> None:
        self._buf = buf
        self.data = bytes(buf)

    def pwrite(self, offset: int, raw: bytes) -> None:
        self._buf[offset : offset + len(raw)] = raw
        self.data = bytes(self._buf)

    def append(self, raw: bytes) -> None:
        self._buf += raw
        self.data = bytes(self._buf)


class MemoryStore:
    """Bytes named ``name`` in this process's table ``kind`` ("ccache" or "keytab")."""

    def __init__(
        self, name: str, *, kind: str = "ccache", missing: type[GSSMechError] = CCacheError
    ) -> None:
        self.path = name
        self._key = (kind, name)
        self._missing = missing

    def _buf(self) -> bytearray:
        buf = _STORES.get(self._key)
        if buf is None:
            raise self._missing(f"MEMORY:{self.path}: not found")
        return buf

    def exists(self) -> bool:
        with _LOCK:
            return bool(_STORES.get(self._key))

    def read_bytes(self) -> bytes:
        with _LOCK:
            return bytes(self._buf())

    def append(self, make: Callable[[bytes], bytes]) -> None:
        with _LOCK:
            buf = self._buf()
            buf.extend(make(bytes(buf[:2])))

    @contextlib.contextmanager
    def update(self, *, initial: bytes | None = None) -> Iterator[MemoryLocked]:
        with _LOCK:
            if initial is not None and not _STORES.get(self._key):
                _STORES[self._key] = bytearray(initial)
            yield MemoryLocked(self._buf())

    def replace_bytes(self, data: bytes) -> None:
        with _LOCK:
            _STORES[self._key] = bytearray(data)

    def destroy(self) -> None:
        with _LOCK:
            buf = self._buf()
            buf[:] = bytes(len(buf))
            del _STORES[self._key]
