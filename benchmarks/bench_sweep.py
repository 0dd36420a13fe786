"""The sweep's overhead per run and its speed-up from 1 to 2 local workers.

    python -m benchmarks.bench_sweep                 # 24 runs, 5,000 customers, 104 steps
    python -m benchmarks.bench_sweep --runs 40 --customers 5000 --steps 52 --repeat 1

Measured in one invocation, in this order:

1. start-up: a sweep of two trivial runs starts the local fork server, which
   imports the model once (every later worker process is forked from it);
2. the runs alone: every run of the workload executed here, one after another;
   and the machine's ceiling: the same runs split over 2 plain processes started
   together, against 1 (2.00x when two cores are free; less when neighbours run);
3. the same workload as a sweep on 1 worker, then on 2 workers (fresh folders),
   ``--repeat`` times, interleaved; the fastest of each counts (as ``timeit`` does);
4. the driver's cost per run: a sweep of 1,000 trivial runs on 2 workers.

Overhead per run = (wall time of the sweep on 1 worker - the time its runs took
inside the worker) / runs: start-up, scheduling, pickling, the atomic Parquet write
per run, the final compaction (measured within one sweep, so a busy spell elsewhere
on the machine does not move it much). Speed-up = wall time on 1
worker / wall time on 2 workers (target >= 1.8 on a 2-core machine). The load
average and the time the runs took inside the workers are printed too: on a shared
machine the wall clock also measures the neighbours (runs that take longer inside
two workers than inside one mean the two cores were not free).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TARGET_SPEEDUP = 1.8

WORKLOAD = """
scenario = "baseline"
steps = {steps}
replications = 2
seed = 1
[sampler]
method = "grid"
points = {points}
[set]
"run.customers" = {customers}
[parameters]
"focal.platform.density" = {{ range = [0.02, 0.4] }}
"""

TRIVIAL = """
runner = "analysis.sensitivity.testfunctions:ishigami_runner"
steps = 1
[sampler]
method = "grid"
points = {points}
[parameters]
"focal.platform.density" = {{ range = [0.0, 1.0] }}
"focal.platform.strength" = {{ levels = [0.5] }}
"""


def _timed_sweep(spec: Path, out: Path, workers: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process)."""
    from analysis.sweeps.run import run_sweep

    c0 = _cpu()
    t0 = time.perf_counter()
    res = run_sweep(spec, out, workers=workers)
    wall = time.perf_counter() - t0
    if not res.complete or res.failed:
        raise SystemExit(f"bench_sweep: sweep into {out} did not finish cleanly ({res})")
    return wall, _cpu() - c0


def _run_seconds(out: Path) -> float:
    """Wall seconds the runs took inside the workers, from the run and part files."""
    import pyarrow.parquet as pq

    total = 0.0
    for p in (out / "runs").glob("*.parquet"):
        if p.name.startswith("part-"):  # runs written together: a column of seconds
            total += sum(pq.read_table(p, columns=["_seconds"]).column("_seconds").to_pylist())
        else:
            total += float(pq.read_schema(p).metadata[b"demandsim.seconds"])
    return total


def _chunk(arg: str) -> int:
    """Child mode: run every K-th task from I after a warm-up run; print the seconds."""
    from analysis.sweeps.plan import make_plan
    from analysis.sweeps.run import execute_run
    from analysis.sweeps.spec import load_spec

    part, _, rest = arg.partition("/")
    k, _, spec = rest.partition(" ")
    tasks = list(make_plan(load_spec(spec)).tasks.values())
    execute_run(tasks[0])
    t0 = time.perf_counter()
    for task in tasks[int(part) :: int(k)]:
        execute_run(task)
    print(time.perf_counter() - t0)
    return 0


def _plain(spec: Path, k: int) -> float:
    """Wall time of the runs split over k plain processes started together (no sweep)."""
    import subprocess

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_sweep", "--chunk", f"{i}/{k} {spec}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(k)
    ]
    return max(float(p.communicate()[0]) for p in procs)


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--runs", type=int, default=24, help="runs in the workload (even; 2 replications)"
    )
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--steps", type=int, default=104)
    ap.add_argument(
        "--repeat", type=int, default=2, help="sweeps per worker count; the fastest counts"
    )
    ap.add_argument("--chunk", default=None, help=argparse.SUPPRESS)  # "I/K SPEC": a child
    args = ap.parse_args(argv)
    if args.chunk:
        return _chunk(args.chunk)
    points = max(2, args.runs // 2)

    from analysis.runs.executors import default_workers
    from analysis.sweeps.plan import make_plan
    from analysis.sweeps.run import execute_run
    from analysis.sweeps.spec import load_spec

    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp_name:
        tmp = Path(tmp_name)
        work = tmp / "workload.toml"
        work.write_text(WORKLOAD.format(steps=args.steps, points=points, customers=args.customers))
        trivial2 = tmp / "trivial2.toml"
        trivial2.write_text(TRIVIAL.format(points=2))
        trivial = tmp / "trivial.toml"
        trivial.write_text(TRIVIAL.format(points=1000))

        load_before = os.getloadavg()[0]
        start_wall, _ = _timed_sweep(trivial2, tmp / "warm", 2)

        tasks = list(make_plan(load_spec(work)).tasks.values())
        n = len(tasks)
        execute_run(tasks[0])  # imports and first-touch costs, as a worker has them
        c0 = _cpu()
        t0 = time.perf_counter()
        for t in tasks:
            rec = execute_run(t)
            if rec["status"] != "ok":
                raise SystemExit(f"bench_sweep: a run failed: {rec['error']}")
        alone = time.perf_counter() - t0
        alone_cpu = _cpu() - c0

        w1s, w2s, in_w1s, in_w2s, ceilings = [], [], [], [], []
        for i in range(args.repeat):  # interleaved, so a busy spell hits both
            ceilings.append(_plain(work, 1) / _plain(work, 2))
            w, _ = _timed_sweep(work, tmp / f"w1-{i}", 1)
            w1s.append(w)
            in_w1s.append(_run_seconds(tmp / f"w1-{i}"))
            w, _ = _timed_sweep(work, tmp / f"w2-{i}", 2)
            w2s.append(w)
            in_w2s.append(_run_seconds(tmp / f"w2-{i}"))
        w1, w2 = min(w1s), min(w2s)
        in_w1, in_w2 = in_w1s[w1s.index(w1)], in_w2s[w2s.index(w2)]
        wt, _ = _timed_sweep(trivial, tmp / "trivial", 2)
        load_after = os.getloadavg()[0]

    overhead = (w1 - in_w1) / n
    speedup = w1 / w2
    ceiling = max(ceilings)
    cores = default_workers()
    rows = [
        (
            "machine",
            f"{cores} cores available, Python {sys.version.split()[0]}, {os.uname().machine}",
        ),
        (
            "workload",
            f"{n} runs x {args.customers:,} customers x {args.steps} steps (grid, 2 replications)",
        ),
        ("start-up (fork server + model import)", f"{start_wall:.2f} s, once per sweep"),
        (
            "runs alone, in this process",
            f"{alone:.2f} s wall, {alone_cpu:.2f} s CPU ({alone / n * 1000:.0f} ms/run)",
        ),
        ("load average (1 min) before / after", f"{load_before:.2f} / {load_after:.2f}"),
        (
            "sweep, 1 worker",
            f"{w1:.2f} s wall (runs took {in_w1:.2f} s in the worker); all: {_fmt(w1s)}",
        ),
        (
            "sweep, 2 workers",
            f"{w2:.2f} s wall (runs took {in_w2:.2f} s summed over workers); all: {_fmt(w2s)}",
        ),
        (
            "overhead per run (1-worker sweep - its runs)",
            f"{overhead * 1000:.1f} ms ({overhead / (in_w1 / n):.1%} of a run)",
        ),
        (
            "driver cost per trivial run (2 workers)",
            f"{wt / 1000 * 1000:.2f} ms (1,000 runs in {wt:.2f} s)",
        ),
        (
            "machine ceiling: runs split over 2 plain processes",
            f"{ceiling:.2f}x (all: {_fmt(ceilings)}; 2.00x on two free cores)",
        ),
        ("speed-up 1 -> 2 workers", f"{speedup:.2f}x (target >= {TARGET_SPEEDUP}x)"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if cores < 2:
        print("note: fewer than 2 cores available; the speed-up target does not apply")
        return 0
    verdict = (
        "met"
        if speedup >= TARGET_SPEEDUP
        else "NOT met (is the machine busy? compare CPU and wall times)"
    )
    print(f"speed-up target {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
