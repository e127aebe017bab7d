"""Byte storage for FILE caches and keytabs, with MIT's locking discipline (``cc_file.c``).

* readers open ``O_RDONLY`` and hold a shared lock while reading;
* an append opens ``O_RDWR|O_APPEND``, takes an exclusive lock and issues **one** ``write()``
  of the whole record, so a reader never sees half a credential (``fcc_store``);
* a whole-cache rewrite writes ``<name>.XXXXXX`` (mode 0600) in the same directory, fsyncs
  it and renames it over the target, atomically (``fcc_replace``, MIT ≥1.20, ticket 7707);
* in-place edits (removal tombstones) happen under an exclusive lock.

A writer that locked a file which was renamed over while it waited re-opens the new one, so an
append racing with a replace is never lost.  Everything here moves bytes; the codecs live in
:mod:`gssmech.ccache.fileformat` and :mod:`gssmech.ccache.keytab_format`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import string
from collections.abc import Callable, Iterator

from gssmech.ccache.locking import locked
from gssmech.errors import CCacheError, GSSMechError

_TEMP_ALPHABET = string.ascii_letters + string.digits


def _random_suffix(n: int = 6) -> str:
    raw = os.urandom(n)
    return "".join(_TEMP_ALPHABET[b % len(_TEMP_ALPHABET)] for b in raw)


def write_new_file(path: str, data: bytes, *, suffix: Callable[[], str] = _random_suffix) -> str:
    """Create ``<path>.XXXXXX`` exclusively at mode 0600, write ``data``, fsync; return its
    name.  MIT uses ``mkstemp`` on the same template."""
    while True:
        temp = f"{path}.{suffix()}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue
        break
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    os.close(fd)
    return temp


class LockedFile:
    """An exclusively locked, open file: the bytes seen under the lock plus in-place writes."""

    __slots__ = ("data", "fd")

    def __init__(self, fd: int, data: bytes) -> None:
        self.fd = fd
        self.data = data

    def pwrite(self, offset: int, raw: bytes) -> None:
        if os.pwrite(self.fd, raw, offset) != len(raw):
            raise CCacheError("short write while updating in place")
        self.data = self.data[:offset] + raw + self.data[offset + len(raw) :]

    def append(self, raw: bytes) -> None:
        """One ``write()`` at the end; we hold the exclusive lock, so the end cannot move."""
        os.lseek(self.fd, 0, os.SEEK_END)
        if os.write(self.fd, raw) != len(raw):
            raise CCacheError("short write while appending")
        self.data += raw


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


class FileStore:
    """The bytes of one file, read and written like MIT does.  ``missing`` is the error class
    raised when the file does not exist (CCacheError or KeytabError)."""

    def __init__(self, path: str, *, missing: type[GSSMechError] = CCacheError) -> None:
        self.path = path
        self._missing = missing

    def _open(self, flags: int, mode: int = 0o600) -> int:
        try:
            return os.open(self.path, flags | os.O_CLOEXEC, mode)
        except FileNotFoundError:
            raise self._missing(f"{self.path}: no such file") from None
        except OSError as exc:
            raise self._missing(f"{self.path}: {exc.strerror}") from None

    @contextlib.contextmanager
    def _os_errors(self, action: str) -> Iterator[None]:
        """Any OSError (EISDIR, ENOSPC, EACCES...) becomes our typed error."""
        try:
            yield
        except OSError as exc:
            raise self._missing(f"{self.path}: cannot {action}: {exc.strerror or exc}") from None

    def exists(self) -> bool:
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and st.st_size > 0

    def read_bytes(self) -> bytes:
        with self._os_errors("read"):
            fd = self._open(os.O_RDONLY)
            try:
                with locked(fd, exclusive=False):
                    return _read_all(fd)
            finally:
                os.close(fd)

    @contextlib.contextmanager
    def _locked_current(self, flags: int, *, create: bool = False) -> Iterator[int]:
        """Exclusively lock the file that is *currently* at ``path`` (retry if it was
        replaced while we waited for the lock)."""
        while True:
            fd = self._open(flags | (os.O_CREAT if create else 0))
            try:
                with locked(fd, exclusive=True):
                    try:
                        same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
                    except FileNotFoundError:
                        same = False
                    if same:
                        yield fd
                        return
            finally:
                os.close(fd)

    def append(self, make: Callable[[bytes], bytes]) -> None:
        """``fcc_store``: ``make(first two bytes)`` builds the record (the version decides its
        byte order), then one ``write()`` with ``O_APPEND`` under the exclusive lock."""
        with self._os_errors("append"):
            with self._locked_current(os.O_RDWR | os.O_APPEND) as fd:
                raw = make(os.pread(fd, 2, 0))
                if os.write(fd, raw) != len(raw):
                    raise CCacheError(f"{self.path}: short write while appending")

    @contextlib.contextmanager
    def update(self, *, initial: bytes | None = None) -> Iterator[LockedFile]:
        """Exclusive read-modify-write.  With ``initial``, a missing or empty file is created
        (0600) holding those bytes first (keytab ``add``)."""
        with self._os_errors("update"):
            with self._locked_current(os.O_RDWR, create=initial is not None) as fd:
                data = _read_all(fd)
                if not data and initial is not None:
                    os.pwrite(fd, initial, 0)
                    data = initial
                yield LockedFile(fd, data)

    def replace_bytes(self, data: bytes) -> None:
        """Atomic whole-file replacement (temp file + fsync + rename in the same directory).
        The old file stays exclusively locked until the rename, so a concurrent append either
        lands before we read it or is redirected to the new file."""
        try:
            old = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            old = -1
        except OSError as exc:
            raise self._missing(f"{self.path}: {exc.strerror}") from None
        try:
            with self._os_errors("lock"):
                if old >= 0:
                    with locked(old, exclusive=True):
                        self._rename_in(data)
                else:
                    self._rename_in(data)
        finally:
            if old >= 0:
                os.close(old)

    def _rename_in(self, data: bytes) -> None:
        try:
            temp = write_new_file(self.path, data)
        except OSError as exc:
            raise self._missing(f"{self.path}: cannot create: {exc.strerror}") from None
        try:
            os.replace(temp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise self._missing(f"{self.path}: cannot replace: {exc.strerror}") from None

    def destroy(self) -> None:
        """kdestroy: unlink, then overwrite the old contents with zeros before closing, so the
        keys do not linger on disk (``fcc_destroy``)."""
        with self._os_errors("destroy"):
            fd = self._open(os.O_RDWR)
            try:
                with locked(fd, exclusive=True):
                    os.unlink(self.path)
                    size = os.fstat(fd).st_size
                    zeros = bytes(min(size, 1 << 16))
                    pos = 0
                    while pos < size:
                        pos += os.pwrite(fd, zeros[: size - pos], pos)
                    os.fsync(fd)
            finally:
                os.close(fd)
