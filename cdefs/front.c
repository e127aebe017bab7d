/* gssmech plugin library, FRONT half, part 0: the lazy loader of the Python half.
 * build.py compiles: generated prologue + this file + cdefs/plugin.c + cdefs/plugin_ctx.c. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

/* ---- the Python half: loaded on first need ------------------------------------------------
 * Path: the directory of this library's real path (dladdr + realpath, so a symlinked mech.d
 * entry still finds the package) + GSSMECH_BACKEND_NAME.  Never a bare name: dlopen would then
 * search LD_LIBRARY_PATH.  Loaded once (pthread_once: the mechglue does not serialise calls);
 * any failure leaves g_backend NULL and every call fails closed with PYTHON_UNAVAILABLE. */
static const struct gssmech_backend *g_backend = NULL;
static pthread_once_t g_backend_once = PTHREAD_ONCE_INIT;

static void backend_report(const char *what, const char *detail)
{
    /* Once per process at most: a misinstalled plugin should be diagnosable from the host. */
    fprintf(stderr, "gssmech plugin: %s: %s\n", what, detail ? detail : "(unknown)");
}

static void gssmech_load_backend(void)
{
    Dl_info info;
    char *self, *slash, path[PATH_MAX];
    void *handle;
    const struct gssmech_backend *(*get)(void);
    const struct gssmech_backend *table;
    int n;

    if (dladdr((void *)&gssmech_load_backend, &info) == 0 || info.dli_fname == NULL) {
        backend_report("cannot locate the front library", "dladdr failed");
        return;
    }
    self = realpath(info.dli_fname, NULL);
    slash = self != NULL ? strrchr(self, '/') : NULL;
    if (slash == NULL) {
        backend_report("cannot resolve the front library path", info.dli_fname);
        free(self);
        return;
    }
    *slash = '\0';
    n = snprintf(path, sizeof(path), "%s/%s", self, GSSMECH_BACKEND_NAME);
    free(self);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        backend_report("path too long", GSSMECH_BACKEND_NAME);
        return;
    }
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        backend_report("cannot load the Python half", dlerror());
        return;
    }
    *(void **)&get = dlsym(handle, GSSMECH_BACKEND_SYMBOL);
    table = get != NULL ? get() : NULL;
    if (table == NULL || table->abi != GSSMECH_BACKEND_ABI || table->size != sizeof(*table)) {
        /* Not dlclose()d: it may already have run constructors tied to libpython. */
        backend_report("the Python half does not match this front library", path);
        return;
    }
    g_backend = table;
}

/* 0 = the Python half is loaded and Python runs with the dispatchers attached. */
static int gssmech_start(void)
{
    (void)pthread_once(&g_backend_once, gssmech_load_backend);
    if (g_backend == NULL)
        return -1;
    return g_backend->start();
}

