"""CPU time per step of the 10k workload, where Python around the kernels is about
half of a step: the measure behind the decisions about that Python.

    python -m benchmarks.small_step [--customers 10000] [--steps 260] [--reps 5]
    python -m benchmarks.small_step --base DIR [--rounds 6] ...

Builds the workload's model ``reps`` times (the kernels are loaded by the first) and
prints each run's CPU milliseconds per step and their median. The machine is shared:
compare medians of runs taken close together. With ``--base DIR`` (a copy of other
code, e.g. ``git archive main | tar -x -C DIR``) the same measure runs in child
processes, alternately in DIR and in this tree (``rounds`` times each, ``reps`` runs
a time), and the medians of both and their ratio are printed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.workloads import workload
from sim import DemandModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10000)
    ap.add_argument("--steps", type=int, default=260)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--base", type=Path, help="a tree of other code to alternate with")
    ap.add_argument("--rounds", type=int, default=6)
    a = ap.parse_args()
    if a.base is not None:
        alternate(a)
        return
    spec = workload(a.customers, a.steps)
    per_step = []
    for r in range(a.reps):
        model = DemandModel(spec, rng=r + 1)
        c0 = time.process_time()
        model.run(a.steps)
        per_step.append((time.process_time() - c0) * 1e3 / a.steps)
        print(f"run {r + 1}: {per_step[-1]:.3f} ms per step (CPU)")
    print(f"median: {statistics.median(per_step):.3f} ms per step (CPU)")


def alternate(a: argparse.Namespace) -> None:
    """Median CPU ms per step of the base tree and of this one, run alternately."""
    here = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "benchmarks.small_step", "--customers", str(a.customers),
           "--steps", str(a.steps), "--reps", str(a.reps)]  # fmt: skip
    runs: dict[str, list[float]] = {"base": [], "this": []}
    for _ in range(a.rounds):
        for name, tree in (("base", a.base), ("this", here)):
            out = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, check=True)
            got = [float(x.split()[2]) for x in out.stdout.splitlines() if "run" in x]
            print(f"{name}: " + " ".join(f"{x:.3f}" for x in got), flush=True)
            runs[name] += got
    b, t = statistics.median(runs["base"]), statistics.median(runs["this"])
    print(f"{a.customers:,} customers, {a.rounds} rounds of {a.reps} runs of {a.steps} steps")
    print(f"base {b:.3f} ms, this {t:.3f} ms per step (CPU medians): ratio {b / t:.3f}")


if __name__ == "__main__":
    main()
