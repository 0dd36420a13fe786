"""The platforms' contact pass alone: the measure behind settling contacts without
branching on the customer (``sim.platform._contact_chunk``).

    python -m benchmarks.contact_pass [--customers 1000000] [--steps 5]

Builds the benchmark workload (``benchmarks.workloads``: two scheduled platforms, the
focal firm's and the niche firm's, and the rival's homogeneous one), runs ``--steps``
steps so that the records have their dates, then times each firm's contact pass over
all customers on one thread (chunk after chunk, in one compiled loop). Prints
milliseconds per pass (median of 20) and the contacts made. Run it on two commits to
compare them (the script needs only ``_contact_chunk``'s arguments to stay the same).
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from numba import njit

from benchmarks.timing import timed
from benchmarks.workloads import workload
from sim import DemandModel
from sim.jit import CHUNK
from sim.platform import _contact_chunk, contact_table
from sim.rng import address


@njit
def _all_chunks(kind, table, scheduled, rk, step_addr, seen, now, who, contacted, offered):  # type: ignore[no-untyped-def]
    n = kind.size
    hits = 0
    for lo in range(0, n, CHUNK):
        hits += _contact_chunk(
            lo, min(lo + CHUNK, n), kind, table, scheduled, rk, step_addr, seen, now, who,
            contacted, offered,
        )  # fmt: skip
    return hits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.contact_pass", description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=5)
    a = ap.parse_args(argv)
    model = DemandModel(workload(a.customers, a.steps + 1), rng=2024).run(a.steps)
    n, now = model.n, model.t + 1
    who = np.empty(n, np.int32)
    contacted = np.empty(n, np.bool_)
    offered = np.empty((n, model.market.n_categories), np.int8)
    print(f"{n:,} customers, after {a.steps} steps; ms per pass on one thread (median of 20):")
    for f in model.books:
        rec, spec = f.records, f.spec.platform
        assert rec is not None and rec.kind is not None and rec.n_open is not None
        table = contact_table(spec, rec.n_covered, int(rec.n_open[0]), rec.kind, f.clock)
        args = (
            rec.kind, table, spec.targeting == "personalized", model.streams.key(f"platform:{f.name}"),
            address(now), rec.seen, now, who, contacted, offered,
        )  # fmt: skip
        hits = _all_chunks(*args)
        times = timed(lambda args=args: _all_chunks(*args), 20)
        print(
            f"  {f.name:6s} {spec.targeting:12s} coverage {spec.coverage:.2f}: "
            f"{statistics.median(times) * 1e3:6.2f}  ({hits:,} contacts)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
