"""GSS_Export_sec_context / GSS_Import_sec_context as sealed stateless tickets (RFC 2743
§2.2.8/§2.2.9, RFC 2744 §5.14/§5.25; DESIGN.md "How the parts meet"; issue 6).

An exported context is the established state (:meth:`EstablishedContext.export_state`: keys,
sequence state, flags incl. ANON, peer names, expiry, mech) sealed with the ticket key ring of
:mod:`gssmech.tlsticket` (draft-salowey-tls-ticket-07 §4, T1-T6).  The token is therefore safe
to hand to the peer or to another server: only a holder of the key ring can open it, and any
change to it is detected.

Token layout (all ours; the mechglue adds its own OID prefix around it)::

    opaque magic[4] = "GSX1";
    uint8  role;                   /* 1 initiator, 2 acceptor */
    opaque mech<1..2^8-1>;         /* DER content octets of the mechanism OID */
    opaque ticket[rest];           /* tlsticket §4 ticket: key_name | IV | state | MAC */

The header is plain so an importer knows, before any crypto, which binding to expect; it is
*authenticated* through that binding: the ticket is sealed for
``TicketBinding("gss-export-sec-context", "<role> <mech dotted>")`` and the binding sits inside
the MAC'd plaintext (tlsticket/ticket.py), so editing the role or the mech in the header makes
the ticket fail as a cross-bound one.  A ticket minted for another purpose (a TLS session, a
different role or mech) cannot be imported here, even under the same keys.

The sealed state is canonical JSON: ``json.dumps(state, sort_keys=True, separators=(",",
":"))``, with bytes values written as ``{"$b": base64}``.  Deterministic (the same state gives
the same bytes), compact enough (~600 bytes for an AES-256 context), independent of the dict's
layout (owned by gss/_established.py), and never pickle.  It carries its own expiry: the
ticket's lifetime is the context's remaining lifetime, which the key ring caps at the sealing
key's decrypt window and 7 days (T5/T6).

Errors, by the allowed returns of RFC 2744 gss_import_sec_context (NO_CONTEXT, DEFECTIVE_TOKEN,
UNAVAILABLE, UNAUTHORIZED) with a minor code that says which:

* tampered, malformed or cross-bound → :class:`TicketInvalid` (DEFECTIVE_TOKEN, TICKET_INVALID);
* key_name not held (another fleet's keys, or another process's ephemeral ring) →
  :class:`TicketUnknownKey` (NO_CONTEXT, TICKET_UNKNOWN_KEY);
* past its lifetime or its key's decrypt window → :class:`ImportedTicketExpired` (NO_CONTEXT,
  TICKET_EXPIRED; a TicketExpired, but import may not return CONTEXT_EXPIRED);
* no usable key ring → :class:`TicketKeysUnavailable` (UNAVAILABLE, TICKET_KEYS).

Key ring selection (:func:`default_ring`): ``$GSSMECH_TICKET_KEYS=DIR``, else krb5.conf
``[libdefaults] gssmech_ticket_keys = DIR`` (a realm subsection of the default realm wins), else
a per-process *ephemeral* ring -- random keys made once per process, so export/import then works
within one process only.  A fleet shares a directory made by ``gssmech ticket-keys init DIR``;
it is re-read when its file changes, so ``rotate`` takes effect without a restart.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from gssmech.environ import ENVIRON
from gssmech.errors import GSS_S_NO_CONTEXT, GSS_S_UNAVAILABLE, DecodeError, GSSMechError, Minor
from gssmech.gss._ctx_errors import ContextExpired
from gssmech.gss.oids import Oid
from gssmech.tlsticket import (
    KeyRing,
    TicketBinding,
    TicketExpired,
    TicketInvalid,
    TicketKeyError,
    TicketSealError,
    new_ticket_key,
)
from gssmech.tlsticket.keydir import KEY_FILE_NAME

__all__ = [
    "EXPORT_PURPOSE",
    "KEY_DIR_ENV",
    "KEY_DIR_LIBDEFAULT",
    "ImportedTicketExpired",
    "OpenedContext",
    "TicketKeysUnavailable",
    "binding_for",
    "decode_state",
    "default_ring",
    "encode_state",
    "key_directory",
    "open_context",
    "seal_context",
    "unseal_context",
]

#: The binding purpose of every exported context (tlsticket TicketBinding).
EXPORT_PURPOSE = "gss-export-sec-context"
KEY_DIR_ENV = "GSSMECH_TICKET_KEYS"
KEY_DIR_LIBDEFAULT = "gssmech_ticket_keys"
MAGIC = b"GSX1"
_ROLES = {"initiator": 1, "acceptor": 2}
_ROLE_NAMES = {v: k for k, v in _ROLES.items()}
_U32 = 0xFFFFFFFF


class ImportedTicketExpired(TicketExpired):
    """The exported context's ticket (or the key that sealed it) has expired.

    RFC 2744 §5.25 does not list GSS_S_CONTEXT_EXPIRED for gss_import_sec_context, so the major
    is NO_CONTEXT; the minor (TICKET_EXPIRED) says why.  Still a :class:`TicketExpired`."""

    MAJOR = GSS_S_NO_CONTEXT
    MINOR = Minor.TICKET_EXPIRED


class TicketKeysUnavailable(TicketKeyError):
    """No usable key ring: the configured key directory cannot be read, or no key may seal now.

    GSS_S_UNAVAILABLE is allowed for both gss_export_sec_context and gss_import_sec_context."""

    MAJOR = GSS_S_UNAVAILABLE
    MINOR = Minor.TICKET_KEYS


class OpenedContext(NamedTuple):
    #: The state for :meth:`EstablishedContext.from_state`.
    state: dict[str, Any]
    #: True when an older (or not yet current) key opened it: re-export (T6, seed §3.3).
    renew: bool
    #: key_name of the key that opened it.
    key_name: bytes
    #: Seconds since 1970 after which this ticket no longer opens (0 = no sealed limit).
    expires_at: int


# --- state codec (pure) ---------------------------------------------------------------------


def _json_default(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    raise TicketSealError(f"cannot export a {type(value).__name__} in the context state")


def _json_object(obj: dict[str, Any]) -> object:
    if "$b" in obj:
        if len(obj) != 1 or not isinstance(obj["$b"], str):
            raise DecodeError("malformed bytes value", source="exported context state")
        return base64.b64decode(obj["$b"].encode("ascii"), validate=True)
    return obj


def _no_constant(name: str) -> object:
    raise DecodeError(f"{name} is not allowed", source="exported context state")


def encode_state(state: Mapping[str, Any]) -> bytes:
    """Canonical JSON of ``state`` (module docstring); bytes as ``{"$b": base64}``."""
    try:
        text = json.dumps(state, default=_json_default, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as exc:  # non-str keys, NaN, circular
        raise TicketSealError(f"cannot export the context state: {exc}") from None
    return text.encode("ascii")


def decode_state(data: bytes) -> dict[str, Any]:
    """Inverse of :func:`encode_state`; anything malformed is :class:`DecodeError`."""
    try:
        state = json.loads(data.decode("ascii"), object_hook=_json_object,
                           parse_constant=_no_constant)
    except (UnicodeDecodeError, binascii.Error, RecursionError) as exc:
        raise DecodeError(f"malformed state: {type(exc).__name__}",
                          source="exported context state") from None
    except ValueError as exc:  # JSONDecodeError, int digit limit
        raise DecodeError(f"malformed state: {exc}", source="exported context state") from None
    if not isinstance(state, dict):
        raise DecodeError("state is not an object", source="exported context state")
    return state


# --- sealing (pure: ring and clock are parameters) ------------------------------------------


def binding_for(role: str, mech: Oid) -> TicketBinding:
    """The binding an exported context of ``role`` ("initiator"/"acceptor") and ``mech`` is
    sealed for: purpose :data:`EXPORT_PURPOSE`, service ``"<role> <mech dotted>"``."""
    return TicketBinding(EXPORT_PURPOSE, f"{role} {mech.dotted}")


def _role_and_mech(state: Mapping[str, Any]) -> tuple[str, Oid]:
    role, mech = state.get("role"), state.get("mech")
    if role not in _ROLES or not isinstance(mech, str):
        raise TicketSealError("context state lacks a role or a mech")
    return role, Oid.from_dotted(mech)


def seal_context(state: Mapping[str, Any], *, ring: KeyRing, now: int) -> bytes:
    """GSS_Export_sec_context: ``state`` (export_state() output) sealed with ``ring`` at ``now``.

    The ticket lives as long as the context (``state["expiry"]``), capped by the key ring at
    the sealing key's decrypt window and 7 days.  An expired context is not exported
    (:class:`ContextExpired`, RFC 2744 §5.14); no key able to seal is
    :class:`TicketKeysUnavailable`."""
    role, mech = _role_and_mech(state)
    expiry = state.get("expiry")
    if not isinstance(expiry, int):
        raise TicketSealError("context state lacks an integer expiry")
    now = int(now)
    if expiry <= now:
        raise ContextExpired("cannot export an expired security context")
    if ring.sealing_key_at(now) is None:
        raise TicketKeysUnavailable(f"no ticket key may seal at {now} (rotate the key directory)")
    sealed = ring.seal_at_time(now, encode_state(state), binding_for(role, mech),
                               lifetime=min(expiry - now, _U32))
    header = MAGIC + bytes((_ROLES[role], len(mech.der))) + mech.der
    return header + sealed.ticket


def _parse_header(token: bytes) -> tuple[str, Oid, bytes]:
    """``(role, mech, ticket)``; a malformed header is the opaque TicketInvalid."""
    if len(token) < len(MAGIC) + 3 or token[: len(MAGIC)] != MAGIC:
        raise TicketInvalid
    role = _ROLE_NAMES.get(token[4])
    end = 6 + token[5]
    if role is None or token[5] == 0 or end > len(token):
        raise TicketInvalid
    try:
        mech = Oid(token[6:end])
    except GSSMechError:
        raise TicketInvalid from None
    return role, mech, token[end:]


def unseal_context(token: bytes, *, ring: KeyRing, now: int) -> OpenedContext:
    """GSS_Import_sec_context's check and decode: the state, plus the renew signal (T6).

    Raises :class:`TicketInvalid`, :class:`TicketUnknownKey`, :class:`ImportedTicketExpired`
    (module docstring) and, for a MAC-valid ticket whose state we cannot read (a fleet node of
    another version), :class:`DecodeError` -- all GSS_S_DEFECTIVE_TOKEN or GSS_S_NO_CONTEXT."""
    if not isinstance(token, bytes | bytearray | memoryview):
        raise TicketInvalid
    role, mech, ticket = _parse_header(bytes(token))
    try:
        opened = ring.open_at_time(int(now), ticket, binding_for(role, mech))
    except ImportedTicketExpired:
        raise
    except TicketExpired:
        raise ImportedTicketExpired from None
    state = decode_state(opened.state)
    # Sealed together with the binding, so they agree unless the sealer was broken.
    if state.get("role") != role or state.get("mech") != mech.dotted:
        raise DecodeError("state disagrees with its binding", source="exported context")
    expires_at = opened.issued_at + opened.lifetime if opened.lifetime else 0
    return OpenedContext(state, opened.renew, opened.key_name, expires_at)


def open_context(token: bytes, *, ring: KeyRing, now: int) -> dict[str, Any]:
    """The state sealed in ``token`` (see :func:`unseal_context`, which also says "renew")."""
    return unseal_context(token, ring=ring, now=now).state


# --- key ring selection (thin I/O) ----------------------------------------------------------

_lock = threading.Lock()
_dir_rings: dict[str, tuple[tuple[int, int, int, int], KeyRing]] = {}
_ephemeral: tuple[int, KeyRing] | None = None


def key_directory(env: Mapping[str, str] | None = None) -> str | None:
    """The configured key directory: ``$GSSMECH_TICKET_KEYS``, else krb5.conf
    ``[libdefaults] gssmech_ticket_keys``, else None (ephemeral ring)."""
    from gssmech.krb5.config import default_realm, libdefault, load_default

    env = ENVIRON if env is None else env
    if env.get(KEY_DIR_ENV):
        return env[KEY_DIR_ENV]
    profile = load_default(env)
    return libdefault(profile, KEY_DIR_LIBDEFAULT, default_realm(profile)) or None


def _load_directory(path: str) -> KeyRing:
    """The ring in ``path``, re-read only when its key file changed (rotation is an atomic
    rename, so a new inode or mtime)."""
    try:
        st = os.stat(Path(path) / KEY_FILE_NAME)
    except OSError as exc:
        raise TicketKeysUnavailable(f"ticket key directory {path}: {exc.strerror}") from None
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size, st.st_dev)
    with _lock:
        cached = _dir_rings.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    try:
        ring = KeyRing.from_directory(path)
    except TicketKeyError as exc:
        raise TicketKeysUnavailable(f"ticket key directory {path}: {exc}") from None
    with _lock:
        _dir_rings[path] = (stamp, ring)
    return ring


def _ephemeral_ring() -> KeyRing:
    """Random keys made once per process (regenerated in a forked child): tickets sealed here
    open only in this process."""
    global _ephemeral
    with _lock:
        if _ephemeral is None or _ephemeral[0] != os.getpid():
            key = new_ticket_key(not_before=0, encrypt_until=1 << 62, decrypt_until=1 << 62)
            _ephemeral = (os.getpid(), KeyRing([key]))
        return _ephemeral[1]


def default_ring(env: Mapping[str, str] | None = None) -> KeyRing:
    """The key ring export/import use (module docstring: env, then krb5.conf, then ephemeral).

    NB(ephemeral): with neither setting, contexts exported by this process can be imported by
    this process only; another process answers NO_CONTEXT / TICKET_UNKNOWN_KEY."""
    path = key_directory(env)
    return _ephemeral_ring() if path is None else _load_directory(path)
