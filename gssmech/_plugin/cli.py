"""``gssmech mech``: print, install and check the mech.d line that makes the system GSS library
(MIT krb5 1.20 mechglue) load the gssmech plugin.

- ``mech config``: the line for this installation (``gssmech 2.999.6112.1 /abs/libgssmech.so``).
- ``mech install [--force] [--allow-unsafe] [--path FILE]``: write it to
  /etc/gss/mech.d/gssmech.conf; refuses to replace a different file without ``--force``, and to
  register a plugin whose code others could change (:mod:`gssmech._plugin.trust`) without
  ``--allow-unsafe``.
- ``mech check``: load the library *through libgssapi* (GSS_MECH_CONFIG honoured) and report
  what the mechglue sees: whether our OID is indicated, its attributes and SASL name.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import sys
from pathlib import Path
from typing import Any

from gssmech._plugin import SASL_NAME, backend_path, config_line, library_path, trust
from gssmech.errors import ConfigError
from gssmech.gss.oids import DEFAULT_NATIVE_MECH, Oid

DEFAULT_CONF = Path("/etc/gss/mech.d/gssmech.conf")

#: RFC 5587 §3.1 mechanism attribute names, by the last arc under 1.3.6.1.5.5.13.
MA_NAMES = {
    1: "MECH_CONCRETE",
    2: "MECH_PSEUDO",
    3: "MECH_COMPOSITE",
    4: "MECH_NEGO",
    5: "MECH_GLUE",
    6: "NOT_MECH",
    7: "DEPRECATED",
    8: "NOT_DFLT_MECH",
    9: "ITOK_FRAMED",
    10: "AUTH_INIT",
    11: "AUTH_TARG",
    12: "AUTH_INIT_INIT",
    13: "AUTH_TARG_INIT",
    14: "AUTH_INIT_ANON",
    15: "AUTH_TARG_ANON",
    16: "DELEG_CRED",
    17: "INTEG_PROT",
    18: "CONF_PROT",
    19: "MIC",
    20: "WRAP",
    21: "PROT_READY",
    22: "REPLAY_DET",
    23: "OOS_DET",
    24: "CBINDINGS",
    25: "PFS",
    26: "COMPRESS",
    27: "CTX_TRANS",
}
_MA_PREFIX = Oid.from_dotted("1.3.6.1.5.5.13").der


def cmd_config(args: argparse.Namespace) -> int:
    print(config_line(args.oid))
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    target = Path(args.path)
    line = config_line(args.oid) + "\n"
    if target.exists() and target.read_text(errors="replace") != line and not args.force:
        raise ConfigError(f"{target} exists with different contents; use --force to replace it")
    problems = trust.untrusted(trust.code_locations(), trust.installing_uids())
    if problems and not args.allow_unsafe:
        raise ConfigError(
            "every program using GSS-API (root daemons, setuid programs) would run code that "
            f"others can change:\n{trust.report(problems)}\n"
            "install gssmech where only root can write, or pass --allow-unsafe"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(line)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    print(f"wrote {target}: {line.strip()}")
    return 0


# --- check: ctypes view of libgssapi (the system library, not our Python code) -----------------
class _OID(ctypes.Structure):
    _fields_ = [("length", ctypes.c_uint32), ("elements", ctypes.c_void_p)]


class _OIDSet(ctypes.Structure):
    _fields_ = [("count", ctypes.c_size_t), ("elements", ctypes.POINTER(_OID))]


class _Buffer(ctypes.Structure):
    _fields_ = [("length", ctypes.c_size_t), ("value", ctypes.c_void_p)]


def _oids(s: Any) -> list[bytes]:
    if not s:
        return []
    return [
        ctypes.string_at(s.contents.elements[i].elements, s.contents.elements[i].length)
        for i in range(s.contents.count)
    ]


def check(oid: Oid) -> dict[str, Any]:
    """What libgssapi reports about ``oid``; loads our library only through the mechglue."""
    name = ctypes.util.find_library("gssapi_krb5") or "libgssapi_krb5.so.2"
    gss = ctypes.CDLL(name)
    minor = ctypes.c_uint32(0)
    report: dict[str, Any] = {
        "library": str(library_path()),
        "built": library_path().exists(),
        "config": os.environ.get("GSS_MECH_CONFIG", "/etc/gss/mech{,.d}"),
    }
    mechs = ctypes.POINTER(_OIDSet)()
    major = gss.gss_indicate_mechs(ctypes.byref(minor), ctypes.byref(mechs))
    report["indicated"] = major == 0 and oid.der in _oids(mechs)
    gss.gss_release_oid_set(ctypes.byref(minor), ctypes.byref(mechs))
    buf = ctypes.create_string_buffer(oid.der)
    c_oid = _OID(len(oid.der), ctypes.cast(buf, ctypes.c_void_p))
    attrs = ctypes.POINTER(_OIDSet)()
    major = gss.gss_inquire_attrs_for_mech(
        ctypes.byref(minor), ctypes.byref(c_oid), ctypes.byref(attrs), None
    )
    names = []
    for a in _oids(attrs) if major == 0 else []:
        last = a[len(_MA_PREFIX) :]
        known = a.startswith(_MA_PREFIX) and len(last) == 1 and last[0] in MA_NAMES
        names.append(MA_NAMES[last[0]] if known else a.hex())
    report["attrs"] = names
    gss.gss_release_oid_set(ctypes.byref(minor), ctypes.byref(attrs))
    sasl, mname, desc = _Buffer(), _Buffer(), _Buffer()
    major = gss.gss_inquire_saslname_for_mech(
        ctypes.byref(minor),
        ctypes.byref(c_oid),
        ctypes.byref(sasl),
        ctypes.byref(mname),
        ctypes.byref(desc),
    )
    report["sasl_name"] = ctypes.string_at(sasl.value, sasl.length).decode() if major == 0 else None
    for b in (sasl, mname, desc):
        gss.gss_release_buffer(ctypes.byref(minor), ctypes.byref(b))
    return report


def cmd_check(args: argparse.Namespace) -> int:
    report = check(Oid.from_dotted(args.oid))
    print(f"library:   {report['library']} ({'built' if report['built'] else 'MISSING'})")
    backend = backend_path()
    print(f"python:    {backend} ({'built' if backend.exists() else 'MISSING'})")
    print(f"config:    {report['config']}")
    print(f"indicated: {'yes' if report['indicated'] else 'no'} ({args.oid})")
    print(f"attrs:     {' '.join(report['attrs']) or '-'}")
    print(f"sasl name: {report['sasl_name'] or '-'}")
    ok = (
        report["indicated"]
        and report["sasl_name"] == SASL_NAME
        and report["built"]
        and backend.exists()
    )
    if not ok:
        print("mech check: the system GSS library does not load gssmech", file=sys.stderr)
    return 0 if ok else 1


def register(subparsers: Any) -> None:
    """Add ``mech {config,install,check}`` to the ``gssmech`` command."""
    mech = subparsers.add_parser("mech", help="the GSS plugin library: config line, install, check")
    sub = mech.add_subparsers(dest="mech_command", required=True, metavar="ACTION")
    oid_help = f"mechanism OID (default {DEFAULT_NATIVE_MECH.dotted})"

    c = sub.add_parser("config", help="print the mech.d line for this installation")
    c.add_argument("--oid", default=DEFAULT_NATIVE_MECH.dotted, help=oid_help)
    c.set_defaults(func=cmd_config)

    i = sub.add_parser("install", help=f"write {DEFAULT_CONF}")
    i.add_argument("--oid", default=DEFAULT_NATIVE_MECH.dotted, help=oid_help)
    i.add_argument("--path", default=str(DEFAULT_CONF), help="file to write (tests, staging)")
    i.add_argument("--force", action="store_true", help="replace a different existing file")
    i.add_argument(
        "--allow-unsafe",
        action="store_true",
        help="register even if files the plugin loads are writable by others",
    )
    i.set_defaults(func=cmd_install)

    k = sub.add_parser("check", help="load the plugin through libgssapi and report")
    k.add_argument("--oid", default=DEFAULT_NATIVE_MECH.dotted, help=oid_help)
    k.set_defaults(func=cmd_check)
