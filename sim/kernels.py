"""Compiled loops for the three per-customer rules (numba, cached on disk).

Each kernel does in a few passes what the numpy rules in ``sim.demand``,
``sim.platform`` and ``sim.choice`` do in 30–60 passes over the whole population,
and they give the same numbers; those rules stay as the reference
(``DemandModel(..., engine="numpy")``) and the tests compare the two run for run:

- every draw is the same draw: the fixed-shape blocks are numpy's own, generated here
  (``sim.pcg``) only where they are read, and each generator is left where numpy's
  draws would leave it;
- every cast numpy makes is made here: float32 uniforms are compared with float32
  probabilities where numpy compares them in float32 (a Python float against a
  float32 array is a "weak" scalar, NEP 50), in float64 where the other side is a
  float64 array or a numpy float64 scalar; float32 arithmetic where numpy's is;
- every decision is taken on the state before the rule ran, as the numpy rules do
  by computing all their masks first and applying them after.

One thing is not reproduced bit for bit: ``exp``/``expm1`` here are the C library's,
numpy's are its own vectorised ones, and the two differ in the last binary place for
a few per cent of arguments. A decision changes only if a uniform falls between the
two values, a chance of about 10^-16 per comparison.

The loops avoid branching on the need state of each position (unpredictable, and so
the largest cost on a modern CPU): each pass first lists the positions of interest
without branches, then works through the list.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.pcg import _muladd128, _rotr, f32_at, f64_at

NONE, LATENT, ACTIVE, SERVED = 0, 1, 2, 3


# ---------------------------------------------------------------------- demand
EXPIRING = 4  # an active need lapsing this step, until the end of the step's pass


# demand event types
E_ACTIVATED, E_UP, E_UNSERVED, E_FAILED, E_WORN, E_CHURNED, E_EXPIRED = 0, 1, 2, 3, 4, 6, 7
E_FAILED_COMPLEMENT = 8  # a failure that opened the complement need too


@njit(cache=True, nogil=True)
def _events_of(ev_pos: np.ndarray, ev_type: np.ndarray, m: int, want: int) -> np.ndarray:
    """Flat positions of the first ``m`` recorded events of type ``want`` (a failure
    that opened a complement counts as a failure, an unserved upmarket move as a move)."""
    k = 0
    for r in range(m):
        t = ev_type[r]
        k += (
            (t == want)
            | ((want == E_FAILED) & (t == E_FAILED_COMPLEMENT))
            | ((want == E_UP) & (t == E_UNSERVED))
        )
    out = np.empty(k, np.int64)
    k = 0
    for r in range(m):
        t = ev_type[r]
        if (
            (t == want)
            | ((want == E_FAILED) & (t == E_FAILED_COMPLEMENT))
            | ((want == E_UP) & (t == E_UNSERVED))
        ):
            out[k] = ev_pos[r]
            k += 1
    return out


@njit(cache=True, nogil=True)
def demand_kernel(
    truth: tuple,  # the customers' (need, tier, supplier, held, age, satisfaction), in place
    segment: np.ndarray,  # (N,) int8
    unresolved: np.ndarray,  # (N, C) bool
    c1: np.ndarray,
    p1: np.ndarray,  # the first demand block (N * C float32), a cursor
    c2: np.ndarray,
    p2: np.ndarray,  # the second demand block (upmarket)
    jt_d: np.ndarray,  # the demand stream's jump table
    cc: np.ndarray,
    pc_: np.ndarray,  # the churn block (behaviour stream)
    jt_b: np.ndarray,
    thr: np.ndarray,  # (C * 4,) float32: emergence, activation, expiry by state; 0 served
    quality: np.ndarray,  # (F, C, T) float64
    p_fail_c: np.ndarray,  # (C,) float64
    lifetime: np.ndarray,  # (C,) int64
    p_churn: float,
    p_churn_hot: float,
    seg_up: np.ndarray,  # (S,) float64
    age_gain: float,
    sat_gain: np.float32,
    tier_count: np.ndarray,  # (C,) int64
    comp_target: np.ndarray,  # (C,) int64
    seg_comp: np.ndarray,  # (S,) float64
    has: np.ndarray,  # (F, C, T) bool
    srv_i: np.ndarray,  # (N * C,) int32 scratch: the served needs' customers
    srv_c: np.ndarray,  # (N * C,) int8 scratch: ... categories
    srv_u: np.ndarray,  # (N * C,) float32 scratch: ... first uniforms
    ev_pos: np.ndarray,  # (N * C,) int32 scratch: at most one event per position
    ev_type: np.ndarray,  # (N * C,) int8 scratch
    cells: np.ndarray,  # (C, T) int64 active or served needs per cell, kept up to date
    served: np.ndarray,  # (F,) int64 served needs per supplier, kept up to date
):  # type: ignore[no-untyped-def]
    """``sim.demand.demand_step``. Returns the event lists (flat positions, in
    position order): activated, upmarket, upmarket unserved, failed, worn,
    complement, churned, expired."""
    need, tier, sup, held, age, sat = truth
    n, C = need.shape
    nf = need.reshape(-1)
    m = 0  # events recorded
    # one pass: the first uniform of every position, generated in order (two per
    # PCG64 output); rare transitions of latent, active and unserved needs; and for a
    # served need failure, wear-out, churn and upmarket (in that precedence)
    hi = c1[0]
    lo = c1[1]
    off = p1[1]
    a_hi, a_lo, k_hi, k_lo = jt_d[1, 0], jt_d[1, 1], jt_d[1, 2], jt_d[1, 3]
    scale = np.float32(2.0**-24)
    half = np.float32(0.5)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    v = np.uint64(0)
    j = 0
    ns = 0
    for i in range(n):
        for c in range(C):
            q = j - off
            if q < 0:
                word = c1[3]
            elif q & 1 == 0:
                hi, lo = _muladd128(a_hi, a_lo, hi, lo, k_hi, k_lo)
                v = _rotr(hi ^ lo, hi >> np.uint64(58))
                word = v & np.uint64(0xFFFFFFFF)
            else:
                word = v >> np.uint64(32)
            x = np.float32(word >> np.uint64(8)) * scale
            s = nf[j]
            srv_i[ns] = i
            srv_c[ns] = c
            srv_u[ns] = x
            ns += s == SERVED
            if x < thr[c * 4 + s]:  # rare (never for a served need)
                if s == NONE:
                    nf[j] = LATENT
                elif s == LATENT:
                    nf[j] = ACTIVE
                    cells[c, tier[i, c]] += 1
                    ev_pos[m] = j
                    ev_type[m] = E_ACTIVATED
                    m += 1
                else:
                    nf[j] = EXPIRING  # NONE at the end: failures must see it was active
                    cells[c, tier[i, c]] -= 1
                    sup[i, c] = -1
                    ev_pos[m] = j
                    ev_type[m] = E_EXPIRED
                    m += 1
            j += 1
    # pass 2: served needs: failure, wear-out, churn, upmarket (in that precedence)
    for r in range(ns):
        i = np.int64(srv_i[r])
        c = np.int64(srv_c[r])
        j = i * C + c
        x = srv_u[r]
        a = age[i, c]
        if a < 32767:
            a += 1
            age[i, c] = a
        f = sup[i, c]
        pf = (1.5 - quality[f, c, held[i, c]]) * p_fail_c[c]
        v64 = np.float64(x)
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
        elif np.float64(f32_at(cc, pc_, jt_b, j)) < (p_churn_hot if unresolved[i, c] else p_churn):
            e = E_CHURNED
            sup[i, c] = -1
        elif tier[i, c] < tier_count[c] - 1:
            years = np.float64(a) * age_gain + 1.0
            sg = sat[i, c] - half
            sg = sg * sat_gain
            sg = sg + one
            if sg < zero:
                sg = zero
            t = -seg_up[segment[i]]
            t = t * years
            t = t * np.float64(sg)
            u2 = np.float64(f32_at(c2, p2, jt_d, j))
            # 1 - e^t < -t and expm1 is faithful, so its rounded value is at most -t:
            # a uniform at or above -t cannot fall below it
            if u2 < -t and u2 < -math.expm1(t):
                nt = tier[i, c] + 1
                tier[i, c] = nt
                cells[c, nt - 1] -= 1
                cells[c, nt] += 1
                e = E_UP if has[f, c, nt] else E_UNSERVED
        if e != 0:  # rare
            ev_pos[m] = j
            ev_type[m] = e
            m += 1
            if e != E_UP:  # the need is active again: the product is gone or unfit
                served[f] -= 1
                need[i, c] = ACTIVE
                held[i, c] = -1
                age[i, c] = 0
    for k in range(m):
        if ev_type[k] == E_EXPIRED:
            nf[ev_pos[k]] = NONE
    failed = _events_of(ev_pos, ev_type, m, E_FAILED)
    comp = _events_of(ev_pos, ev_type, m, E_FAILED_COMPLEMENT)
    for k in range(comp.size):  # the complement needs open last, as in the reference
        i = comp[k] // C
        comp[k] = i * C + comp_target[comp[k] - i * C]
        nf[comp[k]] = LATENT
    return (
        _events_of(ev_pos, ev_type, m, E_ACTIVATED),
        _events_of(ev_pos, ev_type, m, E_UP),
        _events_of(ev_pos, ev_type, m, E_UNSERVED),
        failed,
        _events_of(ev_pos, ev_type, m, E_WORN),
        comp,
        _events_of(ev_pos, ev_type, m, E_CHURNED),
        _events_of(ev_pos, ev_type, m, E_EXPIRED),
    )


# ---------------------------------------------------------------------- platform
@njit(inline="always")
def _kind_of(i, rec_need, covered, std_cat):  # type: ignore[no-untyped-def]
    """Customer ``i``'s contact kind: 0 not covered, 1 covered, 2 covered with a believed
    latent or active need in a standard category."""
    k2 = np.uint8(0)
    for c in range(rec_need.shape[1]):
        x = rec_need[i, c]
        k2 |= np.uint8(std_cat[c] & ((x == LATENT) | (x == ACTIVE)))
    cov = np.uint8(covered[i])
    return cov + (k2 & cov)


@njit(cache=True, nogil=True)
def contact_kind(
    rec_need: np.ndarray, covered: np.ndarray, std_cat: np.ndarray, kind: np.ndarray
) -> int:
    """Every customer's contact kind into ``kind`` (N,) uint8 (see ``_kind_of``).
    Returns the number of kind 2."""
    n_open = 0
    for i in range(rec_need.shape[0]):
        k = _kind_of(i, rec_need, covered, std_cat)
        kind[i] = k
        n_open += k == 2
    return n_open


@njit(inline="always")
def _update_record(i, c, new_need, new_tier, rec_need, rec_tier, believed):  # type: ignore[no-untyped-def]
    """Write one believed fact and keep the believed counts per cell."""
    believed[c, rec_tier[i, c]] -= rec_need[i, c] >= LATENT
    believed[c, new_tier] += new_need >= LATENT
    rec_need[i, c] = new_need
    rec_tier[i, c] = new_tier


@njit(inline="always")
def _update_kind(i, rec_need, covered, std_cat, kind, n_open):  # type: ignore[no-untyped-def]
    """Recompute one customer's contact kind after its records changed."""
    k = _kind_of(i, rec_need, covered, std_cat)
    n_open[0] += np.int64(k == 2) - np.int64(kind[i] == 2)
    kind[i] = k


@njit(cache=True, nogil=True)
def record_sales(
    pos: np.ndarray,  # flat positions sold by the firm
    firm: int,
    need: np.ndarray,
    tier: np.ndarray,
    rec_need: np.ndarray,
    rec_tier: np.ndarray,
    rec_sup: np.ndarray,
    known: np.ndarray,
    covered: np.ndarray,
    std_cat: np.ndarray,
    believed: np.ndarray,
    kind: np.ndarray,
    n_open: np.ndarray,
) -> None:
    """``sim.platform.record_sales``, keeping the believed counts and contact kinds."""
    C = need.shape[1]
    for r in range(pos.size):
        j = pos[r]
        i = j // C
        c = j - i * C
        _update_record(i, c, need[i, c], tier[i, c], rec_need, rec_tier, believed)
        rec_sup[i, c] = firm
        known[i] = True
        _update_kind(i, rec_need, covered, std_cat, kind, n_open)


@njit(cache=True, nogil=True)
def platform_kernel(
    kind: np.ndarray,  # (N,) uint8: 0 uncovered, 1 covered, 2 covered with an open need
    table: np.ndarray,  # (3,) float32 contact probability per kind
    cu: np.ndarray,
    pu: np.ndarray,  # the contact block (N float32), a cursor
    cr: np.ndarray,
    pr: np.ndarray,  # the read block (N * C float32)
    cl: np.ndarray,
    pl: np.ndarray,  # the link block (N * C float32)
    jt: np.ndarray,  # the platform stream's jump table
    strength: np.float32,
    strength_div: np.float32,
    feedback: float,  # the feedback link's defect rate
    link_hi: np.ndarray,  # (2,) float64 upper band edges of the contact links
    sells: np.ndarray,  # (C,) bool: the firm sells something in the category
    need: np.ndarray,  # (N, C) int8 truth
    tier: np.ndarray,
    sup: np.ndarray,
    rec_need: np.ndarray,  # (N, C) int8 records, changed in place
    rec_tier: np.ndarray,
    rec_sup: np.ndarray,
    seen: np.ndarray,  # (N,) int32
    known: np.ndarray,  # (N,) bool
    covered: np.ndarray,  # (N,) bool
    std_cat: np.ndarray,  # (C,) bool: categories in the firm's standard
    believed: np.ndarray,  # (C, T) int64 believed needs per cell, kept up to date
    n_open: np.ndarray,  # (1,) int64 customers of kind 2, kept up to date
    now: int,
    who: np.ndarray,  # (N,) int32 scratch
    contacted: np.ndarray,  # (N,) bool out
    offered: np.ndarray,  # (N, C) bool out (all False on entry)
    tallies: np.ndarray,  # (7,) int64 out, see below
) -> np.ndarray:
    """Contacts, record refreshes and offers of one firm. Returns the flat positions
    whose facts reached the records, and those an offer reached. ``tallies``: contacts, feedback opportunities,
    feedback defects, then opportunities and defects of the two contact links."""
    n, C = need.shape
    # the contact uniforms, generated in order: two per PCG64 output
    n_con = 0
    off = pu[1]
    if off and n:
        x = np.float32(cu[3] >> np.uint64(8)) * np.float32(2.0**-24)
        hit = x < table[kind[0]]
        contacted[0] = hit
        who[0] = 0
        n_con += hit
    hi = cu[0]
    lo = cu[1]
    a_hi, a_lo, k_hi, k_lo = jt[1, 0], jt[1, 1], jt[1, 2], jt[1, 3]
    scale = np.float32(2.0**-24)
    for i in range(off, n, 2):
        hi, lo = _muladd128(a_hi, a_lo, hi, lo, k_hi, k_lo)
        v = _rotr(hi ^ lo, hi >> np.uint64(58))
        x = np.float32((v & np.uint64(0xFFFFFFFF)) >> np.uint64(8)) * scale
        hit = x < table[kind[i]]
        contacted[i] = hit
        who[n_con] = i
        n_con += hit
        if i + 1 < n:
            x = np.float32(v >> np.uint64(40)) * scale
            hit = x < table[kind[i + 1]]
            contacted[i + 1] = hit
            who[n_con] = i + 1
            n_con += hit
    read_ok = np.empty(n_con * C, dtype=np.int64)
    offered_at = np.empty(n_con * C, dtype=np.int64)
    n_off = 0
    n_ok = 0
    n_correct = 0
    n_lost = 0
    opp0 = 0
    def0 = 0
    opp1 = 0
    def1 = 0
    for r in range(n_con):
        i = np.int64(who[r])
        for c in range(C):
            j = i * C + c
            x = f32_at(cr, pr, jt, j)
            if x < strength:
                n_correct += 1
                if np.float64(x / strength_div) < feedback:
                    n_lost += 1
                else:
                    read_ok[n_ok] = j
                    n_ok += 1
                    _update_record(i, c, need[i, c], tier[i, c], rec_need, rec_tier, believed)
                    rec_sup[i, c] = sup[i, c]
        seen[i] = now
        known[i] = True
        _update_kind(i, rec_need, covered, std_cat, kind, n_open)
        for c in range(C):
            if need[i, c] == ACTIVE and sells[c]:
                ul = np.float64(f32_at(cl, pl, jt, i * C + c))
                opp0 += 1
                if ul < link_hi[0]:
                    def0 += 1
                    continue
                opp1 += 1
                if ul < link_hi[1]:
                    def1 += 1
                    continue
                offered[i, c] = True
                offered_at[n_off] = i * C + c
                n_off += 1
    tallies[0] = n_con
    tallies[1] = n_correct
    tallies[2] = n_lost
    tallies[3] = opp0
    tallies[4] = def0
    tallies[5] = opp1
    tallies[6] = def1
    return read_ok[:n_ok], offered_at[:n_off]


# ---------------------------------------------------------------------- choice
@njit(cache=True, nogil=True)
def choice_kernel(
    truth: tuple,  # (need, tier, supplier, held, age, satisfaction), changed by the sales
    complaint: np.ndarray,  # (N, C) int8
    complaint_t: np.ndarray,  # (N, C) int32
    segment: np.ndarray,
    unresolved: np.ndarray,  # (N, C) bool
    indptr: np.ndarray,  # CSR; an empty indptr means mean-field mixing
    indices: np.ndarray,
    cn: np.ndarray,
    pn: np.ndarray,  # the neighbour block (N float64), a cursor
    cw: np.ndarray,
    pw: np.ndarray,  # the word-of-mouth block (N * C float32)
    ck: np.ndarray,
    pk_: np.ndarray,  # the pick block (N * C float64)
    cs: np.ndarray,
    ps_: np.ndarray,  # the sale block (N * C float32)
    jt: np.ndarray,  # the behaviour stream's jump table
    offers: np.ndarray,  # (F, C, T) int64 offered tier per desired tier, -1 none
    fitq: np.ndarray,  # (F, C, T) float64 fit + quality utility of that offer
    price_of: np.ndarray,  # (F, C, T) float64 its price
    quality: np.ndarray,  # (F, C, T) float64 quality by tier held
    kinds: np.ndarray,  # (F, N) uint8 contact kind of each customer per firm
    tables: np.ndarray,  # (F, 3) float32 contact probability per kind
    contacted: np.ndarray,  # (F, N) bool
    offered: np.ndarray,  # (F, N, C) bool
    price_sens: np.ndarray,  # (S,) float64
    q: float,
    loyalty: float,
    penalty: float,
    outside: float,
    sale_hi: np.ndarray,  # (F, 3) float64 band edges of the sale links
    after_hi: np.ndarray,  # (F, 2) float64 ... of the after-sale links
    sale_b: np.ndarray,  # (F,) float64 the sale links' total defect band
    now: int,
    act_i: np.ndarray,  # (N * C,) int32 scratch
    act_c: np.ndarray,  # (N * C,) int8 scratch
    served: np.ndarray,  # (F,) int64 served needs per supplier, kept up to date
    chain: np.ndarray,  # (F, 2, 5) int64 out: opportunities / defects of the 5 links
):  # type: ignore[no-untyped-def]
    """Exposure, logit choice and sales. Returns (positions, firm, tier, complaint) of
    the completed sales, in position order."""
    need, tier, sup, held, age, sat = truth
    n, C = need.shape
    F = offers.shape[0]
    mean_field = indptr.size == 0
    # the active needs, listed without branching on the state
    na = 0
    for i in range(n):
        for c in range(C):
            act_i[na] = i
            act_c[na] = c
            na += need[i, c] == ACTIVE
    # the neighbour each customer with an active need talks to, then what that
    # neighbour's cell holds: a tight loop of independent loads, so the cache misses
    # of the random look-ups overlap instead of queueing one by one
    nb_of = np.empty(na, dtype=np.int64)
    last = -1
    nbr = -1
    for r in range(na):
        i = np.int64(act_i[r])
        if i != last:  # one neighbour per customer and step
            last = i
            if mean_field:
                nbr = min(np.int64(f64_at(cn, pn, jt, i) * n), n - 1)
            else:
                start = indptr[i]
                deg = indptr[i + 1] - start
                if deg > 0:
                    k = start + min(np.int64(f64_at(cn, pn, jt, i) * deg), deg - 1)
                    nbr = np.int64(indices[min(k, indices.size - 1)])
                else:
                    nbr = -1
        nb_of[r] = nbr
    nb_sup = np.empty(na, dtype=np.int8)
    nb_bad = np.empty(na, dtype=np.int8)
    for r in range(na):
        b = nb_of[r]
        c = np.int64(act_c[r])
        bb = max(b, 0)
        x = need[bb, c]
        y = sup[bb, c]
        z = unresolved[bb, c]
        w = complaint[bb, c]
        ok = b >= 0
        nb_sup[r] = y if (ok and x == SERVED) else -1
        nb_bad[r] = w if (ok and z) else -1
    # 1) every active need picks, on the state before any sale of this step
    pos = np.empty(na, dtype=np.int64)
    pick = np.empty(na, dtype=np.int64)
    util = np.empty(F + 1, dtype=np.float64)
    exposed = np.empty(F, dtype=np.bool_)
    n_pick = 0
    for r in range(na):
        i = np.int64(act_i[r])
        c = np.int64(act_c[r])
        j = i * C + c
        desired = tier[i, c]
        incumbent = sup[i, c]
        ns_ = nb_sup[r]
        nbad = nb_bad[r]
        # word of mouth: the firm serving the neighbour, if it did not contact this
        # customer, with probability q / (1 - its contact probability)
        wom = -1
        if ns_ >= 0 and not contacted[ns_, i]:
            uw = np.float64(f32_at(cw, pw, jt, j))
            if uw < q / max(1.0 - np.float64(tables[ns_, kinds[ns_, i]]), 1e-12):
                wom = ns_
        any_e = False
        for f in range(F):
            e = (offers[f, c, desired] >= 0) & (offered[f, i, c] | (incumbent == f) | (wom == f))
            exposed[f] = e
            any_e |= e
        if not any_e:
            continue
        top = outside
        ps = price_sens[segment[i]]
        for f in range(F):
            if exposed[f]:
                v = fitq[f, c, desired] - ps * price_of[f, c, desired]
                v = v + loyalty * (1.0 if incumbent == f else 0.0)
                v = v - penalty * (1.0 if nbad == f else 0.0)
                util[f] = v
                top = max(top, v)
        util[F] = outside
        cum = 0.0
        for f in range(F + 1):
            if f == F or exposed[f]:
                x = util[f] - top
                cum += 1.0 if x == 0.0 else math.exp(x)  # exp(0) is 1 exactly, in numpy too
            util[f] = cum  # cumulative weights, in place (exp(-inf) = 0 adds nothing)
        uc = f64_at(ck, pk_, jt, j)
        k = 0
        for f in range(F + 1):
            k += uc > util[f] / cum
        k = min(k, F)
        if k < F:
            pos[n_pick] = j
            pick[n_pick] = k
            n_pick += 1
    # 2) the sale links, then the after-sale links, then booking
    out_pos = np.empty(n_pick, dtype=np.int64)
    out_firm = np.empty(n_pick, dtype=np.int64)
    out_tier = np.empty(n_pick, dtype=np.int64)
    out_comp = np.empty(n_pick, dtype=np.bool_)
    n_sold = 0
    for r in range(n_pick):
        j = pos[r]
        f = pick[r]
        u = np.float64(f32_at(cs, ps_, jt, j))
        lost = False
        for k in range(3):
            chain[f, 0, k] += 1
            if u < sale_hi[f, k]:
                chain[f, 1, k] += 1
                lost = True
                break
        if lost:
            continue
        i = j // C
        c = j - i * C
        b = sale_b[f]
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
        out_tier[n_sold] = offers[f, c, tier[i, c]]
        out_comp[n_sold] = comp
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
        d = abs(np.float32(t) - np.float32(tier[i, c]))
        s = quality[f, c, t] - np.float64(np.float32(0.2) * d)
        s = min(max(s, 0.0), 1.0)
        s32 = np.float32(s)
        if out_comp[r]:
            s32 = s32 * np.float32(0.5)
            complaint[i, c] = f
            complaint_t[i, c] = now
        sat[i, c] = s32
    return out_pos[:n_sold], out_firm[:n_sold], out_tier[:n_sold], out_comp[:n_sold]
