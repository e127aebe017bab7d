#!/usr/bin/env python3
"""Plugin start-up benchmark (issue 5): a C host program linked to the system libgssapi.

- first call into the plugin (gss_canonicalize_name -> our gss_import_name: starts Python and
  imports gssmech), wall time inside the process;
- gss_indicate_mechs (first call: reads the config, dlopens every configured mech and asks its
  attributes) with vs without our plugin configured -- the mechglue loads only our pure-C front
  library (no libpython DT_NEEDED), so the extra cost is one small dlopen + a few OID sets;
  Python must not start and libpython must not even be mapped (/proc/self/maps).

Targets: start <= 150 ms; indicate_mechs <= 1 ms extra.  Medians of fresh processes, taken in
turns.  Prints the figures and "MISS" for a missed target; exits 0 either way (figures are
noisy on a shared machine), 1 only if the bench itself cannot run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gssmech._plugin import config_line, library_path
from gssmech.gss.oids import DEFAULT_NATIVE_MECH

RUNS = 9
HOST_C = r"""
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gssapi/gssapi.h>
static int mapped(const char *needle) {
    char line[4096]; int found = 0; FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL) return -1;
    while (fgets(line, sizeof(line), f) != NULL) if (strstr(line, needle)) found = 1;
    fclose(f);
    return found;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
int main(int argc, char **argv) {
    OM_uint32 major, minor; gss_OID_set set = GSS_C_NO_OID_SET; double t0, t1;
    unsigned char der[] = {0x88, 0x37, 0xaf, 0x60, 0x01}; gss_OID_desc mech = {5, der};
    gss_buffer_desc b = {16, "host@example.com"}; gss_name_t n = 0, mn = 0;
    int (*pyinit)(void);
    if (argc > 1 && !strcmp(argv[1], "start")) {
        major = gss_import_name(&minor, &b, GSS_C_NT_HOSTBASED_SERVICE, &n);
        t0 = now();
        major = gss_canonicalize_name(&minor, n, &mech, &mn);
        t1 = now();
        printf("%.3f %u\n", t1 - t0, major);
        return major != 0;
    }
    t0 = now();
    major = gss_indicate_mechs(&minor, &set);
    t1 = now();
    pyinit = (int (*)(void))dlsym(RTLD_DEFAULT, "Py_IsInitialized");
    printf("%.3f %zu %d %d\n", t1 - t0, set ? set->count : 0, pyinit ? pyinit() : 0,
           mapped("/libpython"));
    gss_release_oid_set(&minor, &set);
    return major != 0;
}
"""


def main() -> int:
    if shutil.which("gcc") is None or shutil.which("krb5-config") is None:
        print("bench_plugin_start: needs gcc and krb5-config; skipped")
        return 0
    if not library_path().exists():
        print(f"bench_plugin_start: {library_path()} not built", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "h.c").write_text(HOST_C)
        flags = subprocess.check_output(["krb5-config", "--cflags", "--libs", "gssapi"], text=True)
        subprocess.run(
            ["gcc", "-O2", "-o", str(d / "h"), str(d / "h.c"), *flags.split(), "-ldl"], check=True
        )
        with_conf, without_conf = d / "with.conf", d / "without.conf"
        with_conf.write_text(config_line(DEFAULT_NATIVE_MECH.dotted) + "\n")
        without_conf.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GSSMECH_")}

        def run(conf: Path, *args: str) -> list[str]:
            out = subprocess.run(
                [str(d / "h"), *args],
                env={**env, "GSS_MECH_CONFIG": str(conf)},
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            return out.stdout.split()

        starts, ind_with, ind_without, pythons, maps = [], [], [], set(), set()
        for _ in range(RUNS):
            starts.append(float(run(with_conf, "start")[0]))
            ms, _count, py, libpython = run(with_conf)
            ind_with.append(float(ms))
            pythons.add(py)
            maps.add(libpython)
            ind_without.append(float(run(without_conf)[0]))
    start = statistics.median(starts)
    extra = statistics.median(ind_with) - statistics.median(ind_without)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISS"

    print(
        f"first call into the plugin (Python start + import): {start:8.1f} ms  "
        f"(target <= 150: {verdict(start <= 150)})"
    )
    print(f"gss_indicate_mechs with plugin:    {statistics.median(ind_with):8.3f} ms")
    print(f"gss_indicate_mechs without plugin: {statistics.median(ind_without):8.3f} ms")
    print(f"extra: {extra:8.3f} ms (target <= 1: {verdict(extra <= 1.0)})")
    print(
        f"indicate_mechs started Python: {'yes' if '1' in pythons else 'no'}; mapped libpython: "
        f"{'yes' if '1' in maps else 'no'} ({verdict(pythons == {'0'} and maps == {'0'})})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
