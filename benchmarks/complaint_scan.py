"""The pass that finds unresolved complaints, alone: the measure behind reading the
complaint slots eight at a time (``sim.complaints._unresolved_chunk``).

    python -m benchmarks.complaint_scan [--customers 1000000] [--complaints 20000]

Builds a (customers, 2) market whose complaint slots are empty (-1) but for
``--complaints`` random ones, and times ``_unresolved_kernel`` on all threads, against
two numpy fills of the outputs and one numpy scan of the complaints (what the pass
cannot do with less). Prints milliseconds per call (median of 50).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import numpy as np

from benchmarks.timing import timed
from sim.complaints import _unresolved_kernel


def per_call(fn: Callable[[], object], reps: int = 50) -> float:
    fn()
    return statistics.median(timed(fn, reps)) * 1e3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.complaint_scan", description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--complaints", type=int, default=20_000)
    a = ap.parse_args(argv)
    n, C = a.customers, 2
    rng = np.random.default_rng(1)
    complaint = np.full((n, C), -1, np.int8)
    at = rng.choice(n * C, a.complaints, replace=False)
    complaint.reshape(-1)[at] = rng.integers(0, 3, at.size)
    complaint_t = np.zeros((n, C), np.int32)
    supplier = rng.integers(0, 3, (n, C)).astype(np.int8)
    out = np.empty((n, C), bool)
    at_supplier = np.empty((n, C), bool)
    window, duration = np.array([10, 10, 10]), np.array([50, 50, 50])

    def kernel() -> None:
        _unresolved_kernel(complaint, complaint_t, supplier, window, duration, 20, out, at_supplier)

    def fills() -> None:
        out.fill(False)
        at_supplier.fill(False)

    print(f"{n:,} customers, {a.complaints:,} complaints; ms per call (median of 50):")
    print(f"  the pass (_unresolved_kernel):     {per_call(kernel):.3f}")
    print(f"  two numpy fills of its outputs:    {per_call(fills):.3f}")
    print(f"  one numpy scan of the complaints:  {per_call(lambda: (complaint >= 0).any()):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
