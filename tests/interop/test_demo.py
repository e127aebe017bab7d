"""`gssmech demo` (what `make demo` runs) works end to end and shows the anonymous client."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.interop


def test_demo_end_to_end():
    cp = subprocess.run(
        [sys.executable, "-m", "gssmech.cli", "demo"], capture_output=True, text=True, timeout=240
    )
    assert cp.returncode == 0, cp.stdout + cp.stderr
    out = cp.stdout
    assert "Default principal: WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS" in out
    assert "server: the client is WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS" in out
    assert "1.3.6.1.5.6.3 (GSS_C_NT_ANONYMOUS)" in out
    server_flags = next(line for line in out.splitlines() if line.startswith("server: flags"))
    client_flags = next(line for line in out.splitlines() if line.startswith("client: flags"))
    assert "anonymity" in server_flags and "anonymity" in client_flags
    assert "server: unwrapped   'a message from an anonymous client' (encrypted=True)" in out
    assert "client: unwrapped   'hello, whoever you are'" in out
    assert "== done: KDC stopped, realm removed" in out
