"""The plugin libraries under valgrind (issue 5, "Fail closed"): a C host loops anonymous
security contexts through the system libgssapi (GSS_MECH_CONFIG naming our front library):
init + accept (+ init for the mutual-auth reply) + wrap + unwrap + delete, with tickets from a
real MIT realm (anonymous PKINIT ``kinit -n`` for the initiator, the host keytab for the
acceptor), as tests/interop/test_plugin_mit.py sets them up.  The host follows the common
idiom of releasing a context token only when its length is non-zero (RFC 2744 §5.19).

Sizes, measured on the 2-core test machine: 1,000 contexts take ~5 s natively; under valgrind
the embedded CPython start costs ~18 s and each context ~0.25 s, so 1,000 contexts would take
~4.5 min.  Hence 1,000 contexts run WITHOUT valgrind (correctness: every context anonymous,
every message round-trips), and ``VALGRIND_CONTEXTS`` (60, ~35 s) run under ``valgrind
--leak-check=full`` with PYTHONMALLOC=malloc; the file stays under 60 s.  The valgrind run must
report no "definitely lost" block with a frame in ``libgssmech*`` -- except exactly one: the
gss_wrap output the host drops on purpose, which proves that such a leak is seen and
attributed (this test found, and now guards, a 1-byte leak per context: empty final init
tokens used to own a malloc'd byte).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gssmech._plugin import library_path
from gssmech.gss.oids import DEFAULT_NATIVE_MECH
from tests.interop.mitrealm import MITRealm
from tests.interop.plugin_peers import ANON_PAIR_C, build_c_host
from tests.interop.plugin_peers import plugin_env as peer_env

CONTEXTS = 1000
VALGRIND_CONTEXTS = 60

HOST_C = ANON_PAIR_C + r"""
/* The control: a wrap token allocated by our library that the host never releases. */
static void __attribute__((noinline)) leak_on_purpose(gss_name_t target) {
    OM_uint32 major, minor, flags = 0;
    gss_ctx_id_t ini = GSS_C_NO_CONTEXT;
    gss_buffer_desc tok = {0, NULL}, msg = {4, "leak"};
    gss_buffer_t volatile out = malloc(sizeof(*out));
    if (out == NULL) die("leak_malloc", 0, 0);
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ini, target, &mech,
                                 GSS_C_ANON_FLAG | GSS_C_CONF_FLAG, 0, NULL, GSS_C_NO_BUFFER,
                                 NULL, &tok, &flags, NULL);
    if (GSS_ERROR(major)) die("leak_init", major, minor);
    gss_release_buffer(&minor, &tok);
    /* No mutual flag: the initiator's context is established by its first token. */
    major = gss_wrap(&minor, ini, 1, GSS_C_QOP_DEFAULT, &msg, NULL, out);
    if (major != GSS_S_COMPLETE) die("leak_wrap", major, minor);
    gss_delete_sec_context(&minor, &ini, GSS_C_NO_BUFFER);
    memset(out, 0, sizeof(*out)); /* drop the only pointer to the token */
    free(out);
}

int main(int argc, char **argv) {
    static unsigned char der[64]; size_t i, n;
    OM_uint32 major, minor; gss_cred_id_t acred = GSS_C_NO_CREDENTIAL;
    gss_name_t target = GSS_C_NO_NAME; gss_OID_set_desc mechs = {1, &mech};
    gss_buffer_desc hb; int count, k;
    if (argc < 5) return 2;
    n = strlen(argv[1]) / 2;
    for (i = 0; i < n && i < sizeof(der); i++) sscanf(argv[1] + 2 * i, "%2hhx", &der[i]);
    mech.length = (OM_uint32)n; mech.elements = der;
    hb.value = argv[2]; hb.length = strlen(argv[2]);
    count = atoi(argv[3]);
    setvbuf(stdout, NULL, _IONBF, 0);
    major = gss_import_name(&minor, &hb, GSS_C_NT_HOSTBASED_SERVICE, &target);
    if (major != GSS_S_COMPLETE) die("import", major, minor);
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, &mechs, GSS_C_ACCEPT, &acred, NULL, NULL);
    if (major != GSS_S_COMPLETE) die("acquire", major, minor);
    for (k = 0; k < count; k++) one(acred, target, k);
    if (!strcmp(argv[4], "leak")) leak_on_purpose(target);
    gss_release_cred(&minor, &acred);
    gss_release_name(&minor, &target);
    printf("done contexts=%d\n", count);
    return 0;
}
"""

needs_tools = pytest.mark.skipif(
    shutil.which("gcc") is None or shutil.which("krb5-config") is None,
    reason="needs gcc and krb5-config (libkrb5-dev)",
)
needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="needs valgrind (make apt)"
)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not library_path().exists():
        pytest.fail(f"plugin library not built: {library_path()} (run pip install -e .)")
    return build_c_host(tmp_path_factory.mktemp("valgrind_host"), HOST_C)


@pytest.fixture(scope="module")
def plugin_env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return peer_env(mit_realm, tmp_path_factory.mktemp("plugin-valgrind"), service_ticket=True)


def run(
    host: Path, env: dict[str, str], realm: MITRealm, count: int, mode: str, prefix: list[str]
) -> subprocess.CompletedProcess[str]:
    target = realm.host_service.replace("/", "@")
    args = [*prefix, str(host), DEFAULT_NATIVE_MECH.der.hex(), target, str(count), mode]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def definitely_lost(report: str) -> list[str]:
    """The "definitely lost" loss records of a valgrind report, each as its text."""
    body = re.sub(r"^==\d+== ?", "", report, flags=re.MULTILINE)
    records = re.split(r"\n\s*\n", body)
    return [r for r in records if re.search(r"are definitely lost in loss record", r)]


def ours(record: str) -> bool:
    return re.search(r"libgssmech(_python)?\.so", record) is not None


@needs_tools
def test_thousand_contexts(host: Path, plugin_env: dict[str, str], mit_realm: MITRealm) -> None:
    proc = run(host, plugin_env, mit_realm, CONTEXTS, "clean", [])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == f"done contexts={CONTEXTS}"


@needs_tools
@needs_valgrind
def test_no_definite_leaks_in_our_libraries(
    host: Path, plugin_env: dict[str, str], mit_realm: MITRealm, tmp_path: Path
) -> None:
    log = tmp_path / "valgrind.log"
    prefix = [
        "valgrind",
        "--leak-check=full",
        "--show-leak-kinds=definite",
        "--num-callers=40",
        f"--log-file={log}",
    ]
    # Python's small-object allocator hides individual blocks from valgrind.
    env = {**plugin_env, "PYTHONMALLOC": "malloc"}
    proc = run(host, env, mit_realm, VALGRIND_CONTEXTS, "leak", prefix)
    report = log.read_text()
    assert proc.returncode == 0, proc.stdout[-2000:] + report[-4000:]
    assert proc.stdout.strip().splitlines()[-1] == f"done contexts={VALGRIND_CONTEXTS}"
    assert "LEAK SUMMARY" in report or "All heap blocks were freed" in report, report[-2000:]
    mine = [r for r in definitely_lost(report) if ours(r)]
    # Exactly the control: one block, allocated by our library for the dropped gss_wrap output.
    assert len(mine) == 1, "\n\n".join(mine)[-6000:]
    assert "leak_on_purpose" in mine[0] and "gss_wrap" in mine[0], mine[0]
