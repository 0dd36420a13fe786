"""What a sweep of a trivial runner spends per run: the sweep machinery's own cost.

    python -m benchmarks.bench_sweep_overhead                  # 10,000 Ishigami runs
    python -m benchmarks.bench_sweep_overhead --before REV     # and the code at git REV
    python -m benchmarks.bench_sweep_overhead --runs 2000 --workers 2

The runner is the bundled Ishigami function (microseconds per run), so every
millisecond measured is bookkeeping. Printed, in milliseconds per run:

1. where the time goes, from a profile of the sweep in this process (no worker
   processes, ``--profile-runs`` runs): the plan (sampling, run ids, tasks), the
   runs (the scenario each run builds, the runner), writing runs to the folder,
   folding them into part files, the resume scan, the final compaction, progress
   (the profiler inflates Python-heavy parts);
2. the hand-off: the same runs through one local worker process cost, per run, the
   sweep on 1 worker minus the sweep in this process (pickling, queues, start-up);
3. the wall time per run of a ``--runs`` sweep on each of ``--workers`` (fresh
   folders), with this process's CPU time (the driver) beside it, and the load
   average (neighbours on a shared machine move the wall clock).

With ``--before REV`` the same figures are measured first for the code at that git
revision (this script run in a copy of its tree), then for this code, and printed
side by side with their ratio. Target: a 10,000-run sweep of a known-answer runner
costs at most 2 ms of wall time per run on two workers.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

from benchmarks.bench_sweep import TRIVIAL

TARGET_MS = 2.0

# Phases of a sweep and the functions (file suffix, name) whose cumulative time is theirs.
PHASES = {
    "plan (sampling, run ids, tasks)": [("sweeps/plan.py", "make_plan")],
    "runs: scenario build": [("sim/scenario.py", "build_scenario")],
    "runs: runner": [("sensitivity/testfunctions.py", "ishigami_runner")],
    "writing finished runs": [
        ("sweeps/store.py", "write_run"),
        ("sweeps/store.py", "write_runs"),
        ("sweeps/store.py", "hold"),
    ],
    "folding into part files": [("sweeps/store.py", "fold")],
    "resume scan": [("sweeps/store.py", "scan")],
    "compaction (results.parquet)": [("sweeps/store.py", "compact")],
    "progress": [("sweeps/run.py", "update")],
}


def _spec(tmp: Path, runs: int) -> Path:
    path = tmp / f"ishigami-{runs}.toml"
    path.write_text(TRIVIAL.format(points=runs))
    return path


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _sweep(spec: Path, out: Path, executor: object = None, workers: int = 0) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of a fresh sweep: on ``executor``,
    or on ``workers`` local worker processes as the command starts them."""
    from analysis.sweeps.run import run_sweep

    c0, t0 = _cpu(), time.perf_counter()
    res = run_sweep(spec, out, executor=executor, workers=workers or None, trusted=True)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if not res.complete or res.failed or res.ran != res.total:
        raise SystemExit(f"bench_sweep_overhead: the sweep into {out} did not finish ({res})")
    return wall, cpu


def _phases(stats: pstats.Stats) -> dict[str, float]:
    table = stats.stats  # type: ignore[attr-defined]
    out = {}
    for phase, funcs in PHASES.items():
        total = 0.0
        for (path, _line, name), (_cc, _nc, _tt, ct, _callers) in table.items():
            if any(path.endswith(suffix) and name == fn for suffix, fn in funcs):
                total += ct
        out[phase] = total
    return out


def measure(args: argparse.Namespace) -> dict[str, float]:
    """The figures, in milliseconds per run (but the load averages)."""
    from analysis.runs.executors import InlineExecutor

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-overhead-") as tmp_name:
        tmp = Path(tmp_name)
        n = args.profile_runs
        small = _spec(tmp, n)
        _sweep(_spec(tmp, 4), tmp / "warm", InlineExecutor())  # imports, first-touch costs

        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        _sweep(small, tmp / "profiled", InlineExecutor())
        prof.disable()
        profiled = time.perf_counter() - t0
        figures[f"profiled sweep in this process, {n:,} runs"] = profiled / n * 1000
        for phase, secs in _phases(pstats.Stats(prof)).items():
            figures[f"  {phase}"] = secs / n * 1000

        inline, _ = _sweep(small, tmp / "inline", InlineExecutor())
        one, _ = _sweep(small, tmp / "one", workers=1)
        figures[f"{n:,} runs unprofiled, in this process"] = inline / n * 1000
        figures[f"{n:,} runs unprofiled, 1 worker"] = one / n * 1000
        figures["  hand-off (1 worker - this process)"] = (one - inline) / n * 1000

        spec = _spec(tmp, args.runs)
        figures["load average (1 min) before the timed sweeps"] = os.getloadavg()[0]
        for w in args.workers:
            wall, cpu = _sweep(spec, tmp / f"w{w}", workers=w)
            label = f"sweep of {args.runs:,} runs, {w} worker{'s' if w > 1 else ''}"
            figures[f"{label}: wall"] = wall / args.runs * 1000
            figures[f"{label}: driver CPU"] = cpu / args.runs * 1000
        figures["load average (1 min) after"] = os.getloadavg()[0]
    return figures


def _before(rev: str, argv: list[str]) -> dict[str, float]:
    """The figures of the code at git revision ``rev`` (this script run in its tree)."""
    import json
    import shutil
    import subprocess
    import sys

    here = Path(__file__).resolve()
    root = here.parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-sweep-before-") as tree:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", rev], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        shutil.copy(here, Path(tree) / "benchmarks" / here.name)
        shutil.copy(here.parent / "bench_sweep.py", Path(tree) / "benchmarks" / "bench_sweep.py")
        out = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{here.stem}", *argv, "--json"],
            cwd=tree,
            env={**os.environ, "PYTHONPATH": tree},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    import json
    import sys

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=10_000, help="runs of the timed sweeps")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--profile-runs", type=int, default=2000, help="runs of the profiled sweep")
    ap.add_argument(
        "--before", metavar="REV", default=None, help="measure the code at this git revision too"
    )
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = ap.parse_args(argv)
    own = ["--runs", str(args.runs), "--profile-runs", str(args.profile_runs), "--workers"]
    before = _before(args.before, own + [str(w) for w in args.workers]) if args.before else None
    figures = measure(args)
    if args.json:
        print(json.dumps(figures))
        return 0
    print("ms per run (load averages: the 1-minute load of the machine)")
    width = max(len(k) for k in figures)
    if before is not None:
        print(f"{'':<{width}}  {args.before[:12]:>12}  {'now':>9}  {'before/now':>10}")
    for k, v in figures.items():
        if before is None:
            print(f"{k:<{width}}  {v:9.3f}")
            continue
        b = before.get(k, float("nan"))
        ratio = f"{b / v:9.1f}x" if v > 0 and "load" not in k else ""
        print(f"{k:<{width}}  {b:12.3f}  {v:9.3f}  {ratio:>10}")
    wall2 = figures.get(f"sweep of {args.runs:,} runs, 2 workers: wall")
    if wall2 is not None:
        verdict = "met" if wall2 <= TARGET_MS else "NOT met"
        print(f"target: <= {TARGET_MS} ms per run on 2 workers ({args.runs:,} runs): {verdict}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
