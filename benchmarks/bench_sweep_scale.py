"""A very large sweep of a tiny market: the files it leaves and the driver's memory.

    python -m benchmarks.bench_sweep_scale                 # 100,000 runs (tens of minutes)
    python -m benchmarks.bench_sweep_scale --runs 10000    # a quicker pass

The sweep is an LHS of platform density and coverage, one replication, a market
of ``--customers`` customers over ``--steps`` steps, run by ``run_sweep`` in this
process (the driver) on ``--workers`` local worker processes. Printed:

- files: every file left in the output folder, and in ``runs/`` (finished runs
  are folded into part files of ``analysis.sweeps.store.FOLD_EVERY`` runs);
- driver memory: the resident set of this process sampled twice a second while
  the runs come in (at a quarter, half, three quarters and the end of the run
  phase: flat means the driver does not hold the records) and its peak
  (``ru_maxrss``, which includes planning and the final compaction). The worker
  processes are not counted.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from pathlib import Path

SPEC = """
scenario = "baseline"
steps = {steps}
replications = 1
seed = 1
[sampler]
method = "lhs"
samples = {runs}
[set]
"run.customers" = {customers}
[parameters]
"focal.platform.density" = {{ range = [0.02, 0.4] }}
"focal.platform.coverage" = {{ range = [0.3, 1.0] }}
[outcomes]
analyze = ["market_share_final"]
"""


def rss_mb() -> float:
    """This process's resident set now, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    """Samples the resident set every ``every`` seconds until stopped."""

    def __init__(self, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stopped.wait(self.every):
            self.samples.append((time.monotonic() - t0, rss_mb()))


class Finished:
    """A progress stream that remembers when the last run came in."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def write(self, text: str) -> None:
        if "/" in text and "runs" in text:
            self.last = time.monotonic()

    def flush(self) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    from analysis.sweeps.run import run_sweep

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--customers", type=int, default=50)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None, help="Keep the sweep here.")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "tiny.toml"
        spec.write_text(SPEC.format(runs=args.runs, customers=args.customers, steps=args.steps))
        out = args.out or Path(tmp) / "out"
        base = rss_mb()
        sampler = Sampler()
        stream = Finished()
        t0 = time.monotonic()
        sampler.start()
        res = run_sweep(spec, out, workers=args.workers, progress=stream)
        wall = time.monotonic() - t0
        sampler.stopped.set()
        sampler.join()
        run_end = stream.last - t0
        files = [p for p in out.rglob("*") if p.is_file()]
        in_runs = [p for p in files if p.parent.name == "runs"]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"sweep: {res.total} runs ({res.ran} ran, {res.failed} failed) of {args.customers} "
            f"customers x {args.steps} steps in {wall:.0f} s ({res.total / wall:.0f} runs/s)"
        )
        print(
            f"files: {len(files)} in the folder, {len(in_runs)} of them in runs/ "
            f"({sum(p.stat().st_size for p in files) / 1e6:.1f} MB)"
        )
        during = [(t, m) for t, m in sampler.samples if t <= run_end]
        marks = []
        for q in (0.25, 0.5, 0.75, 1.0):
            near = [m for t, m in during if t <= q * run_end]
            if near:
                marks.append(f"{q:.0%} {near[-1]:.0f}")
        print(
            f"driver memory (RSS, MB): before {base:.0f}; while runs came in: "
            + ", ".join(marks)
            + f"; peak {peak:.0f} (ru_maxrss, with planning and compaction)"
        )


if __name__ == "__main__":
    main()
