"""Keytabs against MIT: files made by ``ktutil``/``kadmin.local`` read exactly; files made by us
listed identically by ``klist -k -e -t -K`` and usable by ``kinit -k``."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from gssmech.ccache import Keytab, KeytabEntry
from gssmech.krb5.constants import ENCTYPE_NAMES
from gssmech.krb5.principal import Principal

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("ktutil") is None, reason="MIT ktutil not installed"),
]
ENV = {**os.environ, "KRB5_CONFIG": os.devnull, "TZ": "UTC", "LC_ALL": "C"}
KEY_LENGTHS = {17: 16, 18: 32, 19: 16, 20: 32}


def ktutil(steps: list[tuple[str, str]]) -> str:
    """Drive interactive ktutil on a pty: for each (prompt, line) wait for prompt, send line.
    (ktutil reads keys and passwords from the terminal, so a pipe does not work.)"""
    master, slave = pty.openpty()
    proc = subprocess.Popen(["ktutil"], stdin=slave, stdout=slave, stderr=slave, env=ENV)
    os.close(slave)
    out = b""
    try:
        for prompt, line in steps:
            deadline = time.monotonic() + 20
            while prompt.encode() not in out:
                ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    raise AssertionError(f"ktutil: no {prompt!r} prompt; got {out!r}")
                out += os.read(master, 4096)
            out = out[out.index(prompt.encode()) + len(prompt) :]
            os.write(master, line.encode() + b"\n")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return out.decode(errors="replace")


def klist_k(path: Path) -> list[tuple[int, str, str, str, str]]:
    """(kvno, timestamp, principal, enctype name, key hex) from ``klist -k -e -t -K``."""
    out = subprocess.run(
        ["klist", "-k", "-e", "-t", "-K", str(path)], env=ENV, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    pat = re.compile(r"^\s*(\d+) (\S+ \S+) (\S+) \((\S+)\)\s+\(0x([0-9a-f]+)\)$")
    rows = [m.groups() for line in out.stdout.splitlines() if (m := pat.match(line))]
    return [(int(k), ts, p, e, key) for k, ts, p, e, key in rows]


def fmt(ts: int) -> str:
    return time.strftime("%m/%d/%y %H:%M:%S", time.gmtime(ts))


@pytest.mark.parametrize("kvno", [300, 7])
def test_read_ktutil_keytab(tmp_path: Path, kvno: int) -> None:
    path = tmp_path / "kt"
    keys = {et: bytes((et + i) % 256 for i in range(n)) for et, n in KEY_LENGTHS.items()}
    steps: list[tuple[str, str]] = []
    for et, key in keys.items():
        steps += [
            (
                "ktutil:",
                f"addent -key -p svc/host.ex.test@EX.TEST -k {kvno} -e {ENCTYPE_NAMES[et]}",
            ),
            ("(hex):", key.hex()),
        ]
    steps += [
        ("ktutil:", f"addent -password -p alice@EX.TEST -k {kvno} -e aes256-cts-hmac-sha1-96"),
        ("Password for", "correct horse"),
        ("ktutil:", f"wkt {path}"),
        ("ktutil:", "q"),
    ]
    ktutil(steps)
    raw = path.read_bytes()
    assert raw[:2] == b"\x05\x02"
    entries = Keytab.resolve(f"FILE:{path}").entries()
    svc = Principal(1, ("svc", "host.ex.test"), "EX.TEST")  # ktutil writes nt=1 for services
    assert [(e.principal, e.enctype, e.key, e.kvno) for e in entries[:4]] == [
        (svc, et, key, kvno) for et, key in keys.items()
    ]
    if kvno > 255:  # u8 kvno holds the low byte, the u32 trailer the real one
        assert bytes([kvno & 0xFF, 0, 18, 0, 32]) + keys[18] + kvno.to_bytes(4, "big") in raw
    assert entries[4].principal == Principal.parse("alice@EX.TEST")
    shown = klist_k(path)
    assert [
        (e.kvno, fmt(e.timestamp), str(e.principal), ENCTYPE_NAMES[e.enctype], e.key.hex())
        for e in entries
    ] == shown


def test_our_keytab_read_by_klist(tmp_path: Path) -> None:
    path = tmp_path / "ours.keytab"
    kt = Keytab.resolve(str(path))
    want = [
        KeytabEntry(
            Principal.parse("host/a.ex.test@EX.TEST"), 1_700_000_000, 300, 18, b"\x01" * 32
        ),
        KeytabEntry(Principal.parse("host/a.ex.test@EX.TEST"), 1_700_000_001, 2, 17, b"\x02" * 16),
        KeytabEntry(Principal.parse("bob@EX.TEST"), 1_700_000_002, 255, 20, os.urandom(32)),
        KeytabEntry(Principal.parse("carol@EX.TEST"), 1_700_000_003, 1, 19, os.urandom(16)),
    ]
    for entry in want:
        kt.add(entry)
    assert path.stat().st_mode & 0o777 == 0o600
    rows = [
        (e.kvno, fmt(e.timestamp), str(e.principal), ENCTYPE_NAMES[e.enctype], e.key.hex())
        for e in want
    ]
    assert klist_k(path) == rows
    # MIT-style removal leaves a hole MIT skips; the next add of a fitting entry reuses it.
    assert kt.remove(Principal.parse("host/a.ex.test@EX.TEST"), kvno=300) == 1
    assert klist_k(path) == rows[1:]
    size = path.stat().st_size
    kt.add(want[0])
    assert path.stat().st_size == size  # hole reused, file did not grow
    assert sorted(klist_k(path)) == sorted(rows)
    assert kt.find(Principal.parse("host/a.ex.test@EX.TEST")) == want[0]
    assert kt.find(Principal.parse("host/a.ex.test@EX.TEST"), enctype=17) == want[1]


def test_kadmin_keytab_and_kinit_from_ours(mit_realm: Any, tmp_path: Path) -> None:
    princ = f"svc/kt.test@{mit_realm.realm}"
    mit_realm.addprinc(princ)
    made = tmp_path / "mit.keytab"
    mit_realm.ktadd(princ, made)
    mit_realm.ktadd(princ, made)  # second kvno
    mit_realm.kadmin(f"ktremove -k {made} {princ} old")  # leaves holes (negative lengths)
    assert int.from_bytes(made.read_bytes()[2:6], "big", signed=True) < 0  # a hole comes first
    theirs = Keytab.resolve(f"WRFILE:{made}").entries()
    assert theirs and {e.kvno for e in theirs} == {max(e.kvno for e in theirs)}
    assert [(e.kvno, str(e.principal), ENCTYPE_NAMES[e.enctype], e.key.hex()) for e in theirs] == [
        (k, p, e, key) for k, _, p, e, key in klist_k(made)
    ]
    ours = Keytab.resolve(f"FILE:{tmp_path / 'ours.keytab'}")
    for entry in theirs:
        ours.add(entry)
    cc = tmp_path / "cc"
    mit_realm.run(["kinit", "-k", "-t", str(tmp_path / "ours.keytab"), "-c", str(cc), princ])
    assert mit_realm.run(["klist", "-c", str(cc)]).stdout.count(princ) >= 1
