"""GSS_Export/Import_sec_context as sealed tickets (gssmech.gss.export, issue 6).

Contexts are built in memory (tests/test_gss_context.py helpers: a ticket we seal ourselves).
The cross-process tests run the acceptor in worker processes (``python -m
tests.test_gss_export``, a line-per-command JSON protocol) that share only a key directory with
each other; the initiator stays in the test process.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.errors import (
    GSS_S_CONTEXT_EXPIRED,
    GSS_S_DEFECTIVE_TOKEN,
    GSS_S_DUPLICATE_TOKEN,
    GSS_S_NO_CONTEXT,
    GSS_S_UNAVAILABLE,
    DecodeError,
    GSSMechError,
    Minor,
)
from gssmech.gss import export
from gssmech.gss.api import SecurityContext
from gssmech.gss.context import AcceptorContext, InitiatorContext
from gssmech.gss.flags import GSSFlag
from gssmech.gss.names import GSSName
from gssmech.gss.oids import KRB5_MECH, NT_ANONYMOUS
from gssmech.krb5.crypto import Key
from gssmech.tlsticket import KeyRing, TicketBinding, new_ticket_key
from gssmech.tlsticket.keydir import init_key_directory, rotate_key_directory
from tests.test_gss_context import ANON, NOW, SERVICE, SVC_KEY, USER, establish, make_cred

ROOT = Path(__file__).resolve().parents[1]
T0 = int(NOW)
FLAGS = GSSFlag.MUTUAL | GSSFlag.REPLAY | GSSFlag.SEQUENCE


def clock(t: float) -> Callable[[], float]:
    return lambda: t


@pytest.fixture
def keydir(tmp_path: Path) -> Path:
    init_key_directory(tmp_path / "keys", now=T0 - 10)
    return tmp_path / "keys"


def env_for(keydir: Path | None) -> dict[str, str]:
    """No system krb5.conf: the key directory comes from the env var or nowhere."""
    env = {"KRB5_CONFIG": "/nonexistent/krb5.conf"}
    if keydir is not None:
        env[export.KEY_DIR_ENV] = str(keydir)
    return env


def exported(keydir: Path | None, flags: int = FLAGS, cred: Any = None, at: float = NOW
             ) -> tuple[InitiatorContext, bytes]:
    ini, acc = establish(cred or make_cred(), flags=flags)
    sc = SecurityContext(base=acc, usage="accept", env=env_for(keydir), clock=clock(at))
    return ini, sc.export()


def imported(token: bytes, keydir: Path | None, at: float = NOW + 5) -> SecurityContext:
    return SecurityContext(token=token, env=env_for(keydir), clock=clock(at))


def status(exc: GSSMechError) -> tuple[int, int]:
    return exc.major, exc.minor


# --- the state codec --------------------------------------------------------------------------


def test_state_codec_is_canonical_and_round_trips() -> None:
    _, acc = establish(flags=FLAGS)
    state = acc.export_state()
    data = export.encode_state(state)
    assert export.decode_state(data) == state
    assert export.encode_state(dict(reversed(list(state.items())))) == data  # order-free
    assert b" " not in data and b"$b" in data and state["key"]["contents"] not in data


@given(st.binary(max_size=300))
@settings(max_examples=300)
def test_state_decoder_rejects_garbage_with_decode_error(data: bytes) -> None:
    try:
        export.decode_state(data)
    except DecodeError:
        pass


@pytest.mark.parametrize("text", [b"[]", b'{"a":NaN}', b'{"x":{"$b":"!!"}}', b'{"x":{"$b":1}}',
                                  b'{"x":{"$b":"", "y":1}}', b"\xff", b"1" * 5000])
def test_state_decoder_named_cases(text: bytes) -> None:
    with pytest.raises(DecodeError):
        export.decode_state(text)


# --- in one process -------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["acceptor", "initiator"])
def test_in_process_round_trip_with_key_dir(keydir: Path, side: str) -> None:
    ini, acc = establish(flags=FLAGS)
    env = env_for(keydir)
    me, peer = (acc, ini) if side == "acceptor" else (ini, acc)
    usage = "accept" if side == "acceptor" else "initiate"
    target = GSSName.from_principal(SERVICE) if side == "initiator" else None
    sc = SecurityContext(base=me, name=target, usage=usage, env=env, clock=clock(NOW))
    assert peer.unwrap(sc.wrap(b"before", True).message).supplementary == 0
    token = sc.export()
    with pytest.raises(GSSMechError):  # RFC 2743 §2.2.8: gone from the exporting context
        sc.wrap(b"x", True)
    assert token.startswith(export.MAGIC) and b"EXAMPLE.COM" not in token
    back = imported(token, keydir)
    assert back.usage == usage and back.ticket_renew is False
    assert back.actual_flags == me.flags and str(back.initiator_name) == str(USER)
    assert str(back.target_name) == str(SERVICE) and back.mech == me.mech
    res = back.unwrap(peer.wrap(b"after export", True))
    assert (res.message, res.encrypted) == (b"after export", True)
    assert peer.unwrap(back.wrap(b"reply", False).message).supplementary == 0


def test_anonymous_context_keeps_anon_flag_and_name(keydir: Path) -> None:
    ini, token = exported(keydir, FLAGS | GSSFlag.ANON, make_cred(ANON))
    back = imported(token, keydir)
    assert GSSFlag.ANON in back.actual_flags
    assert back.initiator_name is not None and back.initiator_name.name_type == NT_ANONYMOUS
    assert str(back.initiator_name) == "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
    assert b"alice" not in token
    assert back.unwrap(ini.wrap(b"anon", True)).message == b"anon"


def test_ephemeral_ring_without_configuration() -> None:
    env = env_for(None)
    assert export.key_directory(env) is None
    assert export.default_ring(env) is export.default_ring(env)
    ini, token = exported(None)
    assert imported(token, None).unwrap(ini.wrap(b"m", True)).message == b"m"


def test_krb5_conf_names_the_key_directory(tmp_path: Path, keydir: Path) -> None:
    conf = tmp_path / "krb5.conf"
    conf.write_text(f"[libdefaults]\n default_realm = R\n gssmech_ticket_keys = {keydir}\n")
    env = {"KRB5_CONFIG": str(conf)}
    assert export.key_directory(env) == str(keydir)
    assert export.key_directory({**env, export.KEY_DIR_ENV: "/elsewhere"}) == "/elsewhere"
    ring = export.default_ring(env)
    assert {k.key_name for k in ring.keys} == {
        k.key_name for k in KeyRing.from_directory(keydir).keys}
    assert export.default_ring(env) is ring  # unchanged file: cached
    rotate_key_directory(keydir, now=T0)
    assert export.default_ring(env) is not ring  # rotation is picked up without a restart


def test_unusable_key_directory_is_unavailable(tmp_path: Path) -> None:
    _, acc = establish(flags=FLAGS)
    sc = SecurityContext(base=acc, usage="accept", env=env_for(tmp_path / "none"),
                         clock=clock(NOW))
    with pytest.raises(export.TicketKeysUnavailable) as exc:
        sc.export()
    assert status(exc.value) == (GSS_S_UNAVAILABLE, Minor.TICKET_KEYS)
    old = new_ticket_key(not_before=0, encrypt_until=T0 - 1, decrypt_until=T0 + 99)
    with pytest.raises(export.TicketKeysUnavailable):
        export.seal_context(acc.export_state(), ring=KeyRing([old]), now=T0)


def test_expired_context_is_not_exported(keydir: Path) -> None:
    _, acc = establish(make_cred(lifetime=600), flags=FLAGS)
    ring = KeyRing.from_directory(keydir)
    with pytest.raises(GSSMechError) as exc:
        export.seal_context(acc.export_state(), ring=ring, now=T0 + 601)
    assert status(exc.value) == (GSS_S_CONTEXT_EXPIRED, Minor.TICKET_EXPIRED)


# --- expiry and the decrypt window ----------------------------------------------------------


def test_ticket_lives_as_long_as_the_context(keydir: Path) -> None:
    _, acc = establish(make_cred(lifetime=600), flags=FLAGS)
    ring = KeyRing.from_directory(keydir)
    token = export.seal_context(acc.export_state(), ring=ring, now=T0)
    assert export.unseal_context(token, ring=ring, now=T0 + 599).expires_at == T0 + 600
    with pytest.raises(export.ImportedTicketExpired) as exc:
        export.unseal_context(token, ring=ring, now=T0 + 600)
    assert status(exc.value) == (GSS_S_NO_CONTEXT, Minor.TICKET_EXPIRED)


def test_after_the_decrypt_window_import_fails_cleanly(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    init_key_directory(keys, now=T0 - 10, period=3600, lifetime=900)
    ini, token = exported(keys, cred=make_cred(lifetime=30 * 86400))
    rotate_key_directory(keys, now=T0 + 100)  # the sealing key may now open until T0+1000
    late = imported(token, keys, at=T0 + 999)
    assert late.ticket_renew is True
    assert late.unwrap(ini.wrap(b"still", True)).message == b"still"
    with pytest.raises(GSSMechError) as exc:
        imported(token, keys, at=T0 + 1000)
    assert status(exc.value) == (GSS_S_NO_CONTEXT, Minor.TICKET_EXPIRED)


# --- rejected tokens ------------------------------------------------------------------------


def test_every_flipped_bit_is_rejected(keydir: Path) -> None:
    _, token = exported(keydir)
    ring = KeyRing.from_directory(keydir)
    key_name_at = len(export.MAGIC) + 2 + token[5]  # after magic, role, mech<1..255>
    for i in range(len(token) * 8):
        bad = bytearray(token)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(GSSMechError) as exc:
            export.unseal_context(bytes(bad), ring=ring, now=T0 + 5)
        unknown = (GSS_S_NO_CONTEXT, Minor.TICKET_UNKNOWN_KEY)
        invalid = (GSS_S_DEFECTIVE_TOKEN, Minor.TICKET_INVALID)
        if key_name_at <= i // 8 < key_name_at + 16:
            assert status(exc.value) == unknown
        elif i // 8 == 5:  # the mech length: shifts where the ticket (its key_name) starts
            assert status(exc.value) in (unknown, invalid)
        else:
            assert status(exc.value) == invalid, i


@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_truncated_extended_and_random_tokens(data: st.DataObject) -> None:
    token, ring = _fixed_token()
    cut = data.draw(st.integers(0, len(token) - 1))
    variants = [token[:cut], token + data.draw(st.binary(min_size=1, max_size=64)),
                data.draw(st.binary(max_size=800)), export.MAGIC + data.draw(st.binary())]
    for bad in variants:
        with pytest.raises(GSSMechError) as exc:
            export.unseal_context(bad, ring=ring, now=T0 + 5)
        assert exc.value.major in (GSS_S_DEFECTIVE_TOKEN, GSS_S_NO_CONTEXT)


_FIXED: list[tuple[bytes, KeyRing]] = []


def _fixed_token() -> tuple[bytes, KeyRing]:
    if not _FIXED:
        ring = KeyRing([new_ticket_key(not_before=0, encrypt_until=T0 + 99, decrypt_until=T0 + 99)])
        _, acc = establish(flags=FLAGS)
        _FIXED.append((export.seal_context(acc.export_state(), ring=ring, now=T0), ring))
    return _FIXED[0]


def test_foreign_key_directory_is_no_context(tmp_path: Path, keydir: Path) -> None:
    other = tmp_path / "other"
    init_key_directory(other, now=T0 - 10)
    _, token = exported(keydir)
    with pytest.raises(GSSMechError) as exc:
        imported(token, other)
    assert status(exc.value) == (GSS_S_NO_CONTEXT, Minor.TICKET_UNKNOWN_KEY)


def test_cross_bound_tickets_are_defective(keydir: Path) -> None:
    ring = KeyRing.from_directory(keydir)
    _, acc = establish(flags=FLAGS)
    state = acc.export_state()
    token = export.seal_context(state, ring=ring, now=T0)
    head = token[: len(token) - len(_ticket_of(token))]
    payload = export.encode_state(state)
    forged = [
        # the engine's ticket for another purpose (a TLS session) under the same keys
        head + ring.seal_at_time(T0, payload, TicketBinding("tls-session", "")).ticket,
        head + ring.seal_at_time(T0, payload, TicketBinding(export.EXPORT_PURPOSE, "")).ticket,
        # the acceptor's ticket presented as an initiator's, or as another mech's
        head[:4] + b"\x01" + head[5:] + _ticket_of(token),
        head[:5] + bytes((len(KRB5_MECH.der),)) + KRB5_MECH.der + _ticket_of(token),
        b"GSSMECH-CTX1\n" + json.dumps({"version": 1}).encode(),  # the old plain export
    ]
    for bad in forged:
        with pytest.raises(GSSMechError) as exc:
            imported(bad, keydir)
        assert status(exc.value) == (GSS_S_DEFECTIVE_TOKEN, Minor.TICKET_INVALID)
    # correctly bound but not a context state: MAC-valid, so a plain DecodeError is safe
    garbage = head + ring.seal_at_time(T0, b"{}", export.binding_for("acceptor", acc.mech)).ticket
    with pytest.raises(DecodeError) as exc2:
        imported(garbage, keydir)
    assert exc2.value.major == GSS_S_DEFECTIVE_TOKEN


def _ticket_of(token: bytes) -> bytes:
    return token[len(export.MAGIC) + 2 + token[5] :]


# --- across processes -----------------------------------------------------------------------


class Worker:
    """A process holding one SecurityContext; commands and answers are JSON lines."""

    def __init__(self, keydir: Path | None) -> None:
        env = {k: v for k, v in os.environ.items() if k != export.KEY_DIR_ENV}
        env.update(env_for(keydir), PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.test_gss_export"], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )

    def __call__(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        assert ready, f"worker did not answer {cmd['op']}"
        line = self.proc.stdout.readline()
        assert line, f"worker died on {cmd['op']}"
        return json.loads(line)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(10)


@pytest.fixture
def workers() -> Iterator[Any]:
    started: list[Worker] = []

    def start(keydir: Path | None) -> Worker:
        started.append(Worker(keydir))
        return started[-1]

    yield start
    for w in started:
        w.close()


def _h(b: bytes) -> str:
    return b.hex()


@pytest.mark.parametrize("rotate", [False, True])
def test_accept_in_a_resume_in_b(keydir: Path, workers: Any, rotate: bool) -> None:
    a, b = workers(keydir), workers(keydir)
    ini = InitiatorContext(make_cred(), flags=FLAGS, clock=clock(NOW))
    ap_req = ini.step(None).token
    assert ap_req is not None
    out = a(op="accept", key=_h(SVC_KEY.contents), token=_h(ap_req), now=NOW + 1)
    assert ini.step(bytes.fromhex(out["token"])).complete
    m1 = ini.wrap(b"m1", True)
    assert a(op="unwrap", token=_h(m1))["message"] == _h(b"m1")
    for msg in (b"a1", b"a2"):  # the acceptor's send sequence advances to 2 in A
        res = ini.unwrap(bytes.fromhex(a(op="wrap", message=_h(msg))["token"]))
        assert (res.message, res.supplementary) == (msg, 0)
    token = a(op="export")["token"]
    if rotate:
        rotate_key_directory(keydir, now=T0 + 60)
    got = b(op="import", token=token, now=NOW + 120)
    assert got["pid"] != a(op="pid")["pid"] and got["renew"] is rotate
    # a message the initiator wrapped after the export
    m2 = ini.wrap(b"m2 after export", True)
    assert b(op="unwrap", token=_h(m2)) == {"message": _h(b"m2 after export"), "encrypted": True}
    # B's receive window came along: m1 (seen in A) and m2 are replays there
    for old in (m1, m2):
        assert b(op="unwrap", token=_h(old))["major"] == GSS_S_DUPLICATE_TOKEN
    # B continues A's send sequence: in order at the initiator (0 = no GAP, no DUPLICATE)
    res = ini.unwrap(bytes.fromhex(b(op="wrap", message=_h(b"b1"))["token"]))
    assert (res.message, res.supplementary) == (b"b1", 0)
    # renew: B re-exports under the current key; opening that needs no renewal
    again = b(op="export")["token"]
    assert a(op="import", token=again, now=NOW + 130)["renew"] is False
    res = ini.unwrap(bytes.fromhex(a(op="wrap", message=_h(b"a3"))["token"]))
    assert (res.message, res.supplementary) == (b"a3", 0)


def test_ephemeral_ring_does_not_cross_processes(workers: Any) -> None:
    _, token = exported(None)
    got = workers(None)(op="import", token=_h(token), now=NOW + 5)
    assert (got["major"], got["minor"]) == (GSS_S_NO_CONTEXT, Minor.TICKET_UNKNOWN_KEY)


# --- the worker (python -m tests.test_gss_export) -------------------------------------------


def _run(ctx: dict[str, Any], cmd: dict[str, Any]) -> dict[str, Any]:
    op = cmd["op"]
    if "now" in cmd:
        ctx["now"] = cmd["now"]
    tick = lambda: ctx["now"]  # noqa: E731 - the worker's movable clock
    if op == "pid":
        return {"pid": os.getpid()}
    if op == "accept":
        key = Key(18, bytes.fromhex(cmd["key"]))
        acc = AcceptorContext(
            lambda p, kvno, e: key if (p, e) == (SERVICE, 18) else None, clock=tick)
        res = acc.step(bytes.fromhex(cmd["token"]))
        ctx["sc"] = SecurityContext(base=acc, usage="accept", clock=tick)
        return {"token": (res.token or b"").hex()}
    if op == "import":
        ctx["sc"] = SecurityContext(token=bytes.fromhex(cmd["token"]), clock=tick)
        return {"pid": os.getpid(), "renew": ctx["sc"].ticket_renew}
    sc: SecurityContext = ctx["sc"]
    if op == "wrap":
        return {"token": sc.wrap(bytes.fromhex(cmd["message"]), True).message.hex()}
    if op == "unwrap":
        res = sc.unwrap(bytes.fromhex(cmd["token"]))
        return {"message": res.message.hex(), "encrypted": res.encrypted}
    if op == "export":
        return {"token": sc.export().hex()}
    raise ValueError(op)


def _worker() -> None:
    ctx: dict[str, Any] = {"now": NOW}
    for line in sys.stdin:
        try:
            answer = _run(ctx, json.loads(line))
        except GSSMechError as exc:
            answer = {"error": type(exc).__name__, "major": exc.major, "minor": exc.minor}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _worker()
