"""Every published vector of RFC 3961 App. A.1, RFC 3962 App. B and RFC 8009 App. A.

The vectors are parsed from the RFC texts in tests/vectors/; each loader's record count is
asserted so a parser that silently drops a vector fails here.
"""

from __future__ import annotations

import pytest

from gssmech.errors import IntegrityError
from gssmech.krb5 import crypto
from gssmech.krb5.crypto import Key
from tests import vectors as vec

NFOLD = vec.load_rfc3961_nfold()
S2K_3962 = vec.load_rfc3962_string_to_key()
CTS = vec.load_rfc3962_cts()
S2K_8009 = vec.load_rfc8009_string_to_key()
KDF_8009 = vec.load_rfc8009_key_derivation()
ENC_8009 = vec.load_rfc8009_encryption()
CKSUM_8009 = vec.load_rfc8009_checksums()
PRF_8009 = vec.load_rfc8009_prf()


@pytest.mark.parametrize(
    ("name", "records"),
    [
        ("rfc3961_nfold", NFOLD),
        ("rfc3962_string_to_key", S2K_3962),
        ("rfc3962_cts", CTS),
        ("rfc8009_string_to_key", S2K_8009),
        ("rfc8009_key_derivation", KDF_8009),
        ("rfc8009_encryption", ENC_8009),
        ("rfc8009_checksum", CKSUM_8009),
        ("rfc8009_prf", PRF_8009),
    ],
)
def test_loader_found_every_vector(name: str, records: list[object]) -> None:
    assert len(records) == vec.EXPECTED_COUNTS[name]
    assert len(set(records)) == len(records), "duplicate records: a parser state leaked"


def test_page_breaks_are_cut_out() -> None:
    for name in ("rfc3961-appendix-a.txt", "rfc3962-appendix-b.txt"):
        raw = (vec.HERE / name).read_text(encoding="ascii")
        assert "[Page " in raw  # the verbatim text keeps them...
        assert "[Page " not in vec.read_text(name)  # ...and the loader removes them


# --- RFC 3961 Appendix A.1 -------------------------------------------------------------------


@pytest.mark.parametrize("v", NFOLD, ids=[f"{v.bits}-fold({v.data!r})" for v in NFOLD])
def test_rfc3961_n_fold(v: vec.NFoldVector) -> None:
    assert crypto.n_fold(v.data, v.bits // 8) == v.expected


# --- RFC 3962 Appendix B ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "v", S2K_3962, ids=[f"{v.iterations}it-{v.keybits}-{v.salt[:12]!r}" for v in S2K_3962]
)
def test_rfc3962_string_to_key(v: vec.Rfc3962S2KVector) -> None:
    enctype = 17 if v.keybits == 128 else 18
    params = v.iterations.to_bytes(4, "big")
    key = crypto.string_to_key(enctype, v.passphrase, v.salt, params)
    assert key == Key(enctype, v.key)
    # The two stages separately: PBKDF2-HMAC-SHA1, then DK(tkey, "kerberos") (RFC 3962 §4).
    profile = crypto.get_profile(enctype)
    assert profile.pbkdf2(v.passphrase, v.salt, v.iterations) == v.pbkdf2
    assert crypto.dk(v.pbkdf2, b"kerberos", len(v.key)) == v.key


@pytest.mark.parametrize("v", CTS, ids=[f"{len(v.plaintext)}-octets" for v in CTS])
def test_rfc3962_cts(v: vec.CTSVector) -> None:
    assert crypto.aes_cts_encrypt(v.key, v.plaintext, v.iv) == v.ciphertext
    assert crypto.aes_cts_decrypt(v.key, v.ciphertext, v.iv) == v.plaintext
    assert crypto.next_iv(v.ciphertext) == v.next_iv


# --- RFC 8009 Appendix A ---------------------------------------------------------------------


@pytest.mark.parametrize("v", S2K_8009, ids=[str(v.enctype) for v in S2K_8009])
def test_rfc8009_string_to_key(v: vec.Rfc8009S2KVector) -> None:
    profile = crypto.get_profile(v.enctype)
    assert profile.saltp(v.salt) == v.saltp
    params = v.iterations.to_bytes(4, "big")
    assert crypto.string_to_key(v.enctype, v.passphrase, v.salt, params) == Key(v.enctype, v.key)
    # 32768 is also the default iteration count (RFC 8009 §4).
    assert crypto.string_to_key(v.enctype, v.passphrase, v.salt).contents == v.key


@pytest.mark.parametrize("v", KDF_8009, ids=[f"{v.enctype}-{v.name}" for v in KDF_8009])
def test_rfc8009_key_derivation(v: vec.KeyDerivationVector) -> None:
    profile = crypto.get_profile(v.enctype)
    kind = v.label[-1]
    assert profile.derive(v.base_key, v.usage, kind) == v.expected
    assert profile.derived(v.base_key, v.usage, kind) == v.expected  # the cached path


@pytest.mark.parametrize(
    "v", ENC_8009, ids=[f"{v.enctype}-{len(v.plaintext)}-octets" for v in ENC_8009]
)
def test_rfc8009_encryption(v: vec.Rfc8009EncryptionVector) -> None:
    key = Key(v.enctype, v.base_key)
    profile = key.profile
    assert profile.derive(v.base_key, v.usage, 0xAA) == v.ke
    assert profile.derive(v.base_key, v.usage, 0x55) == v.ki
    assert crypto.aes_cts_encrypt(v.ke, v.confounder + v.plaintext) == v.aes_output
    assert v.ciphertext == v.aes_output + v.hmac_output
    assert crypto.encrypt(key, v.usage, v.plaintext, confounder=v.confounder) == v.ciphertext
    assert crypto.decrypt(key, v.usage, v.ciphertext) == v.plaintext
    with pytest.raises(IntegrityError):
        crypto.decrypt(key, v.usage + 1, v.ciphertext)


@pytest.mark.parametrize("v", CKSUM_8009, ids=[str(v.cksumtype) for v in CKSUM_8009])
def test_rfc8009_checksum(v: vec.Rfc8009ChecksumVector) -> None:
    key = Key(v.cksumtype, v.base_key)  # RFC 8009 §8: checksum type n goes with enctype n
    assert key.profile.derive(v.base_key, v.usage, 0x99) == v.kc
    assert crypto.make_checksum(key, v.usage, v.plaintext) == v.checksum
    assert crypto.make_checksum(key, v.usage, v.plaintext, v.cksumtype) == v.checksum
    assert crypto.checksum_size(v.cksumtype) == len(v.checksum)
    crypto.verify_checksum(key, v.usage, v.plaintext, v.checksum, v.cksumtype)


@pytest.mark.parametrize("v", PRF_8009, ids=[str(v.enctype) for v in PRF_8009])
def test_rfc8009_prf(v: vec.Rfc8009PrfVector) -> None:
    assert crypto.prf(Key(v.enctype, v.key), v.data) == v.expected
