"""The plugin's extern "Python" functions: C arguments in, :mod:`gssmech._plugin.mech` calls,
C outputs back (DESIGN.md "The plugin library").

Imported by the library's cffi init code, which hands over the embedded module's ``ffi`` and
``lib``; :func:`install` attaches one function per ``extern "Python"`` declaration of
cdefs/gssmech_plugin.cdef.  Contract with the C wrappers (cdefs/plugin.c): return 1 = handled,
with major/minor written.  A :class:`~gssmech.errors.GSSMechError` is a handled GSS error
(:func:`gssmech.errors.status_of`); any other exception is logged and returns 0, which C turns
into GSS_S_FAILURE with ``Minor.PYTHON_EXCEPTION`` -- never success.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gssmech._plugin import mech
from gssmech.environ import ENVIRON
from gssmech.errors import GSS_S_COMPLETE, GSS_S_FAILURE, GSSMechError, Minor, status_of
from gssmech.gss.oids import Oid

if TYPE_CHECKING:
    from gssmech.gss.checksum import ChannelBindings

log = logging.getLogger("gssmech.plugin")

#: Test hook: "handler" makes every handler raise (proves the fail-closed path).  It can only
#: turn successes into failures.
TEST_BREAK_ENV = "GSSMECH_PLUGIN_TEST_BREAK"
#: Distinct OIDs kept decoded (a caller could pass arbitrarily many).
_OID_MEMO_LIMIT = 32


class OutOfMemory(GSSMechError):
    MAJOR = GSS_S_FAILURE
    MINOR = Minor.GENERIC


def _onerror(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    try:
        log.error("gssmech plugin: unexpected exception", exc_info=(exc_type, exc, tb))
    except Exception:
        pass


class _QuietFileHandler(logging.FileHandler):
    """A trace file that cannot be written is not worth a report on stderr either."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def quiet_c_host_logging() -> None:
    """A C host has no logging configuration for us, and its stderr may be a client's socket
    (inetd): like MIT's libraries we print nothing there.  Reports of unexpected exceptions and
    Python warnings go to the file ``KRB5_TRACE`` names (MIT's trace variable, e.g.
    ``/dev/stderr``), if any; a Python host's own logging configuration is left alone."""
    path = ENVIRON.get("KRB5_TRACE")
    handler = _QuietFileHandler(path, delay=True) if path else logging.NullHandler()
    # Python warnings (a dependency's deprecation notice) would go to stderr too.
    logging.captureWarnings(True)
    for logger in (log, logging.getLogger("py.warnings")):
        logger.propagate = False
        logger.addHandler(handler)


def install(ffi: Any, lib: Any) -> None:
    """Attach every dispatcher function to the embedded module ``lib``."""
    if lib.gssmech_c_host():
        quiet_c_host_logging()
    Marshal(ffi, lib).install()


class Marshal:
    """C <-> Python conversions bound to one embedded module's ``ffi``/``lib``."""

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi = ffi
        self.lib = lib
        # Bound once: every call converts a few buffers, and these lookups add up.
        self._null = ffi.NULL
        self._buffer = ffi.buffer
        self._buffer_set = lib.gssmech_buffer_set
        #: Decoded OIDs by DER: the mechglue passes the same few (our mech, name types) on
        #: nearly every call.  Oid is immutable; a malformed one raises and is not kept.
        self._oids: dict[bytes, Oid] = {}

    # --- conversions ------------------------------------------------------------------------
    def data(self, buf: Any) -> bytes:
        if buf == self._null:
            return b""
        length = buf.length
        if length == 0 or buf.value == self._null:
            return b""
        return self._buffer(buf.value, length)[:]

    def oid(self, oid: Any) -> Oid | None:
        if oid == self._null or oid.length == 0:
            return None
        der = self._buffer(oid.elements, oid.length)[:]
        known = self._oids.get(der)
        if known is None:
            known = Oid(der)
            if len(self._oids) < _OID_MEMO_LIMIT:
                self._oids[der] = known
        return known

    def put(self, out: Any, value: bytes) -> None:
        if self._buffer_set(out, value, len(value)) != 0:
            raise OutOfMemory("out of memory")

    def store(self, kv: Any) -> dict[str, str] | None:
        if kv == self.ffi.NULL:
            return None
        result: dict[str, str] = {}
        for i in range(kv.count):
            el = kv.elements[i]
            result[self.ffi.string(el.key).decode()] = self.ffi.string(el.value).decode()
        return result

    def bindings(self, cb: Any) -> ChannelBindings | None:
        if cb == self.ffi.NULL:
            return None
        from gssmech.gss.checksum import ChannelBindings

        return ChannelBindings(
            application_data=self.data(self.ffi.addressof(cb.application_data)),
            initiator_addrtype=int(cb.initiator_addrtype),
            initiator_address=self.data(self.ffi.addressof(cb.initiator_address)),
            acceptor_addrtype=int(cb.acceptor_addrtype),
            acceptor_address=self.data(self.ffi.addressof(cb.acceptor_address)),
        )

    # --- registration -------------------------------------------------------------------------
    def _extern(self, name: str, fn: Callable[..., int | tuple[int, int] | None]) -> None:
        breaking = ENVIRON.get(TEST_BREAK_ENV) == "handler"

        def handler(major_p: Any, minor_p: Any, *args: Any) -> int:
            if breaking:
                raise RuntimeError(f"{name}: broken on purpose ({TEST_BREAK_ENV}=handler)")
            try:
                result = fn(*args)
            except GSSMechError as exc:
                major, minor = status_of(exc)
                mech.remember_error(minor, str(exc))
            else:
                if isinstance(result, tuple):
                    major, minor = result
                else:
                    major, minor = (GSS_S_COMPLETE if result is None else result), 0
            major_p[0] = major
            minor_p[0] = minor
            return 1

        handler.__name__ = name
        self.ffi.def_extern(name=name, error=0, onerror=_onerror)(handler)

    def install(self) -> None:
        for name in dir(self):
            if name.startswith("py_"):
                self._extern(name, getattr(self, name))

    # --- names ----------------------------------------------------------------------------------
    def py_import_name(self, buf: Any, nt: Any, mech_oid: Any, out_id: Any) -> None:
        out_id[0] = mech.import_name(self.data(buf), self.oid(nt), self.oid(mech_oid))

    def py_display_name(self, hid: int, out: Any, code_p: Any) -> None:
        text, code = mech.display_name(hid)
        self.put(out, text)
        code_p[0] = code

    def py_compare_name(self, a: int, b: int, equal_p: Any) -> None:
        equal_p[0] = 1 if mech.compare_name(a, b) else 0

    def py_duplicate_name(self, hid: int, out_id: Any) -> None:
        out_id[0] = mech.duplicate_name(hid)

    def py_export_name(self, hid: int, out: Any) -> None:
        self.put(out, mech.export_name(hid))

    def py_release(self, kind: int, hid: int) -> None:
        mech.release(kind, hid)

    # --- credentials ------------------------------------------------------------------------------
    def py_acquire_cred(
        self, name: int, time_req: int, usage: int, kv: Any, out_id: Any, life_p: Any
    ) -> None:
        cred_id, life = mech.acquire_cred(name, time_req, usage, self.store(kv))
        out_id[0] = cred_id
        life_p[0] = life

    def py_inquire_cred(
        self, cred: int, want_name: int, name_p: Any, il_p: Any, al_p: Any, usage_p: Any
    ) -> None:
        name_p[0], il_p[0], al_p[0], usage_p[0] = mech.inquire_cred(cred, bool(want_name))

    def py_store_cred(
        self, cred: int, usage: int, overwrite: int, default: int, kv: Any, usage_p: Any
    ) -> None:
        usage_p[0] = mech.store_cred(cred, usage, bool(overwrite), bool(default), self.store(kv))

    # --- contexts -------------------------------------------------------------------------------
    def py_init_sec_context(
        self,
        cred: int,
        ctx_p: Any,
        target: int,
        mech_oid: Any,
        req_flags: int,
        time_req: int,
        cb: Any,
        token: Any,
        out: Any,
        flags_p: Any,
        life_p: Any,
    ) -> int:
        oid = self.oid(mech_oid)
        assert oid is not None  # C always passes its (learned or default) OID
        res = mech.init_sec_context(
            cred, ctx_p[0], target, oid, req_flags, time_req, self.bindings(cb), self.data(token)
        )
        return self._step(res, ctx_p, out, flags_p, life_p)

    def py_accept_sec_context(
        self,
        cred: int,
        ctx_p: Any,
        mech_oid: Any,
        token: Any,
        cb: Any,
        want_src: int,
        src_p: Any,
        out: Any,
        flags_p: Any,
        life_p: Any,
    ) -> int:
        oid = self.oid(mech_oid)
        assert oid is not None
        try:
            res = mech.accept_sec_context(
                cred, ctx_p[0], oid, self.data(token), self.bindings(cb), bool(want_src)
            )
        except GSSMechError as exc:
            if exc.token:  # a KRB-ERROR token for the initiator (RFC 4121 §4.1)
                self.put(out, exc.token)
            raise
        src_p[0] = res.src_id
        return self._step(res, ctx_p, out, flags_p, life_p)

    def _step(self, res: mech.StepOutput, ctx_p: Any, out: Any, flags_p: Any, life_p: Any) -> int:
        ctx_p[0] = res.ctx_id
        self.put(out, res.token)
        flags_p[0] = res.flags
        life_p[0] = res.lifetime
        return res.major

    def py_context_time(self, ctx: int, life_p: Any) -> int:
        major, life_p[0] = mech.context_time(ctx)
        return major

    def py_inquire_context(
        self,
        ctx: int,
        want_src: int,
        want_targ: int,
        src_p: Any,
        targ_p: Any,
        life_p: Any,
        flags_p: Any,
        local_p: Any,
        open_p: Any,
    ) -> None:
        src, targ, life, flags, local, is_open = mech.inquire_context(
            ctx, bool(want_src), bool(want_targ)
        )
        src_p[0], targ_p[0], life_p[0], flags_p[0] = src, targ, life, flags
        local_p[0], open_p[0] = int(local), int(is_open)

    def py_process_context_token(self, ctx: int, token: Any) -> None:
        mech.process_context_token(ctx, self.data(token))

    def py_export_sec_context(self, ctx: int, out: Any) -> None:
        self.put(out, mech.export_sec_context(ctx))

    def py_import_sec_context(self, token: Any, ctx_p: Any) -> None:
        ctx_p[0] = mech.import_sec_context(self.data(token))

    # --- per-message ----------------------------------------------------------------------------
    def py_wrap(self, ctx: int, conf_req: int, qop: int, msg: Any, conf_p: Any, out: Any) -> None:
        token, conf = mech.wrap(ctx, bool(conf_req), qop, self.data(msg))
        self.put(out, token)
        conf_p[0] = int(conf)

    def py_unwrap(self, ctx: int, token: Any, out: Any, conf_p: Any, qop_p: Any) -> int:
        message, conf, qop, supplementary = mech.unwrap(ctx, self.data(token))
        self.put(out, message)
        conf_p[0], qop_p[0] = int(conf), qop
        return supplementary  # the major: GSS_S_COMPLETE or supplementary bits only

    def py_get_mic(self, ctx: int, qop: int, msg: Any, out: Any) -> None:
        self.put(out, mech.get_mic(ctx, qop, self.data(msg)))

    def py_verify_mic(self, ctx: int, msg: Any, token: Any, qop_p: Any) -> int:
        qop_p[0], supplementary = mech.verify_mic(ctx, self.data(msg), self.data(token))
        return supplementary

    def py_wrap_size_limit(
        self, ctx: int, conf_req: int, qop: int, size: int, limit_p: Any
    ) -> None:
        limit_p[0] = mech.wrap_size_limit(ctx, bool(conf_req), qop, size)

    def py_pseudo_random(self, ctx: int, prf_key: int, data: Any, length: int, out: Any) -> None:
        self.put(out, mech.pseudo_random(ctx, prf_key, self.data(data), length))

    # --- status ---------------------------------------------------------------------------------
    def py_display_status(self, value: int, status_type: int, out: Any) -> None:
        self.put(out, mech.display_status(value, status_type).encode("utf-8"))
