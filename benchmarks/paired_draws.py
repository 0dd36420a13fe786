"""Philox blocks one call after another, or two counters a call side by side: the
measure behind ``sim.rng.philox2`` and the rules drawing a pass's blocks first.

    python -m benchmarks.paired_draws [--blocks 2000000]

Times a tight compiled loop that draws ``--blocks`` blocks (one counter a customer)
and adds two of each block's uniforms, three ways: ``philox`` once a block, the same
blocks two a call (``philox2``), and four a call (a copy written here for the
comparison only). Prints ns per block (best of 5). Each round of a Philox call waits
on its own two multiplies; two chains side by side keep the multiplier busy, while
four run out of registers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from numba import njit

from benchmarks.timing import timed
from sim.rng import _M0, _M1, ROUNDS, mulhilo, philox, philox2, round_keys, unit


@njit
def _one_a_call(rk, n, out):  # type: ignore[no-untyped-def]
    s = 0.0
    for i in range(n):
        w = philox(rk, i, 5, 0, 0)
        s += unit(w[0]) + unit(w[1])
    out[0] = s


@njit
def _two_a_call(rk, n, out):  # type: ignore[no-untyped-def]
    s = 0.0
    for i in range(0, n, 2):
        w = philox2(rk, i, 5, 0, 0, i + 1, 5, 0, 0)
        s += unit(w[0]) + unit(w[1]) + unit(w[4]) + unit(w[5])
    out[0] = s


@njit(inline="always")
def _philox4(rk, a, b, c, d):  # type: ignore[no-untyped-def]
    """Four counters (a, 5, 0, 0)... side by side: the first two words of each."""
    x0, x1, x2, x3 = np.uint64(a), np.uint64(5), np.uint64(0), np.uint64(0)
    y0, y1, y2, y3 = np.uint64(b), x1, x2, x3
    z0, z1, z2, z3 = np.uint64(c), x1, x2, x3
    v0, v1, v2, v3 = np.uint64(d), x1, x2, x3
    for r in range(ROUNDS):
        k0, k1 = rk[r, 0], rk[r, 1]
        xh0, xl0 = mulhilo(_M0, x0)
        xh1, xl1 = mulhilo(_M1, x2)
        yh0, yl0 = mulhilo(_M0, y0)
        yh1, yl1 = mulhilo(_M1, y2)
        zh0, zl0 = mulhilo(_M0, z0)
        zh1, zl1 = mulhilo(_M1, z2)
        vh0, vl0 = mulhilo(_M0, v0)
        vh1, vl1 = mulhilo(_M1, v2)
        x0, x1, x2, x3 = xh1 ^ x1 ^ k0, xl1, xh0 ^ x3 ^ k1, xl0
        y0, y1, y2, y3 = yh1 ^ y1 ^ k0, yl1, yh0 ^ y3 ^ k1, yl0
        z0, z1, z2, z3 = zh1 ^ z1 ^ k0, zl1, zh0 ^ z3 ^ k1, zl0
        v0, v1, v2, v3 = vh1 ^ v1 ^ k0, vl1, vh0 ^ v3 ^ k1, vl0
    return x0, x1, y0, y1, z0, z1, v0, v1


@njit
def _four_a_call(rk, n, out):  # type: ignore[no-untyped-def]
    s = 0.0
    for i in range(0, n, 4):
        w = _philox4(rk, i, i + 1, i + 2, i + 3)
        for k in range(8):
            s += unit(w[k])
    out[0] = s


def best_ns(fn: Callable[..., None], rk: np.ndarray, n: int) -> float:
    out = np.zeros(1)
    fn(rk, 1000, out)  # compile
    return min(timed(lambda: fn(rk, n, out), 5)) / n * 1e9


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.paired_draws", description=__doc__)
    ap.add_argument("--blocks", type=int, default=2_000_000)
    a = ap.parse_args(argv)
    rk = round_keys(7, "demand")
    print(f"{a.blocks:,} blocks, ns per block (best of 5):")
    for label, fn in (
        ("one a call (philox)", _one_a_call),
        ("two a call (philox2)", _two_a_call),
        ("four a call", _four_a_call),
    ):
        print(f"  {label:22s} {best_ns(fn, rk, a.blocks):6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
