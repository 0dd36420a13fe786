"""A served need's age is an int16 counter (docs/model.md §2.1): a lifetime is refused
if its length in steps does not fit it, and the longest allowed lifetime gives every
served need a starting age in [0, lifetime), uniform (§5)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DemandModel
from sim.scenario import AGE_MAX_STEPS, ScenarioError
from sim.state import SERVED
from tests.helpers import bass_scenario

# (steps a year, the longest lifetime in weeks whose steps fit the counter):
# round(weeks * steps_per_year / 52) <= 32767
LONGEST = [(52, 32767), (12, 32767), (364, 4681), (100_000, 17)]
N = 20_000


def _model(steps_per_year: int, weeks: int) -> DemandModel:
    over = {
        "run.steps_per_year": steps_per_year,
        "categories.0.lifetime_weeks": weeks,
        "demand.initial_active": 0.0,
        "demand.initial_served": 1.0,
    }
    return DemandModel(bass_scenario(0.01, 0.1, n=N), rng=5, overrides=over)


@pytest.mark.parametrize(("steps_per_year", "weeks"), LONGEST)
def test_starting_ages_lie_in_the_lifetime_for_the_longest_one(
    steps_per_year: int, weeks: int
) -> None:
    model = _model(steps_per_year, weeks)
    life = int(model.market.lifetime[0])
    assert life == model.market.clock.steps(weeks, 1) <= AGE_MAX_STEPS
    served = model.state.need[:, 0] == SERVED
    assert served.all()
    age = model.state.age[served, 0].astype(np.int64)
    assert age.min() >= 0 and age.max() < life
    # floor(u * life) is uniform on 0 .. life - 1
    se = life / np.sqrt(12 * age.size)
    assert abs(age.mean() - (life - 1) / 2) < 4 * se
    model.step()  # each need ages one step, and none past its lifetime
    still = model.state.need[:, 0] == SERVED
    aged = model.state.age[still, 0].astype(np.int64)
    assert aged.min() >= 1 and aged.max() < life


@pytest.mark.parametrize(("steps_per_year", "weeks"), LONGEST)
def test_a_lifetime_one_week_longer_is_refused(steps_per_year: int, weeks: int) -> None:
    with pytest.raises(ScenarioError, match=r"categories\.0\.lifetime_weeks = "):
        _model(steps_per_year, weeks + 1)
