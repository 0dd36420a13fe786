"""CPU time per step of the 10k workload, where Python around the kernels is about
half of a step: the measure behind the decisions about that Python.

    python -m benchmarks.small_step [--customers 10000] [--steps 260] [--reps 5]

Builds the workload's model ``reps`` times (the kernels are loaded by the first) and
prints each run's CPU milliseconds per step and their median. The machine is shared:
compare medians of runs taken close together.
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.workloads import workload
from sim import DemandModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10000)
    ap.add_argument("--steps", type=int, default=260)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    spec = workload(a.customers, a.steps)
    per_step = []
    for r in range(a.reps):
        model = DemandModel(spec, rng=r + 1)
        c0 = time.process_time()
        model.run(a.steps)
        per_step.append((time.process_time() - c0) * 1e3 / a.steps)
        print(f"run {r + 1}: {per_step[-1]:.3f} ms per step (CPU)")
    print(f"median: {statistics.median(per_step):.3f} ms per step (CPU)")


if __name__ == "__main__":
    main()
