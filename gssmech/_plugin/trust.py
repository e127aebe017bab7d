"""Who besides the administrator could change what the plugin runs (``gssmech mech install``).

A mech.d registration makes every program that uses GSS-API load our library: root daemons
and setuid programs included.  The library runs an interpreter, our package and its
dependencies, so a user who can write any of those files, or any directory on the way to
them, can run code with the privileges of every such program.  ``mech install`` checks the
places the plugin loads from (:func:`code_locations`) with :func:`untrusted`, the way sshd's
StrictModes checks a user's files, and refuses a registration that would hand that power out.

Rules, per file and directory (symlinks are followed to what they name):

- the owner must be trusted (root, or the user installing into a file of their own);
- nothing may be writable by group or others, except an ancestor directory with the sticky
  bit (``/tmp``: others cannot rename or remove what they do not own).
"""

from __future__ import annotations

import os
import stat
import sysconfig
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Reported at most; the count of the rest follows.
MAX_REPORTED = 10


@dataclass(frozen=True)
class Shallow:
    """A directory whose own entries matter but not what lies below them."""

    path: Path


Place = Path | Shallow


def code_locations() -> list[Place]:
    """Everything a C host's plugin loads code from: both libraries, our package, the site
    directories baked into the Python half (build.py), the stdlib and libpython.  The
    package's parent goes first on a C host's sys.path (build.py INIT_CODE), where any entry
    could shadow a module by name, so its entries count too."""
    from gssmech._plugin import backend_path, build, library_path

    package = Path(__file__).resolve().parents[1]
    places: list[Place] = [library_path(), backend_path(), package, Shallow(package.parent)]
    places += [Path(d) for d in build._site_dirs()]
    places.append(Path(sysconfig.get_paths()["stdlib"]))
    soname = sysconfig.get_config_var("INSTSONAME")
    libdir = sysconfig.get_config_var("LIBDIR")
    if soname and libdir and (Path(libdir) / soname).exists():
        places.append(Path(libdir) / soname)
    return places


def _problem(path: str, st: os.stat_result, trusted: frozenset[int], ancestor: bool) -> str | None:
    if st.st_uid not in trusted:
        return f"{path}: owned by uid {st.st_uid}"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        if ancestor and stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX:
            return None
        return f"{path}: writable by {'others' if st.st_mode & stat.S_IWOTH else 'its group'}"
    return None


def _walk(root: Path, shallow: bool) -> Iterator[str]:
    yield str(root)
    if not root.is_dir():
        return
    if shallow:
        yield from (str(entry) for entry in root.iterdir())
        return
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            yield os.path.join(directory, name)


def untrusted(places: Iterable[Place], trusted_uids: Iterable[int]) -> list[str]:
    """Every path under or above ``places`` that someone outside ``trusted_uids`` could
    change (see the module docstring); empty when the registration is safe."""
    trusted = frozenset(trusted_uids)
    problems: list[str] = []
    seen: set[str] = set()
    for place in places:
        shallow = isinstance(place, Shallow)
        real = Path(os.path.realpath(place.path if isinstance(place, Shallow) else place))
        for ancestor in reversed(real.parents):
            key = str(ancestor)
            if key not in seen:
                seen.add(key)
                found = _problem(key, os.stat(ancestor), trusted, ancestor=True)
                if found:
                    problems.append(found)
        for path in _walk(real, shallow):
            if path in seen:
                continue
            seen.add(path)
            try:
                st = os.stat(path)  # a symlink: what it names is what gets loaded
            except OSError:
                continue  # a dangling link loads nothing
            found = _problem(path, st, trusted, ancestor=False)
            if found:
                problems.append(found)
    return problems


def report(problems: list[str]) -> str:
    shown = problems[:MAX_REPORTED]
    more = len(problems) - len(shown)
    lines = [f"  {p}" for p in shown] + ([f"  ... and {more} more"] if more > 0 else [])
    return "\n".join(lines)


def installing_uids() -> frozenset[int]:
    """Root always; the installing user too (their own processes run their files anyway)."""
    return frozenset({0, os.geteuid()})
