"""The detection tracker's and the complaints' serial passes at 1M, replayed call by
call against another checkout's (docs/performance.md, "The detection tracker and the
complaints").

    python -m benchmarks.tracker_pass --against DIR [--customers 1000000] [--warm 12]
                                      [--steps 3] [--reps 8]

Builds the benchmark workload (``benchmarks.workloads``), runs ``--warm`` steps, then
``--steps`` more, recording every call the model makes at each step of the passes in
``PASSES`` (the focal standard's filter, the tracker's events and detections, the
complaints handled, the unresolved complaints) with copies of their lists and of what
they change (the tracker's counts, the complaint slots, the satisfaction). Then each
recorded step is replayed ``--reps`` times with this checkout's functions and with
those of ``DIR`` (``DIR/sim/detection.py`` and ``DIR/sim/complaints.py`` loaded beside
this one's, the rest of ``sim`` this one's; e.g. ``git archive main | tar -x -C DIR``),
in turn, the order alternating, from the same copies, a 64 MB read before each call so
that no call finds the previous one's lines in the cache (as in a step, where the
parallel rules run between these passes). Both versions must end every replay in the
same tracker, complaint slots, satisfaction and returned values, or the script stops.
Prints the CPU time of the calling thread per step (median over steps and replays,
microseconds) of each pass, base and this, and the entries of its lists; the
unresolved complaints run on all threads, so theirs is wall time.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.timing import checkout
from benchmarks.workloads import workload
from sim import DemandModel
from sim import complaints as here_complaints
from sim import detection as here_detection
from sim import model as model_module

#: label -> (module, owner class or None, attribute): what the model calls
PASSES = {
    "focal standard filter": ("detection", None, "in_standard"),
    "tracker: events": ("detection", "DetectionTracker", "occur"),
    "tracker: detections": ("detection", "DetectionTracker", "detect"),
    "complaints handled": ("complaints", None, "handle_complaints"),
    "unresolved complaints": ("complaints", None, "unresolved_pair"),
}
#: the passes whose kernels run on all threads (timed by the wall clock)
PARALLEL = {"unresolved complaints"}
_TRACKER = ("pend_type", "pend_t")
_GROWN = ("events", "pending", "within", "det_lag", "cens_lag")
_STATE = ("complaint", "satisfaction")


def _load(checkout: Path) -> dict[str, ModuleType]:
    """``sim/detection.py`` and ``sim/complaints.py`` of another checkout, as modules
    beside this one's."""
    mods = {}
    for name in ("detection", "complaints"):
        spec = importlib.util.spec_from_file_location(
            f"sim._{name}_against", checkout / "sim" / f"{name}.py"
        )
        assert spec is not None and spec.loader is not None
        mods[name] = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mods[name]
        spec.loader.exec_module(mods[name])
    return mods


def _function(mods: dict[str, ModuleType], label: str) -> Any:
    mod, owner, attr = PASSES[label]
    obj = mods[mod]
    return getattr(getattr(obj, owner), attr) if owner else getattr(obj, attr)


def _snapshot(model: DemandModel) -> dict[str, np.ndarray]:
    tr, st = model.tracker, model.state
    snap = {f"t.{k}": getattr(tr, k).copy() for k in _TRACKER}
    snap.update({f"g.{k}": getattr(tr, k).a.copy() for k in _GROWN})
    snap.update({f"s.{k}": getattr(st, k).copy() for k in _STATE})
    return snap


def _restore(model: DemandModel, snap: dict[str, np.ndarray]) -> None:
    tr, st = model.tracker, model.state
    for k in _TRACKER:
        np.copyto(getattr(tr, k), snap[f"t.{k}"])
    for k in _GROWN:
        getattr(tr, k).a = snap[f"g.{k}"].copy()
    for k in _STATE:
        np.copyto(getattr(st, k), snap[f"s.{k}"])


def _digest(model: DemandModel, returned: list[Any]) -> str:
    h = hashlib.sha256()
    for a in _snapshot(model).values():
        h.update(np.ascontiguousarray(a).tobytes())
    for out in returned:
        for a in out if isinstance(out, tuple) else (out,):
            h.update(np.asarray(a).tobytes())
    return h.hexdigest()


def record(model: DemandModel) -> list[tuple[str, tuple[Any, ...]]]:
    """One step of the model, with the calls of ``PASSES`` it made (arguments copied)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []
    undo = []
    for label, (mod, owner, attr) in PASSES.items():
        where = here_detection if mod == "detection" else here_complaints
        targets = [getattr(where, owner)] if owner else [model_module]
        for obj in targets:
            fn = getattr(obj, attr)
            undo.append((obj, attr, fn))

            def call(*args: Any, _fn: Any = fn, _label: str = label) -> Any:
                kept = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
                calls.append((_label, kept))
                return _fn(*args)

            setattr(obj, attr, call)
    try:
        model.step()
    finally:
        for obj, attr, fn in reversed(undo):
            setattr(obj, attr, fn)
    return calls


def _entries(args: tuple[Any, ...]) -> int:
    return sum(
        a.size
        for a in args
        if isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "iu"
        and a.dtype.itemsize >= 4 and a.size > 16
    )  # fmt: skip


def replay(
    model: DemandModel,
    calls: list[tuple[str, tuple[Any, ...]]],
    mods: dict[str, ModuleType],
    evict: np.ndarray,
) -> tuple[dict[str, float], str]:
    """The recorded calls made again with ``mods``' functions: seconds per pass, and a
    digest of what they changed and returned."""
    spent: dict[str, float] = defaultdict(float)
    returned = []
    for label, args in calls:
        fn = _function(mods, label)
        if label == "tracker: events" or label == "tracker: detections":
            args = (model.tracker, *args[1:])
        args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
        evict.sum()
        clock = time.perf_counter if label in PARALLEL else time.thread_time
        t = clock()
        returned.append(fn(*args))
        spent[label] += clock() - t
    return spent, _digest(model, [r for r in returned if r is not None])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.tracker_pass", description=__doc__)
    ap.add_argument("--against", type=checkout, required=True, help="a checkout to compare with")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--warm", type=int, default=12)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--reps", type=int, default=8)
    a = ap.parse_args(argv)
    versions = {"base": _load(a.against.resolve()), "this": {
        "detection": here_detection, "complaints": here_complaints}}  # fmt: skip
    model = DemandModel(workload(a.customers, steps=a.warm + a.steps + 1), rng=7).run(a.warm)
    evict = np.ones(8 << 20)  # 64 MB
    times: dict[str, dict[str, list[float]]] = {v: defaultdict(list) for v in versions}
    entries: dict[str, int] = defaultdict(int)
    for _ in range(a.steps):
        before = _snapshot(model)
        calls = record(model)
        after = _snapshot(model)
        for label, args in calls:
            entries[label] = max(entries[label], _entries(args))
        for rep in range(a.reps + 1):  # the first round compiles and is not counted
            digests = set()
            for name in ("base", "this") if rep % 2 == 0 else ("this", "base"):
                _restore(model, before)
                spent, digest = replay(model, calls, versions[name], evict)
                digests.add(digest)
                if rep:
                    for label in PASSES:
                        times[name][label].append(spent.get(label, 0.0))
            if len(digests) != 1:
                raise SystemExit("the two versions end in different states")
        _restore(model, after)
    print(
        f"{a.customers:,} customers, {a.steps} steps after {a.warm}, {a.reps} replays each:"
        " median microseconds per step (CPU of the thread; unresolved complaints: wall)"
    )
    print("| pass | entries (largest call) | base µs | this µs | base / this |")
    print("|---|---:|---:|---:|---:|")
    for label in PASSES:
        b, t = (statistics.median(times[v][label]) * 1e6 for v in ("base", "this"))
        print(f"| {label} | {entries[label]:,} | {b:.0f} | {t:.0f} | {b / t:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
