"""The three parallel rules at 1M replayed on one and on two threads, with the caches
as the step leaves them and after a flush: is a two-thread step held back by the
rules' serial parts, or by where their data sits?

    python -m benchmarks.cache_state [--customers 1000000] [--warm 12] [--reps 9]

Runs the ``baseline`` scenario ``--warm`` steps, then captures the arguments of one
step's call of each parallel rule's kernel (the demand rule's, each platform's,
the choice's). For each kernel, ``--reps`` times and each time in both orders: every
array the kernel writes put back as it was (which leaves it in the caches of the
thread that put it back, as the serial passes before a rule leave theirs), then, in
the flushed case, 64 MB of other memory touched (twice the last-level cache), and
the kernel timed on one thread and on two. Prints the medians (wall ms) and the
two-thread speed-up in each case, and checks that every call wrote the same arrays.
docs/performance.md ("Two threads against one at 1M, part by part") quotes it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

import sim.choice as sc
import sim.demand as sd
import sim.platform as sp
from sim import DemandModel

#: the kernels replayed: (module, name, a label for each call of the step)
KERNELS = (
    (sd, "demand_event_kernel", ("demand rule",)),
    (sp, "platform_kernel", ("platform, focal firm", "platform, rival")),
    (sc, "choice_kernel", ("choice",)),
)
_FLUSH = 64 << 20  # bytes touched to push the kernel's arrays out of the caches


def leaves(x: Any) -> list[np.ndarray]:
    """The arrays in an argument, through tuples and named tuples."""
    if isinstance(x, np.ndarray):
        return [x]
    if isinstance(x, tuple):
        return [a for y in x for a in leaves(y)]
    return []


_Call = tuple[Callable[..., Any], tuple[Any, ...], list[np.ndarray]]


def capture(customers: int, warm: int) -> dict[str, _Call]:
    """Each kernel, the arguments of its first call in the step after ``warm`` and a
    copy of their arrays as they were before the call."""
    model = DemandModel("baseline", rng=1, overrides={"run.customers": customers})
    model.run(warm)
    got: dict[str, _Call] = {}
    undo = []
    for mod, name, labels in KERNELS:
        kernel = getattr(mod, name)

        def spy(*a: Any, _k: Any = kernel, _labels: tuple[str, ...] = labels) -> Any:
            label = next((x for x in _labels if x not in got), None)
            if label is not None:
                got[label] = (_k, tuple(a), [x.copy() for y in a for x in leaves(y)])
            return _k(*a)

        undo.append((mod, name, kernel))
        setattr(mod, name, spy)
    try:
        model.run(1)
    finally:
        for mod, name, kernel in undo:
            setattr(mod, name, kernel)
    return got


def replay(
    kernel: Callable[..., Any], args: tuple[Any, ...], saved: list[np.ndarray], reps: int
) -> dict[str, list[float]]:
    """Wall seconds of each call, by case and thread count, each call from the arrays
    ``saved`` before the step's own."""
    arrays = [a for x in args for a in leaves(x)]
    junk = np.zeros(_FLUSH, np.uint8)
    times: dict[str, list[float]] = {}
    first: list[np.ndarray] | None = None
    before = numba.get_num_threads()
    cases = [(flush, th) for flush in (False, True) for th in (1, 2)]
    try:
        for r in range(reps):
            for flush, th in cases if r % 2 == 0 else cases[::-1]:
                for a, s in zip(arrays, saved, strict=True):
                    a[...] = s
                if flush:
                    junk[::64] += 1  # one write a cache line
                numba.set_num_threads(th)
                t = time.perf_counter()
                kernel(*args)
                times.setdefault(f"{'flushed' if flush else 'as left'} {th}", []).append(
                    time.perf_counter() - t
                )
                after = [a.copy() for a in arrays]
                if first is None:
                    first = after
                elif not all(np.array_equal(x, y) for x, y in zip(first, after, strict=True)):
                    raise SystemExit("a replay wrote other numbers than the first")
    finally:
        numba.set_num_threads(before)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cache_state", description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--warm", type=int, default=12, help="steps run before the capture")
    ap.add_argument("--reps", type=int, default=9, help="replays of each case")
    a = ap.parse_args(argv)
    got = capture(a.customers, a.warm)
    print(f"baseline, {a.customers:,} customers, step {a.warm + 1}; wall ms, median of {a.reps}")
    print("| kernel | caches | one thread | two threads | speed-up |")
    print("|---|---|---:|---:|---:|")
    for label, (kernel, args, saved) in got.items():
        times = replay(kernel, args, saved, a.reps)
        for case in ("as left", "flushed"):
            one = statistics.median(times[f"{case} 1"]) * 1e3
            two = statistics.median(times[f"{case} 2"]) * 1e3
            print(f"| {label} | {case} | {one:.2f} | {two:.2f} | {one / two:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
