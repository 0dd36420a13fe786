"""The booking of the sales at 1M (``sim.sales.book_sales``), part by part: the
accounts, the records' kernel, the launches' adopters, the truth a sale tells, the
tracker's bookings.

    python -m benchmarks.book_pass [--customers 1000000] [--base DIR [DIR ...] --rounds 2]
    python -m benchmarks.book_pass --blocks 1 8 16 32 64 128 256 [--customers 1000000]

Builds the benchmark workload, runs ``WARM`` steps, then ``STEPS`` more with a
timer around each part (``PARTS``; the tracker only as ``book_sales`` calls it) and
prints the median milliseconds per step (wall time: the booking runs on one thread).
With ``--base DIR ...`` (checkouts of other commits: ``git archive C | tar -x -C
DIR``) every tree runs ``--rounds`` times in child processes of its own, in turn,
and all must end in the same state (``benchmarks.serial_passes._hash``) or the script
stops. With ``--blocks`` the records' kernel of one step's sales (after ``WARM``) is
replayed instead, with each block size, on fresh copies of the records, the caches
flushed before each call (median ms over 9 replays of the firms' calls, the sizes in
turn). The figures behind docs/performance.md, "Booking the sales".
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.serial_passes import _hash, _timed
from benchmarks.timing import checkout, in_turn

#: (label, module, attribute): the parts timed, as ``book_sales`` calls them
PARTS = (
    ("all of book_sales", "sim.model", "book_sales"),
    ("accounts (book_revenue)", "sim.sales", "book_revenue"),
    ("records: kernel", "sim.records", "_record_sales_kernel"),
    ("adopters (count_adopters)", "sim.sales", "count_adopters"),
    ("the truth told (_told)", "sim.sales", "_told"),
)
TRACKER = (("tracker: detections", "detect"), ("tracker: complaints", "occur"))
#: steps run before timing, steps timed (the first of them left out of the medians)
WARM, STEPS = 12, 10


def measure(customers: int, warm: int, steps: int) -> dict[str, Any]:
    """This process's ``sim``: the model run with each part of the booking timed."""
    import importlib

    from benchmarks.workloads import workload
    from sim import DemandModel

    model = DemandModel(workload(customers, steps=warm + steps), rng=7).run(warm)
    labels = [p[0] for p in PARTS] + [t[0] for t in TRACKER]
    times: dict[str, list[float]] = {label: [] for label in labels}
    sizes: dict[str, int] = {}
    tracker = model.tracker
    for label, mod_name, attr in PARTS:
        mod = importlib.import_module(mod_name)
        setattr(mod, attr, _timed(times, sizes, label, getattr(mod, attr)))
    book = importlib.import_module("sim.model").book_sales

    def booking(*args: Any) -> Any:  # the tracker's calls inside the booking only
        for label, attr in TRACKER:
            setattr(tracker, attr, _timed(times, sizes, label, getattr(tracker, attr)))
        try:
            return book(*args)
        finally:
            for _label, attr in TRACKER:
                delattr(tracker, attr)

    importlib.import_module("sim.model").book_sales = booking
    for _ in range(steps):
        for v in times.values():
            v.append(0.0)
        model.step()
    return {
        "ms": {k: 1e3 * statistics.median(v[1:] or v) for k, v in times.items()},
        "hash": _hash(model),
    }


def replay(customers: int, blocks: list[int], reps: int = 9) -> None:
    """The records' kernel on one step's captured calls, with each block size."""
    import sim.records as records
    from benchmarks.workloads import workload
    from sim import DemandModel

    model = DemandModel(workload(customers, steps=WARM + 1), rng=7).run(WARM)
    kernel = records._record_sales_kernel
    calls: list[list[Any]] = []

    def capture(*args: Any) -> Any:
        calls.append([np.copy(x) if isinstance(x, np.ndarray) else x for x in args])
        return kernel(*args)

    records._record_sales_kernel = capture
    model.step()
    records._record_sales_kernel = kernel
    flush = np.zeros(64 << 20, dtype=np.uint8)  # twice the last-level cache
    ms: dict[int, list[float]] = {b: [] for b in blocks}
    for rep in range(reps + 1):  # the first compiles
        for b in blocks if rep % 2 == 0 else blocks[::-1]:
            total = 0.0
            for call in calls:
                args = [np.copy(x) if isinstance(x, np.ndarray) else x for x in call]
                flush += 1
                t = time.perf_counter()
                kernel(*args[:-1], b)
                total += time.perf_counter() - t
            if rep:
                ms[b].append(1e3 * total)
    print(f"{customers:,} customers, sales per firm {[c[0].size for c in calls]}")
    for b in blocks:
        print(f"block {b:5d}: {statistics.median(ms[b]):.3f} ms (min {min(ms[b]):.3f})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.book_pass", description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--base", type=checkout, nargs="*", default=[], help="trees to compare with")
    ap.add_argument("--rounds", type=int, default=2, help="child runs of each tree")
    ap.add_argument("--blocks", type=int, nargs="*", help="replay the kernel with these")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.blocks:
        replay(a.customers, a.blocks)
        return 0
    if a.child:
        print(json.dumps(measure(a.customers, WARM, STEPS)))
        return 0
    if not a.base:
        runs = {"this": [measure(a.customers, WARM, STEPS)]}
    else:
        here = Path(__file__).resolve().parents[1]
        trees = {**{str(b): b for b in a.base}, "this": here}
        runs = in_turn(__file__, trees, ["--customers", str(a.customers)], a.rounds)
        if len({x["hash"] for rs in runs.values() for x in rs}) != 1:
            raise SystemExit("the trees end in different states")
    print(
        f"{a.customers:,} customers: median ms per step over {len(runs['this'])} run(s) of each tree"
    )
    print("| part | " + " | ".join(runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for label in [p[0] for p in PARTS] + [t[0] for t in TRACKER]:
        cells = [statistics.median(x["ms"][label] for x in rs) for rs in runs.values()]
        print(f"| {label} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
