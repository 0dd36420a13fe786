"""Units that do not depend on the calendar (docs/model.md §7.1): a scenario speaks in weeks and
years, so the same years run in weekly or in monthly steps describe the same market."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from sim import DemandModel
from sim.calendar import Clock

WEEKS, MONTHS = 52, 12


def test_a_weekly_clock_is_the_identity() -> None:
    c = Clock(WEEKS)
    for w in (0, 1, 8, 13, 156):
        assert c.steps(w) == w
    for p in (0.0, 0.013, 0.1, 0.25, 1.0):
        assert c.chance(p) == p
        assert c.amount(p) == p


def test_a_monthly_clock_converts_weeks_to_steps() -> None:
    c = Clock(MONTHS)
    assert c.weeks_per_step == pytest.approx(52 / 12)
    assert c.steps(52) == 12 and c.steps(26) == 6 and c.steps(13) == 3
    assert c.steps(1) == 0 and c.steps(1, least=1) == 1
    # a chance per week, over a month: at least once in 52/12 independent weeks
    p = 0.1
    assert c.chance(p) == pytest.approx(1.0 - (1.0 - p) ** (52 / 12), rel=1e-12)
    assert c.chance(1.0) == 1.0 and c.chance(0.0) == 0.0
    assert c.amount(0.25) == pytest.approx(0.25 * 52 / 12)


def test_scripted_times_are_calendar_times() -> None:
    """A launch at week 26 and the year of history fall on the same dates in months."""
    launch = {
        "focal.events": [{"kind": "launch", "week": 26, "category": "core", "tier": "premium"}]
    }
    for spy, at in ((WEEKS, 26), (MONTHS, 6)):
        m = DemandModel(
            "baseline", rng=1, overrides={"run.customers": 300, "run.steps_per_year": spy, **launch}
        )
        assert [e[0] for e in m.events.scheduled] == [at]
        m.run(at)
        assert m.focal.book.has[0, 2]
        assert [la.step for la in m.focal.book.launches] == [at]
    monthly = DemandModel(
        "baseline", rng=1, overrides={"run.customers": 300, "run.steps_per_year": 12}
    )
    assert monthly.horizon == 2  # 8 weeks: two months


def _outcomes(scenario: str, spy: int, years: int, seeds: range, n: int) -> np.ndarray:
    rows = []
    for s in seeds:
        m = DemandModel(scenario, rng=s, overrides={"run.customers": n, "run.steps_per_year": spy})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            m.run(years * spy)
            sm = m.summary()
        rows.append([sm["market_share_final"], sm["alignment_final"], sm["revenue_total"]])
    return np.array(rows)


@pytest.mark.parametrize(
    "scenario", ["baseline", "competitor-launch", "upmarket-shift", "supplier-failure-windfall"]
)
def test_the_same_years_in_weeks_and_in_months_tell_the_same_story(scenario: str) -> None:
    """Five years (three for competitor-launch) in weekly and in monthly steps, on
    independent seeds: final share and alignment within 0.05 and total revenue within
    15%. Each bound must hold with room for two standard errors of the difference, so
    the agreement is not a lucky draw."""
    years = 3 if scenario == "competitor-launch" else 5
    seeds = range(4)
    wk = _outcomes(scenario, WEEKS, years, seeds, 2000)
    mo = _outcomes(scenario, MONTHS, years, seeds, 2000)
    r = len(seeds)
    mean_w, mean_m = wk.mean(axis=0), mo.mean(axis=0)
    se = np.sqrt(wk.var(axis=0, ddof=1) / r + mo.var(axis=0, ddof=1) / r)
    for k, name in ((0, "share"), (1, "alignment")):
        gap = abs(mean_m[k] - mean_w[k]) + 2 * se[k]
        assert gap <= 0.05, f"{name}: weeks {mean_w[k]:.3f}, months {mean_m[k]:.3f}"
    rel = abs(math.log(mean_m[2] / mean_w[2])) + 2 * se[2] / mean_w[2]
    assert rel <= math.log(1.15), f"revenue: weeks {mean_w[2]:.0f}, months {mean_m[2]:.0f}"


def test_a_long_step_decides_in_the_first_week_a_firm_is_met() -> None:
    """first_week: the incumbent (firm 0) is met every week, so the customer decides in
    week 0. A firm that contacts its kind every week (firm 1) is met that week too; one
    that contacts it with chance c a week (firm 2) is met first in week 0 with chance
    c / (1 - (1 - c)^k), within 4 binomial standard errors."""
    from sim.choice_picks import first_week
    from sim.rng import address, round_keys

    rk = round_keys(7, "behaviour")
    k, c, n = 52 / 12, 0.1, 20000
    weekly = np.array([[0.0, 0.5, 0.5], [0.0, 1.0, 1.0], [0.0, c, c]])
    kind = np.array([1, 1, 1], dtype=np.uint8)
    week = np.zeros(3, dtype=np.int64)
    kept = np.zeros(3, dtype=np.int64)
    for i in range(n):
        exposed = np.ones(3, dtype=np.bool_)
        first_week(exposed, week, 0, -1, kind, weekly, 0.1, rk, address(3), i, 0, k)
        kept += exposed
    assert kept[0] == n and kept[1] == n
    p = c / (1.0 - (1.0 - c) ** k)
    assert abs(kept[2] / n - p) < 4 * math.sqrt(p * (1 - p) / n)
    # without an incumbent the first week is the earliest firm's: never empty
    exposed = np.array([False, False, True])
    first_week(exposed, week, -1, -1, kind, weekly, 0.1, rk, address(3), 1, 0, k)
    assert exposed[2]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("run.warmup_steps", "warmup_weeks"),
        ("focal.strategy.lead_time_steps", "lead_time_weeks"),
        ("focal.products.0.launch_step", "launch_week"),
    ],
)
def test_a_field_counted_in_steps_names_its_weekly_successor(old: str, new: str) -> None:
    from sim.scenario import ScenarioError, load_scenario

    with pytest.raises(ScenarioError, match=f"use '{new}'"):
        load_scenario("baseline", overrides={old: 4})


def test_an_event_step_names_its_week() -> None:
    from sim.scenario import ScenarioError, build_scenario

    events = [{"kind": "launch", "step": 4, "category": "core", "tier": "premium"}]
    with pytest.raises(ScenarioError, match="focal.events.0.step: unknown field; .* use 'week'"):
        build_scenario({"focal": {"events": events}}, {})
