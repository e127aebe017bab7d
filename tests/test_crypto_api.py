"""The public crypto API: keys, round trips, tampering, checksums, string-to-key, PRF, cf2."""

from __future__ import annotations

import dataclasses
import os
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.errors import CryptoError, IntegrityError, UnsupportedEnctype
from gssmech.krb5 import crypto
from gssmech.krb5.constants import ENCTYPE_NAMES
from gssmech.krb5.crypto import Key

ENCTYPES = (17, 18, 19, 20)

# RFC 3962 §6-7 and RFC 8009 §4, §8: key size, HMAC size, checksum type, PRF output size.
PARAMETERS = {
    17: (16, 12, 15, 16),
    18: (32, 12, 16, 16),
    19: (16, 16, 19, 32),
    20: (32, 24, 20, 48),
}

# MIT krb5 src/lib/crypto/crypto_tests/t_cf2.in / t_cf2.expected: k1 = string_to_key("key1",
# salt "key1"), k2 = string_to_key("key2", salt "key2"), pepper1 "a", pepper2 "b".
MIT_CF2 = {
    17: "97df97e4b798b29eb31ed7280287a92a",
    18: "4d6ca4e629785c1f01baf55e2e548566b9617ae3a96868c337cb93b5e72b1c7b",
}

KEYS = {e: crypto.random_key(e) for e in ENCTYPES}


def key_for(enctype: int) -> Key:
    return KEYS[enctype]


# --- profiles and keys -----------------------------------------------------------------------


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_profile_parameters(enctype: int) -> None:
    keysize, macsize, cksumtype, prf_size = PARAMETERS[enctype]
    p = crypto.get_profile(enctype)
    assert (p.enctype, p.name) == (enctype, ENCTYPE_NAMES[enctype])
    assert (p.keysize, p.seedsize, p.blocksize, p.confounder_size) == (keysize, keysize, 16, 16)
    assert (p.macsize, p.cksumtype, p.prf_size) == (macsize, cksumtype, prf_size)
    assert crypto.checksum_size(cksumtype) == macsize
    for n in (0, 1, 15, 16, 17, 1000):
        assert p.encrypted_length(n) == 16 + n + macsize
        assert p.plaintext_length(p.encrypted_length(n)) == n


@pytest.mark.parametrize("bad", [0, 1, 3, 16 - 1, 23, 99, -1, "17", None])
def test_unknown_enctype_rejected(bad: object) -> None:
    with pytest.raises(UnsupportedEnctype):
        crypto.get_profile(bad)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedEnctype):
        Key(bad, bytes(16))  # type: ignore[arg-type]
    with pytest.raises(UnsupportedEnctype):
        crypto.random_key(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_wrong_key_length_rejected(enctype: int) -> None:
    size = PARAMETERS[enctype][0]
    for n in (0, 1, size - 1, size + 1, 24, 48 - size):
        with pytest.raises(CryptoError):
            Key(enctype, bytes(n))
        with pytest.raises(CryptoError):
            crypto.random_to_key(enctype, bytes(n))
    with pytest.raises(CryptoError):
        Key(enctype, "x" * size)  # type: ignore[arg-type]


def test_key_is_frozen_converts_buffers_and_hides_contents() -> None:
    raw = bytearray(os.urandom(32))
    key = Key(18, raw)
    assert type(key.contents) is bytes and key.contents == raw
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.contents = bytes(32)  # type: ignore[misc]
    assert raw.hex() not in repr(key) and "18" in repr(key)
    assert Key(18, bytes(raw)) == key and hash(Key(18, bytes(raw))) == hash(key)


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_random_key(enctype: int) -> None:
    a, b = crypto.random_key(enctype), crypto.random_key(enctype)
    assert a.enctype == enctype and len(a.contents) == PARAMETERS[enctype][0]
    assert a != b
    seed = os.urandom(PARAMETERS[enctype][0])
    assert crypto.random_to_key(enctype, seed) == Key(enctype, seed)  # identity for AES


# --- encrypt / decrypt -----------------------------------------------------------------------

SIZES = [*range(71), 1024]


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_round_trip_many_sizes(enctype: int) -> None:
    key = key_for(enctype)
    profile = key.profile
    for n in SIZES:  # includes 0 (confounder only: one block), 16 and 16+1
        plaintext = os.urandom(n)
        ct = crypto.encrypt(key, 3, plaintext)
        assert len(ct) == profile.encrypted_length(n)
        assert crypto.decrypt(key, 3, ct) == plaintext
        assert crypto.decrypt(key, 3, bytearray(ct)) == plaintext
        assert crypto.decrypt(key, 3, memoryview(ct)) == plaintext


@pytest.mark.parametrize("enctype", [18, 20])
def test_round_trip_beyond_the_scratch_buffer(enctype: int) -> None:
    key = key_for(enctype)
    plaintext = os.urandom(crypto._cts.SCRATCH_MAX + 7)
    assert crypto.decrypt(key, 1, crypto.encrypt(key, 1, plaintext)) == plaintext


def test_threads_do_not_share_buffers() -> None:
    def worker(seed: int) -> bool:
        rng = random.Random(seed)
        for _ in range(200):
            enctype = rng.choice(ENCTYPES)
            plaintext = rng.randbytes(rng.randrange(0, 3000))
            ct = crypto.encrypt(key_for(enctype), 4, plaintext)
            if crypto.decrypt(key_for(enctype), 4, ct) != plaintext:
                return False
        return True

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(worker, range(8)))


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_confounder_is_injectable_and_random_by_default(enctype: int) -> None:
    key, conf = key_for(enctype), os.urandom(16)
    a = crypto.encrypt(key, 7, b"same", confounder=conf)
    assert a == crypto.encrypt(key, 7, bytearray(b"same"), confounder=conf)
    assert crypto.encrypt(key, 7, b"same") != crypto.encrypt(key, 7, b"same")
    for bad in (b"", bytes(15), bytes(17)):
        with pytest.raises(CryptoError):
            crypto.encrypt(key, 7, b"same", confounder=bad)


@pytest.mark.parametrize("enctype", ENCTYPES)
@pytest.mark.parametrize("usage", [-1, 1 << 32, "1", None])
def test_bad_usage_is_misuse(enctype: int, usage: object) -> None:
    key = key_for(enctype)
    with pytest.raises(CryptoError):
        crypto.encrypt(key, usage, b"x")  # type: ignore[arg-type]
    with pytest.raises(CryptoError):
        crypto.make_checksum(key, usage, b"x")  # type: ignore[arg-type]


def test_not_a_key_is_misuse() -> None:
    with pytest.raises(CryptoError):
        crypto.encrypt(bytes(16), 1, b"x")  # type: ignore[arg-type]
    with pytest.raises(CryptoError):
        crypto.decrypt(bytes(16), 1, bytes(40))  # type: ignore[arg-type]


enctypes = st.sampled_from(ENCTYPES)


@settings(max_examples=200, deadline=None)
@given(enctype=enctypes, plaintext=st.binary(max_size=80), data=st.data())
def test_any_bit_flip_fails_integrity(enctype: int, plaintext: bytes, data: st.DataObject) -> None:
    key = key_for(enctype)
    ct = bytearray(crypto.encrypt(key, 5, plaintext))
    bit = data.draw(st.integers(0, len(ct) * 8 - 1))
    ct[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(IntegrityError):
        crypto.decrypt(key, 5, bytes(ct))


@settings(max_examples=200, deadline=None)
@given(enctype=enctypes, plaintext=st.binary(max_size=80), data=st.data())
def test_any_truncation_or_extension_fails_integrity(
    enctype: int, plaintext: bytes, data: st.DataObject
) -> None:
    key = key_for(enctype)
    ct = crypto.encrypt(key, 5, plaintext)
    cut = data.draw(st.integers(0, len(ct) - 1))
    with pytest.raises(IntegrityError):
        crypto.decrypt(key, 5, ct[:cut])
    with pytest.raises(IntegrityError):
        crypto.decrypt(key, 5, ct + data.draw(st.binary(min_size=1, max_size=20)))


@settings(max_examples=100, deadline=None)
@given(enctype=enctypes, plaintext=st.binary(max_size=64))
def test_wrong_key_or_usage_fails_integrity(enctype: int, plaintext: bytes) -> None:
    key = key_for(enctype)
    ct = crypto.encrypt(key, 5, plaintext)
    with pytest.raises(IntegrityError):
        crypto.decrypt(crypto.random_key(enctype), 5, ct)
    with pytest.raises(IntegrityError):
        crypto.decrypt(key, 6, ct)


@settings(max_examples=200, deadline=None)
@given(enctype=enctypes, junk=st.binary(max_size=100))
def test_garbage_fails_integrity_only(enctype: int, junk: bytes) -> None:
    with pytest.raises(IntegrityError):
        crypto.decrypt(key_for(enctype), 1, junk)


@pytest.mark.parametrize("junk", ["a string" * 8, None, 12345, [1, 2, 3]])
def test_non_bytes_ciphertext_fails_integrity(junk: object) -> None:
    with pytest.raises(IntegrityError):
        crypto.decrypt(key_for(18), 1, junk)  # type: ignore[arg-type]


# --- CTS against a textbook per-block RC5-CTS (RFC 2040 §8 + RFC 3962 App. A errata) ---------


def _textbook_cts(key: bytes, plaintext: bytes, iv: bytes) -> bytes:
    def aes(block: bytes) -> bytes:
        return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)

    def xor(a: bytes, b: bytes) -> bytes:
        return bytes(x ^ y for x, y in zip(a, b))

    if len(plaintext) == 16:
        return aes(xor(plaintext, iv))
    blocks = [plaintext[i : i + 16] for i in range(0, len(plaintext), 16)]
    out, prev = [], iv
    for block in blocks[:-2]:
        prev = aes(xor(block, prev))
        out.append(prev)
    last = blocks[-1]
    e_n1 = aes(xor(blocks[-2], prev))  # Xn-1 = Pn-1 xor Cn-2 (IV if none); En-1 = E(Xn-1)
    d_n = xor(e_n1, last + bytes(16 - len(last)))  # Dn = En-1 xor (Pn | 0)
    return b"".join([*out, aes(d_n), e_n1[: len(last)]])  # ... | Cn-1 = E(Dn) | Cn


@settings(max_examples=300, deadline=None)
@given(
    keylen=st.sampled_from((16, 32)),
    plaintext=st.binary(min_size=16, max_size=200),
    zero_iv=st.booleans(),
)
def test_cts_matches_textbook(keylen: int, plaintext: bytes, zero_iv: bool) -> None:
    key = os.urandom(keylen)
    iv = bytes(16) if zero_iv else os.urandom(16)
    ct = crypto.aes_cts_encrypt(key, plaintext, iv)
    assert ct == _textbook_cts(key, plaintext, iv)
    assert crypto.aes_cts_decrypt(key, ct, iv) == plaintext


@pytest.mark.parametrize(
    ("key", "data", "iv"),
    [(16, 15, 16), (16, 0, 16), (15, 32, 16), (24, 32, 16), (33, 32, 16), (16, 32, 8)],
)
def test_raw_cts_misuse(key: int, data: int, iv: int) -> None:
    for fn in (crypto.aes_cts_encrypt, crypto.aes_cts_decrypt):
        with pytest.raises(CryptoError):
            fn(bytes(key), bytes(data), bytes(iv))


# --- checksums -------------------------------------------------------------------------------


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_checksum_round_trip_and_tamper(enctype: int) -> None:
    key, cksumtype = key_for(enctype), PARAMETERS[enctype][2]
    data = b"get_mic over these octets"
    mic = crypto.make_checksum(key, 23, data)
    assert len(mic) == crypto.checksum_size(cksumtype)
    assert crypto.make_checksum(key, 23, data, cksumtype) == mic
    crypto.verify_checksum(key, 23, data, mic)
    crypto.verify_checksum(key, 23, memoryview(data), bytearray(mic), cksumtype)
    for bad_data, bad_mic, usage in (
        (data + b"!", mic, 23),
        (data, mic[:-1], 23),
        (data, mic + b"\0", 23),
        (data, bytes([mic[0] ^ 1]) + mic[1:], 23),
        (data, mic, 24),
        (data, b"", 23),
    ):
        with pytest.raises(IntegrityError):
            crypto.verify_checksum(key, usage, bad_data, bad_mic)
    with pytest.raises(IntegrityError):
        crypto.verify_checksum(crypto.random_key(enctype), 23, data, mic)


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_checksum_type_must_match_key(enctype: int) -> None:
    key = key_for(enctype)
    mic = crypto.make_checksum(key, 1, b"m")
    for other in (15, 16, 19, 20):
        if other == PARAMETERS[enctype][2]:
            continue
        with pytest.raises(CryptoError):
            crypto.make_checksum(key, 1, b"m", other)
        with pytest.raises(IntegrityError):  # peer-chosen type this key cannot check
            crypto.verify_checksum(key, 1, b"m", mic, other)
    with pytest.raises(UnsupportedEnctype):
        crypto.make_checksum(key, 1, b"m", 0x8003)
    with pytest.raises(IntegrityError):
        crypto.verify_checksum(key, 1, b"m", mic, 12345)
    with pytest.raises(UnsupportedEnctype):
        crypto.checksum_size(12345)


# --- string-to-key ---------------------------------------------------------------------------


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_string_to_key_params(enctype: int) -> None:
    few = b"\x00\x00\x00\x02"
    key = crypto.string_to_key(enctype, "pässword", "EXAMPLE.TESTuser", few)
    assert key == crypto.string_to_key(enctype, "pässword".encode(), b"EXAMPLE.TESTuser", few)
    assert key != crypto.string_to_key(enctype, "pässword", "EXAMPLE.TESTuser", b"\0\0\0\3")
    assert key != crypto.string_to_key(enctype, "password", "EXAMPLE.TESTuser", few)
    assert key != crypto.string_to_key(enctype, "pässword", "EXAMPLE.TESTuse", few)
    for bad in (b"", b"\x00\x10\x00", b"\x00\x00\x10\x00\x00", b"\x00\x00\x00\x00", b"\xff" * 4):
        with pytest.raises(CryptoError):
            crypto.string_to_key(enctype, "p", "s", bad)
    for password, salt, params in (
        (1234, "s", few),
        ("p", None, few),
        ("\udcff", "s", few),  # a lone surrogate has no UTF-8 form
        ("p", "s", "four"),
    ):
        with pytest.raises(CryptoError):
            crypto.string_to_key(enctype, password, salt, params)  # type: ignore[arg-type]


def test_string_to_key_default_iterations_rfc3962() -> None:
    default = crypto.string_to_key(17, "password", "ATHENA.MIT.EDUraeburn")
    assert default == crypto.string_to_key(17, "password", "ATHENA.MIT.EDUraeburn", b"\0\0\x10\0")


# --- PRF, PRF+ and KRB-FX-CF2 ----------------------------------------------------------------


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_prf_and_prf_plus(enctype: int) -> None:
    key, size = key_for(enctype), PARAMETERS[enctype][3]
    out = crypto.prf(key, b"input")
    assert len(out) == size and out == crypto.prf(key, bytearray(b"input"))
    assert out != crypto.prf(key, b"inpuT")
    assert out != crypto.prf(crypto.random_key(enctype), b"input")
    long = crypto.prf_plus(key, b"pepper", 3 * size + 5)
    assert len(long) == 3 * size + 5
    assert crypto.prf_plus(key, b"pepper", 7) == long[:7]
    assert crypto.prf_plus(key, b"pepper", 0) == b""
    # RFC 6113 §5.1: the counter octet starts at 1 and is prepended to the input.
    assert long[:size] == crypto.prf(key, b"\x01pepper")
    assert long[size : 2 * size] == crypto.prf(key, b"\x02pepper")
    for bad in (-1, 255 * size + 1, 1.5, None):
        with pytest.raises(CryptoError):
            crypto.prf_plus(key, b"pepper", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("enctype", sorted(MIT_CF2))
def test_cf2_matches_mit(enctype: int) -> None:
    k1 = crypto.string_to_key(enctype, "key1", "key1")
    k2 = crypto.string_to_key(enctype, "key2", "key2")
    assert crypto.cf2(k1, k2, b"a", b"b") == Key(enctype, bytes.fromhex(MIT_CF2[enctype]))


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_cf2_properties(enctype: int) -> None:
    k1, k2 = key_for(enctype), crypto.random_key(enctype)
    out = crypto.cf2(k1, k2, b"PKINIT", b"KEYEXCHANGE")
    assert out.enctype == enctype and len(out.contents) == PARAMETERS[enctype][0]
    assert out == crypto.cf2(k1, k2, b"PKINIT", b"KEYEXCHANGE")
    others = {
        crypto.cf2(crypto.random_key(enctype), k2, b"PKINIT", b"KEYEXCHANGE"),
        crypto.cf2(k1, crypto.random_key(enctype), b"PKINIT", b"KEYEXCHANGE"),
        crypto.cf2(k1, k2, b"PKINIt", b"KEYEXCHANGE"),
        crypto.cf2(k1, k2, b"PKINIT", b"KeyExchange"),
    }
    assert out not in others and len(others) == 4
    # Each side is PRF+(key, pepper), so the result is symmetric in the (key, pepper) pairs.
    assert crypto.cf2(k2, k1, b"KEYEXCHANGE", b"PKINIT") == out


def test_cf2_takes_key1_enctype() -> None:
    out = crypto.cf2(key_for(18), key_for(17), b"a", b"b")
    assert out.enctype == 18 and len(out.contents) == 32
    out = crypto.cf2(key_for(19), key_for(20), b"a", b"b")
    assert out.enctype == 19 and len(out.contents) == 16


# --- derived-key cache -----------------------------------------------------------------------


def test_derived_keys_are_cached() -> None:
    from gssmech.krb5.crypto._profile import _derived

    crypto.clear_derived_cache()
    key = crypto.random_key(18)
    crypto.encrypt(key, 9, b"x")
    misses = _derived.cache_info().misses
    for _ in range(5):
        crypto.decrypt(key, 9, crypto.encrypt(key, 9, b"x"))
        crypto.make_checksum(key, 9, b"x")
    info = _derived.cache_info()
    assert info.misses == misses + 1  # only Kc was new
    assert info.hits >= 20


@pytest.mark.parametrize("bad", ["text", 16, None, [1, 2]])
def test_non_bytes_arguments_are_misuse(bad: object) -> None:
    key = key_for(17)
    calls = [
        lambda: crypto.encrypt(key, 1, bad),  # type: ignore[arg-type]
        lambda: crypto.encrypt(key, 1, b"", confounder=bad),  # type: ignore[arg-type]
        lambda: crypto.make_checksum(key, 1, bad),  # type: ignore[arg-type]
        lambda: crypto.prf(key, bad),  # type: ignore[arg-type]
        lambda: crypto.prf_plus(key, bad, 8),  # type: ignore[arg-type]
        lambda: crypto.random_to_key(17, bad),  # type: ignore[arg-type]
    ]
    for call in calls:
        if bad is None and call is calls[1]:
            continue  # confounder=None means "draw one"
        with pytest.raises(CryptoError):
            call()
    with pytest.raises(IntegrityError):
        crypto.verify_checksum(key, 1, bad, bytes(12))  # type: ignore[arg-type]
