"""Hostile bytes into the ccache parser: only CCacheFormatError (naming source and offset) or a
successful parse, never another exception or a hang; and serialize/parse round-trips."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.ccache import CCacheContents, Credential, KeyBlock, parse, serialize
from gssmech.errors import CCacheFormatError
from gssmech.krb5.principal import Principal

SOURCE = "FILE:/fuzz/cc"
FUZZ = settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

# Any byte string is a legal component (surrogateescape makes the mapping exact).
names = st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape"))
u32 = st.integers(0, 2**32 - 1)
pairs = st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=8)), max_size=2).map(tuple)


def principals(version: int) -> st.SearchStrategy[Principal]:
    nt = st.just(0) if version == 1 else st.integers(-(2**31), 2**31 - 1)
    return st.builds(Principal, nt, st.lists(names, max_size=3).map(tuple), names)


@st.composite
def contents(draw: st.DrawFn) -> CCacheContents:
    version = draw(st.sampled_from([1, 2, 3, 4]))
    princ = principals(version)
    creds = draw(
        st.lists(
            st.builds(
                Credential,
                princ,
                princ,
                st.builds(KeyBlock, st.integers(0, 0xFFFF), st.binary(max_size=32)),
                u32,
                u32,
                u32,
                u32,
                st.booleans(),
                u32,
                pairs,
                pairs,
                st.binary(max_size=40),
                st.binary(max_size=8),
            ),
            max_size=3,
        )
    )
    tags: tuple[tuple[int, bytes], ...] = ()
    offset = None
    if version == 4:
        tags = tuple(
            draw(st.lists(st.tuples(st.integers(2, 0xFFFF), st.binary(max_size=6)), max_size=2))
        )
        offset = draw(
            st.none() | st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(0, 999_999))
        )
    return CCacheContents(version, draw(princ), tuple(creds), tags, offset)


def parse_or_typed_error(data: bytes) -> CCacheContents | None:
    try:
        return parse(data, source=SOURCE)
    except CCacheFormatError as exc:
        assert exc.source == SOURCE and SOURCE in str(exc)
        assert exc.offset is not None and 0 <= exc.offset <= len(data)
        return None


@FUZZ
@given(contents())
def test_round_trip(c: CCacheContents) -> None:
    raw = serialize(c)
    assert parse(raw) == c
    assert serialize(parse(raw)) == raw


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    parse_or_typed_error(data)


@FUZZ
@given(st.sampled_from([1, 2, 3, 4]), st.binary(max_size=300))
def test_random_bytes_after_valid_magic(version: int, data: bytes) -> None:
    parse_or_typed_error(bytes([5, version]) + data)


@FUZZ
@given(contents(), st.data())
def test_truncation(c: CCacheContents, data: st.DataObject) -> None:
    raw = serialize(c)
    cut = data.draw(st.integers(0, len(raw) - 1))
    got = parse_or_typed_error(raw[:cut])
    if got is not None:  # only a cut exactly between records can parse, and loses records
        assert len(got.credentials) < len(c.credentials)


@FUZZ
@given(contents(), st.data())
def test_bit_flips(c: CCacheContents, data: st.DataObject) -> None:
    raw = bytearray(serialize(c))
    for _ in range(data.draw(st.integers(1, 4))):
        bit = data.draw(st.integers(0, len(raw) * 8 - 1))
        raw[bit // 8] ^= 1 << (bit % 8)
    parse_or_typed_error(bytes(raw))


def test_huge_lengths_do_not_allocate_or_hang() -> None:
    # Every u32 length/count field set to 0xffffffff in turn, from a valid v4 cache.
    a = Principal(1, ("a",), "R")
    c = CCacheContents(4, a, (Credential(a, a, ticket=b"t"),) * 2, (), (0, 0))
    raw = serialize(c)
    for pos in range(2, len(raw) - 3):
        parse_or_typed_error(raw[:pos] + b"\xff\xff\xff\xff" + raw[pos + 4 :])
