"""The client: authenticate anonymously to one server, then talk to any server of the pair.

1. GSS_Init_sec_context with the anonymity flag (an anonymous PKINIT ticket: the servers learn
   only WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS) -> POST /login to the first URL.
2. The server's sealed context comes back in ``X-GSS-Context``; the client keeps it opaquely,
   like a cookie, and sends it with every message.
3. Each message is GSS_Wrap'ed and posted to the next URL in turn; the reply is GSS_Unwrap'ed.
   Whichever server answers resumes the context from the ticket (gss_import_sec_context) and
   hands back an updated one.

Run: KRB5_CONFIG=... GSSMECH_ANON_CCACHE=FILE:/tmp/anon.cc python client.py \\
        --login http://127.0.0.1:P1 --to http://127.0.0.1:P2 --to http://127.0.0.1:P1 hello
Prints one JSON object per step.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request
from typing import Any

from gssmech.errors import GSSMechError
from gssmech.gss.api import Name, NameType, RequirementFlag, SecurityContext
from gssmech.gss.names import RealmConfig
from gssmech.krb5 import config

CONTEXT_HEADER = "X-GSS-Context"
FLAGS = (RequirementFlag.anonymity | RequirementFlag.mutual_authentication
         | RequirementFlag.replay_detection | RequirementFlag.out_of_sequence_detection)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def login(ctx: SecurityContext, base_url: str) -> tuple[str, dict[str, Any]]:
    """One round trip: AP-REQ out, AP-REP and the sealed context back."""
    token = ctx.step()
    assert token is not None
    auth = "Negotiate " + base64.b64encode(token).decode()
    status, headers, body = post(base_url + "/login", b"", {"Authorization": auth})
    scheme, _, reply = headers.get("WWW-Authenticate", "").partition(" ")
    if status != 200:
        if status == 401 and scheme == "Negotiate" and reply:
            ctx.step(base64.b64decode(reply))  # the server's KRB-ERROR: raises, naming it
        raise SystemExit(f"login failed: {status} {body.decode(errors='replace')}")
    if scheme != "Negotiate":
        raise SystemExit(f"unexpected WWW-Authenticate scheme {scheme!r}")
    ctx.step(base64.b64decode(reply))
    if not ctx.complete:
        raise SystemExit("mutual authentication did not complete")
    return headers[CONTEXT_HEADER], json.loads(body)


def send(ctx: SecurityContext, url: str, ticket: str, text: str) -> tuple[str, dict[str, Any]]:
    wrapped = ctx.wrap(text.encode(), True).message
    status, headers, body = post(url + "/message", wrapped, {CONTEXT_HEADER: ticket})
    if status != 200:
        # a real client logs in again here (the ticket expired or the keys changed)
        return ticket, {"step": "message", "url": url, "status": status, **json.loads(body)}
    reply = ctx.unwrap(body).message.decode()
    renewed = headers.get("X-GSS-Ticket-Renewed") == "yes"
    return headers[CONTEXT_HEADER], {"step": "message", "url": url, "status": status,
                                     "reply": reply, "renewed": renewed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--login", required=True, metavar="URL", help="server to log in to")
    parser.add_argument("--to", action="append", required=True, metavar="URL",
                        help="server for the next message (repeat; used in turn)")
    parser.add_argument("--service", default="host@localhost", help="host-based service name")
    parser.add_argument("messages", nargs="+")
    args = parser.parse_args(argv)

    realms = RealmConfig.from_profile(config.load_default())
    target = Name(args.service, NameType.hostbased_service, config=realms)
    ctx = SecurityContext(name=target, flags=FLAGS, usage="initiate")
    try:
        ticket, info = login(ctx, args.login)
        print(json.dumps({"step": "login", "url": args.login, "ticket_bytes":
                          len(base64.b64decode(ticket)), **info}), flush=True)
        for i, text in enumerate(args.messages):
            ticket, result = send(ctx, args.to[i % len(args.to)], ticket, text)
            print(json.dumps(result), flush=True)
    except GSSMechError as exc:
        print(json.dumps({"step": "error", "error": str(exc), "major": exc.major,
                          "minor": exc.minor}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
