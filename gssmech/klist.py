"""``klist`` output, formatted exactly as MIT's klist (src/clients/klist/klist.c) prints it.

Pure functions: cache or keytab contents in, text out, so the CLI stays a thin runner and the
tests compare our text with MIT's byte for byte.  Times print as MIT does in the C locale
(``%x %X`` → ``mm/dd/yy HH:MM:SS``), in local time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gssmech.ccache import Credential, KeytabEntry
from gssmech.krb5.constants import ENCTYPE_NAMES, FLAG_LETTERS

TIMESTAMP_WIDTH = 17


def format_time(ts: int) -> str:
    return time.strftime("%m/%d/%y %H:%M:%S", time.localtime(ts))


def enctype_name(enctype: int) -> str:
    return ENCTYPE_NAMES.get(enctype, f"etype {enctype}")


def flags_string(flags: int) -> str:
    return "".join(letter for bit, letter in FLAG_LETTERS if flags & bit)


def _config_value(value: bytes) -> str:
    # MIT prints printable bytes as-is and others as octal escapes.
    return "".join(chr(b) if 0x20 <= b < 0x7F else f"\\{b:03o}" for b in value)


@dataclass(frozen=True)
class KlistOptions:
    show_flags: bool = False  # -f
    show_etype: bool = False  # -e
    show_config: bool = False  # -C
    show_addresses: bool = False  # -a (addresses are listed only when present)


def format_ccache(
    full_name: str,
    principal: str,
    credentials: Iterable[Credential],
    opts: KlistOptions,
    *,
    ticket_enctype: Callable[[bytes], int | None] = lambda ticket: None,
) -> str:
    """The text MIT ``klist`` prints for a cache.

    ``credentials`` are ccache credential records in file order (config entries included; they
    print only with ``-C``, as MIT does).  ``ticket_enctype`` extracts the enc-part etype from a
    ticket's DER for ``-e``.
    """
    out = [f"Ticket cache: {full_name}", f"Default principal: {principal}", ""]
    header = "Valid starting".ljust(TIMESTAMP_WIDTH + 2) + "Expires".ljust(TIMESTAMP_WIDTH + 2)
    out.append(header + "Service principal")
    for cred in credentials:
        if cred.is_removed:
            continue
        if cred.is_config:
            if opts.show_config:
                out.append(_config_line(cred))
            continue
        out.append(_cred_lines(cred, principal, opts, ticket_enctype))
    return "\n".join(out) + "\n"


def _config_line(cred: Credential) -> str:
    key, assoc, value = cred.config_key, cred.config_principal, _config_value(cred.ticket)
    if assoc is not None:
        return f"config: {key}({assoc}) = {value}"
    return f"config: {key} = {value}"


def _cred_lines(
    c: Credential, defname: str, opts: KlistOptions, ticket_enctype: Callable[[bytes], int | None]
) -> str:
    start = c.starttime or c.authtime
    line = f"{format_time(start)}  {format_time(c.endtime)}  {c.server}"
    # MIT's layout: extra fields go on tab-indented lines, joined with ", ", a new line once
    # the running count passes its thresholds (klist.c show_credential).
    text = [line, "\n"]
    extra = 0

    def field(s: str) -> None:
        nonlocal extra
        text.append("\t" if not extra else ", ")
        text.append(s)

    client = str(c.client)
    if client != defname:
        field(f"for client {client}")
        extra += 1
    if c.renew_till:
        field(f"renew until {format_time(c.renew_till)}")
        extra += 2
    if extra > 3:
        text.append("\n")
        extra = 0
    if opts.show_flags:
        flags = flags_string(c.ticket_flags)
        if flags:
            field(f"Flags: {flags}")
            extra += 1
    if extra > 2:
        text.append("\n")
        extra = 0
    if opts.show_etype:
        tkt = ticket_enctype(c.ticket)
        tkt_name = enctype_name(tkt) if tkt is not None else "(unknown)"
        field(f"Etype (skey, tkt): {enctype_name(c.key.enctype)}, {tkt_name} ")
        extra += 1
    if extra:
        text.append("\n")
    return "".join(text).rstrip("\n")


def format_keytab(
    full_name: str,
    entries: Iterable[KeytabEntry],
    *,
    show_time: bool = False,
    show_etype: bool = False,
    show_keys: bool = False,
) -> str:
    """The text MIT ``klist -k [-t] [-e] [-K]`` prints."""
    out = [f"Keytab name: {full_name}"]
    if show_time:
        out.append("KVNO Timestamp" + " " * (TIMESTAMP_WIDTH - len("Timestamp") + 1) + "Principal")
        out.append("---- " + "-" * TIMESTAMP_WIDTH + " " + "-" * (78 - TIMESTAMP_WIDTH - 5))
    else:
        out.append("KVNO Principal")
        out.append("---- " + "-" * 74)
    for e in entries:
        line = f"{e.kvno:4d} "
        if show_time:
            line += format_time(e.timestamp) + " "
        line += str(e.principal)
        if show_etype:
            line += f" ({enctype_name(e.enctype)}) "
        if show_keys:
            line += f" (0x{e.key.hex()})"
        out.append(line)
    return "\n".join(out) + "\n"
