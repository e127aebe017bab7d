"""Capture golden Kerberos messages and files from a real MIT KDC into tests/data/mit/.

Runs the MIT fixture realm, points MIT's kinit/kvno at a recording TCP proxy (udp_preference_limit
= 1 forces TCP, RFC 4120 §7.2.2 framing), and saves every request and reply, plus the caches and
keytab involved and the secrets needed to open the encrypted parts (test-only realm).

    .venv/bin/python scripts/capture_mit_golden.py
"""

from __future__ import annotations

import json
import shutil
import socket
import struct
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.interop.mitrealm import MITRealm, free_port  # noqa: E402

OUT = ROOT / "tests" / "data" / "mit"
KIND = {0x6A: "as_req", 0x6B: "as_rep", 0x6C: "tgs_req", 0x6D: "tgs_rep", 0x7E: "krb_error"}


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("short read")
        buf += chunk
    return buf


class Recorder:
    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.messages: list[bytes] = []
        self.srv = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            with conn, socket.create_connection(("127.0.0.1", self.upstream)) as up:
                try:
                    (n,) = struct.unpack(">I", _recv_exact(conn, 4))
                    req = _recv_exact(conn, n)
                    up.sendall(struct.pack(">I", n) + req)
                    (m,) = struct.unpack(">I", _recv_exact(up, 4))
                    rep = _recv_exact(up, m)
                    conn.sendall(struct.pack(">I", m) + rep)
                    self.messages += [req, rep]
                except ConnectionError:
                    pass

    def take(self, prefix: str) -> list[str]:
        names = []
        counts: dict[str, int] = {}
        for msg in self.messages:
            kind = KIND.get(msg[0], f"unknown_{msg[0]:02x}")
            counts[kind] = counts.get(kind, 0) + 1
            name = f"{prefix}_{kind}_{counts[kind]}.der"
            (OUT / name).write_bytes(msg)
            names.append(name)
        self.messages = []
        return names


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        realm = MITRealm(Path(tmp)).create().start()
        try:
            rec = Recorder(realm.port)
            conf = Path(tmp) / "krb5.capture.conf"
            text = (Path(tmp) / "krb5.conf").read_text()
            text = text.replace(f"kdc = 127.0.0.1:{realm.port}", f"kdc = 127.0.0.1:{rec.port}")
            text = text.replace("udp_preference_limit = 1465", "udp_preference_limit = 1")
            conf.write_text(text)
            env = {"KRB5_CONFIG": str(conf)}
            made: dict[str, list[str]] = {}
            realm.kinit(realm.user, ccache=OUT / "cc.pw", env_extra=env)
            made["password kinit"] = rec.take("pw")
            realm.run(["kvno", "-c", str(OUT / "cc.pw"), realm.host_principal], env_extra=env)
            made["kvno with password TGT"] = rec.take("pw")
            realm.kinit("@" + realm.realm, flags=["-n"], ccache=OUT / "cc.anon", env_extra=env)
            made["anonymous PKINIT kinit -n"] = rec.take("anon")
            realm.run(["kvno", "-c", str(OUT / "cc.anon"), realm.host_principal], env_extra=env)
            made["kvno with anonymous TGT"] = rec.take("anon")
            shutil.copy(realm.keytab, OUT / "host.keytab")
            shutil.copy(realm.anchors, OUT / "ca.pem")
            shutil.copy(Path(tmp) / "kdc.pem", OUT / "kdc.pem")
            # The realm is throw-away; its secrets let tests open the encrypted parts.
            secrets = {
                "realm": realm.realm,
                "user": realm.user,
                "user_password": realm.user_password,
                "host_principal": realm.host_principal,
                "messages": made,
            }
            (OUT / "capture.json").write_text(json.dumps(secrets, indent=2) + "\n")
            print(json.dumps(made, indent=2))
        finally:
            realm.stop()


if __name__ == "__main__":
    main()
