"""Are the machine's two cores two cores? Arithmetic and random reads, alone and side by
side.

    python -m benchmarks.two_cores

Times a compiled loop of dependent multiplications and a compiled pass of random
reads over 200 MB, first in one process alone, then in two processes at once. If
the two cores were two threads of one physical core, the arithmetic would slow
down by up to half side by side; if they shared a starved memory bus, the reads
would. Read before blaming the rules for a two-thread speed-up below 2
(docs/performance.md, "Two threads against one at 1M, part by part").
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
from numba import njit


@njit(nogil=True)
def _spin(n: int) -> float:
    x = 1.0
    for _ in range(n):
        x = x * 1.0000001 + 1e-9
    return x


@njit(nogil=True)
def _reads(a: np.ndarray, idx: np.ndarray) -> int:
    s = 0
    for i in idx:
        s += a[i]
    return s


def child() -> str:
    a = np.ones(50_000_000, np.int32)
    idx = np.random.default_rng(1).integers(0, a.size, 5_000_000)
    _spin(10)
    _reads(a, idx[:10])
    t = time.perf_counter()
    _spin(200_000_000)
    t1 = time.perf_counter()
    _reads(a, idx)
    t2 = time.perf_counter()
    return f"arithmetic {t1 - t:.3f} s, random reads {t2 - t1:.3f} s"


def main() -> int:
    if sys.argv[1:] == ["--child"]:
        print(child())
        return 0
    cmd = [sys.executable, "-m", "benchmarks.two_cores", "--child"]
    alone = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    print(f"alone:        {alone}")
    pair = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for k, p in enumerate(pair):
        out, _ = p.communicate()
        print(f"side by side {k + 1}: {out.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
