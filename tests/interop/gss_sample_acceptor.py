"""A one-connection acceptor for MIT's ``gss-client`` sample, over python-gssapi.

Run as a separate process (``python -m tests.interop.gss_sample_acceptor <mech OID hex>``) so
that ``GSS_MECH_CONFIG`` is read by libgssapi in a fresh process.  It speaks the sample
protocol of krb5 ``src/appl/gss-sample`` (gss-misc.c, non-v1 format): every token is one flag
byte, a 4-byte big-endian length and the data.  The client sends NOOP|CONTEXT_NEXT, then its
context tokens; then DATA tokens (WRAPPED/ENCRYPTED/SEND_MIC) each answered with a MIC of the
unwrapped message (or a NOOP); a final NOOP ends the session.

Prints ``port <n>`` once listening, then one JSON line describing what the acceptor learned
about the client.  Acceptor credential: ``Credentials(usage="accept", mechs=[OID])`` -- the
explicit credential the plugin's NOT_DFLT_MECH attribute requires (DESIGN.md "The plugin
library").
"""

from __future__ import annotations

import json
import socket
import struct
import sys
from typing import Any

# gss-misc.h token types and flags.
TOKEN_NOOP = 1 << 0
TOKEN_CONTEXT = 1 << 1
TOKEN_DATA = 1 << 2
TOKEN_MIC = 1 << 3
TOKEN_CONTEXT_NEXT = 1 << 4
TOKEN_WRAPPED = 1 << 5
TOKEN_ENCRYPTED = 1 << 6
TOKEN_SEND_MIC = 1 << 7

#: Bound on a token (the sample client sends a few KiB at most).
MAX_TOKEN = 1 << 20


class SampleProtocolError(Exception):
    """The peer broke the gss-sample framing (test helper only)."""


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise SampleProtocolError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def recv_token(sock: socket.socket) -> tuple[int, bytes]:
    flags = _read_exact(sock, 1)[0]
    if flags == 0:
        raise SampleProtocolError("v1 framing (flag byte 0) is not supported")
    (length,) = struct.unpack(">I", _read_exact(sock, 4))
    if length > MAX_TOKEN:
        raise SampleProtocolError(f"token of {length} bytes")
    return flags, _read_exact(sock, length)


def send_token(sock: socket.socket, flags: int, data: bytes) -> None:
    sock.sendall(bytes([flags]) + struct.pack(">I", len(data)) + data)


def serve_one(listener: socket.socket, oid_der: bytes) -> dict[str, Any]:
    import gssapi
    from gssapi.raw import RequirementFlag as F

    mech = gssapi.OID(elements=oid_der)
    creds = gssapi.Credentials(usage="accept", mechs=[mech])
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(30)
        flags, _ = recv_token(conn)
        if not (flags & TOKEN_NOOP and flags & TOKEN_CONTEXT_NEXT):
            raise SampleProtocolError(f"expected NOOP|CONTEXT_NEXT, got {flags:#x}")
        ctx = gssapi.SecurityContext(creds=creds, usage="accept")
        while not ctx.complete:
            flags, token = recv_token(conn)
            out = ctx.step(token)
            if out:
                send_token(conn, TOKEN_CONTEXT, out)
        result: dict[str, Any] = {
            "initiator": str(ctx.initiator_name),
            "initiator_type_anon": ctx.initiator_name.name_type == gssapi.NameType.anonymous,
            "anon_flag": bool(ctx.actual_flags & F.anonymity),
            "mutual_flag": bool(ctx.actual_flags & F.mutual_authentication),
            # Compared as DER: python-gssapi's dotted_form mis-decodes arcs >= 40 under 2.
            "mech_ok": ctx.mech == mech,
            "messages": [],
        }
        while True:
            flags, data = recv_token(conn)
            if flags & TOKEN_NOOP:
                break
            if flags & TOKEN_WRAPPED:
                res = ctx.unwrap(data)
                data, encrypted = res.message, res.encrypted
            else:
                encrypted = False
            result["messages"].append({"text": data.decode(), "encrypted": bool(encrypted)})
            if flags & TOKEN_SEND_MIC:
                send_token(conn, TOKEN_MIC, ctx.get_signature(data))
            else:
                send_token(conn, TOKEN_NOOP, b"")
    return result


def main(argv: list[str]) -> int:
    oid_der = bytes.fromhex(argv[1])
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(60)
        print(f"port {listener.getsockname()[1]}", flush=True)
        try:
            result = serve_one(listener, oid_der)
        except Exception as exc:  # reported to the test, which fails on it
            result = {"error": repr(exc)}
    print(json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
