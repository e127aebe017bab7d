"""Command-line glue between the client exchanges (gssmech.krb5.client), krb5.conf and the
ticket-cache layer (gssmech.ccache): ``kinit`` and ``kvno``."""
