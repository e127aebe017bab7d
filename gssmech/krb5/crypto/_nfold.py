"""The n-fold function, RFC 3961 §5.1.

    "We first define a primitive called n-folding, which takes a variable-length input block
    and produces a fixed-length output sequence. [...] replicate the input value to a length
    that is the least common multiple of n and the length of the input.  Before each repetition,
    the input is rotated to the right by 13 bit positions.  The successive n-bit chunks are added
    together using 1's-complement addition (that is, with end-around carry)."

Python integers do the rotation and the one's-complement sum without per-byte loops.
"""

from __future__ import annotations

from math import lcm

from gssmech.errors import CryptoError


def n_fold(data: bytes, nbytes: int) -> bytes:
    """Return ``nbytes`` octets: the RFC 3961 §5.1 n-fold of ``data`` (n = 8 * nbytes bits)."""
    if not data or nbytes <= 0:
        raise CryptoError("n-fold needs a non-empty input and a positive output size")
    inbits = len(data) * 8
    outbits = nbytes * 8
    inmask = (1 << inbits) - 1
    value = int.from_bytes(data, "big")
    copies = lcm(len(data), nbytes) // len(data)
    # Concatenate the rotated copies into one big integer, first copy most significant.
    stream = 0
    for i in range(copies):
        rot = (13 * i) % inbits
        rotated = ((value >> rot) | (value << (inbits - rot))) & inmask
        stream = (stream << inbits) | rotated
    outmask = (1 << outbits) - 1
    total = 0
    while stream:
        total += stream & outmask
        stream >>= outbits
    # End-around carry until the sum fits in n bits (one's-complement addition).
    while total >> outbits:
        total = (total & outmask) + (total >> outbits)
    return total.to_bytes(nbytes, "big")
