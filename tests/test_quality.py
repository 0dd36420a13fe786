"""Tier 1: the six-sigma table, DPMO and yields, in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import DemandModel
from sim.quality import (
    MAX_SIGMA,
    dpmo,
    dpmo_from_sigma,
    first_pass_yield,
    rolled_throughput_yield,
    sigma_level,
)
from tests.helpers import small

# The standard shifted table: DPMO -> sigma level.
TABLE = [(691_462, 1.0), (308_538, 2.0), (66_807, 3.0), (6_210, 4.0), (233, 5.0), (3.4, 6.0)]


@pytest.mark.parametrize(("ppm", "sigma"), TABLE)
def test_sigma_level_reproduces_the_shifted_table(ppm: float, sigma: float) -> None:
    # the table's DPMO figures are rounded, so allow the rounding's effect only
    assert sigma_level(ppm) == pytest.approx(sigma, abs=2e-3)


@pytest.mark.parametrize(("ppm", "sigma"), TABLE)
def test_dpmo_from_sigma_inverts_the_table(ppm: float, sigma: float) -> None:
    assert dpmo_from_sigma(sigma) == pytest.approx(ppm, rel=0.01)


@given(st.floats(min_value=1e-3, max_value=999_999.0))
def test_sigma_round_trip(ppm: float) -> None:
    assert dpmo_from_sigma(sigma_level(ppm)) == pytest.approx(ppm, rel=1e-6)


def test_dpmo_and_edges() -> None:
    assert dpmo(5, 1000) == 5000.0
    assert math.isnan(dpmo(0, 0))
    assert sigma_level(0.0) == MAX_SIGMA
    assert math.isnan(sigma_level(math.nan))
    with pytest.raises(ValueError, match="defects"):
        dpmo(11, 10)
    with pytest.raises(ValueError, match="dpmo_value"):
        sigma_level(2e6)


def test_rty_is_the_product_of_first_pass_yields() -> None:
    fpy = [first_pass_yield(d, 1000) for d in (10, 0, 35, 2)]
    assert rolled_throughput_yield(fpy) == pytest.approx(np.prod([0.99, 1.0, 0.965, 0.998]))
    assert rolled_throughput_yield([0.9, math.nan, 0.5]) == pytest.approx(0.45)


def test_model_chain_rty_matches_its_links() -> None:
    model = DemandModel(small(n=1500), rng=3).run(40)
    s = model.summary()
    fpys = [v["fpy"] for v in s["chain"].values()]
    assert s["rty"] == pytest.approx(np.prod([f for f in fpys if f == f]), rel=1e-12)
    for link in s["chain"].values():
        assert link["defects"] <= link["opportunities"]
        if link["opportunities"]:
            assert link["dpmo"] == pytest.approx(link["defects"] / link["opportunities"] * 1e6)
    # every link of the chain was exercised in a 40-step run
    assert all(v["opportunities"] > 0 for v in s["chain"].values())


@given(st.floats(min_value=-12.0, max_value=14.0, allow_nan=False))
def test_dpmo_from_sigma_is_the_normal_tail_scipy_stats_gives_bit_for_bit(sigma: float) -> None:
    from scipy.stats import norm

    assert dpmo_from_sigma(sigma) == float(norm.sf(sigma - 1.5) * 1e6)


def test_a_model_run_does_not_import_scipy_stats() -> None:
    """scipy.stats costs about 0.9 s of every run's start-up; the sigma measures need
    only scipy.special (docs/performance.md, "Start-up of a run")."""
    import subprocess
    import sys

    code = (
        "import sys; from sim import DemandModel; "
        "DemandModel('baseline', rng=1, overrides={'run.customers': 300}).run(3); "
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
