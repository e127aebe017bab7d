"""gss_export_sec_context / gss_import_sec_context through the system GSS library and our
plugin (issue 6, "Through standard GSS calls"; RFC 2743 §2.2.8/§2.2.9, RFC 2744 §5.14/§5.25).

Every GSS party is a separate python-gssapi process (:data:`PEER`) driven over a JSON line
protocol, so "another process" really is another pid loading the plugin afresh:

* C, the initiator: anonymous credentials (GSS_C_NT_ANONYMOUS name, ``kinit -n`` cache from the
  MIT realm) and the anonymity flag;
* A, the acceptor (host keytab), which exports the established context;
* B, another acceptor process holding the same key directory, which imports it and carries on.

Key directories are made and rotated with the ``gssmech ticket-keys`` CLI.  The decrypt-window
case cannot inject a clock through the plugin, so it uses real time: a key directory (written
with the keydir API) whose only sealing key stops opening a few seconds after the export.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gssmech._plugin import library_path
from gssmech.errors import GSS_S_DEFECTIVE_TOKEN, GSS_S_DUPLICATE_TOKEN, GSS_S_NO_CONTEXT
from gssmech.gss.export import MAGIC, unseal_context
from gssmech.gss.oids import DEFAULT_NATIVE_MECH
from gssmech.tlsticket import KeyRing, new_ticket_key
from gssmech.tlsticket.keydir import KeyFile, write_key_directory
from tests.interop.mitrealm import MITRealm
from tests.interop.plugin_peers import ANONYMOUS_PRINCIPAL, plugin_env

pytest.importorskip("gssapi")

ROOT = Path(__file__).resolve().parents[2]
#: Per request; the whole module stays well under a minute on a quiet machine.
REPLY_TIMEOUT = 30.0

#: One GSS party.  Requests and replies are JSON lines; bytes travel as hex.  A GSSError is a
#: reply too (major, its routine part, supplementary bits, minor and python-gssapi's text), so
#: the test sees exactly what an application would.
PEER = r"""
import json, os, sys
import gssapi
from gssapi.raw import RequirementFlag as F
from gssapi.raw.misc import GSSError

OID = gssapi.OID(elements=bytes.fromhex(sys.argv[1]))  # from_int_seq mis-encodes 2.999.*
FLAGS = [F.mutual_authentication, F.replay_detection, F.out_of_sequence_detection,
         F.confidentiality, F.integrity, F.anonymity]
ctx = None

def describe(c):
    src = c.initiator_name
    return {"initiator": str(src), "initiator_anon": src.name_type == gssapi.NameType.anonymous,
            "anon": bool(c.actual_flags & F.anonymity), "flags": int(c.actual_flags),
            "local": bool(c.locally_initiated), "complete": bool(c.complete),
            "mech_ok": c.mech == OID}

def handle(req):
    global ctx
    op, data = req["op"], bytes.fromhex(req.get("data", ""))
    if op == "pid":
        return {"pid": os.getpid()}
    if op == "init":
        anon = gssapi.Name(b"", gssapi.NameType.anonymous)
        creds = gssapi.Credentials(name=anon, usage="initiate", mechs=[OID])
        target = gssapi.Name(req["target"], gssapi.NameType.hostbased_service)
        ctx = gssapi.SecurityContext(name=target, creds=creds, mech=OID, flags=FLAGS,
                                     usage="initiate")
        return {"data": (ctx.step() or b"").hex(), "complete": ctx.complete}
    if op == "accept" and ctx is None:
        ctx = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept", mechs=[OID]),
                                     usage="accept")
    if op in ("init-step", "accept"):
        return {"data": (ctx.step(data) or b"").hex(), "complete": ctx.complete}
    if op == "describe":
        return describe(ctx)
    if op == "wrap":
        res = ctx.wrap(data, True)
        return {"data": res.message.hex(), "encrypted": res.encrypted}
    if op == "unwrap":
        res = ctx.unwrap(data)
        return {"data": res.message.hex(), "encrypted": res.encrypted}
    if op == "export":
        return {"data": ctx.export().hex()}
    if op == "import":
        ctx = gssapi.SecurityContext(token=data)
        return describe(ctx)
    raise ValueError(op)

for line in sys.stdin:
    try:
        reply = {"ok": handle(json.loads(line))}
    except GSSError as exc:
        reply = {"error": type(exc).__name__, "maj": exc.maj_code, "routine": exc.routine_code,
                 "supp": exc.supplementary_code or 0, "min": exc.min_code, "text": str(exc)}
    print(json.dumps(reply), flush=True)
"""


class Peer:
    """One python-gssapi process; :meth:`call` sends a request and waits for its reply."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self._stderr = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PEER, DEFAULT_NATIVE_MECH.der.hex()],
            env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, text=True, bufsize=1,
        )
        self._replies: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.pid = self.ok("pid")["pid"]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._replies.put(line)
        self._replies.put(None)

    def call(self, op: str, data: bytes = b"", **extra: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, "data": data.hex(), **extra}) + "\n")
        self.proc.stdin.flush()
        try:
            line = self._replies.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            line = None
        if line is None:
            self.close()
            pytest.fail(f"peer {self.name}: no reply to {op}:\n{self.log.read_text()[-4000:]}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def ok(self, op: str, data: bytes = b"", **extra: Any) -> dict[str, Any]:
        """``call`` that must succeed."""
        reply = self.call(op, data, **extra)
        assert "ok" in reply, f"peer {self.name}: {op} failed: {reply}"
        result: dict[str, Any] = reply["ok"]
        return result

    def data(self, op: str, data: bytes = b"") -> bytes:
        return bytes.fromhex(self.ok(op, data)["data"])

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


class Peers:
    """Starts peers with the realm's plugin environment and stops every one of them."""

    def __init__(self, base_env: dict[str, str], tmp: Path) -> None:
        self.base_env = base_env
        self.tmp = tmp
        self.started: list[Peer] = []

    def start(self, name: str, key_dir: Path | None) -> Peer:
        env = dict(self.base_env)
        if key_dir is not None:
            env["GSSMECH_TICKET_KEYS"] = str(key_dir)
        peer = Peer(name, env, self.tmp / f"{name}-{len(self.started)}.stderr")
        self.started.append(peer)
        return peer

    def close(self) -> None:
        for peer in self.started:
            peer.close()


@pytest.fixture(scope="module")
def realm_env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not library_path().exists():
        pytest.fail(f"plugin library not built: {library_path()}")
    return plugin_env(mit_realm, tmp_path_factory.mktemp("plugin-export"))


@pytest.fixture
def peers(realm_env: dict[str, str], tmp_path: Path) -> Iterator[Peers]:
    group = Peers(realm_env, tmp_path)
    try:
        yield group
    finally:
        group.close()


def ticket_keys(*args: str) -> None:
    """The ``gssmech ticket-keys`` CLI, as an operator runs it."""
    script = Path(sys.executable).with_name("gssmech")
    cmd = [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from gssmech.cli import main; sys.exit(main())"]
    proc = subprocess.run([*cmd, "ticket-keys", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def establish(initiator: Peer, acceptor: Peer, realm: MITRealm) -> None:
    target = realm.host_service.replace("/", "@")
    out = initiator.ok("init", target=target)
    init_done = out["complete"]
    for _ in range(10):
        acc = acceptor.ok("accept", bytes.fromhex(out["data"]))
        if acc["data"] and not init_done:
            out = initiator.ok("init-step", bytes.fromhex(acc["data"]))
            init_done = out["complete"]
        if acc["complete"] and init_done:
            return
    pytest.fail("context establishment did not finish")


def mech_token(interprocess: bytes) -> bytes:
    """The mechanism's part of a mechglue interprocess token: MIT's gss_export_sec_context
    prefixes a 4-byte big-endian OID length and the OID's DER content octets."""
    oid_len = int.from_bytes(interprocess[:4], "big")
    assert interprocess[4 : 4 + oid_len] == DEFAULT_NATIVE_MECH.der
    return interprocess[4 + oid_len :]


def assert_gss_error(reply: dict[str, Any], *routines: int, minor_text: str) -> None:
    assert "error" in reply, f"expected a GSS error, got {reply}"
    assert reply["routine"] in routines, reply
    assert minor_text in reply["text"], reply


def test_resume_in_another_process_after_rotation(
    peers: Peers, mit_realm: MITRealm, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    ticket_keys("init", str(keys))
    c, a = peers.start("C", None), peers.start("A", keys)
    establish(c, a, mit_realm)
    assert a.ok("describe")["anon"]
    # Traffic before the export moves both directions' sequence numbers past 0.
    m0 = c.data("wrap", b"m0: before export")
    assert a.data("unwrap", m0) == b"m0: before export"
    assert c.data("unwrap", a.data("wrap", b"r0: from A")) == b"r0: from A"

    token = a.data("export")
    assert mech_token(token).startswith(MAGIC)
    # Exported means gone from A (RFC 2743 §2.2.8).
    gone = a.call("wrap", b"x")
    assert "error" in gone and gone["routine"] == GSS_S_NO_CONTEXT, gone
    m1 = c.data("wrap", b"m1: wrapped after A exported")
    m2 = c.data("wrap", b"m2: also after")

    # The rotation turns A's sealing key into "previous": it still opens, asking for renewal.
    assert not unseal_context(mech_token(token), ring=KeyRing.from_directory(keys),
                              now=int(time.time())).renew
    ticket_keys("rotate", str(keys))
    assert unseal_context(mech_token(token), ring=KeyRing.from_directory(keys),
                          now=int(time.time())).renew

    b = peers.start("B", keys)
    assert b.pid != a.pid
    info = b.ok("import", token)
    assert info["initiator"] == ANONYMOUS_PRINCIPAL and info["initiator_anon"], info
    assert info["anon"] and not info["local"] and info["complete"] and info["mech_ok"], info

    assert b.data("unwrap", m1) == b"m1: wrapped after A exported"
    # The replay window came along: A's m0 is a duplicate to B as well.
    replay = b.call("unwrap", m0)
    assert "error" in replay and replay["supp"] & GSS_S_DUPLICATE_TOKEN, replay
    assert b.data("unwrap", m2) == b"m2: also after"
    # B's send sequence continues after A's r0: C (replay + sequence detection) would call a
    # restarted counter a duplicate.
    assert c.data("unwrap", b.data("wrap", b"r1: from B")) == b"r1: from B"
    assert c.data("unwrap", b.data("wrap", b"r2: from B")) == b"r2: from B"
    # The ticket is stateless: importing it again in yet another process works too.
    assert peers.start("B2", keys).ok("import", token)["anon"]


def test_foreign_keys_and_tampering_fail_cleanly(
    peers: Peers, mit_realm: MITRealm, tmp_path: Path
) -> None:
    keys, other = tmp_path / "keys", tmp_path / "other-fleet"
    ticket_keys("init", str(keys))
    ticket_keys("init", str(other))
    c, a = peers.start("C", None), peers.start("A", keys)
    establish(c, a, mit_realm)
    token = a.data("export")
    m1 = c.data("wrap", b"after export")

    # Another fleet's keys, and a process with no key directory (its own ephemeral ring).
    for name, key_dir in (("foreign", other), ("ephemeral", None)):
        reply = peers.start(name, key_dir).call("import", token)
        assert_gss_error(reply, GSS_S_NO_CONTEXT, minor_text="unknown key")

    b = peers.start("B", keys)
    head = len(token) - len(mech_token(token))  # the mechglue's OID prefix
    ticket = head + len(MAGIC) + 2 + len(DEFAULT_NATIVE_MECH.der)
    invalid = (GSS_S_DEFECTIVE_TOKEN, "failed authentication")
    # (offset, xor, expected): the plain header is bound into the MAC'd plaintext, so editing
    # it makes a cross-bound ticket; only an unknown key_name is "not ours" (NO_CONTEXT).
    tampered = {
        "role acceptor->initiator": (head + len(MAGIC), 0x03, invalid),
        "mech OID": (ticket - 1, 0x01, invalid),
        "key_name": (ticket, 0x01, (GSS_S_NO_CONTEXT, "unknown key")),
        "IV": (ticket + 16, 0x01, invalid),
        "encrypted state": (len(token) - 80, 0x01, invalid),
        "MAC": (len(token) - 1, 0x80, invalid),
    }
    for what, (pos, xor, (routine, text)) in tampered.items():
        bad = bytearray(token)
        bad[pos] ^= xor
        reply = b.call("import", bytes(bad))
        assert "error" in reply, (what, reply)
        assert reply["routine"] == routine and text in reply["text"], (what, reply)
    for cut in (1, len(token) // 2, len(token) - 1):
        reply = b.call("import", token[:cut])
        assert "error" in reply and reply["routine"] in (GSS_S_DEFECTIVE_TOKEN, GSS_S_NO_CONTEXT)
    # The failures left B healthy: the genuine token still resumes there.
    assert b.ok("import", token)["anon"]
    assert b.data("unwrap", m1) == b"after export"


def test_import_fails_after_the_decrypt_window(
    peers: Peers, mit_realm: MITRealm, tmp_path: Path
) -> None:
    keys = tmp_path / "short-keys"
    c, a, b = peers.start("C", None), peers.start("A", keys), peers.start("B", keys)
    establish(c, a, mit_realm)
    # No clock can be injected through the plugin, so real time passes instead: the only key
    # that may seal now stops sealing in WINDOW s and stops opening one second later; the next
    # key is not active yet.
    window, now = 4, int(time.time())
    current = new_ticket_key(not_before=now - 60, encrypt_until=now + window,
                             decrypt_until=now + window + 1)
    upcoming = new_ticket_key(not_before=now + 3600, encrypt_until=now + 7200,
                              decrypt_until=now + 7201)
    keys.mkdir(mode=0o700)
    write_key_directory(keys, KeyFile(60, 1, (upcoming, current)))
    token = a.data("export")
    assert b.ok("import", token)["anon"]  # inside the window: fine
    time.sleep(max(0.0, current.decrypt_until - time.time()) + 0.2)
    assert_gss_error(b.call("import", token), GSS_S_NO_CONTEXT, minor_text="expired")
