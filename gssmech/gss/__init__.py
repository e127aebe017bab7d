"""gssmech's GSS-API mechanism in Python: names, credentials, RFC 4121 contexts.

The public, python-gssapi-shaped API lives in :mod:`gssmech.gss.api` and is re-exported here
lazily (PEP 562), so importing a small submodule such as :mod:`gssmech.gss.oids` does not load
the whole mechanism::

    from gssmech.gss import Name, NameType, Credentials, SecurityContext, RequirementFlag
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ChannelBindings": "gssmech.gss.api",
    "Credentials": "gssmech.gss.api",
    "MechType": "gssmech.gss.api",
    "Name": "gssmech.gss.api",
    "NameType": "gssmech.gss.api",
    "RequirementFlag": "gssmech.gss.api",
    "SecurityContext": "gssmech.gss.api",
    "SupplementaryStatus": "gssmech.gss.api",
    "UnwrapResult": "gssmech.gss.api",
    "WrapResult": "gssmech.gss.api",
    "GSSFlag": "gssmech.gss.flags",
    "Oid": "gssmech.gss.oids",
    "display_status": "gssmech.gss.display",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gssmech.gss' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
