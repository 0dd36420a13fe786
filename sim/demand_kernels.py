"""The demand rule's compiled kernels (docs/model.md §7.5), called by
``sim.demand.demand_step``: the sweep's pass over every need (``demand_kernel``), the
event engine's pass over the needs whose candidate step is due (``demand_event_kernel``,
on ``sim.demand.DemandCalendar``), the moves both share (an open need's, a served
need's, the close of a chunk's pass) and the gathering of the chunks' events into the
lists of ``sim.demand.DemandEvents`` (``gather_events``). ``DemandInputs`` is the one
record of what the kernels read besides the customers and their draws.

The loops avoid branching on the need state of each position (unpredictable, and so
the largest cost on a modern CPU): a pass first lists the positions of interest
without branches, then works through the list; every decision is taken on the state
before the rule ran.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim.jit import CHUNK, chunks, kernel, parallel_kernel
from sim.rng import (
    DEMAND_EVENT,
    DEMAND_SERVED,
    DEMAND_STATE,
    blocks_into,
    customer_blocks_into,
    next_candidate,
    pair_at,
)
from sim.state import ACTIVE, LATENT, NONE, SERVED


class DemandInputs(NamedTuple):
    """What ``demand_kernel`` reads besides the customers and their draws: the step's
    probabilities, the market's tables and the firms' portfolios (one record, so that
    a new parameter is one line here and its use)."""

    thr: np.ndarray  # (C * 4,) float64: emergence, activation, expiry by state; 0 served
    quality: np.ndarray  # (F, C, T) float64 product quality per cell
    p_fail: np.ndarray  # (C,) float64 failure probability per step
    fail_offset: float  # failure hazard scales with (fail_offset - quality)
    lifetime: np.ndarray  # (C,) int64 steps to wear-out
    p_churn: float  # churn probability per step
    p_churn_hot: float  # ... with an unresolved complaint about the supplier
    seg_up: np.ndarray  # (S,) float64 upmarket hazard per step
    age_gain: float  # upmarket hazard gained per step of age
    sat_gain: float  # upmarket hazard gained per unit of satisfaction
    tier_count: np.ndarray  # (C,) int64
    comp_target: np.ndarray  # (C,) int64 the complement category, -1 none
    seg_comp: np.ndarray  # (S,) float64 complement propensity
    has: np.ndarray  # (F, C, T) bool cells on sale


EXPIRING = 4  # an active need lapsing this step, until the end of the step's pass


# demand event types
E_ACTIVATED, E_UP, E_UNSERVED, E_FAILED, E_WORN, E_CHURNED, E_EXPIRED = 0, 1, 2, 3, 4, 6, 7
E_EMERGED = 5  # a need emerged (none -> latent)
E_FAILED_COMPLEMENT = 8  # a failure that opened the complement need too


#: the list of ``DemandEvents`` (emerged, activated, upmarket, upmarket unserved,
#: failed, worn, complement, churned, expired) each event type goes to, by type, and
#: the second list it goes to as well (-1: none): an unserved upmarket move is a move,
#: a failure that opened a complement is a failure
_LIST_OF = np.array([1, 2, 3, 4, 5, 0, 7, 8, 4], dtype=np.int64)
_ALSO_IN = np.array([-1, -1, 2, -1, -1, -1, -1, -1, 6], dtype=np.int64)


@kernel
def _event_lists(ev_pos: np.ndarray, ev_type: np.ndarray, m: int):  # type: ignore[no-untyped-def]
    """The first ``m`` recorded events split into the nine lists of ``DemandEvents``,
    each in the order recorded: one pass to count them, one to place them."""
    counts = np.zeros(9, np.int64)
    for r in range(m):
        t = ev_type[r]
        counts[_LIST_OF[t]] += 1
        if _ALSO_IN[t] >= 0:
            counts[_ALSO_IN[t]] += 1
    at = np.zeros(10, np.int64)  # each list's first slot in ``out``
    for k in range(9):
        at[k + 1] = at[k] + counts[k]
    out = np.empty(at[9], np.int64)
    nxt = at[:9].copy()
    for r in range(m):
        t = ev_type[r]
        k = _LIST_OF[t]
        out[nxt[k]] = ev_pos[r]
        nxt[k] += 1
        k = _ALSO_IN[t]
        if k >= 0:
            out[nxt[k]] = ev_pos[r]
            nxt[k] += 1
    return (
        out[at[0] : at[1]], out[at[1] : at[2]], out[at[2] : at[3]],
        out[at[3] : at[4]], out[at[4] : at[5]], out[at[5] : at[6]],
        out[at[6] : at[7]], out[at[7] : at[8]], out[at[8] : at[9]],
    )  # fmt: skip


@njit(inline="always")
def _open_moves(s, j, nf, sup, C, ev_pos, ev_type, m):  # type: ignore[no-untyped-def]
    """An open need at flat position ``j`` in state ``s`` moves on (none to latent,
    latent to active, active lapses), recorded at slot ``m``."""
    if s == NONE:
        nf[j] = LATENT
        ev_type[m] = E_EMERGED
    elif s == LATENT:
        nf[j] = ACTIVE
        ev_type[m] = E_ACTIVATED
    else:
        nf[j] = EXPIRING  # NONE at the end: failures must see it was active
        i = j // C
        sup[i, j - i * C] = -1
        ev_type[m] = E_EXPIRED
    ev_pos[m] = j


@njit(inline="always")
def _served_moves(e, i, c, need, held, age, ev_pos, ev_type, m):  # type: ignore[no-untyped-def]
    """A served need's event ``e`` recorded at slot ``m``: but for a move upmarket the
    product is gone or unfit, and the need active again."""
    ev_pos[m] = i * need.shape[1] + c
    ev_type[m] = e
    if e != E_UP:
        need[i, c] = ACTIVE
        held[i, c] = -1
        age[i, c] = 0


@njit(inline="always")
def _close_chunk(nf, C, comp_target, ev_pos, ev_type, start, m):  # type: ignore[no-untyped-def]
    """The end of a chunk's rule: lapsed needs become none, then the complement needs
    the failures opened become latent (events ``start``..``m - 1``)."""
    for k in range(start, m):
        if ev_type[k] == E_EXPIRED:
            nf[ev_pos[k]] = NONE
    for k in range(start, m):  # the complement needs open last
        if ev_type[k] == E_FAILED_COMPLEMENT:
            i = ev_pos[k] // C
            nf[i * C + comp_target[ev_pos[k] - i * C]] = LATENT


@parallel_kernel
def demand_kernel(
    truth: tuple,  # the customers' (need, tier, supplier, held, age, satisfaction), in place
    segment: np.ndarray,  # (N,) int8
    unresolved: np.ndarray,  # (N, C) bool
    rk: np.ndarray,  # the demand stream's Philox round keys
    now: int,  # this step: with the customer and the purpose, each draw's address
    inputs: DemandInputs,
    ev_pos: np.ndarray,  # (N * C,) int32 out: at most one event per position
    ev_type: np.ndarray,  # (N * C,) int8 out
) -> np.ndarray:
    """The rule for every customer, in chunks run in parallel (``_demand_chunk``).
    Returns the number of events of each chunk, recorded in ``ev_pos`` and ``ev_type``
    from the chunk's first position on; ``gather_events`` puts them together and keeps
    the counts the chunks share.

    The parallel loop is alone in this kernel: numba's parallel compilation takes
    seconds more for every line beside it (the edit loop)."""
    n = truth[0].shape[0]
    found = np.empty(chunks(n), np.int64)
    for k in prange(found.size):
        lo = k * CHUNK
        found[k] = _demand_chunk(
            lo, min(lo + CHUNK, n), truth, segment, unresolved, rk, now, inputs, ev_pos, ev_type
        )
    return found


@kernel
def gather_events(
    found: np.ndarray,  # (chunks,) int64 events recorded by each chunk
    tier: np.ndarray,  # (N, C) int8 desired tiers, after the rule
    sup: np.ndarray,  # (N, C) int8 suppliers, after the rule (a churned need's kept)
    ev_pos: np.ndarray,  # the chunks' events, from each chunk's first position on
    ev_type: np.ndarray,
    comp_target: np.ndarray,  # (C,) int64
    cells: np.ndarray,  # (C, T) int64 active or served needs per cell, kept up to date
    served: np.ndarray,  # (F,) int64 served needs per supplier, kept up to date
):  # type: ignore[no-untyped-def]
    """The chunks' events gathered in chunk order, and the counts they change: cells by
    desired tier, served needs by supplier. Returns the event lists (flat positions, in
    position order): emerged, activated, upmarket, upmarket unserved, failed, worn,
    complement, churned, expired."""
    C = tier.shape[1]
    m = 0
    for k in range(found.size):  # the chunks' events together, in chunk order
        start = k * CHUNK * C
        for r in range(start, start + found[k]):
            ev_pos[m] = ev_pos[r]
            ev_type[m] = ev_type[r]
            m += 1
    # the tier and supplier of every event's need loaded first, in a loop without
    # branches, so that their cache misses overlap (a position has at most one event,
    # so no event changes what a later one loads); then the counts, event by event
    t_of = np.empty(m, np.int8)
    f_of = np.empty(m, np.int8)
    tf, sf = tier.reshape(-1), sup.reshape(-1)
    for q in range(m):
        t_of[q] = tf[ev_pos[q]]
        f_of[q] = sf[ev_pos[q]]
    for q in range(m):
        j = ev_pos[q]
        e = ev_type[q]
        c = j % C
        t = t_of[q]
        if e == E_ACTIVATED:
            cells[c, t] += 1
        elif e == E_EXPIRED:
            cells[c, t] -= 1
        elif e != E_EMERGED:  # a served need's event
            if e in (E_UP, E_UNSERVED):
                cells[c, t - 1] -= 1
                cells[c, t] += 1
            if e != E_UP:  # the need is active again
                served[f_of[q]] -= 1
            if e == E_CHURNED:
                sf[j] = -1
    lists = _event_lists(ev_pos, ev_type, m)
    comp = lists[6]
    for k in range(comp.size):  # the complement needs the failures opened
        i = comp[k] // C
        comp[k] = i * C + comp_target[comp[k] - i * C]
    return lists


@kernel
def _demand_chunk(
    lo: int,  # the chunk's customers: lo..hi-1
    hi: int,
    truth: tuple,  # (need, tier, supplier, held, age, satisfaction), in place
    segment: np.ndarray,
    unresolved: np.ndarray,
    rk: np.ndarray,
    now: int,
    inputs: DemandInputs,
    ev_pos: np.ndarray,  # out: the chunk's events from slot lo * C on
    ev_type: np.ndarray,
) -> int:
    """The rule for one chunk of customers (the arguments are ``demand_kernel``'s).
    Returns the number of events recorded. It writes the chunk's customers' rows only;
    the counts shared by all chunks are left to the caller, and a churned need keeps
    its supplier until the caller has counted it."""
    need, tier, sup, held, age, sat = truth
    thr, quality, p_fail_c, has = inputs.thr, inputs.quality, inputs.p_fail, inputs.has
    fail_offset, lifetime, tier_count = inputs.fail_offset, inputs.lifetime, inputs.tier_count
    p_churn, p_churn_hot = inputs.p_churn, inputs.p_churn_hot
    seg_up, age_gain, sat_gain = inputs.seg_up, inputs.age_gain, inputs.sat_gain
    comp_target, seg_comp = inputs.comp_target, inputs.seg_comp
    C = need.shape[1]
    nf = need.reshape(-1)
    start = lo * C
    m = start  # the next event slot
    # pass 1: the state draw of every position (four categories a Philox call); rare
    # transitions of latent, active and unserved needs; the served needs listed for
    # pass 2
    srv_i = np.empty((hi - lo) * C, np.int32)
    srv_c = np.empty((hi - lo) * C, np.int8)
    srv_u = np.empty((hi - lo) * C, np.float64)
    nb = (C + 3) >> 2  # state blocks a customer: all drawn first, two a Philox call
    ust = np.empty(4 * nb * (hi - lo), np.float64)
    customer_blocks_into(rk, now, DEMAND_STATE, np.arange(lo, hi), nb, ust)
    j = start
    ns = 0
    for i in range(lo, hi):
        for c in range(C):
            x = ust[4 * nb * (i - lo) + c]
            s = nf[j]
            srv_i[ns] = i
            srv_c[ns] = c
            srv_u[ns] = x
            ns += s == SERVED
            if x < thr[c * 4 + s]:  # rare (never for a served need)
                _open_moves(s, j, nf, sup, C, ev_pos, ev_type, m)
                m += 1
            j += 1
    # pass 2: served needs: failure, wear-out, churn, upmarket (in that precedence).
    # The pair of category c is half of block c // 2: two served categories of a
    # customer share one block, the blocks of the pass drawn first, two a Philox call
    key_i = np.empty(ns, np.int64)
    key_b = np.empty(ns, np.int64)
    key_of = np.empty(ns, np.int32)
    nk = 0
    for r in range(ns):
        b = np.int64(srv_c[r]) >> 1
        fresh = nk == 0 or srv_i[r] != key_i[nk - 1] or b != key_b[nk - 1]
        key_i[nk] = srv_i[r]
        key_b[nk] = b
        nk += fresh
        key_of[r] = nk - 1
    pairs = np.empty(4 * nk, np.float64)
    blocks_into(rk, now, DEMAND_SERVED, key_i[:nk], key_b[:nk], pairs)
    for r in range(ns):
        i = np.int64(srv_i[r])  # type: ignore[assignment]
        c = np.int64(srv_c[r])  # type: ignore[assignment]
        j = i * C + c
        x = srv_u[r]
        a = age[i, c]
        if a < 32767:
            a += 1
            age[i, c] = a
        f = sup[i, c]
        pf = (fail_offset - quality[f, c, held[i, c]]) * p_fail_c[c]
        v64 = np.float64(x)
        u2, u_churn = pair_at(pairs, key_of[r], c)
        e = 0
        if v64 < pf:  # failure
            e = E_FAILED
            tc = comp_target[c]
            # the complement cell must have had no need before the step: cells
            # after this one are untouched yet, earlier ones cannot have become
            # NONE (complements never emerge; a lapsing one is marked EXPIRING)
            if tc >= 0 and need[i, tc] == NONE and v64 / max(pf, 1e-12) < seg_comp[segment[i]]:
                e = E_FAILED_COMPLEMENT
        elif a >= lifetime[c]:
            e = E_WORN
        elif u_churn < (p_churn_hot if unresolved[i, c] else p_churn):
            e = E_CHURNED
        elif tier[i, c] < tier_count[c] - 1:
            years = np.float64(a) * age_gain + 1.0
            sg = max((np.float64(sat[i, c]) - 0.5) * sat_gain + 1.0, 0.0)
            t = -seg_up[segment[i]] * years * sg
            # 1 - e^t < -t and expm1 is faithful, so its rounded value is at most -t:
            # a uniform at or above -t cannot fall below it
            if u2 < -t and u2 < -math.expm1(t):
                nt = tier[i, c] + 1
                tier[i, c] = nt
                e = E_UP if has[f, c, nt] else E_UNSERVED
        if e != 0:  # rare
            _served_moves(e, i, c, need, held, age, ev_pos, ev_type, m)
            m += 1
    _close_chunk(nf, C, comp_target, ev_pos, ev_type, start, m)
    return m - start


# ---------------------------------------------------------------------- event engine
@parallel_kernel
def demand_event_kernel(
    truth: tuple,  # the customers' (need, tier, supplier, held, age, satisfaction), in place
    segment: np.ndarray,  # (N,) int8
    unresolved: np.ndarray,  # (N, C) bool
    rk: np.ndarray,  # the demand stream's Philox round keys
    step_addr: int,  # this step's address in the streams
    now: int,  # this step
    inputs: DemandInputs,
    calendar: tuple,  # ``DemandCalendar``'s (next, bound, log_miss, life); next changed in place
    ev_pos: np.ndarray,  # (N * C,) int32 out: at most one event per position
    ev_type: np.ndarray,  # (N * C,) int8 out
) -> np.ndarray:
    """``demand_kernel`` on the event engine: the rule for the needs with something due
    (a candidate step or a wear-out), chunks in parallel (``_event_chunk``), the events
    recorded as ``demand_kernel`` records them."""
    n = truth[0].shape[0]
    found = np.empty(chunks(n), np.int64)
    for k in prange(found.size):
        lo = k * CHUNK
        found[k] = _event_chunk(
            lo, min(lo + CHUNK, n), truth, segment, unresolved, rk, step_addr, now, inputs,
            calendar, ev_pos, ev_type,
        )  # fmt: skip
    return found


@kernel
def _event_chunk(
    lo: int,  # the chunk's customers: lo..hi-1
    hi: int,
    truth: tuple,  # (need, tier, supplier, held, age, satisfaction), in place
    segment: np.ndarray,
    unresolved: np.ndarray,
    rk: np.ndarray,
    step_addr: int,
    now: int,
    inputs: DemandInputs,
    calendar: tuple,
    ev_pos: np.ndarray,  # out: the chunk's events from slot lo * C on
    ev_type: np.ndarray,
) -> int:
    """The rule for one chunk of customers on the event engine (the arguments are
    ``demand_event_kernel``'s); returns the number of events recorded, as
    ``_demand_chunk``.

    A sweep that draws nothing ages the served needs and lists the positions due: a
    candidate step, or a served need reaching its lifetime. Each candidate draws its
    block (word 1 places the chain's next candidate). Then, as the sweep's passes and
    in their order: open needs meet their state's hazard (word 0); served needs
    failure (word 0), wear-out, churn (word 2) and an upmarket move (word 3), each
    thinned so that its chance in the step is the sweep's (a wear-out takes the need
    whatever the draws but a failure).
    """
    need, tier, sup, held, age, sat = truth
    nxt, bound, lq, life = calendar
    thr, quality, p_fail_c, has = inputs.thr, inputs.quality, inputs.p_fail, inputs.has
    fail_offset, lifetime, tier_count = inputs.fail_offset, inputs.lifetime, inputs.tier_count
    p_churn, p_churn_hot = inputs.p_churn, inputs.p_churn_hot
    seg_up, age_gain, sat_gain = inputs.seg_up, inputs.age_gain, inputs.sat_gain
    comp_target, seg_comp = inputs.comp_target, inputs.seg_comp
    C = need.shape[1]
    nf = need.reshape(-1)
    af = age.reshape(-1)
    xf = nxt.reshape(-1)
    start = lo * C
    m = start  # the next event slot
    # the sweep: age the served needs, list the positions due, the candidates among them
    for j in range(start, hi * C):  # ages below the lifetime (at most 32767)
        af[j] += np.int16(nf[j] == SERVED)
    # every rule that ends a product sets the need's age to 0, so an age at the
    # lifetime is a served need wearing out now
    w = (hi - lo) * C
    due = np.empty(w, np.int64)
    nd = 0
    now32 = np.int32(now)
    for k in range(w):
        j = start + k
        if (xf[j] == now32) | (af[j] == life[k]):
            due[nd] = j
            nd += 1
    cand = np.empty(nd, np.int64)  # each due position's block in ``u``, -1 none
    key_i = np.empty(nd, np.int64)
    key_b = np.empty(nd, np.int64)
    nc = 0
    for r in range(nd):
        j = due[r]
        i = j // C
        is_cand = xf[j] == now
        key_i[nc] = i
        key_b[nc] = j - i * C
        cand[r] = nc if is_cand else -1
        nc += is_cand
    u = np.empty(4 * nc, np.float64)
    blocks_into(rk, step_addr, DEMAND_EVENT, key_i[:nc], key_b[:nc], u)
    for r in range(nd):  # the chains move on
        q = cand[r]
        if q >= 0:
            c = due[r] % C
            xf[due[r]] = next_candidate(now, u[4 * q + 1], bound[c], lq[c])
    # open needs: emergence, activation, expiry (the sweep's first pass)
    for r in range(nd):
        q = cand[r]
        j = due[r]
        s = nf[j]
        if q < 0 or s == SERVED:
            continue
        i = j // C
        c = j - i * C
        if u[4 * q] * bound[c] < thr[c * 4 + s]:
            _open_moves(s, j, nf, sup, C, ev_pos, ev_type, m)
            m += 1
    # served needs: failure, wear-out, churn, upmarket (the sweep's second pass)
    for r in range(nd):
        j = due[r]
        if nf[j] != SERVED:
            continue
        q = cand[r]
        i = j // C
        c = j - i * C
        a = np.int64(age[i, c])
        f = sup[i, c]
        pf = min(max((fail_offset - quality[f, c, held[i, c]]) * p_fail_c[c], 0.0), 1.0)
        b = bound[c]
        # at a candidate each exit has a word of its own, thinned so that its chance
        # in the step is the sweep's: failure pf, churn (1 - pf) pc, the move
        # (1 - pf)(1 - pc) h; a change of one hazard moves no other exit's draw
        x = u[4 * q] * b if q >= 0 else 2.0  # on [0, bound) at a candidate
        e = 0
        if x < pf:  # failure
            e = E_FAILED
            tc = comp_target[c]
            # the complement cell must have had no need before the step (as in
            # ``_demand_chunk``)
            if tc >= 0 and need[i, tc] == NONE and x / pf < seg_comp[segment[i]]:
                e = E_FAILED_COMPLEMENT
        elif a >= lifetime[c]:
            e = E_WORN
        elif q >= 0:
            pc = p_churn_hot if unresolved[i, c] else p_churn
            churn = (1.0 - pf) * pc
            if u[4 * q + 2] * (b - pf) < churn:
                e = E_CHURNED
            elif tier[i, c] < tier_count[c] - 1:
                years = np.float64(a) * age_gain + 1.0
                sg = max((np.float64(sat[i, c]) - 0.5) * sat_gain + 1.0, 0.0)
                h = -math.expm1(-seg_up[segment[i]] * years * sg)
                if u[4 * q + 3] * (b - pf - churn) < (1.0 - pf) * (1.0 - pc) * h:
                    nt = tier[i, c] + 1
                    tier[i, c] = nt
                    e = E_UP if has[f, c, nt] else E_UNSERVED
        if e != 0:  # rare
            _served_moves(e, i, c, need, held, age, ev_pos, ev_type, m)
            m += 1
    _close_chunk(nf, C, comp_target, ev_pos, ev_type, start, m)
    return m - start
