"""How customers' demand evolves (docs/model.md §7.5): needs emerge, latent demand becomes
real, unserved needs lapse, consumption ages, products fail or wear out (opening a
replacement need and, with the complement propensity, a latent complement need),
customers churn, and served customers move upmarket with a hazard that grows with
consumption time and satisfaction.

The rule is a compiled kernel run over chunks of customers in parallel, the gathering
of the chunks' events, and their wrapper (``demand_step``); the kernels are in
``sim.demand_kernels``: on the sweep (``demand_kernel``) every need draws every step;
on the event engine (``demand_event_kernel``) only the needs whose candidate step on
their ``DemandCalendar`` is due. What the kernel reads besides the customers and
their draws travels as one record, ``DemandInputs``.
Every draw is addressed (``sim.rng``): a need's draws are functions of (seed, step,
customer, category) in the ``demand`` stream, whatever the state, so a change to a
firm's platform never moves the customers' own random inputs (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.demand_kernels import DemandInputs, demand_event_kernel, demand_kernel, gather_events
from sim.jit import CHUNK, kernel, threads_for
from sim.market import Market, per_step
from sim.rng import (
    DEMAND_EVENT,
    address,
    log_miss,
    next_candidate,
    philox,
    unit,
)
from sim.scenario import Scenario
from sim.state import CustomerState
from sim.workspace import Workspace


@dataclass
class DemandParams:
    """Per-step probabilities and gains derived from the scenario."""

    p_emerge: np.ndarray  # (C,)
    p_activate: float
    p_expire: float
    p_churn: float
    complaint_churn: float
    age_gain_per_step: float
    satisfaction_gain: float
    fail_offset: float

    @classmethod
    def from_scenario(cls, sc: Scenario, market: Market) -> DemandParams:
        d, spy = sc.demand, sc.run.steps_per_year
        # complements arise mostly through failures, and on their own at their own rate
        p_emerge = np.where(
            market.is_complement,
            per_step(d.complement_emergence_rate, spy),
            per_step(d.emergence_rate, spy),
        )
        return cls(
            p_emerge=p_emerge,
            p_activate=float(per_step(d.activation_rate, spy)),
            p_expire=float(per_step(d.expiry_rate, spy)),
            p_churn=float(per_step(d.churn_rate, spy)),
            complaint_churn=d.complaint_churn,
            age_gain_per_step=d.age_gain / spy,
            satisfaction_gain=d.satisfaction_gain,
            fail_offset=d.failure_quality_offset,
        )


@dataclass
class DemandCalendar:
    """The event engine's calendar of the demand rule (docs/performance.md, "The
    event-driven engine"). Each need has its own chain of candidate steps: the next
    after a candidate at step t is t + G, G geometric with the category's ``bound``
    (a probability per step at least every hazard a need of the category can meet in
    any state), drawn from the need's block at step t. The chain depends on the seed,
    the customer, the category and the bound only, never on the need's state, so two
    scenarios that differ in a platform share it (common random numbers). At a
    candidate the need meets the hazard of the state it is in then with probability
    hazard / bound (thinning): a need's transitions happen with the sweep's
    probability per step, and only candidates draw.

    The bound reads the demand's rates and the categories' failure, lifetime and
    upmarket settings (with the worst quality, satisfaction and age a need can have),
    none of which a decision or a scripted event changes mid-run.
    """

    bound: np.ndarray  # (C,) float64 candidate probability per step
    log_miss: np.ndarray  # (C,) float64 log(1 - bound) (0 where the bound is 0 or 1)
    next: np.ndarray  # (N, C) int32 each need's next candidate step
    life: np.ndarray  # (CHUNK * C,) int16 the lifetime of each position of a chunk

    @classmethod
    def start(
        cls, params: DemandParams, market: Market, n: int, key: np.ndarray, start: int
    ) -> DemandCalendar:
        """The calendar of a market whose history starts at step ``start``: every
        chain starts from a candidate at ``start`` (a step no rule runs), so its first
        candidate falls in the history."""
        bound = candidate_bound(params, market)
        lq = np.array([log_miss(b) for b in bound])
        nxt = np.empty((n, bound.size), np.int32)
        first_candidates(key, address(start), start, bound, lq, nxt)
        # each position of a chunk's needs with its category's lifetime: the due
        # needs are listed in one flat loop over the chunk (``_event_chunk``)
        life = np.tile(market.lifetime.astype(np.int16), CHUNK)
        return cls(bound=bound, log_miss=lq, next=nxt, life=life)


def candidate_bound(params: DemandParams, market: Market) -> np.ndarray:
    """(C,) the probability per step of a need's candidate steps: the largest chance a
    need of the category has to change in one step, in any state. An open need's is its
    state's rate; a served need's is at most failure at the worst quality (0) plus churn
    with an unresolved complaint plus an upmarket move at the largest age, satisfaction
    and segment rate (the three competing in one step never exceed their sum)."""
    fail = np.clip(params.fail_offset * market.p_fail, 0.0, 1.0)
    churn = min(max(params.p_churn, params.p_churn * params.complaint_churn), 1.0)
    g = params.age_gain_per_step
    life = market.lifetime.astype(np.float64)
    years = np.maximum(np.maximum(1.0 + g, 1.0 + g * (life - 1.0)), 0.0)
    sg = 1.0 + 0.5 * abs(params.satisfaction_gain)
    rate = max(float(market.seg_up_rate.max(initial=0.0)), 0.0)
    up = np.where(market.tier_count > 1, -np.expm1(-rate * years * sg), 0.0)
    served = np.minimum(fail + churn + up, 1.0)
    unserved = np.maximum(params.p_emerge, max(params.p_activate, params.p_expire))
    return np.clip(np.maximum(served, unserved), 0.0, 1.0).astype(np.float64)


@kernel
def first_candidates(rk, step_addr, start, bound, log_miss, nxt):  # type: ignore[no-untyped-def]
    """Every need's first candidate after the chain's start (block of category c at
    ``start``: word 1)."""
    n, C = nxt.shape
    for i in range(n):
        for c in range(C):
            w = philox(rk, i, step_addr, DEMAND_EVENT, c)
            nxt[i, c] = next_candidate(start, unit(w[1]), bound[c], log_miss[c])


@dataclass
class DemandEvents:
    """What changed this step, as flat (customer * C + category) indices."""

    emerged: np.ndarray  # none -> latent
    activated: np.ndarray  # latent -> active
    upmarket: np.ndarray  # desired tier moved up (served)
    upmarket_unserved: np.ndarray  # ... and the supplier has nothing at the new tier
    failed: np.ndarray  # product failure (replacement need)
    worn: np.ndarray  # wear-out (replacement need)
    complement: np.ndarray  # latent complement need opened
    churned: np.ndarray  # left the supplier
    expired: np.ndarray  # active need lapsed

    def opened(self, also: np.ndarray) -> np.ndarray:
        """The needs that became latent or active this step (potential demand that
        arose), with ``also`` (needs another rule turned active)."""
        return np.concatenate(
            [
                self.emerged,
                self.complement,
                self.activated,
                self.failed,
                self.worn,
                self.churned,
                self.upmarket_unserved,
                also,
            ]
        )


def demand_step(
    state: CustomerState,
    market: Market,
    params: DemandParams,
    has_product: np.ndarray,
    quality_table: np.ndarray,
    unresolved: np.ndarray,
    key: np.ndarray,
    now: int,
    work: Workspace,
    calendar: DemandCalendar | None = None,
) -> DemandEvents:
    """Advance every customer's needs by one step.

    Args:
        state: ground truth, changed in place.
        market: compiled market.
        params: per-step probabilities.
        has_product: (F, C, T) which cells each firm sells now.
        quality_table: (F, C, T) product quality per cell.
        unresolved: (N, C) bool, an unresolved complaint about the current supplier.
        key: the ``demand`` stream's Philox round keys; now: this step (the addresses).
        work: the model's workspace (its tally is kept up to date here).
        calendar: the event engine's calendar (``DemandCalendar``); ``None``: the
            sweep, every need drawing every step.
    """
    n, C = state.need.shape
    tl = work.tally
    # emergence, activation and expiry thresholds by (category, need state); a served
    # need never passes 0
    thr = np.zeros((C, 4), dtype=np.float64)
    thr[:, 0] = params.p_emerge
    thr[:, 1] = params.p_activate
    thr[:, 2] = params.p_expire
    ev_pos = work.array("ev_pos", (n * C,), np.int32)
    ev_type = work.array("ev_type", (n * C,), np.int8)
    inputs = DemandInputs(
        thr=thr.reshape(-1),
        quality=np.ascontiguousarray(quality_table, dtype=np.float64),
        p_fail=market.p_fail,
        fail_offset=float(params.fail_offset),
        lifetime=market.lifetime,
        p_churn=min(params.p_churn, 1.0),
        p_churn_hot=min(params.p_churn * params.complaint_churn, 1.0),
        seg_up=market.seg_up_rate,
        age_gain=float(params.age_gain_per_step),
        sat_gain=float(params.satisfaction_gain),
        tier_count=market.tier_count,
        comp_target=market.complement_target,
        seg_comp=market.seg_complement,
        has=np.ascontiguousarray(has_product),
    )
    truth = (state.need, state.tier, state.supplier, state.held, state.age, state.satisfaction)
    with threads_for(n):
        if calendar is None:
            found = demand_kernel(
                truth, state.segment, unresolved, key, address(now), inputs, ev_pos, ev_type
            )
        else:
            found = demand_event_kernel(
                truth, state.segment, unresolved, key, address(now), now, inputs,
                (calendar.next, calendar.bound, calendar.log_miss, calendar.life), ev_pos, ev_type,
            )  # fmt: skip
    ev = gather_events(
        found, state.tier, state.supplier, ev_pos, ev_type, market.complement_target,
        tl.cells, tl.served,
    )  # fmt: skip
    return DemandEvents(*ev)
