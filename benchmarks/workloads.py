"""The fixed benchmark workloads.

Every workload is the same market at a different size: two categories (``core`` and
its ``complement``) of four tiers each, two segments, three firms with marketing
platforms (the focal firm with a personalised platform, two rivals with
homogeneous ones), a Watts–Strogatz small world of mean degree 10, and 260 steps
(five years of weeks). Only ``run.customers`` changes between workloads, so
customer-steps per second are comparable across sizes.
"""

from __future__ import annotations

from typing import Any

from sim.scenario import Scenario, build_scenario

#: workload name -> customers
SIZES: dict[str, int] = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1M": 1_000_000}
STEPS = 260
SEED = 2024

_TIERS = ["entry", "standard", "plus", "premium"]


def workload_data(customers: int, steps: int = STEPS) -> dict[str, Any]:
    """The workload as plain scenario data (what a TOML file would hold)."""
    return {
        "run": {
            "name": f"bench-{customers}",
            "description": "Fixed benchmark workload: 2 categories x 4 tiers, 3 firms, small world.",
            "customers": customers,
            "steps": steps,
            "seed": SEED,
        },
        "categories": [
            {
                "name": "core",
                "tiers": _TIERS,
                "prices": [1.0, 1.4, 1.9, 2.6],
                "qualities": [0.55, 0.65, 0.75, 0.85],
            },
            {
                "name": "complement",
                "tiers": _TIERS,
                "prices": [0.4, 0.6, 0.9, 1.3],
                "qualities": [0.55, 0.65, 0.75, 0.85],
                "complement_of": "core",
            },
        ],
        "segments": [
            {"name": "mainstream", "share": 0.7, "tier_mix": [0.45, 0.35, 0.15, 0.05]},
            {
                "name": "demanding",
                "share": 0.3,
                "tier_mix": [0.15, 0.35, 0.3, 0.2],
                "upmarket_rate": 0.5,
                "price_sensitivity": 0.6,
            },
        ],
        "network": {"kind": "watts-strogatz", "degree": 10, "rewire": 0.1},
        "focal": {
            "name": "focal",
            "products": [
                {"category": "core", "tier": "entry"},
                {"category": "core", "tier": "standard"},
                {"category": "complement", "tier": "entry"},
            ],
            "platform": {
                "coverage": 0.8,
                "density": 0.1,
                "strength": 0.8,
                "targeting": "personalized",
            },
        },
        "competitors": [
            {
                "name": "rival",
                "products": [{"category": "core", "tier": t} for t in _TIERS],
                "platform": {
                    "coverage": 0.6,
                    "density": 0.05,
                    "strength": 0.7,
                    "targeting": "homogeneous",
                },
            },
            {
                "name": "niche",
                "initial_share": 0.4,
                "products": [
                    {"category": "core", "tier": "plus"},
                    {"category": "core", "tier": "premium"},
                    {"category": "complement", "tier": "plus"},
                    {"category": "complement", "tier": "premium"},
                ],
                "platform": {
                    "coverage": 0.5,
                    "density": 0.08,
                    "strength": 0.9,
                    "targeting": "personalized",
                },
            },
        ],
    }


def workload(name_or_customers: str | int, steps: int = STEPS) -> Scenario:
    """A validated workload scenario by name (``"10k"``) or by customer count."""
    n = SIZES[name_or_customers] if isinstance(name_or_customers, str) else int(name_or_customers)
    return build_scenario(workload_data(n, steps))
