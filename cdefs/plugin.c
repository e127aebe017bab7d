/* gssmech plugin library, FRONT half: the exported GSS SPI (MIT krb5 1.20 mechglue, mglueP.h)
 * in plain C.  This is the library the mech.d line names; it does NOT link libpython.
 *
 * Compiled by gssmech/_plugin/build.py with a plain compiler (no cffi): a generated prologue
 * (GSSMECH_MINOR_PYTHON_EXCEPTION / _UNAVAILABLE and their messages from gssmech.errors,
 * GSSMECH_BACKEND_NAME, GSSMECH_EXPORT, `struct gssmech_backend` -- one function pointer per
 * extern "Python" dispatcher of cdefs/gssmech_plugin.cdef -- and `#define py_x
 * (g_backend->py_x)` per dispatcher), then cdefs/front.c (the loader), this file and
 * cdefs/plugin_ctx.c.
 *
 * Why two libraries: the mechglue dlopen()s every configured mech in any process that calls
 * gss_indicate_mechs (sshd, ...).  A cffi embedding library has libpython as DT_NEEDED, so that
 * alone mapped and relocated libpython (~2.5 ms and tens of MB) although Python never started.
 * The Python half (cdefs/backend.c) is now dlopen()ed lazily, the first time a call needs it.
 *
 * Why C wrappers at all: cffi returns 0 (= GSS_S_COMPLETE) when Python fails to start or a
 * def_extern raises.  Every entry point here therefore (1) checks its pointers, (2) sets safe
 * outputs (NULL handles, empty buffers, *minor = 0), (3) loads the Python half and starts
 * Python, (4) calls ONE dispatcher that returns 1 = handled, and maps anything else to
 * GSS_S_FAILURE with our private minor code.  Mech discovery (attributes, SASL names) never
 * loads the Python half.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

/* The loader of the Python half (gssmech_start, g_backend, the py_* forwarding macros)
 * comes first: cdefs/front.c. */

/* ---- buffers ------------------------------------------------------------------------------ */
static void buf_clear(gss_buffer_t b)
{
    if (b != GSS_C_NO_BUFFER) {
        b->length = 0;
        b->value = NULL;
    }
}

static void buf_free(gss_buffer_t b)
{
    if (b != GSS_C_NO_BUFFER && b->value != NULL) {
        free(b->value);
        b->value = NULL;
        b->length = 0;
    }
}

static const gss_buffer_desc g_empty_buffer = {0, NULL};

static const gss_buffer_desc *in_buf(const gss_buffer_desc *b)
{
    return b == GSS_C_NO_BUFFER ? &g_empty_buffer : b;
}

/* ---- the mechanism OID ---------------------------------------------------------------------
 * Learned from the mechglue's mech_type arguments (the OID of our mech.d line); the default is
 * DESIGN.md's 2.999.6112.1 until then.  Never freed: it is handed out as actual_mech_type. */
static unsigned char g_mech_der[64] = {0x88, 0x37, 0xaf, 0x60, 0x01};
static gss_OID_desc g_mech_oid = {5, g_mech_der};
static int g_mech_learned = 0;
static pthread_mutex_t g_mech_lock = PTHREAD_MUTEX_INITIALIZER;

static void learn_mech(const gss_OID_desc *oid)
{
    if (oid == GSS_C_NO_OID || oid->length == 0 || oid->length > sizeof(g_mech_der) ||
        oid->elements == NULL)
        return;
    pthread_mutex_lock(&g_mech_lock);
    if (!g_mech_learned) {
        memcpy(g_mech_der, oid->elements, oid->length);
        g_mech_oid.length = oid->length;
        g_mech_learned = 1;
    }
    pthread_mutex_unlock(&g_mech_lock);
}

static int is_our_mech(const gss_OID_desc *oid)
{
    int same;
    if (oid == GSS_C_NO_OID)
        return 1;
    pthread_mutex_lock(&g_mech_lock);
    if (!g_mech_learned) {
        pthread_mutex_unlock(&g_mech_lock);
        learn_mech(oid);
        return 1;
    }
    same = oid->length == g_mech_oid.length &&
           memcmp(oid->elements, g_mech_oid.elements, oid->length) == 0;
    pthread_mutex_unlock(&g_mech_lock);
    return same;
}

/* ---- name types: always libgssapi's own exported variables (the mechglue releases the
 * name type of a displayed name with gss_release_oid, which spares exactly those). ---------- */
static gss_OID nt_from_code(int code)
{
    switch (code) {
    case 1: return GSS_C_NT_USER_NAME;
    case 2: return GSS_C_NT_MACHINE_UID_NAME;
    case 3: return GSS_C_NT_STRING_UID_NAME;
    case 4: return GSS_C_NT_HOSTBASED_SERVICE;
    case 5: return GSS_C_NT_ANONYMOUS;
    case 6: return GSS_C_NT_EXPORT_NAME;
    case 7: return (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME;
    case 8: return GSS_C_NT_HOSTBASED_SERVICE_X;
    default: return GSS_C_NO_OID;
    }
}

/* ---- handles: small C tokens carrying the id of a Python object ---------------------------- */
#define HANDLE_MAGIC 0x474d4831u /* "GMH1" */
enum { KIND_NAME = 1, KIND_CRED = 2, KIND_CTX = 3 };

struct gssmech_handle {
    uint32_t magic;
    uint32_t kind;
    uint64_t id;
};

static void *handle_new(int kind, uint64_t id)
{
    struct gssmech_handle *h = malloc(sizeof(*h));
    if (h == NULL)
        return NULL;
    h->magic = HANDLE_MAGIC;
    h->kind = (uint32_t)kind;
    h->id = id;
    return h;
}

/* 0 for "none"; UINT64_MAX for a pointer that is not one of ours of this kind. */
#define BAD_ID UINT64_MAX
static uint64_t handle_id(const void *p, int kind)
{
    const struct gssmech_handle *h = p;
    if (h == NULL)
        return 0;
    if (h->magic != HANDLE_MAGIC || h->kind != (uint32_t)kind)
        return BAD_ID;
    return h->id;
}

static void handle_free(void *p)
{
    struct gssmech_handle *h = p;
    if (h != NULL) {
        h->magic = 0;
        free(h);
    }
}

/* ---- the boundary ------------------------------------------------------------------------- */
#define START_PYTHON(minor)                                                                    \
    do {                                                                                       \
        if (gssmech_start() != 0) {                                                            \
            *(minor) = GSSMECH_MINOR_PYTHON_UNAVAILABLE;                                       \
            return GSS_S_FAILURE;                                                              \
        }                                                                                      \
    } while (0)

/* `handled` is the dispatcher's result: only 1 means major/minor were written by Python. */
static OM_uint32 finish(int handled, OM_uint32 major, OM_uint32 *minor)
{
    if (handled != 1) {
        *minor = GSSMECH_MINOR_PYTHON_EXCEPTION;
        return GSS_S_FAILURE;
    }
    return major;
}

#define CHECK_MINOR(minor)                                                                     \
    do {                                                                                       \
        if ((minor) == NULL)                                                                   \
            return GSS_S_CALL_INACCESSIBLE_WRITE;                                              \
        *(minor) = 0;                                                                          \
    } while (0)

/* Drop a Python object whose C handle could not be allocated (or is being released). */
static void py_drop(int kind, uint64_t id)
{
    OM_uint32 mj = 0, mn = 0;
    if (id != 0 && id != BAD_ID && g_backend != NULL)
        (void)py_release(&mj, &mn, kind, id);
}

static OM_uint32 wrap_new(OM_uint32 major, OM_uint32 *minor, int kind, uint64_t id, void **out)
{
    void *h;
    if (GSS_ERROR(major))
        return major;
    if (id == 0 || id == BAD_ID) {
        /* "Success" without an object would be e.g. an accepted context that does not exist. */
        *minor = GSSMECH_MINOR_PYTHON_EXCEPTION;
        return GSS_S_FAILURE;
    }
    h = handle_new(kind, id);
    if (h == NULL) {
        py_drop(kind, id);
        *minor = ENOMEM;
        return GSS_S_FAILURE;
    }
    *out = h;
    return major;
}

/* Always exported: otherwise dlsym finds libgssapi's own (by-value cred) function. */
GSSMECH_EXPORT OM_uint32 gssspi_set_cred_option(OM_uint32 *minor, gss_cred_id_t *cred,
                                                const gss_OID desired_object,
                                                const gss_buffer_t value)
{
    (void)cred;
    (void)desired_object;
    (void)value;
    CHECK_MINOR(minor);
    return GSS_S_UNAVAILABLE;
}

/* gss_release_oid offers every OID to the loaded mechs first: claim the ones we own so the
 * generic code never free()s a static (GSS_KRB5_NT_PRINCIPAL_NAME is not spared there). */
GSSMECH_EXPORT OM_uint32 gss_internal_release_oid(OM_uint32 *minor, gss_OID *oid)
{
    CHECK_MINOR(minor);
    if (oid != NULL && (*oid == &g_mech_oid || *oid == (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME)) {
        *oid = GSS_C_NO_OID;
        return GSS_S_COMPLETE;
    }
    return GSS_S_CONTINUE_NEEDED;
}

/* ============================== status text ============================================ */
GSSMECH_EXPORT OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status_value,
                                            int status_type, gss_OID mech_type,
                                            OM_uint32 *message_context,
                                            gss_buffer_t status_string)
{
    OM_uint32 major = GSS_S_COMPLETE;
    const char *text = NULL;
    int handled;

    (void)mech_type;
    CHECK_MINOR(minor);
    buf_clear(status_string);
    if (status_string == GSS_C_NO_BUFFER || message_context == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *message_context = 0;
    /* The boundary's own codes are explained without Python: it may be why we are here. */
    if (status_type == GSS_C_MECH_CODE && status_value == GSSMECH_MINOR_PYTHON_UNAVAILABLE)
        text = GSSMECH_MSG_PYTHON_UNAVAILABLE;
    else if (status_type == GSS_C_MECH_CODE && status_value == GSSMECH_MINOR_PYTHON_EXCEPTION)
        text = GSSMECH_MSG_PYTHON_EXCEPTION;
    if (text != NULL) {
        if (gssmech_buffer_set(status_string, text, strlen(text)) != 0)
            return GSS_S_FAILURE;
        return GSS_S_COMPLETE;
    }
    START_PYTHON(minor);
    handled = py_display_status(&major, minor, status_value, status_type, status_string);
    return finish(handled, major, minor);
}

/* ================================= names ================================================= */
GSSMECH_EXPORT OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t input_name_buffer,
                                         gss_OID input_name_type, gss_name_t *output_name)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t id = 0;
    int handled;

    CHECK_MINOR(minor);
    if (output_name == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *output_name = GSS_C_NO_NAME;
    if (input_name_buffer == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    START_PYTHON(minor);
    handled = py_import_name(&major, minor, input_name_buffer, input_name_type, &g_mech_oid, &id);
    major = finish(handled, major, minor);
    return wrap_new(major, minor, KIND_NAME, id, (void **)output_name);
}

GSSMECH_EXPORT OM_uint32 gss_display_name(OM_uint32 *minor, gss_name_t input_name,
                                          gss_buffer_t output_name_buffer,
                                          gss_OID *output_name_type)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t id;
    int handled, code = 0;

    CHECK_MINOR(minor);
    buf_clear(output_name_buffer);
    if (output_name_type != NULL)
        *output_name_type = GSS_C_NO_OID;
    if (output_name_buffer == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    id = handle_id(input_name, KIND_NAME);
    if (id == 0 || id == BAD_ID)
        return GSS_S_BAD_NAME;
    START_PYTHON(minor);
    handled = py_display_name(&major, minor, id, output_name_buffer, &code);
    major = finish(handled, major, minor);
    if (GSS_ERROR(major))
        buf_free(output_name_buffer);
    else if (output_name_type != NULL)
        *output_name_type = nt_from_code(code);
    return major;
}

/* Release paths free the C token whatever Python says (interpreter shutdown included). */
static OM_uint32 release_handle(OM_uint32 *minor, void **handle, int kind, OM_uint32 bad)
{
    uint64_t id;
    OM_uint32 mj = 0;

    CHECK_MINOR(minor);
    if (handle == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (*handle == NULL)
        return GSS_S_COMPLETE;
    id = handle_id(*handle, kind);
    if (id == BAD_ID)
        return bad;
    if (gssmech_start() == 0)
        (void)py_release(&mj, minor, kind, id);
    *minor = 0;
    handle_free(*handle);
    *handle = NULL;
    return GSS_S_COMPLETE;
}

GSSMECH_EXPORT OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name)
{
    return release_handle(minor, (void **)name, KIND_NAME, GSS_S_BAD_NAME);
}

GSSMECH_EXPORT OM_uint32 gss_compare_name(OM_uint32 *minor, gss_name_t name1, gss_name_t name2,
                                          int *name_equal)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t a, b;
    int handled, eq = 0;

    CHECK_MINOR(minor);
    if (name_equal == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *name_equal = 0;
    a = handle_id(name1, KIND_NAME);
    b = handle_id(name2, KIND_NAME);
    if (a == 0 || b == 0 || a == BAD_ID || b == BAD_ID)
        return GSS_S_BAD_NAME;
    START_PYTHON(minor);
    handled = py_compare_name(&major, minor, a, b, &eq);
    major = finish(handled, major, minor);
    if (!GSS_ERROR(major))
        *name_equal = eq ? 1 : 0;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_duplicate_name(OM_uint32 *minor, const gss_name_t src_name,
                                            gss_name_t *dest_name)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t id, out = 0;
    int handled;

    CHECK_MINOR(minor);
    if (dest_name == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *dest_name = GSS_C_NO_NAME;
    id = handle_id(src_name, KIND_NAME);
    if (id == 0 || id == BAD_ID)
        return GSS_S_BAD_NAME;
    START_PYTHON(minor);
    handled = py_duplicate_name(&major, minor, id, &out);
    major = finish(handled, major, minor);
    return wrap_new(major, minor, KIND_NAME, out, (void **)dest_name);
}

GSSMECH_EXPORT OM_uint32 gss_export_name(OM_uint32 *minor, const gss_name_t input_name,
                                         gss_buffer_t exported_name)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t id;
    int handled;

    CHECK_MINOR(minor);
    buf_clear(exported_name);
    if (exported_name == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    id = handle_id(input_name, KIND_NAME);
    if (id == 0 || id == BAD_ID)
        return GSS_S_BAD_NAME;
    START_PYTHON(minor);
    handled = py_export_name(&major, minor, id, exported_name);
    major = finish(handled, major, minor);
    if (GSS_ERROR(major))
        buf_free(exported_name);
    return major;
}

/* ============================== credentials ============================================== */
static OM_uint32 acquire(OM_uint32 *minor, gss_name_t desired_name, OM_uint32 time_req,
                         gss_OID_set desired_mechs, gss_cred_usage_t usage,
                         gss_const_key_value_set_t store, gss_cred_id_t *output_cred,
                         gss_OID_set *actual_mechs, OM_uint32 *time_rec)
{
    OM_uint32 major = GSS_S_FAILURE, tmp, lifetime = 0;
    uint64_t name, out = 0;
    size_t i;
    int handled, ours = desired_mechs == GSS_C_NO_OID_SET;

    CHECK_MINOR(minor);
    if (output_cred == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *output_cred = GSS_C_NO_CREDENTIAL;
    if (actual_mechs != NULL)
        *actual_mechs = GSS_C_NO_OID_SET;
    if (time_rec != NULL)
        *time_rec = 0;
    for (i = 0; desired_mechs != GSS_C_NO_OID_SET && i < desired_mechs->count; i++) {
        learn_mech(&desired_mechs->elements[i]);
        ours |= is_our_mech(&desired_mechs->elements[i]);
    }
    if (!ours)
        return GSS_S_BAD_MECH;
    name = handle_id(desired_name, KIND_NAME);
    if (name == BAD_ID)
        return GSS_S_BAD_NAME;
    START_PYTHON(minor);
    handled = py_acquire_cred(&major, minor, name, time_req, usage, store, &out, &lifetime);
    major = finish(handled, major, minor);
    major = wrap_new(major, minor, KIND_CRED, out, (void **)output_cred);
    if (GSS_ERROR(major))
        return major;
    if (time_rec != NULL)
        *time_rec = lifetime;
    if (actual_mechs != NULL) {
        if (gss_create_empty_oid_set(minor, actual_mechs) != GSS_S_COMPLETE ||
            gss_add_oid_set_member(minor, &g_mech_oid, actual_mechs) != GSS_S_COMPLETE) {
            (void)gss_release_oid_set(&tmp, actual_mechs);
            (void)release_handle(&tmp, (void **)output_cred, KIND_CRED, GSS_S_NO_CRED);
            return GSS_S_FAILURE;
        }
    }
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_acquire_cred(OM_uint32 *minor, gss_name_t desired_name,
                                          OM_uint32 time_req, gss_OID_set desired_mechs,
                                          gss_cred_usage_t cred_usage, gss_cred_id_t *output_cred,
                                          gss_OID_set *actual_mechs, OM_uint32 *time_rec)
{
    return acquire(minor, desired_name, time_req, desired_mechs, cred_usage, NULL, output_cred,
                   actual_mechs, time_rec);
}

GSSMECH_EXPORT OM_uint32 gss_acquire_cred_from(OM_uint32 *minor, gss_name_t desired_name,
                                               OM_uint32 time_req, gss_OID_set desired_mechs,
                                               gss_cred_usage_t cred_usage,
                                               gss_const_key_value_set_t cred_store,
                                               gss_cred_id_t *output_cred,
                                               gss_OID_set *actual_mechs, OM_uint32 *time_rec)
{
    return acquire(minor, desired_name, time_req, desired_mechs, cred_usage, cred_store,
                   output_cred, actual_mechs, time_rec);
}

GSSMECH_EXPORT OM_uint32 gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred_handle)
{
    return release_handle(minor, (void **)cred_handle, KIND_CRED, GSS_S_NO_CRED);
}

static OM_uint32 inquire_cred(OM_uint32 *minor, gss_cred_id_t cred, gss_name_t *name,
                              OM_uint32 *init_life, OM_uint32 *accept_life,
                              gss_cred_usage_t *usage, gss_OID_set *mechanisms)
{
    OM_uint32 major = GSS_S_FAILURE, tmp, il = 0, al = 0;
    uint64_t id, name_id = 0;
    int handled, u = 0;

    CHECK_MINOR(minor);
    if (name != NULL)
        *name = GSS_C_NO_NAME;
    if (init_life != NULL)
        *init_life = 0;
    if (accept_life != NULL)
        *accept_life = 0;
    if (usage != NULL)
        *usage = 0;
    if (mechanisms != NULL)
        *mechanisms = GSS_C_NO_OID_SET;
    id = handle_id(cred, KIND_CRED);
    if (id == BAD_ID)
        return GSS_S_NO_CRED;
    START_PYTHON(minor);
    handled = py_inquire_cred(&major, minor, id, name != NULL, &name_id, &il, &al, &u);
    major = finish(handled, major, minor);
    if (GSS_ERROR(major))
        return major;
    if (name != NULL && name_id != 0) {
        major = wrap_new(major, minor, KIND_NAME, name_id, (void **)name);
        if (GSS_ERROR(major))
            return major;
    }
    if (mechanisms != NULL &&
        (gss_create_empty_oid_set(minor, mechanisms) != GSS_S_COMPLETE ||
         gss_add_oid_set_member(minor, &g_mech_oid, mechanisms) != GSS_S_COMPLETE)) {
        (void)gss_release_oid_set(&tmp, mechanisms);
        if (name != NULL)
            (void)release_handle(&tmp, (void **)name, KIND_NAME, GSS_S_BAD_NAME);
        return GSS_S_FAILURE;
    }
    if (init_life != NULL)
        *init_life = il;
    if (accept_life != NULL)
        *accept_life = al;
    if (usage != NULL)
        *usage = u;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_inquire_cred(OM_uint32 *minor, gss_cred_id_t cred_handle,
                                          gss_name_t *name, OM_uint32 *lifetime,
                                          gss_cred_usage_t *cred_usage, gss_OID_set *mechanisms)
{
    OM_uint32 il = 0, al = 0, major;
    gss_cred_usage_t u = 0;

    major = inquire_cred(minor, cred_handle, name, &il, &al, &u, mechanisms);
    if (lifetime != NULL)
        *lifetime = GSS_ERROR(major) ? 0 : (u == GSS_C_ACCEPT ? al : il);
    if (cred_usage != NULL)
        *cred_usage = u;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_inquire_cred_by_mech(OM_uint32 *minor, gss_cred_id_t cred_handle,
                                                  gss_OID mech_type, gss_name_t *name,
                                                  OM_uint32 *initiator_lifetime,
                                                  OM_uint32 *acceptor_lifetime,
                                                  gss_cred_usage_t *cred_usage)
{
    if (minor != NULL && !is_our_mech(mech_type)) {
        *minor = 0;
        return GSS_S_BAD_MECH;
    }
    return inquire_cred(minor, cred_handle, name, initiator_lifetime, acceptor_lifetime,
                        cred_usage, NULL);
}

static OM_uint32 store(OM_uint32 *minor, gss_cred_id_t input_cred, gss_cred_usage_t usage,
                       const gss_OID desired_mech, OM_uint32 overwrite, OM_uint32 default_cred,
                       gss_const_key_value_set_t cred_store, gss_OID_set *elements_stored,
                       gss_cred_usage_t *usage_stored)
{
    OM_uint32 major = GSS_S_FAILURE, tmp;
    uint64_t id;
    int handled, u = 0;

    CHECK_MINOR(minor);
    if (elements_stored != NULL)
        *elements_stored = GSS_C_NO_OID_SET;
    if (usage_stored != NULL)
        *usage_stored = 0;
    if (!is_our_mech(desired_mech))
        return GSS_S_BAD_MECH;
    id = handle_id(input_cred, KIND_CRED);
    if (id == 0 || id == BAD_ID)
        return GSS_S_NO_CRED;
    START_PYTHON(minor);
    handled = py_store_cred(&major, minor, id, usage, overwrite != 0, default_cred != 0,
                            cred_store, &u);
    major = finish(handled, major, minor);
    if (GSS_ERROR(major))
        return major;
    if (elements_stored != NULL &&
        (gss_create_empty_oid_set(minor, elements_stored) != GSS_S_COMPLETE ||
         gss_add_oid_set_member(minor, &g_mech_oid, elements_stored) != GSS_S_COMPLETE)) {
        (void)gss_release_oid_set(&tmp, elements_stored);
        return GSS_S_FAILURE;
    }
    if (usage_stored != NULL)
        *usage_stored = u;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_store_cred(OM_uint32 *minor, const gss_cred_id_t input_cred_handle,
                                        gss_cred_usage_t input_usage, const gss_OID desired_mech,
                                        OM_uint32 overwrite_cred, OM_uint32 default_cred,
                                        gss_OID_set *elements_stored,
                                        gss_cred_usage_t *cred_usage_stored)
{
    return store(minor, input_cred_handle, input_usage, desired_mech, overwrite_cred,
                 default_cred, NULL, elements_stored, cred_usage_stored);
}

GSSMECH_EXPORT OM_uint32 gss_store_cred_into(OM_uint32 *minor, gss_cred_id_t input_cred_handle,
                                             gss_cred_usage_t input_usage,
                                             const gss_OID desired_mech, OM_uint32 overwrite_cred,
                                             OM_uint32 default_cred,
                                             gss_const_key_value_set_t cred_store,
                                             gss_OID_set *elements_stored,
                                             gss_cred_usage_t *cred_usage_stored)
{
    return store(minor, input_cred_handle, input_usage, desired_mech, overwrite_cred,
                 default_cred, cred_store, elements_stored, cred_usage_stored);
}

/* Contexts and per-message calls: cdefs/plugin_ctx.c (concatenated by build.py). */
