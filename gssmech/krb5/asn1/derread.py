"""A direct DER reader for the few messages on the hot paths (X.690 §8, §10; RFC 4120 §5).

:func:`gssmech.krb5.asn1.decode` builds asn1crypto trees, which is general and correct but
costs tens of µs a message; the AP exchange (every GSS context) and the TGS exchange (every
service ticket) read a handful of fixed shapes.  These functions read exactly those shapes
from ``(data, pos, end)`` spans, in DER only: one identifier octet, definite minimal lengths,
minimal INTEGERs, ``YYYYMMDDHHMMSSZ`` times, BIT STRINGs of exactly 32 bits.

Anything else raises :class:`NotFast`.  It is not a verdict: the caller (see
:mod:`gssmech.krb5.asn1.apfields`) then hands the bytes to :func:`decode`, which accepts or
rejects them with its own message.  So a fast read must never accept what :func:`decode`
rejects (tests/test_asn1_apfields.py checks that on mutated messages); the reverse, a valid
but unusual encoding taking the slow path, only costs time.
"""

from __future__ import annotations

import datetime as _dt

# Universal identifier octets (X.690 §8.1.2) of the types Kerberos messages use.
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
GENERAL_STRING = 0x1B
GENERALIZED_TIME = 0x18
SEQUENCE = 0x30

INT32 = (-(2**31), 2**31 - 1)
UINT32 = (0, 2**32 - 1)
MICROSECONDS = (0, 999999)
#: KerberosNonce/seq-number: RFC 1510's signed INTEGER is still accepted (see base.py).
NONCE = (-(2**31), 2**32 - 1)

_UTC = _dt.UTC
#: Valid KerberosTime octets -> POSIX seconds (a pure function; only valid texts are stored).
_TIMES: dict[bytes, int] = {}


class NotFast(Exception):
    """Not in the DER shapes read here; :func:`gssmech.krb5.asn1.decode` decides instead."""


def tlv(d: bytes, pos: int, end: int, ident: int) -> tuple[int, int]:
    """The contents span ``(start, stop)`` of the element at ``pos`` with identifier ``ident``."""
    if pos + 2 > end or d[pos] != ident:
        raise NotFast
    n = d[pos + 1]
    pos += 2
    if n & 0x80:
        count = n & 0x7F
        # DER (X.690 §10.1): long form only when needed, no leading zero octets.
        if not 1 <= count <= 3 or pos + count > end or d[pos] == 0:
            raise NotFast
        n = int.from_bytes(d[pos : pos + count], "big")
        if n < 0x80:
            raise NotFast
        pos += count
    stop = pos + n
    if stop > end:
        raise NotFast
    return pos, stop


def field(d: bytes, pos: int, end: int, tag: int, ident: int) -> tuple[int, int]:
    """Contents span of the element inside ``[tag] EXPLICIT`` at ``pos``; the element must
    fill the tag exactly (asn1crypto ignores leftovers; decode() rejects them)."""
    # Most fields are under 128 octets: both headers in short form, read inline.
    if pos + 4 <= end and d[pos] == 0xA0 | tag and d[pos + 2] == ident:
        outer, inner = d[pos + 1], d[pos + 3]
        if outer == inner + 2 and inner < 0x80 and pos + 2 + outer <= end:
            return pos + 4, pos + 4 + inner
    start, stop = tlv(d, pos, end, 0xA0 | tag)
    inner, inner_stop = tlv(d, start, stop, ident)
    if inner_stop != stop:
        raise NotFast
    return inner, inner_stop


def element(d: bytes, pos: int, end: int, tag: int, ident: int) -> tuple[int, int, int]:
    """Like :func:`field`, but also where the inner element's own header starts:
    ``(header start, contents start, stop)``, so its exact DER can be sliced out."""
    start, stop = tlv(d, pos, end, 0xA0 | tag)
    inner, inner_stop = tlv(d, start, stop, ident)
    if inner_stop != stop:
        raise NotFast
    return start, inner, inner_stop


def present(d: bytes, pos: int, end: int, tag: int) -> bool:
    """Whether the OPTIONAL field ``[tag]`` comes next."""
    return pos < end and d[pos] == 0xA0 | tag


def integer(d: bytes, start: int, stop: int, bounds: tuple[int, int]) -> int:
    """A minimal two's-complement INTEGER (X.690 §8.3) within ``bounds``."""
    size = stop - start
    if not 1 <= size <= 5:
        raise NotFast
    if size > 1:
        first, second = d[start], d[start + 1]
        if (first == 0 and second < 0x80) or (first == 0xFF and second >= 0x80):
            raise NotFast
    value = int.from_bytes(d[start:stop], "big", signed=True)
    if not bounds[0] <= value <= bounds[1]:
        raise NotFast
    return value


def int_field(d: bytes, pos: int, end: int, tag: int,
              bounds: tuple[int, int] = INT32) -> tuple[int, int]:
    """``[tag] INTEGER`` -> (value, next position)."""
    # One-octet INTEGERs (pvno, msg-type, etypes, name types) are most of them.
    if (pos + 5 <= end and d[pos] == 0xA0 | tag and d[pos + 1] == 3 and d[pos + 2] == INTEGER
            and d[pos + 3] == 1):
        value = d[pos + 4]
        if value >= 0x80:
            value -= 0x100
        if not bounds[0] <= value <= bounds[1]:
            raise NotFast
        return value, pos + 5
    start, stop = field(d, pos, end, tag, INTEGER)
    return integer(d, start, stop, bounds), stop


def octets_field(d: bytes, pos: int, end: int, tag: int) -> tuple[bytes, int]:
    """``[tag] OCTET STRING`` -> (value, next position)."""
    start, stop = field(d, pos, end, tag, OCTET_STRING)
    return d[start:stop], stop


def string_field(d: bytes, pos: int, end: int, tag: int) -> tuple[str, int]:
    """``[tag] KerberosString`` as UTF-8 text (see base.KerberosString) -> (text, next)."""
    start, stop = field(d, pos, end, tag, GENERAL_STRING)
    return d[start:stop].decode("utf-8"), stop


def time_field(d: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    """``[tag] KerberosTime`` (RFC 4120 §5.2.3, ``YYYYMMDDHHMMSSZ``) -> (POSIX seconds, next)."""
    start, stop = field(d, pos, end, tag, GENERALIZED_TIME)
    text = d[start:stop]
    known = _TIMES.get(text)
    if known is not None:
        return known, stop
    if len(text) != 15 or text[14] != 0x5A or not text[:14].isdigit():
        raise NotFast
    year = int(text[0:4])
    if year == 0:  # asn1crypto's extended_datetime; decode() says what is wrong
        raise NotFast
    # datetime() raises ValueError for a month 13 or a second 60, which the caller treats
    # like NotFast.
    moment = _dt.datetime(year, int(text[4:6]), int(text[6:8]), int(text[8:10]),
                          int(text[10:12]), int(text[12:14]), tzinfo=_UTC)
    seconds = int(moment.timestamp())
    if len(_TIMES) >= 1024:  # times repeat (a TGT's, "now"); a peer cannot grow this
        _TIMES.clear()
    _TIMES[text] = seconds
    return seconds, stop


def flags_field(d: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    """``[tag] KerberosFlags`` of exactly 32 bits (what MIT and Heimdal send) as MIT's 32-bit
    integer (bit ``n`` of RFC 4120 §5.2.8 is ``1 << (31 - n)``) -> (value, next)."""
    start, stop = field(d, pos, end, tag, BIT_STRING)
    if stop - start != 5 or d[start] != 0:
        raise NotFast
    return int.from_bytes(d[start + 1 : stop], "big"), stop


def principal_name(d: bytes, start: int, stop: int) -> tuple[int, tuple[str, ...]]:
    """``PrincipalName`` contents (RFC 4120 §5.2.2) -> (name-type, name-string)."""
    name_type, pos = int_field(d, start, stop, 0)
    seq, seq_stop = field(d, pos, stop, 1, SEQUENCE)
    done(seq_stop, stop)
    names = []
    while seq < seq_stop:
        a, seq = tlv(d, seq, seq_stop, GENERAL_STRING)
        names.append(d[a:seq].decode("utf-8"))
    return name_type, tuple(names)


def application(d: bytes, number: int) -> tuple[int, int]:
    """The SEQUENCE contents span of a whole message ``[APPLICATION number] SEQUENCE``; no byte
    may follow it."""
    end = len(d)
    start, stop = tlv(d, 0, end, 0x60 | number)
    inner, inner_stop = tlv(d, start, stop, SEQUENCE)
    if stop != end or inner_stop != end:
        raise NotFast
    return inner, inner_stop


def done(pos: int, end: int) -> None:
    """No unknown field may follow the last one (the schemas here have no extension marker
    that decode() would skip)."""
    if pos != end:
        raise NotFast
