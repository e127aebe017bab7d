/* gssmech plugin library, PYTHON half: the cffi embedding library (set_source code).
 *
 * Loaded only by the front library (cdefs/front.c), with dlopen(RTLD_NOW | RTLD_LOCAL), the
 * first time a GSS call needs Python; it is never named in a mech.d line.  It exports exactly
 * one symbol (cdefs/backend.map): GSSMECH_BACKEND_SYMBOL, returning the table of dispatchers.
 *
 * build.py prepends a generated prologue: GSSMECH_LIBPYTHON (sysconfig INSTSONAME),
 * GSSMECH_PREINIT_CODE, and `struct gssmech_backend` with GSSMECH_BACKEND_INITIALIZER (one
 * entry per extern "Python" dispatcher of cdefs/gssmech_plugin.cdef); the marker below becomes
 * the forward declarations of those dispatchers (cffi defines them after this code).
 */
#include <dlfcn.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

/* @FORWARD_DECLARATIONS@ */

/* ---- libpython visibility ------------------------------------------------------------------
 * The front dlopen()s us RTLD_LOCAL (as the mechglue does the front), so libpython's symbols
 * are not global and importing any C extension (_cffi_backend) fails with "undefined symbol"
 * (cffi issue #264).  Promote the already-loaded libpython (our DT_NEEDED) to RTLD_GLOBAL.
 * Also record whether a Python was running when we were loaded: if not, this is a C host and
 * the init code must find the package itself. */
static int g_c_host = 0;
static int g_secure = 0;
static int g_foreign_python = 0;

/* A Python host of another major.minor (a python3.12 program using python-gssapi, the plugin
 * built for 3.11): the symbols we would call are that interpreter's, with another ABI -- it
 * hung when tried.  Such a host is refused before any other Python call (fail closed). */
static int gssmech_same_python(const char *running)
{
    char ours[16];
    size_t n;

    if (running == NULL)
        return 0;
    n = (size_t)snprintf(ours, sizeof(ours), "%d.%d", PY_MAJOR_VERSION, PY_MINOR_VERSION);
    return strncmp(running, ours, n) == 0 && (running[n] == '.' || running[n] == ' ' ||
                                              running[n] == '+' || running[n] == '\0');
}

__attribute__((constructor)) static void gssmech_backend_ctor(void)
{
    g_secure = getauxval(AT_SECURE) != 0;
    if (Py_IsInitialized() && !gssmech_same_python(Py_GetVersion())) {
        g_foreign_python = 1;
        return;
    }
    (void)dlopen(GSSMECH_LIBPYTHON, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    g_c_host = Py_IsInitialized() ? 0 : 1;
}

int gssmech_c_host(void) { return g_c_host; }

int gssmech_secure(void) { return g_secure; }

/* This library's path; the front lives in the same directory, so either gives the package. */
const char *gssmech_library_path(void)
{
    Dl_info info;
    if (dladdr((void *)&gssmech_library_path, &info) == 0 || info.dli_fname == NULL)
        return "";
    return info.dli_fname;
}

/* fork() in a C host whose interpreter we started.  Nobody else will do for it what os.fork
 * does in a Python program, and without that a child forked while another thread held the GIL
 * waits for it forever at its first GSS call (a threaded server forking workers).  So the
 * forking thread takes the GIL and the import lock before fork (PyOS_BeforeFork) and the child
 * rebuilds the interpreter's thread state (PyOS_AfterFork_Child: new GIL, other threads'
 * states dropped, os.register_at_fork hooks run).  Per thread: each fork's three handlers run
 * in the thread that forks.  In a Python host the interpreter's owner does this; we register
 * nothing there. */
static __thread PyGILState_STATE g_fork_gil;
static __thread int g_fork_held;

static void gssmech_before_fork(void)
{
    if (!Py_IsInitialized())
        return;
    g_fork_gil = PyGILState_Ensure();
    PyOS_BeforeFork();
    g_fork_held = 1;
}

static void gssmech_after_fork(void (*python_step)(void))
{
    if (!g_fork_held)
        return;
    g_fork_held = 0;
    python_step();
    PyGILState_Release(g_fork_gil);
}

static void gssmech_after_fork_parent(void) { gssmech_after_fork(PyOS_AfterFork_Parent); }

static void gssmech_after_fork_child(void) { gssmech_after_fork(PyOS_AfterFork_Child); }

/* A privileged C host (setuid, setgid, file capabilities): its environment comes from a less
 * privileged caller, and Py_InitializeEx would honour PYTHONPATH, PYTHONHOME and PATH (which
 * picks the stdlib) -- code of the caller's choosing run with the host's privileges.  Start
 * an isolated interpreter instead (no PYTHON* variables, no user site, no script directory on
 * sys.path) whose home and executable are the building interpreter's, fixed at build time. */
static int gssmech_init_isolated(void)
{
    PyConfig config;
    PyStatus status;

    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0;
    status = PyConfig_SetBytesString(&config, &config.home, GSSMECH_PYTHON_HOME);
    if (!PyStatus_Exception(status))
        status = PyConfig_SetBytesString(&config, &config.executable, GSSMECH_PYTHON_EXECUTABLE);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    return PyStatus_Exception(status) ? -1 : 0;
}

/* A C host: start the interpreter ourselves, once, so that the building interpreter's site
 * directories (GSSMECH_PREINIT_CODE) are on sys.path before cffi imports _cffi_backend. */
static pthread_once_t g_preinit_once = PTHREAD_ONCE_INIT;
static int g_preinit_failed = 0;

static void gssmech_preinit(void)
{
    if (!g_c_host || Py_IsInitialized())
        return;
    if (g_secure) {
        if (gssmech_init_isolated() != 0) {
            g_preinit_failed = 1; /* never let cffi start a non-isolated one instead */
            return;
        }
    } else {
        /* Python sets LC_CTYPE from LANG/LC_* as it starts (its encodings are fixed by then);
         * the host's locale is the host's, so it gets its own back. */
        const char *current = setlocale(LC_CTYPE, NULL);
        char *saved = current != NULL ? strdup(current) : NULL;
        Py_InitializeEx(0);
        if (saved != NULL) {
            (void)setlocale(LC_CTYPE, saved);
            free(saved);
        }
    }
    (void)PyRun_SimpleString(GSSMECH_PREINIT_CODE);
    (void)PyEval_SaveThread();
    (void)pthread_atfork(gssmech_before_fork, gssmech_after_fork_parent,
                         gssmech_after_fork_child);
}

/* 0 = Python runs and the init code attached the dispatchers (cffi: -1 if it failed). */
static int gssmech_backend_start(void)
{
    if (g_foreign_python)
        return -1;
    (void)pthread_once(&g_preinit_once, gssmech_preinit);
    if (g_preinit_failed)
        return -1;
    return cffi_start_python();
}

static const struct gssmech_backend g_table = GSSMECH_BACKEND_INITIALIZER;

CFFI_DLLEXPORT const struct gssmech_backend *GSSMECH_BACKEND_ENTRY(void) { return &g_table; }
