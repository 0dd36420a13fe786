"""The figures insensitive-platform's description quotes, measured on the default engine.

For each seed, on baseline and on insensitive-platform (10,000 customers, 260 weeks):
the first step at which the focal firm believes 20% of the customers it knows want core
premium (its strategy's development threshold), the largest share of the customers it
knows that it believes want an entry complement, the step of that peak and the true
share of all customers with an entry-complement need then, and the true share's range
over the run.

    python -m benchmarks.flagship_beliefs --seeds 0 3
"""

from __future__ import annotations

import argparse

import numpy as np

from sim import DemandModel
from sim.state import LATENT
from sim.strategy import believed_demand


def measure(name: str, seed: int, steps: int = 260) -> dict[str, float | int | None]:
    """One run's belief figures (see the module's docstring)."""
    model = DemandModel(name, rng=seed)
    firm, market, state = model.books[0], model.market, model.state
    core, comp = market.category_names.index("core"), market.category_names.index("complement")
    premium = list(market.tier_names[core]).index("premium")
    first20: int | None = None
    peak, peak_step, peak_true = 0.0, -1, float("nan")
    true: list[float] = []
    for t in range(1, steps + 1):
        model.step()
        wanted, known = believed_demand(firm, market)
        now = float(np.mean((state.need[:, comp] >= LATENT) & (state.tier[:, comp] == 0)))
        true.append(now)
        if known == 0:
            continue
        if first20 is None and wanted[core, premium] >= 0.2 * known:
            first20 = t
        if wanted[comp, 0] / known > peak:
            peak, peak_step, peak_true = wanted[comp, 0] / known, t, now
    return {
        "premium_20pct_step": first20,
        "complement_entry_believed_peak": round(peak, 3),
        "peak_step": peak_step,
        "complement_entry_true_at_peak": round(peak_true, 3),
        "complement_entry_true_min": round(min(true), 3),
        "complement_entry_true_max": round(max(true), 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs=2, default=(0, 3), help="first and last+1 seed")
    args = ap.parse_args(argv)
    for seed in range(*args.seeds):
        for name in ("baseline", "insensitive-platform"):
            print(seed, name, measure(name, seed), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
