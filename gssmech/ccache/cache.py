"""The credential-cache API (names after MIT's ``krb5_cc_*``), over FILE or MEMORY bytes.

Every operation parses and writes MIT's FILE format through :mod:`gssmech.ccache.fileformat`;
the storage (a file with MIT's locks, or a process-local buffer) only moves bytes.  Read-modify-
write operations (``remove``, ``set_config``) run under one exclusive lock, like ``cc_file.c``.

Reads re-read the bytes every time (under the shared lock, as before) but parse them only when
they differ from the last bytes parsed for that cache name (:class:`ParseMemo`).  Why that and
not a stat-keyed cache: MIT and we overwrite records in place (tombstones, same size), and two
writes can share one mtime tick, so ``(st_dev, st_ino, st_size, st_mtime_ns)`` can stay the
same while the contents change.  Comparing the bytes themselves is exact: the parse is a pure
function of the bytes, its result is immutable (frozen dataclasses, tuples), and errors are not
memoized, so a memo hit is indistinguishable from a fresh parse.  Reading a few KiB and one
``memcmp`` cost microseconds; the parse costs ~0.5 ms.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Generic, Protocol, TypeVar

from gssmech.ccache import defaults, fileformat
from gssmech.ccache.records import (
    CCacheContents,
    Credential,
    config_credential,
    config_server,
    same_principal,
)
from gssmech.environ import ENVIRON
from gssmech.errors import CCacheError
from gssmech.krb5.principal import Principal

V = TypeVar("V")


class ParseMemo(Generic[V]):
    """The last parse of each name's bytes: ``get(name, data, parse)`` returns ``parse(data)``,
    reusing the previous result when ``data`` equals the bytes it was made from (see the module
    docstring for why equality of bytes, not file metadata).  At most ``limit`` names are kept
    (oldest dropped first); ``forget`` drops a destroyed or missing cache's entry so its keys
    do not linger in memory."""

    def __init__(self, limit: int = 32) -> None:
        self._limit = limit
        self._entries: dict[str, tuple[bytes, V]] = {}
        self._lock = threading.Lock()

    def get(self, name: str, data: bytes, parse: Callable[[bytes], V]) -> V:
        hit = self._entries.get(name)
        if hit is not None and hit[0] == data:
            return hit[1]
        value = parse(data)  # raises for bad bytes: nothing is remembered then
        with self._lock:
            self._entries.pop(name, None)
            while len(self._entries) >= self._limit:
                self._entries.pop(next(iter(self._entries)))
            self._entries[name] = (data, value)
        return value

    def forget(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)


_PARSED: ParseMemo[CCacheContents] = ParseMemo()


class LockedBytes(Protocol):
    data: bytes

    def pwrite(self, offset: int, raw: bytes) -> None: ...

    def append(self, raw: bytes) -> None: ...


class ByteStore(Protocol):
    """What a cache needs from its storage (see ``file.FileStore``, ``memory.MemoryStore``)."""

    path: str

    def exists(self) -> bool: ...

    def read_bytes(self) -> bytes: ...

    def append(self, make: Callable[[bytes], bytes]) -> None: ...

    def update(self, *, initial: bytes | None = None) -> AbstractContextManager[LockedBytes]: ...

    def replace_bytes(self, data: bytes) -> None: ...

    def destroy(self) -> None: ...


class CCache:
    """One credential cache.  ``name`` is MIT's residual, ``full_name`` is ``TYPE:residual``."""

    def __init__(
        self,
        store: ByteStore,
        *,
        cache_type: str,
        residual: str,
        config: Any | None = None,
        env: Mapping[str, str] = ENVIRON,
        before_initialize: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self.cache_type = cache_type
        self.name = residual
        self._config = config
        self._env = env
        self._before_initialize = before_initialize

    def __repr__(self) -> str:
        return f"CCache({self.full_name!r})"

    @property
    def full_name(self) -> str:
        return f"{self.cache_type}:{self.name}"

    @property
    def path(self) -> str:
        """The file path (FILE, DIR) or the memory name."""
        return self._store.path

    def default_version(self) -> int:
        """``ccache_type`` from krb5.conf: the version written for new caches."""
        return defaults.ccache_type(config=self._config, env=self._env)

    # --- reading -------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self._store.exists()

    def _parse(self, data: bytes) -> tuple[CCacheContents, tuple[int, ...]]:
        if not data:
            raise CCacheError(f"{self.full_name}: credential cache is empty (not initialized)")
        return fileformat.parse_with_offsets(data, source=self.full_name)

    def read(self) -> CCacheContents:
        """Everything in the cache, config and removed entries included, in file order.
        Callers that need several parts (principal and tickets) should read once."""
        try:
            data = self._store.read_bytes()
        except CCacheError:
            _PARSED.forget(self.full_name)
            raise
        return _PARSED.get(self.full_name, data, lambda raw: self._parse(raw)[0])

    def principal(self) -> Principal:
        return self.read().principal

    def credentials(self) -> list[Credential]:
        """Tickets: no config entries, no removed entries."""
        return list(self.read().live_credentials())

    def config_entries(self) -> list[Credential]:
        return list(self.read().config_entries())

    def get_config(self, key: str, principal: Principal | None = None) -> bytes | None:
        """``krb5_cc_get_config``: the first live entry for ``key`` (and ``principal``)."""
        return self.read().get_config(key, principal)

    def find(self, server: Principal, client: Principal | None = None) -> Credential | None:
        """The first live ticket for ``server`` (name type ignored, as krb5_principal_compare)."""
        for cred in self.read().live_credentials():
            if same_principal(cred.server, server) and (
                client is None or same_principal(cred.client, client)
            ):
                return cred
        return None

    # --- writing -------------------------------------------------------------------------------
    def initialize(
        self,
        principal: Principal,
        *,
        kdc_offset: tuple[int, int] | None = None,
        version: int | None = None,
    ) -> None:
        """Empty the cache and set its default principal, atomically (MIT 1.20 ``cc_move``)."""
        ver = self.default_version() if version is None else version
        self.replace(CCacheContents(ver, principal, (), (), kdc_offset if ver == 4 else None))

    def replace(self, contents: CCacheContents) -> None:
        """Write ``contents`` as the whole cache: temp file, fsync, rename."""
        if self._before_initialize is not None:
            self._before_initialize()
        self._store.replace_bytes(fileformat.serialize(contents))

    def store(self, cred: Credential) -> None:
        """``krb5_cc_store_cred``: append one record (one ``write()`` under an exclusive lock)."""

        def make(head: bytes) -> bytes:
            if not head:
                raise CCacheError(f"{self.full_name}: credential cache is empty (not initialized)")
            version = fileformat.read_version(fileformat.Reader(head, source=self.full_name))
            return fileformat.encode_credential(cred, version)

        self._store.append(make)

    def _tombstone(self, locked: LockedBytes, match: Callable[[Credential], bool]) -> int:
        """Overwrite every live record matching ``match`` in place (MIT ``delete_cred``)."""
        contents, offsets = self._parse(locked.data)
        ends = (*offsets[1:], len(locked.data))
        count = 0
        for cred, start, end in zip(contents.credentials, offsets, ends):
            if cred.is_removed or not match(cred):
                continue
            raw = fileformat.encode_credential(cred.removed(), contents.version)
            if len(raw) != end - start:  # same length by construction; never shift records
                raise CCacheError(f"{self.full_name}: cannot tombstone a non-canonical record")
            locked.pwrite(start, raw)
            count += 1
        return count

    def remove(self, server: Principal) -> int:
        """``krb5_cc_remove_cred``: tombstone the live tickets for ``server``; return how many."""
        with self._store.update() as locked:
            return self._tombstone(
                locked, lambda c: not c.is_config and same_principal(c.server, server)
            )

    def set_config(self, key: str, value: bytes | None, principal: Principal | None = None) -> None:
        """``krb5_cc_set_config`` as at MIT HEAD (fe04743): remove the old entries in place,
        then append the new one, all under one exclusive lock.  ``None`` only removes."""
        want = config_server(key, principal)
        with self._store.update() as locked:
            self._tombstone(locked, lambda c: c.is_config and same_principal(c.server, want))
            if value is not None:
                contents = self._parse(locked.data)[0]
                cred = config_credential(contents.principal, key, value, principal)
                locked.append(fileformat.encode_credential(cred, contents.version))

    def take_config(
        self,
        key: str,
        principal: Principal | None = None,
        *,
        consume: Callable[[bytes], bool] = lambda value: True,
    ) -> bytes | None:
        """Read a config value and, when ``consume(value)`` says so, remove it in place, all
        under one exclusive lock, so two processes can never both take a single-use value."""
        want = config_server(key, principal)
        with self._store.update() as locked:
            contents = self._parse(locked.data)[0]
            hit = next(
                (
                    c
                    for c in contents.credentials
                    if c.is_config and not c.is_removed and same_principal(c.server, want)
                ),
                None,
            )
            if hit is None:
                return None
            if consume(hit.ticket):
                self._tombstone(locked, lambda c: c.is_config and same_principal(c.server, want))
            return hit.ticket

    def copy_to(self, other: CCache, *, version: int | None = None) -> None:
        """``kcopy``: principal, tickets and config entries into ``other``, replaced atomically.
        ``other`` keeps its own version if it exists, else gets its ``ccache_type``."""
        src = self.read()
        if version is None:
            version = other.read().version if other.exists() else other.default_version()
        creds = tuple(c for c in src.credentials if not c.is_removed)
        v4 = version == 4
        other.replace(
            CCacheContents(
                version,
                src.principal,
                creds,
                src.header_tags if v4 else (),
                src.kdc_offset if v4 else None,
            )
        )

    def destroy(self) -> None:
        """``kdestroy``: the file is unlinked and its bytes overwritten with zeros."""
        _PARSED.forget(self.full_name)
        self._store.destroy()
