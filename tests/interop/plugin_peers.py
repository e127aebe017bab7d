"""Helpers for running C peers (MIT gss-sample, Cyrus SASL samples) against the plugin.

:func:`plugin_env` builds the environment every peer process gets: the MIT test realm's
krb5.conf and host keytab, an anonymous ticket cache (``kinit -n``) and ``GSS_MECH_CONFIG``
naming a file with our mech.d line.  :func:`run_sasl_pair` runs ``sasl-sample-server`` and
``sasl-sample-client``, which talk over stdin/stdout (lines ``S: <base64>`` / ``C: <base64>``,
Cyrus ``sample/sample-*.c``), relaying those lines between them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gssmech._plugin import config_line
from tests.interop.mitrealm import MITRealm, find_program

#: The realm's anonymous principal as MIT displays it (RFC 6111 §2: WELLKNOWN/ANONYMOUS in
#: the realm WELLKNOWN:ANONYMOUS for a fully anonymous client).
ANONYMOUS_PRINCIPAL = "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"


def plugin_env(realm: MITRealm, d: Path, *, service_ticket: bool = False) -> dict[str, str]:
    """Environment for a peer process: anonymous ccache, host keytab, our mech.d line; with
    ``service_ticket`` the cache also holds the host service ticket (MIT ``kvno``)."""
    anon = d / "anon.cc"
    realm.kinit("@" + realm.realm, flags=["-n"], ccache=anon)
    if service_ticket:
        realm.run(["kvno", "-c", str(anon), realm.host_principal])
    conf = d / "mech.conf"
    conf.write_text(config_line() + "\n")
    env = {k: v for k, v in realm.env.items() if not k.startswith("GSSMECH_")}
    env.update(
        GSS_MECH_CONFIG=str(conf), KRB5CCNAME=f"FILE:{anon}", GSSMECH_ANON_CCACHE=f"FILE:{anon}"
    )
    return env


ROOT = Path(__file__).resolve().parents[2]

#: How every python-gssapi script of the plugin tests starts: ``OID`` is the mechanism to use,
#: passed as DER hex in argv[1] (ours, or MIT's krb5 for a comparison run), ``target`` the
#: host-based service in argv[2].
GSSAPI_SCRIPT_HEAD = """
import json, sys
import gssapi, gssapi.raw as raw
from gssapi.raw import RequirementFlag as F
OID = gssapi.OID(elements=bytes.fromhex(sys.argv[1]))
target = gssapi.Name(sys.argv[2], gssapi.NameType.hostbased_service)
"""


def run_json_script(
    env: dict[str, str], script: str, *args: str, timeout: float = 120
) -> dict[str, object]:
    """Run ``script`` (python-gssapi code that prints one JSON line last) in a fresh
    interpreter, so that the GSS library reads ``env`` anew; its exit status must be 0."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


#: C for a host program: ``mech`` (set by main from hex DER), ``die`` and ``one``, which runs
#: one anonymous context pair through libgssapi (init, accept, init for the mutual reply),
#: checks the anonymity flags and the source name type, and round-trips one wrap token.  The
#: host follows the common idiom of releasing a context token only when its length is
#: non-zero (RFC 2744 §5.19).
ANON_PAIR_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

static gss_OID_desc mech;

static void die(const char *what, OM_uint32 major, OM_uint32 minor) {
    printf("error %s major=%u minor=%u\n", what, major, minor);
    exit(1);
}

/* One full anonymous context pair; exits with an "error" line on any mismatch. */
static void one(gss_cred_id_t acred, gss_name_t target, int n) {
    OM_uint32 major, minor, iflags = 0, aflags = 0, req;
    gss_ctx_id_t ini = GSS_C_NO_CONTEXT, acc = GSS_C_NO_CONTEXT;
    gss_buffer_desc itok = {0, NULL}, atok = {0, NULL}, msg, wrapped = {0, NULL},
                    plain = {0, NULL}, disp = {0, NULL};
    gss_name_t src = GSS_C_NO_NAME; gss_OID nt = GSS_C_NO_OID;
    char text[64]; int conf = 0, rounds = 0;

    req = GSS_C_ANON_FLAG | GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_CONF_FLAG |
          GSS_C_INTEG_FLAG;
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ini, target, &mech, req, 0,
                                 NULL, GSS_C_NO_BUFFER, NULL, &itok, &iflags, NULL);
    while (!GSS_ERROR(major) && itok.length != 0 && rounds++ < 4) {
        major = gss_accept_sec_context(&minor, &acc, acred, &itok, NULL,
                                       src == GSS_C_NO_NAME ? &src : NULL, NULL, &atok,
                                       &aflags, NULL, NULL);
        gss_release_buffer(&minor, &itok);
        if (GSS_ERROR(major)) die("accept", major, minor);
        if (atok.length == 0) break;
        major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ini, target, &mech, req, 0,
                                     NULL, &atok, NULL, &itok, &iflags, NULL);
        gss_release_buffer(&minor, &atok);
    }
    if (GSS_ERROR(major)) die("init", major, minor);
    if (!(iflags & GSS_C_ANON_FLAG) || !(aflags & GSS_C_ANON_FLAG)) die("anon_flag", 0, 0);
    major = gss_display_name(&minor, src, &disp, &nt);
    if (major != GSS_S_COMPLETE || nt == GSS_C_NO_OID || !gss_oid_equal(nt, GSS_C_NT_ANONYMOUS))
        die("display", major, minor);
    gss_release_buffer(&minor, &disp);

    snprintf(text, sizeof(text), "message %d", n);
    msg.value = text; msg.length = strlen(text);
    major = gss_wrap(&minor, ini, 1, GSS_C_QOP_DEFAULT, &msg, &conf, &wrapped);
    if (major != GSS_S_COMPLETE || !conf) die("wrap", major, minor);
    major = gss_unwrap(&minor, acc, &wrapped, &plain, &conf, NULL);
    if (major != GSS_S_COMPLETE || plain.length != msg.length ||
        memcmp(plain.value, msg.value, msg.length) != 0)
        die("unwrap", major, minor);
    gss_release_buffer(&minor, &wrapped); gss_release_buffer(&minor, &plain);
    gss_release_name(&minor, &src);
    gss_delete_sec_context(&minor, &ini, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &acc, GSS_C_NO_BUFFER);
}

"""


#: A C host that loads our front library directly (dlopen, no mechglue) and calls its
#: gss_import_name (the first call: Python starts here) and gss_display_name on argv[2] as a
#: host-based name.  It prints ``key=value`` lines: AT_SECURE, LC_CTYPE before and after the
#: first call, both majors and the displayed name (UTF-8 bytes as given).
DIRECT_HOST_C = r"""
#include <dlfcn.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <gssapi/gssapi.h>

typedef OM_uint32 (*import_fn)(OM_uint32 *, gss_buffer_t, gss_OID, gss_name_t *);
typedef OM_uint32 (*display_fn)(OM_uint32 *, gss_name_t, gss_buffer_t, gss_OID *);

int main(int argc, char **argv) {
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    import_fn import_name; display_fn display_name;
    OM_uint32 major, minor = 0; gss_name_t name = GSS_C_NO_NAME; gss_OID nt;
    gss_buffer_desc in = {strlen(argv[2]), argv[2]}, out = {0, NULL};
    if (lib == NULL) { printf("dlopen failed: %s\n", dlerror()); return 2; }
    import_name = (import_fn)dlsym(lib, "gss_import_name");
    display_name = (display_fn)dlsym(lib, "gss_display_name");
    printf("secure=%lu\nbefore=%s\n", getauxval(AT_SECURE), setlocale(LC_CTYPE, NULL));
    major = import_name(&minor, &in, GSS_C_NT_HOSTBASED_SERVICE, &name);
    printf("after=%s\nimport=%u\n", setlocale(LC_CTYPE, NULL), major);
    if (major == GSS_S_COMPLETE) {
        major = display_name(&minor, name, &out, &nt);
        printf("display=%u\nname=%.*s\n", major, (int)out.length, (char *)out.value);
    }
    return 0;
}
"""


def run_direct_host(host: Path, name: bytes, env: dict[str, str]) -> dict[str, str]:
    """Run a :data:`DIRECT_HOST_C` binary against our front library; its lines as a dict."""
    from gssmech._plugin import library_path

    proc = subprocess.run([str(host).encode(), bytes(library_path()), name], env=env,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict(line.decode("utf-8").split("=", 1) for line in proc.stdout.splitlines())


def build_c_host(d: Path, source: str, *extra: str) -> Path:
    """Compile ``source`` against the system libgssapi (krb5-config) into ``d/host``; ``extra``
    are more gcc flags (``-rdynamic``)."""
    (d / "host.c").write_text(source)
    flags = subprocess.check_output(["krb5-config", "--cflags", "--libs", "gssapi"], text=True)
    subprocess.run(["gcc", "-O1", "-g", *extra, "-o", str(d / "host"), str(d / "host.c"),
                    *flags.split(), "-ldl", "-lpthread"], check=True)
    return d / "host"


def missing(*programs: str) -> list[str]:
    return [p for p in programs if find_program(p) is None]


@dataclass
class SaslRun:
    """What the two sample programs printed; ``exchanged`` holds the relayed lines in order."""

    server_rc: int | None = None
    client_rc: int | None = None
    server_out: list[str] = field(default_factory=list)
    client_out: list[str] = field(default_factory=list)
    server_err: str = ""
    client_err: str = ""
    exchanged: list[str] = field(default_factory=list)

    def transcript(self) -> str:
        return (
            f"server rc={self.server_rc} stdout:\n"
            + "\n".join(self.server_out)
            + f"\nserver stderr:\n{self.server_err}\nclient rc={self.client_rc} stdout:\n"
            + "\n".join(self.client_out)
            + f"\nclient stderr:\n{self.client_err}"
        )


def _pump(
    src: subprocess.Popen[str],
    dst: subprocess.Popen[str],
    prefix: str,
    sink: list[str],
    run: SaslRun,
    tamper: Callable[[str], str] | None,
) -> None:
    assert src.stdout is not None and dst.stdin is not None
    for line in src.stdout:
        line = line.rstrip("\n")
        sink.append(line)
        if not line.startswith(prefix):
            continue
        if tamper is not None:
            line = tamper(line)
        run.exchanged.append(line)
        try:
            dst.stdin.write(line + "\n")
            dst.stdin.flush()
        except (BrokenPipeError, ValueError):
            break
    try:
        dst.stdin.close()
    except (BrokenPipeError, ValueError):
        pass


def run_sasl_pair(
    server_args: list[str],
    client_args: list[str],
    env: dict[str, str],
    *,
    timeout: float = 60,
    tamper_client: Callable[[str], str] | None = None,
) -> SaslRun:
    """Run both samples, relaying ``S:``/``C:`` lines; both are killed by the deadline.

    The samples use stdio, which is fully buffered on a pipe: ``stdbuf -oL`` makes each line
    reach the relay before the program blocks reading its peer's answer."""
    stdbuf = find_program("stdbuf") or "stdbuf"
    run = SaslRun()

    def start(args: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [stdbuf, "-oL", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    server = start(server_args)
    client = start(client_args)
    threads = [
        threading.Thread(target=_pump, args=(server, client, "S: ", run.server_out, run, None)),
        threading.Thread(
            target=_pump, args=(client, server, "C: ", run.client_out, run, tamper_client)
        ),
    ]
    try:
        for t in threads:
            t.daemon = True
            t.start()
        deadline = time.monotonic() + timeout
        for proc in (server, client):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        for proc in (server, client):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for t in threads:
            t.join(timeout=5)
    run.server_rc, run.client_rc = server.returncode, client.returncode
    assert server.stderr is not None and client.stderr is not None
    run.server_err, run.client_err = server.stderr.read(), client.stderr.read()
    for proc in (server, client):
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    return run
