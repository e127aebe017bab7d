"""RFC 2743 §3.1 mechanism-independent token framing of the context tokens (RFC 4121 §4.1).

::

    InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {
        thisMech  MechType,                      -- OBJECT IDENTIFIER
        innerToken ANY DEFINED BY thisMech }

For Kerberos the inner token is a two-octet TOK_ID followed by the Kerberos message
(RFC 4121 §4.1): ``01 00`` KRB_AP_REQ, ``02 00`` KRB_AP_REP, ``03 00`` KRB_ERROR.  RFC 2743
requires the framing only on the first token; RFC 1964/4121 and MIT frame the AP-REP and
KRB-ERROR replies too, so every context token here is framed.

Both the Kerberos OID and our native OID (DESIGN.md) carry the same RFC 4121 body; the caller
says which OIDs it accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from gssmech.errors import GSS_S_BAD_MECH, DecodeError
from gssmech.gss.oids import DEFAULT_NATIVE_MECH, KRB5_MECH, Oid, der_length, read_der_length

TOK_AP_REQ = b"\x01\x00"
TOK_AP_REP = b"\x02\x00"
TOK_KRB_ERROR = b"\x03\x00"
CONTEXT_TOKEN_IDS = (TOK_AP_REQ, TOK_AP_REP, TOK_KRB_ERROR)

_APPLICATION_0 = 0x60  # [APPLICATION 0], constructed


class WrongMechToken(DecodeError):
    """A well-framed token for a mechanism other than ours (RFC 2744: GSS_S_BAD_MECH)."""

    MAJOR = GSS_S_BAD_MECH


class FramedToken(NamedTuple):
    #: thisMech of the framing
    mech: Oid
    #: the two-octet TOK_ID of RFC 4121 §4.1
    tok_id: bytes
    #: the Kerberos message after TOK_ID (DER of AP-REQ, AP-REP or KRB-ERROR)
    body: bytes


def frame(mech: Oid, tok_id: bytes, body: bytes) -> bytes:
    """``60 len 06 len OID TOK_ID body`` (RFC 2743 §3.1)."""
    if tok_id not in CONTEXT_TOKEN_IDS:
        raise ValueError(f"not a context token id: {tok_id.hex()}")
    inner = mech.tlv + tok_id + body
    return bytes([_APPLICATION_0]) + der_length(len(inner)) + inner


def unframe(
    token: bytes,
    accepted: Iterable[Oid] = (KRB5_MECH, DEFAULT_NATIVE_MECH),
    *,
    expect: Iterable[bytes] = CONTEXT_TOKEN_IDS,
) -> FramedToken:
    """Parse a framed context token strictly.

    The outer length must cover exactly the rest of the token (no trailing bytes), the OID
    must be one of ``accepted`` (else :class:`WrongMechToken`), and TOK_ID one of ``expect``.
    """
    what = "GSS context token"
    if not isinstance(token, bytes | bytearray | memoryview):
        raise DecodeError("token must be bytes", source=what)
    data = bytes(token)
    if len(data) < 2 or data[0] != _APPLICATION_0:
        raise DecodeError("not an RFC 2743 InitialContextToken (tag 60)", source=what, offset=0)
    length, pos = read_der_length(data, 1, what=what)
    if pos + length != len(data):
        raise DecodeError("framing length does not match the token length", source=what, offset=1)
    mechs = tuple(accepted)
    # Fast path: the OID is byte for byte one we accept (the DER of an OID is unique, so
    # from_tlv would read exactly that OID); anything else takes the checking path below.
    for mech in mechs:
        tlv = mech.tlv
        if data.startswith(tlv, pos):
            pos += len(tlv)
            break
    else:
        mech, used = Oid.from_tlv(data[pos:], what=what)
        pos += used
        if mech not in mechs:
            raise WrongMechToken(f"token is for mechanism {mech}", source=what, offset=pos - used)
    tok_id = data[pos : pos + 2]
    expected = tuple(expect)
    if len(tok_id) != 2 or tok_id not in expected:
        raise DecodeError(
            f"unexpected TOK_ID {tok_id.hex() or '(none)'}; expected "
            + " or ".join(t.hex() for t in expected),
            source=what,
            offset=pos,
        )
    body = data[pos + 2 :]
    if not body:
        raise DecodeError("empty Kerberos message", source=what, offset=pos + 2)
    return FramedToken(mech, tok_id, body)
