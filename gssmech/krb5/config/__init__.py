"""MIT krb5 profile (krb5.conf / kdc.conf) parsing and lookups, as MIT krb5 1.20 does them.

Parse with :func:`parse_text` (a string) or :func:`load_files` / :func:`load_default` /
:func:`load_kdc_profile` (files, with include/includedir), then query the :class:`Profile`
(``get``, ``get_all``, ``get_bool``, ``get_int``, ``get_duration``, ``sections``,
``subsections``, ``relations``) or use the named lookups (``default_realm`` ...).
Syntax errors raise :class:`gssmech.errors.ConfigError` naming the file and line.
"""

from __future__ import annotations

from ._files import (
    DEFAULT_KDC_PROFILE,
    DEFAULT_PROFILE_PATH,
    FileSystemIncludes,
    default_config_files,
    load_default,
    load_files,
    load_kdc_profile,
)
from ._lookups import (
    DEFAULT_CCACHE_NAME,
    DEFAULT_CLIENT_KEYTAB_NAME,
    DEFAULT_KEYTAB_NAME,
    default_ccache_name,
    default_client_keytab_name,
    default_keytab_name,
    default_realm,
    expand_path_tokens,
    libdefault,
    pkinit_anchors,
    pkinit_libdefault_strings,
    realm_kdcs,
)
from ._parse import MAX_INCLUDE_DEPTH, IncludeSource, NoIncludes, parse_tree
from ._tree import Profile, to_bytes
from ._values import parse_boolean, parse_integer, string_to_deltat

__all__ = [
    "DEFAULT_CCACHE_NAME",
    "DEFAULT_CLIENT_KEYTAB_NAME",
    "DEFAULT_KDC_PROFILE",
    "DEFAULT_KEYTAB_NAME",
    "DEFAULT_PROFILE_PATH",
    "MAX_INCLUDE_DEPTH",
    "FileSystemIncludes",
    "IncludeSource",
    "NoIncludes",
    "Profile",
    "default_ccache_name",
    "default_client_keytab_name",
    "default_config_files",
    "default_keytab_name",
    "default_realm",
    "expand_path_tokens",
    "libdefault",
    "load_default",
    "load_files",
    "load_kdc_profile",
    "parse_boolean",
    "parse_bytes",
    "parse_integer",
    "parse_text",
    "pkinit_anchors",
    "pkinit_libdefault_strings",
    "realm_kdcs",
    "string_to_deltat",
]


def parse_bytes(
    data: bytes, source: str = "<string>", *, includes: IncludeSource | None = None
) -> Profile:
    """One profile file's bytes as a :class:`Profile` (includes read from ``includes``,
    by default the file system)."""
    tree, module = parse_tree(
        data,
        source,
        includes if includes is not None else FileSystemIncludes(),
        allow_module=True,
    )
    return Profile([tree], module=module)


def parse_text(
    text: str, source: str = "<string>", *, includes: IncludeSource | None = None
) -> Profile:
    """Like :func:`parse_bytes` for text (encoded as UTF-8, as the file would be)."""
    # Any str encodes (lone surrogates via surrogatepass): bad text is only a ConfigError.
    return parse_bytes(to_bytes(text), source, includes=includes)
