"""The gssmech plugin library: what the system GSS library (MIT krb5's mechglue) loads.

Two libraries sit next to this file, both built by setup.py from ``cdefs/`` (see
:mod:`gssmech._plugin.build`): ``libgssmech.so``, the pure-C front that the mech.d line names
(exported gss_* wrappers and mech discovery; it does not link libpython), and
``libgssmech_python.so``, the cffi embedding library the front dlopen()s the first time a call
needs Python; its dispatchers call :mod:`gssmech._plugin.dispatch`, which calls
:mod:`gssmech._plugin.mech`.  The ``gssmech
mech`` command (:mod:`gssmech._plugin.cli`) prints, installs and checks the mech.d line.
"""

from __future__ import annotations

from pathlib import Path

from gssmech.gss.oids import DEFAULT_NATIVE_MECH

#: The front library: the one the mech.d line names (build.LIBRARY_NAME).
LIBRARY_NAME = "libgssmech.so"
#: The Python half, loaded lazily by the front from its own directory (build.BACKEND_NAME).
BACKEND_NAME = "libgssmech_python.so"
#: The ``name`` field of the mech.d line (informational for the mechglue).
MECH_NAME = "gssmech"
#: RFC 5801 §3.1 GS2 SASL mechanism name the library answers (cdefs/plugin.c SASL_NAME).
SASL_NAME = "GS2-GSSMECH"


def library_path() -> Path:
    """Absolute path of the installed front library, the one mech.d names (it may not have
    been built)."""
    return Path(__file__).resolve().parent / LIBRARY_NAME


def backend_path() -> Path:
    """Absolute path of the Python half next to the front (it may not have been built)."""
    return Path(__file__).resolve().parent / BACKEND_NAME


def config_line(oid: str = DEFAULT_NATIVE_MECH.dotted, path: Path | None = None) -> str:
    """The mech.d line: ``<name> <dotted OID> <absolute library path>``
    (MIT ``g_initialize.c`` loadConfigFile)."""
    return f"{MECH_NAME} {oid} {path or library_path()}"
