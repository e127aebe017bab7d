"""A stateless HTTP-style server: authenticate once, then resume the GSS context from a ticket.

    POST /login     Authorization: Negotiate <base64 AP-REQ>
                    -> 200, WWW-Authenticate: Negotiate <base64 AP-REP>,
                       X-GSS-Context: <base64 sealed context>, JSON body about the peer
    POST /message   X-GSS-Context: <base64 sealed context>, body: a GSS wrap token
                    -> 200, body: a wrap token of the reply, X-GSS-Context: the context
                       re-exported (its sequence numbers moved on; under the current key)
    any GSS failure -> 401 with a JSON body {"error", "major", "minor"}: log in again

The server keeps nothing between requests.  gss_export_sec_context (SecurityContext.export)
seals the context with the key directory named by $GSSMECH_TICKET_KEYS (or krb5.conf
``gssmech_ticket_keys``), so every server holding that directory can resume it with
gss_import_sec_context (SecurityContext(token=...)).  Without a shared directory each process
has its own ephemeral keys and a context only resumes on the server that exported it.

Run: KRB5_CONFIG=... KRB5_KTNAME=... GSSMECH_TICKET_KEYS=DIR python server.py --name s1
It prints ``listening on http://127.0.0.1:PORT`` once ready.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gssmech.errors import GSSMechError
from gssmech.gss.api import Credentials, RequirementFlag, SecurityContext
from gssmech.gss.replaycache import MemoryReplayCache

CONTEXT_HEADER = "X-GSS-Context"
# One AP-REQ replay cache per server process (a real fleet shares a file cache: KRB5RCACHEDIR).
REPLAY_CACHE = MemoryReplayCache()


class Handler(BaseHTTPRequestHandler):
    server_name_label = "server"
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if self.path == "/login":
                self._login()
            elif self.path == "/message":
                self._message(body)
            else:
                self._reply(404, {"error": "no such endpoint"})
        except GSSMechError as exc:
            # python-gssapi style: the major/minor pair tells the client what went wrong; a
            # refused login's KRB-ERROR token (RFC 4121 §4.1) goes back as Negotiate data
            # (RFC 4559 §5), so the client's GSS library can say why.
            headers = {"WWW-Authenticate": "Negotiate " + base64.b64encode(exc.token).decode()
                       } if exc.token else {}
            self._reply(401, {"error": str(exc), "major": exc.major, "minor": exc.minor}, headers)
        except (ValueError, KeyError) as exc:  # bad base64 or a missing header
            self._reply(400, {"error": f"{type(exc).__name__}: {exc}"})

    def _login(self) -> None:
        scheme, _, token = self.headers["Authorization"].partition(" ")
        if scheme != "Negotiate":
            raise ValueError("expected Authorization: Negotiate")
        ctx = SecurityContext(creds=Credentials(usage="accept"), usage="accept",
                              replay_cache=REPLAY_CACHE)
        reply = ctx.step(base64.b64decode(token, validate=True))
        if not ctx.complete:
            raise ValueError("a Kerberos AP-REQ completes in one step")
        peer = ctx.initiator_name
        info = {
            "server": self.server_name_label,
            "pid": os.getpid(),
            "peer": str(peer),
            "anonymous": bool(ctx.actual_flags & RequirementFlag.anonymity),
        }
        headers = {CONTEXT_HEADER: base64.b64encode(ctx.export()).decode()}
        if reply is not None:
            headers["WWW-Authenticate"] = "Negotiate " + base64.b64encode(reply).decode()
        self._reply(200, info, headers)

    def _message(self, body: bytes) -> None:
        ticket = base64.b64decode(self.headers[CONTEXT_HEADER], validate=True)
        ctx = SecurityContext(token=ticket)  # gss_import_sec_context: nothing kept locally
        msg = ctx.unwrap(body).message
        answer = f"{self.server_name_label} (pid {os.getpid()}) read: ".encode() + msg
        wrapped = ctx.wrap(answer, True).message
        headers = {
            CONTEXT_HEADER: base64.b64encode(ctx.export()).decode(),
            "X-GSS-Ticket-Renewed": "yes" if ctx.ticket_renew else "no",
        }
        self._send(200, wrapped, "application/octet-stream", headers)

    def _reply(self, code: int, obj: object, headers: dict[str, str] | None = None) -> None:
        self._send(code, json.dumps(obj).encode(), "application/json", headers or {})

    def _send(self, code: int, data: bytes, ctype: str, headers: dict[str, str]) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.server_name_label}: {format % args}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="server", help="label shown in replies")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--ticket-keys", metavar="DIR", help="sets $GSSMECH_TICKET_KEYS")
    args = parser.parse_args(argv)
    if args.ticket_keys:
        os.environ["GSSMECH_TICKET_KEYS"] = args.ticket_keys
    handler = type("NamedHandler", (Handler,), {"server_name_label": args.name})
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    print(f"listening on http://127.0.0.1:{httpd.server_address[1]}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
