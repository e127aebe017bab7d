"""Hosts the plugin lives in: what starting Python must leave alone, and whose Python it
must not use.

- CPython sets LC_CTYPE from LANG/LC_* while it starts; a C program that never called
  setlocale runs in the "C" locale and would find itself in another one after its first GSS
  call into the plugin (mbstowcs, isalpha and friends change meaning under it).  The plugin
  puts the host's LC_CTYPE back (cdefs/backend.c); UTF-8 names still round-trip, since Python
  fixed its encodings as it started.
- A host already running another Python (a python3.12 program using python-gssapi, the plugin
  built for 3.11) would have the plugin call that interpreter with the wrong ABI: it hung when
  tried.  The plugin refuses such a host before any Python call: GSS_S_FAILURE with
  PYTHON_UNAVAILABLE.  The test host stands in for one by exporting its own Py_IsInitialized
  and Py_GetVersion, which the Python half then binds to (the executable comes first).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gssmech._plugin import library_path
from gssmech.errors import GSS_S_FAILURE, Minor
from tests.interop.plugin_peers import DIRECT_HOST_C, build_c_host, run_direct_host

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_c_host(tmp_path_factory.mktemp("embedding_host"), DIRECT_HOST_C)


def test_the_hosts_locale_is_left_alone(host: Path, tmp_path: Path) -> None:
    conf = tmp_path / "krb5.conf"
    conf.write_text("[libdefaults]\n default_realm = EMBED.TEST\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "KRB5", "GSSMECH_"))}
    env.update(LANG="C.UTF-8", KRB5_CONFIG=str(conf))
    out = run_direct_host(host, "h\u00f4st@localhost".encode(), env)
    assert out["before"] == out["after"] == "C"
    assert out["import"] == out["display"] == "0"
    assert out["name"] == "h\u00f4st/localhost@"


FOREIGN_PYTHON_C = r"""
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <gssapi/gssapi.h>

/* What a python3.99 executable would export. */
int Py_IsInitialized(void) { return 1; }
const char *Py_GetVersion(void) { return "3.99.0 (main, Jan 1 2099) [GCC]"; }

typedef OM_uint32 (*import_fn)(OM_uint32 *, gss_buffer_t, gss_OID, gss_name_t *);

int main(int argc, char **argv) {
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    OM_uint32 major, minor = 0; gss_name_t name = GSS_C_NO_NAME;
    gss_buffer_desc in = {14, "host@localhost"};
    if (lib == NULL) { printf("dlopen failed: %s\n", dlerror()); return 2; }
    major = ((import_fn)dlsym(lib, "gss_import_name"))(&minor, &in, GSS_C_NT_HOSTBASED_SERVICE,
                                                         &name);
    printf("major=%u\nminor=%u\n", major, minor);
    return 0;
}
"""


def test_a_host_running_another_python_is_refused(tmp_path: Path) -> None:
    host = build_c_host(tmp_path, FOREIGN_PYTHON_C, "-rdynamic")
    proc = subprocess.run([str(host), str(library_path())], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    assert int(out["major"]) == GSS_S_FAILURE
    assert int(out["minor"]) == Minor.PYTHON_UNAVAILABLE
