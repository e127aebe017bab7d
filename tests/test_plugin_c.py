"""The plugin libraries under a C host: the system libgssapi loads the front through
GSS_MECH_CONFIG, and the front loads the Python half on first need.

A small C program (compiled here with gcc against libgssapi_krb5, ``krb5-config``) calls the
standard GSS API.  It proves: mech discovery answers without starting Python and without even
mapping libpython or the Python half (/proc/self/maps); names go through libgssapi -> front ->
Python half -> Python, also when many threads make the first call at once; and every failure of
the Python side (Python half missing, not loadable, mismatched; cannot import; handler raises)
is GSS_S_FAILURE with a minor code gss_display_status explains -- never success.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gssmech._plugin import build, config_line, library_path
from gssmech.errors import (
    GSS_S_BAD_NAME,
    GSS_S_COMPLETE,
    GSS_S_FAILURE,
    GSS_S_NO_CONTEXT,
    MINOR_MESSAGES,
    Minor,
)
from gssmech.gss.oids import DEFAULT_NATIVE_MECH
from tests.interop.plugin_peers import build_c_host

HOST_C = r"""
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

static gss_OID_desc mech;

static void hex(const void *p, size_t n) {
    const unsigned char *b = p; size_t i;
    for (i = 0; i < n; i++) printf("%02x", b[i]);
}

static int python_started(void) {
    int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "Py_IsInitialized");
    return f != NULL && f();
}

/* 1 if a mapping of this process has `needle` in its path (/proc/self/maps). */
static int mapped(const char *needle) {
    char line[4096]; int found = 0; FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL) return -1;
    while (fgets(line, sizeof(line), f) != NULL) if (strstr(line, needle)) found = 1;
    fclose(f);
    return found;
}

static void show_mapped(const char *when) {
    printf("mapped_%s libpython=%d python_half=%d front=%d\n", when, mapped("/libpython"),
           mapped("/libgssmech_python"), mapped("/libgssmech.so"));
}

static void show_minor(const char *what, OM_uint32 major, OM_uint32 minor) {
    OM_uint32 mn, ctx = 0; gss_buffer_desc msg = {0, NULL};
    printf("%s major=%u", what, major);
    if (GSS_ERROR(major) && gss_display_status(&mn, minor, GSS_C_MECH_CODE, &mech, &ctx, &msg)
        == GSS_S_COMPLETE) {
        printf(" minor_text=%.*s", (int)msg.length, (char *)msg.value);
        gss_release_buffer(&mn, &msg);
    }
    printf("\n");
}

static int cmd_discover(void) {
    OM_uint32 major, minor; gss_OID_set set = GSS_C_NO_OID_SET, attrs = GSS_C_NO_OID_SET;
    gss_buffer_desc sasl = {0, NULL}, name = {0, NULL}, desc = {0, NULL}; gss_OID back = NULL;
    size_t i;
    major = gss_indicate_mechs(&minor, &set);
    printf("indicate major=%u\n", major);
    for (i = 0; set && i < set->count; i++) {
        printf("mech "); hex(set->elements[i].elements, set->elements[i].length); printf("\n");
    }
    gss_release_oid_set(&minor, &set);
    printf("python_after_indicate=%d\n", python_started());
    show_mapped("indicate");
    major = gss_inquire_attrs_for_mech(&minor, &mech, &attrs, NULL);
    printf("attrs major=%u count=%zu\n", major, attrs ? attrs->count : 0);
    for (i = 0; attrs && i < attrs->count; i++) {
        printf("attr "); hex(attrs->elements[i].elements, attrs->elements[i].length); printf("\n");
    }
    gss_release_oid_set(&minor, &attrs);
    major = gss_inquire_saslname_for_mech(&minor, &mech, &sasl, &name, &desc);
    printf("sasl major=%u name=%.*s\n", major, (int)sasl.length, (char *)sasl.value);
    major = gss_inquire_mech_for_saslname(&minor, &sasl, &back);
    printf("saslmech major=%u oid=", major); if (back) hex(back->elements, back->length);
    printf("\n");
    gss_release_buffer(&minor, &sasl); gss_release_buffer(&minor, &name);
    gss_release_buffer(&minor, &desc);
    printf("python_after_discovery=%d\n", python_started());
    show_mapped("discovery");
    return 0;
}

static int cmd_names(void) {
    OM_uint32 major, minor; gss_name_t in = GSS_C_NO_NAME, mn = GSS_C_NO_NAME;
    gss_buffer_desc buf, out = {0, NULL}; gss_OID type = NULL;
    const char *cases[][2] = {{"host@example.com", "hb"}, {"", "anon"}};
    int i;
    for (i = 0; i < 2; i++) {
        buf.value = (void *)cases[i][0]; buf.length = strlen(cases[i][0]);
        major = gss_import_name(&minor, &buf, cases[i][1][0] == 'h' ? GSS_C_NT_HOSTBASED_SERVICE
                                : GSS_C_NT_ANONYMOUS, &in);
        show_minor("import", major, minor);
        major = gss_canonicalize_name(&minor, in, &mech, &mn);
        show_minor("canonicalize", major, minor);
        if (major == GSS_S_COMPLETE) {
            major = gss_display_name(&minor, mn, &out, &type);
            printf("display major=%u text=%.*s anon=%d\n", major, (int)out.length,
                   (char *)out.value, type == GSS_C_NT_ANONYMOUS);
            gss_release_buffer(&minor, &out);
        }
        gss_release_name(&minor, &mn); gss_release_name(&minor, &in);
    }
    printf("python_after_names=%d\n", python_started());
    show_mapped("names");
    return 0;
}

static int cmd_failclosed(void) {
    OM_uint32 major, minor, flags = 0; gss_name_t name = GSS_C_NO_NAME, target = GSS_C_NO_NAME;
    gss_OID_set_desc mechs = {1, &mech}; gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    gss_buffer_desc buf = {0, ""}, out = {0, NULL}, tok, hb = {16, "host@example.com"};
    unsigned char framed[64]; gss_name_t src = GSS_C_NO_NAME;

    major = gss_import_name(&minor, &buf, GSS_C_NT_ANONYMOUS, &name);
    show_minor("import_lazy", major, minor);
    major = gss_acquire_cred(&minor, name, 0, &mechs, GSS_C_INITIATE, &cred, NULL, NULL);
    show_minor("acquire_cred", major, minor);
    gss_release_cred(&minor, &cred);
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, &mechs, GSS_C_ACCEPT, &cred, NULL, NULL);
    show_minor("acquire_accept", major, minor);
    gss_import_name(&minor, &hb, GSS_C_NT_HOSTBASED_SERVICE, &target);
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, target, &mech,
                                 GSS_C_ANON_FLAG | GSS_C_MUTUAL_FLAG, 0, NULL, NULL, NULL,
                                 &out, &flags, NULL);
    show_minor("init", major, minor);
    printf("init_ctx_set=%d out_len=%zu\n", ctx != GSS_C_NO_CONTEXT, out.length);
    gss_release_buffer(&minor, &out);
    /* An initial token framed with our OID (RFC 2743 §3.1) so the mechglue routes it to us. */
    framed[0] = 0x60; framed[1] = (unsigned char)(2 + mech.length + 4);
    framed[2] = 0x06; framed[3] = (unsigned char)mech.length;
    memcpy(framed + 4, mech.elements, mech.length);
    memcpy(framed + 4 + mech.length, "\x01\x00\xde\xad", 4);
    tok.value = framed; tok.length = 4 + mech.length + 4;
    major = gss_accept_sec_context(&minor, &actx, cred, &tok, NULL, &src, NULL, &out, &flags,
                                   NULL, NULL);
    show_minor("accept", major, minor);
    printf("accept_ctx_set=%d src_set=%d out_len=%zu\n", actx != GSS_C_NO_CONTEXT,
           src != GSS_C_NO_NAME, out.length);
    gss_release_buffer(&minor, &out);
    tok.value = "hello"; tok.length = 5;
    major = gss_wrap(&minor, actx, 1, 0, &tok, NULL, &out);
    show_minor("wrap", major, minor);
    gss_release_cred(&minor, &cred); gss_release_name(&minor, &name);
    gss_release_name(&minor, &target); gss_release_name(&minor, &src);
    gss_delete_sec_context(&minor, &actx, NULL); gss_delete_sec_context(&minor, &ctx, NULL);
    return 0;
}

/* Call the library's own exports, bypassing the mechglue (which never routes an accept to us
 * without a credential of ours), with a well-formed handle token for a context id. */
typedef OM_uint32 (*accept_fn)(OM_uint32 *, gss_ctx_id_t *, gss_cred_id_t, gss_buffer_t,
                               gss_channel_bindings_t, gss_name_t *, gss_OID *, gss_buffer_t,
                               OM_uint32 *, OM_uint32 *, gss_cred_id_t *);
typedef OM_uint32 (*wrap_fn)(OM_uint32 *, gss_ctx_id_t, int, gss_qop_t, gss_buffer_t, int *,
                             gss_buffer_t);
typedef OM_uint32 (*import_fn)(OM_uint32 *, gss_buffer_t, gss_OID, gss_name_t *);
static int cmd_direct(const char *lib) {
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    struct { unsigned magic, kind; unsigned long long id; } fake = {0x474d4831u, 3, 424242};
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT; gss_name_t src = GSS_C_NO_NAME, nm = GSS_C_NO_NAME;
    gss_buffer_desc tok = {5, "hello"}, out = {0, NULL}; OM_uint32 major, minor, flags = 7;
    accept_fn acc; wrap_fn wr; import_fn imp;
    if (h == NULL) { printf("dlopen_failed %s\n", dlerror()); return 1; }
    acc = (accept_fn)dlsym(h, "gss_accept_sec_context");
    wr = (wrap_fn)dlsym(h, "gss_wrap");
    imp = (import_fn)dlsym(h, "gss_import_name");
    major = acc(&minor, &ctx, GSS_C_NO_CREDENTIAL, &tok, NULL, &src, NULL, &out, &flags, NULL,
                NULL);
    printf("direct_accept major=%u minor=%u ctx=%d src=%d out=%zu flags=%u\n", major, minor,
           ctx != NULL, src != NULL, out.length, flags);
    major = wr(&minor, (gss_ctx_id_t)&fake, 1, 0, &tok, NULL, &out);
    printf("direct_wrap major=%u minor=%u out=%zu\n", major, minor, out.length);
    major = imp(&minor, &tok, GSS_C_NT_USER_NAME, &nm);
    printf("direct_import major=%u minor=%u name=%d\n", major, minor, nm != NULL);
    return 0;
}

/* 8 threads make the first call needing Python at the same moment (the front's pthread_once,
 * cffi's start-up lock); each then displays its own name. */
static pthread_barrier_t barrier;
static void *race_one(void *arg) {
    OM_uint32 major, minor; char text[64]; gss_buffer_desc buf, out = {0, NULL};
    gss_name_t in = GSS_C_NO_NAME, mn = GSS_C_NO_NAME; long i = (long)arg; int ok = 0;
    snprintf(text, sizeof(text), "svc%ld@host%ld.example.com", i, i);
    buf.value = text; buf.length = strlen(text);
    major = gss_import_name(&minor, &buf, GSS_C_NT_HOSTBASED_SERVICE, &in);
    pthread_barrier_wait(&barrier);
    if (major == GSS_S_COMPLETE)
        major = gss_canonicalize_name(&minor, in, &mech, &mn);
    if (major == GSS_S_COMPLETE && gss_display_name(&minor, mn, &out, NULL) == GSS_S_COMPLETE) {
        snprintf(text, sizeof(text), "svc%ld/host%ld.example.com@", i, i);
        ok = out.length >= strlen(text) && memcmp(out.value, text, strlen(text)) == 0;
    }
    if (!ok) printf("race_fail major=%u minor=%u text=%.*s\n", major, minor, (int)out.length,
                    out.value ? (char *)out.value : "");
    gss_release_buffer(&minor, &out);
    gss_release_name(&minor, &mn); gss_release_name(&minor, &in);
    return (void *)(long)(ok ? 0 : 1);
}
static int cmd_race(void) {
    pthread_t t[8]; long i; void *rc; int bad = 0;
    pthread_barrier_init(&barrier, NULL, 8);
    for (i = 0; i < 8; i++) pthread_create(&t[i], NULL, race_one, (void *)i);
    for (i = 0; i < 8; i++) { pthread_join(t[i], &rc); if (rc != NULL) bad++; }
    printf("race threads=8 bad=%d\n", bad);
    return 0;
}

int main(int argc, char **argv) {
    static unsigned char der[64]; size_t i, n;
    if (argc < 3) return 2;
    n = strlen(argv[2]) / 2;
    for (i = 0; i < n && i < sizeof(der); i++) sscanf(argv[2] + 2 * i, "%2hhx", &der[i]);
    mech.length = (OM_uint32)n; mech.elements = der;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(argv[1], "discover")) return cmd_discover();
    if (!strcmp(argv[1], "names")) return cmd_names();
    if (!strcmp(argv[1], "failclosed")) return cmd_failclosed();
    if (!strcmp(argv[1], "direct") && argc > 3) return cmd_direct(argv[3]);
    if (!strcmp(argv[1], "race")) return cmd_race();
    return 2;
}
"""

MA_HEX = {  # RFC 5587 §3.1 GSS_C_MA_* values: 1.3.6.1.5.5.13.<n>
    "MECH_CONCRETE": 1,
    "ITOK_FRAMED": 9,
    "AUTH_INIT": 10,
    "AUTH_TARG": 11,
    "AUTH_INIT_ANON": 14,
    "INTEG_PROT": 17,
    "CONF_PROT": 18,
    "MIC": 19,
    "WRAP": 20,
    "REPLAY_DET": 22,
    "OOS_DET": 23,
    "CBINDINGS": 24,
    "CTX_TRANS": 27,
    "NOT_DFLT_MECH": 8,
}


def _ma(n: int) -> str:
    return "2b060105050d" + f"{n:02x}"


needs_tools = pytest.mark.skipif(
    shutil.which("gcc") is None or shutil.which("krb5-config") is None,
    reason="needs gcc and krb5-config (libkrb5-dev)",
)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not library_path().exists():
        pytest.fail(f"plugin library not built: {library_path()} (run pip install -e .)")
    return build_c_host(tmp_path_factory.mktemp("plugin_host"), HOST_C)


@pytest.fixture()
def mech_conf(tmp_path: Path) -> Path:
    conf = tmp_path / "mech.conf"
    conf.write_text(config_line() + "\n")
    return conf


def run_host(
    host: Path, conf: Path, cmd: str, lib: Path | None = None, **env: str
) -> dict[str, list[str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GSSMECH_")}
    environ.update(GSS_MECH_CONFIG=str(conf), **env)
    proc = subprocess.run(
        [str(host), cmd, DEFAULT_NATIVE_MECH.der.hex(), str(lib or library_path())],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"[a-z_]+", line)
        assert m, line
        out.setdefault(m.group(), []).append(line[m.end() :].lstrip(" ="))
    out["STDERR"] = [proc.stderr]
    return out


def fields(line: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for part in line.split(" "):
        k, sep, v = part.partition("=")
        if sep:
            result[k] = v
    if "minor_text=" in line:
        result["minor_text"] = line.split("minor_text=", 1)[1]
    return result


@needs_tools
def test_discovery_is_pure_c(host: Path, mech_conf: Path) -> None:
    out = run_host(host, mech_conf, "discover")
    assert DEFAULT_NATIVE_MECH.der.hex() in out["mech"]
    assert out["python_after_indicate"] == ["0"]
    attrs = set(out["attr"])
    assert {_ma(n) for n in MA_HEX.values()} == attrs
    assert fields(out["sasl"][0]) == {"major": "0", "name": "GS2-GSSMECH"}
    assert fields(out["saslmech"][0])["oid"] == DEFAULT_NATIVE_MECH.der.hex()
    assert out["python_after_discovery"] == ["0"]
    # The front is loaded, but neither libpython nor the Python half is even mapped.
    for when in ("indicate", "discovery"):
        assert fields(out[f"mapped_{when}"][0]) == {
            "libpython": "0",
            "python_half": "0",
            "front": "1",
        }, when


@needs_tools
def test_without_plugin_our_oid_is_absent(host: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    out = run_host(host, empty, "discover")
    assert DEFAULT_NATIVE_MECH.der.hex() not in out.get("mech", [])
    assert fields(out["attrs"][0])["major"] != str(GSS_S_COMPLETE)


@needs_tools
def test_names_through_libgssapi(host: Path, mech_conf: Path) -> None:
    out = run_host(host, mech_conf, "names")
    assert all(fields(line)["major"] == "0" for line in out["canonicalize"])
    hb, anon = (fields(line) for line in out["display"])
    assert hb["text"].startswith("host/example.com@") and hb["anon"] == "0"
    assert anon["text"] == "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS" and anon["anon"] == "1"
    assert out["python_after_names"] == ["1"]
    assert fields(out["mapped_names"][0]) == {"libpython": "1", "python_half": "1", "front": "1"}


@needs_tools
def test_first_call_from_many_threads(host: Path, mech_conf: Path) -> None:
    out = run_host(host, mech_conf, "race")
    assert fields(out["race"][0]) == {"threads": "8", "bad": "0"}


def _assert_fail_closed(out: dict[str, list[str]], message: str) -> None:
    for call in ("acquire_cred", "acquire_accept", "init"):
        f = fields(out[call][0])
        # Our call fails with GSS_S_FAILURE; with a name, the mechglue reports the failed
        # lazy import of the name as GSS_S_BAD_NAME but passes our minor code on.
        expected = {GSS_S_FAILURE, GSS_S_BAD_NAME} if call == "acquire_cred" else {GSS_S_FAILURE}
        assert int(f["major"]) in expected, (call, f)
        assert f["minor_text"] == message, (call, f)
    assert out["init_ctx_set"] == ["0 out_len=0"]
    accept = fields(out["accept"][0])
    assert int(accept["major"]) & 0xFFFF0000, accept  # an error, never COMPLETE/CONTINUE
    assert out["accept_ctx_set"] == ["0 src_set=0 out_len=0"]
    assert int(fields(out["wrap"][0])["major"]) & 0xFFFF0000


def _assert_direct_fail_closed(out: dict[str, list[str]], minor: int) -> None:
    for call in ("direct_accept", "direct_wrap", "direct_import"):
        f = fields(out[call][0])
        assert int(f["major"]) == GSS_S_FAILURE and int(f["minor"]) == minor, (call, f)
    acc = fields(out["direct_accept"][0])
    assert (acc["ctx"], acc["src"], acc["out"], acc["flags"]) == ("0", "0", "0", "0")
    assert fields(out["direct_wrap"][0])["out"] == "0"
    assert fields(out["direct_import"][0])["name"] == "0"


@needs_tools
@pytest.mark.parametrize(
    ("brk", "minor"), [("import", Minor.PYTHON_UNAVAILABLE), ("handler", Minor.PYTHON_EXCEPTION)]
)
def test_exports_fail_closed_without_mechglue(
    host: Path, mech_conf: Path, brk: str, minor: int
) -> None:
    out = run_host(host, mech_conf, "direct", GSSMECH_PLUGIN_TEST_BREAK=brk)
    _assert_direct_fail_closed(out, int(minor))


@needs_tools
def test_exports_unknown_context_is_no_context(host: Path, mech_conf: Path) -> None:
    out = run_host(host, mech_conf, "direct")
    assert int(fields(out["direct_wrap"][0])["major"]) == GSS_S_NO_CONTEXT


@needs_tools
def test_fail_closed_when_package_cannot_import(host: Path, mech_conf: Path) -> None:
    out = run_host(host, mech_conf, "failclosed", GSSMECH_PLUGIN_TEST_BREAK="import")
    _assert_fail_closed(out, MINOR_MESSAGES[Minor.PYTHON_UNAVAILABLE])


@needs_tools
def test_fail_closed_with_shadowed_dependency(host: Path, mech_conf: Path, tmp_path: Path) -> None:
    """A real import failure: a broken ``asn1crypto`` first on PYTHONPATH.  The context
    machinery is imported on first use, so the calls needing it fail as exceptions."""
    bad = tmp_path / "badpath" / "asn1crypto"
    bad.mkdir(parents=True)
    (bad / "__init__.py").write_text("raise ImportError('broken on purpose')\n")
    out = run_host(host, mech_conf, "failclosed", PYTHONPATH=str(bad.parent))
    _assert_fail_closed(out, MINOR_MESSAGES[Minor.PYTHON_EXCEPTION])


@needs_tools
def test_fail_closed_when_handler_raises(host: Path, mech_conf: Path, tmp_path: Path) -> None:
    out = run_host(host, mech_conf, "failclosed", GSSMECH_PLUGIN_TEST_BREAK="handler")
    _assert_fail_closed(out, MINOR_MESSAGES[Minor.PYTHON_EXCEPTION])
    # Nothing on the host's stderr (it may be a client's socket), unless KRB5_TRACE asks.
    assert out["STDERR"] == [""]
    trace = tmp_path / "trace.log"
    out = run_host(
        host, mech_conf, "failclosed", GSSMECH_PLUGIN_TEST_BREAK="handler", KRB5_TRACE=str(trace)
    )
    assert out["STDERR"] == [""]
    report = trace.read_text()
    assert "gssmech plugin: unexpected exception" in report and "broken on purpose" in report


# --- the Python half: missing, unloadable or mismatched -> fail closed -----------------------
FAKE_HALF_C = r"""
#include <stdint.h>
static int dispatcher(void) { return 0; }  /* "not handled" */
static int start(void) { return 0; }
static struct { uint32_t abi, size; void *fns[@N@]; } table = {@ABI@u, @SIZE@u, {0}};
const void *@SYMBOL@(void) {
    int i;
    table.fns[0] = (void *)start;
    for (i = 1; i < @N@; i++) table.fns[i] = (void *)dispatcher;
    return &table;
}
"""


def _front_alone(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the front in a directory of its own, and a mech config naming it."""
    d = tmp_path / "front"
    d.mkdir()
    front = d / library_path().name
    shutil.copyfile(library_path(), front)
    conf = tmp_path / "front.conf"
    conf.write_text(config_line(path=front) + "\n")
    return front, conf


def _fake_half(front: Path, abi_delta: int, symbol: str = build.BACKEND_SYMBOL) -> None:
    cdef = (build.CDEFS / "gssmech_plugin.cdef").read_text()
    m = re.search(r"GSSMECH_BACKEND_ABI (\d+)u", build.backend_table(cdef))
    assert m
    n = 1 + len(build.dispatchers(cdef))
    src = (
        FAKE_HALF_C.replace("@N@", str(n))
        .replace("@ABI@", str((int(m.group(1)) + abi_delta) & 0xFFFFFFFF))
        .replace("@SIZE@", str(8 + 8 * n))
        .replace("@SYMBOL@", symbol)
    )
    c = front.parent / "fake.c"
    c.write_text(src)
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(front.parent / build.BACKEND_NAME), str(c)],
        check=True,
    )


@needs_tools
@pytest.mark.parametrize("half", ["missing", "garbage", "no-symbol", "other-abi"])
def test_fail_closed_without_a_usable_python_half(host: Path, tmp_path: Path, half: str) -> None:
    front, conf = _front_alone(tmp_path)
    if half == "garbage":
        (front.parent / build.BACKEND_NAME).write_bytes(b"\x7fELF not really")
    elif half == "no-symbol":
        _fake_half(front, 0, symbol="gssspi_something_else")
    elif half == "other-abi":
        _fake_half(front, 1)
    out = run_host(host, conf, "failclosed", lib=front)
    _assert_fail_closed(out, MINOR_MESSAGES[Minor.PYTHON_UNAVAILABLE])
    _assert_direct_fail_closed(run_host(host, conf, "direct", lib=front), Minor.PYTHON_UNAVAILABLE)
    # Discovery does not need the Python half at all.
    disc = run_host(host, conf, "discover", lib=front)
    assert fields(disc["sasl"][0]) == {"major": "0", "name": "GS2-GSSMECH"}
    assert fields(disc["mapped_discovery"][0])["libpython"] == "0"


@needs_tools
def test_fake_half_with_matching_abi_is_used(host: Path, tmp_path: Path) -> None:
    """Control for the cases above: the same fake with the right ABI IS loaded and called
    (its "not handled" answers become PYTHON_EXCEPTION, not PYTHON_UNAVAILABLE)."""
    front, conf = _front_alone(tmp_path)
    _fake_half(front, 0)
    out = run_host(host, conf, "direct", lib=front)
    f = fields(out["direct_import"][0])
    assert int(f["major"]) == GSS_S_FAILURE and int(f["minor"]) == Minor.PYTHON_EXCEPTION, f
    assert f["name"] == "0"


@needs_tools
def test_symlinked_front_finds_its_python_half(host: Path, tmp_path: Path) -> None:
    """A mech.d line may name a symlink (e.g. under /usr/lib/.../gss/): the Python half is
    looked up next to the real file."""
    link = tmp_path / "elsewhere" / "gssmech.so"
    link.parent.mkdir()
    link.symlink_to(library_path())
    conf = tmp_path / "link.conf"
    conf.write_text(config_line(path=link) + "\n")
    out = run_host(host, conf, "names", lib=link)
    assert all(fields(line)["major"] == "0" for line in out["canonicalize"])
    assert out["python_after_names"] == ["1"]
