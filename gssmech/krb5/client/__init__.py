"""Sans-I/O Kerberos client exchanges (RFC 4120 §3.1, §3.3; RFC 8062 anonymity): AS with
password, keytab or anonymous PKINIT; TGS incl. anonymous and cross-realm; thin runner."""
