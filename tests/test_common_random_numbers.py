"""Changing only a platform parameter leaves the customers' own demand process
unchanged step for step (docs/model.md §7.2: random numbers by address)."""

from __future__ import annotations

import numpy as np

from sim import DemandModel
from sim.state import SERVED
from tests.helpers import small


def test_platform_change_does_not_move_the_demand_process() -> None:
    # Portfolios are frozen: a platform that launches earlier changes which upmarket
    # moves its customers can stay served through, which is a firm's action, not
    # the customers' demand process.
    # The market starts at step 0 (no warm-up): a warm-up's sales, which the platforms
    # drive, would already have made the two markets differ at step 0.
    frozen = {
        "focal.strategy.enabled": False,
        "competitors.0.strategy.enabled": False,
        "run.warmup_weeks": 0,
    }
    sc_a = small(
        n=3000, **frozen, **{"focal.platform.density": 0.05, "focal.platform.strength": 0.5}
    )
    sc_b = small(
        n=3000, **frozen, **{"focal.platform.density": 0.4, "focal.platform.strength": 0.95}
    )
    a, b = DemandModel(sc_a, rng=17), DemandModel(sc_b, rng=17)
    np.testing.assert_array_equal(a.state.need, b.state.need)  # same initial market
    touched = np.zeros(3000, dtype=bool)
    compared = 0
    for _ in range(52):
        a.step()
        b.step()
        # a customer whose history differed through a purchase (in either run) may
        # legitimately differ afterwards; everyone else must follow the same path
        # a sale this step leaves a served need of age 0 (ageing runs before choice)
        bought = ((a.state.need == SERVED) & (a.state.age == 0)) | (
            (b.state.need == SERVED) & (b.state.age == 0)
        )
        touched |= bought.any(axis=1)
        same = ~touched
        np.testing.assert_array_equal(a.state.need[same], b.state.need[same])
        np.testing.assert_array_equal(a.state.tier[same], b.state.tier[same])
        np.testing.assert_array_equal(a.state.age[same], b.state.age[same])
        compared += int(same.sum())
    # the comparison covered many customers, and the platforms really did differ
    assert (~touched).sum() > 300
    ta = a.datacollector.get_model_vars_dataframe()
    tb = b.datacollector.get_model_vars_dataframe()
    assert tb["contacts"].iloc[-1] > 4 * ta["contacts"].iloc[-1]
    assert not np.array_equal(a.state.need, b.state.need)


def test_a_competitor_parameter_does_not_move_the_focal_platforms_draws() -> None:
    # the same records at step 0 and the same addressed draws: the focal firm contacts
    # the same customers in the first step, whatever the rival's platform does
    cold = {"run.warmup_weeks": 0}
    a = DemandModel(small(n=1000, **cold, **{"competitors.0.platform.density": 0.01}), rng=3)
    b = DemandModel(small(n=1000, **cold, **{"competitors.0.platform.density": 0.5}), rng=3)
    a.step()
    b.step()
    ca, cb = a.work.arrays["contacted"], b.work.arrays["contacted"]
    np.testing.assert_array_equal(ca[0], cb[0])
    assert cb[1].sum() > 10 * max(ca[1].sum(), 1)  # the rival's contacts did differ
