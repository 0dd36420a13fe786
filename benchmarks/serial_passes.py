"""The serial passes of a large step, timed one by one: the demand rule's gathering of
its events, the opportunity ledger, the booking of sales, the detection tracker, the complaints, the focal standard's filter.

    python -m benchmarks.serial_passes [--customers 1000000] [--warm 12] [--steps 10]
                                       [--base DIR --rounds 2]

Builds the benchmark workload (``benchmarks.workloads``), runs ``--warm`` steps, then
``--steps`` more with a timer around each pass the model calls between its parallel
rules (``PASSES``): the median milliseconds of wall time per step (these passes run on
one thread), and the size of the lists they went through at the last step. With
``--base DIR`` (a checkout of another commit: ``git archive C | tar -x -C DIR``) each
version runs ``--rounds`` times in child processes of its own, in turn, and both must
end in the same state and outputs (hashed), or the script stops. The figures behind
docs/performance.md, "Two threads against one at 1M, part by part".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.timing import checkout, in_turn

#: (label, module, owner class or None, attribute): the passes timed, as the model
#: calls them (through its own module's names, or methods)
PASSES = (
    ("demand events gathered", "sim.demand", None, "gather_events"),
    ("ledger: open", "sim.ledger", "OpportunityLedger", "open_step"),
    ("ledger: close and judge", "sim.ledger", "OpportunityLedger", "close_step"),
    ("booking the sales", "sim.model", None, "book_sales"),
    ("tracker: events", "sim.detection", "DetectionTracker", "occur"),
    ("tracker: detections", "sim.detection", "DetectionTracker", "detect"),
    ("focal standard filter", "sim.model", "DemandModel", "_in_focal_standard"),
    ("unresolved complaints", "sim.model", None, "unresolved_pair"),
    ("complaints handled", "sim.model", None, "handle_complaints"),
)


def _size(args: tuple[Any, ...]) -> int:
    """The entries of the array arguments that are lists of positions (1-D integers)."""
    return sum(
        a.size
        for a in args
        if isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "iu" and a.size > 16
    )


def _timed(times: dict[str, list[float]], sizes: dict[str, int], label: str, fn: Any) -> Any:
    def call(*args: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        out = fn(*args, **kw)
        times[label][-1] += time.perf_counter() - t
        sizes[label] = _size(args)
        return out

    return call


def _hash(model: Any) -> str:
    h = hashlib.sha256()
    for name in ("need", "tier", "supplier", "held", "age", "satisfaction"):
        h.update(np.ascontiguousarray(getattr(model.state, name)).tobytes())
    h.update(json.dumps(model.row, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def measure(customers: int, warm: int, steps: int) -> dict[str, Any]:
    """This process's ``sim``: the model run with each pass timed."""
    import importlib

    from benchmarks.workloads import workload
    from sim import DemandModel

    model = DemandModel(workload(customers, steps=warm + steps), rng=7).run(warm)
    times: dict[str, list[float]] = {label: [] for label, *_ in PASSES}
    sizes: dict[str, int] = {}
    undo: list[tuple[Any, str, Any]] = []
    for label, mod_name, owner, attr in PASSES:
        where = importlib.import_module(mod_name)
        obj = getattr(where, owner) if owner else where
        fn = getattr(obj, attr)
        undo.append((obj, attr, fn))
        setattr(obj, attr, _timed(times, sizes, label, fn))
    try:
        for _ in range(steps):
            for v in times.values():
                v.append(0.0)
            model.step()
    finally:
        for obj, attr, fn in reversed(undo):
            setattr(obj, attr, fn)
    return {
        "ms": {k: 1e3 * statistics.median(v[1:] or v) for k, v in times.items()},
        "sizes": sizes,
        "hash": _hash(model),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.serial_passes", description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--warm", type=int, default=12, help="steps run before timing")
    ap.add_argument("--steps", type=int, default=10, help="steps timed")
    ap.add_argument("--base", type=checkout, help="a checkout of the commit to compare with")
    ap.add_argument("--rounds", type=int, default=2, help="child runs of each version")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(measure(a.customers, a.warm, a.steps)))
        return 0
    if a.base is None:
        runs = {"this": [measure(a.customers, a.warm, a.steps)]}
    else:
        argv = ["--customers", str(a.customers), "--warm", str(a.warm), "--steps", str(a.steps)]
        trees = {"base": a.base, "this": Path(__file__).resolve().parents[1]}
        runs = in_turn(__file__, trees, argv, a.rounds)
        if {r["hash"] for rs in runs.values() for r in rs} != {runs["this"][0]["hash"]}:
            raise SystemExit("the two versions end in different states")
    names = list(runs)

    def med(name: str, k: str) -> float:
        return float(statistics.median(r["ms"][k] for r in runs[name]))

    print(
        f"{a.customers:,} customers, steps {a.warm + 2}-{a.warm + a.steps}: median ms per"
        f" step over {len(runs['this'])} run(s) of each version; list entries at the last step"
    )
    print("| pass | entries | " + " | ".join(f"{n} ms" for n in names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for label, *_ in PASSES:
        cells = " | ".join(f"{med(n, label):.2f}" for n in names)
        print(f"| {label} | {runs['this'][0]['sizes'].get(label, 0):,} | {cells} |")
    total = {n: sum(med(n, label) for label, *_ in PASSES) for n in names}
    print("| **all** | | " + " | ".join(f"**{total[n]:.2f}**" for n in names) + " |")
    if "base" in runs:
        print(f"base / this: {total['base'] / total['this']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
