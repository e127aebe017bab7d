"""Named lookups in a profile, each as the MIT krb5 1.20 function that reads it.

- ``default_realm``: ``krb5_get_default_realm`` (profile part only; no DNS or host realm).
- ``libdefault``: ``krb5int_libdefault_string`` (``src/lib/krb5/krb/get_in_tkt.c``):
  ``[libdefaults] REALM = { name = ... }`` first, then ``[libdefaults] name``.
- ``pkinit_libdefault_strings`` (``src/plugins/preauth/pkinit/pkinit_profile.c``):
  ``[libdefaults] REALM``, then ``[realms] REALM``, then ``[libdefaults]``.
- ``default_ccache_name`` / ``default_keytab_name`` / ``default_client_keytab_name``:
  ``krb5_cc_default_name``, ``krb5_kt_default_name``, ``krb5_kt_client_default``; the
  environment variable (if an environment is given), then the profile, then the compiled-in
  default of Debian's MIT build.  Returned unexpanded; see :func:`expand_path_tokens`.
- ``expand_path_tokens``: ``k5_expand_path_tokens`` (``src/lib/krb5/os/expand_path.c``).
"""

from __future__ import annotations

import os
import pwd
import sys
from collections.abc import Mapping

from gssmech.environ import ENVIRON

from ...errors import ConfigError
from ._tree import Profile

#: MIT's compiled-in defaults (DEFCCNAME, DEFKTNAME, DEFCKTNAME as Debian builds them).
DEFAULT_CCACHE_NAME = "FILE:/tmp/krb5cc_%{uid}"
DEFAULT_KEYTAB_NAME = "FILE:/etc/krb5.keytab"
DEFAULT_CLIENT_KEYTAB_NAME = "FILE:/etc/krb5/user/%{euid}/client.keytab"

_MULTIARCH = getattr(sys.implementation, "_multiarch", "")
#: LIBDIR/BINDIR/SBINDIR of the MIT build (Debian's layout; override per call).
MIT_LIBDIR = f"/usr/lib/{_MULTIARCH}" if _MULTIARCH else "/usr/lib"
MIT_BINDIR = "/usr/bin"
MIT_SBINDIR = "/usr/sbin"


def default_realm(p: Profile) -> str | None:
    return p.get("libdefaults", "default_realm")


def realm_kdcs(p: Profile, realm: str) -> list[str]:
    """``[realms] REALM kdc`` values in order (host, host:port, or a URI-ish string)."""
    return p.get_all("realms", realm, "kdc")


def libdefault(p: Profile, name: str, realm: str | None = None) -> str | None:
    """``krb5int_libdefault_string``: the realm subsection of [libdefaults] wins."""
    if realm is not None:
        values = p.get_all("libdefaults", realm, name)
        if values:
            return values[0]
    return p.get("libdefaults", name)


def pkinit_libdefault_strings(p: Profile, realm: str | None, option: str) -> list[str]:
    """``pkinit_libdefault_strings``: the first of three places that has the option."""
    places: list[tuple[str, ...]] = []
    if realm is not None:
        places += [("libdefaults", realm, option), ("realms", realm, option)]
    places.append(("libdefaults", option))
    for path in places:
        values = p.get_all(*path)
        if values:
            return values
    return []


def pkinit_anchors(p: Profile, realm: str | None) -> list[str]:
    return pkinit_libdefault_strings(p, realm, "pkinit_anchors")


def _named_default(
    p: Profile, env: Mapping[str, str] | None, variable: str, relation: str, builtin: str
) -> str:
    if env is not None and env.get(variable):
        return env[variable]
    return p.get("libdefaults", relation) or builtin


def default_ccache_name(p: Profile, env: Mapping[str, str] | None = None) -> str:
    """KRB5CCNAME (if ``env`` is given), ``default_ccache_name``, or MIT's default."""
    return _named_default(p, env, "KRB5CCNAME", "default_ccache_name", DEFAULT_CCACHE_NAME)


def default_keytab_name(p: Profile, env: Mapping[str, str] | None = None) -> str:
    """KRB5_KTNAME (if ``env`` is given), ``default_keytab_name``, or MIT's default."""
    return _named_default(p, env, "KRB5_KTNAME", "default_keytab_name", DEFAULT_KEYTAB_NAME)


def default_client_keytab_name(p: Profile, env: Mapping[str, str] | None = None) -> str:
    """KRB5_CLIENT_KTNAME (if given), ``default_client_keytab_name``, or MIT's default."""
    return _named_default(
        p, env, "KRB5_CLIENT_KTNAME", "default_client_keytab_name", DEFAULT_CLIENT_KEYTAB_NAME
    )


def _username(euid: int) -> str:
    try:
        return pwd.getpwuid(euid).pw_name
    except KeyError:
        raise ConfigError(f"can't find username for uid {euid}") from None


def expand_path_tokens(
    path: str,
    *,
    extra: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    uid: int | None = None,
    euid: int | None = None,
    username: str | None = None,
    libdir: str = MIT_LIBDIR,
    bindir: str = MIT_BINDIR,
    sbindir: str = MIT_SBINDIR,
) -> str:
    """``k5_expand_path_tokens_extra``: replace each ``%{name}`` in ``path``.

    Tokens (Unix): LIBDIR BINDIR SBINDIR euid username TEMP USERID uid null, plus ``extra``
    (looked up first).  NB(mit): a token matches the first table entry it is a *prefix* of
    (``strncmp`` over the token's length), so ``%{u}`` is ``%{username}``; ``%%`` is not
    special.  An unknown token or a missing ``}`` raises :class:`ConfigError`.
    """
    env = ENVIRON if env is None else env
    uid = os.getuid() if uid is None else uid
    euid = os.geteuid() if euid is None else euid
    table: list[tuple[str, object]] = [
        ("LIBDIR", libdir),
        ("BINDIR", bindir),
        ("SBINDIR", sbindir),
        ("euid", str(euid)),
        ("username", username),
        ("TEMP", env.get("TMPDIR") or "/tmp"),
        ("USERID", str(uid)),
        ("uid", str(uid)),
        ("null", ""),
    ]
    out: list[str] = []
    rest = path
    while (begin := rest.find("%{")) >= 0:
        out.append(rest[:begin])
        end = rest.find("}", begin)
        if end < 0:
            raise ConfigError(f"variable missing }} in {path!r}")
        token = rest[begin + 2 : end]
        if not token:
            raise ConfigError(f"invalid token in {path!r}")
        out.append(_expand_token(token, table, extra or {}, euid, path))
        rest = rest[end + 1 :]
    out.append(rest)
    return "".join(out)


def _expand_token(
    token: str,
    table: list[tuple[str, object]],
    extra: Mapping[str, str],
    euid: int,
    path: str,
) -> str:
    for name, value in extra.items():
        if name.startswith(token):
            return value
    for name, value in table:
        if name.startswith(token):
            if name == "username" and value is None:
                return _username(euid)
            return str(value)
    raise ConfigError(f"invalid token %{{{token}}} in {path!r}")
