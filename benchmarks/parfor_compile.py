"""What numba's parallel loop costs to compile, apart from the code inside it.

    python -m benchmarks.parfor_compile

In a fresh process (no disk cache), compiles a kernel whose ``prange`` loop over
chunks holds one call to a serial chunk function, three times (three fresh copies of
the same kernel), and the same loop with ``range``; then the same parallel loop with
the argument records the choice passes its chunks (a tuple of six arrays and a named
tuple of seventeen). Prints each compile's seconds. The edit loop
(``benchmarks.edit_loop``) pays this for every parallel kernel that an edit makes
compile again: docs/performance.md, "The edit loop on the event engine".
"""

from __future__ import annotations

import time
from collections import namedtuple
from typing import Any

import numpy as np
from numba import njit, prange

CHUNK = 2048
Record = namedtuple("Record", [f"a{i}" for i in range(17)])  # type: ignore[misc]


@njit(nogil=True)
def _chunk(k, lo, hi, t, out):  # type: ignore[no-untyped-def]
    s = 0.0
    for i in range(lo, hi):
        s += t[0][i]
    out[k] = s
    return 1


@njit(nogil=True)
def _chunk_rec(k, lo, hi, t, rec, out):  # type: ignore[no-untyped-def]
    s = 0.0
    for i in range(lo, hi):
        s += t[0][i] + rec.a0[i]
    out[k] = s
    return 1


def _loop(parallel: bool) -> Any:
    """A fresh kernel looping over chunks: ``prange`` is ``range`` without ``parallel``."""

    @njit(parallel=parallel, nogil=True)
    def run(t, out):  # type: ignore[no-untyped-def]
        n = t[0].size
        m = (n + CHUNK - 1) // CHUNK
        c = np.empty(m, np.int64)
        for k in prange(m):
            c[k] = _chunk(k, k * CHUNK, min(n, k * CHUNK + CHUNK), t, out)
        return c.sum()

    return run


def _parallel_records() -> Any:
    @njit(parallel=True, nogil=True)
    def run(t, rec, out):  # type: ignore[no-untyped-def]
        n = t[0].size
        m = (n + CHUNK - 1) // CHUNK
        c = np.empty(m, np.int64)
        for k in prange(m):
            c[k] = _chunk_rec(k, k * CHUNK, min(n, k * CHUNK + CHUNK), t, rec, out)
        return c.sum()

    return run


def _timed(fn: Any, *args: Any) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def main() -> int:
    t = tuple(np.zeros(5000, np.int8 if i % 2 else np.float64) for i in range(6))
    rec = Record(*(np.zeros(5000) for _ in range(17)))
    out = np.zeros(3)
    print(f"numba's start-up and the chunk function: {_timed(_chunk, 0, 0, 10, t, out):.2f} s")
    print(f"the loop with range: {_timed(_loop(False), t, out):.2f} s")
    for i in range(3):
        print(f"the loop with prange, copy {i + 1}: {_timed(_loop(True), t, out):.2f} s")
    _timed(_chunk_rec, 0, 0, 10, t, rec, out)
    took = _timed(_parallel_records(), t, rec, out)
    print(f"the loop with prange, a tuple and a 17-field record as arguments: {took:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
