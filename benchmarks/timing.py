"""Timing one call repeated in one process, for the benchmarks of single passes."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path


def timed(fn: Callable[[], object], reps: int) -> list[float]:
    """Seconds of each of ``reps`` calls of ``fn`` (call it once before, untimed, to
    compile it and warm the caches)."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def checkout(text: str) -> Path:
    """An argparse type for a tree of other code to compare with (``--base``,
    ``--against``): a folder holding a ``sim`` package, or one short error naming the
    value, before any run starts."""
    path = Path(text)
    if not (path / "sim" / "__init__.py").is_file():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a checkout: a folder with the sim package is needed"
            " (git archive COMMIT | tar -x -C DIR)"
        )
    return path
