"""Throughput of gssmech.krb5.crypto encrypt+decrypt against the OpenSSL limit, same run.

For aes256-cts-hmac-sha1-96 and message sizes 1 KiB, 64 KiB and 1 MiB this prints:

- ours: MB/s of ``encrypt`` followed by ``decrypt`` (MB = 10**6 octets of plaintext);
- limit: the same octets through the unavoidable primitives alone, via ``cryptography``:
  one AES-256-CBC encryption, one AES-256-CBC decryption (both into a preallocated buffer)
  and two HMAC-SHA1 (the sender's and the receiver's), with no Kerberos framing;
- ratio = ours / limit (target: >= 0.50 at 64 KiB), and "1-mac ratio" against a stricter
  limit that counts only one HMAC.

Standalone (no pytest); best of several interleaved rounds; about 10 s.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    from gssmech.krb5 import crypto
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from gssmech.krb5 import crypto

from _timing import best_seconds  # bench/ is on sys.path when run as a script
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SIZES = (1024, 64 * 1024, 1024 * 1024)
ROUNDS = 5
ROUND_SECONDS = 0.35
TARGET = 0.50


def main() -> int:
    key = crypto.random_key(18)
    raw_key = os.urandom(32)
    mac_key = os.urandom(20)
    iv = bytes(16)
    print("aes256-cts-hmac-sha1-96 encrypt+decrypt vs OpenSSL limit (MB/s of plaintext)")
    print(f"{'size':>8} {'ours':>9} {'limit':>9} {'ratio':>7} {'1-mac ratio':>12}")
    results = {}
    for size in SIZES:
        data = os.urandom(size)
        block_data = data[: size - size % 16]

        def ours(data: bytes = data) -> None:
            crypto.decrypt(key, 22, crypto.encrypt(key, 22, data))

        # The limit writes into a preallocated buffer: no allocation, no copy, no framing.
        sink = bytearray(size + 32)

        def cbc_enc(d: bytes = block_data, sink: bytearray = sink) -> None:
            Cipher(algorithms.AES(raw_key), modes.CBC(iv)).encryptor().update_into(d, sink)

        def cbc_dec(d: bytes = block_data, sink: bytearray = sink) -> None:
            Cipher(algorithms.AES(raw_key), modes.CBC(iv)).decryptor().update_into(d, sink)

        def sha1(d: bytes = data) -> None:
            h = hmac.HMAC(mac_key, hashes.SHA1())
            h.update(d)
            h.finalize()

        t_ours = t_enc = t_dec = t_mac = float("inf")
        for _ in range(ROUNDS):  # interleaved so drift hits both sides alike
            t_ours = min(t_ours, best_seconds(ours, ROUND_SECONDS / 2))
            t_enc = min(t_enc, best_seconds(cbc_enc, ROUND_SECONDS / 6))
            t_dec = min(t_dec, best_seconds(cbc_dec, ROUND_SECONDS / 6))
            t_mac = min(t_mac, best_seconds(sha1, ROUND_SECONDS / 6))
        limit = t_enc + t_dec + 2 * t_mac
        strict = t_enc + t_dec + t_mac
        mbps = size / t_ours / 1e6
        ratio, strict_ratio = limit / t_ours, strict / t_ours
        results[size] = ratio
        label = f"{size // 1024} KiB" if size < 1 << 20 else f"{size >> 20} MiB"
        print(f"{label:>8} {mbps:9.1f} {size / limit / 1e6:9.1f} {ratio:7.2f} {strict_ratio:12.2f}")
    verdict = "meets" if results[64 * 1024] >= TARGET else "MISSES"
    print(f"64 KiB ratio {results[64 * 1024]:.2f} {verdict} the {TARGET:.2f} target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
