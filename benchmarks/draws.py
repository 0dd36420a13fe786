"""How many Philox calls a customer-step makes, by stream and purpose.

    python -m benchmarks.draws [--customers 2000] [--steps 5]

Runs the benchmark workload (``benchmarks.workloads``) as plain Python
(``NUMBA_DISABLE_JIT=1``, in a child process), counts every Philox block computed (a
call of ``sim.rng.philox``, or either of the two counters of ``sim.rng.philox2``) by the
stream its round keys belong to and the draw's purpose (``sim.rng``: the demand
rule's state draw and served pair, a platform's contact and read-and-link draws, the
choice's neighbour and blocks), and prints the calls per customer-step over
``--steps`` steps after two. One call costs about 16 ns of CPU here
(``benchmarks.generator_share``), so this is the generator's bill item by item: what
addressing several customers' draws to one call would save.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.generator_share import run_child

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import collections, json, sys
import sim.rng as R
from benchmarks.workloads import workload
from sim import DemandModel
n, steps = int(sys.argv[1]), int(sys.argv[2])
calls = collections.Counter()
names = {}
philox = R.philox
def counted(rk, c0, c1, c2, c3):
    calls[f"{names.get(id(rk), '?')} {int(c2)}"] += 1
    return philox(rk, c0, c1, c2, c3)
R.philox = counted
philox2 = R.philox2
def counted2(rk, a0, a1, a2, a3, b0, b1, b2, b3):
    calls[f"{names.get(id(rk), '?')} {int(a2)}"] += 1
    calls[f"{names.get(id(rk), '?')} {int(b2)}"] += 1
    return philox2(rk, a0, a1, a2, a3, b0, b1, b2, b3)
R.philox2 = counted2
model = DemandModel(workload(n, steps + 2), rng=1)
names.update({id(k): name for name, k in model.streams._keys.items()})
model.run(2)
calls.clear()
model.run(steps)
print(json.dumps({k: v / (n * steps) for k, v in calls.items()}))
"""

#: the purposes of ``sim.rng`` by stream kind and number
PURPOSE = {
    "demand": {0: "state draw of each need", 1: "served needs' (upmarket, churn) pairs"},
    "platform": {0: "contact (random, or a scheduled contact's dither)", 1: "read and link"},
    "behaviour": {0: "neighbour", 1: "choice block", 2: "decision week (long steps)"},
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.draws", description=__doc__)
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=5)
    a = ap.parse_args(argv)
    got = run_child(ROOT, CHILD, [str(a.customers), str(a.steps)], NUMBA_DISABLE_JIT="1")
    print(f"Philox calls per customer-step ({a.customers:,} customers, {a.steps} steps):\n")
    print("| stream | purpose | calls |")
    print("|---|---|---:|")
    for key, v in sorted(got.items(), key=lambda kv: -kv[1]):
        stream, kind = key.rsplit(" ", 1)
        what = PURPOSE.get(stream.split(":")[0], {}).get(int(kind), kind)
        print(f"| {stream} | {what} | {v:.3f} |")
    print(f"| all | | {sum(got.values()):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
