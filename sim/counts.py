"""Compiled counting passes over the customers (numba, cached on disk): unresolved
complaints, the focal firm's opportunity ledger, customers per cell and per supplier.

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


@njit(cache=True, nogil=True)
def unresolved(
    complaint: np.ndarray,  # (N, C) int8 firm complained about, -1 none; expired ones cleared
    complaint_t: np.ndarray,  # (N, C) int32
    supplier: np.ndarray,  # (N, C) int8
    window: np.ndarray,  # (F,) int64 steps a firm has to pick a complaint up
    duration: np.ndarray,  # (F,) int64 steps an escalated complaint lasts
    now: int,
    out: np.ndarray,  # (N, C) bool: unresolved
    at_supplier: np.ndarray,  # (N, C) bool: ... about the current supplier
) -> None:
    """``DemandModel._unresolved`` and the at-supplier mask, in one pass."""
    cf = complaint.reshape(-1)
    tf = complaint_t.reshape(-1)
    sf = supplier.reshape(-1)
    of = out.reshape(-1)
    af = at_supplier.reshape(-1)
    of[:] = False
    af[:] = False
    for j in range(cf.size):
        f = cf[j]
        if f >= 0:  # rare: complaints are few
            age = now - np.int64(tf[j])
            if age > window[f] + duration[f]:
                cf[j] = -1
            elif age > window[f]:
                of[j] = True
                af[j] = f == sf[j]


@njit(inline="always")
def _should(j, C, T, nf, tf, std, std_segments, segment):  # type: ignore[no-untyped-def]
    """``DemandModel._focal_should_market`` at flat position ``j``: an active need in
    the focal firm's standard (cell and segment). ``where`` of the ledger passes holds
    the state's need, tier and segment arrays and the standard's (C, T) cells and (S,)
    segments."""
    i = j // C
    c = j - i * C
    return (nf[j] == ACTIVE) & std[c * T + tf[j]] & std_segments[segment[i]]


@njit(inline="always")
def _flat(where):  # type: ignore[no-untyped-def]
    """The ``where`` of the ledger passes as what ``_should`` reads: (C, T, flat needs,
    flat tiers, flat standard cells, standard segments, segments)."""
    need, tier, segment, std_cells, std_segments = where
    return (
        need.shape[1],
        std_cells.shape[1],
        need.reshape(-1),
        tier.reshape(-1),
        std_cells.reshape(-1),
        std_segments,
        segment,
    )


@njit(cache=True, nogil=True)
def ledger_open(
    pos: np.ndarray,  # flat positions that may have to open (every position if ``full``)
    full: bool,
    where: tuple,  # (need, tier, segment, std_cells, std_segments): see ``_should``
    open_m: np.ndarray,  # (N, C) bool, changed in place
    effective: np.ndarray,  # (N, C) bool, changed in place
) -> None:
    """``OpportunityLedger.open`` at the given positions: every position the first
    time; after that the ledger holds every should-market position, and only needs
    that became active since can open an opportunity."""
    C, T, nf, tf, std, std_segments, segment = _flat(where)
    of = open_m.reshape(-1)
    ef = effective.reshape(-1)
    for r in range(nf.size if full else pos.size):
        j = r if full else pos[r]
        if _should(j, C, T, nf, tf, std, std_segments, segment) and not of[j]:
            of[j] = True
            ef[j] = False


@njit(cache=True, nogil=True)
def ledger_close(
    offered_at: np.ndarray,  # flat positions the focal firm's offers reached this step
    pos: np.ndarray,  # flat positions that may have to close (every position if ``full``)
    full: bool,
    where: tuple,  # (need, tier, segment, std_cells, std_segments): see ``_should``
    has: np.ndarray,  # (C, T) bool: the focal firm's portfolio
    covered: np.ndarray,  # (N,) bool: in the focal platform
    open_m: np.ndarray,
    effective: np.ndarray,
) -> tuple[int, int, int]:
    """``mark_effective`` with the offers that match the desired tier exactly, then
    ``close`` at the given positions: every position the first time; after that an
    opportunity is open only while its need is active, and only needs that stopped
    being active (lapsed or sold) can close one. Returns (closed, closed effectively,
    closed as exclusion defects)."""
    C, T, nf, tf, std, std_segments, segment = _flat(where)
    of = open_m.reshape(-1)
    ef = effective.reshape(-1)
    cells = has.reshape(-1)
    for r in range(offered_at.size):
        j = offered_at[r]
        ef[j] = ef[j] | (of[j] & cells[(j % C) * T + tf[j]])
    n_close = 0
    n_eff = 0
    n_excl = 0
    for r in range(nf.size if full else pos.size):
        j = r if full else pos[r]
        if of[j] and not _should(j, C, T, nf, tf, std, std_segments, segment):
            e = ef[j]
            n_close += 1
            n_eff += e
            n_excl += (~e) & (~covered[j // C])
            of[j] = False
            ef[j] = False
    return n_close, n_eff, n_excl
