"""Build the two plugin shared libraries (DESIGN.md "The plugin library").

Run by setup.py (``build_py``; also ``python -m gssmech._plugin.build OUTDIR``).  Inputs live in
``cdefs/``.  Two libraries, installed side by side:

- ``libgssmech.so``, the *front* (what the mech.d line names): plain C, compiled with the C
  compiler directly -- ``front.c`` (lazy loader) + ``plugin.c`` + ``discovery.c`` (pure-C mech
  discovery) + ``plugin_ctx.c`` (the exported gss_* wrappers and fail-closed mapping), version
  script ``exports.map``.
  It does not link libpython, so a process whose mechglue merely enumerates mechs
  (gss_indicate_mechs in sshd) never maps Python.
- ``libgssmech_python.so``, the *Python half*: the cffi embedding library (``backend.c`` +
  ``gssmech_plugin.cdef``), exporting one symbol (``backend.map``) that returns the table of
  ``extern "Python"`` dispatchers.  The front dlopen()s it the first time a call needs Python.

The table layout (``struct gssmech_backend``) is generated from the cdef for both sides, with
an ABI number derived from its text, so a mismatched pair fails closed.  A generated prologue
also bakes in what C needs without Python: our boundary minor codes and their messages (from
:mod:`gssmech.errors`), libpython's soname, and the site directories of the interpreter that
built the library (a C host starts a bare interpreter that does not know about the virtualenv).

This module imports cffi at build time only; nothing here runs inside the plugin.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zlib
from pathlib import Path
from types import ModuleType

MODULE_NAME = "_gssmech_plugin"  # lands in the host's sys.modules: unique on purpose
LIBRARY_NAME = "libgssmech.so"  # the front (gssmech._plugin.LIBRARY_NAME)
BACKEND_NAME = "libgssmech_python.so"  # the Python half (gssmech._plugin.BACKEND_NAME)
BACKEND_SYMBOL = "gssspi_gssmech_backend_v1"  # its only export (cdefs/backend.map)
ROOT = Path(__file__).resolve().parents[2]
CDEFS = ROOT / "cdefs"


def _errors_module() -> ModuleType:
    """gssmech/errors.py loaded by path (stdlib-only), so building needs no runtime deps."""
    spec = importlib.util.spec_from_file_location("_gssmech_errors", ROOT / "gssmech" / "errors.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _c_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def forward_declarations(cdef: str) -> str:
    """``static int py_x(...);`` for each ``extern "Python" static`` declaration: cffi defines
    them after the set_source code, which refers to them."""
    decls = re.findall(r'extern "Python" (static [^;]*;)', cdef, flags=re.DOTALL)
    return "\n".join(decls) + "\n"


def dispatchers(cdef: str) -> list[tuple[str, str]]:
    """``(name, parameter list)`` of each ``extern "Python" static int py_x(...)``."""
    found = re.findall(r'extern "Python" static int (py_\w+)\((.*?)\);', cdef, flags=re.DOTALL)
    return [(name, " ".join(params.split())) for name, params in found]


def backend_table(cdef: str) -> str:
    """C text shared by both halves: ``struct gssmech_backend`` (start + one pointer per
    dispatcher, in cdef order), its ABI number (CRC-32 of that text: any change of a signature
    or of the order makes an old/new pair refuse each other) and the Python half's initializer."""
    members = "".join(f"    int (*{name})({params});\n" for name, params in dispatchers(cdef))
    struct = (
        "struct gssmech_backend {\n    uint32_t abi;\n    uint32_t size;\n"
        f"    int (*start)(void);\n{members}}};\n"
    )
    names = ", ".join(name for name, _ in dispatchers(cdef))
    return (
        struct
        + f"#define GSSMECH_BACKEND_ABI {zlib.crc32(struct.encode())}u\n"
        + "#define GSSMECH_BACKEND_INITIALIZER {GSSMECH_BACKEND_ABI, "
        + f"sizeof(struct gssmech_backend), gssmech_backend_start, {names}}}\n"
    )


def _site_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return sorted({paths["purelib"], paths["platlib"]})


def prologue(cdef: str | None = None) -> str:
    """Generated head of the front library's C source."""
    if cdef is None:
        cdef = (CDEFS / "gssmech_plugin.cdef").read_text()
    errors = _errors_module()
    minor = errors.Minor
    msgs = errors.MINOR_MESSAGES
    lines = [
        "#define _GNU_SOURCE 1 /* dladdr */",
        "#include <errno.h>",
        "#include <stdint.h>",
        "#include <gssapi/gssapi.h>",
        "#include <gssapi/gssapi_ext.h>",
        '#define GSSMECH_EXPORT __attribute__((visibility("default")))',
        f"#define GSSMECH_MINOR_PYTHON_EXCEPTION {int(minor.PYTHON_EXCEPTION)}u",
        f"#define GSSMECH_MINOR_PYTHON_UNAVAILABLE {int(minor.PYTHON_UNAVAILABLE)}u",
        f"#define GSSMECH_MSG_PYTHON_EXCEPTION {_c_string(msgs[minor.PYTHON_EXCEPTION])}",
        f"#define GSSMECH_MSG_PYTHON_UNAVAILABLE {_c_string(msgs[minor.PYTHON_UNAVAILABLE])}",
        f"#define GSSMECH_BACKEND_NAME {_c_string(BACKEND_NAME)}",
        f"#define GSSMECH_BACKEND_SYMBOL {_c_string(BACKEND_SYMBOL)}",
        backend_table(cdef),
    ]
    # Every dispatcher call in plugin.c goes through the table; plugin.c calls one only after
    # gssmech_start() succeeded, so g_backend is set.
    lines += [f"#define {name} (g_backend->{name})" for name, _ in dispatchers(cdef)]
    return "\n".join(lines) + "\n"


def backend_prologue(cdef: str) -> str:
    """Generated head of the Python half's set_source code."""
    soname = (
        sysconfig.get_config_var("INSTSONAME")
        or f"libpython{sys.version_info[0]}.{sys.version_info[1]}.so"
    )
    preinit = PREINIT_CODE.replace("@SITE_DIRS@", repr(_site_dirs()))
    base_executable = getattr(sys, "_base_executable", None) or sys.executable
    lines = [
        f"#define GSSMECH_LIBPYTHON {_c_string(soname)}",
        f"#define GSSMECH_PREINIT_CODE {_c_string(preinit)}",
        # Where the interpreter's stdlib is, for a privileged host that must not let PATH or
        # PYTHONHOME choose it (cdefs/backend.c gssmech_init_isolated).
        f"#define GSSMECH_PYTHON_HOME {_c_string(sys.base_prefix)}",
        f"#define GSSMECH_PYTHON_EXECUTABLE {_c_string(base_executable)}",
        f"#define GSSMECH_BACKEND_ENTRY {BACKEND_SYMBOL}",
        "#include <stdint.h>",
        "#include <gssapi/gssapi.h>",
        "#include <gssapi/gssapi_ext.h>",
        backend_table(cdef),
    ]
    return "\n".join(lines) + "\n"


#: Run in a C host right after Py_InitializeEx, before cffi imports _cffi_backend: the
#: building interpreter's site directories go after PYTHONPATH and the stdlib but before the
#: base interpreter's site-packages (so its cffi matches the generated code).
PREINIT_CODE = """\
import sys, site
if not getattr(sys, 'argv', None):
    sys.argv = ['']
_known = set(sys.path)
for _d in @SITE_DIRS@:
    site.addsitedir(_d)
_new = [p for p in sys.path if p not in _known]
_old = [p for p in sys.path if p in _known]
_pos = next((i for i, p in enumerate(_old) if p.endswith('site-packages')), len(_old))
sys.path[:] = _old[:_pos] + _new + _old[_pos:]
del _known, _new, _old, _pos, _d
"""

#: cffi's embedding init code (runs once per process, in the host's interpreter if it has one).
INIT_CODE = """\
import os, sys
from _gssmech_plugin import ffi, lib


def _gssmech_bootstrap():
    secure = lib.gssmech_secure()
    if not secure and os.environ.get('GSSMECH_PLUGIN_TEST_BREAK') == 'import':
        raise ImportError('gssmech plugin: import broken on purpose (GSSMECH_PLUGIN_TEST_BREAK)')
    path = ffi.string(lib.gssmech_library_path()).decode(sys.getfilesystemencoding())
    # <root>/gssmech/_plugin/libgssmech.so -> <root> (a source tree or site-packages)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(path))))
    if lib.gssmech_c_host():
        if root not in sys.path:
            sys.path.insert(0, root)
    else:
        import importlib.util
        if importlib.util.find_spec('gssmech') is None:
            sys.path.append(root)  # a Python host: never shadow the application's modules
    if secure:  # before any gssmech module reads a variable (gssmech/environ.py)
        from gssmech import environ
        environ.enter_secure_mode()
    from gssmech._plugin import dispatch
    dispatch.install(ffi, lib)


_gssmech_bootstrap()
del _gssmech_bootstrap
"""


def _krb5_flags() -> tuple[list[str], list[str], list[str]]:
    """Include dirs, library dirs, libraries for GSSAPI (krb5-config, else Debian paths)."""
    exe = shutil.which("krb5-config")
    if exe is None:
        return ["/usr/include/mit-krb5"], ["/usr/lib/x86_64-linux-gnu/mit-krb5"], ["gssapi_krb5"]
    cflags = shlex.split(subprocess.check_output([exe, "--cflags", "gssapi"], text=True))
    libs = shlex.split(subprocess.check_output([exe, "--libs", "gssapi"], text=True))
    inc = [f[2:] if f.startswith("-I") else f for f in cflags if f.startswith("-I")]
    inc += [cflags[i + 1] for i, f in enumerate(cflags) if f == "-isystem" and i + 1 < len(cflags)]
    libdirs = [f[2:] for f in libs if f.startswith("-L")]
    return inc, libdirs, ["gssapi_krb5"]


def make_ffi():  # -> cffi.FFI (cffi is a build dependency; no annotation to keep it lazy)
    """The Python half: cffi embedding module ``_gssmech_plugin``."""
    import cffi

    ffi = cffi.FFI()
    cdef = (CDEFS / "gssmech_plugin.cdef").read_text()
    ffi.cdef(cdef)
    body = (CDEFS / "backend.c").read_text()
    marker = "/* @FORWARD_DECLARATIONS@ */"
    assert marker in body, "cdefs/backend.c lost its forward-declaration marker"
    shared = (CDEFS / "buffer.c").read_text()
    source = backend_prologue(cdef) + body.replace(marker, forward_declarations(cdef) + shared)
    inc, libdirs, libs = _krb5_flags()
    ffi.set_source(
        MODULE_NAME,
        source,
        include_dirs=inc,
        library_dirs=libdirs,
        libraries=[*libs, "dl", "pthread"],
        extra_compile_args=[
            "-Wall",
            "-Wno-unused-function",
            "-Werror=implicit-function-declaration",
        ],
        extra_link_args=[f"-Wl,--version-script={CDEFS / 'backend.map'}"],
    )
    ffi.embedding_init_code(INIT_CODE)
    return ffi


def front_source() -> str:
    """The front library's whole C translation unit."""
    cdef = (CDEFS / "gssmech_plugin.cdef").read_text()
    parts = [prologue(cdef)] + [(CDEFS / n).read_text() for n in FRONT_SOURCES]
    return "\n".join(parts)


FRONT_SOURCES = ("front.c", "buffer.c", "plugin.c", "discovery.c", "plugin_ctx.c")


def front_command(src: Path, out: Path) -> list[str]:
    """Compiler invocation for the front: a plain shared object that must not reference
    libpython (``-z defs``: any undefined symbol, e.g. a stray Py_*, fails the link)."""
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    inc, libdirs, libs = _krb5_flags()
    return [
        *cc,
        "-shared",
        "-fPIC",
        "-O2",
        "-fvisibility=hidden",
        "-Wall",
        "-Werror=implicit-function-declaration",
        "-Werror=incompatible-pointer-types",
        *shlex.split(os.environ.get("CFLAGS", "")),
        *[f"-I{d}" for d in inc],
        "-o",
        str(out),
        str(src),
        *shlex.split(os.environ.get("LDFLAGS", "")),
        *[f"-L{d}" for d in libdirs],
        *[f"-l{lib}" for lib in libs],
        "-ldl",
        "-lpthread",
        f"-Wl,--version-script={CDEFS / 'exports.map'}",
        "-Wl,-z,defs",
        "-Wl,-z,now",
    ]


def compile_front(tmpdir: Path, *, verbose: bool = False) -> Path:
    src = tmpdir / "gssmech_front.c"
    src.write_text(front_source())
    out = tmpdir / LIBRARY_NAME
    cmd = front_command(src, out)
    if verbose:
        print(shlex.join(cmd))
    subprocess.run(cmd, check=True)
    return out


def _install(built: Path, dest: Path) -> None:
    staged = dest.with_name(dest.name + ".tmp")
    shutil.copyfile(built, staged)
    os.chmod(staged, 0o755)
    # rename, not overwrite in place: a process may have the old library mapped.
    os.replace(staged, dest)


def build(outdir: str | os.PathLike[str], *, verbose: bool = False) -> Path:
    """Compile both libraries into ``outdir`` (each atomically replaced); return the path of
    the front, ``outdir/libgssmech.so`` (the Python half is ``outdir/libgssmech_python.so``)."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    ffi = make_ffi()
    with tempfile.TemporaryDirectory(prefix="gssmech-plugin-build-") as tmp:
        back = Path(ffi.compile(tmpdir=tmp, target="libgssmech_python.*", verbose=verbose))
        front = compile_front(Path(tmp), verbose=verbose)
        # The Python half first: a new front finding an old half refuses it (ABI), not v.v.
        _install(back, out / BACKEND_NAME)
        _install(front, out / LIBRARY_NAME)
    return out / LIBRARY_NAME


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parent)
    print(build(target, verbose=True))
