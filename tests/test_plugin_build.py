"""The plugin libraries build (setup.py -> gssmech._plugin.build): both compile from cdefs/; the
front exports exactly the GSS SPI and does not link libpython; the Python half exports only its
dispatcher table."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gssmech._plugin import BACKEND_NAME, LIBRARY_NAME, backend_path, build, library_path

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


def needed(path: Path) -> list[str]:
    """DT_NEEDED entries (readelf -d)."""
    out = subprocess.check_output(["readelf", "-d", str(path)], text=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


needs_nm = pytest.mark.skipif(
    shutil.which("nm") is None or shutil.which("readelf") is None, reason="needs binutils"
)


def _check_pair(front: Path, back: Path) -> None:
    names = exported(front)
    assert all(re.fullmatch(r"gss(spi)?_\w+", n) for n in names), sorted(names)
    assert REQUIRED <= names, sorted(REQUIRED - names)
    assert not any(n.startswith("PyInit") for n in names)
    # The whole point of the split: nothing Python in the library every mechglue maps.
    assert not any("python" in lib for lib in needed(front)), needed(front)
    undefined = subprocess.check_output(["nm", "-D", "-u", str(front)], text=True).split()
    assert not any(re.match(r"_?Py", n) for n in undefined), undefined
    # The Python half: the cffi embedding library, exporting only the table the front uses.
    assert exported(back) == {build.BACKEND_SYMBOL}
    assert any(lib.startswith("libpython") for lib in needed(back)), needed(back)


@needs_nm
def test_installed_libraries() -> None:
    assert library_path().exists(), "pip install -e . did not build the front library"
    assert backend_path().exists(), "pip install -e . did not build the Python half"
    assert backend_path().parent == library_path().parent  # the front looks next to itself
    _check_pair(library_path(), backend_path())


@needs_nm
def test_fresh_build_from_cdefs(tmp_path: Path) -> None:
    path = build.build(tmp_path)
    assert path == tmp_path / build.LIBRARY_NAME
    assert (build.LIBRARY_NAME, build.BACKEND_NAME) == (LIBRARY_NAME, BACKEND_NAME)
    _check_pair(path, tmp_path / build.BACKEND_NAME)
    assert exported(path) == exported(library_path())


def test_backend_table_abi_follows_the_cdef() -> None:
    """Front and Python half agree on the table layout through an ABI number derived from it:
    changing one dispatcher's signature, or the order, changes the number."""
    cdef = (build.CDEFS / "gssmech_plugin.cdef").read_text()

    def abi(text: str) -> str:
        m = re.search(r"GSSMECH_BACKEND_ABI (\d+)u", build.backend_table(text))
        assert m
        return m.group(1)

    names = [n for n, _ in build.dispatchers(cdef)]
    assert len(names) == len(set(names)) > 0
    changed = cdef.replace(
        "py_wrap(OM_uint32 *, OM_uint32 *, uint64_t, int,",
        "py_wrap(OM_uint32 *, OM_uint32 *, uint64_t, long,",
    )
    assert changed != cdef and abi(changed) != abi(cdef)
    a = cdef.index('extern "Python" static int py_get_mic')
    b = cdef.index('extern "Python" static int py_verify_mic')
    c = cdef.index("\n\n", b)
    swapped = cdef[:a] + cdef[b:c] + "\n" + cdef[a:b] + cdef[c:]
    assert sorted(build.dispatchers(swapped)) == sorted(build.dispatchers(cdef))
    assert abi(swapped) != abi(cdef)
    # Every dispatcher is forwarded through the table in the front.
    front = build.prologue(cdef)
    assert all(f"#define {n} (g_backend->{n})" in front for n in names)


def test_forward_declarations_cover_every_dispatcher() -> None:
    cdef = (build.CDEFS / "gssmech_plugin.cdef").read_text()
    decls = build.forward_declarations(cdef)
    names = set(re.findall(r"\b(py_\w+)\(", decls))
    from gssmech._plugin.dispatch import Marshal

    assert names == {n for n in dir(Marshal) if n.startswith("py_")}
    assert names == {n for n, _ in build.dispatchers(cdef)}


def test_prologue_takes_codes_from_errors() -> None:
    from gssmech.errors import MINOR_MESSAGES, Minor

    text = build.prologue()
    assert f"GSSMECH_MINOR_PYTHON_EXCEPTION {int(Minor.PYTHON_EXCEPTION)}u" in text
    assert MINOR_MESSAGES[Minor.PYTHON_UNAVAILABLE] in text
