"""The choice's compiled kernels (docs/model.md §7.9), called by
``sim.choice.choice_step``: the active needs found from the bits of the need states
(``_count_active``, ``_list_active``), each active need's exposure in the step's first
week (``first_week``), the utility before loyalty and word of mouth tabled per step
(``_base_utility``), and the pick of each chunk's active needs (``_pick_all``: the
chunks in parallel, each in three stages, ``_talk``, ``_gather`` and ``_choose``), then
the sale links and the sales booked (``_sell``); ``choice_kernel`` calls them in turn.
``ChoiceTables``, ``ChoiceParams``, ``Scratch`` and ``Picks`` are the records the
kernels read and fill.
"""

from __future__ import annotations

import math
import sys
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim.jit import CHUNK, chunks, kernel, parallel_kernel
from sim.links import band_edge, overload_rate
from sim.rng import CHOICE, DECISION_WEEK, NEIGHBOUR, blocks_into, uniform
from sim.state import ACTIVE, SERVED, satisfaction
from sim.workspace import Exposure


class ChoiceTables(NamedTuple):
    """The firms' portfolios and sale links as the choice reads them, stacked by firm."""

    offers: np.ndarray  # (F, C, T) int64 each firm's closest tier per desired tier, -1 none
    quality: np.ndarray  # (F, C, T) float64 product quality per cell
    price: np.ndarray  # (F, C, T) float64 product price per cell
    link_rate: np.ndarray  # (F, 5) float64 defect rates of the sale and after-sale links
    link_cap: np.ndarray  # (F, 3) float64 orders per step fulfilment, delivery, use handle (0: all)


class ChoiceParams(NamedTuple):
    """The choice's scalar parameters, as its kernels read them (one record, so that a
    new parameter is one line here and its use)."""

    q: float  # word of mouth's chance over the step
    q_week: float  # word of mouth's chance per week
    weeks: float  # weeks per step
    fit: float  # utility lost per tier of misfit
    w_quality: float  # utility per unit of quality
    loyalty: float  # utility of the incumbent
    penalty: float  # utility lost to a neighbour's unresolved complaint
    outside: float  # utility of buying nothing
    misfit: float  # satisfaction lost per tier of misfit
    complaint_keep: float  # share of satisfaction kept on a complaint


class Scratch(NamedTuple):
    """The pick pass's work arrays, allocated once a step: a chunk uses the slots of
    its own active needs (from its first slot on) and its own row."""

    act: np.ndarray  # (na,) int64 the active needs' flat positions, then their category
    who: np.ndarray  # (na,) int64 their customers (first once each, then one a need)
    zero: np.ndarray  # (na,) int64 zeros: the neighbour's draw is block 0
    draws: np.ndarray  # (4 na,) float64 each need's choice block
    near: np.ndarray  # (4 na,) float64 each customer's neighbour block
    nbr: np.ndarray  # (na,) int64 each customer's slot in the network, then its neighbour
    nb_sup: np.ndarray  # (na,) int8 the firm serving the neighbour's cell, then the
    # firm heard of by word of mouth, -1 none
    nb_bad: np.ndarray  # (na,) int8 the firm of the neighbour's unresolved complaint, -1
    desired: np.ndarray  # (na,) int8 each need's desired tier
    incumbent: np.ndarray  # (na,) int8 its supplier
    segment: np.ndarray  # (na,) int8 its customer's segment
    shown: np.ndarray  # (F na,) int8 the tier each firm's offer shows it, -1 none
    util: np.ndarray  # (chunks, F + 1) float64 the utilities, then cumulative weights
    what: np.ndarray  # (chunks, 2F) int64 the tier each firm shows; its week
    exposed: np.ndarray  # (chunks, F) bool
    base: np.ndarray  # (S, F, C, T, T) float64 ``_base_utility``
    heard: np.ndarray  # (F, 3) float64 word of mouth's bound on a need's uniform, by the
    # firm and its contact kind: q / (1 - the contact probability)


class Picks(NamedTuple):
    """The picks of a step's active needs, each chunk's from its first slot on."""

    pos: np.ndarray  # (na,) int64 flat position
    firm: np.ndarray  # (na,) int64 firm chosen
    tier: np.ndarray  # (na,) int64 tier chosen
    loyal: np.ndarray  # (na,) bool from the incumbent
    u: np.ndarray  # (na,) float64 the uniform of the sale links


#: the links of a sale and after it, in the order of ``ChoiceTables.link_rate``


#: eight ACTIVE need states as one word, and the low seven bits of each byte
_ACTIVE_8 = np.uint64(0x0101010101010101 * ACTIVE)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)


@njit(inline="always")
def _active_bytes(word):  # type: ignore[no-untyped-def]
    """0x80 in each byte of ``word`` (eight need states) that is ACTIVE, 0 in the others:
    the zero bytes of ``word ^ _ACTIVE_8``, found without a carry between bytes."""
    x = word ^ _ACTIVE_8
    return ~(((x & _LOW7) + _LOW7) | x | _LOW7)


@njit(inline="always")
def _count_active(nf, start, end):  # type: ignore[no-untyped-def]
    """The active needs among flat positions start..end-1 (``start`` a multiple of 8),
    eight a word."""
    whole = start + (end - start) // 8 * 8
    words = nf[start:whole].view(np.uint64)
    na = 0
    for w in range(words.size):
        s = _active_bytes(words[w]) >> np.uint64(7)  # a byte's bit at its bottom
        s += s >> np.uint64(8)  # the bytes' bits added into the lowest byte
        s += s >> np.uint64(16)
        s += s >> np.uint64(32)
        na += np.int64(s & np.uint64(0xFF))
    for j in range(whole, end):
        na += nf[j] == ACTIVE
    return na


#: the byte k (0..7) of a word's lowest 0x80 bit, by the bit's residue: the bit of
#: byte k is 2^(8k+7), and 2^(8k) mod 37 differs for each k (a remainder by a
#: constant, and no product that overflows, which plain Python would warn of). Byte k
#: of a word is the need at position 8w + k on a little-endian machine only (on a
#: big-endian one the bytes are visited one by one)
_BYTE_OF = np.full(37, -1, dtype=np.int64)
_BYTE_OF[[pow(2, 8 * k, 37) for k in range(8)]] = np.arange(8)
_LITTLE_ENDIAN = sys.byteorder == "little"


@njit(inline="always")
def _list_active(nf, start, end, act):  # type: ignore[no-untyped-def]
    """The flat positions of the active needs among start..end-1 (``start`` a
    multiple of 8) into ``act``, in order; returns their number. Eight need states a
    word: a word with none is skipped (most are), and in the others only the active
    bytes are visited, lowest first (the lowest set bit, then that bit cleared)."""
    whole = start + (end - start) // 8 * 8
    words = nf[start:whole].view(np.uint64)
    r = 0
    for w in range(words.size):
        m = _active_bytes(words[w])
        at = start + 8 * w
        if not _LITTLE_ENDIAN:
            for j in range(at, at + 8 if m != np.uint64(0) else at):
                if nf[j] == ACTIVE:
                    act[r] = j
                    r += 1
            continue
        while m != np.uint64(0):
            low = m & (~m + np.uint64(1))
            act[r] = at + _BYTE_OF[np.int64((low >> np.uint64(7)) % np.uint64(37))]
            r += 1
            m ^= low
    for j in range(whole, end):
        if nf[j] == ACTIVE:
            act[r] = j
            r += 1
    return r


@njit(inline="always")
def first_week(exposed, week, incumbent, wom, kind, weekly, q_week, rk, step_addr, i, c, weeks):  # type: ignore[no-untyped-def]
    """A step longer than a week: the customer decides in the first week in which it
    meets a firm, among the firms it meets that week, as it would week by week. It
    meets its incumbent every week. A firm that reaches it by contact (chance
    ``weekly[f, kind[f]]`` a week) or by word of mouth (``q_week``) does so first in
    week w of the step with the chance that w is the first of the step's weeks it
    happens in (a geometric law cut at the step's end). Keeps ``exposed`` only for
    the firms of the first week (``week``: (F,) scratch)."""
    F = exposed.size
    last = math.ceil(weeks) - 1
    first = last
    for f in range(F):
        week[f] = 0
        if exposed[f] and incumbent != f:
            p = q_week if wom == f else weekly[f, kind[f]]
            u = uniform(rk, step_addr, i, DECISION_WEEK, c * F + f)
            if p < 1.0:
                # inverse of P(first <= t) = (1 - (1 - p)^t) / (1 - (1 - p)^weeks)
                lq = math.log1p(-p) if p > 0.0 else -1e-300
                t = math.log1p(u * math.expm1(weeks * lq)) / lq
                week[f] = min(np.int64(t), last)
        if exposed[f]:
            first = min(first, week[f])
    for f in range(F):
        exposed[f] = exposed[f] and week[f] == first


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


@njit(inline="always")
def _talk(lo, hi, na, at, truth, complaints, network, rk, step_addr, work):  # type: ignore[no-untyped-def]
    """The first stage of a chunk's picks: its active needs listed (customers lo..hi-1,
    into the slots from ``at``), the neighbour each of their customers talks to, and
    what that neighbour's cell holds (``work.nb_sup``, ``work.nb_bad``)."""
    need = truth[0]
    complaint, _, _, unresolved = complaints
    indptr, indices, nb_need, nb_supplier = network
    n, C = need.shape
    mean_field = indptr.size == 0
    end = at + na
    act, who = work.act[at:end], work.who[at:end]
    nb_sup, nb_bad = work.nb_sup[at:end], work.nb_bad[at:end]
    # the active needs' positions, in order
    _list_active(need.reshape(-1), lo * C, hi * C, act)
    # the customers with an active need, once each, and their neighbour's uniform, two
    # Philox counters a call
    m = 0
    last = -1
    for r in range(na):
        i = act[r] // C
        who[m] = i
        m += i != last
        last = i
    near = work.near[4 * at : 4 * end]
    blocks_into(rk, step_addr, NEIGHBOUR, who[:m], work.zero[at : at + m], near)
    # the neighbour each of them talks to: first the slot of its row in the network
    # (a stream through ``indptr``), then the neighbour in that slot, in a loop of
    # nothing but independent loads, whose cache misses (a slot a customer, tens of
    # bytes apart) overlap instead of queueing one by one behind the loop's branches
    nb = work.nbr[at : at + m]
    for q in range(m):
        i = who[q]
        u = near[4 * q]
        if mean_field:
            nb[q] = min(np.int64(u * n), n - 1)
        else:
            start = indptr[i]
            deg = indptr[i + 1] - start
            nb[q] = start + min(np.int64(u * deg), deg - 1) if deg > 0 else -1
    if not mean_field:
        top = indices.size - 1
        for q in range(m):
            kk = nb[q]
            nb[q] = np.int64(indices[min(max(kk, 0), top)]) if kk >= 0 else -1
    # then what the neighbour's cell holds, need by need
    nbr = -1
    m = -1
    last = -1
    for r in range(na):
        j = act[r]
        i = j // C
        c = j - i * C
        if i != last:  # one neighbour per customer and step
            last = i
            m += 1
            nbr = nb[m]
        bb = max(nbr, 0)
        x = nb_need[bb, c]
        y = nb_supplier[bb, c]
        z = unresolved[bb, c]
        w = complaint[bb, c]
        ok = nbr >= 0
        nb_sup[r] = y if (ok and x == SERVED) else -1
        nb_bad[r] = w if (ok and z) else -1


@njit(inline="always")
def _gather(na, at, truth, complaints, rk, step_addr, ex, work):  # type: ignore[no-untyped-def]
    """The second stage: each active need's choice block, and what the picks read of
    it, gathered in a loop of independent loads, whose cache misses overlap (in the
    pick loop its branches would queue them); whether word of mouth is heard."""
    _, tier, sup, _, _, _ = truth
    segment = complaints[2]
    contacted, offered, kinds = ex.contacted, ex.offered, ex.kind
    C = tier.shape[1]
    F = offered.shape[0]
    end = at + na
    act, who, nb_sup = work.act[at:end], work.who[at:end], work.nb_sup[at:end]
    # each active need's choice block, two Philox counters a call (the customer, and
    # the category as the block)
    for r in range(na):
        i = act[r] // C
        who[r] = i
        act[r] = act[r] - i * C  # the category, for the moment
    draws = work.draws[4 * at : 4 * end]
    blocks_into(rk, step_addr, CHOICE, who, act, draws)
    desired_, incumbent_, segment_ = (
        work.desired[at:end],
        work.incumbent[at:end],
        work.segment[at:end],
    )
    shown = work.shown[F * at : F * end]
    bound = work.heard
    for r in range(na):
        i = who[r]
        c = act[r]
        desired_[r] = tier[i, c]
        incumbent_[r] = sup[i, c]
        segment_[r] = segment[i]
        for f in range(F):
            shown[r * F + f] = offered[f, i, c]
        # word of mouth: the firm serving the neighbour, if it did not contact this
        # customer, with probability q / (1 - its contact probability)
        ns_ = nb_sup[r]
        b = max(ns_, 0)
        heard = (ns_ >= 0) & (not contacted[b, i]) & (draws[4 * r] < bound[b, kinds[b, i]])
        nb_sup[r] = ns_ if heard else -1


@njit(inline="always")
def _choose(k, na, at, rk, step_addr, tb, ex, params, picks, work):  # type: ignore[no-untyped-def]
    """The last stage: each active need's exposure and logit pick, from slot ``at``
    on. Returns the number of picks."""
    offers = tb.offers
    kinds, weekly = ex.kind, ex.weekly
    q_week, weeks = params.q_week, params.weeks
    loyalty, penalty, outside = params.loyalty, params.penalty, params.outside
    pos, pick, pick_tier, pick_loyal = picks.pos, picks.firm, picks.tier, picks.loyal
    pick_u = picks.u
    C = offers.shape[1]
    F = offers.shape[0]
    end = at + na
    act, who = work.act[at:end], work.who[at:end]
    nb_sup, nb_bad = work.nb_sup[at:end], work.nb_bad[at:end]
    draws = work.draws[4 * at : 4 * end]
    desired_, incumbent_, segment_ = (
        work.desired[at:end],
        work.incumbent[at:end],
        work.segment[at:end],
    )
    shown = work.shown[F * at : F * end]
    base = work.base
    util, exposed = work.util[k], work.exposed[k]
    what = work.what[k, :F]  # the tier each firm puts before the customer
    week = work.what[k, F:]  # the week of a long step a firm reaches the customer
    n_pick = 0
    for r in range(na):
        i = who[r]
        c = act[r]
        j = i * C + c
        desired = desired_[r]
        incumbent = incumbent_[r]
        wom = nb_sup[r]
        nbad = nb_bad[r]
        uc, us = draws[4 * r + 1], draws[4 * r + 2]
        any_e = False
        for f in range(F):
            # a customer who meets its incumbent or hears of a firm asks for what it
            # wants (the firm's closest tier); a contact brings the tier the firm
            # offered on what its records say
            if (incumbent == f or wom == f) and offers[f, c, desired] >= 0:
                what[f] = offers[f, c, desired]
            else:
                what[f] = shown[r * F + f]
            e = what[f] >= 0
            exposed[f] = e
            any_e |= e
        if not any_e:
            continue
        if weeks > 1.0:
            first_week(
                exposed,
                week,
                incumbent,
                wom,
                kinds[:, i],
                weekly,
                q_week,
                rk,
                step_addr,
                i,
                c,
                weeks,
            )
        top = outside
        bs = base[segment_[r]]
        for f in range(F):
            if exposed[f]:
                v = bs[f, c, what[f], desired]
                v = v + loyalty * (1.0 if incumbent == f else 0.0)
                v = v - penalty * (1.0 if nbad == f else 0.0)
                util[f] = v
                top = max(top, v)
        util[F] = outside
        cum = 0.0
        for f in range(F + 1):
            if f == F or exposed[f]:
                x = util[f] - top
                cum += 1.0 if x == 0.0 else math.exp(x)
            util[f] = cum  # cumulative weights, in place (exp(-inf) = 0 adds nothing)
        kf = 0
        for f in range(F + 1):
            kf += uc > util[f] / cum
        kf = min(kf, F)
        if kf < F:
            pos[at + n_pick] = j
            pick[at + n_pick] = kf
            pick_tier[at + n_pick] = what[kf]
            pick_loyal[at + n_pick] = incumbent == kf
            pick_u[at + n_pick] = us
            n_pick += 1
    return n_pick
