"""PKINIT failures, in the one gssmech hierarchy (gssmech.errors)."""

from __future__ import annotations

from gssmech.errors import GSS_S_DEFECTIVE_CREDENTIAL, DecodeError, GSSMechError


class PKINITError(GSSMechError):
    """The KDC's PKINIT reply cannot be trusted or used: bad or unsigned SignedData, a
    certificate that does not chain to pkinit_anchors or does not name the KDC (RFC 4556
    §3.2.4, anonymity conformance C6), or a missing/wrong KDC contribution key (C7)."""

    MAJOR = GSS_S_DEFECTIVE_CREDENTIAL


class KexError(DecodeError):
    """A public value or key-agreement parameter is malformed or out of range."""


class UnsupportedGroupError(KexError):
    """Well-formed parameters we do not accept (the KDC answers
    KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED, RFC 4556 §3.2.2)."""
