"""Keytabs: ``FILE:``/``WRFILE:`` (MIT's format, locking and hole reuse) and ``MEMORY:``.

Name resolution follows ``krb5_kt_default_name``: ``$KRB5_KTNAME``, then ``[libdefaults]
default_keytab_name``, then ``FILE:/etc/krb5.keytab``.  ``add`` writes the record into the
first hole big enough for it, else at the end, under an exclusive lock (``krb5_ktfileint_
find_slot``); ``remove`` overwrites records with holes (negative length + zeros), as MIT does.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from gssmech.ccache import defaults
from gssmech.ccache.cache import ByteStore, ParseMemo
from gssmech.ccache.file import FileStore
from gssmech.ccache.keytab_format import (
    KT_VNO_2,
    KeytabEntry,
    byte_order,
    encode_entry,
    encode_record,
    hole,
    parse_records,
)
from gssmech.ccache.memory import MemoryStore
from gssmech.ccache.records import same_principal
from gssmech.environ import ENVIRON
from gssmech.errors import KeytabError
from gssmech.krb5.principal import Principal

__all__ = ["Keytab", "KeytabEntry"]


def _matches(
    entry: KeytabEntry, principal: Principal | None, kvno: int | None, enctype: int | None
) -> bool:
    return (
        (principal is None or same_principal(entry.principal, principal))
        and (kvno is None or entry.kvno == kvno)
        and (enctype is None or entry.enctype == enctype)
    )


class _Parsed:
    """The entries of one keytab's bytes, in file order, and the same grouped by principal
    (realm and components: the name type is ignored, as ``krb5_principal_compare`` does)."""

    __slots__ = ("by_principal", "entries")

    def __init__(self, entries: tuple[KeytabEntry, ...]) -> None:
        self.entries = entries
        index: dict[tuple[str, tuple[str, ...]], list[KeytabEntry]] = {}
        for entry in entries:
            key = (entry.principal.realm, entry.principal.components)
            index.setdefault(key, []).append(entry)
        self.by_principal = {k: tuple(v) for k, v in index.items()}


_PARSED: ParseMemo[_Parsed] = ParseMemo()


class Keytab:
    """One keytab.  ``full_name`` is ``TYPE:residual`` as MIT's ``krb5_kt_get_name``."""

    def __init__(self, store: ByteStore, *, kt_type: str, residual: str) -> None:
        self._store = store
        self.kt_type = kt_type
        self.name = residual

    def __repr__(self) -> str:
        return f"Keytab({self.full_name!r})"

    @property
    def full_name(self) -> str:
        return f"{self.kt_type}:{self.name}"

    @classmethod
    def resolve(
        cls,
        name: str | None = None,
        *,
        config: Any | None = None,
        env: Mapping[str, str] = ENVIRON,
    ) -> Keytab:
        """``krb5_kt_resolve`` (``krb5_kt_default`` when ``name`` is None)."""
        if name is None:
            name = defaults.default_keytab_name(config=config, env=env)
        kind, sep, residual = name.partition(":")
        if not sep or len(kind) == 1:
            kind, residual = "FILE", name
        if kind in ("FILE", "WRFILE"):
            if not residual:
                raise KeytabError(f"keytab name {name!r} has an empty path")
            return cls(FileStore(residual, missing=KeytabError), kt_type=kind, residual=residual)
        if kind == "MEMORY":
            store = MemoryStore(residual, kind="keytab", missing=KeytabError)
            return cls(store, kt_type=kind, residual=residual)
        raise KeytabError(f"keytab type {kind!r} is not supported by gssmech; use FILE:")

    def exists(self) -> bool:
        return self._store.exists()

    def _read(self) -> _Parsed:
        try:
            data = self._store.read_bytes()
        except KeytabError:
            _PARSED.forget(self.full_name)
            raise
        return _PARSED.get(self.full_name, data, self._parse)

    def _parse(self, data: bytes) -> _Parsed:
        return _Parsed(tuple(rec.entry for rec in parse_records(data, source=self.full_name)[1]))

    def entries(self) -> list[KeytabEntry]:
        """Every entry in file order (holes skipped).  A missing keytab is a KeytabError."""
        return list(self._read().entries)

    def find(
        self, principal: Principal, kvno: int | None = None, enctype: int | None = None
    ) -> KeytabEntry | None:
        """The matching entry with the highest kvno (first one on ties), or None."""
        parsed = self._read()
        if isinstance(principal.components, tuple):
            candidates = parsed.by_principal.get((principal.realm, principal.components), ())
        else:  # not hashable: compare the slow way, with the same (never equal) outcome
            candidates = tuple(e for e in parsed.entries if same_principal(e.principal, principal))
        best: KeytabEntry | None = None
        for entry in candidates:
            if _matches(entry, None, kvno, enctype) and (best is None or entry.kvno > best.kvno):
                best = entry
        return best

    def add(self, entry: KeytabEntry) -> None:
        """``krb5_kt_add_entry``: reuse the first hole that fits, else write at the end; the
        file is created (``05 02``, mode 0600) if missing."""
        with self._store.update(initial=struct.pack(">H", KT_VNO_2)) as locked:
            data = locked.data
            version, _ = parse_records(data, source=self.full_name)  # refuse to extend garbage
            body = len(encode_entry(entry, version))
            slot, size = self._find_slot(data, version, body)
            locked.pwrite(slot, encode_record(entry, version, size=size))

    @staticmethod
    def _find_slot(data: bytes, version: int, need: int) -> tuple[int, int | None]:
        """(offset, padded size) of the first hole >= ``need``; else (end, None)."""
        order = byte_order(version)
        pos = 2
        while len(data) - pos >= 4:
            size = struct.unpack(order + "i", data[pos : pos + 4])[0]
            if size == 0:
                break
            if -size >= need:
                return pos, -size
            pos += 4 + abs(size)
        return pos, None

    def remove(
        self, principal: Principal, kvno: int | None = None, enctype: int | None = None
    ) -> int:
        """``krb5_kt_remove_entry``: overwrite each match with a hole; return how many.
        ``kvno``/``enctype`` of None match any."""
        count = 0
        with self._store.update() as locked:
            version, records = parse_records(locked.data, source=self.full_name)
            for rec in records:
                if _matches(rec.entry, principal, kvno, enctype):
                    locked.pwrite(rec.offset, hole(rec.size, version))
                    count += 1
        return count

    def destroy(self) -> None:
        _PARSED.forget(self.full_name)
        self._store.destroy()
