"""``gssmech ticket-keys``: manage a shared ticket key directory (seed §5.5; keydir.py).

    gssmech ticket-keys init DIR [--profile rfc5077|draft-07|nginx-48] [--period S] [--lifetime S]
    gssmech ticket-keys rotate DIR            # run from cron every --period seconds
    gssmech ticket-keys list DIR              # key names, roles, windows; never key material
    gssmech ticket-keys export-nginx DIR FILE [--size 48|80] [--role current|next|previous]
    gssmech ticket-keys import-nginx FILE DIR [--period S] [--lifetime S] [--force]

The lead's main parser calls :func:`register`; each subcommand sets ``func(args) -> int``.
``python -m gssmech.tlsticket.cli`` runs it standalone.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gssmech.errors import GSSMechError
from gssmech.tlsticket.keydir import (
    DEFAULT_LIFETIME,
    DEFAULT_PERIOD,
    KeyFile,
    init_key_directory,
    load_key_directory,
    read_private_file,
    rotate_key_directory,
    write_private_file,
)
from gssmech.tlsticket.nginx import decode_nginx_key, encode_nginx_key
from gssmech.tlsticket.profiles import DEFAULT_PROFILE, PROFILES, get_profile

__all__ = ["main", "register"]


def _when(t: int) -> str:
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    except (OverflowError, OSError, ValueError):
        return str(t)


def _print_key_file(key_file: KeyFile, now: int) -> None:
    print(f"rotation period {key_file.period} s, maximum ticket lifetime {key_file.lifetime} s")
    print(f"{'ROLE':<9} {'KEY_NAME':<32} {'PROFILE':<9} {'NOT_BEFORE':<20} "
          f"{'ENCRYPT_UNTIL':<20} {'DECRYPT_UNTIL':<20} NOW")
    for i, k in enumerate(key_file.keys):
        state = "seals" if k.can_seal_at(now) else "opens" if k.can_open_at(now) else "expired"
        print(f"{key_file.role(i):<9} {k.key_name.hex():<32} {k.profile.name:<9} "
              f"{_when(k.not_before):<20} {_when(k.encrypt_until):<20} "
              f"{_when(k.decrypt_until):<20} {state}")


def _cmd_init(args: argparse.Namespace) -> int:
    key_file = init_key_directory(Path(args.dir), profile=get_profile(args.profile),
                                  period=args.period, lifetime=args.lifetime, force=args.force)
    print(f"created {Path(args.dir)} with a current and a next {args.profile} key")
    _print_key_file(key_file, int(time.time()))
    return 0


def _cmd_rotate(args: argparse.Namespace) -> int:
    key_file = rotate_key_directory(Path(args.dir))
    _print_key_file(key_file, int(time.time()))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    _print_key_file(load_key_directory(Path(args.dir)), int(time.time()))
    return 0


def _cmd_export_nginx(args: argparse.Namespace) -> int:
    key = load_key_directory(Path(args.dir)).key_for_role(args.role)
    write_private_file(Path(args.file), encode_nginx_key(key, args.size))
    print(f"wrote {args.role} key {key.key_name.hex()} to {args.file} (0600)")
    return 0


def _cmd_import_nginx(args: argparse.Namespace) -> int:
    # nginx key files are often group-readable by the nginx group; refuse only world access.
    data = read_private_file(Path(args.file), forbidden_mode=0o007)
    key = decode_nginx_key(data, source=args.file)
    key_file = init_key_directory(Path(args.dir), profile=key.profile, period=args.period,
                                  lifetime=args.lifetime, current=key, force=args.force)
    print(f"imported {key.key_name.hex()} ({key.profile.name}) as the current key of {args.dir}")
    _print_key_file(key_file, int(time.time()))
    return 0


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (GSSMechError, OSError) as exc:
            print(f"gssmech ticket-keys: {exc}", file=sys.stderr)
            return 1

    return run


def _policy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", type=int, default=DEFAULT_PERIOD,
                        help=f"rotation period in seconds (default {DEFAULT_PERIOD})")
    parser.add_argument("--lifetime", type=int, default=DEFAULT_LIFETIME,
                        help=f"maximum ticket lifetime in seconds, <= 604800 "
                             f"(default {DEFAULT_LIFETIME})")
    parser.add_argument("--force", action="store_true", help="replace an existing key file")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``ticket-keys`` and its subcommands to the main CLI."""
    top = subparsers.add_parser("ticket-keys", help="manage shared stateless ticket keys",
                                description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = top.add_subparsers(dest="ticket_keys_command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create DIR with a current and a next key")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--profile", choices=sorted(PROFILES), default=DEFAULT_PROFILE.name)
    _policy(p)
    p.set_defaults(func=_guarded(_cmd_init))

    p = sub.add_parser("rotate", help="next→current, current→previous, new next key")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=_guarded(_cmd_rotate))

    p = sub.add_parser("list", help="show key names, roles and windows (never key material)")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=_guarded(_cmd_list))

    p = sub.add_parser("export-nginx", help="write one key as an nginx ssl_session_ticket_key")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--size", type=int, choices=(48, 80), default=None,
                   help="48 (nginx-48 profile) or 80 (rfc5077 profile); default from the profile")
    p.add_argument("--role", choices=("current", "next", "previous"), default="current")
    p.set_defaults(func=_guarded(_cmd_export_nginx))

    p = sub.add_parser("import-nginx", help="create DIR around an nginx key file (as current)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("dir", metavar="DIR")
    _policy(p)
    p.set_defaults(func=_guarded(_cmd_import_nginx))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gssmech")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
