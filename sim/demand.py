"""How customers' demand evolves (DESIGN §3): needs emerge, latent demand becomes
real, unserved needs lapse, consumption ages, products fail or wear out (opening a
replacement need and, with the complement propensity, a latent complement need),
customers churn, and served customers move upmarket with a hazard that grows with
consumption time and satisfaction.

Every step draws the same fixed-shape blocks from the ``demand`` stream — two
uniforms per customer and category — whatever the state, so a change to a firm's
platform never moves the customers' own random inputs (common random numbers).
Churn, which complaints make likelier, draws from the ``behaviour`` stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.market import Market, per_step
from sim.rng import uniform_f32_at
from sim.scenario import Scenario
from sim.state import ACTIVE, LATENT, NO_FIRM, NONE, SERVED, CustomerState


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


def _split(flat: np.ndarray, C: int) -> tuple[np.ndarray, np.ndarray]:
    """(customer, category) of flat (customer * C + category) positions; shifts and masks
    when C is a power of two (int64 division is slow)."""
    if C & (C - 1) == 0:
        return flat >> (C.bit_length() - 1), flat & (C - 1)
    return flat // C, flat % C


def demand_step(
    state: CustomerState,
    market: Market,
    params: DemandParams,
    has_product: np.ndarray,
    quality_table: np.ndarray,
    unresolved: np.ndarray,
    rng: np.random.Generator,
    behaviour_rng: np.random.Generator,
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
    """
    n, C = state.need.shape
    need = state.need.reshape(-1)
    latent_i = np.flatnonzero(need == LATENT)
    active_i = np.flatnonzero(need == ACTIVE)
    served_i = np.flatnonzero(need == SERVED)

    u1 = rng.random((n, C), dtype=np.float32)
    # the second draw and the churn draw matter for served needs only: keep just those
    u2 = uniform_f32_at(rng, n * C, served_i)
    u_churn = uniform_f32_at(behaviour_rng, n * C, served_i)
    v1 = u1.reshape(-1)

    fresh = state.need == NONE
    for c in range(C):  # column by column: broadcasting over a length-C axis is slow
        fresh[:, c] &= u1[:, c] < params.p_emerge[c]
    emerged = np.flatnonzero(fresh)
    del fresh
    activated = latent_i[v1[latent_i] < params.p_activate]
    expired = active_i[v1[active_i] < params.p_expire]

    # --- served: failure, wear-out, churn, upmarket (in that order of precedence)
    sup = state.supplier.reshape(-1)
    held = state.held.reshape(-1)
    age = state.age.reshape(-1)
    tier = state.tier.reshape(-1)
    sat = state.satisfaction.reshape(-1)
    # (the served block works in place and drops what it no longer needs: at 10^6
    # customers each float64 temporary here is 8 MB)
    cust_s, cs = _split(served_i, C)
    age += (need == SERVED) & (age < np.iinfo(np.int16).max)  # ages served needs, capped
    age_s = age[served_i]
    # quality (then 1.5 - quality) through one flat index: faster than a 3-axis gather
    T = quality_table.shape[2]
    p_fail = np.take(quality_table, (sup[served_i].astype(np.intp) * C + cs) * T + held[served_i])
    np.subtract(1.5, p_fail, out=p_fail)
    p_fail *= market.p_fail[cs]
    failed_m = v1[served_i] < p_fail
    worn_m = ~failed_m & (age_s >= market.lifetime[cs])
    gone = failed_m | worn_m
    # churn, raised where a complaint about the supplier is unresolved (few positions)
    p_ch = np.full(served_i.size, min(params.p_churn, 1.0))
    hot = np.flatnonzero(unresolved)
    hot = hot[need[hot] == SERVED]
    p_ch[np.searchsorted(served_i, hot)] = min(params.p_churn * params.complaint_churn, 1.0)
    churn_m = ~gone & (u_churn < p_ch)
    del p_ch, u_churn
    gone |= churn_m
    p_up = market.seg_up_rate[state.segment[cust_s]]  # base, then the hazard
    del cust_s
    years_gain = age_s * params.age_gain_per_step
    years_gain += 1.0
    sat_gain = sat[served_i]  # float32, as numpy computes 1 + gain * (s - 0.5) from it
    sat_gain -= 0.5
    sat_gain *= params.satisfaction_gain
    sat_gain += 1.0
    np.maximum(sat_gain, 0.0, out=sat_gain)
    np.negative(p_up, out=p_up)
    p_up *= years_gain
    p_up *= sat_gain
    del years_gain, sat_gain
    np.expm1(p_up, out=p_up)
    np.negative(p_up, out=p_up)
    top = market.tier_count[cs] - 1
    del cs
    up_m = ~gone & (u2 < p_up) & (tier[served_i] < top)
    del p_up, top, u2

    failed = served_i[failed_m]
    worn = served_i[worn_m]
    churned = served_i[churn_m]
    upmarket = served_i[up_m]

    # complement: a failure opens a latent need in the complement category with the
    # segment's propensity (the conditional position of u1 inside the failure band is
    # itself uniform, so no extra draw is needed)
    comp_target = market.complement_target[failed % C]
    cond = v1[failed] / np.maximum(p_fail[failed_m], 1e-12)
    prop = market.seg_complement[state.segment[failed // C]]
    opens = (comp_target >= 0) & (cond < prop)
    comp_idx = (failed // C) * C + np.maximum(comp_target, 0)
    comp_idx = comp_idx[opens]
    comp_idx = comp_idx[need[comp_idx] == NONE]

    # --- apply (order matters only for disjoint sets)
    need[emerged] = LATENT
    need[activated] = ACTIVE
    need[expired] = NONE
    sup[expired] = NO_FIRM
    need[failed] = ACTIVE
    need[worn] = ACTIVE
    need[churned] = ACTIVE
    sup[churned] = NO_FIRM
    for idx in (failed, worn, churned):
        held[idx] = -1
        age[idx] = 0
    tier[upmarket] = tier[upmarket] + 1
    fsup = sup[upmarket]
    can = has_product[fsup, upmarket % C, tier[upmarket]]
    unserved = upmarket[~can]
    need[unserved] = ACTIVE
    held[unserved] = -1
    age[unserved] = 0
    need[comp_idx] = LATENT
    return DemandEvents(
        activated=activated,
        upmarket=upmarket,
        upmarket_unserved=unserved,
        failed=failed,
        worn=worn,
        complement=comp_idx,
        churned=churned,
        expired=expired,
    )
