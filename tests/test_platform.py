"""Tier 2: paired tests of the marketing platform (same seeds on both sides, so
common random numbers make the differences sharp). Every margin is derived from
the standard error of the paired differences."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import DemandModel
from sim.scenario import build_scenario
from tests.helpers import small

SEEDS = range(8)


def _paired(
    key: str, a: dict[str, Any], b: dict[str, Any], steps: int = 104, n: int = 2000
) -> np.ndarray:
    """b - a for a summary key over the same seeds."""
    out = []
    for s in SEEDS:
        va = DemandModel(small(n=n, **a), rng=s).run(steps).summary()[key]
        vb = DemandModel(small(n=n, **b), rng=s).run(steps).summary()[key]
        out.append(vb - va)
    return np.array(out, dtype=float)


def _significantly_positive(d: np.ndarray, z: float = 3.0) -> bool:
    return bool(d.mean() > z * d.std(ddof=1) / np.sqrt(d.size))


def test_higher_density_raises_marketing_density_and_lowers_dpmo() -> None:
    lo, hi = {"focal.platform.density": 0.05}, {"focal.platform.density": 0.3}
    assert _significantly_positive(_paired("marketing_density", lo, hi))
    assert _significantly_positive(-_paired("dpmo", lo, hi))


def test_higher_density_shortens_detection_lags() -> None:
    d = _paired(
        "detection_lag_median", {"focal.platform.density": 0.05}, {"focal.platform.density": 0.3}
    )
    assert _significantly_positive(-d)


def test_higher_strength_shortens_detection_lags() -> None:
    d = _paired(
        "detection_lag_median", {"focal.platform.strength": 0.3}, {"focal.platform.strength": 0.95}
    )
    assert _significantly_positive(-d)


def _onsets(upmarket_rate: float) -> list[int | None]:
    frozen = {"focal.strategy.enabled": False, "segments.0.upmarket_rate": upmarket_rate}
    return [
        DemandModel(small(n=2000, **frozen), rng=s).run(156).summary()["contraction_onset"]
        for s in SEEDS
    ]


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_fast_drift_with_frozen_portfolio_contracts_and_no_drift_does_not() -> None:
    drift = _onsets(2.0)
    still = _onsets(0.0)
    k_drift = sum(o is not None for o in drift)
    k_still = sum(o is not None for o in still)
    # the 95% intervals of the two contraction rates do not overlap
    assert _wilson(k_drift, len(drift))[0] > _wilson(k_still, len(still))[1]
    # an onset is a step inside the run, after the warm-up and the 13-step streak
    assert all(13 <= o <= 156 for o in drift if o is not None)


LAUNCH = {
    # the market the launch test was calibrated on: the schema's default tier mix,
    # upmarket pace and misread rate (the flagship baseline's own are all customers at
    # entry, 0.6 and 0.6)
    "segments.0.tier_mix": [0.5, 0.35, 0.15],
    "segments.0.upmarket_rate": 0.3,
    "focal.platform.misread_rate": 0.3,
    "focal.strategy.enabled": False,
    "competitors.0.strategy.enabled": False,
    "focal.events": [{"kind": "launch", "week": 26, "category": "core", "tier": "premium"}],
    "focal.strategy.evaluation_weeks": 13,
    "focal.strategy.launch_target": 0.0175,
}
SENSITIVE = {"focal.platform.density": 0.3, "focal.platform.strength": 0.95}
INSENSITIVE = {
    "focal.platform.density": 0.02,
    "focal.platform.strength": 0.4,
    "focal.platform.targeting": "homogeneous",
}


def test_sensitive_platform_launch_succeeds_more_often() -> None:
    wins = {"sens": [], "ins": []}  # type: dict[str, list[int]]
    adopters = {"sens": [], "ins": []}  # type: dict[str, list[int]]
    for s in range(12):
        for side, ov in (("sens", SENSITIVE), ("ins", INSENSITIVE)):
            summary = DemandModel(small(n=2000, **LAUNCH, **ov), rng=s).run(40).summary()
            (launch,) = [la for la in summary["launches"] if la["firm"] == "focal"]
            assert launch["outcome"] in ("success", "failure")
            wins[side].append(launch["outcome"] == "success")
            adopters[side].append(launch["adopters"])
    # paired difference of success indicators and of adopters, beyond 3 standard errors
    d = np.array(wins["sens"], dtype=float) - np.array(wins["ins"], dtype=float)
    assert d.mean() > 0 and _significantly_positive(
        np.array(adopters["sens"]) - np.array(adopters["ins"])
    )
    assert _wilson(sum(wins["sens"]), 12)[0] > _wilson(sum(wins["ins"]), 12)[1]


def _records_market(coverage: float, density: float) -> Any:
    """Segment 'b' wants premium core products, which the focal firm does not sell
    and (with a steep fit penalty) never sells them anything else: it can only learn
    of their demand through its platform."""
    return build_scenario(
        {
            "run": {"customers": 2000},
            "segments": [
                {"name": "a", "share": 0.5, "tier_mix": [1.0, 0.0, 0.0], "upmarket_rate": 0.0},
                {"name": "b", "share": 0.5, "tier_mix": [0.0, 0.0, 1.0], "upmarket_rate": 0.0},
            ],
            "categories": [{"name": "core"}],
            "choice": {"fit": 12.0},
            "demand": {
                "initial_served": 0.0,
                "initial_active": 0.0,
                "initial_latent": 0.0,
                "emergence_rate": 3.0,
            },
            "focal": {
                "products": [{"category": "core", "tier": "entry"}],
                "platform": {"coverage": coverage, "density": density, "strength": 0.95},
                "strategy": {"threshold": 0.1, "persistence_weeks": 4, "lead_time_weeks": 4},
            },
            "competitors": [
                {
                    "name": "rival",
                    "products": [{"category": "core", "tier": "premium"}],
                    "strategy": {"enabled": False},
                },
            ],
        }
    )


def test_decisions_follow_records_not_truth() -> None:
    for seed in range(3):
        blind = DemandModel(_records_market(0.0, 0.3), rng=seed).run(52)
        seeing = DemandModel(_records_market(1.0, 0.3), rng=seed).run(52)
        premium = (0, 2)
        # the truth is the same in both markets: premium demand grew among segment b
        for m in (blind, seeing):
            b = m.state.segment == 1
            assert ((m.state.need[b, 0] >= 2) & (m.state.tier[b, 0] == 2)).mean() > 0.5
        # the blind firm never sold to segment b, so it never knew and never launched
        blind_b = blind.state.segment == 1
        assert not (blind.state.supplier[blind_b, 0] == 0).any()
        assert not blind.focal.book.has[premium]
        assert not blind.focal.book.launches
        # the firm whose platform covers the market saw it and launched premium
        assert seeing.focal.book.has[premium]
        assert [(la.category, la.tier, la.kind) for la in seeing.focal.book.launches] == [
            ("core", "premium", "planned")
        ]


def test_whole_steps_reach_a_due_time_as_the_float_comparison_does() -> None:
    """The scheduled scan compares a gap of whole steps g with ceil(d) (``_steps_to``)
    instead of float(g) >= d: the same answer for every gap and due time, at integers,
    one ulp either side of them, and past any gap."""
    from sim.platform import _steps_to

    rng = np.random.default_rng(7)
    dues = [0.0, 1.0, 2.0, 9.999999999999998, 10.0, 12.5, 2.0**40, 2.0**70, np.inf]
    dues += list(1.0 / rng.uniform(1e-6, 1.0, 200))
    for d in list(dues):
        dues += [np.nextafter(d, -np.inf), np.nextafter(d, np.inf)]
        dues.append(d - 1.0)
    gaps = np.concatenate([np.arange(-3, 60), [2**30, 2**31 + 5, 2**40, 2**52]])
    for d in dues:
        at = _steps_to(d)
        for g in gaps:
            assert (float(g) >= d) == (int(g) >= at), (d, g, at)
