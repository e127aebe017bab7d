"""RFC 4121 per-message tokens, the sequence window, the framing and the 0x8003 checksum."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.errors import (
    GSS_S_BAD_MECH,
    GSS_S_BAD_SIG,
    GSS_S_DEFECTIVE_TOKEN,
    GSS_S_DUPLICATE_TOKEN,
    GSS_S_GAP_TOKEN,
    GSS_S_OLD_TOKEN,
    GSS_S_UNSEQ_TOKEN,
    DecodeError,
    GSSMechError,
    IntegrityError,
)
from gssmech.gss import framing
from gssmech.gss.checksum import ChannelBindings, GSSChecksum, bindings_hash
from gssmech.gss.oids import DEFAULT_NATIVE_MECH, KRB5_MECH, Oid
from gssmech.gss.rfc4121 import (
    GSS_C_PRF_KEY_FULL,
    GSS_C_PRF_KEY_PARTIAL,
    TokenFlag,
    TokenKeys,
)
from gssmech.gss.seqstate import WINDOW, SeqState
from gssmech.krb5 import crypto

ENCTYPES = (17, 18, 19, 20)


def pair(enctype: int = 18, acceptor_subkey: bool = True) -> tuple[TokenKeys, TokenKeys]:
    key = crypto.random_key(enctype)
    sub = crypto.random_key(enctype) if acceptor_subkey else None
    return TokenKeys(False, key, sub), TokenKeys(True, key, sub)


@pytest.mark.parametrize("enctype", ENCTYPES)
@pytest.mark.parametrize("conf", [True, False])
@pytest.mark.parametrize("subkey", [True, False])
def test_wrap_roundtrip_both_directions(enctype: int, conf: bool, subkey: bool) -> None:
    ini, acc = pair(enctype, subkey)
    for sender, receiver in ((ini, acc), (acc, ini)):
        for msg in (b"", b"x", b"hello world" * 37):
            tok = sender.wrap(msg, 7, conf=conf)
            res = receiver.unwrap(tok)
            assert (res.message, res.conf_state, res.seq_number) == (msg, conf, 7)
            if len(msg) > 100:
                assert (msg in tok) is (not conf)


def test_wrap_header_layout() -> None:
    ini, acc = pair(18)
    tok = acc.wrap(b"abc", 0x0102030405060708, conf=True)
    tok_id, flags, filler, ec, rrc, seq = struct.unpack(">2sBBHHQ", tok[:16])
    assert tok_id == b"\x05\x04" and filler == 0xFF and ec == 0 and rrc == 0
    assert flags == TokenFlag.SENT_BY_ACCEPTOR | TokenFlag.SEALED | TokenFlag.ACCEPTOR_SUBKEY
    assert seq == 0x0102030405060708
    # RFC 3962: 16-octet confounder + plaintext (msg + 16-octet header) + 12-octet HMAC.
    assert len(tok) == 16 + 16 + 3 + 16 + 12
    integ = ini.wrap(b"abc", 5, conf=False)
    _, flags, _, ec, rrc, _ = struct.unpack(">2sBBHHQ", integ[:16])
    assert flags == TokenFlag.ACCEPTOR_SUBKEY and ec == 12 and rrc == 0
    assert integ[16:19] == b"abc" and len(integ) == 16 + 3 + 12


@pytest.mark.parametrize("conf", [True, False])
@pytest.mark.parametrize("rrc", [1, 12, 28, 1000])
def test_rrc_rotation_is_undone(conf: bool, rrc: int) -> None:
    """Windows sends RRC=28 (and EC=16); any RRC and EC must unwrap (RFC 4121 §4.2.5)."""
    ini, acc = pair(18)
    tok = ini.wrap(b"rotated message", 3, conf=conf, rrc=rrc, ec=16 if conf else 0)
    assert struct.unpack(">H", tok[6:8])[0] == rrc
    assert acc.unwrap(tok).message == b"rotated message"


def test_mic_roundtrip_and_layout() -> None:
    ini, acc = pair(17, acceptor_subkey=False)
    tok = ini.get_mic(b"data", 42)
    assert tok[:2] == b"\x04\x04" and tok[2] == 0 and tok[3:8] == b"\xff" * 5
    assert struct.unpack(">Q", tok[8:16])[0] == 42 and len(tok) == 16 + 12
    assert acc.verify_mic(b"data", tok) == 42
    with pytest.raises(IntegrityError):
        acc.verify_mic(b"datA", tok)


def test_reflected_tokens_are_refused() -> None:
    ini, _ = pair(18)
    with pytest.raises(IntegrityError):
        ini.unwrap(ini.wrap(b"m", 1))
    with pytest.raises(IntegrityError):
        ini.verify_mic(b"m", ini.get_mic(b"m", 1))


def test_acceptor_subkey_flag_without_subkey_is_defective() -> None:
    key = crypto.random_key(18)
    sub = crypto.random_key(18)
    tok = TokenKeys(True, key, sub).wrap(b"m", 1)
    with pytest.raises(DecodeError):
        TokenKeys(False, key, None).unwrap(tok)


@pytest.mark.parametrize("conf", [True, False])
def test_flip_every_byte_of_wrap_and_mic(conf: bool) -> None:
    ini, acc = pair(18)
    tok = ini.wrap(b"tamper me", 9, conf=conf)
    mic = ini.get_mic(b"tamper me", 9)
    for token, check in ((tok, acc.unwrap), (mic, lambda t: acc.verify_mic(b"tamper me", t))):
        for i in range(len(token)):
            for bit in (0x01, 0x80):
                bad = bytearray(token)
                bad[i] ^= bit
                with pytest.raises(GSSMechError) as ei:
                    check(bytes(bad))
                assert ei.value.major in (GSS_S_DEFECTIVE_TOKEN, GSS_S_BAD_SIG)
        check(token)  # the original still verifies


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_garbage_tokens_raise_typed_errors(data: bytes) -> None:
    _, acc = pair(18)
    for fn in (acc.unwrap, lambda t: acc.verify_mic(b"", t)):
        with pytest.raises(GSSMechError) as ei:
            fn(data)
        assert ei.value.major in (GSS_S_DEFECTIVE_TOKEN, GSS_S_BAD_SIG)


@pytest.mark.parametrize("enctype", ENCTYPES)
@pytest.mark.parametrize("conf", [True, False])
def test_wrap_size_limit_is_tight(enctype: int, conf: bool) -> None:
    ini, _ = pair(enctype)
    for size in (60, 100, 1000, 65536):
        limit = ini.wrap_size_limit(size, conf)
        if len(ini.wrap(b"", 0, conf=conf)) > size:
            assert limit == 0
            continue
        assert len(ini.wrap(bytes(limit), 0, conf=conf)) <= size
        assert len(ini.wrap(bytes(limit + 1), 0, conf=conf)) > size
    assert ini.wrap_size_limit(10, conf) == 0


def test_pseudo_random_rfc4402() -> None:
    ini, acc = pair(18)
    full = ini.pseudo_random(GSS_C_PRF_KEY_FULL, b"in", 100)
    assert full == acc.pseudo_random(GSS_C_PRF_KEY_FULL, b"in", 100)
    assert ini.pseudo_random(GSS_C_PRF_KEY_FULL, b"in", 7) == full[:7]
    # T0 = PRF(K, 00000000 | input) with the acceptor subkey for FULL, the other for PARTIAL
    assert full[:16] == crypto.prf(ini.acceptor_subkey, b"\0\0\0\0in")  # type: ignore[arg-type]
    assert full[16:32] == crypto.prf(ini.acceptor_subkey, b"\0\0\0\1in")  # type: ignore[arg-type]
    partial = ini.pseudo_random(GSS_C_PRF_KEY_PARTIAL, b"in", 16)
    assert partial == crypto.prf(ini.key, b"\0\0\0\0in")
    with pytest.raises(GSSMechError):
        ini.pseudo_random(7, b"in", 16)


# --- sequence window ------------------------------------------------------------------------


def test_seqstate_supplementary_bits() -> None:
    s = SeqState(100, replay=True, sequence=True)
    assert s.check(100) == 0
    assert s.check(100) == GSS_S_DUPLICATE_TOKEN
    assert s.check(103) == GSS_S_GAP_TOKEN
    assert s.check(101) == GSS_S_UNSEQ_TOKEN
    assert s.check(101) == GSS_S_DUPLICATE_TOKEN
    assert s.check(104) == 0
    assert s.check(104 + WINDOW + 5) == GSS_S_GAP_TOKEN
    assert s.check(102) == GSS_S_OLD_TOKEN
    r = SeqState(0, replay=True, sequence=False)
    assert [r.check(n) for n in (0, 5, 3, 3)] == [0, 0, 0, GSS_S_DUPLICATE_TOKEN]
    off = SeqState(0, replay=False, sequence=False)
    assert [off.check(n) for n in (0, 0, 9, 1)] == [0, 0, 0, 0]


def test_seqstate_wraps_at_2_64() -> None:
    s = SeqState((1 << 64) - 2, replay=True, sequence=True)
    assert [s.check(n) for n in ((1 << 64) - 2, (1 << 64) - 1, 0, 1)] == [0, 0, 0, 0]
    assert s.check((1 << 64) - 1) == GSS_S_DUPLICATE_TOKEN


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 200), max_size=60))
def test_seqstate_matches_a_simple_model(seqs: list[int]) -> None:
    s = SeqState(0, replay=True, sequence=True)
    seen: set[int] = set()
    highest = -1
    for n in seqs:
        got = s.check(n)
        if n > highest:
            want = GSS_S_GAP_TOKEN if n > highest + 1 else 0
        elif highest - n >= WINDOW:
            want = GSS_S_OLD_TOKEN
        elif n in seen:
            want = GSS_S_DUPLICATE_TOKEN
        else:
            want = GSS_S_UNSEQ_TOKEN
        assert got == want, (n, highest)
        if want != GSS_S_OLD_TOKEN:
            seen.add(n)
        highest = max(highest, n)


# --- framing ---------------------------------------------------------------------------------


def test_framing_roundtrip_both_oids() -> None:
    for mech in (KRB5_MECH, DEFAULT_NATIVE_MECH):
        tok = framing.frame(mech, framing.TOK_AP_REQ, b"\x6e\x00")
        assert tok[0] == 0x60 and tok[2] == 0x06
        got = framing.unframe(tok)
        assert got == (mech, framing.TOK_AP_REQ, b"\x6e\x00")
    krb5_tok = framing.frame(KRB5_MECH, framing.TOK_AP_REP, b"body")
    # RFC 2743 §3.1 example shape: 60 len 06 09 2a864886f712010202 0200 body
    assert krb5_tok.hex() == "6011" + "06092a864886f712010202" + "0200" + b"body".hex()


def test_framing_rejects() -> None:
    tok = framing.frame(KRB5_MECH, framing.TOK_AP_REQ, b"x")
    with pytest.raises(GSSMechError) as ei:
        framing.unframe(framing.frame(Oid.from_dotted("1.2.3.4"), framing.TOK_AP_REQ, b"x"))
    assert ei.value.major == GSS_S_BAD_MECH
    for bad in (tok + b"\0", tok[:-1], b"", b"\x61" + tok[1:]):
        with pytest.raises(DecodeError):
            framing.unframe(bad)
    with pytest.raises(DecodeError):
        framing.unframe(tok, expect=(framing.TOK_AP_REP,))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_framing_garbage(data: bytes) -> None:
    try:
        framing.unframe(data)
    except GSSMechError as exc:
        assert exc.major in (GSS_S_DEFECTIVE_TOKEN, GSS_S_BAD_MECH)


# --- 0x8003 checksum -------------------------------------------------------------------------


def test_bindings_hash_rfc4121_4112() -> None:
    app = b"tls-server-end-point:abc"
    # Two zero address types and lengths (4 x 4 octets), then the little-endian length.
    want = hashlib.md5(bytes(16) + struct.pack("<I", len(app)) + app).digest()
    assert bindings_hash(app) == want == ChannelBindings(app).md5()
    assert bindings_hash(None) == bytes(16)
    full = ChannelBindings(b"d", 2, b"\x7f\0\0\1", 2, b"\x7f\0\0\2")
    raw = (struct.pack("<II", 2, 4) + b"\x7f\0\0\1" + struct.pack("<II", 2, 4) + b"\x7f\0\0\2"
           + struct.pack("<I", 1) + b"d")
    assert full.md5() == hashlib.md5(raw).digest()


def test_checksum_roundtrip_and_strictness() -> None:
    ck = GSSChecksum(bytes(range(16)), 0x3E)
    raw = ck.encode()
    assert raw[:4] == b"\x10\0\0\0" and raw[20:24] == b"\x3e\0\0\0" and len(raw) == 24
    assert GSSChecksum.decode(raw) == ck
    deleg = GSSChecksum(bytes(16), 0x3F, b"KRB-CRED", ((7, b"ext"),))
    assert GSSChecksum.decode(deleg.encode()) == deleg
    for bad in (raw[:23], b"\x11" + raw[1:], raw + b"\0", bytes(20) + b"\x01\0\0\0"):
        with pytest.raises(DecodeError):
            GSSChecksum.decode(bad)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_checksum_garbage(data: bytes) -> None:
    try:
        GSSChecksum.decode(data)
    except DecodeError:
        pass
