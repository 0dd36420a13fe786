"""Compiled counting passes over the customers (numba, cached on disk): customers per
cell and per supplier.

Each is one pass over the flattened (N, C) state where the numpy code makes several;
they count exactly what it counts (integers: there is nothing to round). The loops run
over flat positions and keep the category in a counter, and use ``&``/``|`` on
booleans rather than ``and``/``or``, so that they compile to straight-line code
without unpredictable branches (a branch on a random need state costs more than the
rest of the loop body).
"""

from __future__ import annotations

import numpy as np
from numba import njit

NONE, LATENT, ACTIVE, SERVED = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def cell_counts(tier: np.ndarray, need: np.ndarray, lo: int, n_tiers: int) -> np.ndarray:
    """(C, T) customers per (category, desired tier) whose need state is at least ``lo``."""
    C = need.shape[1]
    nf = need.reshape(-1)
    tf = tier.reshape(-1)
    T1 = n_tiers + 1
    # four interleaved histograms: consecutive increments of one counter would wait
    # on each other; slot 0 of each category counts the needs below ``lo``
    h = np.zeros((4, C * T1), dtype=np.int64)
    c = 0
    for j in range(nf.size):
        h[j & 3, c * T1 + (tf[j] + 1) * (nf[j] >= lo)] += 1
        c += 1
        if c == C:
            c = 0
    out = np.zeros((C, n_tiers), dtype=np.int64)
    for c in range(C):
        for k in range(n_tiers):
            for r in range(4):
                out[c, k] += h[r, c * T1 + k + 1]
    return out


@njit(cache=True, nogil=True)
def served_by(need: np.ndarray, supplier: np.ndarray, n_firms: int) -> np.ndarray:
    """(F,) served needs per supplier."""
    nf = need.reshape(-1)
    sf = supplier.reshape(-1)
    h = np.zeros((4, n_firms + 1), dtype=np.int64)
    for j in range(nf.size):
        h[j & 3, (sf[j] + 1) * (nf[j] == SERVED)] += 1
    out = np.zeros(n_firms, dtype=np.int64)
    for f in range(n_firms):
        out[f] = h[0, f + 1] + h[1, f + 1] + h[2, f + 1] + h[3, f + 1]
    return out
