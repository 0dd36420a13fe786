"""Reference pairing of the engine: how strongly two runs that differ in one platform
setting share their randomness (docs/model.md §7.2: random numbers by address), recorded
so that a later engine can be checked to pair at least as strongly
(`tests/test_pairing_reference.py`).

    python -m benchmarks.pairing_reference            # writes tests/data/pairing_reference.json

Each pair runs both sides on the same seeds (``REFERENCE_SEEDS``), as
``demandsim compare`` does, and records:

- ``ratios``: per key outcome, the CRN variance ratio Var(B − A) / (Var(A) + Var(B))
  over the seeds (1 − the compare table's ``variance_reduction``; 1 is no pairing, 0 is
  perfect), with a bootstrap standard error over the seeds (``BOOTSTRAP`` resamples);
- ``same_state``: the share of paired needs (customer × category) in the same state at
  the end of the run, both sides' ``CustomerState.need`` compared need by need; its mean
  over the seeds and the standard error of that mean.

The file names its commit, command, seeds and each side's fingerprint (a hash of its
validated fields), so that a retuned scenario is noticed: re-run the command then.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.compare.paired import resolve_sides
from analysis.compare.statistics import variance_reduction, with_focal_launch_counts
from analysis.runs.ensemble import scalar_outcomes
from analysis.runs.provenance import git_commit
from benchmarks.reference_statistics import dumps, fingerprint
from sim.model import DemandModel
from sim.scenario import Scenario

CUSTOMERS = 10_000
REPS = 16
#: the reference's seeds; a check against it draws others (``tests/test_pairing_reference``)
REFERENCE_SEEDS = tuple(range(1, REPS + 1))
BOOTSTRAP = 2000
DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pairing_reference.json"
COMMAND = "python -m benchmarks.pairing_reference"

#: the key outcomes whose variance ratio is recorded: the market's, then the platform's
MARKET = ("profit_total", "market_share_final", "revenue_total")
PLATFORM = ("dpmo", "sigma_level", "contacts_total")
OUTCOMES = (*MARKET, *PLATFORM)


@dataclass(frozen=True)
class Pair:
    """Two runs that differ in one platform setting: ``a`` and ``b`` as ``demandsim
    compare`` takes them (``b`` None: the scenario's own [compare] sets), with
    ``overrides`` on side B only."""

    name: str
    a: str
    b: str | None = None
    overrides_b: tuple[tuple[str, Any], ...] = ()


PAIRS = (
    Pair("flagship", "baseline", "insensitive-platform"),
    Pair("coverage", "low-coverage"),
    Pair("density", "baseline", "baseline", (("focal.platform.density", 0.3),)),
)
PAIR_BY_NAME = {p.name: p for p in PAIRS}


def sides(pair: Pair, customers: int, steps: int | None = None) -> tuple[Scenario, Scenario]:
    """The pair's two scenarios at ``customers`` customers (and ``steps`` when given)."""
    sets: dict[str, Any] = {"run.customers": customers}
    if steps is not None:
        sets["run.steps"] = steps
    a, b, _ = resolve_sides(pair.a, pair.b, sets)
    sb = b.scenario
    if pair.overrides_b:
        from sim.scenario import load_scenario

        sb = load_scenario(pair.b or pair.a, overrides={**b.overrides, **dict(pair.overrides_b)})
    return a.scenario, sb


def run_pair(
    sa: Scenario, sb: Scenario, seed: int, engine: str | None = None
) -> tuple[dict[str, float], dict[str, float], float]:
    """Both sides on ``seed`` (on ``engine``, ``sim.engine``): their scalar outcomes and
    the share of needs in the same state at the end."""
    ma, mb = DemandModel(sa, rng=seed, engine=engine), DemandModel(sb, rng=seed, engine=engine)
    ma.run(sa.run.steps)
    mb.run(sb.run.steps)
    same = float(np.mean(ma.state.need == mb.state.need))
    oa = scalar_outcomes(with_focal_launch_counts(ma.summary(), sa.focal.name))
    ob = scalar_outcomes(with_focal_launch_counts(mb.summary(), sb.focal.name))
    return oa, ob, same


def ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Var(B − A) / (Var(A) + Var(B)), from the compare table's variance reduction."""
    return 1.0 - variance_reduction(a, b)


def bootstrap_se(a: Sequence[float], b: Sequence[float], n: int = BOOTSTRAP) -> float:
    """The standard error of ``ratio`` from resampling the seeds (a fixed generator)."""
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    gen = np.random.default_rng(0)
    idx = gen.integers(0, xa.size, size=(n, xa.size))
    values = np.array([ratio(xa[i], xb[i]) for i in idx])
    values = values[np.isfinite(values)]
    return float(values.std(ddof=1)) if values.size > 1 else math.nan


def measure(
    pair: Pair,
    seeds: Sequence[int],
    customers: int,
    steps: int | None = None,
    progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """The pair's variance ratios and same-state share on ``seeds``."""
    sa, sb = sides(pair, customers, steps)
    outs_a, outs_b, same = [], [], []
    for s in seeds:
        oa, ob, sh = run_pair(sa, sb, s)
        outs_a.append(oa)
        outs_b.append(ob)
        same.append(sh)
        if progress:
            progress()
    ratios: dict[str, dict[str, float]] = {}
    for key in OUTCOMES:
        a = [o.get(key, math.nan) for o in outs_a]
        b = [o.get(key, math.nan) for o in outs_b]
        ratios[key] = {"ratio": ratio(a, b), "bootstrap_se": bootstrap_se(a, b)}
    x = np.array(same)
    return {
        "a": pair.a,
        "b": pair.b or f"{pair.a} [compare]",
        "overrides_b": dict(pair.overrides_b),
        "fingerprint_a": fingerprint(sa),
        "fingerprint_b": fingerprint(sb),
        "steps": sa.run.steps,
        "ratios": ratios,
        "same_state": {
            "mean": float(x.mean()),
            "se": float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan,
            "per_seed": [round(float(v), 6) for v in x],
        },
    }


def record(
    names: Sequence[str],
    reps: int = REPS,
    customers: int = CUSTOMERS,
    steps: int | None = None,
    command: str = COMMAND,
) -> dict[str, Any]:
    """The pairing reference of the pairs ``names`` as the data file holds it."""
    seeds = tuple(range(1, reps + 1))
    t0 = time.perf_counter()
    pairs = {}
    for name in names:
        print(f"{name}: {reps} paired seeds", file=sys.stderr)
        pairs[name] = measure(PAIR_BY_NAME[name], seeds, customers, steps)
    return {
        "about": "CRN variance ratios and same-state shares of paired runs of today's "
        "engine, read by tests/test_pairing_reference.py",
        "command": command,
        "commit": git_commit(),
        "customers": customers,
        "steps": steps,
        "replications": reps,
        "seeds": list(seeds),
        "seconds": round(time.perf_counter() - t0, 1),
        "pairs": pairs,
    }


def table(data: dict[str, Any]) -> str:
    """The recorded numbers as a text table."""
    lines = [f"{'pair':10} {'outcome':20} {'ratio':>8} {'± boot':>8}"]
    for name, p in data["pairs"].items():
        for key, r in p["ratios"].items():
            lines.append(f"{name:10} {key:20} {r['ratio']:8.4f} {r['bootstrap_se']:8.4f}")
        s = p["same_state"]
        lines.append(f"{name:10} {'same-state share':20} {s['mean']:8.4f} {s['se']:8.4f}")
    return "\n".join(lines)


def load(path: Path = DATA) -> dict[str, Any]:
    """The recorded reference (null read back as NaN)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for p in data["pairs"].values():
        for r in p["ratios"].values():
            for k, v in r.items():
                if v is None:
                    r[k] = math.nan
    return data


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=REPS, help="paired seeds a pair")
    ap.add_argument("--customers", type=int, default=CUSTOMERS, help="customers a run")
    ap.add_argument("--steps", type=int, default=None, help="steps a run (default: the scenario's)")
    ap.add_argument("--out", type=Path, default=DATA, help="the data file to write")
    ap.add_argument("pairs", nargs="*", default=[p.name for p in PAIRS])
    args = ap.parse_args(argv)
    unknown = [n for n in args.pairs if n not in PAIR_BY_NAME]
    if unknown:
        print(
            f"pairs: {unknown[0]!r} is not a pair; allowed: {', '.join(PAIR_BY_NAME)}",
            file=sys.stderr,
        )
        return 2
    argv = sys.argv[1:] if argv is None else list(argv)
    data = record(args.pairs, args.reps, args.customers, args.steps, " ".join([COMMAND, *argv]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(data), encoding="utf-8")
    print(table(data))
    print(f"wrote {args.out} in {data['seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
