"""What starting Python inside a C host must leave alone: the host's locale.

CPython sets LC_CTYPE from LANG/LC_* while it starts; a C program that never called setlocale
runs in the "C" locale and would find itself in another one after its first GSS call into the
plugin (mbstowcs, isalpha and friends change meaning under it).  The plugin puts the host's
LC_CTYPE back (cdefs/backend.c); UTF-8 names still round-trip, since Python fixed its encodings
as it started.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gssmech._plugin import library_path

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

HOST_C = r"""
#include <dlfcn.h>
#include <locale.h>
#include <stdio.h>
#include <gssapi/gssapi.h>

typedef OM_uint32 (*import_fn)(OM_uint32 *, gss_buffer_t, gss_OID, gss_name_t *);
typedef OM_uint32 (*display_fn)(OM_uint32 *, gss_name_t, gss_buffer_t, gss_OID *);

int main(int argc, char **argv) {
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    import_fn import_name; display_fn display_name;
    OM_uint32 major, minor = 0; gss_name_t name = GSS_C_NO_NAME; gss_OID nt;
    gss_buffer_desc in = {15, "h\xc3\xb4st@localhost"}, out = {0, NULL};
    if (lib == NULL) { printf("dlopen failed: %s\n", dlerror()); return 2; }
    import_name = (import_fn)dlsym(lib, "gss_import_name");
    display_name = (display_fn)dlsym(lib, "gss_display_name");
    printf("before=%s\n", setlocale(LC_CTYPE, NULL));
    major = import_name(&minor, &in, GSS_C_NT_HOSTBASED_SERVICE, &name);
    printf("after=%s\n", setlocale(LC_CTYPE, NULL));
    if (major == GSS_S_COMPLETE)
        major = display_name(&minor, name, &out, &nt);
    printf("major=%u\nname=%.*s\n", major, (int)out.length, (char *)out.value);
    return 0;
}
"""


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("embedding_host")
    (d / "host.c").write_text(HOST_C)
    flags = subprocess.check_output(["krb5-config", "--cflags", "--libs", "gssapi"], text=True)
    subprocess.run(["gcc", "-o", str(d / "host"), str(d / "host.c"), *flags.split(), "-ldl"],
                   check=True)
    return d / "host"


def test_the_hosts_locale_is_left_alone(host: Path, tmp_path: Path) -> None:
    conf = tmp_path / "krb5.conf"
    conf.write_text("[libdefaults]\n default_realm = EMBED.TEST\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "KRB5", "GSSMECH_"))}
    env.update(LANG="C.UTF-8", KRB5_CONFIG=str(conf))
    proc = subprocess.run([str(host), str(library_path())], env=env, capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = dict(line.split(b"=", 1) for line in proc.stdout.splitlines())
    assert out[b"before"] == out[b"after"] == b"C"
    assert out[b"major"] == b"0"
    assert out[b"name"].decode("utf-8") == "h\u00f4st/localhost@"
