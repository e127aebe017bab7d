"""``gssmech kinit`` / ``gssmech kvno`` subcommands with MIT-like messages and exit codes."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from gssmech.errors import GSSMechError
from gssmech.krb5.config import load_default
from gssmech.krb5.principal import Principal


def _prog(args: argparse.Namespace) -> str:
    return getattr(args, "prog_name", None) or args.command


def _kinit(args: argparse.Namespace) -> int:
    from gssmech.tools.kinit import kinit

    def prompt(client: Principal) -> str:
        return getpass.getpass(f"Password for {client}: ")

    try:
        profile = load_default(os.environ)
        kinit(
            profile,
            principal=args.principal,
            anonymous=args.anonymous,
            use_keytab=args.use_keytab or args.keytab is not None,
            keytab=args.keytab,
            ccname=args.ccache,
            password=prompt,
        )
    except GSSMechError as exc:
        print(f"kinit: {exc} while getting initial credentials", file=sys.stderr)
        return 1
    return 0


def _kvno(args: argparse.Namespace) -> int:
    from gssmech.ccache import resolve
    from gssmech.tools.kvno import kvno, ticket_kvno

    status = 0
    try:
        profile = load_default(os.environ)
        ccache = resolve(args.ccache, config=profile)
    except GSSMechError as exc:
        print(f"kvno: {exc}", file=sys.stderr)
        return 1
    for service in args.services:
        try:
            reply = kvno(profile, ccache, service)
        except GSSMechError as exc:
            print(f"kvno: {exc} while getting credentials for {service}", file=sys.stderr)
            status = 1
            continue
        print(f"{reply.server}: kvno = {ticket_kvno(reply)}")
    return status


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``kinit`` and ``kvno`` to the main ``gssmech`` parser."""
    p = subparsers.add_parser("kinit", help="obtain a ticket-granting ticket")
    p.add_argument("-n", dest="anonymous", action="store_true",
                   help="anonymous: @REALM (or none) = anonymous PKINIT; "
                   "a principal = authenticated anonymity with its own keys")
    p.add_argument("-k", dest="use_keytab", action="store_true", help="use a keytab")
    p.add_argument("-t", dest="keytab", metavar="KEYTAB", help="keytab name (implies -k)")
    p.add_argument("-c", dest="ccache", metavar="CCNAME", help="credential cache name")
    p.add_argument("principal", nargs="?", help="principal or @REALM")
    p.set_defaults(func=_kinit)
    q = subparsers.add_parser("kvno", help="get service tickets and print their kvno")
    q.add_argument("-c", dest="ccache", metavar="CCNAME", help="credential cache name")
    q.add_argument("services", nargs="+", metavar="SERVICE")
    q.set_defaults(func=_kvno)
