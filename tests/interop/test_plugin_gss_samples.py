"""MIT's gss-client / gss-server samples (krb5-gss-samples) with our mechanism via the plugin.

What each sample can do with a plugin mechanism (krb5 1.20 ``src/appl/gss-sample``):

- ``gss-client -mech OID`` passes the OID to ``gss_init_sec_context`` with
  GSS_C_NO_CREDENTIAL and flags MUTUAL|REPLAY (``-seq`` adds SEQUENCE); it has no option for
  GSS_C_ANON_FLAG, so anonymity comes from the default ticket cache holding the anonymous
  TGT (``kinit -n``).  Its dotted ``-mech 2.999.6112.1`` form is broken in 1.20: parse_oid
  builds ``"{ 2 999 6112 1  "`` without the closing brace, ``gss_str_to_oid`` rejects it and
  the client silently falls back to the default mech (krb5) -- so the tests pass the braced
  form.  Without ``-q`` it also prints the context (gss_inquire_context, gss_display_name)
  and calls ``gss_inquire_names_for_mech``.
- ``gss-server`` acquires its credential with GSS_C_NO_OID_SET (only ``-iakerb`` selects a
  mech).  Our NOT_DFLT_MECH attribute keeps our mech out of that default credential, so
  gss-server cannot accept our tokens: the mechglue answers GSS_S_NO_CRED
  (notes/mechglue-plugin.md §5).  The acceptor side is therefore
  :mod:`tests.interop.gss_sample_acceptor`: python-gssapi through the same plugin, with the
  explicit ``Credentials(usage="accept", mechs=[OID])``, speaking the sample protocol.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gssmech.gss.oids import DEFAULT_NATIVE_MECH
from tests.interop.mitrealm import MITRealm, find_program, free_port
from tests.interop.plugin_peers import ANONYMOUS_PRINCIPAL, missing, plugin_env

pytest.importorskip("gssapi")
pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
#: RFC 2744 §3.9 / gssapi.h flag values as gss-client prints them (hex).
GSS_C_MUTUAL_FLAG, GSS_C_REPLAY_FLAG, GSS_C_SEQUENCE_FLAG = 0x2, 0x4, 0x8
GSS_C_ANON_FLAG = 0x40
#: GSS_C_NT_ANONYMOUS as gss_oid_to_str prints it (RFC 2743 §4.5: 1.3.6.1.5.6.3).
NT_ANONYMOUS_TEXT = "{ 1 3 6 1 5 6 3 }"
MESSAGE = "hello from MIT gss-client"


def _mech_arg() -> str:
    """The OID in the brace form gss-client hands to gss_str_to_oid unchanged."""
    return "{ " + " ".join(str(a) for a in DEFAULT_NATIVE_MECH.arcs) + " }"


@pytest.fixture(scope="module")
def sample_env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    absent = missing("gss-client", "gss-server")
    if absent:
        pytest.skip(f"MIT gss samples missing: {absent} (run `make apt`)")
    return plugin_env(mit_realm, tmp_path_factory.mktemp("plugin-gss-samples"))


@contextmanager
def python_acceptor(env: dict[str, str]) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """Start tests.interop.gss_sample_acceptor; yield (port, process); always stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.interop.gss_sample_acceptor", DEFAULT_NATIVE_MECH.der.hex()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=60):
                raise AssertionError("acceptor did not start")
        first = proc.stdout.readline().split()
        assert first[:1] == ["port"], (first, proc.stderr.read() if proc.stderr else "")
        yield int(first[1]), proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _acceptor_result(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=60)
    lines = out.strip().splitlines()
    assert lines, err
    result: dict[str, object] = json.loads(lines[-1])
    assert "error" not in result, (result, err)
    return result


def _gss_client(env: dict[str, str], port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            find_program("gss-client") or "gss-client",
            "-port",
            str(port),
            "-mech",
            _mech_arg(),
            *extra,
            "localhost",
            "host@localhost",
            MESSAGE,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_gss_client_to_plugin_acceptor(sample_env: dict[str, str]) -> None:
    """gss-client (C, our mech via the plugin) to python-gssapi (our mech via the plugin):
    context, then two messages wrapped with confidentiality, each answered by a MIC of the
    message that gss-client verifies (exit status 0 only if every gss_verify_mic succeeded)."""
    with python_acceptor(sample_env) as (port, proc):
        client = _gss_client(sample_env, port, "-q", "-seq", "-mcount", "2")
        assert client.returncode == 0, client.stdout + client.stderr
        result = _acceptor_result(proc)
    # What the acceptor learns about the C client.
    assert result["initiator"] == ANONYMOUS_PRINCIPAL
    assert result["initiator_type_anon"] is True
    assert result["anon_flag"] is True and result["mutual_flag"] is True
    assert result["mech_ok"] is True
    assert result["messages"] == [{"text": MESSAGE, "encrypted": True}] * 2


def test_gss_client_prints_anonymous_context(sample_env: dict[str, str]) -> None:
    """Verbose gss-client: inquire_context + display_name through the plugin on the C side."""
    with python_acceptor(sample_env) as (port, proc):
        client = _gss_client(sample_env, port)
        out = client.stdout + client.stderr
        line = next((ln for ln in client.stdout.splitlines() if ' to "' in ln), None)
        assert line is not None, out
        head, _, tail = line.partition(", flags ")
        assert head.startswith(f'"{ANONYMOUS_PRINCIPAL}" to "host/localhost@'), line
        flags = int(tail.split(",")[0], 16)
        wanted = GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_ANON_FLAG
        assert flags & wanted == wanted, line
        assert tail.endswith("locally initiated, open"), line
        assert f"Name type of source name is {NT_ANONYMOUS_TEXT}." in client.stdout, out
        # gss-client -v lists the mech's name types (gss_inquire_names_for_mech, pure C).
        assert "inquiring mech names" not in out, out
        assert "supports 8 names" in out, out
        assert client.returncode == 0, out
        assert "Signature verified." in client.stdout, out
        result = _acceptor_result(proc)
        assert result["initiator"] == ANONYMOUS_PRINCIPAL


def test_gss_server_cannot_accept_our_mech(sample_env: dict[str, str]) -> None:
    """NOT_DFLT_MECH keeps our mech out of gss-server's default acceptor credential."""
    port = free_port()
    server = subprocess.Popen(
        [find_program("gss-server") or "gss-server", "-port", str(port), "-once", "host"],
        env=sample_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        with selectors.DefaultSelector() as sel:
            sel.register(server.stderr, selectors.EVENT_READ)
            assert sel.select(timeout=30), "gss-server did not start"
        assert server.stderr.readline().strip() == "starting..."
        client = _gss_client(sample_env, port, "-q")
        out, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert client.returncode != 0
    assert "Accepted connection" not in out
    assert "GSS-API error accepting context: No credentials were supplied" in out, out
