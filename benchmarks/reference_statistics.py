"""Reference statistics of the engine: means and standard errors of the key outcomes of
four bundled scenarios at four checkpoints, recorded so that a later engine (the same
model, computed differently) can be checked against them (`tests/test_engine_reference.py`).

    python -m benchmarks.reference_statistics            # writes tests/data/engine_reference.json

Each scenario runs ``REPS`` replications (seeds ``REFERENCE_SEEDS``) at ``CUSTOMERS``
customers over its own horizon. What one replication gives (``observe``), by key:

- ``<column>@<step>``: a time-series column at a checkpoint (a quarter, half, three
  quarters and all of the horizon): market shares, adopters, alignment, contacts, DPMO,
  marketing density, detection (share detected, median lags), cumulative profit, the
  demand cells' shares and the cells on sale; ``churn_so_far`` and
  ``opportunities_so_far`` sum their per-step columns up to the checkpoint;
- ``<state>_<category>@<step>``: the share of customers whose need in the category is
  latent, active or served (the ground truth, docs/model.md §2.1);
- ``<key>``: every numeric scalar of the run's summary (launches, churn, contacts,
  complaints, defects, ...), at the end of the run.

The file says which commit made it (``commit``; ``+dirty`` when the tree had changes)
and each scenario's fingerprint (a hash of its validated fields), so that a retuned
scenario is noticed rather than compared against numbers it did not make: re-run the
command above after such a change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis.runs.ensemble import scalar_outcomes
from analysis.runs.provenance import git_commit
from sim.model import DemandModel
from sim.outcomes import settings
from sim.scenario import Scenario, load_scenario
from sim.schema import to_plain
from sim.state import ACTIVE, LATENT, SERVED

#: the flagship pair, a wave of complement needs opened by failures, a supplier failure
SCENARIOS = ("baseline", "insensitive-platform", "complement-wave", "supplier-failure-windfall")
CUSTOMERS = 10_000
REPS = 32
#: the reference's seeds; a check against it draws others (``tests/test_engine_reference``)
REFERENCE_SEEDS = tuple(range(1, REPS + 1))
DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "engine_reference.json"
COMMAND = "python -m benchmarks.reference_statistics"

#: time-series columns read at the checkpoints (patterns: a prefix)
COLUMNS = (
    "market_share",
    "adopters",
    "alignment",
    "contacts",
    "dpmo",
    "marketing_density",
    "detected_share",
    "detection_lag_median",
    "cum_profit",
)
PREFIXES = ("share_", "demand_", "product_", "adopters_", "lag_")
#: per-step columns summed up to the checkpoint
SUMMED = ("churn", "opportunities")
STATES = {"latent": LATENT, "active": ACTIVE, "served": SERVED}


def checkpoints(steps: int) -> list[int]:
    """A quarter, a half, three quarters and all of the horizon."""
    return sorted({max(1, steps * k // 4) for k in (1, 2, 3, 4)})


def scenario(name: str, overrides: dict[str, Any] | None = None) -> Scenario:
    """The bundled scenario at the reference's market size."""
    return load_scenario(name, overrides={"run.customers": CUSTOMERS, **(overrides or {})})


def fingerprint(sc: Scenario) -> str:
    """A hash of the scenario's validated fields (its customers, its seed and the words
    of its description left out: what would change the model's numbers)."""
    plain = to_plain(sc)
    left_out = ("customers", "seed", "description")
    plain["run"] = {k: v for k, v in plain["run"].items() if k not in left_out}
    text = json.dumps(plain, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _columns(names: Iterable[str]) -> list[str]:
    return [c for c in names if c in COLUMNS or c.startswith(PREFIXES)]


def observe(sc: Scenario, seed: int, engine: str | None = None) -> dict[str, float]:
    """One replication's outcomes by key (NaN where the model leaves one empty), on
    ``engine`` (``sim.engine``; ``None``: the default)."""
    model = DemandModel(sc, rng=seed, engine=engine)
    steps = sc.run.steps
    cats = [c.name for c in sc.categories]
    out: dict[str, float] = {}
    for cp in checkpoints(steps):
        model.run(cp - model.t)
        need = model.state.need
        for label, code in STATES.items():
            for c, cat in enumerate(cats):
                out[f"{label}_{cat}@{cp}"] = float(np.mean(need[:, c] == code))
    ts = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    for cp in checkpoints(steps):
        row = ts.loc[ts["step"] == cp].iloc[0]
        for col in _columns(ts.columns):
            out[f"{col}@{cp}"] = float(row[col])
        for col in SUMMED:
            out[f"{col}_so_far@{cp}"] = float(ts.loc[ts["step"].between(1, cp), col].sum())
    skip = settings()
    for key, value in scalar_outcomes(model.summary()).items():
        if key not in skip:
            out[key] = value
    return out


def describe(samples: Sequence[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per key: the replications with a value (``n``), their mean and the standard error
    of the mean (NaN with fewer than two), and how many left it empty (``missing``)."""
    keys = sorted({k for s in samples for k in s})
    stats: dict[str, dict[str, float]] = {}
    for k in keys:
        x = np.array([s.get(k, math.nan) for s in samples], dtype=np.float64)
        ok = x[~np.isnan(x)]
        n = int(ok.size)
        stats[k] = {
            "n": n,
            "missing": int(x.size - n),
            "mean": float(ok.mean()) if n else math.nan,
            "se": float(ok.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
        }
    return stats


def replicate(
    sc: Scenario, seeds: Sequence[int], progress: Any = None, engine: str | None = None
) -> dict[str, dict[str, float]]:
    """``describe`` of the replications of ``sc`` on ``seeds`` (on ``engine``)."""
    samples = []
    for s in seeds:
        samples.append(observe(sc, s, engine))
        if progress:
            progress()
    return describe(samples)


def record(
    names: Sequence[str] = SCENARIOS, reps: int = REPS, command: str = COMMAND
) -> dict[str, Any]:
    """The reference of ``names`` at ``reps`` replications, as the data file holds it
    (``command``: what made it)."""
    seeds = REFERENCE_SEEDS[:reps] if reps <= REPS else tuple(range(1, reps + 1))
    t0 = time.perf_counter()
    scenarios: dict[str, Any] = {}
    for name in names:
        sc = scenario(name)
        print(f"{name}: {reps} replications of {sc.run.steps} steps", file=sys.stderr)
        scenarios[name] = {
            "fingerprint": fingerprint(sc),
            "steps": sc.run.steps,
            "checkpoints": checkpoints(sc.run.steps),
            "outcomes": replicate(sc, seeds),
        }
    return {
        "about": "means and standard errors of the key outcomes of today's engine, "
        "read by tests/test_engine_reference.py",
        "command": command,
        "commit": git_commit(),
        "customers": CUSTOMERS,
        "replications": reps,
        "seeds": list(seeds),
        "seconds": round(time.perf_counter() - t0, 1),
        "scenarios": scenarios,
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN: an empty value is written as null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(data: dict[str, Any]) -> str:
    """The file's text: one line an outcome (and a list of numbers on one line), so that
    a new recording reads as a diff of outcomes."""
    text = json.dumps(_finite(data), indent=1)
    text = re.sub(r"\{\s*(\"n\":[^{}]*?)\s*\}", lambda m: "{" + " ".join(m[1].split()) + "}", text)
    text = re.sub(r"\[\s*([-\d.,\s]*?)\s*\]", lambda m: "[" + " ".join(m[1].split()) + "]", text)
    return text + "\n"


def load(path: Path = DATA) -> dict[str, Any]:
    """The recorded reference (null read back as NaN)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for sc in data["scenarios"].values():
        for st in sc["outcomes"].values():
            for k in ("mean", "se"):
                if st[k] is None:
                    st[k] = math.nan
    return data


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=REPS, help="replications a scenario")
    ap.add_argument("--out", type=Path, default=DATA, help="the data file to write")
    ap.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = ap.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    data = record(args.scenarios, args.reps, " ".join([COMMAND, *argv]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(data), encoding="utf-8")
    print(f"wrote {args.out} in {data['seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
