"""gssmech: a GSS-API mechanism for Kerberos V5 with first-class anonymity."""

__version__ = "0.1.0"
