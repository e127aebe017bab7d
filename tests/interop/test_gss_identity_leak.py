"""G3 identity-leak test (draft-ietf-krb-wg-anon-08 §5; issue 4 "Proof against the real thing").

With GSS_C_ANON_FLAG, nothing the initiator process sends may name the user -- not to the KDC,
not to the acceptor -- even though the user's own TGT is the default cache (KRB5CCNAME) and no
anonymous TGT exists yet, so the mechanism must run anonymous PKINIT itself.

How it is observed:

- a recording relay (UDP and TCP on one loopback port, RFC 4120 §7.2) sits between the client
  and the embedded KDC; krb5.conf names only the relay.  Every datagram and every TCP chunk the
  client sends is kept verbatim, and so is every reply;
- every token the initiator produces for the acceptor (AP-REQ, wrap, MIC) is kept;
- the encrypted parts are opened too, with keys the test owns (the KDC database and the host
  keytab): each ticket and authenticator in a TGS-REQ (PA-TGS-REQ) or a GSS AP-REQ, because a
  client that used the user's TGT would reveal itself only inside them;
- the user's name ("leaky-alice") and its realm-qualified form are searched in all of it, as
  UTF-8, UTF-16 (both orders) and base64 (every alignment, both alphabets).

The test can fail: the same run without the anon flag must show the name in the recorded
traffic (the TGS-REP cname in clear, the ticket and authenticator once opened), and the
user's own ``kinit`` through the relay shows it in the AS-REQ in clear.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gssmech.ccache import Keytab, resolve
from gssmech.gss import api, framing
from gssmech.gss.flags import GSSFlag
from gssmech.gss.oids import KRB5_MECH, NT_ANONYMOUS, native_mech
from gssmech.kdc.db import RealmDB
from gssmech.kdc.realm import init_realm, open_kdc
from gssmech.kdc.server import ThreadedKDC
from gssmech.krb5 import crypto
from gssmech.krb5.asn1 import (
    APReq,
    EncTicketPart,
    KeyUsage,
    PaDataType,
    TGSReq,
    decode,
    find_padata,
    padata_types,
    to_principal,
)
from gssmech.krb5.asn1 import ASReq as _ASReq
from gssmech.krb5.crypto import Key
from gssmech.krb5.principal import Principal
from tests.interop.mitrealm import free_port

pytestmark = pytest.mark.interop

REALM = "LEAK.TEST"
USER = "leaky-alice"
USER_PRINCIPAL = f"{USER}@{REALM}"
USER_PW = "leaky-pw-1"
HOST = f"host/localhost@{REALM}"
FULLY_ANON = "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
AS_REQ_TAG, TGS_REQ_TAG = 0x6A, 0x6C  # [APPLICATION 10], [APPLICATION 12]


# --- what counts as "the name" ---------------------------------------------------------------
def _b64_cores(raw: bytes) -> list[bytes]:
    """The base64 characters fixed by ``raw`` alone, for each of the 3 alignments it can have
    inside a longer encoded blob (standard and URL-safe alphabets)."""
    out = []
    for shift in range(3):
        start, end = -(-8 * shift // 6), 8 * (shift + len(raw)) // 6
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            out.append(enc(bytes(shift) + raw)[start:end])
    return out


def name_forms() -> dict[str, bytes]:
    forms: dict[str, bytes] = {}
    for text in (USER, USER_PRINCIPAL):
        forms[text] = text.encode()
        forms[f"{text} utf-16-le"] = text.encode("utf-16-le")
        forms[f"{text} utf-16-be"] = text.encode("utf-16-be")
        for i, core in enumerate(_b64_cores(text.encode())):
            forms[f"{text} base64#{i}"] = core
    return forms


def leaks(blobs: list[bytes]) -> list[str]:
    """Which forms of the user's name occur in which blob (empty: none)."""
    return [f"{form} in blob {i}" for form, needle in name_forms().items()
            for i, blob in enumerate(blobs) if needle in blob]


def test_the_detector_sees_every_form() -> None:
    """The search itself can fail: each encoding, at every offset, is found."""
    for prefix in range(4):
        pad = os.urandom(prefix)
        raw = pad + USER.encode() + b"\x00tail"
        for blob in (raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw),
                     (pad.decode("latin-1") + USER).encode("utf-16-le"),
                     USER.encode("utf-16-be") + pad):
            assert leaks([blob]), blob
    assert leaks([b"WELLKNOWN/ANONYMOUS" + os.urandom(64).replace(b"leaky", b"")]) == []


# --- the recording relay ---------------------------------------------------------------------
def _recv_exact(s: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


@dataclass
class Recorder:
    """A UDP + TCP relay to the KDC on one loopback port, keeping every byte both ways."""

    upstream: int
    port: int = field(default_factory=free_port)
    raw_sent: list[bytes] = field(default_factory=list)  # datagrams and TCP chunks, verbatim
    requests: list[bytes] = field(default_factory=list)  # Kerberos messages (TCP unframed)
    replies: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind(("127.0.0.1", self.port))
        self._tcp = socket.create_server(("127.0.0.1", self.port))
        for sock in (self._udp, self._tcp):
            sock.settimeout(0.2)
        self._threads = [threading.Thread(target=self._serve_udp, daemon=True),
                         threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self._threads:
            t.start()

    def clear(self) -> None:
        with self._lock:
            self.raw_sent.clear()
            self.requests.clear()
            self.replies.clear()

    def _keep(self, raw: bytes, request: bytes | None = None, reply: bytes | None = None) -> None:
        with self._lock:
            if raw:
                self.raw_sent.append(raw)
            if request is not None:
                self.requests.append(request)
            if reply is not None:
                self.replies.append(reply)

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._udp.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            self._keep(data, request=data)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
                up.settimeout(10)
                up.sendto(data, ("127.0.0.1", self.upstream))
                try:
                    reply = up.recv(65535)
                except OSError:
                    continue
            self._keep(b"", reply=reply)
            self._udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._relay_tcp, args=(conn,), daemon=True).start()

    def _relay_tcp(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn, socket.create_connection(("127.0.0.1", self.upstream), timeout=10) as up:
            while True:  # RFC 4120 §7.2.2: 4-byte length, then the message
                head = _recv_exact(conn, 4)
                if head is None:
                    return
                body = _recv_exact(conn, struct.unpack(">I", head)[0]) or b""
                self._keep(head + body, request=body)
                up.sendall(head + body)
                rhead = _recv_exact(up, 4)
                if rhead is None:
                    return
                rbody = _recv_exact(up, struct.unpack(">I", rhead)[0]) or b""
                self._keep(b"", reply=rbody)
                conn.sendall(rhead + rbody)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self._udp.close()
        self._tcp.close()


# --- opening the encrypted parts with the test's keys ----------------------------------------
@dataclass
class Opened:
    plaintexts: list[bytes] = field(default_factory=list)  # EncTicketParts, Authenticators
    clients: list[str] = field(default_factory=list)  # the tickets' cname@crealm


def _open_ap_req(req: APReq, keys: RealmDB, usage: int, into: Opened) -> None:
    ticket = req["ticket"]
    server = to_principal(ticket["sname"], ticket["realm"])
    entry = keys.lookup(server)
    assert entry is not None, f"the test has no key for {server}"
    enc = ticket["enc_part"]
    long_term = entry.key_for(int(enc["etype"]), enc["kvno"].native)
    assert long_term is not None
    plain = crypto.decrypt(long_term.key, KeyUsage.KDC_REP_TICKET, enc["cipher"].native)
    part = decode(EncTicketPart, plain, what="EncTicketPart")
    into.plaintexts.append(plain)
    into.clients.append(str(to_principal(part["cname"], part["crealm"])))
    session = Key(int(part["key"]["keytype"]), part["key"]["keyvalue"].native)
    into.plaintexts.append(crypto.decrypt(session, usage, req["authenticator"]["cipher"].native))


def open_everything(requests: list[bytes], tokens: list[bytes], keys: RealmDB) -> Opened:
    """Tickets and authenticators inside TGS-REQs (key usage 7) and GSS AP-REQs (11)."""
    opened = Opened()
    for msg in requests:
        if msg[:1] == bytes([TGS_REQ_TAG]):
            req = decode(TGSReq, msg, what="TGS-REQ")
            pa = find_padata(req["padata"], PaDataType.PA_TGS_REQ)
            assert pa is not None
            ap = decode(APReq, pa["padata_value"].native, what="AP-REQ")
            _open_ap_req(ap, keys, KeyUsage.TGS_REQ_AUTH, opened)
    for tok in tokens:
        if tok[:1] == b"\x60":  # only the initial context token is framed [APPLICATION 0]
            body = framing.unframe(tok, (KRB5_MECH, native_mech()),
                                   expect=(framing.TOK_AP_REQ,)).body
            _open_ap_req(decode(APReq, body, what="AP-REQ"), keys, KeyUsage.AP_REQ_AUTH, opened)
    return opened


# --- the realm ---------------------------------------------------------------------------------
@dataclass
class Setup:
    dir: Path
    kdc_dir: Path
    recorder: Recorder
    conf: Path
    keytab: Path
    user_cc: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    d = tmp_path_factory.mktemp("leak")
    kdc_dir = d / "realm"
    port = free_port()
    db = init_realm(kdc_dir, REALM, listen=(f"127.0.0.1:{port}",))
    db.add_principal(Principal.parse(USER_PRINCIPAL), password=USER_PW)
    db.add_principal(Principal.parse(HOST))
    server = ThreadedKDC(open_kdc(kdc_dir), [("127.0.0.1", port)]).start()
    recorder = None
    try:
        recorder = Recorder(port)
        conf = d / "krb5.proxy.conf"
        text = (kdc_dir / "krb5.conf").read_text()
        assert f"kdc = 127.0.0.1:{port}" in text
        conf.write_text(text.replace(f"kdc = 127.0.0.1:{port}", f"kdc = 127.0.0.1:{recorder.port}"))
        keytab = d / "host.keytab"
        user_cc = d / "user.cc"
        env = {"PATH": "/usr/bin:/bin", "HOME": str(d), "KRB5_CONFIG": str(conf)}
        for args, stdin in (
            (["kdc", "ktadd", "--dir", str(kdc_dir), "-k", str(keytab), HOST], None),
            (["kinit", "-c", str(user_cc), USER_PRINCIPAL], USER_PW + "\n"),
        ):
            cp = subprocess.run([sys.executable, "-m", "gssmech.cli", *args], env=env,
                                input=stdin, capture_output=True, text=True, timeout=60)
            assert cp.returncode == 0, cp.stdout + cp.stderr
        # Control for the relay itself: the user's own AS-REQ names them in clear (cname).
        assert any(m[:1] == bytes([AS_REQ_TAG]) for m in recorder.requests)
        assert leaks(recorder.raw_sent), "the relay did not see the user's own AS-REQ"
        yield Setup(d, kdc_dir, recorder, conf, keytab, user_cc)
    finally:
        if recorder is not None:
            recorder.close()
        server.stop()


@dataclass
class Run:
    tokens: list[bytes]
    acceptor: api.SecurityContext
    user_cc: Path
    anon_cc: Path


def run_initiator(s: Setup, mp: pytest.MonkeyPatch, name: str, flags: GSSFlag) -> Run:
    """A fresh copy of the user's cache as the default ccache; no anonymous cache exists."""
    user_cc = s.dir / f"{name}.cc"
    shutil.copy(s.user_cc, user_cc)
    anon_cc = Path(f"{user_cc}.anon")  # gssmech.gss.creds.anonymous_cache_name's default
    assert not anon_cc.exists()
    for key in [k for k in os.environ if k.startswith(("KRB5", "GSSMECH_"))]:
        mp.delenv(key)
    mp.setenv("KRB5_CONFIG", str(s.conf))
    mp.setenv("KRB5CCNAME", f"FILE:{user_cc}")
    mp.setenv("KRB5RCACHETYPE", "none")
    s.recorder.clear()
    target = api.Name("host@localhost", api.NameType.hostbased_service)
    ini = api.SecurityContext(name=target, usage="initiate", flags=flags)
    acred = api.Credentials(usage="accept", store={"keytab": f"FILE:{s.keytab}"})
    acc = api.SecurityContext(creds=acred, usage="accept")
    tokens: list[bytes] = []
    first = ini.step()
    assert first is not None
    tokens.append(first)
    ini.step(acc.step(first))
    assert ini.complete and acc.complete
    tokens.append(ini.wrap(b"application data", True).message)
    tokens.append(ini.wrap(b"application data", False).message)
    tokens.append(ini.get_signature(b"application data"))
    assert acc.unwrap(tokens[1]).message == b"application data"
    return Run(tokens, acc, user_cc, anon_cc)


def test_control_without_anon_flag_names_the_user(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proves the recorder and the opener see the name where it is: TGS with the user's TGT."""
    run = run_initiator(setup, monkeypatch, "control", GSSFlag.MUTUAL | GSSFlag.SEQUENCE)
    rec = setup.recorder
    assert str(run.acceptor.initiator_name) == USER_PRINCIPAL
    assert any(m[:1] == bytes([TGS_REQ_TAG]) for m in rec.requests)
    assert not any(m[:1] == bytes([AS_REQ_TAG]) for m in rec.requests)  # no PKINIT needed
    opened = open_everything(rec.requests, run.tokens, RealmDB.open(setup.kdc_dir))
    assert opened.clients == [USER_PRINCIPAL, USER_PRINCIPAL]  # TGT in TGS-REQ, AP-REQ ticket
    assert leaks(opened.plaintexts)  # sent, inside the encrypted parts
    assert leaks(rec.replies)  # TGS-REP cname, in clear
    assert not run.anon_cc.exists()


def test_anon_flag_leaks_no_identity(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    anon = GSSFlag.MUTUAL | GSSFlag.SEQUENCE | GSSFlag.ANON
    before = len(resolve(f"FILE:{setup.user_cc}").credentials())
    run = run_initiator(setup, monkeypatch, "anon", anon)
    rec = setup.recorder
    # The mechanism obtained the anonymous TGT itself: anonymous PKINIT, then TGS, recorded.
    as_reqs = [decode(_ASReq, m, what="AS-REQ") for m in rec.requests
               if m[:1] == bytes([AS_REQ_TAG])]
    assert any(PaDataType.PA_PK_AS_REQ in padata_types(r["padata"]) for r in as_reqs)
    assert {str(to_principal(r["req_body"]["cname"], r["req_body"]["realm"])) for r in as_reqs} \
        == {f"WELLKNOWN/ANONYMOUS@{REALM}"}
    assert any(m[:1] == bytes([TGS_REQ_TAG]) for m in rec.requests)
    anon_cache = resolve(f"FILE:{run.anon_cc}")
    assert str(anon_cache.principal()) == FULLY_ANON
    # The user's cache was not used for the service ticket.
    assert len(resolve(f"FILE:{run.user_cc}").credentials()) == before
    # Nothing the initiator sent, and nothing the KDC answered, names the user ...
    assert leaks(rec.raw_sent) == []
    assert leaks(rec.requests) == []
    assert leaks(rec.replies) == []
    assert leaks(run.tokens) == []
    # ... including inside every ticket and authenticator it sent.
    opened = open_everything(rec.requests, run.tokens, RealmDB.open(setup.kdc_dir))
    assert opened.clients == [FULLY_ANON, FULLY_ANON]
    assert leaks(opened.plaintexts) == []
    # The acceptor learns only that the peer is anonymous (G1).
    name = run.acceptor.initiator_name
    assert name is not None and str(name) == FULLY_ANON and name.name_type == NT_ANONYMOUS
    assert run.acceptor.actual_flags & GSSFlag.ANON


def test_keytab_is_the_hosts(setup: Setup) -> None:
    """The acceptor key the opener and acceptor rely on is the KDC's key for the host."""
    entries = Keytab.resolve(f"FILE:{setup.keytab}").entries()
    db_entry = RealmDB.open(setup.kdc_dir).lookup(Principal.parse(HOST))
    assert db_entry is not None
    assert {(e.enctype, e.key) for e in entries} == {
        (k.enctype, k.key.contents) for k in db_entry.keys
    }
