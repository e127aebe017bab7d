"""The plugin library build (setup.py -> gssmech._plugin.build): it compiles from cdefs/ and
exports exactly the GSS SPI."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gssmech._plugin import build, library_path

REQUIRED = {  # issue 5 entry points, plus what the mechglue needs (notes §2, §9)
    "gss_acquire_cred",
    "gss_acquire_cred_from",
    "gss_release_cred",
    "gss_inquire_cred",
    "gss_inquire_cred_by_mech",
    "gss_init_sec_context",
    "gss_accept_sec_context",
    "gss_delete_sec_context",
    "gss_context_time",
    "gss_inquire_context",
    "gss_process_context_token",
    "gss_wrap",
    "gss_unwrap",
    "gss_get_mic",
    "gss_verify_mic",
    "gss_wrap_size_limit",
    "gss_pseudo_random",
    "gss_export_sec_context",
    "gss_import_sec_context",
    "gss_import_name",
    "gss_display_name",
    "gss_release_name",
    "gss_compare_name",
    "gss_duplicate_name",
    "gss_export_name",
    "gss_display_status",
    "gss_store_cred",
    "gss_store_cred_into",
    "gss_inquire_attrs_for_mech",
    "gss_inquire_saslname_for_mech",
    "gss_inquire_mech_for_saslname",
    "gssspi_set_cred_option",
    "gss_internal_release_oid",
}


def exported(path: Path) -> set[str]:
    out = subprocess.check_output(["nm", "-D", "--defined-only", str(path)], text=True)
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


needs_nm = pytest.mark.skipif(shutil.which("nm") is None, reason="needs binutils nm")


@needs_nm
def test_installed_library_exports_only_the_spi() -> None:
    assert library_path().exists(), "pip install -e . did not build the plugin library"
    names = exported(library_path())
    assert all(re.fullmatch(r"gss(spi)?_\w+", n) for n in names), sorted(names)
    assert REQUIRED <= names, sorted(REQUIRED - names)
    assert not any(n.startswith("PyInit") for n in names)


@needs_nm
def test_fresh_build_from_cdefs(tmp_path: Path) -> None:
    path = build.build(tmp_path)
    assert path == tmp_path / build.LIBRARY_NAME
    assert exported(path) == exported(library_path())


def test_forward_declarations_cover_every_dispatcher() -> None:
    cdef = (build.CDEFS / "gssmech_plugin.cdef").read_text()
    decls = build.forward_declarations(cdef)
    names = set(re.findall(r"\b(py_\w+)\(", decls))
    from gssmech._plugin.dispatch import Marshal

    assert names == {n for n in dir(Marshal) if n.startswith("py_")}


def test_prologue_takes_codes_from_errors() -> None:
    from gssmech.errors import MINOR_MESSAGES, Minor

    text = build.prologue()
    assert f"GSSMECH_MINOR_PYTHON_EXCEPTION {int(Minor.PYTHON_EXCEPTION)}u" in text
    assert MINOR_MESSAGES[Minor.PYTHON_UNAVAILABLE] in text
