"""Cyrus SASL's GS2 plugin (RFC 5801) using our mechanism through the plugin library.

Debian's ``libsasl2-modules-gssapi-mit`` builds ``libgs2.so`` (``saslpluginviewer`` lists
GS2-KRB5 and GS2-IAKERB without any configuration).  The GS2 plugin offers every mechanism that
``gss_indicate_mechs_by_attrs`` returns for AUTH_INIT+AUTH_TARG+CBINDINGS, named by
``gss_inquire_saslname_for_mech`` (notes/anonymity.md §4); with our mech.d line in
``GSS_MECH_CONFIG`` it also lists ``GS2-GSSMECH`` -- without NO_ANONYMOUS, because we claim
AUTH_INIT_ANON.

The samples (``sasl-sample-server`` / ``sasl-sample-client`` from sasl2-bin; Debian's names
lack the "2") talk over stdin/stdout, so the test relays their ``S:``/``C:`` lines.  What each
needs:

- server: ``-s host -d localhost`` (``-d`` is the server FQDN handed to ``sasl_server_new``;
  GS2 acquires an acceptor credential for ``host@localhost`` and our mech explicitly, so our
  NOT_DFLT_MECH attribute does not stand in the way), host keytab via ``KRB5_KTNAME``.
- client: ``-n localhost`` and ``-a <authid>``: Debian's sample client fails with a generic
  SASL error before any GSS call when no authentication id is given (it does so for GS2-KRB5
  too).  GS2 then imports the authid as GSS_C_NT_USER_NAME and acquires an initiator
  credential for that name and our mech; naming the anonymous principal selects the anonymous
  ticket cache (``kinit -n``) in ``KRB5CCNAME``.

GS2 asks MUTUAL|SEQUENCE (never ANON) and requires both in ret_flags; the server requires
SEQUENCE, displays the client name, compares it with a re-imported NT_USER_NAME, and passes
the GS2 header as channel-binding application data on both sides.
"""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import pytest

from gssmech._plugin import SASL_NAME
from gssmech.gss.oids import DEFAULT_NATIVE_MECH, read_der_length
from tests.interop.mitrealm import MITRealm, find_program
from tests.interop.plugin_peers import (
    ANONYMOUS_PRINCIPAL,
    SaslRun,
    missing,
    plugin_env,
    run_sasl_pair,
)

pytestmark = pytest.mark.interop

SASL_PROGRAMS = ("saslpluginviewer", "sasl-sample-server", "sasl-sample-client", "stdbuf")
#: RFC 2743 §3.1 token framing of our initial context tokens: 0x60, length, our OID.
TOKEN_TAG = 0x60
#: RFC 4121 §4.1 TOK_ID of an AP-REQ, which GS2 sends unframed (RFC 5801 §4).
KRB_AP_REQ_TOK_ID = b"\x01\x00"


@pytest.fixture(scope="module")
def sasl_env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    absent = missing(*SASL_PROGRAMS)
    if absent:
        pytest.skip(f"Cyrus SASL programs missing: {absent} (run `make apt`)")
    return plugin_env(mit_realm, tmp_path_factory.mktemp("plugin-sasl"))


def _viewer(env: dict[str, str], side: str) -> str:
    cp = subprocess.run(
        [find_program("saslpluginviewer") or "saslpluginviewer", side],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cp.returncode == 0, cp.stderr
    return cp.stdout


def _plugin_block(listing: str, mech: str) -> str:
    """The lines saslpluginviewer prints for one SASL mechanism (up to the next plugin)."""
    m = re.search(
        rf"SASL mechanism: {re.escape(mech)},.*?(?=\nPlugin |\Z)", listing, flags=re.DOTALL
    )
    assert m is not None, listing
    return m.group(0)


@pytest.mark.parametrize("side", ["-c", "-s"])
def test_gs2_lists_our_mechanism(sasl_env: dict[str, str], tmp_path: Path, side: str) -> None:
    listing = _viewer(sasl_env, side)
    block = _plugin_block(listing, SASL_NAME)
    flags = re.search(r"security flags: (\S+)", block)
    features = re.search(r"features: (\S+)", block)
    assert flags is not None and features is not None, block
    flag_set = set(flags.group(1).split("|"))
    # AUTH_INIT_ANON is advertised, so GS2 does not mark the mech NO_ANONYMOUS; AUTH_TARG
    # gives MUTUAL_AUTH (cyrus gs2.c gs2_get_mech_attrs).
    assert "NO_ANONYMOUS" not in flag_set and "MUTUAL_AUTH" in flag_set, block
    assert {"GSS_FRAMING", "CHANNEL_BINDING"} <= set(features.group(1).split("|")), block
    # The krb5 GS2 mechanism, from MIT's built-in krb5, keeps NO_ANONYMOUS.
    assert "NO_ANONYMOUS" in _plugin_block(listing, "GS2-KRB5")

    # Without our mech.d line the mechanism is gone: the listing above came from the plugin.
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    without = _viewer({**sasl_env, "GSS_MECH_CONFIG": str(empty)}, side)
    assert "GS2-KRB5" in without and SASL_NAME not in without


def test_gs2_listing_does_not_start_python(sasl_env: dict[str, str], tmp_path: Path) -> None:
    """Every SASL application enumerates GS2 mechanisms at startup: that must load our library
    but not Python (mech discovery is pure C, DESIGN.md "The plugin library")."""
    strace = find_program("strace")
    if strace is None:
        pytest.skip("strace missing")
    trace = tmp_path / "trace"
    cp = subprocess.run(
        [
            strace,
            "-f",
            "-e",
            "trace=openat,open",
            "-o",
            str(trace),
            find_program("saslpluginviewer") or "saslpluginviewer",
            "-c",
            "-s",
        ],
        env=sasl_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cp.returncode == 0, cp.stderr
    assert SASL_NAME in cp.stdout
    opened = re.findall(r'open(?:at)?\((?:AT_FDCWD, )?"([^"]+)"', trace.read_text())
    assert any(p.endswith("/libgssmech.so") for p in opened), opened
    python = [p for p in opened if "libpython" in p or p.endswith((".py", ".pyc"))]
    assert python == [], python


def _server_args() -> list[str]:
    return [
        find_program("sasl-sample-server") or "",
        "-s",
        "host",
        "-d",
        "localhost",
        "-m",
        SASL_NAME,
    ]


def _client_args(authid: str = ANONYMOUS_PRINCIPAL) -> list[str]:
    return [
        find_program("sasl-sample-client") or "",
        "-s",
        "host",
        "-n",
        "localhost",
        "-m",
        SASL_NAME,
        "-a",
        authid,
    ]


def _decoded(run: SaslRun, prefix: str) -> list[bytes]:
    return [base64.b64decode(line[3:]) for line in run.exchanged if line.startswith(prefix)]


def test_gs2_anonymous_authentication(sasl_env: dict[str, str]) -> None:
    run = run_sasl_pair(_server_args(), _client_args(), sasl_env, timeout=60)
    log = run.transcript()
    assert run.server_rc == 0 and run.client_rc == 0, log
    assert "Negotiation complete" in run.server_out, log
    assert "Negotiation complete" in run.client_out, log
    # What the server learns: the anonymous identity (display_name of the accepted context's
    # source name; the realm is kept because the short name does not compare equal).
    assert f"Username: {ANONYMOUS_PRINCIPAL}" in run.server_out, log
    assert f"Username: {ANONYMOUS_PRINCIPAL}" in run.client_out, log

    # On the wire it was our mechanism, not MIT's krb5: the client's initial response is
    # "GS2-GSSMECH\0" + gs2-header "n,," + the token without its RFC 2743 framing; the
    # server's AP-REP is framed with our OID.
    client_msgs = _decoded(run, "C: ")
    header = SASL_NAME.encode() + b"\0n,,"
    assert client_msgs[0].startswith(header + KRB_AP_REQ_TOK_ID), client_msgs[0][:40]
    server_msgs = _decoded(run, "S: ")
    assert server_msgs[0] == SASL_NAME.encode()  # the forced mechanism list
    ap_rep = server_msgs[1]
    assert ap_rep[0] == TOKEN_TAG, ap_rep[:16].hex()
    length, body = read_der_length(ap_rep, 1)
    assert body + length == len(ap_rep)
    assert ap_rep[body:].startswith(DEFAULT_NATIVE_MECH.tlv), ap_rep[:16].hex()

    # The samples then exchange one message each way (SSF 0: no security layer).
    assert "recieved decoded message 'client message 1'" in run.server_out, log
    assert "recieved decoded message 'srv message 1'" in run.client_out, log


def test_gs2_channel_binding_mismatch_fails(sasl_env: dict[str, str]) -> None:
    """The gs2-header is the channel-binding application data (RFC 5801 §5.1): changing it in
    flight ("n" to "y") must make our acceptor answer GSS_S_BAD_BINDINGS."""

    def tamper(line: str) -> str:
        raw = base64.b64decode(line[3:])
        marker = SASL_NAME.encode() + b"\0n,,"
        if raw.startswith(marker):
            raw = SASL_NAME.encode() + b"\0y,," + raw[len(marker) :]
        return "C: " + base64.b64encode(raw).decode()

    run = run_sasl_pair(_server_args(), _client_args(), sasl_env, timeout=60, tamper_client=tamper)
    log = run.transcript()
    assert run.server_rc != 0 and run.client_rc != 0, log
    assert "Negotiation complete" not in run.server_out, log
    assert not any(line.startswith("Username:") for line in run.server_out), log
    assert "Incorrect channel bindings" in run.server_err, log
