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
from collections.abc import Mapping, Sequence

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


def _load_one(
    path: str, includes: IncludeSource, *, first: bool
) -> tuple[FileTree | None, str | None]:
    b_path = os.fsencode(path)
    try:
        st = os.stat(b_path)
        if stat.S_ISDIR(st.st_mode):
            return parse_dir_tree(b_path, path, includes), None
        with open(b_path, "rb") as f:
            data = f.read()
    except OSError as exc:
        if exc.errno in _SKIPPED:
            return None, None
        raise ConfigError(f"cannot read profile file ({exc.strerror})", source=path) from None
    return parse_tree(data, path, includes, allow_module=first)


def load_files(
    paths: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    includes: IncludeSource | None = None,
) -> Profile:
    """Parse ``paths`` in precedence order, skipping missing files, following includes.

    If none of the files exists the profile is empty (MIT's krb5_init_context does the same).
    """
    env = os.environ if env is None else env
    includes = includes if includes is not None else FileSystemIncludes()
    trees: list[FileTree] = []
    module: str | None = None
    for i, path in enumerate(paths):
        tree, spec = _load_one(_expand_home(path, env), includes, first=i == 0)
        if tree is not None:
            trees.append(tree)
        module = module or spec
    return Profile(trees, module=module)


def default_config_files(env: Mapping[str, str] | None = None) -> list[str]:
    """``KRB5_CONFIG`` split on ``:``, or ``/etc/krb5.conf``."""
    env = os.environ if env is None else env
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
    env = os.environ if env is None else env
    paths = [env.get("KRB5_KDC_PROFILE", DEFAULT_KDC_PROFILE)]
    if with_krb5_conf:
        paths += default_config_files(env)
    return load_files(paths, env=env)
