"""fork() after the plugin has started Python: children keep working.

A C host whose interpreter the plugin started has nobody to do what os.fork does in a Python
program; a child forked while another thread was inside the plugin (holding the GIL) used to
wait for that thread forever at its first GSS call.  The plugin registers fork handlers in that
case only (cdefs/backend.c).  In a Python host the interpreter's owner handles fork (os.fork):
the python-gssapi case below forks while a thread is busy in the plugin and checks that the
children work.  It does not tell whether the plugin registered its handlers there too: tried on
purpose, running them a second time after os.fork's own steps did no visible harm.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gssmech._plugin import library_path
from gssmech.gss.oids import DEFAULT_NATIVE_MECH
from tests.interop.mitrealm import MITRealm
from tests.interop.plugin_peers import ANON_PAIR_C, build_c_host, plugin_env, run_json_script

pytestmark = pytest.mark.interop

KIDS = 4
PAIRS = 10

FORK_HOST_C = ANON_PAIR_C + r"""
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static gss_cred_id_t g_acred;
static gss_name_t g_target;
static volatile int g_busy_started;

static void *busy(void *arg) {
    int k;
    (void)arg;
    for (k = 0; k < 40; k++) { one(g_acred, g_target, k); g_busy_started = 1; }
    return NULL;
}

int main(int argc, char **argv) {
    static unsigned char der[64]; size_t i, n;
    OM_uint32 major, minor; gss_OID_set_desc mechs = {1, &mech};
    gss_buffer_desc hb; int k, status, failed = 0; pthread_t t;
    if (argc < 4) return 2;
    n = strlen(argv[1]) / 2;
    for (i = 0; i < n && i < sizeof(der); i++) sscanf(argv[1] + 2 * i, "%2hhx", &der[i]);
    mech.length = (OM_uint32)n; mech.elements = der;
    hb.value = argv[2]; hb.length = strlen(argv[2]);
    setvbuf(stdout, NULL, _IONBF, 0);
    major = gss_import_name(&minor, &hb, GSS_C_NT_HOSTBASED_SERVICE, &g_target);
    if (major != GSS_S_COMPLETE) die("import", major, minor);
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, &mechs, GSS_C_ACCEPT, &g_acred,
                             NULL, NULL);
    if (major != GSS_S_COMPLETE) die("acquire", major, minor);
    one(g_acred, g_target, 0); /* Python is running from here on */
    if (!strcmp(argv[3], "busy")) {
        pthread_create(&t, NULL, busy, NULL);
        while (!g_busy_started) usleep(100); /* the thread is looping through the plugin */
    }
    for (k = 0; k < %(kids)d; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            int j;
            for (j = 0; j < %(pairs)d; j++) one(g_acred, g_target, j);
            printf("child ok\n");
            _exit(0);
        }
    }
    for (k = 0; k < %(kids)d; k++)
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    if (!strcmp(argv[3], "busy")) pthread_join(t, NULL);
    one(g_acred, g_target, 1); /* and the parent still works */
    printf("done failed=%d\n", failed);
    return failed != 0;
}
""".replace("%(kids)d", str(KIDS)).replace("%(pairs)d", str(PAIRS))

PYTHON_HOST = r"""
import json, os, sys, threading
import gssapi
from gssapi.raw import RequirementFlag as F
OID = gssapi.OID(elements=bytes.fromhex(sys.argv[1]))
target = gssapi.Name(sys.argv[2], gssapi.NameType.hostbased_service)
acred = gssapi.Credentials(usage="accept", mechs=[OID])

def pair():
    ini = gssapi.SecurityContext(name=target, mech=OID, usage="initiate",
                                 flags=[F.mutual_authentication, F.anonymity])
    acc = gssapi.SecurityContext(creds=acred, usage="accept")
    ini.step(acc.step(ini.step()))
    assert acc.unwrap(ini.wrap(b"m", True).message).message == b"m"
    return str(acc.initiator_name)

pair()
started, stop = threading.Event(), threading.Event()
def busy():
    while not stop.is_set():
        pair()
        started.set()
t = threading.Thread(target=busy)
t.start()
started.wait()
kids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        try:
            ok = all(pair() == "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS" for _ in range(5))
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    kids.append(pid)
codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in kids]
stop.set(); t.join()
print(json.dumps({"children": codes, "parent": pair()}))
"""


@pytest.fixture(scope="module")
def env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return plugin_env(mit_realm, tmp_path_factory.mktemp("fork"), service_ticket=True)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not library_path().exists():
        pytest.fail(f"plugin library not built: {library_path()}")
    return build_c_host(tmp_path_factory.mktemp("fork_host"), FORK_HOST_C)


@pytest.mark.parametrize("mode", ["idle", "busy"])
def test_c_host_children_keep_working(
    host: Path, env: dict[str, str], mit_realm: MITRealm, mode: str
) -> None:
    target = mit_realm.host_service.replace("/", "@")
    proc = subprocess.run(
        [str(host), DEFAULT_NATIVE_MECH.der.hex(), target, mode],
        env=env, capture_output=True, text=True, timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert proc.stdout.count("child ok") == KIDS, out[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "done failed=0", out[-3000:]


def test_python_host_forks_its_own_way(env: dict[str, str], mit_realm: MITRealm) -> None:
    target = mit_realm.host_service.replace("/", "@")
    result = run_json_script(env, PYTHON_HOST, DEFAULT_NATIVE_MECH.der.hex(), target)
    assert result == {
        "children": [0, 0, 0],
        "parent": "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS",
    }
