"""The same years in weekly and in monthly steps, for every bundled scenario.

    python -m benchmarks.calendars [--customers 2000] [--seeds 3] [--years 5]

Prints, per scenario, the final market share, the final alignment and the total
revenue of the focal firm in both calendars (means over independent seeds, with their
standard errors), and the months/weeks revenue ratio. A scenario's time fields are in
weeks and years (``sim.calendar``), so only the resolution differs.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from sim import DemandModel
from sim.scenario import bundled_names

KEYS = ("market_share_final", "alignment_final", "revenue_total")


def outcomes(name: str, spy: int, years: int, seeds: int, n: int) -> np.ndarray:
    rows = []
    for s in range(seeds):
        m = DemandModel(name, rng=s, overrides={"run.customers": n, "run.steps_per_year": spy})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            m.run(years * spy)
            sm = m.summary()
        rows.append([float(sm[k]) for k in KEYS])
    return np.array(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--years", type=int, default=5)
    a = ap.parse_args()
    print(f"{a.customers} customers, {a.years} years, {a.seeds} seeds per calendar")
    print(
        f"{'scenario':28s} {'share wk / mo':>17s} {'alignment wk / mo':>19s} {'revenue mo/wk':>14s}"
    )
    for name in bundled_names():
        if name == "bass-check":  # one step is the recursion's period, by definition
            continue
        wk = outcomes(name, 52, a.years, a.seeds, a.customers)
        mo = outcomes(name, 12, a.years, a.seeds, a.customers)
        w, m = wk.mean(axis=0), mo.mean(axis=0)
        print(f"{name:28s} {w[0]:8.3f} / {m[0]:.3f} {w[1]:10.3f} / {m[1]:.3f} {m[2] / w[2]:14.3f}")


if __name__ == "__main__":
    main()
