"""The event engine's demand calendar (``sim.demand.DemandCalendar``; docs/performance.md,
"The event-driven engine"): its invariants after every step, the law of its candidate
steps, and the pairing it keeps by construction. That the engine gives the sweep's
distributions is checked where the sweep's is: the sojourn closed forms
(``tests/test_sojourns.py``), the reference statistics (``tests/test_engine_reference.py``),
the pairing reference (``tests/test_pairing_reference.py``), the threads and plain
Python (``tests/test_engine_modes.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from sim import DemandModel
from sim.counts import cell_counts, served_by
from sim.demand import candidate_bound, first_candidates
from sim.rng import NEVER_STEP, address, round_keys
from sim.state import ACTIVE
from tests.helpers import small


def _events(name: str = "baseline", n: int = 3000, **overrides: object) -> DemandModel:
    return DemandModel(small(name, n=n, **overrides), rng=11, engine="events")


def test_every_need_has_one_candidate_ahead_after_every_step() -> None:
    model = _events("complement-wave")
    cal = model.calendar
    assert cal is not None and cal.next.shape == model.state.need.shape
    assert cal.next.dtype == np.int32  # one pending entry per need, by construction
    for _ in range(80):
        model.step()
        ahead = cal.next[cal.next != NEVER_STEP]
        assert ahead.size == cal.next.size  # every hazard here is positive
        assert ahead.min() > model.t  # none in the past, none due now and forgotten
    # the kept counts equal a recount (the event engine changes them where it acts)
    st, kept = model.state, model.work.tally
    assert np.array_equal(kept.cells, cell_counts(st.tier, st.need, ACTIVE, model.market.n_tiers))
    assert np.array_equal(kept.served, served_by(st.need, st.supplier, len(model.books)))


def test_the_bound_covers_every_hazard_a_need_can_meet() -> None:
    """The candidate probability is at least each open state's rate and at least the
    sum of a served need's exits at the worst quality, complaint, age and satisfaction."""
    model = _events("complement-wave", n=200)
    p, m = model.demand_params, model.market
    bound = candidate_bound(p, m)
    assert (bound >= p.p_emerge).all() and (bound >= max(p.p_activate, p.p_expire)).all()
    years = 1.0 + p.age_gain_per_step * (m.lifetime - 1)
    up = -np.expm1(-m.seg_up_rate.max() * years * (1 + 0.5 * abs(p.satisfaction_gain)))
    served = p.fail_offset * m.p_fail + p.p_churn * max(p.complaint_churn, 1.0) + up
    assert (bound >= np.minimum(served, 1.0) - 1e-15).all()
    assert (bound <= 1.0).all()


@pytest.mark.parametrize("bound", [0.02, 0.3, 1.0])
def test_candidate_gaps_are_geometric(bound: float) -> None:
    """First candidates after a start: P(G = k) = (1 − b)^(k−1) b on 10^6 needs
    (chi-square over the first bands, p > 1e-4); b = 1 makes every step a candidate."""
    n, C = 250_000, 4
    nxt = np.empty((n, C), np.int32)
    log_miss = np.full(C, np.log1p(-bound) if bound < 1 else 0.0)
    first_candidates(round_keys(5, "demand"), address(-10), -10, np.full(C, bound), log_miss, nxt)
    gaps = (nxt + 10).ravel().astype(np.int64)
    assert gaps.min() >= 1
    if bound == 1.0:
        assert (gaps == 1).all()
        return
    k_max = int(np.ceil(np.log(1e-3) / np.log1p(-bound)))  # the tail beyond holds 0.1%
    observed = np.bincount(np.minimum(gaps, k_max + 1), minlength=k_max + 2)[1:]
    k = np.arange(1, k_max + 1)
    expected = np.append((1 - bound) ** (k - 1) * bound, (1 - bound) ** k_max) * gaps.size
    stat = float(((observed - expected) ** 2 / expected).sum())
    assert chi2.sf(stat, len(expected) - 1) > 1e-4
    mean, se = gaps.mean(), gaps.std() / np.sqrt(gaps.size)
    assert abs(mean - 1 / bound) < 4 * se


def test_a_zero_bound_never_comes() -> None:
    nxt = np.empty((10, 2), np.int32)
    first_candidates(round_keys(5, "demand"), address(0), 0, np.zeros(2), np.zeros(2), nxt)
    assert (nxt == NEVER_STEP).all()


def test_two_scenarios_that_differ_in_a_platform_share_the_calendar() -> None:
    """Pairing by construction: the candidate steps depend on the seed, the customer,
    the category and the bound only, so two runs whose platforms differ (the flagship
    pair) hold the same calendar at every step while their needs drift apart."""
    a = _events("baseline", n=2000)
    b = _events("insensitive-platform", n=2000)
    assert a.calendar is not None and b.calendar is not None
    assert np.array_equal(a.calendar.next, b.calendar.next)
    for _ in range(60):
        a.step()
        b.step()
        assert np.array_equal(a.calendar.next, b.calendar.next)
    assert (a.state.need != b.state.need).any()  # the platforms did make a difference


def test_the_event_engine_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMANDSIM_ENGINE", raising=False)
    model = DemandModel(small(n=100), rng=1)
    assert model.engine == "events" and model.calendar is not None
    sweep = DemandModel(small(n=100), rng=1, engine="sweep")
    assert sweep.engine == "sweep" and sweep.calendar is None
    with pytest.raises(ValueError, match="engine='clock' must be one of sweep, events"):
        DemandModel(small(n=100), rng=1, engine="clock")


def test_awareness_has_one_candidate_ahead_and_the_sweep_draws_none() -> None:
    """The later generation's awareness on the event engine: a chain per customer,
    never in the past after a step, at the bound 1 − (1 − min(p + q, 1))^weeks; the
    sweep keeps no chain."""
    model = DemandModel(small("norton-bass-check", n=3000), rng=5, engine="events")
    gens = model.generations
    assert gens.chain is not None and gens.bound is not None and gens.later
    for c in gens.later:
        weeks = model.market.clock.weeks_per_step
        b = 1 - (1 - min(gens.p[c] + gens.q[c], 1.0)) ** weeks
        assert gens.bound[c] == pytest.approx(b)
    for _ in range(60):  # past the later generation's launch
        model.step()
        for c in gens.later:
            assert gens.chain[:, c].min() > model.t
    assert gens.aware[:, list(gens.later)].any()
    sweep = DemandModel(small("norton-bass-check", n=300), rng=5, engine="sweep")
    assert sweep.generations.chain is None
