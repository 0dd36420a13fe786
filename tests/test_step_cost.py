"""The cheaper forms of a step's small-array work give the numbers of the forms they
replace, bit for bit (the goldens of ``test_determinism`` check whole runs; these check
each replacement where it can differ)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import DemandModel
from sim.detection import EV, EVENT_TYPES
from sim.strategy import binomials


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.97, 1.0])
def test_binomials_are_numpys_array_draw_and_leave_the_stream_where_it_leaves_it(
    p: float,
) -> None:
    # counts small and large: both of numpy's samplers (inversion and BTPE), and zeros
    n = np.random.default_rng(7).integers(0, 3000, size=(40, 3))
    n[::5, 1] = 0
    n[1::7, 2] = np.arange(n[1::7, 2].size)
    ours, numpys = np.random.default_rng(11), np.random.default_rng(11)
    got = binomials(ours, n, p)
    want = numpys.binomial(n, p)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want)
    assert ours.random() == numpys.random()


@pytest.mark.parametrize("steps", [1, 3, 40])
def test_the_rows_detection_measures_are_those_of_the_trackers_own_statistics(
    steps: int,
) -> None:
    model = DemandModel("baseline", rng=5, overrides={"run.customers": 1500}).run(steps)
    tr, now = model.tracker, model.t
    all_k = list(range(len(EVENT_TYPES)))
    share, lags = tr.row_measures(now)
    # NaN where there is nothing to measure yet, in both
    np.testing.assert_array_equal(lags, tr.lag_medians([all_k] + [[k] for k in EV.values()], now))
    np.testing.assert_array_equal(share, tr.detected_share(all_k, now))
    assert (now >= tr.horizon) == (not math.isnan(share))  # a share once H steps are old
    if steps == 40:  # lags are measured by then: the comparison bites
        assert not all(math.isnan(x) for x in lags)
