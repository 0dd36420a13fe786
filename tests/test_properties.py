"""Property tests over random valid scenarios: each need is in exactly one state,
customers are conserved, shares sum to one, served needs have a supplier."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import DemandModel
from sim.scenario import build_scenario

rates = st.floats(min_value=0.0, max_value=20.0, allow_nan=False)
probs = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _mix(weights: list[float]) -> list[float]:
    """One weight per tier, summing to 1 (as the scenario schema requires)."""
    total = sum(weights)
    return [w / total for w in weights]


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    n_cat = draw(st.integers(1, 3))
    cats = []
    for c in range(n_cat):
        k = draw(st.integers(1, 4))
        cats.append(
            {
                "name": f"c{c}",
                "tiers": [f"t{i}" for i in range(k)],
                "prices": [draw(st.floats(0.1, 5.0)) for _ in range(k)],
                "qualities": [draw(probs) for _ in range(k)],
                "lifetime_weeks": draw(st.integers(1, 200)),
                "failure_rate": draw(rates),
                "complement_of": "c0" if c > 0 and draw(st.booleans()) else "",
            }
        )
    max_t = max(len(c["tiers"]) for c in cats)
    n_seg = draw(st.integers(1, 3))
    w = [draw(st.floats(0.1, 1.0)) for _ in range(n_seg)]
    segs = [
        {
            "name": f"s{i}",
            "share": w[i] / sum(w) if i < n_seg - 1 else 1.0 - sum(w[:-1]) / sum(w),
            "tier_mix": _mix([draw(st.floats(0.01, 1.0)) for _ in range(max_t)]),
            "upmarket_rate": draw(rates),
            "complement_propensity": draw(probs),
        }
        for i in range(n_seg)
    ]
    init = sorted(draw(probs) for _ in range(3))

    def firm(name: str) -> dict:
        prods = []
        for c in cats:
            for t in c["tiers"]:
                if draw(st.booleans()):
                    prods.append(
                        {
                            "category": c["name"],
                            "tier": t,
                            "launch_week": draw(st.sampled_from([0, 0, 3])),
                        }
                    )
        return {
            "name": name,
            "products": prods,
            "platform": {
                "coverage": draw(probs),
                "density": draw(probs),
                "strength": draw(probs),
                "targeting": draw(st.sampled_from(["homogeneous", "personalized"])),
            },
            "strategy": {
                "enabled": draw(st.booleans()),
                "persistence_weeks": 2,
                "lead_time_weeks": draw(st.integers(0, 3)),
            },
            "events": [{"kind": "supplier_failure", "week": 4, "share": draw(probs)}]
            if draw(st.booleans())
            else [],
        }

    return {
        "run": {"customers": draw(st.integers(20, 300))},
        "categories": cats,
        "segments": segs,
        "demand": {
            "initial_latent": init[0],
            "initial_active": init[1] - init[0],
            "initial_served": init[2] - init[1],
            "emergence_rate": draw(rates),
            "activation_rate": draw(rates),
            "expiry_rate": draw(rates),
            "churn_rate": draw(rates),
        },
        "network": {
            "kind": draw(
                st.sampled_from(["watts-strogatz", "barabasi-albert", "erdos-renyi", "mean-field"])
            ),
            "degree": draw(st.integers(2, 8)),
        },
        "wom": {"q": draw(probs)},
        "focal": firm("focal"),
        "competitors": [firm(f"r{i}") for i in range(draw(st.integers(0, 2)))],
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 2**31))
def test_invariants_hold_every_step(data: dict, seed: int) -> None:
    sc = build_scenario(data)
    model = DemandModel(sc, rng=seed)
    n, C = model.state.need.shape
    segments = model.state.segment.copy()
    for _ in range(8):
        model.step()
        st_ = model.state
        counts = sum(int((st_.need == s).sum()) for s in range(4))
        assert counts == n * C  # each need is in exactly one state
        assert st_.need.shape == (n, C) and n == sc.run.customers  # customers conserved
        assert np.array_equal(st_.segment, segments)
        st_.check()
        served = st_.need == 3
        assert (st_.supplier[served] < len(sc.firms)).all()
        row = model.row
        firm_shares = [row[f"share_{f.name}"] for f in sc.firms]
        if served.any():
            assert abs(sum(firm_shares) - 1.0) < 1e-9
        demand = [v for k, v in row.items() if k.startswith("demand_")]
        if ((st_.need == 2) | served).any():
            assert abs(sum(demand) - 1.0) < 1e-9
        assert 0.0 <= row["market_share"] <= 1.0
    led = model.ledger
    assert led.opportunities_total == led.effective_total + led.exclusion_total + led.omission_total
