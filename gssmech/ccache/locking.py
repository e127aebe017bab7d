"""Whole-file locks the way MIT's ``lock_file.c`` takes them.

MIT locks with open-file-description locks (``F_OFD_SETLKW``), falls back to classic POSIX
``fcntl`` locks and then to ``flock`` when the kernel answers EINVAL.  OFD and POSIX locks on
the same file conflict with each other, so our readers and writers serialise against MIT's
``kinit``/``kvno`` and against other threads of this process (OFD locks belong to the open
file, not to the process, which POSIX locks would not give us).
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager

# struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
# (native alignment, padded to 32 bytes on LP64).  l_pid must be 0 for OFD locks.
_FLOCK_FMT = "@hhqqi"
_FLOCK_SIZE = 32 if struct.calcsize(_FLOCK_FMT) <= 32 else struct.calcsize(_FLOCK_FMT)
_F_OFD_SETLKW: int | None = getattr(fcntl, "F_OFD_SETLKW", None)
_F_OFD_SETLK: int | None = getattr(fcntl, "F_OFD_SETLK", None)


def _flock_struct(lock_type: int) -> bytes:
    packed = struct.pack(_FLOCK_FMT, lock_type, os.SEEK_SET, 0, 0, 0)
    return packed.ljust(_FLOCK_SIZE, b"\0")


def lock(fd: int, *, exclusive: bool) -> str:
    """Block until a whole-file shared or exclusive lock on ``fd`` is held; return the kind
    taken ("ofd", "posix" or "flock") for :func:`unlock`."""
    kind = fcntl.F_WRLCK if exclusive else fcntl.F_RDLCK
    if _F_OFD_SETLKW is not None:
        try:
            fcntl.fcntl(fd, _F_OFD_SETLKW, _flock_struct(kind))
            return "ofd"
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        return "posix"
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    return "flock"


def unlock(fd: int, how: str) -> None:
    """Release the lock :func:`lock` took (closing the fd would too, except for POSIX locks
    held through another fd of this process)."""
    try:
        if how == "ofd" and _F_OFD_SETLK is not None:
            fcntl.fcntl(fd, _F_OFD_SETLK, _flock_struct(fcntl.F_UNLCK))
        elif how == "posix":
            fcntl.lockf(fd, fcntl.LOCK_UN)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass  # the fd is about to be closed, which releases the lock anyway


@contextmanager
def locked(fd: int, *, exclusive: bool) -> Iterator[int]:
    how = lock(fd, exclusive=exclusive)
    try:
        yield fd
    finally:
        unlock(fd, how)
