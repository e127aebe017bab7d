/* Output buffers, shared by both plugin libraries (each links its own copy: build.py puts this
 * file into the front's translation unit and into the Python half's cffi source). */
#include <stdlib.h>
#include <string.h>
#include <gssapi/gssapi.h>

/* gss_release_buffer frees with free() (gssapi_alloc.h), so outputs are plain malloc. */
int gssmech_buffer_set(gss_buffer_t out, const char *data, size_t len)
{
    void *p;
    if (out == GSS_C_NO_BUFFER)
        return 0;
    p = malloc(len ? len : 1);
    if (p == NULL)
        return -1;
    if (len)
        memcpy(p, data, len);
    out->length = len;
    out->value = p;
    return 0;
}
