"""The classroom's prices of strength and focus, calibrated on the class scenario.

    python -m benchmarks.classroom_prices                  # the grid, then the prices

The lesson plan's class: ``baseline``, 10,000 customers, 4 rounds of 13 steps, a
budget of 600 a round. Every static setting of a grid (coverage x density x
strength x targeting/focus, kept for the 4 rounds) is played once; its revenue,
the model's own costs (records and contacts) and its contacts are kept. The
classroom's premium on a contact, ``cost_per_contact x (A x strength^2 + B x
ln(focus))``, is then priced for each candidate (A, B) without playing again, and
the best settings within the budget are listed. Prices are chosen so that no
setting dominates: the best is not at full strength or at the sharpest focus, and
settings that trade density for strength come within a few percent of it.

Measured (120 settings, ``--prices 0:0,1:0.25,1.5:0.35,1.75:0.4,2:0.5``), the best
settings within the budget, by profit over the 4 rounds:

    no premium (A=0, B=0): full strength and the sharpest focus dominate
       4,351  coverage 1   density 0.1   strength 1     personalized focus 8
       4,110  coverage 1   density 0.1   strength 0.85  personalized focus 8
       3,926  coverage 1   density 0.1   strength 1     personalized focus 2
    A=1, B=0.25: still full strength and focus 8 first
       2,981  coverage 1   density 0.05  strength 1     personalized focus 8
    A=1.75, B=0.4 (the classroom's prices): five settings within 1.4%, from a dense
    weak platform to a sparse strong one, focus 2 and 8
       2,637  coverage 0.6 density 0.1   strength 0.5   personalized focus 2
       2,621  coverage 0.6 density 0.05  strength 0.7   personalized focus 8
       2,618  coverage 0.6 density 0.05  strength 0.85  personalized focus 8
       2,606  coverage 0.6 density 0.05  strength 0.5   personalized focus 8
       2,600  coverage 0.6 density 0.05  strength 1     personalized focus 8
    A=2, B=0.5: the weakest read starts to dominate
       2,554  coverage 0.6 density 0.1   strength 0.5   personalized focus 2
       2,533  coverage 0.6 density 0.05  strength 0.5   personalized focus 2

Coverage 0.6 (the grid's lowest) leads at every price: records cost every step for
every covered customer; that lever already had its price.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

COVERAGE = (0.6, 1.0)
DENSITY = (0.02, 0.05, 0.1, 0.2, 0.3)
STRENGTH = (0.5, 0.7, 0.85, 1.0)
TARGETING = (("homogeneous", 1.0), ("personalized", 2.0), ("personalized", 8.0))
CLASS = {"customers": "10000", "rounds": "4", "steps_per_round": "13", "budget": "600"}


def play(setting: tuple[float, float, float, str, float]) -> dict[str, Any]:
    """One static setting for the class's 4 rounds: revenue, model costs, contacts."""
    from analysis.classroom.config import session_from_form
    from analysis.classroom.game import TeamGame, with_scenario

    coverage, density, strength, targeting, focus = setting
    cfg = with_scenario(session_from_form(CLASS))
    game = TeamGame(cfg)
    platform: dict[str, Any] = {"coverage": coverage, "density": density}
    platform.update(strength=strength, focus=focus, targeting=targeting)
    revenue = cost = contacts = 0.0
    for _ in range(cfg.rounds):
        team = game.play({"platform": platform, "develop": []})["team"]
        revenue += team["round_revenue"]
        cost += team["round_cost"] - team.get("round_premium", 0.0)
        contacts += team["round_contacts"]
    return {"setting": setting, "revenue": revenue, "cost": cost, "contacts": contacts}


def premium(strength: float, focus: float, targeting: str, a: float, b: float) -> float:
    """The classroom's premium per contact, as a multiple of the model's contact cost."""
    return a * strength**2 + (b * math.log(focus) if targeting == "personalized" else 0.0)


def ranked(
    rows: list[dict[str, Any]], a: float, b: float, budget: float
) -> list[tuple[float, Any]]:
    """Settings within the budget by profit under prices (A, B), best first."""
    out = []
    for r in rows:
        c, d, s, t, f = r["setting"]
        extra = r["contacts"] * 0.02 * premium(s, f, t, a, b)
        # the budget holds per round for the expected cost (records + priced contacts)
        per_round = 13 * 10_000 * c * (0.001 + d * 0.02 * (1 + premium(s, f, t, a, b)))
        if per_round <= budget:
            out.append((r["revenue"] - r["cost"] - extra, r["setting"]))
    return sorted(out, reverse=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None, help="JSON of the grid's plays")
    parser.add_argument(
        "--prices", default="0:0,1:0.25,1.5:0.35,2:0.5", help="A:B pairs to price, comma-separated"
    )
    args = parser.parse_args(argv)
    grid = [
        (c, d, s, t, f)
        for c, d, s, (t, f) in itertools.product(COVERAGE, DENSITY, STRENGTH, TARGETING)
    ]
    if args.cache is not None and args.cache.exists():
        rows = json.loads(args.cache.read_text())
    else:
        with ProcessPoolExecutor(args.workers) as pool:
            rows = list(pool.map(play, grid, chunksize=4))
        if args.cache is not None:
            args.cache.write_text(json.dumps(rows))
    pairs = [tuple(float(x) for x in p.split(":")) for p in args.prices.split(",")]
    for a, b in pairs:
        best = ranked(rows, a, b, 600.0)
        print(f"A={a:g} B={b:g}: {len(best)} settings within budget; best five:")
        for profit, (c, d, s, t, f) in best[:5]:
            print(
                f"   profit {profit:8,.0f}  coverage {c:g} density {d:g} strength {s:g} {t} focus {f:g}"
            )


if __name__ == "__main__":
    main()
