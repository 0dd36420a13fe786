"""Fingerprints of the model's numbers: the check that a change leaves them bit for bit.

Runs every bundled scenario at a small size (weekly and monthly steps, a retirement
threshold, a mid-run platform decision) plus a few larger runs whose customer loops run
in parallel chunks, and hashes everything a run produces: the time series, the summary,
the customers' state, the firms' records and accounts. Two commits whose fingerprints
agree produce the same numbers.

    python -m benchmarks.fingerprint > before.txt      # on the commit before
    python -m benchmarks.fingerprint > after.txt       # on the change
    diff before.txt after.txt                          # empty: bit for bit

``--quick`` runs the small runs only (a minute or so).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import numpy as np

SCENARIOS = (
    "baseline",
    "bass-check",
    "competitor-launch",
    "complement-wave",
    "insensitive-platform",
    "low-coverage",
    "new-product-launch",
    "norton-bass-check",
    "six-sigma-platform",
    "supplier-failure-windfall",
    "upmarket-shift",
)


def _feed(h: Any, value: Any) -> None:
    if isinstance(value, np.ndarray):
        h.update(str(value.dtype).encode())
        h.update(str(value.shape).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        for k in sorted(value, key=str):
            h.update(str(k).encode())
            _feed(h, value[k])
    elif isinstance(value, (list, tuple)):
        for v in value:
            _feed(h, v)
    elif hasattr(value, "__dataclass_fields__"):
        for k in value.__dataclass_fields__:
            h.update(k.encode())
            _feed(h, getattr(value, k))
    else:
        h.update(json.dumps(value, default=str, sort_keys=True).encode())


def fingerprint(model: Any) -> dict[str, str]:
    """Hashes of one finished model: series, summary, state, records and accounts."""
    out: dict[str, str] = {}
    ts = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    h = hashlib.sha256()
    h.update(",".join(map(str, ts.columns)).encode())
    for col in ts.columns:
        _feed(h, ts[col].to_numpy())
    out["series"] = h.hexdigest()[:16]
    h = hashlib.sha256()
    _feed(h, model.summary())
    out["summary"] = h.hexdigest()[:16]
    h = hashlib.sha256()
    _feed(h, model.state)
    out["state"] = h.hexdigest()[:16]
    h = hashlib.sha256()
    for firm in model.firm_list:
        book = getattr(firm, "book", firm)
        for name in sorted(vars(book)):
            value = getattr(book, name)
            if (
                isinstance(value, np.ndarray)
                or hasattr(value, "__dataclass_fields__")
                or isinstance(value, (int, float))
                and not isinstance(value, bool)
            ):
                h.update(name.encode())
                _feed(h, value)
    out["firms"] = h.hexdigest()[:16]
    return out


def runs(quick: bool) -> Iterator[tuple[str, dict[str, Any], int, Any]]:
    """(label, overrides, steps, decision) of each fingerprinted run."""
    for name in SCENARIOS:
        yield name, {"run.customers": 1200}, 60, None
        yield f"{name}/monthly", {"run.customers": 1200, "run.steps_per_year": 12}, 24, None
    yield (
        "baseline/retire",
        {"run.customers": 1200, "focal.strategy.retire_threshold": 0.05},
        80,
        None,
    )
    yield "baseline/decision", {"run.customers": 1200}, 60, (20, {"density": 0.02, "strength": 0.5})
    if not quick:
        for name in ("baseline", "insensitive-platform", "upmarket-shift"):
            yield f"{name}/70k", {"run.customers": 70_000}, 40, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small runs only")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from sim import DemandModel, load_scenario

    for label, overrides, steps, decision in runs(args.quick):
        name = label.split("/")[0]
        try:
            sc = load_scenario(name, overrides=overrides)
        except Exception as exc:  # a field a scenario does not have
            print(f"{label:36s} skipped: {exc}")
            continue
        model = DemandModel(sc, rng=args.seed)
        if decision is None:
            model.run(steps)
        else:
            at, fields = decision
            model.run(at)
            model.set_platform(0, **fields)
            model.run(steps - at)
        fp = fingerprint(model)
        print(f"{label:36s} " + " ".join(f"{k}={v}" for k, v in fp.items()), flush=True)


if __name__ == "__main__":
    main()
