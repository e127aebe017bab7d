"""GSS-API request/return flags (RFC 2744 §3.9.2 values; MIT extensions from gssapi_ext.h).

Member names follow python-gssapi's ``RequirementFlag`` so code can switch between the two;
the C names are aliases (``GSSFlag.MUTUAL`` is ``GSSFlag.mutual_authentication``).
"""

from __future__ import annotations

import enum


class GSSFlag(enum.IntFlag):
    delegate_to_peer = 1  # GSS_C_DELEG_FLAG
    mutual_authentication = 2  # GSS_C_MUTUAL_FLAG
    replay_detection = 4  # GSS_C_REPLAY_FLAG
    out_of_sequence_detection = 8  # GSS_C_SEQUENCE_FLAG
    confidentiality = 16  # GSS_C_CONF_FLAG
    integrity = 32  # GSS_C_INTEG_FLAG
    anonymity = 64  # GSS_C_ANON_FLAG
    protection_ready = 128  # GSS_C_PROT_READY_FLAG
    transferable = 256  # GSS_C_TRANS_FLAG
    channel_bound = 2048  # GSS_C_CHANNEL_BOUND_FLAG (MIT)
    dce_style = 4096  # GSS_C_DCE_STYLE (MIT)
    identify = 8192  # GSS_C_IDENTIFY_FLAG (MIT)
    extended_error = 16384  # GSS_C_EXTENDED_ERROR_FLAG (MIT)
    ok_as_delegate = 32768  # GSS_C_DELEG_POLICY_FLAG (MIT)

    # RFC 2744 spellings.
    DELEG = 1
    MUTUAL = 2
    REPLAY = 4
    SEQUENCE = 8
    CONF = 16
    INTEG = 32
    ANON = 64
    PROT_READY = 128
    TRANS = 256


#: python-gssapi's name for the same enumeration.
RequirementFlag = GSSFlag

#: python-gssapi's SecurityContext default when ``flags`` is falsy (gssapi.raw
#: init_sec_context: "mutual authentication and out-of-sequence detection").
DEFAULT_INIT_FLAGS = GSSFlag.mutual_authentication | GSSFlag.out_of_sequence_detection

#: Flags an RFC 4121 context always provides once established (RFC 4121 §4.1.1.1 and MIT's
#: init_sec_context: CONF, INTEG and TRANS are granted unconditionally).
ALWAYS_GRANTED = GSSFlag.confidentiality | GSSFlag.integrity | GSSFlag.transferable


def as_flags(value: int | GSSFlag | None) -> GSSFlag:
    """Normalize a caller's flags; unknown bits are kept (RFC 2744 says ignore, not reject)."""
    return GSSFlag(int(value or 0))
