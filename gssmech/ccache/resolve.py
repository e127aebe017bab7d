"""Cache names: ``TYPE:residual`` resolution and DIR collections (MIT doc ``ccache_def``).

* no prefix, or ``FILE:`` -> a FILE cache at the residual path;
* ``DIR:dir`` -> the collection's primary cache (named by the one-line ``primary`` file,
  ``tkt`` when absent); ``DIR::dir/tktXXX`` -> that one cache file;
* ``MEMORY:name`` -> a process-local cache shared by name;
* ``KEYRING:``, ``KCM:``, ``API:``, ``MSLSA:`` -> :class:`UnsupportedCCacheType`.

Like MIT's ``krb5_cc_resolve`` the type prefix is case-sensitive and a one-letter prefix is a
drive letter, i.e. part of a FILE path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gssmech.ccache import defaults
from gssmech.ccache.cache import CCache
from gssmech.ccache.file import FileStore, _random_suffix, write_new_file
from gssmech.ccache.memory import MemoryStore
from gssmech.environ import ENVIRON
from gssmech.errors import CCacheError, UnsupportedCCacheType

UNSUPPORTED_TYPES = ("KEYRING", "KCM", "API", "MSLSA")
PRIMARY_FILE = "primary"
DEFAULT_SUBSIDIARY = "tkt"


def split_name(name: str) -> tuple[str, str]:
    """``TYPE:residual`` -> (type, residual); no prefix (or a drive letter) means FILE."""
    kind, sep, residual = name.partition(":")
    if not sep or len(kind) == 1:
        return "FILE", name
    return kind, residual


def resolve(
    name: str | None = None, *, config: Any | None = None, env: Mapping[str, str] = ENVIRON
) -> CCache:
    """``krb5_cc_resolve`` (``krb5_cc_default`` when ``name`` is None)."""
    if name is None:
        name = defaults.default_ccache_name(config=config, env=env)
    kind, residual = split_name(name)
    if kind == "FILE":
        if not residual:
            raise CCacheError("FILE: cache name has an empty path")
        return CCache(
            FileStore(residual), cache_type="FILE", residual=residual, config=config, env=env
        )
    if kind == "MEMORY":
        return CCache(
            MemoryStore(residual), cache_type="MEMORY", residual=residual, config=config, env=env
        )
    if kind == "DIR":
        if residual.startswith(":"):
            return _subsidiary(residual[1:], config=config, env=env)
        return DirCollection(residual, config=config, env=env).primary()
    if kind in UNSUPPORTED_TYPES:
        raise UnsupportedCCacheType(
            f"credential cache type {kind}: is not supported by gssmech; use FILE: or DIR: "
            f"(name {name!r})"
        )
    raise UnsupportedCCacheType(f"unknown credential cache type {kind!r} in {name!r}")


def _subsidiary(path: str, *, config: Any | None, env: Mapping[str, str]) -> CCache:
    directory, base = os.path.split(path)
    if not directory or not _is_cache_filename(base):
        raise CCacheError(f"DIR::{path}: subsidiary cache name must be dir/tkt...")
    coll = DirCollection(directory, config=config, env=env)
    return CCache(
        FileStore(path),
        cache_type="DIR",
        residual=":" + path,
        config=config,
        env=env,
        before_initialize=coll.ensure_directory,
    )


def _is_cache_filename(base: str) -> bool:
    # MIT's filename_is_cache: starts with "tkt"; our temp files contain a '.', skip those.
    return base.startswith(DEFAULT_SUBSIDIARY) and "/" not in base and "." not in base


class DirCollection:
    """A ``DIR:`` collection: ``tkt*`` cache files and a ``primary`` file naming one of them."""

    def __init__(
        self, directory: str, *, config: Any | None = None, env: Mapping[str, str] = ENVIRON
    ) -> None:
        if not directory:
            raise CCacheError("DIR: collection name has an empty directory")
        self.directory = directory
        self._config = config
        self._env = env

    @property
    def full_name(self) -> str:
        return f"DIR:{self.directory}"

    def ensure_directory(self) -> None:
        """MIT creates the collection directory (mode 0700) when a cache is first written."""
        try:
            os.mkdir(self.directory, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise CCacheError(
                f"{self.full_name}: cannot create directory: {exc.strerror}"
            ) from None

    def primary_name(self) -> str:
        """The file named by ``primary`` (its first line), or ``tkt``."""
        try:
            with open(os.path.join(self.directory, PRIMARY_FILE), encoding="utf-8") as f:
                line = f.readline().rstrip("\n")
        except (OSError, UnicodeDecodeError):
            return DEFAULT_SUBSIDIARY
        return line if _is_cache_filename(line) else DEFAULT_SUBSIDIARY

    def cache(self, filename: str) -> CCache:
        return _subsidiary(
            os.path.join(self.directory, filename), config=self._config, env=self._env
        )

    def primary(self) -> CCache:
        return self.cache(self.primary_name())

    def caches(self) -> list[CCache]:
        """Every initialized cache in the collection, primary first (``krb5_cccol_cursor``)."""
        try:
            names = sorted(n for n in os.listdir(self.directory) if _is_cache_filename(n))
        except OSError:
            return []
        primary = self.primary_name()
        names.sort(key=lambda n: n != primary)
        return [c for c in (self.cache(n) for n in names) if c.exists()]

    def switch(self, cache: CCache) -> None:
        """``krb5_cc_switch``: make ``cache`` primary (temp file + rename of ``primary``)."""
        path = cache.path
        if cache.cache_type != "DIR" or os.path.dirname(path) != self.directory:
            raise CCacheError(f"{cache.full_name} is not in collection {self.full_name}")
        self.ensure_directory()
        target = os.path.join(self.directory, PRIMARY_FILE)
        temp = write_new_file(target, (os.path.basename(path) + "\n").encode())
        os.replace(temp, target)

    def new_unique(self) -> CCache:
        """``krb5_cc_new_unique``: create an empty ``tktXXXXXX`` file and return its cache."""
        self.ensure_directory()
        while True:
            name = DEFAULT_SUBSIDIARY + _random_suffix()
            try:
                fd = os.open(os.path.join(self.directory, name), os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            os.close(fd)
            return self.cache(name)
