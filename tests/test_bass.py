"""Tier 1 limit case: one firm, one category, one tier, mean-field mixing, every need
active from the start — the mean adopter share follows the discrete Bass recursion."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DemandModel
from tests.helpers import bass_curve, bass_scenario

REPS, STEPS, N = 24, 30, 2000


@pytest.mark.parametrize(("p", "q"), [(0.03, 0.38), (0.01, 0.6), (0.08, 0.1)])
def test_mean_adopter_share_follows_discrete_bass(p: float, q: float) -> None:
    sc = bass_scenario(p, q, N)
    paths = np.empty((REPS, STEPS + 1))
    for r in range(REPS):
        model = DemandModel(sc, rng=100 + r).run(STEPS)
        paths[r] = model.datacollector.get_model_vars_dataframe()["adopters"].to_numpy() / N
    mean = paths.mean(axis=0)
    se = paths.std(axis=0, ddof=1) / np.sqrt(REPS)
    expected = bass_curve(p, q, STEPS)
    # tolerance: 4 standard errors, plus the O(1/N) gap between E[f(F)] and f(E[F])
    tol = 4 * se + 2.0 / N
    assert np.all(np.abs(mean - expected) <= tol), np.max(np.abs(mean - expected) - tol)
    # and the curve is not trivially flat: the test could fail
    assert mean[-1] > 0.2


def test_bass_without_word_of_mouth_is_geometric() -> None:
    # q = 0: F(n) = 1 - (1-p)^n exactly in expectation
    p = 0.05
    sc = bass_scenario(p, 0.0, N)
    paths = np.array(
        [
            DemandModel(sc, rng=7 + r)
            .run(20)
            .datacollector.get_model_vars_dataframe()["adopters"]
            .to_numpy()
            / N
            for r in range(12)
        ]
    )
    expected = 1 - (1 - p) ** np.arange(21)
    se = paths.std(axis=0, ddof=1) / np.sqrt(len(paths))
    assert np.all(np.abs(paths.mean(axis=0) - expected) <= 4 * se + 1e-12)
