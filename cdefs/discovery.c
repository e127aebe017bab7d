/* Mechanism discovery for the front library: pure C, never starts Python (DESIGN.md "The plugin
 * library"), so gss_indicate_mechs, SPNEGO and Cyrus GS2 listing in unrelated processes cost
 * nothing.  Concatenated after plugin.c into one translation unit (build.py FRONT_SOURCES): it uses
 * plugin.c's is_our_mech, CHECK_MINOR, buffer helpers and g_mech_oid. */

/* ===================== mech discovery: pure C, never starts Python ======================== */
GSSMECH_EXPORT OM_uint32 gss_inquire_attrs_for_mech(OM_uint32 *minor, gss_const_OID mech,
                                                    gss_OID_set *mech_attrs,
                                                    gss_OID_set *known_mech_attrs)
{
    /* DESIGN.md "The plugin library": the attributes we assert, and all RFC 5587 ones. */
    gss_const_OID have[] = {
        GSS_C_MA_MECH_CONCRETE, GSS_C_MA_ITOK_FRAMED, GSS_C_MA_AUTH_INIT,
        GSS_C_MA_AUTH_INIT_ANON, GSS_C_MA_AUTH_TARG, GSS_C_MA_INTEG_PROT,
        GSS_C_MA_CONF_PROT, GSS_C_MA_MIC, GSS_C_MA_WRAP,
        GSS_C_MA_REPLAY_DET, GSS_C_MA_OOS_DET, GSS_C_MA_CBINDINGS,
        GSS_C_MA_CTX_TRANS, GSS_C_MA_NOT_DFLT_MECH,
    };
    gss_const_OID known[] = {
        GSS_C_MA_MECH_CONCRETE, GSS_C_MA_MECH_PSEUDO, GSS_C_MA_MECH_COMPOSITE,
        GSS_C_MA_MECH_NEGO, GSS_C_MA_MECH_GLUE, GSS_C_MA_NOT_MECH,
        GSS_C_MA_DEPRECATED, GSS_C_MA_NOT_DFLT_MECH, GSS_C_MA_ITOK_FRAMED,
        GSS_C_MA_AUTH_INIT, GSS_C_MA_AUTH_TARG, GSS_C_MA_AUTH_INIT_INIT,
        GSS_C_MA_AUTH_TARG_INIT, GSS_C_MA_AUTH_INIT_ANON, GSS_C_MA_AUTH_TARG_ANON,
        GSS_C_MA_DELEG_CRED, GSS_C_MA_INTEG_PROT, GSS_C_MA_CONF_PROT,
        GSS_C_MA_MIC, GSS_C_MA_WRAP, GSS_C_MA_PROT_READY,
        GSS_C_MA_REPLAY_DET, GSS_C_MA_OOS_DET, GSS_C_MA_CBINDINGS,
        GSS_C_MA_PFS, GSS_C_MA_COMPRESS, GSS_C_MA_CTX_TRANS,
    };
    struct { gss_OID_set *out; gss_const_OID *list; size_t n; } sets[2] = {
        {mech_attrs, have, sizeof(have) / sizeof(have[0])},
        {known_mech_attrs, known, sizeof(known) / sizeof(known[0])},
    };
    OM_uint32 major, tmp;
    size_t s, i;

    CHECK_MINOR(minor);
    if (mech_attrs != NULL)
        *mech_attrs = GSS_C_NO_OID_SET;
    if (known_mech_attrs != NULL)
        *known_mech_attrs = GSS_C_NO_OID_SET;
    if (!is_our_mech(mech))
        return GSS_S_BAD_MECH;
    for (s = 0; s < 2; s++) {
        if (sets[s].out == NULL)
            continue;
        major = gss_create_empty_oid_set(minor, sets[s].out);
        for (i = 0; major == GSS_S_COMPLETE && i < sets[s].n; i++)
            major = gss_add_oid_set_member(minor, (gss_OID)sets[s].list[i], sets[s].out);
        if (major != GSS_S_COMPLETE) {
            if (mech_attrs != NULL)
                (void)gss_release_oid_set(&tmp, mech_attrs);
            if (known_mech_attrs != NULL)
                (void)gss_release_oid_set(&tmp, known_mech_attrs);
            return major;
        }
    }
    return GSS_S_COMPLETE;
}

/* RFC 5801 §3.1: a GS2 SASL name is "GS2-" + at most 15 of [A-Z0-9-_]. */
#define SASL_NAME "GS2-GSSMECH"
#define MECH_NAME "gssmech"
#define MECH_DESCRIPTION "gssmech: Kerberos V5 with first-class anonymity (RFC 4121, RFC 8062)"

GSSMECH_EXPORT OM_uint32 gss_inquire_saslname_for_mech(OM_uint32 *minor, const gss_OID mech,
                                                       gss_buffer_t sasl_mech_name,
                                                       gss_buffer_t mech_name,
                                                       gss_buffer_t mech_description)
{
    CHECK_MINOR(minor);
    buf_clear(sasl_mech_name);
    buf_clear(mech_name);
    buf_clear(mech_description);
    if (!is_our_mech(mech))
        return GSS_S_BAD_MECH;
    if (gssmech_buffer_set(sasl_mech_name, SASL_NAME, strlen(SASL_NAME)) != 0 ||
        gssmech_buffer_set(mech_name, MECH_NAME, strlen(MECH_NAME)) != 0 ||
        gssmech_buffer_set(mech_description, MECH_DESCRIPTION, strlen(MECH_DESCRIPTION)) != 0) {
        buf_free(sasl_mech_name);
        buf_free(mech_name);
        buf_free(mech_description);
        *minor = ENOMEM;
        return GSS_S_FAILURE;
    }
    return GSS_S_COMPLETE;
}

GSSMECH_EXPORT OM_uint32 gss_inquire_mech_for_saslname(OM_uint32 *minor,
                                                       const gss_buffer_t sasl_mech_name,
                                                       gss_OID *mech_type)
{
    CHECK_MINOR(minor);
    if (mech_type != NULL)
        *mech_type = GSS_C_NO_OID;
    if (sasl_mech_name == GSS_C_NO_BUFFER || sasl_mech_name->length != strlen(SASL_NAME) ||
        sasl_mech_name->value == NULL ||
        memcmp(sasl_mech_name->value, SASL_NAME, strlen(SASL_NAME)) != 0)
        return GSS_S_BAD_MECH;
    if (mech_type != NULL)
        *mech_type = &g_mech_oid;
    return GSS_S_COMPLETE;
}

/* RFC 2744 §7.26 / RFC 2743 §2.4.12: the name types import_name accepts (gssmech/gss/names.py),
 * as libgssapi's own exported OID variables (notes/mechglue-plugin.md §4: never a static of ours). */
GSSMECH_EXPORT OM_uint32 gss_inquire_names_for_mech(OM_uint32 *minor, gss_OID mech,
                                                    gss_OID_set *name_types)
{
    gss_OID types[] = {
        GSS_C_NT_USER_NAME, GSS_C_NT_MACHINE_UID_NAME, GSS_C_NT_STRING_UID_NAME,
        GSS_C_NT_HOSTBASED_SERVICE, GSS_C_NT_ANONYMOUS, GSS_C_NT_EXPORT_NAME,
        (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, GSS_C_NT_HOSTBASED_SERVICE_X,
    };
    OM_uint32 major, tmp;
    size_t i;

    CHECK_MINOR(minor);
    if (name_types == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *name_types = GSS_C_NO_OID_SET;
    if (!is_our_mech(mech))
        return GSS_S_BAD_MECH;
    major = gss_create_empty_oid_set(minor, name_types);
    for (i = 0; major == GSS_S_COMPLETE && i < sizeof(types) / sizeof(types[0]); i++)
        major = gss_add_oid_set_member(minor, types[i], name_types);
    if (major != GSS_S_COMPLETE)
        (void)gss_release_oid_set(&tmp, name_types);
    return major;
}
