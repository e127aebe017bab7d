"""Default cache and keytab names, and ``ccache_type``, from the environment and krb5.conf.

MIT's order (``krb5_cc_default_name``, ``krb5_kt_default_name``):

1. ``$KRB5CCNAME`` / ``$KRB5_KTNAME``, used verbatim (MIT expands no tokens there);
2. ``[libdefaults] default_ccache_name`` / ``default_keytab_name``, path tokens expanded;
3. the built-in ``FILE:/tmp/krb5cc_%{uid}`` / ``FILE:/etc/krb5.keytab``.

The krb5.conf layer (:mod:`gssmech.krb5.config`) is imported lazily; when it is absent this
module falls back to a small token expander of its own and to an empty profile.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gssmech.environ import ENVIRON

DEFAULT_CCACHE_NAME = "FILE:/tmp/krb5cc_%{uid}"
DEFAULT_KEYTAB_NAME = "FILE:/etc/krb5.keytab"
DEFAULT_CCACHE_TYPE = 4


def _config_module() -> Any | None:
    try:
        from gssmech.krb5 import config
    except ImportError:
        return None
    # A config layer without load_default is not (yet) the API we use: fall back.
    return config if hasattr(config, "load_default") else None


def load_profile(config: Any | None, env: Mapping[str, str]) -> Any | None:
    """``config`` if given, else the default krb5.conf profile (None without a config layer)."""
    if config is not None:
        return config
    mod = _config_module()
    if mod is None:
        return None
    return mod.load_default(env)


def _fallback_expand(text: str) -> str:
    tokens = {
        "uid": str(os.getuid()),
        "euid": str(os.geteuid()),
        "USERID": str(os.geteuid()),
        "TEMP": ENVIRON.get("TMPDIR", "/tmp"),
        "null": "",
    }
    for name, value in tokens.items():
        text = text.replace("%{" + name + "}", value)
    return text


def expand_path_tokens(text: str, env: Mapping[str, str] | None = None) -> str:
    """``%{uid}``, ``%{euid}``... as in MIT's ``k5_expand_path_tokens``."""
    mod = _config_module()
    if mod is not None and hasattr(mod, "expand_path_tokens"):
        return str(mod.expand_path_tokens(text, env=env))
    return _fallback_expand(text)


def _scalar(value: Any) -> Any:
    """First value when the profile hands back a list (a relation given more than once)."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _profile_value(profile: Any | None, key: str) -> str | None:
    """``[libdefaults] key`` through the documented ``Profile.get(*path, default=None)``."""
    if profile is None or not hasattr(profile, "get"):
        return None
    value = _scalar(profile.get("libdefaults", key, default=None))
    return str(value) if value else None


def default_ccache_name(*, config: Any | None = None, env: Mapping[str, str] = ENVIRON) -> str:
    if env.get("KRB5CCNAME"):
        return env["KRB5CCNAME"]
    value = _profile_value(load_profile(config, env), "default_ccache_name")
    return expand_path_tokens(value or DEFAULT_CCACHE_NAME, env)


def default_keytab_name(*, config: Any | None = None, env: Mapping[str, str] = ENVIRON) -> str:
    if env.get("KRB5_KTNAME"):
        return env["KRB5_KTNAME"]
    value = _profile_value(load_profile(config, env), "default_keytab_name")
    return expand_path_tokens(value or DEFAULT_KEYTAB_NAME, env)


def ccache_type(*, config: Any | None = None, env: Mapping[str, str] = ENVIRON) -> int:
    """``[libdefaults] ccache_type`` (1-4, default 4): the version of newly written caches."""
    profile = load_profile(config, env)
    if profile is None or not hasattr(profile, "get"):
        return DEFAULT_CCACHE_TYPE
    value = _scalar(profile.get("libdefaults", "ccache_type", default=None))
    try:
        version = int(str(value).strip()) if value is not None else DEFAULT_CCACHE_TYPE
    except ValueError:
        return DEFAULT_CCACHE_TYPE
    return version if version in (1, 2, 3, 4) else DEFAULT_CCACHE_TYPE
