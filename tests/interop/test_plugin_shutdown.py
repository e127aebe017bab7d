"""Handles released while the interpreter shuts down (issue 5): python-gssapi objects made through
our plugin that are still alive at exit, released from atexit, or freed as garbage during
finalization must neither crash nor hang; the process exits 0."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gssmech.gss.oids import DEFAULT_NATIVE_MECH
from tests.interop.mitrealm import MITRealm
from tests.interop.plugin_peers import GSSAPI_SCRIPT_HEAD, plugin_env

pytestmark = pytest.mark.interop
pytest.importorskip("gssapi")

SCRIPT = GSSAPI_SCRIPT_HEAD + """
import atexit
mode = sys.argv[3]

def pair():
    target = gssapi.Name(sys.argv[2], gssapi.NameType.hostbased_service)
    ini = gssapi.SecurityContext(name=target, mech=OID, usage="initiate",
                                 flags=[F.anonymity, F.mutual_authentication])
    acc = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept", mechs=[OID]),
                                 usage="accept")
    tok = ini.step()
    while not (ini.complete and acc.complete):
        tok = acc.step(tok)
        if tok and not ini.complete:
            tok = ini.step(tok)
    return [ini, acc, target.canonicalize(OID), acc.initiator_name]

KEEP = pair()
if mode == "atexit":
    atexit.register(KEEP.clear)
elif mode == "cycle":
    class Holder:
        pass
    h = Holder(); h.self = h; h.objs = pair()
    del h
print("ready", flush=True)
"""


@pytest.fixture(scope="module")
def env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return plugin_env(mit_realm, tmp_path_factory.mktemp("shutdown"))


@pytest.mark.parametrize("mode", ["alive-at-exit", "atexit", "cycle"])
def test_release_during_interpreter_shutdown(
    env: dict[str, str], mit_realm: MITRealm, mode: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), DEFAULT_NATIVE_MECH.der.hex(),
         mit_realm.host_service.replace("/", "@"), mode],
        env=env, capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout.strip() == "ready", proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Fatal Python error" not in proc.stderr and "Traceback" not in proc.stderr
