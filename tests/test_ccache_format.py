"""The FILE ccache codec against byte layouts built here by hand from MIT's
``ccache_file_format`` document (not from our serializer), plus config/removed-entry rules."""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable

import pytest

from gssmech.ccache import CCacheContents, Credential, KeyBlock, parse, serialize
from gssmech.ccache.fileformat import encode_credential, parse_with_offsets
from gssmech.ccache.records import config_credential
from gssmech.errors import CCacheError, CCacheFormatError
from gssmech.krb5.principal import Principal

NATIVE = "<" if sys.byteorder == "little" else ">"
ALICE = Principal(1, ("alice",), "EX.TEST")
TGT = Principal(2, ("krbtgt", "EX.TEST"), "EX.TEST")
CRED = Credential(
    client=ALICE,
    server=TGT,
    key=KeyBlock(18, bytes(range(32))),
    authtime=1_700_000_000,
    starttime=1_700_000_001,
    endtime=1_700_036_000,
    renew_till=0xF000_0000,  # past 2038: unsigned on disk
    is_skey=False,
    ticket_flags=0x00E18000,
    addresses=((2, b"\x7f\x00\x00\x01"),),
    authdata=((1, b"ad-if-relevant"),),
    ticket=b"\x61\x03\x02\x01\x05",
    second_ticket=b"",
)


# --- an independent writer that follows the document literally ------------------------------
def h_princ(o: str, p: Principal, version: int) -> bytes:
    out = b""
    if version == 1:
        out += struct.pack(o + "I", len(p.components) + 1)
    else:
        out += struct.pack(o + "iI", p.name_type, len(p.components))
    for part in (p.realm, *p.components):
        raw = part.encode("utf-8", "surrogateescape")
        out += struct.pack(o + "I", len(raw)) + raw
    return out


def h_cred(o: str, c: Credential, version: int) -> bytes:
    out = h_princ(o, c.client, version) + h_princ(o, c.server, version)
    out += struct.pack(o + "H", c.key.enctype)
    if version == 3:
        out += struct.pack(o + "H", c.key.enctype)
    out += struct.pack(o + "I", len(c.key.contents)) + c.key.contents
    out += struct.pack(
        o + "IIIIBI", c.authtime, c.starttime, c.endtime, c.renew_till, 0, c.ticket_flags
    )
    for pairs in (c.addresses, c.authdata):
        out += struct.pack(o + "I", len(pairs))
        for kind, value in pairs:
            out += struct.pack(o + "HI", kind, len(value)) + value
    for blob in (c.ticket, c.second_ticket):
        out += struct.pack(o + "I", len(blob)) + blob
    return out


def h_cache(
    version: int, principal: Principal, creds: list[Credential], header: bytes = b""
) -> bytes:
    o = NATIVE if version in (1, 2) else ">"
    out = bytes([5, version])
    if version == 4:
        out += struct.pack(">H", len(header)) + header
    return out + h_princ(o, principal, version) + b"".join(h_cred(o, c, version) for c in creds)


DELTA_0 = bytes.fromhex("0001 0008 00000000 00000000")  # observed from MIT kinit (notes §3.1)


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_each_version_matches_the_document(version: int) -> None:
    principal = ALICE if version != 1 else Principal(0, ALICE.components, ALICE.realm)
    cred = CRED
    if version == 1:  # v1 has no name types: they read back as 0 (KRB5_NT_UNKNOWN)
        cred = Credential(
            principal, Principal(0, TGT.components, TGT.realm), *[getattr(CRED, f) for f in (
                "key", "authtime", "starttime", "endtime", "renew_till", "is_skey", "ticket_flags",
                "addresses", "authdata", "ticket", "second_ticket")]
        )  # fmt: skip
    raw = h_cache(version, principal, [cred], DELTA_0 if version == 4 else b"")
    contents = parse(raw)
    assert contents == CCacheContents(
        version, principal, (cred,), (), (0, 0) if version == 4 else None
    )
    assert serialize(contents) == raw


def test_v4_header_hexdump_from_mit() -> None:
    contents = CCacheContents(4, ALICE, (), (), (0, 0))
    assert serialize(contents)[:16] == bytes.fromhex("0504 000c 0001 0008 00000000 00000000")


def test_v12_are_native_order_and_v3_repeats_enctype() -> None:
    for version in (1, 2):
        raw = serialize(CCacheContents(version, ALICE, (CRED,)))
        assert struct.pack(NATIVE + "I", 0x00E18000) in raw
    v3 = encode_credential(CRED, 3)
    assert struct.pack(">HHI", 18, 18, 32) + bytes(range(32)) in v3
    assert struct.pack(">I", 0x00E18000) in v3


def test_unknown_header_tags_preserved_byte_for_byte() -> None:
    header = (
        DELTA_0.replace(b"\x00" * 4, b"\xff\xff\xff\xfe", 1) + bytes.fromhex("0007 0003") + b"xyz"
    )
    header += bytes.fromhex("7fff 0000")
    raw = h_cache(4, ALICE, [CRED], header)
    contents = parse(raw)
    assert contents.kdc_offset == (-2, 0)
    assert contents.header_tags == ((7, b"xyz"), (0x7FFF, b""))
    assert serialize(contents) == raw


def test_config_entries_and_removed_records() -> None:
    fast = config_credential(ALICE, "fast_avail", b"yes", TGT)
    old = config_credential(ALICE, "start_realm", b"OLD")
    new = config_credential(ALICE, "start_realm", b"NEW")
    dup = config_credential(ALICE, "start_realm", b"DUP")
    assert fast.server == Principal(
        1, ("krb5_ccache_conf_data", "fast_avail", "krbtgt/EX.TEST@EX.TEST"), "X-CACHECONF:"
    )
    assert fast.is_config and fast.config_key == "fast_avail"
    assert fast.config_principal == "krbtgt/EX.TEST@EX.TEST"
    assert fast.endtime == 0 and not fast.is_removed  # config entries are not tombstones
    gone = old.removed()
    assert gone.is_removed and not gone.is_config and gone.server.realm == "X-RMED-CONF:"
    assert len(encode_credential(gone, 4)) == len(encode_credential(old, 4))
    ticket_gone = CRED.removed()
    assert ticket_gone.is_removed and ticket_gone.authtime == 0xFFFFFFFF
    raw = h_cache(4, ALICE, [fast, gone, CRED, ticket_gone, new, dup], DELTA_0)
    contents = parse(raw)
    assert serialize(contents) == raw  # tombstones survive a rewrite
    assert contents.live_credentials() == (CRED,)
    assert contents.get_config("start_realm") == b"NEW"  # first live match wins
    assert contents.get_config("fast_avail", TGT) == b"yes"
    assert contents.get_config("fast_avail") is None
    assert [c.ticket for c in contents.config_entries()] == [b"yes", b"NEW", b"DUP"]


def test_arbitrary_bytes_in_names_round_trip() -> None:
    weird = Principal(-128, ("\udcff\udcfeab", "\u00e9"), "R\udc80")
    raw = serialize(CCacheContents(4, weird, (Credential(weird, weird),)))
    assert b"\xff\xfeab" in raw and "é".encode() in raw and b"R\x80" in raw
    assert parse(raw).principal == weird
    assert struct.pack(">i", -128) in raw  # signed name type


def test_offsets_of_records() -> None:
    raw = h_cache(4, ALICE, [CRED, CRED], DELTA_0)
    _, offsets = parse_with_offsets(raw)
    one = len(h_cred(">", CRED, 4))
    assert offsets == (len(raw) - 2 * one, len(raw) - one)


@pytest.mark.parametrize(
    ("mutate", "offset", "text"),
    [
        (lambda r: b"\x05\x05" + r[2:], 0, "not an MIT FILE ccache"),
        (lambda r: b"", 0, "needs 2 bytes"),
        (lambda r: r[:2] + b"\x00\xff" + r[4:], 2, "header length"),
        (lambda r: r[:4] + bytes.fromhex("0001 0004") + r[8:], 6, "DELTATIME"),
        (lambda r: r[:20] + b"\xff\xff\xff\xff" + r[24:], 20, "principal component count"),
        (lambda r: r[:24] + b"\x7f\xff\xff\xff" + r[28:], 24, "realm length"),
    ],
)
def test_errors_name_source_and_offset(
    mutate: Callable[[bytes], bytes], offset: int, text: str
) -> None:
    raw = mutate(h_cache(4, ALICE, [CRED], DELTA_0))
    with pytest.raises(CCacheFormatError) as info:
        parse(raw, source="FILE:/tmp/x")
    assert info.value.offset == offset and info.value.source == "FILE:/tmp/x"
    assert text in str(info.value) and "FILE:/tmp/x" in str(info.value)


def test_huge_counts_fail_fast() -> None:
    raw = h_cache(4, ALICE, [CRED], DELTA_0)
    pos = raw.index(struct.pack(">I", 1) + struct.pack(">HI", 2, 4))  # the address count
    bad = raw[:pos] + b"\xff\xff\xff\xff" + raw[pos + 4 :]
    with pytest.raises(CCacheFormatError, match="address count") as info:
        parse(bad)
    assert info.value.offset == pos


def test_unencodable_values_are_typed_errors() -> None:
    with pytest.raises(CCacheError):
        encode_credential(Credential(ALICE, TGT, authtime=2**40), 4)
    with pytest.raises(CCacheError):
        serialize(CCacheContents(5, ALICE))
