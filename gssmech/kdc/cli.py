"""``gssmech kdc ...``: create and run an embedded KDC.

``kdc init --realm R --dir D [--listen HOST:PORT ...] [--profile rfc8062|draft-08]``,
``kdc addprinc [--pw PASS | --randkey] NAME``, ``kdc delprinc NAME``,
``kdc ktadd -k KEYTAB NAME``, ``kdc list``, ``kdc serve [--listen HOST:PORT ...]``; every
subcommand takes ``--dir D``.  Wired into the main ``gssmech`` command with
:func:`register`; ``python -m gssmech.kdc`` is ``gssmech kdc``.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path


def _principal(name: str, realm: str):
    from gssmech.krb5.principal import Principal

    return Principal.parse(name, default_realm=realm)


def cmd_init(args: argparse.Namespace) -> int:
    from gssmech.kdc.realm import init_realm

    listen = tuple(args.listen or ["127.0.0.1:88"])
    init_realm(Path(args.dir), args.realm, listen=listen, profile=args.profile)
    print(f"realm {args.realm} created in {args.dir}; clients: KRB5_CONFIG={args.dir}/krb5.conf")
    return 0


def cmd_addprinc(args: argparse.Namespace) -> int:
    from gssmech.kdc.db import RealmDB

    db = RealmDB.open(Path(args.dir))
    principal = _principal(args.name, db.realm)
    password = args.pw
    if password is None and not args.randkey:
        password = getpass.getpass(f"Enter password for principal \"{principal}\": ")
        if getpass.getpass(f"Re-enter password for principal \"{principal}\": ") != password:
            print("gssmech kdc addprinc: passwords do not match", file=sys.stderr)
            return 1
    db.add_principal(principal, password=None if args.randkey else password)
    print(f"Principal \"{principal}\" created.")
    return 0


def cmd_delprinc(args: argparse.Namespace) -> int:
    from gssmech.kdc.db import RealmDB

    db = RealmDB.open(Path(args.dir))
    principal = _principal(args.name, db.realm)
    db.delete(principal)
    print(f"Principal \"{principal}\" deleted.")
    return 0


def cmd_ktadd(args: argparse.Namespace) -> int:
    """Write the principal's current keys (MIT ``ktadd -norandkey``: keys are not changed, so a
    password principal keeps working)."""
    from gssmech.ccache import Keytab, KeytabEntry
    from gssmech.kdc.db import RealmDB
    from gssmech.kdc.errors import KDCDatabaseError

    db = RealmDB.open(Path(args.dir))
    principal = _principal(args.name, db.realm)
    entry = db.lookup(principal)
    if entry is None:
        raise KDCDatabaseError(f"principal {principal} does not exist")
    keytab = Keytab.resolve(args.keytab if ":" in args.keytab else f"FILE:{args.keytab}")
    stamp = int(time.time())
    for key in entry.keys:
        keytab.add(KeytabEntry(entry.principal, stamp, key.kvno, key.enctype, key.key.contents))
        print(f"Entry for principal {entry.principal} with kvno {key.kvno}, encryption type "
              f"{key.enctype} added to keytab {keytab.full_name}.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from gssmech.kdc.db import RealmDB

    for entry in RealmDB.open(Path(args.dir)):
        print(entry.principal)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from gssmech.kdc.realm import load_settings, open_kdc
    from gssmech.kdc.server import parse_listen, run_forever

    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s gssmech-kdc %(levelname)s %(message)s")
    directory = Path(args.dir)
    settings = load_settings(directory)
    kdc = open_kdc(directory)
    if args.listen:
        kdc.ctx = replace(kdc.ctx, settings=replace(settings, listen=tuple(args.listen)))
    listen = [parse_listen(item) for item in kdc.ctx.settings.listen]
    run_forever(kdc, listen)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``kdc`` and its subcommands to the main ``gssmech`` parser."""
    kdc = subparsers.add_parser("kdc", help="embedded KDC: init, addprinc, ktadd, serve ...")
    sub = kdc.add_subparsers(dest="kdc_command", required=True, metavar="KDC_COMMAND")

    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--dir", required=True, metavar="D", help="KDC directory")
        p.set_defaults(func=func)
        return p

    p = add("init", cmd_init, "create a realm (database, krbtgt, anonymous, CA, krb5.conf)")
    p.add_argument("--realm", required=True)
    p.add_argument("--listen", action="append", metavar="HOST:PORT")
    p.add_argument("--profile", default="rfc8062", choices=["rfc8062", "draft-08"])
    p = add("addprinc", cmd_addprinc, "add a principal")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--pw", metavar="PASS")
    group.add_argument("--randkey", action="store_true")
    p.add_argument("name")
    p = add("delprinc", cmd_delprinc, "delete a principal")
    p.add_argument("name")
    p = add("ktadd", cmd_ktadd, "write a principal's keys to a keytab")
    p.add_argument("-k", dest="keytab", required=True, metavar="KEYTAB")
    p.add_argument("name")
    add("list", cmd_list, "list principals")
    p = add("serve", cmd_serve, "run the KDC in the foreground (stop with SIGTERM)")
    p.add_argument("--listen", action="append", metavar="HOST:PORT")
    p.add_argument("-v", "--verbose", action="store_true")
