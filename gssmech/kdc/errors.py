"""KDC-side errors: a refusal that becomes a KRB-ERROR (RFC 4120 §5.9.1).

Request processing raises :class:`KDCError` with the protocol error code; the handler turns
it into a KRB-ERROR reply.  Nothing here carries key material: ``e_text`` is sent on the wire
and logged, so it must never include secrets (and, for anonymous requests, never the client's
name -- seed §7).
"""

from __future__ import annotations

from gssmech.errors import GSSMechError, Minor
from gssmech.krb5.asn1.numbers import ErrorCode


class KDCError(GSSMechError):
    """A request the KDC refuses: ``code`` is the KRB-ERROR error-code (RFC 4120 §7.5.9)."""

    MINOR = Minor.KDC_ERROR

    def __init__(self, code: int, e_text: str = "", *, e_data: bytes | None = None) -> None:
        name = ErrorCode(code).name if code in ErrorCode._value2member_map_ else str(code)
        super().__init__(f"{name}: {e_text}" if e_text else name)
        self.code = int(code)
        self.e_text = e_text
        self.e_data = e_data


class KDCDatabaseError(GSSMechError):
    """The realm database or its master key cannot be used (missing, corrupt, wrong key)."""


__all__ = ["KDCDatabaseError", "KDCError"]
