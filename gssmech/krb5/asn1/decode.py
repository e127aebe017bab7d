"""Strict decoding: the one entry point that turns untrusted DER into asn1crypto values.

asn1crypto parses lazily: ``Foo.load(data)`` only reads the outer header, and a malformed
inner field raises (ValueError, TypeError, ...) whenever someone first touches it.  That would
let bad peer input fail far from the parser with an untyped exception.  :func:`decode` instead

1. requires ``bytes`` and loads with ``strict=True`` (no trailing data),
2. builds the whole tree now (``.native`` on each primitive), checks that no bytes are left
   inside an EXPLICIT tag (DER), and calls ``validate_strict()`` on every node that defines
   it (integer ranges, the KerberosTime form, pvno/msg-type of messages); ANY and parsable
   OCTET STRING contents (certificate extensions inside CMS) stay opaque until decoded with
   their own type,

and reports every failure as :class:`gssmech.errors.DecodeError` naming what was decoded.
The returned object dumps to exactly the input bytes (asn1crypto keeps the original encoding
of an unmodified value).

Two builders produce the same tree.  The generic one (:func:`decode_generic`) lets
asn1crypto build each node through ``Sequence.__getitem__`` and its general ``_build``; it
handles every schema and every BER oddity asn1crypto tolerates, but costs ~10 µs a node.  The
fast one (:func:`_build_fast`) covers what Kerberos messages are made of (SEQUENCE with
EXPLICIT fields, SEQUENCE OF, primitives) with per-class plans compiled once, and creates
the same objects directly; it gives up on anything else and on any error, and the generic
builder then decides, so both accept exactly the same inputs and report the same errors.
"""

from __future__ import annotations

import threading
from typing import TypeVar

from asn1crypto import core, parser
from asn1crypto.core import _build
from asn1crypto.parser import _parse

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
        return _build_fast(cls, raw)
    # The fast builder gives up on whatever it does not cover and on every error (asn1crypto
    # raises ValueError/TypeError/...); the generic builder then accepts or rejects with its
    # own message, so both paths agree by construction.
    except Exception:
        return decode_generic(cls, raw, source=source)


def decode_generic(cls: type[T], raw: bytes, *, source: str | None = None) -> T:
    """:func:`decode` through asn1crypto's general builder only (the reference behaviour)."""
    source = source or cls.__name__
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


# --- fast builder --------------------------------------------------------------------------
#
# NB(asn1crypto): this reproduces what asn1crypto 1.5's ``core._build`` and
# ``Sequence._parse_children`` make of a DER value (the same classes with the same instance
# attributes: ``explicit``, ``contents``/``_contents``, ``_header``, ``_trailer``, ``_native``,
# ``children``), so it relies on those private attributes, as :func:`_check_explicit` already
# does; tests/test_asn1_decode_fast.py compares its trees with the generic builder's, attribute
# by attribute, for every sample message.

_PRIMITIVE, _SEQUENCE, _SEQUENCE_OF, _GENERIC = range(4)
_PLAIN_PARAMS = frozenset(("explicit", "optional"))
_NOT_FAST = (core.Any, core.Choice, core.ParsableOctetString, core.Set, core.SetOf, core.Void)


class _GiveUp(Exception):
    """The fast builder does not cover this input; the generic builder decides."""


class _Node:
    """How to build one value of ``spec`` read with field ``params`` (None: no field params).

    ``wrappers`` is the value's ``explicit`` as asn1crypto sets it (innermost first, the
    type's own [APPLICATION n] before the field's context tag); ``expect`` the universal
    (class, method, tag) inside them.  Sequence plans are looked up per class at build time,
    so recursive schemas compile lazily.
    """

    __slots__ = ("check", "child", "expect", "kind", "outer_first", "params", "spec", "wrappers")

    def __init__(self, spec: type[core.Asn1Value], params: dict | None) -> None:
        self.spec, self.params = spec, params
        self.kind, self.child = _GENERIC, None
        self.check = getattr(spec, "validate_strict", None)
        self.wrappers: tuple[tuple[int, int], ...] | None = None
        self.outer_first: tuple[tuple[int, int], ...] = ()
        self.expect: tuple[int, int, int] | None = None
        if issubclass(spec, _NOT_FAST) or not set(params or ()) <= _PLAIN_PARAMS:
            return
        try:
            probe = spec()  # also runs asn1crypto's once-per-class _setup()
        except (ValueError, TypeError):
            return
        if probe.implicit or None in (probe.class_, probe.method, probe.tag):
            return
        self.expect = (probe.class_, probe.method, probe.tag)
        if spec.explicit or (params and "explicit" in params):
            self.wrappers = spec(**params).explicit if params else probe.explicit
            self.outer_first = tuple(reversed(self.wrappers or ()))
        if issubclass(spec, core.Sequence):
            if _sequence_plan(spec) is not None:
                self.kind = _SEQUENCE
        elif issubclass(spec, core.SequenceOf):
            if spec._child_spec is not None:
                self.kind, self.child = _SEQUENCE_OF, _node(spec._child_spec, None)
        elif issubclass(spec, core.Primitive) and spec.__init__ is core.Primitive.__init__:
            self.kind = _PRIMITIVE


_NODES: dict[tuple[type, int], _Node] = {}
_PLANS: dict[type, tuple[tuple[tuple[int, int], bool, _Node], ...] | None] = {}


_COMPILING = threading.RLock()


def _node(spec: type[core.Asn1Value], params: dict | None) -> _Node:
    # Field params dicts live in the class's _fields for good (and the node keeps its dict
    # alive), so their id is a stable key.
    key = (spec, id(params))
    node = _NODES.get(key)
    if node is None:
        # One compiler at a time: another thread must not see a half-built plan's placeholder
        # and settle for the generic builder for good.
        with _COMPILING:
            node = _NODES.get(key)
            if node is None:
                node = _NODES[key] = _Node(spec, params)
    return node


def _sequence_plan(spec: type[core.Sequence]) -> tuple | None:
    """((field id, optional, node), ...) for a plain SEQUENCE, or None if not covered."""
    if spec in _PLANS:
        return _PLANS[spec]
    _PLANS[spec] = None  # a recursive reference meanwhile builds generically
    if not spec._fields or spec._spec_callbacks is not None or spec._oid_pair is not None:
        return None
    plan = []
    for (_name, field_spec, params), field_id in zip(spec._fields, spec._field_ids):
        if field_spec is None:
            return None
        optional = "optional" in params
        # asn1crypto tries Any and Choice fields against any tag; not worth mirroring.
        if optional and issubclass(field_spec, (core.Any, core.Choice)):
            return None
        plan.append((field_id, optional, _node(field_spec, params)))
    _PLANS[spec] = result = tuple(plan)
    return result


def _build_fast(cls: type[T], raw: bytes) -> T:
    node = _node(cls, None)
    if node.kind == _GENERIC:
        raise _GiveUp(cls.__name__)
    parts, end = _tlv(raw, len(raw), 0)
    if end != len(raw):
        raise _GiveUp("trailing data")
    return _build_node(node, parts, 0)


def _tlv(data: bytes, end: int, pos: int) -> tuple[tuple, int]:
    """asn1crypto's ``parser._parse(data, end, pos)``, same result, inlined for the usual DER
    shapes (low tag number, definite length in at most 3 octets); ``_parse`` does the rest
    and raises the errors."""
    if pos + 2 <= end:
        first, length = data[pos], data[pos + 1]
        start = pos + 2
        if first & 31 != 31 and (length < 0x80 or 0x81 <= length <= 0x83):
            if length >= 0x80:
                count = length - 0x80
                length = int.from_bytes(data[start : start + count], "big")
                start += count
            stop = start + length
            if stop <= end:
                parts = (first >> 6, (first >> 5) & 1, first & 31, data[pos:start],
                         data[start:stop], b"")
                return parts, stop
    return _parse(data, end, pos)


def _build_node(node: _Node, parts: tuple, depth: int) -> core.Asn1Value:
    """One value from its parsed (class, method, tag, header, contents, trailer)."""
    class_, method, tag, header, contents, trailer = parts
    if trailer or depth > _MAX_DEPTH:
        raise _GiveUp("indefinite length or too deep")
    if node.kind == _GENERIC:
        value = _build(*parts, spec=node.spec, spec_params=node.params)
        _force(value, depth)
        return value
    for wrapper in node.outer_first:
        if (class_, tag) != wrapper or method != 1:
            raise _GiveUp("explicit tag")
        outer_length = len(contents)
        (class_, method, tag, inner_header, contents, trailer), end = _tlv(
            contents, outer_length, 0
        )
        if end != outer_length or trailer:  # DER: nothing left inside an explicit tag
            raise _GiveUp("explicit tag length")
        header += inner_header
    if (class_, method, tag) != node.expect:
        raise _GiveUp("tag")
    spec = node.spec
    value = spec.__new__(spec)
    if node.wrappers:
        value.explicit = node.wrappers
    value._header, value._trailer, value._native = header, b"", None
    kind = node.kind
    if kind == _PRIMITIVE:
        value.contents = contents
        value.native  # noqa: B018 -- primitives decode (strings, times, bits) lazily
    elif kind == _SEQUENCE:
        value._contents = contents
        value.children = _sequence_children(_PLANS[spec], contents, depth + 1)
    else:
        value._contents = contents
        child, length, pos, children = node.child, len(contents), 0, []
        while pos < length:
            item, pos = _tlv(contents, length, pos)
            children.append(_build_node(child, item, depth + 1))
        value.children = children
    if node.check is not None:
        node.check(value)
    return value


def _sequence_children(plan: tuple, contents: bytes, depth: int) -> list:
    """Sequence._parse_children(recurse=True) for a plain plan: absent OPTIONALs are VOID."""
    children: list = []
    length, pos, index, count = len(contents), 0, 0, len(plan)
    while pos < length:
        parts, pos = _tlv(contents, length, pos)
        ident = (parts[0], parts[2])
        while True:
            if index >= count:
                raise _GiveUp("extra element")
            field_id, optional, node = plan[index]
            if not optional or field_id == ident:
                break
            children.append(core.VOID)
            index += 1
        children.append(_build_node(node, parts, depth))
        index += 1
    for _field_id, optional, _unused in plan[index:]:
        if not optional:
            raise _GiveUp("missing field")
        children.append(core.VOID)
    return children


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
