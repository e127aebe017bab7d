/* gssmech plugin library, part 2: security contexts and per-message calls (RFC 2744 §5).
 * Concatenated after cdefs/plugin.c by gssmech/_plugin/build.py; same rules (see there). */

/* RFC 2744 §5.19/§5.1: "no token to send" is a zero length.  Many applications release the
 * output token only when its length is non-zero, so an empty token must own no memory (the
 * dispatcher's gssmech_buffer_set allocates even for zero bytes). */
static void token_out(gss_buffer_t token)
{
    if (token != GSS_C_NO_BUFFER && token->length == 0)
        buf_free(token);
}

/* The mechglue frees its union context without calling us when a FIRST init call fails, so
 * the dispatcher registers a new context only on COMPLETE / CONTINUE_NEEDED, and a new C
 * handle is made only then (wrap_new). */
GSSMECH_EXPORT OM_uint32 gss_init_sec_context(
    OM_uint32 *minor, gss_cred_id_t claimant_cred_handle, gss_ctx_id_t *context_handle,
    gss_name_t target_name, gss_OID mech_type, OM_uint32 req_flags, OM_uint32 time_req,
    gss_channel_bindings_t input_chan_bindings, gss_buffer_t input_token,
    gss_OID *actual_mech_type, gss_buffer_t output_token, OM_uint32 *ret_flags,
    OM_uint32 *time_rec)
{
    OM_uint32 major = GSS_S_FAILURE, flags = 0, life = 0;
    uint64_t cred, target, ctx;
    int handled, fresh;

    CHECK_MINOR(minor);
    buf_clear(output_token);
    if (actual_mech_type != NULL)
        *actual_mech_type = GSS_C_NO_OID;
    if (ret_flags != NULL)
        *ret_flags = 0;
    if (time_rec != NULL)
        *time_rec = 0;
    if (context_handle == NULL || output_token == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    learn_mech(mech_type);
    if (!is_our_mech(mech_type))
        return GSS_S_BAD_MECH;
    ctx = handle_id(*context_handle, KIND_CTX);
    cred = handle_id(claimant_cred_handle, KIND_CRED);
    target = handle_id(target_name, KIND_NAME);
    if (ctx == BAD_ID)
        return GSS_S_NO_CONTEXT;
    if (cred == BAD_ID)
        return GSS_S_NO_CRED;
    if (target == 0 || target == BAD_ID)
        return GSS_S_BAD_NAME;
    fresh = ctx == 0;
    START_PYTHON(minor);
    handled = py_init_sec_context(&major, minor, cred, &ctx, target, &g_mech_oid, req_flags,
                                  time_req, input_chan_bindings, in_buf(input_token),
                                  output_token, &flags, &life);
    major = finish(handled, major, minor);
    if (fresh)
        major = wrap_new(major, minor, KIND_CTX, ctx, (void **)context_handle);
    if (GSS_ERROR(major)) {
        buf_free(output_token);
        return major;
    }
    token_out(output_token);
    if (actual_mech_type != NULL)
        *actual_mech_type = &g_mech_oid;
    if (ret_flags != NULL)
        *ret_flags = flags;
    if (time_rec != NULL)
        *time_rec = life;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_accept_sec_context(
    OM_uint32 *minor, gss_ctx_id_t *context_handle, gss_cred_id_t acceptor_cred_handle,
    gss_buffer_t input_token_buffer, gss_channel_bindings_t input_chan_bindings,
    gss_name_t *src_name, gss_OID *mech_type, gss_buffer_t output_token, OM_uint32 *ret_flags,
    OM_uint32 *time_rec, gss_cred_id_t *delegated_cred_handle)
{
    OM_uint32 major = GSS_S_FAILURE, flags = 0, life = 0, tmp;
    uint64_t cred, ctx, src = 0;
    int handled, fresh, refused;

    CHECK_MINOR(minor);
    buf_clear(output_token);
    if (src_name != NULL)
        *src_name = GSS_C_NO_NAME;
    if (mech_type != NULL)
        *mech_type = GSS_C_NO_OID;
    if (ret_flags != NULL)
        *ret_flags = 0;
    if (time_rec != NULL)
        *time_rec = 0;
    if (delegated_cred_handle != NULL)
        *delegated_cred_handle = GSS_C_NO_CREDENTIAL;
    if (context_handle == NULL || output_token == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (input_token_buffer == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ctx = handle_id(*context_handle, KIND_CTX);
    cred = handle_id(acceptor_cred_handle, KIND_CRED);
    if (ctx == BAD_ID)
        return GSS_S_NO_CONTEXT;
    if (cred == BAD_ID)
        return GSS_S_NO_CRED;
    fresh = ctx == 0;
    START_PYTHON(minor);
    handled = py_accept_sec_context(&major, minor, cred, &ctx, &g_mech_oid,
                                    input_token_buffer, input_chan_bindings, src_name != NULL,
                                    &src, output_token, &flags, &life);
    major = finish(handled, major, minor);
    /* Python's own refusal may carry a KRB-ERROR token for the initiator (RFC 4121 §4.1). */
    refused = handled == 1 && GSS_ERROR(major);
    if (fresh)
        major = wrap_new(major, minor, KIND_CTX, ctx, (void **)context_handle);
    if (!GSS_ERROR(major) && src_name != NULL && src != 0) {
        major = wrap_new(major, minor, KIND_NAME, src, (void **)src_name);
        src = 0;
    }
    if (GSS_ERROR(major)) {
        /* Never leave a name behind on failure, nor a token unless it is that refusal's; the
         * mechglue deletes the context. */
        py_drop(KIND_NAME, src);
        if (src_name != NULL && *src_name != GSS_C_NO_NAME)
            (void)release_handle(&tmp, (void **)src_name, KIND_NAME, GSS_S_BAD_NAME);
        if (refused)
            token_out(output_token);
        else
            buf_free(output_token);
        return major;
    }
    token_out(output_token);
    /* The mechglue replaces it with its registered OID, but only if we set one. */
    if (mech_type != NULL)
        *mech_type = &g_mech_oid;
    if (ret_flags != NULL)
        *ret_flags = flags;
    if (time_rec != NULL)
        *time_rec = life;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context_handle,
                                                gss_buffer_t output_token)
{
    buf_clear(output_token); /* RFC 4121 §4.3: no deletion token */
    return release_handle(minor, (void **)context_handle, KIND_CTX, GSS_S_NO_CONTEXT);
}

/* Resolve a context argument; 0 means "not ours / none". */
static uint64_t ctx_arg(gss_ctx_id_t ctx)
{
    uint64_t id = handle_id(ctx, KIND_CTX);
    return id == BAD_ID ? 0 : id;
}

GSSMECH_EXPORT OM_uint32 gss_context_time(OM_uint32 *minor, gss_ctx_id_t context_handle,
                                          OM_uint32 *time_rec)
{
    OM_uint32 major = GSS_S_FAILURE, life = 0;
    uint64_t ctx;
    int handled;

    CHECK_MINOR(minor);
    if (time_rec == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *time_rec = 0;
    if ((ctx = ctx_arg(context_handle)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_context_time(&major, minor, ctx, &life);
    major = finish(handled, major, minor);
    if (!GSS_ERROR(major))
        *time_rec = life;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_inquire_context(OM_uint32 *minor, gss_ctx_id_t context_handle,
                                             gss_name_t *src_name, gss_name_t *targ_name,
                                             OM_uint32 *lifetime_rec, gss_OID *mech_type,
                                             OM_uint32 *ctx_flags, int *locally_initiated,
                                             int *open)
{
    OM_uint32 major = GSS_S_FAILURE, life = 0, flags = 0, tmp;
    uint64_t ctx, src = 0, targ = 0;
    int handled, local = 0, is_open = 0;

    CHECK_MINOR(minor);
    if (src_name != NULL)
        *src_name = GSS_C_NO_NAME;
    if (targ_name != NULL)
        *targ_name = GSS_C_NO_NAME;
    if (lifetime_rec != NULL)
        *lifetime_rec = 0;
    if (mech_type != NULL)
        *mech_type = GSS_C_NO_OID;
    if (ctx_flags != NULL)
        *ctx_flags = 0;
    if (locally_initiated != NULL)
        *locally_initiated = 0;
    if (open != NULL)
        *open = 0;
    if ((ctx = ctx_arg(context_handle)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_inquire_context(&major, minor, ctx, src_name != NULL, targ_name != NULL, &src,
                                 &targ, &life, &flags, &local, &is_open);
    major = finish(handled, major, minor);
    if (!GSS_ERROR(major) && src_name != NULL && src != 0) {
        major = wrap_new(major, minor, KIND_NAME, src, (void **)src_name);
        src = 0;
    }
    if (!GSS_ERROR(major) && targ_name != NULL && targ != 0) {
        major = wrap_new(major, minor, KIND_NAME, targ, (void **)targ_name);
        targ = 0;
    }
    if (GSS_ERROR(major)) {
        py_drop(KIND_NAME, src);
        py_drop(KIND_NAME, targ);
        if (src_name != NULL && *src_name != GSS_C_NO_NAME)
            (void)release_handle(&tmp, (void **)src_name, KIND_NAME, GSS_S_BAD_NAME);
        return major;
    }
    if (lifetime_rec != NULL)
        *lifetime_rec = life;
    if (mech_type != NULL)
        *mech_type = &g_mech_oid;
    if (ctx_flags != NULL)
        *ctx_flags = flags;
    if (locally_initiated != NULL)
        *locally_initiated = local;
    if (open != NULL)
        *open = is_open;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_process_context_token(OM_uint32 *minor, gss_ctx_id_t context_handle,
                                                   gss_buffer_t token_buffer)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t ctx;
    int handled;

    CHECK_MINOR(minor);
    if ((ctx = ctx_arg(context_handle)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_process_context_token(&major, minor, ctx, in_buf(token_buffer));
    return finish(handled, major, minor);
}

GSSMECH_EXPORT OM_uint32 gss_wrap(OM_uint32 *minor, gss_ctx_id_t context_handle, int conf_req_flag,
                                  gss_qop_t qop_req, gss_buffer_t input_message_buffer,
                                  int *conf_state, gss_buffer_t output_message_buffer)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t ctx;
    int handled, conf = 0;

    CHECK_MINOR(minor);
    buf_clear(output_message_buffer);
    if (conf_state != NULL)
        *conf_state = 0;
    if (output_message_buffer == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if ((ctx = ctx_arg(context_handle)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_wrap(&major, minor, ctx, conf_req_flag, qop_req, in_buf(input_message_buffer),
                      &conf, output_message_buffer);
    major = finish(handled, major, minor);
    if (GSS_ERROR(major))
        buf_free(output_message_buffer);
    else if (conf_state != NULL)
        *conf_state = conf;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_unwrap(OM_uint32 *minor, gss_ctx_id_t context_handle,
                                    gss_buffer_t input_message_buffer,
                                    gss_buffer_t output_message_buffer, int *conf_state,
                                    gss_qop_t *qop_state)
{
    OM_uint32 major = GSS_S_FAILURE, qop = 0;
    uint64_t ctx;
    int handled, conf = 0;

    CHECK_MINOR(minor);
    buf_clear(output_message_buffer);
    if (conf_state != NULL)
        *conf_state = 0;
    if (qop_state != NULL)
        *qop_state = 0;
    if (output_message_buffer == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if ((ctx = ctx_arg(context_handle)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_unwrap(&major, minor, ctx, in_buf(input_message_buffer), output_message_buffer,
                        &conf, &qop);
    major = finish(handled, major, minor);
    if (GSS_ERROR(major)) {
        buf_free(output_message_buffer);
        return major;
    }
    if (conf_state != NULL)
        *conf_state = conf;
    if (qop_state != NULL)
        *qop_state = qop;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_get_mic(OM_uint32 *minor, gss_ctx_id_t context_handle,
                                     gss_qop_t qop_req, gss_buffer_t message_buffer,
                                     gss_buffer_t message_token)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t ctx;
    int handled;

    CHECK_MINOR(minor);
    buf_clear(message_token);
    if (message_token == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if ((ctx = ctx_arg(context_handle)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_get_mic(&major, minor, ctx, qop_req, in_buf(message_buffer), message_token);
    major = finish(handled, major, minor);
    if (GSS_ERROR(major))
        buf_free(message_token);
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_verify_mic(OM_uint32 *minor, gss_ctx_id_t context_handle,
                                        gss_buffer_t message_buffer, gss_buffer_t token_buffer,
                                        gss_qop_t *qop_state)
{
    OM_uint32 major = GSS_S_FAILURE, qop = 0;
    uint64_t ctx;
    int handled;

    CHECK_MINOR(minor);
    if (qop_state != NULL)
        *qop_state = 0;
    if ((ctx = ctx_arg(context_handle)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_verify_mic(&major, minor, ctx, in_buf(message_buffer), in_buf(token_buffer),
                            &qop);
    major = finish(handled, major, minor);
    if (!GSS_ERROR(major) && qop_state != NULL)
        *qop_state = qop;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_wrap_size_limit(OM_uint32 *minor, gss_ctx_id_t context_handle,
                                             int conf_req_flag, gss_qop_t qop_req,
                                             OM_uint32 req_output_size, OM_uint32 *max_input_size)
{
    OM_uint32 major = GSS_S_FAILURE, limit = 0;
    uint64_t ctx;
    int handled;

    CHECK_MINOR(minor);
    if (max_input_size == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *max_input_size = 0;
    if ((ctx = ctx_arg(context_handle)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_wrap_size_limit(&major, minor, ctx, conf_req_flag, qop_req, req_output_size,
                                 &limit);
    major = finish(handled, major, minor);
    if (!GSS_ERROR(major))
        *max_input_size = limit;
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_pseudo_random(OM_uint32 *minor, gss_ctx_id_t context,
                                           int prf_key, const gss_buffer_t prf_in,
                                           ssize_t desired_output_len, gss_buffer_t prf_out)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t ctx;
    int handled;

    CHECK_MINOR(minor);
    buf_clear(prf_out);
    if (prf_out == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if ((ctx = ctx_arg(context)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_pseudo_random(&major, minor, ctx, prf_key, in_buf(prf_in),
                               (int64_t)desired_output_len, prf_out);
    major = finish(handled, major, minor);
    if (GSS_ERROR(major))
        buf_free(prf_out);
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_export_sec_context(OM_uint32 *minor, gss_ctx_id_t *context_handle,
                                                gss_buffer_t interprocess_token)
{
    OM_uint32 major = GSS_S_FAILURE, tmp;
    uint64_t ctx;
    int handled;

    CHECK_MINOR(minor);
    buf_clear(interprocess_token);
    if (context_handle == NULL || interprocess_token == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if ((ctx = ctx_arg(*context_handle)) == 0)
        return GSS_S_NO_CONTEXT;
    START_PYTHON(minor);
    handled = py_export_sec_context(&major, minor, ctx, interprocess_token);
    major = finish(handled, major, minor);
    if (GSS_ERROR(major)) {
        buf_free(interprocess_token);
        return major;
    }
    /* RFC 2744 §5.14: the context is deactivated and the handle set to GSS_C_NO_CONTEXT. */
    (void)release_handle(&tmp, (void **)context_handle, KIND_CTX, GSS_S_NO_CONTEXT);
    return major;
}

GSSMECH_EXPORT OM_uint32 gss_import_sec_context(OM_uint32 *minor, gss_buffer_t interprocess_token,
                                                gss_ctx_id_t *context_handle)
{
    OM_uint32 major = GSS_S_FAILURE;
    uint64_t ctx = 0;
    int handled;

    CHECK_MINOR(minor);
    if (context_handle == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *context_handle = GSS_C_NO_CONTEXT;
    if (interprocess_token == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    START_PYTHON(minor);
    handled = py_import_sec_context(&major, minor, interprocess_token, &ctx);
    major = finish(handled, major, minor);
    return wrap_new(major, minor, KIND_CTX, ctx, (void **)context_handle);
}
