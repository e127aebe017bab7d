"""Acceptor replay cache (RFC 4120 §3.2.3, RFC 4121 §4.1.1 ``replay detection``).

An authenticator seen once must be refused if it comes again while it could still be accepted
(within the clock skew).  Several acceptor processes of one user share one file, so the check
and the store happen under one exclusive lock:

- the file is per effective uid, ``$KRB5RCACHEDIR`` (or ``/var/tmp``) ``/gssmech_<euid>.rcache``,
  opened with O_NOFOLLOW and refused unless we own it and nobody else may write it;
- the layout is a magic header then fixed 40-byte records ``SHA-256(tag) | expiry (8, BE)``;
- a store is one ``write()`` of one record to an O_APPEND descriptor under ``flock`` (an
  open-file-description lock: it also serializes threads that opened the file separately);
  a torn trailing record (a crash mid-write) is ignored and dropped at the next rewrite;
- expired records are pruned by writing the live ones to a temporary file and renaming it over
  the cache; a process that locked the old inode notices the rename (inode changed) and retries
  on the new file, so no entry is ever written to a file nobody reads.

``KRB5RCACHETYPE=none`` (or ``KRB5RCACHENAME=none:``) disables it, as in MIT.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
import struct
import threading
import time
from collections.abc import Mapping
from typing import Protocol

from gssmech.errors import GSS_S_FAILURE, GSSMechError, Minor

MAGIC = b"GSMRC\x00\x01\n"
RECORD = struct.Struct(">32sQ")
DEFAULT_DIR = "/var/tmp"
#: Rewrite when at least this many records are present and half of them have expired.
PRUNE_THRESHOLD = 256


class ReplayCacheError(GSSMechError):
    """The replay cache file cannot be used safely (wrong owner, permissions, I/O error)."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.REPLAY_CACHE


class ReplayCache(Protocol):
    def check_and_store(self, tag: bytes, expiry: int, now: int | None = None) -> bool:
        """True if ``tag`` is new (and is now recorded until ``expiry``); False on a replay."""
        ...


class NullReplayCache:
    """``KRB5RCACHETYPE=none``: every authenticator is new."""

    def check_and_store(self, tag: bytes, expiry: int, now: int | None = None) -> bool:
        return True


class MemoryReplayCache:
    """A process-local replay cache (tests, and acceptors that never share a key)."""

    def __init__(self) -> None:
        self._seen: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def check_and_store(self, tag: bytes, expiry: int, now: int | None = None) -> bool:
        t = int(time.time()) if now is None else now
        digest = hashlib.sha256(tag).digest()
        with self._lock:
            if self._seen.get(digest, -1) > t:
                return False
            self._seen = {d: e for d, e in self._seen.items() if e > t}
            self._seen[digest] = expiry
            return True


def parse_records(data: bytes) -> list[tuple[bytes, int]]:
    """Sans-I/O: the records of a cache file; a foreign header or torn tail is skipped."""
    if not data.startswith(MAGIC):
        return []
    body = data[len(MAGIC) :]
    usable = len(body) - len(body) % RECORD.size
    return [RECORD.unpack_from(body, off) for off in range(0, usable, RECORD.size)]


def encode_records(records: list[tuple[bytes, int]]) -> bytes:
    return MAGIC + b"".join(RECORD.pack(d, e) for d, e in records)


class FileReplayCache:
    """The shared, file-backed replay cache described in the module docstring."""

    def __init__(self, path: str, *, prune_threshold: int = PRUNE_THRESHOLD) -> None:
        self.path = path
        self.prune_threshold = prune_threshold

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> FileReplayCache:
        env = os.environ if env is None else env
        directory = env.get("KRB5RCACHEDIR") or DEFAULT_DIR
        return cls(os.path.join(directory, f"gssmech_{os.geteuid()}.rcache"))

    def check_and_store(self, tag: bytes, expiry: int, now: int | None = None) -> bool:
        t = int(time.time()) if now is None else now
        digest = hashlib.sha256(tag).digest()
        try:
            return self._check_and_store(digest, expiry, t)
        except OSError as exc:
            raise ReplayCacheError(f"replay cache {self.path}: {exc.strerror or exc}") from None

    def _check_and_store(self, digest: bytes, expiry: int, now: int) -> bool:
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if not self._still_current(fd):
                    continue  # pruned under us: lock the file that is now in place
                data = _read_all(fd)
                if not data:
                    os.write(fd, MAGIC)
                    data = MAGIC
                records = parse_records(data)
                if not data.startswith(MAGIC):
                    raise ReplayCacheError(f"{self.path} is not a gssmech replay cache")
                if any(d == digest and e > now for d, e in records):
                    return False
                live = [(d, e) for d, e in records if e > now]
                torn = (len(data) - len(MAGIC)) % RECORD.size != 0
                if torn or (len(records) >= self.prune_threshold and 2 * len(live) <= len(records)):
                    self._rewrite([*live, (digest, expiry)])
                else:
                    os.write(fd, RECORD.pack(digest, expiry))  # one write per entry
                return True
            finally:
                os.close(fd)  # also releases the flock

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o600)
        st = os.fstat(fd)
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_uid != os.geteuid()
            or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            os.close(fd)
            raise ReplayCacheError(f"{self.path}: not a private file owned by this user")
        return fd

    def _still_current(self, fd: int) -> bool:
        try:
            on_disk = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)

    def _rewrite(self, records: list[tuple[bytes, int]]) -> None:
        """Atomic replacement while holding the old file's lock (temp file + rename)."""
        temp = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, encode_records(records))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, self.path)

    def entries(self) -> list[tuple[bytes, int]]:
        """Every record (diagnostics and tests)."""
        try:
            with open(self.path, "rb") as f:
                return parse_records(f.read())
        except FileNotFoundError:
            return []


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def default_replay_cache(env: Mapping[str, str] | None = None) -> ReplayCache:
    """MIT's selection: ``KRB5RCACHETYPE=none`` or ``KRB5RCACHENAME=none:...`` disables it;
    otherwise the per-user file in ``$KRB5RCACHEDIR`` or /var/tmp."""
    env = os.environ if env is None else env
    if env.get("KRB5RCACHETYPE", "").lower() == "none":
        return NullReplayCache()
    if env.get("KRB5RCACHENAME", "").lower().startswith("none:"):
        return NullReplayCache()
    return FileReplayCache.default(env)
