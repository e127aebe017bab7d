"""GSS_Display_status (RFC 2743 §2.4.1, RFC 2744 §5.11): status codes as text.

Major-status words are MIT krb5 1.20's (``disp_major_status.c``, checked against the system
library through python-gssapi), so messages read the same whichever mechanism produced them.
A major status may hold a calling error, a routine error and supplementary bits at once; as in
MIT, ``display_major`` yields one message per part, in that order.  Minor codes are ours
(:data:`gssmech.errors.MINOR_MESSAGES`).
"""

from __future__ import annotations

from gssmech.errors import MINOR_MESSAGES

_CALLING: dict[int, str] = {
    1: "A required input parameter could not be read",
    2: "A required output parameter could not be written",
    3: "A parameter was malformed",
}

_ROUTINE: dict[int, str] = {
    1: "An unsupported mechanism was requested",
    2: "An invalid name was supplied",
    3: "A supplied name was of an unsupported type",
    4: "Incorrect channel bindings were supplied",
    5: "An invalid status code was supplied",
    6: "A token had an invalid Message Integrity Check (MIC)",
    7: "No credentials were supplied, or the credentials were unavailable or inaccessible",
    8: "No context has been established",
    9: "Invalid token was supplied",
    10: "Invalid credential was supplied",
    11: "The referenced credential has expired",
    12: "The referenced context has expired",
    13: "Unspecified GSS failure.  Minor code may provide more information",
    14: "The quality-of-protection (QOP) requested could not be provided",
    15: "The operation is forbidden by local security policy",
    16: "The operation or option is not available or unsupported",
    17: "The requested credential element already exists",
    18: "The provided name was not mechanism specific (MN)",
}

_SUPPLEMENTARY: tuple[tuple[int, str], ...] = (
    (1 << 0, "The routine must be called again to complete its function"),
    (1 << 1, "The token was a duplicate of an earlier token"),
    (1 << 2, "The token's validity period has expired"),
    (1 << 3, "A later token has already been processed"),
    (1 << 4, "An expected per-message token was not received"),
)

SUCCESS_MESSAGE = "The routine completed successfully"
UNKNOWN_STATUS = "An invalid status code was supplied"


def display_major(status: int) -> list[str]:
    """Every message a major status stands for (RFC 2744 §3.9.1 field layout)."""
    if status == 0:
        return [SUCCESS_MESSAGE]
    calling = (status >> 24) & 0xFF
    routine = (status >> 16) & 0xFF
    supplementary = status & 0xFFFF
    out: list[str] = []
    if calling:
        out.append(_CALLING.get(calling, UNKNOWN_STATUS))
    if routine:
        out.append(_ROUTINE.get(routine, UNKNOWN_STATUS))
    for bit, text in _SUPPLEMENTARY:
        if supplementary & bit:
            out.append(text)
    if supplementary & ~0x1F:
        out.append(UNKNOWN_STATUS)
    return out


def display_minor(status: int) -> str:
    """Our minor codes; anything else is shown as a number (it is not ours to interpret)."""
    return MINOR_MESSAGES.get(status, f"Unknown code {status}")


def display_status(status: int, *, is_major: bool) -> list[str]:
    """GSS_Display_status for GSS_C_GSS_CODE (``is_major``) or GSS_C_MECH_CODE."""
    return display_major(status) if is_major else [display_minor(status)]
