"""Strict decoding: the one entry point that turns untrusted DER into asn1crypto values.

asn1crypto parses lazily: ``Foo.load(data)`` only reads the outer header, and a malformed
inner field raises (ValueError, TypeError, ...) whenever someone first touches it.  That would
let bad peer input fail far from the parser with an untyped exception.  :func:`decode` instead

1. requires ``bytes`` and loads with ``strict=True`` (no trailing data),
2. walks the whole tree, building every nested field now (``.native`` on each primitive), and
   calls ``validate_strict()`` on every node that defines it (integer ranges, the
   KerberosTime format, pvno/msg-type of messages); ANY and parsable OCTET STRING contents
   (certificate extensions inside CMS) stay opaque until decoded with their own type,

and reports every failure as :class:`gssmech.errors.DecodeError` naming what was decoded.
The returned object dumps to exactly the input bytes (asn1crypto keeps the original encoding
of an unmodified value).
"""

from __future__ import annotations

from typing import TypeVar

from asn1crypto import core, parser

from gssmech.errors import DecodeError

T = TypeVar("T", bound=core.Asn1Value)

#: Nesting cap for the validation walk; Kerberos messages nest far less than this.
_MAX_DEPTH = 64


def decode(cls: type[T], data: bytes | bytearray | memoryview, *, what: str | None = None) -> T:
    """Parse ``data`` as ``cls`` completely, or raise DecodeError(source=``what``)."""
    source = what or cls.__name__
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected bytes, got {type(data).__name__}", source=source)
    raw = bytes(data)
    if not raw:
        raise DecodeError("empty input", source=source)
    try:
        value = cls.load(raw, strict=True)
        _force(value, 0)
    except DecodeError as exc:
        raise DecodeError(str(exc), source=source) from exc
    # Any exception from the third-party parser on untrusted bytes is a decode failure, and
    # none may escape untyped (house rule).
    except Exception as exc:
        raise DecodeError(f"{type(exc).__name__}: {exc}", source=source) from exc
    return value


#: Opaque containers left unparsed: their content type is not ours to know here (e.g. the
#: otherName values and extensions inside a KDC certificate in a PKINIT SignedData, which
#: asn1crypto cannot parse generically).  A typed decode of their bytes checks them.
_OPAQUE = (core.Any, core.ParsableOctetString)


def _force(value: core.Asn1Value, depth: int) -> None:
    """Build every nested field now and run the ``validate_strict()`` hooks."""
    if depth > _MAX_DEPTH:
        raise DecodeError("structure nested too deeply")
    if isinstance(value, _OPAQUE):
        return
    if isinstance(value, core.Sequence):
        for index in range(len(value)):
            _force(value[index], depth + 1)
    elif isinstance(value, (core.SequenceOf, core.SetOf)):
        for child in value:
            _force(child, depth + 1)
    elif isinstance(value, core.Choice):
        _force(value.chosen, depth + 1)
    else:
        value.native  # noqa: B018 -- primitives decode (strings, times, bits) lazily
    check = getattr(value, "validate_strict", None)
    if check is not None:
        check()
    if getattr(value, "explicit", None):
        _check_explicit(value)


def _check_explicit(value: core.Asn1Value) -> None:
    """DER: every EXPLICIT wrapper's length is exactly its inner encoding's.

    asn1crypto silently ignores bytes left over inside an explicit tag (``a2 07 03 04 ...``
    with a 6-byte inner value), which would let a tampered field decode as something else.
    """
    header = value._header
    total = len(header) + len(value.contents or b"") + len(value._trailer or b"")
    pos = 0
    for _wrapper in value.explicit:
        pos, length = _read_header(header, pos)
        if pos + length != total:
            raise DecodeError("explicit tag length does not match its contents")


def _read_header(data: bytes, pos: int) -> tuple[int, int]:
    """Skip one DER identifier and return (position after the length octets, length)."""
    if pos >= len(data):
        raise DecodeError("truncated tag header")
    if data[pos] & 0x1F == 0x1F:
        pos += 1
        while pos < len(data) and data[pos] & 0x80:
            pos += 1
    pos += 1
    if pos >= len(data):
        raise DecodeError("truncated length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return pos, first
    count = first & 0x7F
    if count == 0 or pos + count > len(data):
        raise DecodeError("indefinite or truncated length in DER")
    return pos + count, int.from_bytes(data[pos : pos + count], "big")


def peek_tag(data: bytes) -> tuple[int, int, int] | None:
    """``(class, constructed, tag number)`` of the first DER header, or None if unreadable.

    Used to dispatch on [APPLICATION n] before a full decode (e.g. KRB-ERROR vs AS-REP).
    """
    if not data:
        return None
    first = data[0]
    cls, constructed, number = first >> 6, (first >> 5) & 1, first & 0x1F
    if number == 0x1F:  # high-tag-number form
        number = 0
        for i, byte in enumerate(data[1:6], start=1):
            number = (number << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
            if i == 5:
                return None
        else:
            return None
    return cls, constructed, number


def inner_der(value: core.Asn1Value) -> bytes:
    """The encoding of ``value`` itself, without the explicit context tags of the field it was
    read from (its own [APPLICATION n] tag, if any, is kept).

    NB(asn1crypto): a field read from a Sequence keeps its explicit tag, so
    ``req["req_body"].dump()`` starts with ``A4``, not ``30``.  Checksums over a field (the
    TGS-REQ authenticator cksum and PKINIT paChecksum over KDC-REQ-BODY, RFC 4120 §7.2.2 /
    RFC 4556 §3.2.1) need the inner bytes exactly as received, which this slices out of the
    original encoding instead of re-encoding.
    """
    # value.explicit lists the type's own [APPLICATION n] first and the field's context tags
    # after it (outermost last); strip only the field's.  Read it before dump(): dumping an
    # asn1crypto Any moves its tags into the parsed value and clears .explicit.
    own = type(value).explicit
    own_layers = 0 if own is None else (1 if isinstance(own[0], int) else len(own))
    layers = len(value.explicit or ()) - own_layers
    data = value.dump()
    for _ in range(layers):
        data = parser.parse(data, strict=True)[4]
    return data
