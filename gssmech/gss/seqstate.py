"""Replay and out-of-sequence detection for received per-message tokens (RFC 2743 §1.2.3,
RFC 4121 §4.2.2/§3).

RFC 2743 defines four supplementary status bits returned *with* a successfully verified token:

- GSS_S_DUPLICATE_TOKEN: the token was already received (a replay);
- GSS_S_OLD_TOKEN: too old to tell whether it is a duplicate;
- GSS_S_UNSEQ_TOKEN: a later token has already been processed;
- GSS_S_GAP_TOKEN: an expected earlier token has not yet been received.

Replay detection (REPLAY flag) reports DUPLICATE and OLD; sequencing (SEQUENCE flag) also
reports UNSEQ and GAP.  The window is the :data:`WINDOW` sequence numbers below the highest one
seen (MIT keeps 64 too).  Sequence numbers are the 64-bit SND_SEQ of RFC 4121 tokens and wrap
modulo 2**64; every difference is taken modulo 2**64.
"""

from __future__ import annotations

from dataclasses import dataclass

from gssmech.errors import (
    GSS_S_COMPLETE,
    GSS_S_DUPLICATE_TOKEN,
    GSS_S_GAP_TOKEN,
    GSS_S_OLD_TOKEN,
    GSS_S_UNSEQ_TOKEN,
)

WINDOW = 64
MASK64 = (1 << 64) - 1
_HALF = 1 << 63


@dataclass(slots=True)
class SeqState:
    """Receive-side state: ``next`` is the sequence number expected next, ``seen`` a bitmap of
    the WINDOW numbers below it (bit i set = ``next - 1 - i`` was received)."""

    next: int
    replay: bool
    sequence: bool
    seen: int = 0

    def check(self, seq: int) -> int:
        """Record ``seq`` and return the supplementary status bits (0 = in order)."""
        seq &= MASK64
        if not (self.replay or self.sequence):
            return GSS_S_COMPLETE
        ahead = (seq - self.next) & MASK64
        if ahead < _HALF:
            # seq >= next (modulo 2**64): shift the window up to make seq the newest.
            shift = ahead + 1
            # A jump of a window or more forgets everything below seq (never shift by 2**63).
            kept = (self.seen << shift) if shift < WINDOW else 0
            self.seen = (kept | 1) & ((1 << WINDOW) - 1)
            self.next = (seq + 1) & MASK64
            return GSS_S_GAP_TOKEN if ahead and self.sequence else GSS_S_COMPLETE
        behind = (self.next - 1 - seq) & MASK64  # 0 = the newest received
        if behind >= WINDOW:
            return GSS_S_OLD_TOKEN
        bit = 1 << behind
        if self.seen & bit:
            return GSS_S_DUPLICATE_TOKEN
        self.seen |= bit
        return GSS_S_UNSEQ_TOKEN if self.sequence else GSS_S_COMPLETE

    def to_dict(self) -> dict[str, int | bool]:
        return {"next": self.next, "replay": self.replay, "sequence": self.sequence,
                "seen": self.seen}

    @classmethod
    def from_dict(cls, d: dict[str, int | bool]) -> SeqState:
        return cls(int(d["next"]), bool(d["replay"]), bool(d["sequence"]), int(d["seen"]))
