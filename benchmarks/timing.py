"""Timing one call repeated in one process, for the benchmarks of single passes."""

from __future__ import annotations

import time
from collections.abc import Callable


def timed(fn: Callable[[], object], reps: int) -> list[float]:
    """Seconds of each of ``reps`` calls of ``fn`` (call it once before, untimed, to
    compile it and warm the caches)."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times
