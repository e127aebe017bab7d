"""The gssmech command: MIT-style Kerberos tools on gssmech's own layers.

Subcommands: ``klist``, ``kcopy``, ``kdestroy``, ``ticket-keys``, ``demo``.  Each one is a
thin runner: parse arguments, call the library, print, and turn our typed errors into a
message on stderr and exit status 1 (as MIT's tools do), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from gssmech.errors import GSSMechError


def _ticket_enctype(ticket: bytes) -> int | None:
    from gssmech.krb5.asn1 import Ticket, decode

    try:
        return int(decode(Ticket, ticket, what="ticket")["enc_part"]["etype"].native)
    except GSSMechError:
        return None


def cmd_klist(args: argparse.Namespace) -> int:
    from gssmech import ccache
    from gssmech.klist import KlistOptions, format_ccache, format_keytab

    if args.keytab_mode:
        kt = ccache.Keytab.resolve(args.name)
        text = format_keytab(
            kt.full_name,
            kt.entries(),
            show_time=args.t,
            show_etype=args.e,
            show_keys=args.K,
        )
        sys.stdout.write(text)
        return 0
    cc = ccache.resolve(args.cache or args.name)
    contents = cc.read()
    if args.s:
        now = time.time()
        return 0 if any(c.endtime > now for c in cc.credentials()) else 1
    opts = KlistOptions(show_flags=args.f, show_etype=args.e, show_config=args.C)
    sys.stdout.write(
        format_ccache(
            cc.full_name,
            str(contents.principal),
            contents.credentials,
            opts,
            ticket_enctype=_ticket_enctype,
        )
    )
    return 0


def cmd_kcopy(args: argparse.Namespace) -> int:
    from gssmech import ccache

    ccache.resolve(args.src).copy_to(ccache.resolve(args.dst))
    return 0


def cmd_kdestroy(args: argparse.Namespace) -> int:
    from gssmech import ccache

    cc = ccache.resolve(args.cache)
    if not cc.exists():
        if not args.q:
            print("kdestroy: No credentials cache found while destroying cache", file=sys.stderr)
        return 1
    cc.destroy()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from gssmech.demo import main as demo_main

    return demo_main()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gssmech", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    k = sub.add_parser("klist", help="list cached tickets or keytab entries (like MIT klist)")
    k.add_argument(
        "-c", dest="cache", metavar="CCNAME", help="credential cache (default: KRB5CCNAME)"
    )
    k.add_argument("-k", dest="keytab_mode", action="store_true", help="list a keytab")
    k.add_argument("-f", action="store_true", help="show ticket flags")
    k.add_argument("-e", action="store_true", help="show encryption types")
    k.add_argument("-C", action="store_true", help="show configuration entries")
    k.add_argument("-s", action="store_true", help="silent: exit status tells if tickets are valid")
    k.add_argument("-t", action="store_true", help="with -k: show timestamps")
    k.add_argument("-K", action="store_true", help="with -k: show keys")
    k.add_argument("name", nargs="?", help="cache or (with -k) keytab name")
    k.set_defaults(func=cmd_klist)

    c = sub.add_parser(
        "kcopy", help="copy a credential cache atomically (principal, tickets, config)"
    )
    c.add_argument("src")
    c.add_argument("dst")
    c.set_defaults(func=cmd_kcopy)

    d = sub.add_parser("kdestroy", help="destroy a credential cache")
    d.add_argument("-c", dest="cache", metavar="CCNAME")
    d.add_argument("-q", action="store_true", help="quiet")
    d.set_defaults(func=cmd_kdestroy)

    demo = sub.add_parser("demo", help="run the end-to-end demo")
    demo.set_defaults(func=cmd_demo)

    from gssmech._plugin.cli import register as register_mech
    from gssmech.kdc.cli import register as register_kdc
    from gssmech.tlsticket.cli import register as register_ticket_keys
    from gssmech.tools.cli import register as register_kinit_kvno

    register_kinit_kvno(sub)
    register_kdc(sub)
    register_mech(sub)
    register_ticket_keys(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GSSMechError as exc:
        print(f"gssmech {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
