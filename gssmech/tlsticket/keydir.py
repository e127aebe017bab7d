"""A key directory a fleet shares (DESIGN.md T6; seed §5.5 "Ticket Protection Key Management").

Layout: ``DIR/`` (mode 0700) holds ONE file, ``ticket-keys`` (mode 0600), with every key, and a
``.lock`` file that serialises writers.  Writers build the whole new file, write it to a temporary
file in DIR, fsync it, ``os.replace`` it over ``ticket-keys`` and fsync DIR; readers just open
and read.  rename(2) is atomic, so a reader sees the old ring or the new ring, never a mix and
never a half-written key; a SHA-256 trailer catches truncation or bit rot on top of that.  One
file (rather than a file per key plus an index) makes "which keys belong together" a single
atomic fact.

File format (all integers big-endian; TLS presentation language)::

    opaque magic[8] = "GSMTKEY1";
    uint32 period;                 /* rotation period P, seconds */
    uint32 lifetime;               /* maximum ticket lifetime L, seconds (<= 7 days) */
    uint8  count;                  /* 2..255 */
    struct {
        opaque key_name[16];
        uint8  profile_id;         /* profiles.py: 1 draft-07, 2 rfc5077, 3 nginx-48 */
        uint64 not_before; uint64 encrypt_until; uint64 decrypt_until;
        opaque aes_key<1..2^8-1>;
        opaque hmac_key<1..2^8-1>;
    } keys[count];                 /* roles by position: next, current, previous, retired... */
    opaque sha256[32];             /* over everything before it */

Windows (pure functions below, time injectable): a new ``next`` key made at t may seal from
t+P (so every node switches at the same moment even if ``rotate`` runs late) until t+3P;
``rotate`` at t makes next the ``current`` (seals until t+2P, opens until t+2P+L), stops the old
current sealing and lets it open until t+L (every ticket it sealed is then expired anyway), and
keeps older keys only while their decrypt window is open.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import hmac
import os
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gssmech.tlsticket._codec import Reader, vector
from gssmech.tlsticket.errors import TicketKeyError, TicketKeyFileError
from gssmech.tlsticket.keyring import MAX_LIFETIME, new_ticket_key
from gssmech.tlsticket.profiles import DEFAULT_PROFILE, PROFILES_BY_ID, TicketProfile
from gssmech.tlsticket.ticket import TicketKey

__all__ = [
    "DEFAULT_LIFETIME",
    "DEFAULT_PERIOD",
    "KEY_FILE_NAME",
    "KeyFile",
    "decode_key_file",
    "encode_key_file",
    "init_key_directory",
    "load_key_directory",
    "new_key_file_at_time",
    "rotate_key_directory",
    "rotate_key_file_at_time",
    "write_key_directory",
    "write_private_file",
]

KEY_FILE_NAME = "ticket-keys"
LOCK_FILE_NAME = ".lock"
MAGIC = b"GSMTKEY1"
DEFAULT_PERIOD = 86400  # Go's ticketKeyRotation (24 h)
DEFAULT_LIFETIME = 86400
MIN_PERIOD = 60
MAX_PERIOD = 366 * 86400
_ROLES = ("next", "current", "previous")
_WINDOWS = struct.Struct(">QQQ")


@dataclass(frozen=True, slots=True)
class KeyFile:
    """The contents of ``DIR/ticket-keys``: policy and keys, newest role first."""

    period: int
    lifetime: int
    keys: tuple[TicketKey, ...]

    def __post_init__(self) -> None:
        if not MIN_PERIOD <= self.period <= MAX_PERIOD:
            raise TicketKeyError(f"rotation period must be within {MIN_PERIOD}..{MAX_PERIOD} s")
        if not 1 <= self.lifetime <= MAX_LIFETIME:
            raise TicketKeyError(f"ticket lifetime must be within 1..{MAX_LIFETIME} s")
        if not 2 <= len(self.keys) <= 255:
            raise TicketKeyError("a key file holds a next and a current key (at most 255 keys)")
        if len({k.key_name for k in self.keys}) != len(self.keys):
            raise TicketKeyError("duplicate key_name in key file")

    @staticmethod
    def role(index: int) -> str:
        return _ROLES[index] if index < len(_ROLES) else "retired"

    def key_for_role(self, role: str) -> TicketKey:
        for i, key in enumerate(self.keys):
            if self.role(i) == role:
                return key
        raise TicketKeyError(f"the key file holds no {role} key")


# --- codec ----------------------------------------------------------------------------------


def encode_key_file(key_file: KeyFile) -> bytes:
    out = [MAGIC, struct.pack(">IIB", key_file.period, key_file.lifetime, len(key_file.keys))]
    for k in key_file.keys:
        out += [
            k.key_name,
            bytes((k.profile.profile_id,)),
            _WINDOWS.pack(k.not_before, k.encrypt_until, k.decrypt_until),
            vector(k.aes_key, 1, floor=1),
            vector(k.hmac_key, 1, floor=1),
        ]
    body = b"".join(out)
    return body + hashlib.sha256(body).digest()


def decode_key_file(data: bytes, source: str = KEY_FILE_NAME) -> KeyFile:
    """Parse a key file; anything malformed is TicketKeyFileError (never a partial ring)."""
    r = Reader(data, source, TicketKeyFileError)
    if r.take(len(MAGIC), "magic") != MAGIC:
        raise r.fail("not a gssmech ticket key file (bad magic)", 0)
    if len(r.data) < len(MAGIC) + 32 or not hmac.compare_digest(
        hashlib.sha256(r.data[:-32]).digest(), r.data[-32:]
    ):
        raise r.fail("checksum mismatch (truncated or corrupted file)", len(r.data) - 32)
    period, lifetime, count = r.uint(4, "period"), r.uint(4, "lifetime"), r.uint(1, "count")
    keys = []
    for i in range(count):
        start = r.pos
        key_name = r.take(16, f"key {i} key_name")
        profile_id = r.uint(1, f"key {i} profile")
        windows = _WINDOWS.unpack(r.take(_WINDOWS.size, f"key {i} windows"))
        aes_key, hmac_key = r.vector(1, f"key {i} aes_key", 1), r.vector(1, f"key {i} hmac_key", 1)
        profile = PROFILES_BY_ID.get(profile_id)
        if profile is None:
            raise r.fail(f"key {i}: unknown profile {profile_id}", start + 16)
        try:
            keys.append(TicketKey(key_name, profile, aes_key, hmac_key, *windows))
        except TicketKeyError as exc:
            raise r.fail(f"key {i}: {exc}", start) from None
    if r.remaining() != 32:
        raise r.fail(f"{r.remaining() - 32} unexpected bytes before the checksum")
    try:
        return KeyFile(period, lifetime, tuple(keys))
    except TicketKeyError as exc:
        raise r.fail(str(exc), 0) from None


# --- windows (pure) -------------------------------------------------------------------------


def _next_key(now: int, period: int, lifetime: int, profile: TicketProfile,
              randbytes: Callable[[int], bytes]) -> TicketKey:
    return new_ticket_key(profile, not_before=now + period, encrypt_until=now + 3 * period,
                          decrypt_until=now + 3 * period + lifetime, randbytes=randbytes)


def _as_current(key: TicketKey, now: int, period: int, lifetime: int) -> TicketKey:
    return dataclasses.replace(key, not_before=min(key.not_before, now),
                               encrypt_until=now + 2 * period,
                               decrypt_until=now + 2 * period + lifetime)


def _as_previous(key: TicketKey, now: int, lifetime: int) -> TicketKey:
    encrypt_until = max(key.not_before, min(key.encrypt_until, now))
    decrypt_until = max(encrypt_until, min(key.decrypt_until, now + lifetime))
    return dataclasses.replace(key, encrypt_until=encrypt_until, decrypt_until=decrypt_until)


def new_key_file_at_time(
    now: int,
    profile: TicketProfile = DEFAULT_PROFILE,
    *,
    period: int = DEFAULT_PERIOD,
    lifetime: int = DEFAULT_LIFETIME,
    current: TicketKey | None = None,
    randbytes: Callable[[int], bytes] = os.urandom,
) -> KeyFile:
    """A new ring: a ``current`` key sealing from ``now`` (fresh, or ``current`` as given, e.g.
    imported from nginx) and a fresh ``next`` key of the same profile."""
    if current is None:
        current = new_ticket_key(profile, not_before=now, encrypt_until=now, decrypt_until=now,
                                 randbytes=randbytes)
    # An imported key (nginx) carries no windows of its own: it starts sealing now.
    current = _as_current(dataclasses.replace(current, not_before=now), now, period, lifetime)
    return KeyFile(period, lifetime,
                   (_next_key(now, period, lifetime, current.profile, randbytes), current))


def rotate_key_file_at_time(
    key_file: KeyFile, now: int, *, randbytes: Callable[[int], bytes] = os.urandom
) -> KeyFile:
    """next → current, current → previous, older keys kept only while they can still open a
    live ticket, and a fresh next key (same profile as the current one)."""
    p, life = key_file.period, key_file.lifetime
    nxt, cur, *older = key_file.keys
    promoted = _as_current(nxt, now, p, life)
    kept = tuple(k for k in older if k.decrypt_until > now)
    keys = (_next_key(now, p, life, promoted.profile, randbytes), promoted,
            _as_previous(cur, now, life), *kept)
    return KeyFile(p, life, keys[:255])


# --- files (thin I/O) -----------------------------------------------------------------------


def write_private_file(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data`` at mode 0600: temp file, fsync, rename, fsync
    of the directory."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def read_private_file(path: Path, *, forbidden_mode: int = 0o077) -> bytes:
    """Read a secret file, refusing one that group or others can access (like ssh keys)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise TicketKeyError(f"cannot open {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        if os.fstat(fd).st_mode & forbidden_mode:
            raise TicketKeyError(f"{path} is accessible by other users (chmod 600)")
        return f.read()


def load_key_directory(path: Path) -> KeyFile:
    path = Path(path)
    return decode_key_file(read_private_file(path / KEY_FILE_NAME), str(path / KEY_FILE_NAME))


def write_key_directory(path: Path, key_file: KeyFile) -> None:
    target = Path(path) / KEY_FILE_NAME
    try:
        write_private_file(target, encode_key_file(key_file))
    except OSError as exc:
        raise TicketKeyError(f"cannot write {target}: {exc.strerror}") from None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise writers (two concurrent ``rotate`` runs must not lose a key)."""
    try:
        fd = os.open(path / LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise TicketKeyError(f"cannot lock key directory {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def init_key_directory(
    path: Path, *, profile: TicketProfile = DEFAULT_PROFILE, period: int = DEFAULT_PERIOD,
    lifetime: int = DEFAULT_LIFETIME, current: TicketKey | None = None, force: bool = False,
    now: int | None = None,
) -> KeyFile:
    """Create DIR (0700) with a current and a next key; refuses to overwrite without ``force``."""
    path = Path(path)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise TicketKeyError(f"cannot create key directory {path}: {exc.strerror}") from None
    with _locked(path):
        if (path / KEY_FILE_NAME).exists() and not force:
            raise TicketKeyError(f"{path / KEY_FILE_NAME} already exists (rotate it instead)")
        key_file = new_key_file_at_time(int(time.time()) if now is None else now, profile,
                                        period=period, lifetime=lifetime, current=current)
        write_key_directory(path, key_file)
    return key_file


def rotate_key_directory(path: Path, *, now: int | None = None) -> KeyFile:
    path = Path(path)
    with _locked(path):
        key_file = rotate_key_file_at_time(load_key_directory(path),
                                           int(time.time()) if now is None else now)
        write_key_directory(path, key_file)
    return key_file
