"""Reading profiles from disk: the thin I/O layer around :mod:`._parse`.

Follows MIT krb5 1.20 ``profile_init_flags``/``profile_open_file``
(``src/util/profile/prof_init.c``, ``prof_file.c``) and ``os_get_default_config_files``
(``src/lib/krb5/os/init_os_ctx.c``):

- ``KRB5_CONFIG`` is split on every ``:`` (empty entries stay, and are simply missing files);
  unset, the default is ``/etc/krb5.conf``.
- a leading ``~/`` is replaced by ``$HOME`` (or the password-database home directory);
- a file that does not exist or may not be read (ENOENT, EACCES, EPERM) is skipped; any
  other failure, and any syntax error, is an error;
- a directory named in the list is read like ``includedir``;
- the KDC reads ``KRB5_KDC_PROFILE`` (default ``/etc/krb5kdc/kdc.conf``) before the
  krb5.conf list.
"""

from __future__ import annotations

import errno
import os
import pwd
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from gssmech.environ import ENVIRON

from ...errors import ConfigError
from ._parse import IncludeSource, parse_dir_tree, parse_tree
from ._tree import FileTree, Profile

DEFAULT_PROFILE_PATH = "/etc/krb5.conf"
DEFAULT_KDC_PROFILE = "/etc/krb5kdc/kdc.conf"
_SKIPPED = (errno.ENOENT, errno.EACCES, errno.EPERM)


class FileSystemIncludes:
    """The real file system as an :class:`IncludeSource` (paths relative to the cwd, as MIT)."""

    def read_file(self, path: bytes) -> bytes:
        try:
            with open(path, "rb") as f:
                return f.read()
        except IsADirectoryError:
            # NB(mit): fopen() of a directory succeeds on Linux and fgets() then reads
            # nothing, so an included directory contributes nothing and is no error.
            return b""

    def list_dir(self, path: bytes) -> list[bytes]:
        return os.listdir(path)


def _expand_home(path: str, env: Mapping[str, str]) -> str:
    if not path.startswith("~/"):
        return path
    home = env.get("HOME")
    if home is None:
        try:
            home = pwd.getpwuid(os.getuid()).pw_dir or None
        except KeyError:
            home = None
    return path if home is None else home + path[1:]


#: What one read saw: ("file", path, bytes), ("dir", path, names) or ("top", path, bytes|None)
#: where a top-level None means "a directory" and a missing/unreadable file is skipped bytes.
_Read = tuple[str, bytes, object]


class _RecordingIncludes:
    """Wraps the file system and remembers every read, so a parse can be shown still current."""

    def __init__(self, inner: IncludeSource) -> None:
        self.inner = inner
        self.reads: list[_Read] = []

    def read_file(self, path: bytes) -> bytes:
        data = self.inner.read_file(path)
        self.reads.append(("file", path, data))
        return data

    def list_dir(self, path: bytes) -> list[bytes]:
        names = self.inner.list_dir(path)
        self.reads.append(("dir", path, tuple(names)))
        return names


def _read_top(b_path: bytes) -> bytes | OSError | None:
    """A top-level profile path: its bytes, None for a directory, or the OSError."""
    try:
        st = os.stat(b_path)
        if stat.S_ISDIR(st.st_mode):
            return None
        with open(b_path, "rb") as f:
            return f.read()
    except OSError as exc:
        return exc


def _load_one(
    path: str, includes: IncludeSource, *, first: bool, reads: list[_Read] | None = None
) -> tuple[FileTree | None, str | None]:
    b_path = os.fsencode(path)
    got = _read_top(b_path)
    if isinstance(got, OSError):
        if got.errno in _SKIPPED:
            if reads is not None:
                reads.append(("top", b_path, got.errno))
            return None, None
        raise ConfigError(f"cannot read profile file ({got.strerror})", source=path) from None
    if reads is not None:
        reads.append(("top", b_path, got))
    if got is None:
        return parse_dir_tree(b_path, path, includes), None
    return parse_tree(got, path, includes, allow_module=first)


def _still_current(reads: Sequence[_Read], fs: IncludeSource) -> bool:
    """Every file and listing the cached parse read is byte-for-byte what is there now."""
    for kind, path, seen in reads:
        try:
            if kind == "top":
                now = _read_top(path)
                if isinstance(now, OSError):
                    now = now.errno
            elif kind == "file":
                now = fs.read_file(path)
            else:
                now = tuple(fs.list_dir(path))
        except OSError:
            return False
        if now != seen:
            return False
    return True


class _ProfileMemo:
    """Parsed profiles by path list, reused while every byte they were parsed from is unchanged
    (keyed on content, not mtime: same-size rewrites within one tick are seen).  Parsing
    krb5.conf costs 150-230 us and GSS import_name/acquire_cred ask for it on every call.

    NB(mit): MIT's profile library looks at a file at most once per wall-clock second
    (prof_file.c ``profile_update_file_data_locked``: ``now == data->last_stat`` returns the
    tree it has), so an edit reaches a running process within a second.  We keep that cadence:
    a parse verified during the current second of ``clock`` is returned without reading the
    files again; the first request in a new second re-reads and compares them.  Errors are
    never remembered.
    """

    def __init__(self, limit: int = 16, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.clock = clock
        self._lock = threading.Lock()
        #: key -> (what the parse read, the profile, the second it was last verified)
        self._entries: dict[tuple[str, ...], tuple[tuple[_Read, ...], Profile, int]] = {}

    def get(self, key: tuple[str, ...]) -> Profile | None:
        now = int(self.clock())
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        reads, profile, verified = entry
        if verified == now:
            return profile
        if not _still_current(reads, FileSystemIncludes()):
            return None
        with self._lock:
            if self._entries.get(key) is entry:
                self._entries[key] = (reads, profile, now)
        return profile

    def put(self, key: tuple[str, ...], reads: Sequence[_Read], profile: Profile) -> None:
        now = int(self.clock())
        with self._lock:
            if len(self._entries) >= self.limit and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (tuple(reads), profile, now)


_MEMO = _ProfileMemo()


def load_files(
    paths: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    includes: IncludeSource | None = None,
) -> Profile:
    """Parse ``paths`` in precedence order, skipping missing files, following includes.

    If none of the files exists the profile is empty (MIT's krb5_init_context does the same).
    """
    env = ENVIRON if env is None else env
    expanded = tuple(_expand_home(path, env) for path in paths)
    recorder: _RecordingIncludes | None = None
    if includes is None:  # the real file system: parses can be reused while files are unchanged
        cached = _MEMO.get(expanded)
        if cached is not None:
            return cached
        recorder = _RecordingIncludes(FileSystemIncludes())
        includes = recorder
    trees: list[FileTree] = []
    module: str | None = None
    for i, path in enumerate(expanded):
        tree, spec = _load_one(
            path, includes, first=i == 0, reads=recorder.reads if recorder else None
        )
        if tree is not None:
            trees.append(tree)
        module = module or spec
    profile = Profile(trees, module=module)
    if recorder is not None:
        _MEMO.put(expanded, recorder.reads, profile)
    return profile


def default_config_files(env: Mapping[str, str] | None = None) -> list[str]:
    """``KRB5_CONFIG`` split on ``:``, or ``/etc/krb5.conf``."""
    env = ENVIRON if env is None else env
    value = env.get("KRB5_CONFIG")
    return (DEFAULT_PROFILE_PATH if value is None else value).split(":")


def load_default(env: Mapping[str, str] | None = None) -> Profile:
    """The profile a krb5 library context reads (KRB5_CONFIG or /etc/krb5.conf)."""
    return load_files(default_config_files(env), env=env)


def load_kdc_profile(
    env: Mapping[str, str] | None = None, *, with_krb5_conf: bool = False
) -> Profile:
    """kdc.conf (``KRB5_KDC_PROFILE`` or /etc/krb5kdc/kdc.conf; one path, not a list).

    With ``with_krb5_conf`` the krb5.conf list follows it, which is the view MIT's KDC has
    (``add_kdc_config_file`` puts the KDC profile first).
    """
    env = ENVIRON if env is None else env
    paths = [env.get("KRB5_KDC_PROFILE", DEFAULT_KDC_PROFILE)]
    if with_krb5_conf:
        paths += default_config_files(env)
    return load_files(paths, env=env)
