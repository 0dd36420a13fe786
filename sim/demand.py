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
    u1 = rng.random((n, C), dtype=np.float32)
    u2 = rng.random((n, C), dtype=np.float32)
    u_churn = behaviour_rng.random((n, C), dtype=np.float32)
    need = state.need.reshape(-1)
    flat_c = np.tile(np.arange(C), n)
    v1 = u1.reshape(-1)

    none_i = np.flatnonzero(need == NONE)
    latent_i = np.flatnonzero(need == LATENT)
    active_i = np.flatnonzero(need == ACTIVE)
    served_i = np.flatnonzero(need == SERVED)

    emerged = none_i[v1[none_i] < params.p_emerge[flat_c[none_i]]]
    activated = latent_i[v1[latent_i] < params.p_activate]
    expired = active_i[v1[active_i] < params.p_expire]

    # --- served: failure, wear-out, churn, upmarket (in that order of precedence)
    sup = state.supplier.reshape(-1)
    held = state.held.reshape(-1)
    age = state.age.reshape(-1)
    tier = state.tier.reshape(-1)
    sat = state.satisfaction.reshape(-1)
    cs = flat_c[served_i]
    age += (need == SERVED) & (age < np.iinfo(np.int16).max)  # ages served needs, capped
    q = quality_table[sup[served_i], cs, held[served_i]]
    p_fail = market.p_fail[cs] * (1.5 - q)
    failed_m = v1[served_i] < p_fail
    worn_m = ~failed_m & (age[served_i] >= market.lifetime[cs])
    gone = failed_m | worn_m
    churn_gain = np.array([1.0, params.complaint_churn])  # a look-up beats np.where on scalars
    p_ch = params.p_churn * np.take(churn_gain, unresolved.reshape(-1)[served_i].view(np.uint8))
    churn_m = ~gone & (u_churn.reshape(-1)[served_i] < np.minimum(p_ch, 1.0))
    gone |= churn_m
    seg = state.segment[served_i // C]
    base = market.seg_up_rate[seg]
    years_gain = 1.0 + params.age_gain_per_step * age[served_i]
    sat_gain = np.maximum(0.0, 1.0 + params.satisfaction_gain * (sat[served_i] - 0.5))
    p_up = -np.expm1(-base * years_gain * sat_gain)
    top = market.tier_count[cs] - 1
    up_m = ~gone & (u2.reshape(-1)[served_i] < p_up) & (tier[served_i] < top)

    failed = served_i[failed_m]
    worn = served_i[worn_m]
    churned = served_i[churn_m]
    upmarket = served_i[up_m]

    # complement: a failure opens a latent need in the complement category with the
    # segment's propensity (the conditional position of u1 inside the failure band is
    # itself uniform, so no extra draw is needed)
    comp_target = market.complement_target[flat_c[failed]]
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
    can = has_product[fsup, flat_c[upmarket], tier[upmarket]]
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
