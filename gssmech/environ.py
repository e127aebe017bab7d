"""The process environment as gssmech reads it: :data:`ENVIRON`.

Normally that is ``os.environ``.  In a process that runs with privileges its caller does not
have (setuid, setgid or file capabilities: the kernel's AT_SECURE), the environment belongs to
the less privileged caller, and a ``KRB5_CONFIG``, ``KRB5CCNAME``, ``KRB5_KTNAME`` or
``GSSMECH_*`` from it could point the mechanism at the caller's files.  MIT reads its variables
with ``secure_getenv``, which returns nothing there; the plugin does the same by switching
:data:`ENVIRON` to an empty mapping of its own (:func:`enter_secure_mode`) before anything reads
it.  The process's own environment is never modified: the host may still need it.

Every module reads the environment through :data:`ENVIRON` (``env`` parameters default to it),
never through ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping


class _Environ(MutableMapping[str, str]):
    """``os.environ``, or after :func:`enter_secure_mode` a private dict that starts empty
    (what gssmech itself sets, such as ``GSSMECH_OID``, lands there)."""

    __slots__ = ("_private",)

    def __init__(self) -> None:
        self._private: dict[str, str] | None = None

    def _data(self) -> MutableMapping[str, str]:
        return os.environ if self._private is None else self._private

    @property
    def secure(self) -> bool:
        return self._private is not None

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self._data().get(key, default)

    def __getitem__(self, key: str) -> str:
        return self._data()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._data()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data()))

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return "ENVIRON(secure)" if self.secure else "ENVIRON(os.environ)"


ENVIRON = _Environ()


def enter_secure_mode() -> None:
    """From now on gssmech sees an empty environment (one-way: privileges do not come back
    into trust)."""
    if ENVIRON._private is None:
        ENVIRON._private = {}
