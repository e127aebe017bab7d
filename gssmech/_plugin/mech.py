"""The plugin's view of the mechanism: GSS SPI operations on plain Python values.

The dispatcher (:mod:`gssmech._plugin.dispatch`) turns C arguments into bytes, ints and
:class:`~gssmech.gss.oids.Oid` and calls the functions here; this module is the only one that
knows how :mod:`gssmech.gss` is wired (python-gssapi-shaped :mod:`gssmech.gss.api`), so wiring
changes stay in one place.  It never sees cffi, and is tested without the library.

Handles (RFC 2744 §3.4 opaque types): the C side owns a small allocation carrying a 64-bit id;
the id maps to a Python object in :data:`HANDLES`.  Operations on a dict are atomic under the
GIL, and releasing an id imports nothing, so release works during interpreter shutdown.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gssmech.errors import (
    GSS_S_BAD_NAME,
    GSS_S_BAD_QOP,
    GSS_S_COMPLETE,
    GSS_S_CONTEXT_EXPIRED,
    GSS_S_CONTINUE_NEEDED,
    GSS_S_FAILURE,
    GSS_S_NO_CONTEXT,
    GSS_S_NO_CRED,
    GSSMechError,
    Minor,
)
from gssmech.gss import display, names, oids
from gssmech.gss.flags import GSSFlag
from gssmech.gss.oids import Oid
from gssmech.krb5 import config

if TYPE_CHECKING:
    from gssmech.gss import api
    from gssmech.gss.checksum import ChannelBindings

#: RFC 2744 §3.9.4 lifetimes and usages.
GSS_C_INDEFINITE = 0xFFFFFFFF
USAGES = {0: "both", 1: "initiate", 2: "accept"}
USAGE_CODES = {v: k for k, v in USAGES.items()}
GSS_C_GSS_CODE = 1
GSS_C_QOP_DEFAULT = 0

#: Name types as the C side's table of libgssapi's exported OID variables (cdefs/plugin.c
#: ``nt_from_code``): the mechglue frees any other name-type pointer we hand it.
NAME_TYPE_CODES: dict[Oid, int] = {
    oids.NT_USER_NAME: 1,
    oids.NT_MACHINE_UID_NAME: 2,
    oids.NT_STRING_UID_NAME: 3,
    oids.NT_HOSTBASED_SERVICE: 4,
    oids.NT_ANONYMOUS: 5,
    oids.NT_EXPORT_NAME: 6,
    oids.NT_KRB5_PRINCIPAL_NAME: 7,
    oids.NT_HOSTBASED_SERVICE_X: 8,
}

KIND_NAME, KIND_CRED, KIND_CTX = 1, 2, 3


class BadQop(GSSMechError):
    """RFC 2743 §2.3.1/§2.3.3: a QOP the mechanism does not support is GSS_S_BAD_QOP, never
    silently the default (RFC 4121 defines no QOP values besides GSS_C_QOP_DEFAULT, 0)."""

    MAJOR = GSS_S_BAD_QOP
    MINOR = Minor.BAD_QOP


def _check_qop(qop: int) -> None:
    if qop != GSS_C_QOP_DEFAULT:
        raise BadQop(f"quality of protection {qop:#x} is not supported; use 0 (the default)")


class NoSuchHandle(GSSMechError):
    MAJOR = GSS_S_NO_CONTEXT
    MINOR = Minor.GENERIC


_MISSING_MAJOR = {KIND_NAME: GSS_S_BAD_NAME, KIND_CRED: GSS_S_NO_CRED, KIND_CTX: GSS_S_NO_CONTEXT}


class HandleTable:
    """id -> (kind, object); ids are never reused within a process."""

    def __init__(self) -> None:
        self._objects: dict[int, tuple[int, Any]] = {}
        self._ids = itertools.count(1)

    def add(self, kind: int, obj: Any) -> int:
        hid = next(self._ids)
        self._objects[hid] = (kind, obj)
        return hid

    def get(self, kind: int, hid: int) -> Any:
        entry = self._objects.get(hid)
        if entry is None or entry[0] != kind:
            exc = NoSuchHandle(f"no {('name', 'credential', 'context')[kind - 1]} with id {hid}")
            exc.MAJOR = _MISSING_MAJOR[kind]  # type: ignore[misc]
            raise exc
        return entry[1]

    def discard(self, kind: int, hid: int) -> None:
        entry = self._objects.get(hid)
        if entry is not None and entry[0] == kind:
            self._objects.pop(hid, None)

    def __len__(self) -> int:
        return len(self._objects)


HANDLES = HandleTable()


_api_module: Any = None


def _api() -> Any:
    """gssmech.gss.api, imported on first use: name-only and discovery work (the first call a
    process makes is often a name import) should not pay for the context machinery.  Kept
    once imported: the import statement costs microseconds on every context."""
    global _api_module
    if _api_module is None:
        from gssmech.gss import api

        _api_module = api
    return _api_module


#: The last OID use_mech accepted.  The dispatcher hands over the same (memoized) Oid object on
#: every call, so an identity check makes the usual case free.
_used_mech: Oid | None = None


def use_mech(mech: Oid) -> None:
    """The OID our mech.d line registered (learned by the C side from the mechglue) becomes the
    native mechanism's (gssmech.gss.oids.register_native_mech), once."""
    global _used_mech
    if mech is _used_mech:
        return
    if mech != oids.KRB5_MECH and mech != oids.native_mech():
        oids.register_native_mech(mech)
    _used_mech = mech


# --- names (RFC 2743 §2.4) ---------------------------------------------------------------------
#: Name types whose import depends only on the buffer, the mechanism and krb5.conf plus the host
#: name (RealmConfig: default realm, [domain_realm], host name): such imports are reused while
#: all of those are unchanged.  The mechglue imports the target name again on every
#: init_sec_context call (MIT g_init_sec_context.c, gssint_import_internal_name), so twice per
#: context.  The uid types consult the password database and are never reused.
_REUSABLE_NAME_TYPES: frozenset[Oid | None] = frozenset(
    {
        None,
        oids.NT_HOSTBASED_SERVICE,
        oids.NT_HOSTBASED_SERVICE_X,
        oids.NT_USER_NAME,
        oids.NT_KRB5_PRINCIPAL_NAME,
    }
)
_NameKey = tuple[bytes, Oid | None, Oid]
#: Imported MNs (immutable GSSName values, safe to share between handles) with the profile and
#: host name they were made under; failures never enter.  The profile memo
#: (gssmech.krb5.config) returns the same immutable Profile object while krb5.conf is unchanged,
#: and an entry holds its profile, so identity is a sound check.
_NAME_MEMO: dict[_NameKey, tuple[Any, str, names.GSSName]] = {}
_NAME_MEMO_LIMIT = 64


def import_name(data: bytes, name_type: Oid | None, mech: Oid) -> int:
    """The mechglue imports lazily for one mechanism, so the result is always an MN of ours."""
    use_mech(mech)
    if name_type not in _REUSABLE_NAME_TYPES:
        return HANDLES.add(KIND_NAME, _import_mn(data, name_type, mech, None))
    profile = config.load_default()
    host = socket.gethostname()
    key = (data, name_type, mech)
    hit = _NAME_MEMO.get(key)
    if hit is not None and hit[0] is profile and hit[1] == host:
        return HANDLES.add(KIND_NAME, hit[2])
    name = _import_mn(data, name_type, mech, names.realm_config(profile, host))
    if len(_NAME_MEMO) >= _NAME_MEMO_LIMIT:
        _NAME_MEMO.clear()  # one atomic call: safe against other threads (no iteration)
    _NAME_MEMO[key] = (profile, host, name)
    return HANDLES.add(KIND_NAME, name)


def _import_mn(
    data: bytes, name_type: Oid | None, mech: Oid, cfg: names.RealmConfig | None
) -> names.GSSName:
    name = names.import_name(data, name_type, config=cfg)
    return name if name.mech is not None else name.canonicalize(mech)


def display_name(hid: int) -> tuple[bytes, int]:
    text, nt = HANDLES.get(KIND_NAME, hid).display()
    return text.encode("utf-8"), NAME_TYPE_CODES.get(nt, 0) if nt is not None else 0


def compare_name(a: int, b: int) -> bool:
    return bool(HANDLES.get(KIND_NAME, a).compare(HANDLES.get(KIND_NAME, b)))


def duplicate_name(hid: int) -> int:
    return HANDLES.add(KIND_NAME, HANDLES.get(KIND_NAME, hid).duplicate())


def export_name(hid: int) -> bytes:
    return bytes(HANDLES.get(KIND_NAME, hid).export())


def release(kind: int, hid: int) -> None:
    HANDLES.discard(kind, hid)


# --- credentials (RFC 2743 §2.1, RFC 5588) ----------------------------------------------------
def _lifetime(value: int | None) -> int:
    return GSS_C_INDEFINITE if value is None else max(0, min(int(value), GSS_C_INDEFINITE - 1))


def acquire_cred(
    name_id: int, time_req: int, usage: int, store: Mapping[str, str] | None
) -> tuple[int, int]:
    name = HANDLES.get(KIND_NAME, name_id) if name_id else None
    lifetime = None if time_req in (0, GSS_C_INDEFINITE) else time_req
    cred = _api().Credentials(
        name=name,
        lifetime=lifetime,
        usage=USAGES.get(usage, "both"),
        store=store,  # type: ignore[arg-type]
    )
    return HANDLES.add(KIND_CRED, cred), _lifetime(cred.lifetime)


def _default_cred(cred_id: int, usage: str) -> api.Credentials:
    if cred_id:
        return HANDLES.get(KIND_CRED, cred_id)
    return _api().Credentials(usage=usage)  # type: ignore[arg-type]


def inquire_cred(cred_id: int, want_name: bool) -> tuple[int, int, int, int]:
    """-> (name id or 0, initiator lifetime, acceptor lifetime, usage code)."""
    cred = _default_cred(cred_id, "initiate")
    name_id = 0
    if want_name:
        name = cred.name
        if name is None:  # the mechglue would ask display_name about GSS_C_NO_NAME
            from gssmech.gss.creds import NoCredentials

            raise NoCredentials("the acceptor credential's keytab has no keys to name")
        name_id = HANDLES.add(KIND_NAME, name.gss_name)
    life = _lifetime(cred.lifetime)
    usage = cred.usage
    init_life = life if usage in ("initiate", "both") else 0
    accept_life = GSS_C_INDEFINITE if usage in ("accept", "both") else 0
    return name_id, init_life, accept_life, USAGE_CODES.get(usage, 0)


class AcceptorStoreUnsupported(GSSMechError):
    MAJOR = GSS_S_FAILURE  # as MIT's krb5 mech
    MINOR = Minor.GENERIC


def store_cred(
    cred_id: int, usage: int, overwrite: bool, default: bool, store: Mapping[str, str] | None
) -> int:
    """RFC 5588 GSS_Store_cred: only the initiator element (a ticket cache) can be stored, so
    that is the usage reported stored; asked for the acceptor element alone, nothing is."""
    if usage == USAGE_CODES["accept"]:
        raise AcceptorStoreUnsupported("storing acceptor credentials (keytabs) is not supported")
    cred: api.Credentials = HANDLES.get(KIND_CRED, cred_id)
    cred.store(store, overwrite=overwrite)
    return USAGE_CODES["initiate"]


# --- contexts (RFC 2743 §2.2) -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StepOutput:
    major: int
    ctx_id: int
    token: bytes
    flags: int
    lifetime: int
    src_id: int = 0


_PROT_READY = int(GSSFlag.PROT_READY)


def _step_output(
    ctx: api.SecurityContext, ctx_id: int, token: bytes | None, src_id: int = 0
) -> StepOutput:
    flags = int(ctx.actual_flags)
    if ctx.complete:
        return StepOutput(
            GSS_S_COMPLETE, ctx_id, token or b"", flags, _lifetime(ctx.lifetime), src_id
        )
    return StepOutput(GSS_S_CONTINUE_NEEDED, ctx_id, token or b"", flags & ~_PROT_READY, 0, src_id)


def init_sec_context(
    cred_id: int,
    ctx_id: int,
    target_id: int,
    mech: Oid,
    req_flags: int,
    time_req: int,
    bindings: ChannelBindings | None,
    token: bytes,
) -> StepOutput:
    use_mech(mech)
    if ctx_id:
        ctx: api.SecurityContext = HANDLES.get(KIND_CTX, ctx_id)
        out = ctx.step(token)
        return _step_output(ctx, ctx_id, out)
    target = HANDLES.get(KIND_NAME, target_id)
    cred = HANDLES.get(KIND_CRED, cred_id) if cred_id else None
    ctx = _api().SecurityContext(
        name=target,
        creds=cred,
        lifetime=None if time_req in (0, GSS_C_INDEFINITE) else time_req,
        flags=req_flags,
        mech=mech,
        channel_bindings=bindings,
        usage="initiate",
    )
    out = ctx.step(token or None)
    # Registered only after a successful first step: the mechglue never deletes a context
    # whose first call failed.
    return _step_output(ctx, HANDLES.add(KIND_CTX, ctx), out)


def accept_sec_context(
    cred_id: int,
    ctx_id: int,
    mech: Oid,
    token: bytes,
    bindings: ChannelBindings | None,
    want_src: bool,
) -> StepOutput:
    use_mech(mech)
    if ctx_id:
        ctx: api.SecurityContext = HANDLES.get(KIND_CTX, ctx_id)
    else:
        cred = HANDLES.get(KIND_CRED, cred_id) if cred_id else None
        ctx = _api().SecurityContext(creds=cred, channel_bindings=bindings, usage="accept")
    out = ctx.step(token)
    if not ctx_id:
        ctx_id = HANDLES.add(KIND_CTX, ctx)
    src = ctx.initiator_name if (want_src and ctx.complete) else None
    src_id = HANDLES.add(KIND_NAME, src.gss_name) if src is not None else 0
    return _step_output(ctx, ctx_id, out, src_id)


def _ctx(ctx_id: int) -> api.SecurityContext:
    return HANDLES.get(KIND_CTX, ctx_id)


def context_time(ctx_id: int) -> tuple[int, int]:
    """-> (major, seconds left); RFC 2744 §5.7: GSS_S_CONTEXT_EXPIRED when none are.  A context
    still being established has no lifetime yet: GSS_S_NO_CONTEXT, as MIT says."""
    ctx = _ctx(ctx_id)
    if not ctx.complete:
        raise _api().ContextNotEstablished("context has not been established")
    left = ctx.lifetime
    return (GSS_S_COMPLETE, _lifetime(left)) if left > 0 else (GSS_S_CONTEXT_EXPIRED, 0)


def inquire_context(
    ctx_id: int, want_src: bool, want_targ: bool
) -> tuple[int, int, int, int, bool, bool]:
    """-> (src id, target id, lifetime, flags, locally initiated, open)."""
    ctx = _ctx(ctx_id)
    src = ctx.initiator_name if want_src else None
    targ = ctx.target_name if want_targ else None
    src_id = HANDLES.add(KIND_NAME, src.gss_name) if src is not None else 0
    targ_id = HANDLES.add(KIND_NAME, targ.gss_name) if targ is not None else 0
    life = _lifetime(ctx.lifetime) if ctx.complete else 0
    return (src_id, targ_id, life, int(ctx.actual_flags), ctx.locally_initiated, ctx.complete)


def process_context_token(ctx_id: int, token: bytes) -> None:
    _ctx(ctx_id).process_token(token)


def wrap(ctx_id: int, conf: bool, qop: int, message: bytes) -> tuple[bytes, bool]:
    _check_qop(qop)
    res = _ctx(ctx_id).wrap(message, conf)
    return bytes(res.message), bool(res.encrypted)


def unwrap(ctx_id: int, token: bytes) -> tuple[bytes, bool, int, int]:
    """-> (message, encrypted, qop, supplementary): out-of-sequence findings are the major
    status (RFC 2744 §5.31), not exceptions; a duplicate still delivers its message, as MIT."""
    res, supplementary = _ctx(ctx_id).unwrap_with_status(token)
    return bytes(res.message), bool(res.encrypted), int(res.qop), supplementary


def get_mic(ctx_id: int, qop: int, message: bytes) -> bytes:
    _check_qop(qop)
    return _ctx(ctx_id).get_signature(message)


def verify_mic(ctx_id: int, message: bytes, token: bytes) -> tuple[int, int]:
    """-> (qop, supplementary), as :func:`unwrap`."""
    return _ctx(ctx_id).verify_signature_with_status(message, token)


def wrap_size_limit(ctx_id: int, conf: bool, qop: int, output_size: int) -> int:
    _check_qop(qop)
    return max(0, _ctx(ctx_id).get_wrap_size_limit(output_size, conf))


def pseudo_random(ctx_id: int, prf_key: int, data: bytes, length: int) -> bytes:
    return _ctx(ctx_id).pseudo_random(prf_key, data, length)


def export_sec_context(ctx_id: int) -> bytes:
    """RFC 2743 §2.2.8: the context leaves this process (the C side releases the handle)."""
    token = _ctx(ctx_id).export()
    HANDLES.discard(KIND_CTX, ctx_id)
    return token


def import_sec_context(token: bytes) -> int:
    return HANDLES.add(KIND_CTX, _api().SecurityContext(token=token))


# --- status text (RFC 2744 §5.11) ---------------------------------------------------------------
#: The message of this thread's last failure, with its minor code: a minor code names a kind of
#: failure, the message says which cache, keytab, principal or KDC reply (MIT's krb5 mechanism
#: keeps the same per-thread pair, krb5_gss_save_error_info).
_LAST_ERROR = threading.local()
_PREFIX = "gssmech: "


def remember_error(minor: int, message: str) -> None:
    """Called for every handled failure; messages are ours (they never carry key material)."""
    _LAST_ERROR.saved = (minor, message if message.startswith(_PREFIX) else _PREFIX + message)


def display_status(value: int, status_type: int) -> str:
    if status_type != GSS_C_GSS_CODE:
        saved = getattr(_LAST_ERROR, "saved", None)
        if saved is not None and saved[0] == value:
            return str(saved[1])
    messages = display.display_status(value, is_major=status_type == GSS_C_GSS_CODE)
    return "; ".join(messages)
