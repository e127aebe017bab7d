"""The throw-away MIT realm the context benchmarks share (they run as scripts, so bench/ is on
sys.path): the user's TGT from MIT ``kinit`` and the service ticket for host/localhost cached
by MIT ``kvno``, so that both implementations read the same ccache and host keytab."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.interop.mitrealm import MITRealm, missing_programs


def skip_reason(*, need_gssapi: bool = True) -> str | None:
    """Why the benchmark cannot run here, or None.  python-gssapi is looked up, not imported:
    it reads KRB5_* when loaded, and the benchmark sets them first."""
    missing = missing_programs()
    if missing:
        return f"MIT programs missing: {missing}"
    if need_gssapi and importlib.util.find_spec("gssapi") is None:
        return "python-gssapi is not installed"
    return None


@contextmanager
def cached_ticket_realm() -> Iterator[MITRealm]:
    """A started realm with the service ticket cached; its KDC is stopped and its directory
    removed on exit (stop() may also be called earlier: nothing else needs the KDC)."""
    with tempfile.TemporaryDirectory() as tmp:
        realm = MITRealm(Path(tmp)).create().start()
        try:
            realm.kinit(realm.user)
            realm.run(["kvno", realm.host_principal])
            yield realm
        finally:
            realm.stop()
