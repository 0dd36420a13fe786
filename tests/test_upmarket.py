"""Tier 1/2: with a constant hazard the mean desired tier moves as the closed form says."""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from sim import DemandModel
from sim.scenario import build_scenario
from tests.helpers import NO_DEFECTS

TIERS = ["t0", "t1", "t2", "t3", "t4", "t5"]


def _scenario(rate: float, n: int) -> object:
    return build_scenario(
        {
            "run": {"name": "upmarket", "customers": n, "warmup_weeks": 0},
            "categories": [
                {
                    "name": "core",
                    "tiers": TIERS,
                    "prices": [1.0] * 6,
                    "qualities": [0.7] * 6,
                    "lifetime_weeks": 32767,
                    "failure_rate": 0.0,
                }
            ],
            "segments": [
                {"name": "all", "share": 1.0, "tier_mix": [1.0] + [0.0] * 5, "upmarket_rate": rate}
            ],
            "demand": {
                "initial_active": 0.0,
                "initial_served": 1.0,
                "initial_latent": 0.0,
                "churn_rate": 0.0,
                "age_gain": 0.0,
                "satisfaction_gain": 0.0,
            },
            "focal": {
                "products": [{"category": "core", "tier": t} for t in TIERS],
                "strategy": {"enabled": False},
                "chain": NO_DEFECTS,
            },
            "competitors": [],
        }
    )


def test_constant_hazard_moves_mean_tier_at_the_closed_form_rate() -> None:
    rate, n, steps = 5.2, 4000, 60  # 5.2 per year = 0.1 per week
    model = DemandModel(_scenario(rate, n), rng=11)
    h = 1 - np.exp(-rate / 52)
    top = len(TIERS) - 1
    for t in range(1, steps + 1):
        model.step()
        if t % 10:
            continue
        tiers = model.state.tier[:, 0].astype(float)
        k = np.arange(t + 1)
        pmf = binom.pmf(k, t, h)
        expected = (np.minimum(k, top) * pmf).sum()
        var = ((np.minimum(k, top) - expected) ** 2 * pmf).sum()
        se = np.sqrt(var / n)
        assert abs(tiers.mean() - expected) <= 4 * se, (t, tiers.mean(), expected, se)
    # everyone stayed served: the supplier sells every tier
    assert (model.state.need == 3).all()


def test_no_hazard_no_movement() -> None:
    model = DemandModel(_scenario(0.0, 500), rng=2).run(30)
    assert (model.state.tier == 0).all()
