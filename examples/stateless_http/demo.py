"""Run the whole example on loopback: an embedded KDC, a shared ticket key directory, two
server processes and the client.  ``python demo.py`` prints the client's steps.

Everything lives in a temporary directory; nothing system-wide is read or written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gssmech.ccache import Keytab, KeytabEntry
from gssmech.kdc.realm import client_krb5_conf, init_realm, load_settings, open_kdc
from gssmech.kdc.server import ThreadedKDC
from gssmech.krb5.principal import Principal
from gssmech.tlsticket.keydir import init_key_directory

HERE = Path(__file__).resolve().parent
REALM = "STATELESS.TEST"
SERVICE = f"host/localhost@{REALM}"


class Demo:
    """The KDC (a thread in this process) and two servers (child processes)."""

    def __init__(self, workdir: Path, *, shared_keys: bool = True) -> None:
        self.dir = Path(workdir)
        self.shared_keys = shared_keys
        self.kdc: ThreadedKDC | None = None
        self.servers: list[subprocess.Popen[str]] = []
        self.urls: list[str] = []

    def __enter__(self) -> Demo:
        try:
            self._realm()
            self._servers()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- setup ----------------------------------------------------------------------------
    def _realm(self) -> None:
        kdc_dir = self.dir / "kdc"
        db = init_realm(kdc_dir, REALM, listen=("127.0.0.1:0",))
        entry = db.add_principal(Principal.parse(SERVICE))
        keytab = Keytab.resolve(f"FILE:{self.dir / 'service.keytab'}")
        for key in entry.keys:
            keytab.add(KeytabEntry(entry.principal, int(time.time()), key.kvno, key.enctype,
                                   key.key.contents))
        self.kdc = ThreadedKDC(open_kdc(kdc_dir), [("127.0.0.1", 0)]).start()
        port = self.kdc.address[1]
        settings = dataclasses.replace(load_settings(kdc_dir), listen=(f"127.0.0.1:{port}",))
        conf = client_krb5_conf(settings, kdc_dir)
        # The fleet's ticket key directory, named in krb5.conf (GSSMECH_TICKET_KEYS also works).
        keys = self.dir / "ticket-keys"
        init_key_directory(keys)
        conf = conf.replace("[libdefaults]\n", f"[libdefaults]\n    gssmech_ticket_keys = {keys}\n")
        (self.dir / "krb5.conf").write_text(conf)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KRB5", "GSSMECH_"))}  # nothing from the caller's setup
        env.update(
            KRB5_CONFIG=str(self.dir / "krb5.conf"),
            KRB5_KTNAME=f"FILE:{self.dir / 'service.keytab'}",
            KRB5CCNAME=f"FILE:{self.dir / 'user.cc'}",
            GSSMECH_ANON_CCACHE=f"FILE:{self.dir / 'anon.cc'}",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def _servers(self) -> None:
        for name in ("server-1", "server-2"):
            cmd = [sys.executable, str(HERE / "server.py"), "--name", name]
            if not self.shared_keys:  # each its own directory: $GSSMECH_TICKET_KEYS wins
                own = self.dir / f"keys-{name}"
                init_key_directory(own)
                cmd += ["--ticket-keys", str(own)]
            proc = subprocess.Popen(cmd, env=self.env(), stdout=subprocess.PIPE, text=True)
            self.servers.append(proc)
            assert proc.stdout is not None
            line = proc.stdout.readline()  # "listening on http://127.0.0.1:PORT"
            if not line.startswith("listening on "):
                raise RuntimeError(f"{name} did not start: {line!r}")
            self.urls.append(line.split()[-1])

    # --- use ------------------------------------------------------------------------------
    def client(self, *messages: str, login: int = 0, to: tuple[int, ...] = (1, 0),
               timeout: float = 15) -> list[dict[str, Any]]:
        cmd = [sys.executable, str(HERE / "client.py"), "--login", self.urls[login]]
        for i in to:
            cmd += ["--to", self.urls[i]]
        done = subprocess.run([*cmd, *messages], env=self.env(), capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0 and not done.stdout:
            raise RuntimeError(f"client failed: {done.stderr}")
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    def close(self) -> None:
        for proc in self.servers:
            proc.terminate()
        for proc in self.servers:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self.servers.clear()
        if self.kdc is not None:
            self.kdc.stop()
            self.kdc = None


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gssmech-stateless-") as tmp, Demo(Path(tmp)) as demo:
        for step in demo.client("hello from an anonymous client", "second message",
                                "third message"):
            print(json.dumps(step, indent=None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
