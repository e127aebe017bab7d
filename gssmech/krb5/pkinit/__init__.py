"""PKINIT (RFC 4556, RFC 8636, RFC 5349) for anonymous Kerberos (RFC 8062 and
draft-ietf-krb-wg-anon-08 §4.1): key agreement (``kex``), CMS SignedData (``cms``) and the
client side (``client``)."""
