"""The choice's compiled kernels (docs/model.md §7.9), called by
``sim.choice.choice_step``: ``choice_kernel`` counts the step's active needs
(``_first_slots``), allocates the picks and the scratch once (``_pick_arrays``,
``_scratch``, with the utility before loyalty and word of mouth tabled per step,
``_base_utility``), lets every chunk of customers pick in parallel (``_pick_all``, the
stages of ``sim.choice_picks``), then passes the picks through the sale links and
books the sales (``_sell``).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from sim.choice_picks import (
    ChoiceParams,
    ChoiceTables,
    Picks,
    Scratch,
    _choose,
    _count_active,
    _gather,
    _talk,
)
from sim.jit import CHUNK, chunks, kernel, parallel_kernel
from sim.links import band_edge, overload_rate
from sim.state import SERVED, satisfaction
from sim.workspace import Exposure

__all__ = ["ChoiceParams", "ChoiceTables", "Picks", "Scratch", "choice_kernel"]


@kernel
def choice_kernel(
    truth: tuple,  # (need, tier, supplier, held, age, satisfaction), changed by the sales
    complaints: tuple,  # (complaint (N, C) int8, its step (N, C) int32, segment, unresolved)
    network: tuple,  # (indptr, indices) CSR, an empty indptr for mean-field mixing;
    # then the (need, supplier) a neighbour speaks of
    rk: np.ndarray,  # the behaviour stream's Philox round keys
    step_addr: int,  # this step's address in the streams
    tb: ChoiceTables,
    ex: Exposure,
    price_sens: np.ndarray,  # (S,) float64 each segment's price sensitivity
    params: ChoiceParams,
    now: int,
    served: np.ndarray,  # (F,) int64 served needs per supplier, kept up to date
    chain: np.ndarray,  # (F, 2, 5) int64 out: opportunities / defects of the 5 links
):  # type: ignore[no-untyped-def]
    """Exposure, logit choice and sales. Returns (positions, firm, tier, complaint,
    loyal) of the completed sales, in position order (``loyal``: bought from the
    incumbent)."""
    first = _first_slots(truth[0])
    picks = _pick_arrays(first[-1])
    work = _scratch(first[-1], first.size - 1, tb, ex, price_sens, params)
    picked = _pick_all(
        first, truth, complaints, network, rk, step_addr, tb, ex, params, picks, work
    )
    return _sell(first, picked, picks, truth, complaints, tb, params, now, served, chain)


@parallel_kernel
def _pick_all(
    first: np.ndarray,  # (chunks + 1,) each chunk's first slot
    truth: tuple,
    complaints: tuple,
    network: tuple,
    rk: np.ndarray,
    step_addr: int,
    tb: ChoiceTables,
    ex: Exposure,
    params: ChoiceParams,
    picks: Picks,  # out: each chunk's picks from its first slot on
    work: Scratch,
) -> np.ndarray:
    """Every active need picks, on the state before any sale of this step: the chunks
    in parallel, each in three stages (``_talk``, ``_gather``, ``_choose``). Returns
    each chunk's number of picks."""
    n = truth[0].shape[0]
    n_chunks = first.size - 1
    picked = np.empty(n_chunks, np.int64)
    for k in prange(n_chunks):
        # the chunk's customers lo..hi-1, its active needs, its first slot
        lo, hi, na, at = k * CHUNK, min(k * CHUNK + CHUNK, n), first[k + 1] - first[k], first[k]
        _talk(lo, hi, na, at, truth, complaints, network, rk, step_addr, work)
        _gather(na, at, truth, complaints, rk, step_addr, ex, work)
        picked[k] = _choose(k, na, at, rk, step_addr, tb, ex, params, picks, work)
    return picked


@kernel
def _first_slots(need: np.ndarray) -> np.ndarray:
    """(chunks + 1,) the active needs before each chunk of customers, and in all (a
    quick serial count, so that the chunks' picks go to slots of their own)."""
    n, C = need.shape
    n_chunks = chunks(n)
    nf = need.reshape(-1)
    first = np.empty(n_chunks + 1, np.int64)
    first[0] = 0
    for k in range(n_chunks):
        first[k + 1] = first[k] + _count_active(nf, k * CHUNK * C, min(k * CHUNK + CHUNK, n) * C)
    return first


@kernel
def _pick_arrays(na: int) -> Picks:
    """The pick arrays of a step with ``na`` active needs."""
    return Picks(
        np.empty(na, dtype=np.int64),
        np.empty(na, dtype=np.int64),
        np.empty(na, dtype=np.int64),
        np.empty(na, dtype=np.bool_),
        np.empty(na, dtype=np.float64),
    )


@kernel
def _scratch(
    na: int,
    n_chunks: int,
    tb: ChoiceTables,
    ex: Exposure,
    price_sens: np.ndarray,
    params: ChoiceParams,
) -> Scratch:
    """The scratch of a step with ``na`` active needs, allocated once, not per chunk:
    each chunk works in the slots of its own active needs and its own row."""
    F = tb.offers.shape[0]
    return Scratch(
        act=np.empty(na, np.int64),
        who=np.empty(na, np.int64),
        zero=np.zeros(na, np.int64),
        draws=np.empty(4 * na, np.float64),
        near=np.empty(4 * na, np.float64),
        nbr=np.empty(na, np.int64),
        nb_sup=np.empty(na, np.int8),
        nb_bad=np.empty(na, np.int8),
        desired=np.empty(na, np.int8),
        incumbent=np.empty(na, np.int8),
        segment=np.empty(na, np.int8),
        shown=np.empty(F * na, np.int8),
        util=np.empty((n_chunks, F + 1), np.float64),
        what=np.empty((n_chunks, 2 * F), np.int64),
        exposed=np.empty((n_chunks, F), np.bool_),
        base=_base_utility(tb, price_sens, params),
        heard=_heard_bound(ex.table, params.q),
    )


@kernel
def _sell(
    first: np.ndarray,  # (chunks + 1,) each chunk's first slot
    picked: np.ndarray,  # (chunks,) each chunk's picks
    picks: Picks,
    truth: tuple,
    complaints: tuple,
    tb: ChoiceTables,
    params: ChoiceParams,
    now: int,
    served: np.ndarray,
    chain: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The picks through the sale links, and the sales booked in the customers' state
    (``choice_kernel``'s arguments and result)."""
    need, tier, sup, held, age, sat = truth
    complaint, complaint_t, _, _ = complaints
    quality, link_rate, link_cap = tb.quality, tb.link_rate, tb.link_cap
    misfit, complaint_keep = params.misfit, params.complaint_keep
    C = need.shape[1]
    F = tb.offers.shape[0]
    pos, pick, pick_tier, pick_loyal, pick_u = picks
    # the chunks' picks together, in chunk order (a forward copy: never ahead of the
    # slots read), and the orders per firm
    orders = np.zeros(F, dtype=np.int64)
    n_pick = 0
    for k in range(picked.size):
        for r in range(first[k], first[k] + picked[k]):
            pos[n_pick] = pos[r]
            pick[n_pick] = pick[r]
            pick_tier[n_pick] = pick_tier[r]
            pick_loyal[n_pick] = pick_loyal[r]
            pick_u[n_pick] = pick_u[r]
            orders[pick[r]] += 1
            n_pick += 1
    # 2) the sale links, then the after-sale links (one uniform through all five), at
    # defect rates that rise where the step's orders exceed a link's capacity
    sale_hi = np.empty((F, 3), dtype=np.float64)
    after_hi = np.empty((F, 2), dtype=np.float64)
    for f in range(F):
        load = np.float64(orders[f])
        lo = 0.0
        for k in range(3):
            d = link_rate[f, k]
            if k == 0:
                d = overload_rate(d, load, link_cap[f, 0])
            lo = band_edge(lo, d)
            sale_hi[f, k] = lo
        lo = 0.0
        for k in range(2):
            d = overload_rate(link_rate[f, 3 + k], load, link_cap[f, 1 + k])
            lo = band_edge(lo, d)
            after_hi[f, k] = lo
    out_pos = np.empty(n_pick, dtype=np.int64)
    out_firm = np.empty(n_pick, dtype=np.int64)
    out_tier = np.empty(n_pick, dtype=np.int64)
    out_comp = np.empty(n_pick, dtype=np.bool_)
    out_loyal = np.empty(n_pick, dtype=np.bool_)
    n_sold = 0
    for r in range(n_pick):
        j = pos[r]
        f = pick[r]
        u = pick_u[r]
        lost = False
        for k in range(3):
            chain[f, 0, k] += 1
            if u < sale_hi[f, k]:
                chain[f, 1, k] += 1
                lost = True
                break
        if lost:
            continue
        b = sale_hi[f, 2]
        v = (u - b) / max(1.0 - b, 1e-12)
        comp = False
        for k in range(2):
            chain[f, 0, 3 + k] += 1
            if v < after_hi[f, k]:
                chain[f, 1, 3 + k] += 1
                comp = True
                break
        out_pos[n_sold] = j
        out_firm[n_sold] = f
        out_tier[n_sold] = pick_tier[r]
        out_comp[n_sold] = comp
        out_loyal[n_sold] = pick_loyal[r]
        n_sold += 1
    for r in range(n_sold):
        j = out_pos[r]
        i = j // C
        c = j - i * C
        f = out_firm[r]
        t = out_tier[r]
        need[i, c] = SERVED
        sup[i, c] = f
        served[f] += 1
        held[i, c] = t
        age[i, c] = 0
        s32 = satisfaction(quality[f, c, t], t, tier[i, c], misfit)
        if out_comp[r]:
            s32 = np.float32(s32 * complaint_keep)
            complaint[i, c] = f
            complaint_t[i, c] = now
        sat[i, c] = s32
    return (
        out_pos[:n_sold],
        out_firm[:n_sold],
        out_tier[:n_sold],
        out_comp[:n_sold],
        out_loyal[:n_sold],
    )


@kernel
def _base_utility(tb: ChoiceTables, price_sens: np.ndarray, params: ChoiceParams) -> np.ndarray:
    """(S, F, C, T, T) the utility of firm f's tier t in category c to a customer of
    segment s who desires tier d, before loyalty and word of mouth: the same operations
    in the same order as the pick's, once a step instead of once an option."""
    quality, price = tb.quality, tb.price
    fit, w_quality = params.fit, params.w_quality
    F, C, T = quality.shape
    S = price_sens.size
    out = np.empty((S, F, C, T, T), np.float64)
    for s in range(S):
        ps = price_sens[s]
        for f in range(F):
            for c in range(C):
                for t in range(T):
                    for d in range(T):
                        v = -fit * abs(np.float64(t) - np.float64(d)) + w_quality * quality[f, c, t]
                        out[s, f, c, t, d] = v - ps * price[f, c, t]
    return out


@kernel
def _heard_bound(table: np.ndarray, q: float) -> np.ndarray:
    """(F, 3) word of mouth's bound on a need's uniform, by firm and contact kind."""
    out = np.empty(table.shape, np.float64)
    for f in range(table.shape[0]):
        for kind in range(table.shape[1]):
            out[f, kind] = q / max(1.0 - np.float64(table[f, kind]), 1e-12)
    return out
