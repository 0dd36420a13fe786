"""The bundled ``platform-sobol`` sweep in wall time, now and at an earlier commit, and
where one of its runs spends its time.

    python -m benchmarks.platform_sobol                        # the whole sweep, 2 workers
    python -m benchmarks.platform_sobol --runs 128 --rev REV --repeat 2
    python -m benchmarks.platform_sobol --split-only --split-runs 8

Printed:

1. the wall time of ``demandsim sweep platform-sobol`` on ``--workers`` (a fresh
   folder each time; the command in a child process, from its start to its exit:
   what a user waits), on the first ``--runs`` runs of the plan (in the plan's
   order: sample row, then replication; the rest of the plan is left out, so the
   table written holds those rows only). With ``--rev REV`` the same sweep runs
   from a temporary ``git worktree`` of that commit with the same interpreter,
   alternately with this code (REV, now, REV, now, ... ``--repeat`` times each),
   and the ratio of the medians is printed. Each tree first runs a two-run sweep
   (its kernels compiled and cached, its fork server warmed), which is not timed.
2. one run of the sweep split (``--split-runs`` runs of its plan in this process,
   each part's median, ms): the scenario build, the model's construction without its
   history, the history (``run.warmup_weeks`` of steps before step 0), the 104 steps,
   the summary and time series taken from the model, and what the sweep does with
   the record (scalar outcomes, the time-series columns, the worker's hand-off
   pickled, the run held, folded and compacted into the folder).

``DEMANDSIM_ENGINE`` is passed on to every child (the engine of the runs measured).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# The child that runs the sweep: the plan cut to its first K runs, then the command.
CHILD = """
import sys
import analysis.sweeps.run as run
from analysis.sweeps.plan import Plan

spec, out, workers, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
full = run.make_plan

def first(spec_):
    plan = full(spec_)
    if k <= 0 or k >= len(plan.tasks):
        return plan
    keep = dict(list(plan.tasks.items())[:k])
    rows = [r for r in plan.rows if r[2] in keep]
    return Plan(plan.spec, plan.matrix, plan.points, plan.seeds, rows, keep)

run.make_plan = first
from demandsim.main import main
sys.argv = ["demandsim", "sweep", spec, "--out", out, "--workers", workers]
main()
"""


def _sweep(tree: Path, out: Path, workers: int, runs: int) -> float:
    """Wall seconds of ``demandsim sweep platform-sobol`` run from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "platform-sobol", str(out), str(workers), str(runs)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"platform_sobol: the sweep from {tree} failed:\n{proc.stderr[-2000:]}")
    return wall


class _Worktree:
    """A temporary ``git worktree`` of ``rev`` (removed on exit)."""

    def __init__(self, rev: str) -> None:
        self.rev = rev
        self.tmp = tempfile.TemporaryDirectory(prefix="platform-sobol-rev-")
        self.path = Path(self.tmp.name) / "tree"

    def __enter__(self) -> Path:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(self.path), self.rev],
            check=True,
            capture_output=True,
        )
        return self.path

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(self.path)],
            capture_output=True,
        )
        self.tmp.cleanup()


def timed(args: argparse.Namespace) -> dict[str, list[float]]:
    """Wall seconds of each sweep, by tree label, measured alternately; printed with
    the seconds its runs took inside the workers (their records' ``seconds``)."""
    import contextlib

    import pyarrow.parquet as pq

    from benchmarks.bench_sweep import _run_seconds

    times: dict[str, list[float]] = {}
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(prefix="ps-out-") as tmp:
        trees = {}
        if args.rev:
            trees[args.rev] = stack.enter_context(_Worktree(args.rev))
        trees["now"] = ROOT
        for label, tree in trees.items():  # compile and cache the tree's kernels
            _sweep(tree, Path(tmp) / f"warm-{label[:12]}", args.workers, 2)
            times[label] = []
        for i in range(args.repeat):
            for label, tree in trees.items():
                out = Path(tmp) / f"{label[:12]}-{i}"
                wall = _sweep(tree, out, args.workers, args.runs)
                times[label].append(wall)
                runs = _run_seconds(out)
                n = pq.read_metadata(out / "results.parquet").num_rows  # the runs made
                print(
                    f"  {label[:12]:>12} #{i + 1}: {wall:8.2f} s wall; runs inside the workers "
                    f"{runs:7.2f} s ({runs / n * 1000:.0f} ms a run), wall - runs / workers "
                    f"{wall - runs / args.workers:6.2f} s (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    return times


# --------------------------------------------------------------------------- one run split


def _timed_advance(model_cls: Any, parts: dict[str, float]) -> Any:
    """``model_cls._advance`` wrapped to add its time to ``parts``' history or steps."""
    inner = model_cls._advance

    def advance(self: Any) -> None:
        t0 = time.perf_counter()
        inner(self)
        part = "history" if self._in_history else "steps"
        parts[part] += time.perf_counter() - t0

    return inner, advance


def split(runs: int) -> dict[str, float]:
    """Each part of one run of the sweep's plan, the median over ``runs`` runs, ms."""
    import pickle

    from analysis.runs.ensemble import scalar_outcomes
    from analysis.sweeps.plan import make_plan, resolve_spec_path
    from analysis.sweeps.run import _pick_timeseries
    from analysis.sweeps.spec import load_spec
    from analysis.sweeps.store import SweepStore
    from sim.model import DemandModel
    from sim.scenario import ScenarioBuilder

    spec = load_spec(resolve_spec_path("platform-sobol"))
    plan = make_plan(spec)
    tasks = list(plan.tasks.values())[: runs + 1]
    builder = ScenarioBuilder(spec.base)
    per: dict[str, list[float]] = {}
    parts: dict[str, float] = {}
    inner, advance = _timed_advance(DemandModel, parts)
    DemandModel._advance = advance  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory(prefix="ps-split-") as tmp:
            store = SweepStore(Path(tmp))
            for n, task in enumerate(tasks):
                parts.clear()
                parts.update(history=0.0, steps=0.0)
                t = [time.perf_counter()]
                sc = builder.build(task["overrides"])
                t.append(time.perf_counter())
                model = DemandModel(sc, rng=task["seed"])
                t.append(time.perf_counter())
                model.run(task["steps"])
                t.append(time.perf_counter())
                summary = model.summary()
                ts = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
                t.append(time.perf_counter())
                record = {
                    "run_id": task["run_id"],
                    "status": "ok",
                    "error": None,
                    "traceback": None,
                    "outcomes": scalar_outcomes(summary),
                    "timeseries": _pick_timeseries(ts, task["timeseries"]),
                    "seconds": 0.0,
                }
                t.append(time.perf_counter())
                pickle.loads(pickle.dumps(record))
                t.append(time.perf_counter())
                store.hold(record, task, "h")
                store.fold("h")
                t.append(time.perf_counter())
                if n == 0:  # the first run pays imports and first touches
                    continue
                got = {
                    "scenario build": t[1] - t[0],
                    "construction without the history": t[2] - t[1] - parts["history"],
                    "history (run.warmup_weeks)": parts["history"],
                    f"steps ({task['steps']})": t[3] - t[2],
                    "summary and time series from the model": t[4] - t[3],
                    "the record (outcomes, series columns)": t[5] - t[4],
                    "hand-off (record pickled both ways)": t[6] - t[5],
                    "writing (held, folded into a part file)": t[7] - t[6],
                    "whole run": t[7] - t[0],
                }
                for key, secs in got.items():
                    per.setdefault(key, []).append(secs * 1000)
    finally:
        DemandModel._advance = inner  # type: ignore[method-assign]
    return {k: statistics.median(v) for k, v in per.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=0, help="the first K runs of the plan (0: all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rev", metavar="REV", default=None, help="time this commit too")
    ap.add_argument("--repeat", type=int, default=2, help="timed sweeps of each tree")
    ap.add_argument("--split-runs", type=int, default=8, help="runs of the split (0: none)")
    ap.add_argument("--split-only", action="store_true", help="only the split of one run")
    args = ap.parse_args(argv)
    engine = os.environ.get("DEMANDSIM_ENGINE", "the default")
    if not args.split_only:
        runs = f"first {args.runs} runs" if args.runs else "all runs"
        print(f"demandsim sweep platform-sobol, {runs}, {args.workers} workers, engine {engine}")
        times = timed(args)
        med = {k: statistics.median(v) for k, v in times.items()}
        for label, values in times.items():
            each = ", ".join(f"{v:.2f}" for v in values)
            print(f"{label[:12]:>12}: median {med[label]:8.2f} s wall ({each})")
        if args.rev:
            print(f"{args.rev[:12]} / now: {med[args.rev] / med['now']:.2f}x")
    if args.split_runs > 0:
        print(f"one run of platform-sobol, median of {args.split_runs} runs (ms), engine {engine}")
        for key, ms in split(args.split_runs).items():
            print(f"  {key:<42} {ms:9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
