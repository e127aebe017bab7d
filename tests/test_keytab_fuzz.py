"""Hostile bytes into the keytab parser: only KeytabFormatError (naming source and offset) or a
successful parse, never another exception or a hang; and serialize/parse round-trips."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.ccache.keytab_format import KeytabEntry, parse, serialize
from gssmech.errors import KeytabFormatError
from gssmech.krb5.principal import Principal

SOURCE = "FILE:/fuzz/keytab"
FUZZ = settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
names = st.binary(max_size=10).map(lambda b: b.decode("utf-8", "surrogateescape"))


@st.composite
def keytabs(draw: st.DrawFn) -> tuple[int, list[KeytabEntry]]:
    version = draw(st.sampled_from([1, 2]))
    nt = st.just(0) if version == 1 else st.integers(-(2**31), 2**31 - 1)
    entry = st.builds(
        KeytabEntry,
        st.builds(Principal, nt, st.lists(names, max_size=3).map(tuple), names),
        st.integers(0, 2**32 - 1),
        st.integers(1, 2**32 - 1),  # a zero 32-bit kvno means "use the 8-bit one"
        st.integers(0, 0xFFFF),
        st.binary(max_size=32),
    )
    return version, draw(st.lists(entry, max_size=3))


def parse_or_typed_error(data: bytes) -> list[KeytabEntry] | None:
    try:
        return parse(data, source=SOURCE)
    except KeytabFormatError as exc:
        assert exc.source == SOURCE and SOURCE in str(exc)
        assert exc.offset is not None and 0 <= exc.offset <= len(data)
        return None


@FUZZ
@given(keytabs())
def test_round_trip(kt: tuple[int, list[KeytabEntry]]) -> None:
    version, entries = kt
    assert parse(serialize(entries, version)) == entries


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    parse_or_typed_error(data)


@FUZZ
@given(st.sampled_from([b"\x05\x01", b"\x05\x02"]), st.binary(max_size=300))
def test_random_bytes_after_valid_magic(magic: bytes, data: bytes) -> None:
    parse_or_typed_error(magic + data)


@FUZZ
@given(keytabs(), st.data())
def test_truncation_and_bit_flips(kt: tuple[int, list[KeytabEntry]], data: st.DataObject) -> None:
    raw = bytearray(serialize(kt[1], kt[0]))
    parse_or_typed_error(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
    for _ in range(data.draw(st.integers(1, 4))):
        bit = data.draw(st.integers(0, len(raw) * 8 - 1))
        raw[bit // 8] ^= 1 << (bit % 8)
    parse_or_typed_error(bytes(raw))
