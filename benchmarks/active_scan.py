"""The choice's count of active needs, eight need states a word, against one state at a
time: the measure behind ``sim.choice_picks._count_active`` and the word scan of
``sim.choice_picks._talk``.

    python -m benchmarks.active_scan [--customers 1000000] [--steps 5]

Builds the benchmark workload, runs ``--steps`` steps, and times on one thread the
count of each chunk's active needs over the whole market (the serial pass before the
choice's parallel loop), both ways. Prints milliseconds per pass (best of 20) and the
active needs counted.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from numba import njit

from benchmarks.timing import timed
from benchmarks.workloads import workload
from sim import DemandModel
from sim.choice_picks import _count_active
from sim.jit import CHUNK
from sim.state import ACTIVE


@njit
def _by_words(nf, n, C):  # type: ignore[no-untyped-def]
    na = 0
    for lo in range(0, n, CHUNK):
        na += _count_active(nf, lo * C, min(lo + CHUNK, n) * C)
    return na


@njit
def _one_at_a_time(nf, n, C):  # type: ignore[no-untyped-def]
    na = 0
    for lo in range(0, n, CHUNK):
        for j in range(lo * C, min(lo + CHUNK, n) * C):
            na += nf[j] == ACTIVE
    return na


def best_ms(fn: Callable[..., int], *args: object) -> tuple[float, int]:
    got = fn(*args)
    return min(timed(lambda: fn(*args), 20)) * 1e3, int(got)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.active_scan", description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=5)
    a = ap.parse_args(argv)
    model = DemandModel(workload(a.customers, a.steps + 1), rng=2024).run(a.steps)
    need = model.state.need
    nf, (n, C) = need.reshape(-1), need.shape
    print(f"{n:,} customers ({np.count_nonzero(nf == ACTIVE):,} active needs), ms per pass:")
    for label, fn in (("one state at a time", _one_at_a_time), ("eight a word", _by_words)):
        ms, na = best_ms(fn, nf, n, C)
        print(f"  {label:20s} {ms:6.3f}  ({na:,} counted)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
