"""Acceptor replay cache (RFC 4120 §3.2.3, RFC 4121 §4.1.1 ``replay detection``).

An authenticator seen once must be refused if it comes again while it could still be accepted
(within the clock skew).  Several acceptor processes of one user share one file, so the check
and the store happen under one exclusive lock, and each check costs a handful of small reads
however busy the acceptor is (an acceptor taking 100 contexts a second holds ~30,000 live
entries across a five-minute skew window; rereading them all on every accept would not scale):

- the file is per effective uid, ``$KRB5RCACHEDIR`` (or ``/var/tmp``) ``/gssmech_<euid>.rcache``,
  opened with O_NOFOLLOW and refused unless we own it and nobody else may write it;
- the layout is a magic header then hash tables of fixed 40-byte slots
  ``SHA-256(tag) | expiry (8, BE)``, grouped in buckets of ``BUCKET`` adjacent slots: table k
  has ``FIRST_TABLE << k`` slots, and a tag's bucket in each is its digest modulo the number of
  buckets there.  A check reads the tag's bucket in every table (one ``pread()`` each; a live
  match is a replay), then writes the tag into the first slot that is empty or expired; when
  the bucket is full in every table, a table twice the size of the last is added.  Expired
  entries are so reused in place and the file never needs rewriting: it grows with the peak
  number of live entries, by doubling, and never shrinks (MIT's ``file2`` replay cache works
  the same way; this mirrors it in spirit, not in format);
- a store is one ``pwrite()`` of one slot under ``flock``; a new table is made by extending
  the file first (the unwritten slots read as zeros: empty), so a crash leaves at worst an
  empty table;
- the file stays open between checks (opening it was a third of a check's cost).  ``flock``
  belongs to the open file description, which threads of the process and a forked child
  share, so threads take turns on a lock of their own, and a forked child opens the file
  again (a fork hook closes the inherited descriptor; after a fork no hook saw, the pid tells,
  and that descriptor is forgotten, not closed: its number may be the host's by then); after
  the lock, the path must still name the open inode, else (removed, or replaced by a
  conversion) the file at the path is opened;
- a version-1 file (the append-only log of earlier releases) is converted under its lock by
  writing the live entries into a new file and renaming it over; a process that locked the old
  inode notices the rename (inode changed) and retries on the new file, so no entry is ever
  written to a file nobody reads.

``KRB5RCACHETYPE=none`` (or ``KRB5RCACHENAME=none:``) disables it, as in MIT.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import stat
import struct
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Protocol

from gssmech.environ import ENVIRON
from gssmech.errors import GSS_S_FAILURE, GSSMechError, Minor

MAGIC = b"GSMRC\x00\x02\n"
SEED_LEN = 16
#: MAGIC then the file's random seed for the bucket index (secret: the file is private).
HEADER = len(MAGIC) + SEED_LEN
#: Version 1: MAGIC_V1 then appended slots; read only to convert it.
MAGIC_V1 = b"GSMRC\x00\x01\n"
SLOT = struct.Struct(">32sQ")
FIRST_TABLE = 1024
#: Slots per bucket: a tag may sit in any of the BUCKET slots at its place in a table.
BUCKET = 4
_WIDTH = BUCKET * SLOT.size
_ZERO = bytes(32)
#: 1024 * (2**20 - 1) slots, 40 GiB: never reached by an acceptor that honours the skew.
MAX_TABLES = 20
DEFAULT_DIR = "/var/tmp"


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
        self._sweep_at = 64

    def check_and_store(self, tag: bytes, expiry: int, now: int | None = None) -> bool:
        t = int(time.time()) if now is None else now
        digest = hashlib.sha256(tag).digest()
        with self._lock:
            if self._seen.get(digest, -1) > t:
                return False
            if len(self._seen) >= self._sweep_at:
                # Sweeping only when the size has doubled keeps each check amortized O(1).
                self._seen = {d: e for d, e in self._seen.items() if e > t}
                self._sweep_at = max(64, 2 * len(self._seen))
            self._seen[digest] = expiry
            return True


# --- the table layout (sans-I/O: ``read(n, offset)``, as os.pread, is short past the end) -------
def table_offset(k: int) -> int:
    """Where table ``k`` starts: after the header and tables 0..k-1."""
    return HEADER + SLOT.size * FIRST_TABLE * ((1 << k) - 1)


def bucket_offset(seed: bytes, digest: bytes, k: int) -> int:
    """Where the tag's bucket (``BUCKET`` adjacent slots, read at once) is in table ``k``.
    The index is keyed with the file's secret seed, and differently for each table: a client
    able to make valid authenticators (anonymous PKINIT lets anyone) could otherwise grind
    tags that pile into one bucket of every table and make the file grow a table at a time."""
    h = hashlib.blake2b(digest, digest_size=8, key=seed, person=b"%d" % k).digest()
    return table_offset(k) + int.from_bytes(h, "big") % ((FIRST_TABLE << k) // BUCKET) * _WIDTH


def tables_in(size: int) -> int:
    """How many tables a file of ``size`` bytes holds (a table exists once it has started)."""
    key = (size, FIRST_TABLE)
    k = _TABLES_IN.get(key)
    if k is None:
        k = 0
        while k < MAX_TABLES and table_offset(k) < size:
            k += 1
        if len(_TABLES_IN) >= 64:
            _TABLES_IN.clear()
        _TABLES_IN[key] = k
    return k


#: tables_in by (size, FIRST_TABLE): asked on every check, and a file has few sizes.
_TABLES_IN: dict[tuple[int, int], int] = {}
#: The BUCKET expiries of a whole bucket, in one unpack.
_EXPIRIES = struct.Struct(">" + "32xQ" * BUCKET)


def probe(
    read: Callable[[int, int], bytes], size: int, seed: bytes, digest: bytes, now: int
) -> tuple[bool, int | None]:
    """``(replayed, free)``: whether ``digest`` is live in some table, and the offset of the
    first slot it may be written to (None: its bucket is taken in every table).

    The search ends at the first bucket with a never-written slot (zeros, or past the end of
    a table cut short): slots are never emptied, so that slot was empty when any earlier store
    of this digest looked at it, and that store went no further."""
    free = None
    for k in range(tables_in(size)):
        base = bucket_offset(seed, digest, k)
        raw = read(_WIDTH, base)
        if len(raw) < _WIDTH or digest in raw:
            replayed, free, unused = _scan(raw, base, digest, now, free)
            if replayed:
                return True, None
        else:  # the usual case: the digest is nowhere in the bucket, only expiries matter
            unused = False
            for j, e in enumerate(_EXPIRIES.unpack(raw)):
                if e <= now:
                    off = j * SLOT.size
                    if free is None:
                        free = base + off
                    if e == 0 and raw[off : off + 32] == _ZERO:
                        unused = True
        if unused:
            break
    return False, free


def _scan(
    raw: bytes, base: int, digest: bytes, now: int, free: int | None
) -> tuple[bool, int | None, bool]:
    """One bucket slot by slot: ``(replayed, free, unused)`` (see :func:`probe`)."""
    unused = False
    for off in range(0, _WIDTH, SLOT.size):
        if off + SLOT.size > len(raw):
            return False, base + off if free is None else free, True
        d, e = SLOT.unpack_from(raw, off)
        if e > now:
            if d == digest:
                return True, free, unused
        elif free is None:
            free = base + off
        unused = unused or (e == 0 and d == _ZERO)
    return False, free, unused


def slots(data: bytes) -> list[tuple[bytes, int]]:
    """Every written slot of a version-2 image, or every record of a version-1 log."""
    if data.startswith(MAGIC_V1):
        body = data[len(MAGIC_V1) :]
        usable = len(body) - len(body) % SLOT.size
        return [SLOT.unpack_from(body, off) for off in range(0, usable, SLOT.size)]
    if not data.startswith(MAGIC):
        return []
    out = []
    for off in range(HEADER, len(data) - SLOT.size + 1, SLOT.size):
        d, e = SLOT.unpack_from(data, off)
        if e or d != _ZERO:
            out.append((d, e))
    return out


def image(entries: list[tuple[bytes, int]], now: int, seed: bytes) -> bytes:
    """A version-2 file holding the entries of ``entries`` still live at ``now``."""
    buf = bytearray(MAGIC + seed)
    for d, e in entries:
        if e <= now:
            continue
        replayed, free = probe(lambda n, o: bytes(buf[o : o + n]), len(buf), seed, d, now)
        if replayed:
            continue
        if free is None:
            k = tables_in(len(buf))
            if k >= MAX_TABLES:
                raise ReplayCacheError("replay cache is full")
            buf.extend(bytes(table_offset(k + 1) - len(buf)))
            free = bucket_offset(seed, d, k)
        buf[free : free + SLOT.size] = SLOT.pack(d, e)
    return bytes(buf)


class FileReplayCache:
    """The shared, file-backed replay cache described in the module docstring."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        #: (fd, pid that opened it, its st_dev and st_ino), or None when not open
        self._open_file: tuple[int, int, int, int] | None = None
        _INSTANCES.add(self)

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> FileReplayCache:
        env = ENVIRON if env is None else env
        directory = env.get("KRB5RCACHEDIR") or DEFAULT_DIR
        return cls(os.path.join(directory, f"gssmech_{os.geteuid()}.rcache"))

    def check_and_store(self, tag: bytes, expiry: int, now: int | None = None) -> bool:
        t = int(time.time()) if now is None else now
        digest = hashlib.sha256(tag).digest()
        with self._lock:
            try:
                return self._check_and_store(digest, expiry, t)
            except OSError as exc:
                self._close()  # the next check starts from the path again
                raise ReplayCacheError(
                    f"replay cache {self.path}: {exc.strerror or exc}"
                ) from None

    def _check_and_store(self, digest: bytes, expiry: int, now: int) -> bool:
        while True:
            fd = self._fd()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if not self._still_current():
                    self._close()  # removed, or converted under us: open what is there now
                    continue
                st = os.fstat(fd)
                _check_private(self.path, st)  # also between checks: nobody else may write
                size = st.st_size
                head = os.pread(fd, HEADER, 0)
                if head.startswith(MAGIC_V1):
                    self._replace(image(slots(_read_all(fd)), now, os.urandom(SEED_LEN)))
                    self._close()
                    continue
                if size < HEADER and MAGIC.startswith(head[: len(MAGIC)]):
                    head = MAGIC + os.urandom(SEED_LEN)  # new, or cut short while being made
                    os.pwrite(fd, head, 0)
                    os.ftruncate(fd, HEADER)
                    size = HEADER
                elif not head.startswith(MAGIC) or len(head) < HEADER:
                    raise ReplayCacheError(f"{self.path} is not a gssmech replay cache")
                seed = head[len(MAGIC) :]
                replayed, free = probe(functools.partial(os.pread, fd), size, seed, digest, now)
                if replayed:
                    return False
                if free is None:
                    k = tables_in(size)
                    if k >= MAX_TABLES:
                        raise ReplayCacheError(f"replay cache {self.path} is full")
                    os.ftruncate(fd, table_offset(k + 1))  # the new table reads as zeros
                    free = bucket_offset(seed, digest, k)
                os.pwrite(fd, SLOT.pack(digest, expiry), free)
                return True
            finally:
                if self._open_file is not None and self._open_file[0] == fd:
                    fcntl.flock(fd, fcntl.LOCK_UN)  # explicit: a forked child may share it

    def _fd(self) -> int:
        """The open cache file of this process, opened (and checked) if need be."""
        held = self._open_file
        if held is not None and held[1] == os.getpid():
            return held[0]
        if held is not None:
            # Inherited over a fork no hook saw: its lock would be our parent's lock.  It is
            # forgotten, not closed: the host may have closed that number since and reused it.
            self._open_file = None
        # Not O_APPEND: on Linux that would send every pwrite() to the end of the file.
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o600)
        try:
            st = os.fstat(fd)
            _check_private(self.path, st)
        except BaseException:
            os.close(fd)
            raise
        self._open_file = (fd, os.getpid(), st.st_dev, st.st_ino)
        return fd

    def _close(self) -> None:
        held, self._open_file = self._open_file, None
        if held is not None and held[1] == os.getpid():
            os.close(held[0])  # also releases our flock

    def __del__(self, _close: Callable[[int], None] = os.close,
                _getpid: Callable[[], int] = os.getpid) -> None:
        # A cache nobody holds any more (default_replay_cache forgets old ones) gives its
        # descriptor back.  Bound defaults: at interpreter exit the os global may be gone.
        held = getattr(self, "_open_file", None)
        if held is not None and held[1] == _getpid():
            try:
                _close(held[0])
            except OSError:
                pass

    def _still_current(self) -> bool:
        assert self._open_file is not None
        try:
            on_disk = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return (on_disk.st_dev, on_disk.st_ino) == self._open_file[2:]

    def _replace(self, data: bytes) -> None:
        """Atomic replacement while holding the old file's lock (temp file + rename)."""
        temp = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, self.path)

    def entries(self) -> list[tuple[bytes, int]]:
        """Every occupied slot, live or expired (diagnostics and tests)."""
        try:
            with open(self.path, "rb") as f:
                return slots(f.read())
        except FileNotFoundError:
            return []


#: Every FileReplayCache, for the fork hook below.
_INSTANCES: weakref.WeakSet[FileReplayCache] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """Run by os.fork and by the plugin's fork handlers in a C host (PyOS_AfterFork_Child),
    before anything else runs in the child.  A thread of the parent may have been inside a
    check (waiting for the flock, without the GIL): its lock would stay taken for ever.  And
    the inherited descriptor shares the parent's flock: closed now, while it is surely ours."""
    for cache in list(_INSTANCES):
        cache._lock = threading.Lock()
        held, cache._open_file = cache._open_file, None
        if held is not None:
            try:
                os.close(held[0])
            except OSError:
                pass


os.register_at_fork(after_in_child=_after_fork_in_child)


def _check_private(path: str, st: os.stat_result) -> None:
    if (
        not stat.S_ISREG(st.st_mode)
        or st.st_uid != os.geteuid()
        or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        raise ReplayCacheError(f"{path}: not a private file owned by this user")


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def default_replay_cache(env: Mapping[str, str] | None = None) -> ReplayCache:
    """MIT's selection: ``KRB5RCACHETYPE=none`` or ``KRB5RCACHENAME=none:...`` disables it;
    otherwise the per-user file in ``$KRB5RCACHEDIR`` or /var/tmp.  Asked on every accept, so
    the answer is kept per (those variables, euid): the objects hold only a path."""
    env = ENVIRON if env is None else env
    key = (
        env.get("KRB5RCACHETYPE", ""),
        env.get("KRB5RCACHENAME", ""),
        env.get("KRB5RCACHEDIR", ""),
        os.geteuid(),
    )
    found = _selected.get(key)
    if found is None:
        if key[0].lower() == "none" or key[1].lower().startswith("none:"):
            found = NullReplayCache()
        else:
            found = FileReplayCache.default(env)
        if len(_selected) >= 16:
            _selected.clear()
        _selected[key] = found
    return found


_selected: dict[tuple[str, str, str, int], ReplayCache] = {}
