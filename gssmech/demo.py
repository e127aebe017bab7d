"""``gssmech demo`` (``make demo``): anonymous Kerberos end to end on a throw-away realm.

1. ``gssmech kdc init`` / ``addprinc`` / ``ktadd`` / ``serve``: an embedded KDC on loopback.
2. ``gssmech kinit -n @REALM``: an anonymous TGT by anonymous PKINIT (seed §4.1).
3. A python-gssapi server and client, in two processes, through the system GSS library
   (MIT's mechglue) loading the gssmech plugin via ``GSS_MECH_CONFIG``; the client asks for
   GSS_C_ANON_FLAG.  The server prints what it learns about the client, then a wrapped
   message goes both ways.  Everything is stopped and removed at the end.

Each step prints the command it runs, so the demo doubles as a walk-through.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REALM = "DEMO.GSSMECH"
SERVICE = f"host/localhost@{REALM}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(env: dict[str, str], *args: str, show: bool = True) -> str:
    if show:
        print(f"$ gssmech {' '.join(args)}", flush=True)
    cp = subprocess.run(
        [sys.executable, "-m", "gssmech.cli", *args], env=env, capture_output=True, text=True
    )
    if cp.returncode != 0:
        raise SystemExit(f"gssmech {args[0]} failed:\n{cp.stdout}{cp.stderr}")
    if show and cp.stdout.strip():
        print("  " + cp.stdout.rstrip().replace("\n", "\n  "), flush=True)
    return cp.stdout


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start")


# --- the two python-gssapi peers (run as subprocesses: GSS_MECH_CONFIG is read at load) -----
def _send(sock: socket.socket, data: bytes) -> None:
    sock.sendall(struct.pack(">I", len(data)) + data)


def _recv(sock: socket.socket) -> bytes:
    head = sock.recv(4, socket.MSG_WAITALL)
    (n,) = struct.unpack(">I", head)
    return sock.recv(n, socket.MSG_WAITALL) if n else b""


def _say(line: str) -> None:
    """One write() per line: server and client share the terminal, and print() with several
    arguments issues several writes that the other process could interleave."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _mech() -> object:
    import gssapi

    from gssmech.gss.oids import native_mech

    # NB: python-gssapi's OID.from_int_seq cannot encode a first octet pair above 255
    # (2.999 -> 1079), so the OID is handed over as its DER content octets.
    return gssapi.OID(elements=native_mech(os.environ).der)


def peer_server(port: int, ready: Path) -> None:
    import gssapi
    import gssapi.raw as graw

    mech = _mech()
    creds = gssapi.Credentials(usage="accept", mechs=[mech])
    with socket.create_server(("127.0.0.1", port)) as srv:
        ready.touch()  # a probe connection would use up the one accept() below
        conn, _ = srv.accept()
        with conn:
            ctx = gssapi.SecurityContext(creds=creds, usage="accept")
            while not ctx.complete:
                out = ctx.step(_recv(conn))
                _send(conn, out or b"")
            name = graw.display_name(ctx.initiator_name, name_type=True)
            flags = ", ".join(sorted(f.name for f in ctx.actual_flags))
            anon = " (GSS_C_NT_ANONYMOUS)" if name.name_type == gssapi.NameType.anonymous else ""
            _say(f"server: the client is {name.name.decode()}")
            _say(f"server: name type    {name.name_type.dotted_form}{anon}")
            _say(f"server: flags        {flags}")
            msg = ctx.unwrap(_recv(conn))
            _say(f"server: unwrapped   {msg.message.decode()!r} (encrypted={msg.encrypted})")
            _send(conn, ctx.wrap(b"hello, whoever you are", True).message)


def peer_client(port: int) -> None:
    import gssapi

    mech = _mech()
    anon = gssapi.Name(b"", gssapi.NameType.anonymous)
    creds = gssapi.Credentials(name=anon, usage="initiate", mechs=[mech])
    target = gssapi.Name(SERVICE, gssapi.NameType.kerberos_principal)
    R = gssapi.RequirementFlag
    ctx = gssapi.SecurityContext(
        name=target,
        creds=creds,
        mech=mech,
        usage="initiate",
        flags=[
            R.anonymity,
            R.mutual_authentication,
            R.replay_detection,
            R.out_of_sequence_detection,
            R.confidentiality,
            R.integrity,
        ],
    )
    with socket.create_connection(("127.0.0.1", port)) as conn:
        token = ctx.step()
        while True:
            _send(conn, token or b"")
            reply = _recv(conn)
            if ctx.complete:
                break
            token = ctx.step(reply)
            if ctx.complete and not token:
                break
        _say("client: flags        " + ", ".join(sorted(f.name for f in ctx.actual_flags)))
        _send(conn, ctx.wrap(b"a message from an anonymous client", True).message)
        _say(f"client: unwrapped   {ctx.unwrap(_recv(conn)).message.decode()!r}")


# --- the driver -------------------------------------------------------------------------------
def main() -> int:
    from gssmech._plugin import config_line

    with tempfile.TemporaryDirectory(prefix="gssmech-demo-") as tmp:
        d = Path(tmp)
        kdc_port, app_port = _free_port(), _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("KRB5", "GSS"))},
            "KRB5_CONFIG": str(d / "realm" / "krb5.conf"),
            "KRB5CCNAME": f"FILE:{d / 'anon.cc'}",
            "KRB5_KTNAME": f"FILE:{d / 'host.keytab'}",
            "KRB5RCACHEDIR": str(d),
            "GSS_MECH_CONFIG": str(d / "mech.conf"),
        }
        print(f"== 1. an embedded KDC for {REALM} on 127.0.0.1:{kdc_port}")
        realm_dir = str(d / "realm")
        _run(env, "kdc", "init", "--realm", REALM, "--dir", realm_dir,
             "--listen", f"127.0.0.1:{kdc_port}")
        _run(env, "kdc", "addprinc", "--dir", realm_dir, "--randkey", SERVICE)
        _run(env, "kdc", "ktadd", "--dir", realm_dir, "-k", str(d / "host.keytab"), SERVICE)
        print(f"$ gssmech kdc serve --dir {realm_dir} &", flush=True)
        kdc = subprocess.Popen(
            [sys.executable, "-m", "gssmech.cli", "kdc", "serve", "--dir", realm_dir],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            _wait_port(kdc_port, kdc, "the KDC")
            print("\n== 2. an anonymous ticket by anonymous PKINIT")
            _run(env, "kinit", "-n", f"@{REALM}")
            _run(env, "klist", "-f")
            print("\n== 3. python-gssapi server and client through the system GSS library")
            (d / "mech.conf").write_text(config_line() + "\n")
            print(f"$ cat $GSS_MECH_CONFIG\n  {config_line()}", flush=True)
            me = [sys.executable, "-m", "gssmech.demo"]
            ready = d / "server.ready"
            server = subprocess.Popen([*me, "server", str(app_port), str(ready)], env=env)
            try:
                deadline = time.monotonic() + 30
                while not ready.exists():
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the server did not start")
                    time.sleep(0.05)
                client = subprocess.run([*me, "client", str(app_port)], env=env, timeout=60)
                if server.wait(timeout=60) != 0 or client.returncode != 0:
                    print("demo: the GSS exchange failed", file=sys.stderr)
                    return 1
            finally:
                if server.poll() is None:
                    server.kill()
        finally:
            kdc.terminate()
            kdc.wait(timeout=10)
    print("\n== done: KDC stopped, realm removed")
    return 0


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else "main"
    if role == "server":
        peer_server(int(sys.argv[2]), Path(sys.argv[3]))
    elif role == "client":
        peer_client(int(sys.argv[2]))
    else:
        sys.exit(main())
