"""Timing helper shared by the benchmarks (they run as scripts, so bench/ is on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_call_seconds(fn: Callable[[], object], n: int) -> list[float]:
    """Seconds of each of ``n`` calls, one clock reading around each."""
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def best_seconds(fn: Callable[[], object], budget: float = 0.6) -> float:
    """Seconds per call: the fastest of three timed batches sized to fit ``budget``."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    per_batch = max(1, int(budget / 3 / once))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(per_batch):
            fn()
        best = min(best, (time.perf_counter() - start) / per_batch)
    return best
