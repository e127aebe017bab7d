"""AES in CBC mode with ciphertext stealing, RFC 3962 §5 (also used by RFC 8009 §5).

    "If exactly one block is to be encrypted, that block is simply encrypted with AES (also
    known as ECB mode). [...] ciphertext stealing is always used for the last two blocks of the
    data to be encrypted, as in [RC5].  If the data length is a multiple of the block size, this
    is equivalent to plain CBC mode with the last two ciphertext blocks swapped."

The same holds for a partial last block once it is zero-padded: CBC over the padded data
followed by "swap the last two blocks and truncate the (new) last one" is exactly RC5-CTS
(RFC 2040 §8 with the RFC 3962 Appendix A errata).  So encryption is ONE CBC pass done by
OpenSSL plus a 32-byte fix-up, and decryption is ONE CBC pass plus two 16-octet XOR fix-ups
(see :func:`decrypt_into`).  No Python loop touches the bulk.

:func:`encrypt_pieces` lets the Kerberos profiles feed the confounder and the plaintext as
separate pieces, so the plaintext is never copied before encryption.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gssmech.errors import CryptoError

BLOCK = 16
ZERO_IV = bytes(BLOCK)
_ZEROS = bytes(BLOCK)

Buffer = bytes | bytearray | memoryview

#: Largest per-thread scratch buffer kept between calls.  Reusing it saves the page faults of
#: a fresh multi-megabyte allocation on every message; callers copy their result out at once.
SCRATCH_MAX = 4 << 20
_local = threading.local()


def _scratch(size: int) -> bytearray:
    if size > SCRATCH_MAX:
        return bytearray(size)
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None or len(buf) < size:
        buf = bytearray(max(size, 4096))
        _local.buf = buf
    return buf


@lru_cache(maxsize=1024)
def _zero_iv_cipher(key: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(ZERO_IV))


def _cbc(key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    """Kerberos always starts from the zero cipher state, so that Cipher is built once per key."""
    if iv == ZERO_IV:
        return _zero_iv_cipher(key)
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def ecb_encrypt_block(key: bytes, block: Buffer) -> bytes:
    """AES of one 16-byte block (the CTS of exactly one block, RFC 3962 §5)."""
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)


def encrypt_pieces(
    key: bytes, pieces: Sequence[Buffer], total: int, iv: bytes = ZERO_IV, extra: int = 0
) -> tuple[bytearray, int]:
    """CTS-encrypt the concatenation of ``pieces`` (``total`` octets, at least one block).

    Returns ``(buf, total)`` where ``buf[:total]`` is the ciphertext; ``buf`` has at least
    ``extra`` spare octets after it so a caller can append a MAC without another copy.  ``buf``
    is this thread's scratch buffer: copy the result out before the next call.
    """
    if total < BLOCK:
        raise CryptoError("CTS input must be at least one block")
    pad = -total % BLOCK
    padded = total + pad
    # update_into needs len(data) + block_size - 1 octets of room at each write position.
    buf = _scratch(padded + max(extra, BLOCK) + BLOCK)
    view = memoryview(buf)
    enc = _cbc(key, iv).encryptor()
    pos = 0
    for piece in pieces:
        pos += enc.update_into(piece, view[pos:])
    if pad:
        pos += enc.update_into(_ZEROS[:pad], view[pos:])
    if padded > BLOCK:
        # Swap C(n-1) and C(n); the stolen block keeps only its first ``last`` octets.
        last = BLOCK - pad
        prev = bytes(view[padded - 2 * BLOCK : padded - BLOCK])
        view[padded - 2 * BLOCK : padded - BLOCK] = view[padded - BLOCK : padded]
        view[padded - BLOCK : padded - BLOCK + last] = prev[:last]
    view.release()
    return buf, total


def decrypt_into(key: bytes, data: Buffer, iv: bytes = ZERO_IV) -> bytearray:
    """CTS-decrypt ``data`` (at least one block); ``result[:len(data)]`` is the plaintext.

    One CBC decryptor runs over C(1)..C(n-2), then the moved block E(Dn), then the rebuilt
    E(n-1); the two blocks that came out with the wrong chaining value are fixed with XORs:
    out(E(Dn)) = Dn ^ C(n-2) gives Dn, hence the stolen tail of E(n-1) and Pn = Dn ^ E(n-1);
    out(E(n-1)) = P(n-1) ^ C(n-2) ^ E(Dn).  The result is this thread's scratch buffer: copy the
    plaintext out before the next call.
    """
    src = memoryview(data)
    n = len(src)
    if n < BLOCK:
        raise CryptoError("CTS input must be at least one block")
    buf = _scratch(n + 3 * BLOCK)
    out = memoryview(buf)
    dec = _cbc(key, iv).decryptor()
    if n == BLOCK:
        dec.update_into(src, out)
        return buf
    last = n % BLOCK or BLOCK
    head = n - last - BLOCK  # octets before the swapped pair, a multiple of the block size
    moved = src[head : head + BLOCK]  # E(Dn), moved in front of the truncated E(n-1)
    tail = src[head + BLOCK :]  # the first ``last`` octets of E(n-1)
    if head:
        dec.update_into(src[:head], out)
    if last == BLOCK:  # no stealing: plain CBC with the last two blocks swapped
        dec.update_into(tail, out[head:])
        dec.update_into(moved, out[head + BLOCK :])
        return buf
    chain = int.from_bytes(src[head - BLOCK : head] if head else iv, "big")
    dec.update_into(moved, out[head:])
    dn = (int.from_bytes(out[head : head + BLOCK], "big") ^ chain).to_bytes(BLOCK, "big")
    dec.update_into(b"".join((tail, dn[last:])), out[head + BLOCK :])
    p_n1 = int.from_bytes(out[head + BLOCK : head + 2 * BLOCK], "big")
    p_n1 ^= int.from_bytes(moved, "big") ^ chain
    p_n = int.from_bytes(dn[:last], "big") ^ int.from_bytes(tail, "big")
    out[head : head + BLOCK] = p_n1.to_bytes(BLOCK, "big")
    out[head + BLOCK : head + BLOCK + last] = p_n.to_bytes(last, "big")
    return buf


def next_iv(ciphertext: bytes) -> bytes:
    """The cipher state carried to the next message (RFC 3962 §5): the next-to-last block."""
    if len(ciphertext) <= BLOCK:
        return bytes(ciphertext[:BLOCK])
    last = len(ciphertext) % BLOCK or BLOCK
    return bytes(ciphertext[-last - BLOCK : -last])


def _check_raw(key: bytes, iv: bytes) -> None:
    if len(key) not in (16, 32) or len(iv) != BLOCK:
        raise CryptoError("AES-CTS takes a 16- or 32-octet key and a 16-octet IV")


def aes_cts_encrypt(key: bytes, data: Buffer, iv: bytes = ZERO_IV) -> bytes:
    """AES-CTS encryption of ``data`` (>= 16 octets) with ``iv``, RFC 3962 §5."""
    _check_raw(key, iv)
    buf, n = encrypt_pieces(bytes(key), (data,), len(data), bytes(iv))
    return bytes(memoryview(buf)[:n])


def aes_cts_decrypt(key: bytes, data: Buffer, iv: bytes = ZERO_IV) -> bytes:
    """Inverse of :func:`aes_cts_encrypt`."""
    _check_raw(key, iv)
    return bytes(memoryview(decrypt_into(bytes(key), data, bytes(iv)))[: len(data)])
