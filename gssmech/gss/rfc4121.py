"""RFC 4121 §4.2 per-message tokens (MIC and Wrap) and the RFC 4402 PRF: the one module that
builds and checks them (house style 11).

Token header (RFC 4121 §4.2.6)::

    MIC  (04 04): TOK_ID(2) | Flags(1) | Filler FF FF FF FF FF | SND_SEQ(8)          | SGN_CKSUM
    Wrap (05 04): TOK_ID(2) | Flags(1) | Filler FF | EC(2) | RRC(2) | SND_SEQ(8)     | Data

Flags (§4.2.2): 0x01 SentByAcceptor, 0x02 Sealed, 0x04 AcceptorSubkey; unknown bits are
ignored.  Key usages (§2): KG-USAGE-ACCEPTOR-SEAL 22, -ACCEPTOR-SIGN 23, -INITIATOR-SEAL 24,
-INITIATOR-SIGN 25; every Wrap token uses SEAL (with or without confidentiality) and MIC
tokens use SIGN (NB(mit): k5sealv3.c picks the usage by token type, not by the Sealed flag).
The checksum is the key's mandatory checksum type, already truncated by its enctype profile
(RFC 4121 §4.2.4: 12 octets for the RFC 3962 enctypes).

Which key (§2): the acceptor subkey once the acceptor sent one (tokens then carry the
AcceptorSubkey flag), otherwise the initiator's subkey, otherwise the ticket session key; a
receiver picks the key the flag names.

Everything here is pure: sequence numbers come in as arguments and go out in results, and
the confounder of a confidential Wrap is injectable.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import NamedTuple

from gssmech.errors import CryptoError, DecodeError, IntegrityError
from gssmech.krb5 import crypto
from gssmech.krb5.asn1.numbers import KeyUsage
from gssmech.krb5.crypto import Key

TOK_ID_MIC = b"\x04\x04"
TOK_ID_WRAP = b"\x05\x04"
HEADER_LEN = 16
_MIC_FILLER = b"\xff" * 5
_WRAP = struct.Struct(">2sBBHHQ")  # TOK_ID, Flags, Filler, EC, RRC, SND_SEQ
_MIC = struct.Struct(">2sB5sQ")  # TOK_ID, Flags, Filler, SND_SEQ
MASK64 = (1 << 64) - 1

#: gss_pseudo_random prf_key values (RFC 4401 §2, MIT gssapi_ext.h): FULL is 0.
GSS_C_PRF_KEY_FULL = 0
GSS_C_PRF_KEY_PARTIAL = 1
#: Largest PRF output we produce on request (RFC 4401 only asks for 2**14 at least).
MAX_PRF_OUTPUT = 1 << 20


class TokenFlag(enum.IntFlag):
    """RFC 4121 §4.2.2 token flags."""

    SENT_BY_ACCEPTOR = 0x01
    SEALED = 0x02
    ACCEPTOR_SUBKEY = 0x04


class Unwrapped(NamedTuple):
    #: the protected message
    message: bytes
    #: True if it was encrypted (Sealed)
    conf_state: bool
    #: SND_SEQ of the token, for the caller's sequence state
    seq_number: int


def _usage(sender_is_acceptor: bool, seal: bool) -> int:
    if sender_is_acceptor:
        return KeyUsage.GSS_ACCEPTOR_SEAL if seal else KeyUsage.GSS_ACCEPTOR_SIGN
    return KeyUsage.GSS_INITIATOR_SEAL if seal else KeyUsage.GSS_INITIATOR_SIGN


def _rotate_left(data: bytes | memoryview, count: int) -> bytes | memoryview:
    """Undo the sender's right rotation by RRC (RFC 4121 §4.2.5)."""
    if not data:
        return data
    count %= len(data)
    if count == 0:
        return data
    return bytes(data[count:]) + bytes(data[:count])


def _rotate_right(data: bytes, count: int) -> bytes:
    if not data or count % len(data) == 0:
        return data
    count %= len(data)
    return data[-count:] + data[:-count]


@dataclass(frozen=True, slots=True)
class TokenKeys:
    """One side's view of an established context's keys: ``key`` is the initiator subkey (or
    the session key if the initiator sent none), ``acceptor_subkey`` the AP-REP subkey."""

    is_acceptor: bool
    key: Key
    acceptor_subkey: Key | None = None

    # --- sending -----------------------------------------------------------------------------
    def _send(self) -> tuple[Key, int]:
        flags = TokenFlag.SENT_BY_ACCEPTOR if self.is_acceptor else 0
        if self.acceptor_subkey is not None:
            return self.acceptor_subkey, flags | TokenFlag.ACCEPTOR_SUBKEY
        return self.key, flags

    def get_mic(self, message: bytes, seq_number: int) -> bytes:
        """GSS_GetMIC (RFC 4121 §4.2.6.1): header | checksum(message | header)."""
        key, flags = self._send()
        header = _MIC.pack(TOK_ID_MIC, flags, _MIC_FILLER, seq_number & MASK64)
        usage = _usage(self.is_acceptor, seal=False)
        return header + crypto.make_checksum(key, usage, bytes(message) + header)

    def wrap(
        self,
        message: bytes,
        seq_number: int,
        *,
        conf: bool = True,
        confounder: bytes | None = None,
        rrc: int = 0,
        ec: int = 0,
    ) -> bytes:
        """GSS_Wrap (RFC 4121 §4.2.6.2).

        Confidential: ``header | rotate(encrypt(message | filler(EC) | header(RRC=0)), RRC)``.
        Integrity only: ``header(EC=cksum size) | rotate(message | checksum, RRC)`` where the
        checksum covers ``message | header`` with EC and RRC zero.  NB(mit): MIT sends
        EC = 0 and RRC = 0 for the AES enctypes; ``ec``/``rrc`` exist for tests (Windows
        sends RRC = 28).
        """
        key, flags = self._send()
        seq = seq_number & MASK64
        if not 0 <= rrc <= 0xFFFF or not 0 <= ec <= 0xFFFF:
            raise CryptoError("EC and RRC are 16-bit fields")
        if conf:
            flags |= TokenFlag.SEALED
            inner = _WRAP.pack(TOK_ID_WRAP, flags, 0xFF, ec, 0, seq)
            ciphertext = crypto.encrypt(
                key,
                _usage(self.is_acceptor, seal=True),
                b"".join((message, bytes(ec), inner)),
                confounder=confounder,
            )
            header = _WRAP.pack(TOK_ID_WRAP, flags, 0xFF, ec, rrc, seq)
            return header + _rotate_right(ciphertext, rrc)
        zeroed = _WRAP.pack(TOK_ID_WRAP, flags, 0xFF, 0, 0, seq)
        cksum = crypto.make_checksum(
            key, _usage(self.is_acceptor, seal=True), bytes(message) + zeroed
        )
        header = _WRAP.pack(TOK_ID_WRAP, flags, 0xFF, len(cksum), rrc, seq)
        return header + _rotate_right(bytes(message) + cksum, rrc)

    # --- receiving ---------------------------------------------------------------------------
    def _recv_key(self, flags: int, what: str) -> Key:
        # A token that claims to come from our own side is a reflection (RFC 4121 §4.2.2).
        if bool(flags & TokenFlag.SENT_BY_ACCEPTOR) == self.is_acceptor:
            raise IntegrityError()
        if flags & TokenFlag.ACCEPTOR_SUBKEY:
            if self.acceptor_subkey is None:
                raise DecodeError("AcceptorSubkey flag but no acceptor subkey", source=what)
            return self.acceptor_subkey
        return self.key

    def verify_mic(self, message: bytes, token: bytes) -> int:
        """GSS_VerifyMIC: the token's SND_SEQ, or DecodeError / IntegrityError."""
        what = "MIC token (RFC 4121 §4.2.6.1)"
        data = _as_bytes(token, what)
        if len(data) < HEADER_LEN:
            raise DecodeError("shorter than its header", source=what, offset=len(data))
        tok_id, flags, filler, seq = _MIC.unpack_from(data)
        if tok_id != TOK_ID_MIC:
            raise DecodeError(f"TOK_ID {tok_id.hex()}, expected 0404", source=what, offset=0)
        if filler != _MIC_FILLER:
            raise DecodeError("filler is not FF FF FF FF FF", source=what, offset=3)
        key = self._recv_key(flags, what)
        usage = _usage(not self.is_acceptor, seal=False)
        crypto.verify_checksum(key, usage, bytes(message) + data[:HEADER_LEN], data[HEADER_LEN:])
        return int(seq)

    def unwrap(self, token: bytes) -> Unwrapped:
        """GSS_Unwrap (RFC 4121 §4.2.6.2), any EC and RRC; DecodeError / IntegrityError."""
        what = "Wrap token (RFC 4121 §4.2.6.2)"
        data = _as_bytes(token, what)
        if len(data) < HEADER_LEN:
            raise DecodeError("shorter than its header", source=what, offset=len(data))
        tok_id, flags, filler, ec, rrc, seq = _WRAP.unpack_from(data)
        if tok_id != TOK_ID_WRAP:
            raise DecodeError(f"TOK_ID {tok_id.hex()}, expected 0504", source=what, offset=0)
        if filler != 0xFF:
            raise DecodeError("filler is not FF", source=what, offset=3)
        key = self._recv_key(flags, what)
        body = _rotate_left(memoryview(data)[HEADER_LEN:], rrc)
        if flags & TokenFlag.SEALED:
            plain = crypto.decrypt(key, _usage(not self.is_acceptor, seal=True), body)
            if len(plain) < HEADER_LEN + ec:
                raise IntegrityError()
            # The encrypted copy of the header has RRC = 0 (§4.2.4) and must match the rest.
            expected = _WRAP.pack(TOK_ID_WRAP, flags, 0xFF, ec, 0, seq)
            if plain[-HEADER_LEN:] != expected:
                raise IntegrityError()
            return Unwrapped(plain[: len(plain) - HEADER_LEN - ec], True, int(seq))
        size = crypto.checksum_size(key.profile.cksumtype)
        if ec != size:
            raise DecodeError(f"EC is {ec}, expected the checksum size {size}", source=what,
                              offset=4)
        if len(body) < ec:
            raise DecodeError("shorter than its checksum", source=what, offset=len(data))
        message = bytes(body[: len(body) - ec])
        zeroed = _WRAP.pack(TOK_ID_WRAP, flags, 0xFF, 0, 0, seq)
        crypto.verify_checksum(
            key, _usage(not self.is_acceptor, seal=True), message + zeroed,
            bytes(body[len(body) - ec :]),
        )
        return Unwrapped(message, False, int(seq))

    # --- sizes and PRF -----------------------------------------------------------------------
    def wrap_size_limit(self, output_size: int, conf: bool = True) -> int:
        """GSS_Wrap_size_limit: the largest message whose Wrap token fits ``output_size``."""
        key, _ = self._send()
        if conf:
            room = key.profile.plaintext_length(max(0, output_size - HEADER_LEN))
            return max(0, room - HEADER_LEN)
        return max(0, output_size - HEADER_LEN - crypto.checksum_size(key.profile.cksumtype))

    def pseudo_random(self, prf_key: int, data: bytes, length: int) -> bytes:
        """GSS_Pseudo_random for krb5 (RFC 4402 §2): ``T0 | T1 | ...`` truncated to ``length``,
        ``Ti = pseudo-random(K, i || input)`` with ``i`` a 4-octet big-endian counter.

        NB(mit): the counter starts at 0 (lib/gssapi/krb5/prf.c).  GSS_C_PRF_KEY_FULL uses the
        acceptor subkey if there is one, GSS_C_PRF_KEY_PARTIAL (or FULL without one) the
        initiator subkey / session key.
        """
        if prf_key == GSS_C_PRF_KEY_FULL:
            key = self.acceptor_subkey or self.key
        elif prf_key == GSS_C_PRF_KEY_PARTIAL:
            key = self.key
        else:
            raise CryptoError(f"unknown prf_key {prf_key!r}")
        if not isinstance(length, int) or not 0 <= length <= MAX_PRF_OUTPUT:
            raise CryptoError(f"PRF output length {length!r} out of range")
        b_data = bytes(data)
        out = bytearray()
        counter = 0
        while len(out) < length:
            out += crypto.prf(key, counter.to_bytes(4, "big") + b_data)
            counter += 1
        return bytes(out[:length])


def _as_bytes(token: object, what: str) -> bytes:
    if isinstance(token, bytes):
        return token
    if isinstance(token, bytearray | memoryview):
        return bytes(token)
    raise DecodeError("token must be bytes", source=what)
