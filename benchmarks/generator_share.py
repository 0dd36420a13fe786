"""How much of a step is the random-number generator, and how much the rules' own work?

    python -m benchmarks.generator_share [--customers 1000000] [--steps 10] [--rounds 10,8,7]

The speed targets of the engine ask for about 33 ns of CPU per customer-step at 1M
customers. This measures what stands in the way: it copies the package ``sim/`` into
a temporary folder once per number of Philox rounds asked for, with ``sim.rng.ROUNDS``
changed there (10 is the generator itself; fewer rounds make every draw cheaper in
proportion and are *not* a valid generator: timing only, never used for results), and
times the same workload in a fresh process on one thread (``NUMBA_NUM_THREADS=1``:
CPU time equals wall time). Each process builds the workload's model, runs
``--warm`` steps, then times ``--steps`` steps, with the time of the three rules'
calls (the demand rule, every firm's platform, the choice) taken apart.

So that the runs with fewer rounds do the same work, it also prints each run's served
needs and focal market share at the end: with too few rounds the uniforms are poor
and the market behaves differently (at 2 rounds a fifth fewer served needs, at 5
rounds 5% more), and the timing would mean nothing; hence 10, 8 and 7 rounds, and the
step's time fitted as a line in the rounds, whose slope times 10 is the generator's
share and whose intercept the rest. Compiling each copy's kernels takes about half a
minute. The table is also written to ``benchmarks/generator-share.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "generator-share.md"

CHILD = r"""
import json, sys, time
import sim.model as M
from benchmarks.workloads import workload
from sim import DemandModel
n, warm, steps = (int(a) for a in sys.argv[1:4])
spent = {"demand_step": 0.0, "platform_step": 0.0, "choice_step": 0.0}
def timed(name):
    rule = getattr(M, name)
    def call(*a, **k):
        t = time.perf_counter()
        out = rule(*a, **k)
        spent[name] += time.perf_counter() - t
        return out
    setattr(M, name, call)
for name in spent:
    timed(name)
model = DemandModel(workload(n, warm + steps), rng=1)
model.run(warm)
for name in spent:
    spent[name] = 0.0
c0 = time.process_time()
model.run(steps)
cpu = time.process_time() - c0
row = model.row
print(json.dumps({
    "ns_per_customer_step": cpu / steps / n * 1e9,
    **{k: v / steps / n * 1e9 for k, v in spent.items()},
    "served": int(model.work.tally.served.sum()),
    "market_share": row["market_share"],
}))
"""


def copy_package(where: Path) -> Path:
    """The package (``sim``, the scenarios, the workloads) copied to ``where``."""
    shutil.copytree(ROOT / "sim", where / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "scenarios", where / "scenarios")
    (where / "benchmarks").mkdir()
    for name in ("__init__.py", "workloads.py"):
        shutil.copy(ROOT / "benchmarks" / name, where / "benchmarks" / name)
    return where


def copy_with_rounds(rounds: int, where: Path) -> Path:
    """The package copied to ``where`` with ``ROUNDS`` changed (10: the package itself)."""
    if rounds == 10:
        return ROOT
    copy_package(where)
    rng = where / "sim" / "rng.py"
    text, k = re.subn(r"^ROUNDS = \d+$", f"ROUNDS = {rounds}", rng.read_text(), flags=re.M)
    if k != 1:
        raise RuntimeError("sim/rng.py has no 'ROUNDS = ' line")
    rng.write_text(text)
    return where


def run_child(where: Path, code: str, args: list[str], **env: str) -> dict[str, float]:
    """Run ``code`` in a fresh Python with the package at ``where`` and ``env`` set; its
    last line of output, as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=where,
        env=dict(os.environ, PYTHONPATH=str(where), **env),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(where: Path, n: int, warm: int, steps: int) -> dict[str, float]:
    """The workload's CPU per customer-step, on one thread, with the package at ``where``."""
    return run_child(where, CHILD, [str(n), str(warm), str(steps)], NUMBA_NUM_THREADS="1")


def arguments(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """The options of the benchmarks that time the workload in child processes."""
    ap = argparse.ArgumentParser(prog=prog, description=doc)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--warm", type=int, default=3, help="steps run before the timed ones")
    ap.add_argument("--steps", type=int, default=10)
    return ap


class Report:
    """Lines printed as they come and kept, to be written to a results file."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)

    def write(self, path: Path, title: str) -> None:
        path.write_text(f"# {title}\n\n" + "\n".join(self.lines) + "\n")

    @staticmethod
    def now() -> str:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def main(argv: list[str] | None = None) -> int:
    ap = arguments("python -m benchmarks.generator_share", __doc__)
    ap.add_argument("--rounds", default="10,8,7", help="Philox rounds to time, comma-separated")
    a = ap.parse_args(argv)
    rounds = [int(r) for r in a.rounds.split(",")]
    report = Report()
    say = report.say
    say(
        f"`python -m benchmarks.generator_share --customers {a.customers} --steps {a.steps} "
        f"--rounds {a.rounds}`, {report.now()}.\n"
    )
    say(
        f"{a.customers:,} customers, {a.steps} steps after {a.warm}, one thread; ns of CPU "
        "per customer-step:\n"
    )
    say("| Philox rounds | whole step | demand | platforms | choice | rest | served | share |")
    say("|---:|---:|---:|---:|---:|---:|---:|---:|")
    whole: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in rounds:
            where = copy_with_rounds(r, Path(tmp) / f"r{r}")
            got = measure(where, a.customers, a.warm, a.steps)
            whole.append(got["ns_per_customer_step"])
            rules = got["demand_step"] + got["platform_step"] + got["choice_step"]
            say(
                f"| {r} | {got['ns_per_customer_step']:.1f} | {got['demand_step']:.1f} "
                f"| {got['platform_step']:.1f} | {got['choice_step']:.1f} "
                f"| {got['ns_per_customer_step'] - rules:.1f} | {got['served']:,} "
                f"| {got['market_share']:.3f} |"
            )
    if len(set(rounds)) > 1:  # the step's time as a + b * rounds, least squares
        b, a0 = np.polyfit(np.array(rounds, dtype=float), np.array(whole), 1)
        say(
            f"\nFit: {a0:.1f} ns + {b:.2f} ns a round: the generator (10 rounds) "
            f"{10 * b:.1f} ns of a customer-step, the rules' own work {a0:.1f} ns."
        )
    say("\nTarget: 33 ns per customer-step (30 M customer-steps per CPU second).")
    report.write(OUT, "The generator's share of a step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
