"""An MIT krb5 GSS peer (python-gssapi, MIT's built-in krb5 mechanism) driven over stdin/stdout.

Run it in a subprocess whose environment is the MIT realm's (KRB5_CONFIG, KRB5CCNAME,
KRB5_KTNAME): python-gssapi reads them once per process, so every test gets a fresh peer.
One JSON object per line in, one per line out; bytes travel as hex.  Operations::

    {"op": "init", "target": "host@localhost", "flags": 2, "cb": null} -> {"token", "complete"}
    {"op": "step", "token": ...}                     -> {"token", "complete", ...}
    {"op": "accept", "token": ..., "cb": null}       -> {"token", "complete", "initiator_name",
                                                         "name_type", "flags"}
    {"op": "wrap", "msg": ..., "conf": true}         -> {"token"}
    {"op": "unwrap", "token": ...}                   -> {"msg", "conf"}
    {"op": "mic", "msg": ...}                        -> {"token"}
    {"op": "verify", "msg": ..., "token": ...}       -> {}
    {"op": "prf", "key": 1, "input": ..., "len": 32} -> {"out"}

Failures answer ``{"error": text, "major": int}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def _h(b: bytes | None) -> str | None:
    return None if b is None else bytes(b).hex()


def _b(h: str | None) -> bytes | None:
    return None if h is None else bytes.fromhex(h)


class _Peer:
    def __init__(self) -> None:
        import gssapi

        self.gssapi = gssapi
        self.ctx: Any = None
        self.raw_ctx: Any = None

    def _cb(self, cb: str | None) -> Any:
        if cb is None:
            return None
        return self.gssapi.raw.ChannelBindings(application_data=_b(cb))

    def op_init(self, req: dict[str, Any]) -> dict[str, Any]:
        g = self.gssapi
        name = g.Name(req["target"], g.NameType.hostbased_service)
        self.ctx = g.SecurityContext(
            name=name, usage="initiate", mech=g.MechType.kerberos,
            flags=[g.RequirementFlag(1 << i) for i in range(16) if req.get("flags", 2) >> i & 1],
            channel_bindings=self._cb(req.get("cb")),
        )
        token = self.ctx.step()
        return {"token": _h(token), "complete": self.ctx.complete}

    def op_step(self, req: dict[str, Any]) -> dict[str, Any]:
        token = self.ctx.step(_b(req["token"]))
        return {"token": _h(token), "complete": self.ctx.complete,
                "flags": int(self.ctx.actual_flags)}

    def op_accept(self, req: dict[str, Any]) -> dict[str, Any]:
        g = self.gssapi
        creds = g.Credentials(usage="accept")
        self.ctx = g.SecurityContext(creds=creds, usage="accept",
                                     channel_bindings=self._cb(req.get("cb")))
        token = self.ctx.step(_b(req["token"]))
        if not self.ctx.complete:
            # NB(python-gssapi): a failed accept that produced a KRB-ERROR token returns it
            # instead of raising.
            return {"token": _h(token), "complete": False}
        name = self.ctx.initiator_name
        return {
            "token": _h(token),
            "complete": self.ctx.complete,
            "initiator_name": str(name),
            "name_type": name.name_type.dotted_form if name.name_type else None,
            "flags": int(self.ctx.actual_flags),
        }

    def op_wrap(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"token": _h(self.ctx.wrap(_b(req["msg"]), req.get("conf", True)).message)}

    def op_unwrap(self, req: dict[str, Any]) -> dict[str, Any]:
        res = self.ctx.unwrap(_b(req["token"]))
        return {"msg": _h(res.message), "conf": bool(res.encrypted)}

    def op_mic(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"token": _h(self.ctx.get_signature(_b(req["msg"])))}

    def op_verify(self, req: dict[str, Any]) -> dict[str, Any]:
        self.ctx.verify_signature(_b(req["msg"]), _b(req["token"]))
        return {}

    def op_prf(self, req: dict[str, Any]) -> dict[str, Any]:
        """gss_pseudo_random through ctypes: this python-gssapi build lacks ext_rfc4401, so the
        context is exported from python-gssapi and imported into libgssapi_krb5 directly
        (which ends the python-gssapi context: call this last)."""
        import ctypes

        class Buf(ctypes.Structure):
            _fields_ = [("length", ctypes.c_size_t), ("value", ctypes.c_void_p)]

        lib = ctypes.CDLL("libgssapi_krb5.so.2")
        if self.raw_ctx is None:
            token = self.ctx.export()
            raw = ctypes.create_string_buffer(token, len(token))
            handle = ctypes.c_void_p()
            minor = ctypes.c_uint32()
            major = lib.gss_import_sec_context(
                ctypes.byref(minor), ctypes.byref(Buf(len(token), ctypes.addressof(raw))),
                ctypes.byref(handle),
            )
            if major:
                raise RuntimeError(f"gss_import_sec_context major {major:#x}")
            self.raw_ctx = handle
        data = _b(req["input"]) or b""
        inp = ctypes.create_string_buffer(data, len(data))
        out = Buf()
        minor = ctypes.c_uint32()
        major = lib.gss_pseudo_random(
            ctypes.byref(minor), self.raw_ctx, ctypes.c_int(req["key"]),
            ctypes.byref(Buf(len(data), ctypes.addressof(inp))), ctypes.c_ssize_t(req["len"]),
            ctypes.byref(out),
        )
        if major:
            raise RuntimeError(f"gss_pseudo_random major {major:#x} minor {minor.value}")
        result = ctypes.string_at(out.value, out.length)
        lib.gss_release_buffer(ctypes.byref(minor), ctypes.byref(out))
        return {"out": _h(result)}


def main() -> None:
    peer = _Peer()
    for line in sys.stdin:
        req = json.loads(line)
        try:
            resp = getattr(peer, "op_" + req["op"])(req)
        except Exception as exc:  # report every failure to the test, keep serving
            # python-gssapi keeps a failed step's output token (a KRB-ERROR) on the exception
            resp = {"error": f"{type(exc).__name__}: {exc}",
                    "major": getattr(exc, "maj_code", None),
                    "token": _h(getattr(exc, "token", None))}
        sys.stdout.write(json.dumps(resp) + "\n")
        sys.stdout.flush()


class MITPeer:
    """Test-side handle: starts ``python mit_peer.py`` with ``env`` and exchanges JSON lines."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )

    def call(self, op: str, **kw: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        kw = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in kw.items()}
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("MIT peer exited")
        return json.loads(line)

    def ok(self, op: str, **kw: Any) -> dict[str, Any]:
        resp = self.call(op, **kw)
        if "error" in resp:
            raise AssertionError(f"MIT peer {op} failed: {resp['error']}")
        return resp

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    main()
