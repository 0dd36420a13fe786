"""How customers' demand evolves (DESIGN §3): needs emerge, latent demand becomes
real, unserved needs lapse, consumption ages, products fail or wear out (opening a
replacement need and, with the complement propensity, a latent complement need),
customers churn, and served customers move upmarket with a hazard that grows with
consumption time and satisfaction.

The rule is one compiled kernel (``demand_kernel``) and its wrapper (``demand_step``).
Every step reads the same fixed-shape blocks of the ``demand`` stream — two uniforms
per customer and category — whatever the state, so a change to a firm's platform
never moves the customers' own random inputs (common random numbers). Churn, which
complaints make likelier, reads the ``behaviour`` stream.

The loops avoid branching on the need state of each position (unpredictable, and so
the largest cost on a modern CPU): a pass first lists the positions of interest
without branches, then works through the list; every decision is taken on the state
before the rule ran.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.market import Market, per_step
from sim.pcg import RuleDraws, _muladd128, _rotr, f32_at
from sim.scenario import Scenario
from sim.state import ACTIVE, LATENT, NONE, SERVED, CustomerState
from sim.workspace import Workspace


@dataclass
class DemandParams:
    """Per-step probabilities and gains derived from the scenario."""

    p_emerge: np.ndarray  # (C,) complements emerge only through failures
    p_activate: float
    p_expire: float
    p_churn: float
    complaint_churn: float
    age_gain_per_step: float
    satisfaction_gain: float

    @classmethod
    def from_scenario(cls, sc: Scenario, market: Market) -> DemandParams:
        d, spy = sc.demand, sc.run.steps_per_year
        p_emerge = np.where(market.is_complement, 0.0, per_step(d.emergence_rate, spy))
        return cls(
            p_emerge=p_emerge.astype(np.float32),
            p_activate=float(per_step(d.activation_rate, spy)),
            p_expire=float(per_step(d.expiry_rate, spy)),
            p_churn=float(per_step(d.churn_rate, spy)),
            complaint_churn=d.complaint_churn,
            age_gain_per_step=d.age_gain / spy,
            satisfaction_gain=d.satisfaction_gain,
        )


@dataclass
class DemandEvents:
    """What changed this step, as flat (customer * C + category) indices."""

    activated: np.ndarray  # latent -> active
    upmarket: np.ndarray  # desired tier moved up (served)
    upmarket_unserved: np.ndarray  # ... and the supplier has nothing at the new tier
    failed: np.ndarray  # product failure (replacement need)
    worn: np.ndarray  # wear-out (replacement need)
    complement: np.ndarray  # latent complement need opened
    churned: np.ndarray  # left the supplier
    expired: np.ndarray  # active need lapsed


def demand_step(
    state: CustomerState,
    market: Market,
    params: DemandParams,
    has_product: np.ndarray,
    quality_table: np.ndarray,
    unresolved: np.ndarray,
    rng: np.random.Generator,
    behaviour_rng: np.random.Generator,
    work: Workspace,
) -> DemandEvents:
    """Advance every customer's needs by one step.

    Args:
        state: ground truth, changed in place.
        market: compiled market.
        params: per-step probabilities.
        has_product: (F, C, T) which cells each firm sells now.
        quality_table: (F, C, T) product quality per cell.
        unresolved: (N, C) bool, an unresolved complaint about the current supplier.
        rng: the ``demand`` stream; behaviour_rng: the ``behaviour`` stream (churn).
        work: the model's workspace (its tally is kept up to date here).
    """
    n, C = state.need.shape
    tl = work.tally
    dd, bd = RuleDraws(rng), RuleDraws(behaviour_rng)
    c1, p1 = dd.f32(n * C)
    c2, p2 = dd.f32(n * C)
    cc, pc = bd.f32(n * C)
    # emergence, activation and expiry thresholds by (category, need state): float32,
    # as numpy compares float32 uniforms with them; a served need never passes 0
    thr = np.zeros((C, 4), dtype=np.float32)
    thr[:, 0] = params.p_emerge
    thr[:, 1] = np.float32(params.p_activate)
    thr[:, 2] = np.float32(params.p_expire)
    ev = demand_kernel(
        (state.need, state.tier, state.supplier, state.held, state.age, state.satisfaction),
        state.segment,
        unresolved,
        c1,
        p1,
        c2,
        p2,
        dd.jt,
        cc,
        pc,
        bd.jt,
        thr.reshape(-1),
        np.ascontiguousarray(quality_table, dtype=np.float64),
        market.p_fail,
        market.lifetime,
        min(params.p_churn, 1.0),
        min(params.p_churn * params.complaint_churn, 1.0),
        market.seg_up_rate,
        float(params.age_gain_per_step),
        np.float32(params.satisfaction_gain),
        market.tier_count,
        market.complement_target,
        market.seg_complement,
        np.ascontiguousarray(has_product),
        work.array("list_i", (n * C,), np.int32),
        work.array("list_c", (n * C,), np.int8),
        work.array("u", (n * C,), np.float32),
        work.array("ev_pos", (n * C,), np.int32),
        work.array("ev_type", (n * C,), np.int8),
        tl.cells,
        tl.served,
    )
    dd.finish()
    bd.finish()
    return DemandEvents(*ev)


# ---------------------------------------------------------------------- kernel
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
    """Returns the event lists (flat positions, in
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
                hi, lo = _muladd128(a_hi, a_lo, hi, lo, k_hi, k_lo)  # type: ignore[call-arg]
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
        i = np.int64(srv_i[r])  # type: ignore[assignment]
        c = np.int64(srv_c[r])  # type: ignore[assignment]
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
