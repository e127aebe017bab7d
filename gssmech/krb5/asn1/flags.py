"""KerberosFlags and its named bit sets: TicketFlags, KDCOptions, APOptions (RFC 4120 §5.2.8,
§5.3, §5.4.1, §5.5.1), with conversions to and from MIT's 32-bit integers.

Bit ``n`` of the BIT STRING (0 = first, most significant) is ``1 << (31 - n)`` in MIT's
``krb5_flags`` (``TKT_FLG_*``, ``KDC_OPT_*``, ``AP_OPTS_*``; see
:func:`gssmech.krb5.constants.flag_bit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asn1crypto import core

from gssmech.krb5.constants import flag_bit


class KerberosFlags(core.BitString):
    """``KerberosFlags ::= BIT STRING (SIZE (32..MAX))`` (RFC 4120 §5.2.8).

    asn1crypto trims trailing zero bits of a named BIT STRING (X.690 §11.2.2), but RFC 4120
    requires at least 32 bits and MIT/Heimdal always send exactly 32, so :meth:`set` never
    trims below 32 bits.  A value may be given as a set of names/bit numbers, a tuple of 0/1,
    or MIT's 32-bit integer (bit ``n`` = ``1 << (31 - n)``).  ``.native`` is a set of names
    (unknown bits appear as their bit number).
    """

    _map: dict[int, str] = {}

    def set(self, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < 2**32:
                raise ValueError(f"flags integer {value:#x} does not fit in 32 bits")
            bits = [(value >> (31 - n)) & 1 for n in range(32)]
        elif isinstance(value, (set, frozenset)):
            bits = [0] * 32
            for item in value:
                n = self._bit_number(item)
                if n >= len(bits):
                    bits.extend([0] * (n + 1 - len(bits)))
                bits[n] = 1
        elif isinstance(value, tuple):
            bits = [1 if b else 0 for b in value]
            bits.extend([0] * (32 - len(bits)))
        else:
            raise TypeError(f"{type(self).__name__} value must be an int, set or tuple")
        unused = -len(bits) % 8
        padded = bits + [0] * unused
        body = bytes(
            int("".join(map(str, padded[i : i + 8])), 2) for i in range(0, len(padded), 8)
        )
        self.contents = bytes([unused]) + body
        self._native = None
        self._unused_bits = (0,) * unused
        self._header = None
        if self._trailer != b"":
            self._trailer = b""

    @classmethod
    def _bit_number(cls, item: str | int) -> int:
        if isinstance(item, int) and not isinstance(item, bool):
            if item < 0:
                raise ValueError(f"negative bit number {item}")
            return item
        for n, name in cls._map.items():
            if name == item:
                return n
        raise ValueError(f"{cls.__name__} has no flag named {item!r}")

    @classmethod
    def from_int(cls, value: int) -> KerberosFlags:
        """From MIT's 32-bit representation (``TKT_FLG_*``, ``KDC_OPT_*``, ``AP_OPTS_*``)."""
        return cls(value)

    @classmethod
    def from_bits(cls, bits: Iterable[int]) -> KerberosFlags:
        """From RFC 4120 bit numbers (0 = most significant)."""
        return cls(set(bits))

    def to_int(self) -> int:
        """MIT's 32-bit value; bits beyond 31 (allowed by the RFC, never used) are dropped."""
        result = 0
        for n in self.bit_numbers():
            if n < 32:
                result |= flag_bit(n)
        return result

    def bit_numbers(self) -> frozenset[int]:
        """The set bits as RFC 4120 bit numbers."""
        int_value, bit_count, _ = self._chunks_to_int()
        return frozenset(n for n in range(bit_count) if (int_value >> (bit_count - 1 - n)) & 1)

    def is_set(self, bit: str | int) -> bool:
        return self._bit_number(bit) in self.bit_numbers()

    def with_bits(self, *bits: str | int, clear: Iterable[str | int] = ()) -> KerberosFlags:
        """A copy with ``bits`` set and ``clear`` cleared (names or bit numbers)."""
        numbers = set(self.bit_numbers()) | {self._bit_number(b) for b in bits}
        numbers -= {self._bit_number(b) for b in clear}
        return type(self)(numbers)


class TicketFlags(KerberosFlags):
    """``TicketFlags ::= KerberosFlags`` (RFC 4120 §5.3; bit 15 RFC 6806 §11; bit 16 RFC 8062
    §3 anonymous; bit 14 is the anonymous flag of draft-ietf-krb-wg-anon-08 §3)."""

    _map = {
        0: "reserved",
        1: "forwardable",
        2: "forwarded",
        3: "proxiable",
        4: "proxy",
        5: "may-postdate",
        6: "postdated",
        7: "invalid",
        8: "renewable",
        9: "initial",
        10: "pre-authent",
        11: "hw-authent",
        12: "transited-policy-checked",
        13: "ok-as-delegate",
        14: "anonymous-draft08",
        15: "enc-pa-rep",
        16: "anonymous",
    }


class KDCOptions(KerberosFlags):
    """``KDCOptions ::= KerberosFlags`` (RFC 4120 §5.4.1; canonicalize 15 RFC 6806 §3;
    anonymous 16 RFC 8062 §4.1).

    NB(bit14): MIT calls bit 14 ``KDC_OPT_CNAME_IN_ADDL_TKT`` (S4U2Proxy); the seed draft-08
    uses it as its anonymous option.  Use the bit number from AnonProfile, not the name.
    """

    _map = {
        0: "reserved",
        1: "forwardable",
        2: "forwarded",
        3: "proxiable",
        4: "proxy",
        5: "allow-postdate",
        6: "postdated",
        7: "unused7",
        8: "renewable",
        9: "unused9",
        10: "unused10",
        11: "opt-hardware-auth",
        12: "unused12",
        13: "unused13",
        14: "cname-in-addl-tkt",
        15: "canonicalize",
        16: "anonymous",
        26: "disable-transited-check",
        27: "renewable-ok",
        28: "enc-tkt-in-skey",
        30: "renew",
        31: "validate",
    }


class APOptions(KerberosFlags):
    """``APOptions ::= KerberosFlags`` (RFC 4120 §5.5.1)."""

    _map = {0: "reserved", 1: "use-session-key", 2: "mutual-required"}
