"""What each leak of the truth into firms' decisions had been hiding, in numbers.

    python -m benchmarks.belief_leaks
    PYTHONPATH=/path/to/an/older/checkout python -m benchmarks.belief_leaks  # before

Three measurements, each on paired seeds:

1. ``upmarket-shift`` with planning (threshold 0.3, 3,000 customers, 120 steps, seeds
   0-5): the step of the focal firm's first premium development and whether its
   market contracted, with the baseline platform and with an insensitive one
   (density 0.02, strength 0.4);
2. a firm with no platform (coverage 0, density 0) on ``upmarket-shift`` with
   planning: the developments it starts (cells it learnt of only from the truth);
3. homogeneous targeting, strength 0.2 against 1.0 on ``baseline`` (2,000 customers,
   78 steps, seeds 0-5): the change in marketing density, mean and standard error.

Prints one JSON line.
"""

from __future__ import annotations

import json

import numpy as np

from sim import DemandModel

INSENSITIVE = {"focal.platform.density": 0.02, "focal.platform.strength": 0.4}


def first_premium(summary: dict) -> int | None:
    for e in summary["planning"]:
        if e["firm"] == "focal" and e["event"] == "development" and e["tier"] == "premium":
            return int(e["step"])
    return None


def main() -> int:
    out: dict[str, object] = {}
    rows = []
    for seed in range(6):
        row = []
        for extra in ({}, INSENSITIVE):
            ov = {
                "run.customers": 3000,
                "focal.strategy.enabled": True,
                "focal.strategy.threshold": 0.3,
                **extra,
            }
            s = DemandModel("upmarket-shift", rng=seed, overrides=ov).run(120).summary()
            row.append((first_premium(s), s["contraction_onset"] is not None))
        rows.append(row)
    out["first_premium_development_sensitive_insensitive"] = [(a[0], b[0]) for a, b in rows]
    out["contracted_sensitive_insensitive"] = [
        sum(a[1] for a, _ in rows),
        sum(b[1] for _, b in rows),
    ]
    blind = {
        "run.customers": 2000,
        "focal.platform.coverage": 0.0,
        "focal.platform.density": 0.0,
        "focal.strategy.enabled": True,
    }
    out["developments_without_a_platform"] = [
        [
            (e["tier"], e["step"])
            for e in DemandModel("upmarket-shift", rng=seed, overrides=blind)
            .run(60)
            .summary()["planning"]
            if e["firm"] == "focal" and e["event"] == "development"
        ]
        for seed in (1, 2, 3)
    ]
    diffs = []
    for seed in range(6):
        md = [
            DemandModel(
                "baseline",
                rng=seed,
                overrides={
                    "run.customers": 2000,
                    "focal.platform.targeting": "homogeneous",
                    "focal.platform.strength": strength,
                },
            )
            .run(78)
            .summary()["marketing_density"]
            for strength in (0.2, 1.0)
        ]
        diffs.append(md[1] - md[0])
    d = np.array(diffs)
    out["marketing_density_gain_strength_0.2_to_1.0"] = [
        float(d.mean()),
        float(d.std(ddof=1) / np.sqrt(d.size)),
    ]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
