"""The platform step on the sweep and on the event engine, in one process: the measure
behind the event engine's homogeneous contacts (``sim.platform``: chains of geometric
skips instead of a draw per covered customer per step; docs/performance.md, "The
event-driven engine").

    python -m benchmarks.event_contacts [--customers 1000000] [--steps 3] [--reps 9]
                                        [--threads 1]

Builds the benchmark workload (``benchmarks.workloads``: the focal and niche firms'
personalized platforms, the rival's homogeneous one) on the event engine and runs
``--steps`` steps. Then, on ``--threads`` numba threads:

- ``platform_step`` of each firm (contacts, reads, record refreshes, offers), sweep and
  events taken in turn at each of ``--reps`` further steps (the order alternating),
  each engine on its own copy of the firm's records: the milliseconds per step per firm
  (median) and their ratio. Only a homogeneous platform differs between the engines;
  the personalized ones show the noise of the measure.
- the homogeneous platform's contact pass alone, over all chunks in one compiled loop:
  the sweep's draw per covered customer (``_contact_chunk``) against the chains
  (``_skip_chunk``, each repetition on a fresh copy of the same chains, so that each
  does the same step's work), milliseconds per pass (median) and contacts made.
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import time

import numba
import numpy as np
from numba import njit

from benchmarks.timing import timed
from benchmarks.workloads import SEED, workload
from sim import DemandModel
from sim.jit import CHUNK
from sim.platform import _contact_chunk, _skip_chunk, contact_table, platform_step, step_density
from sim.rng import address


@njit
def _contact_pass(
    chained, kind, table, chain, p, lq, rk, step_addr, seen, now, who, contacted, offered
):  # type: ignore[no-untyped-def]
    """One contact pass over all chunks: on the chains, or drawn per covered customer."""
    n = kind.size
    hits = 0
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        if chained:
            hits += _skip_chunk(lo, hi, kind, chain, p, lq, rk, step_addr, now, who, contacted, offered)  # fmt: skip
        else:
            hits += _contact_chunk(lo, hi, kind, table, False, rk, step_addr, seen, now, who, contacted, offered)  # fmt: skip
    return hits


def _ms(times: list[float]) -> float:
    return statistics.median(times) * 1e3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.event_contacts", description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    numba.set_num_threads(a.threads)
    t0 = time.perf_counter()
    model = DemandModel(workload(a.customers, a.steps + a.reps + 2), rng=SEED, engine="events")
    model.run(a.steps)
    n, st, m, work = model.n, model.state, model.market, model.work
    print(
        f"{n:,} customers, after {a.steps} steps (built and run in "
        f"{time.perf_counter() - t0:.0f} s); {a.threads} thread(s), median of {a.reps}"
    )
    exposure = work.exposure(n, m.n_categories, len(model.books))
    keys = [model.streams.key(f"platform:{f.name}") for f in model.books]
    times: dict[tuple[int, bool], list[float]] = {}
    # each engine's records move on step by step on their own
    records = [{True: f.records, False: copy.deepcopy(f.records)} for f in model.books]
    for r in range(a.reps + 1):  # the first compiles
        now = model.t + 1 + r
        for f, key in zip(model.books, keys, strict=True):
            for events in (r % 2 == 1, r % 2 == 0):
                f.records = records[f.index][events]
                t = time.perf_counter()
                platform_step(f, st, now, key, exposure, work, m, events)
                if r > 0:
                    times.setdefault((f.index, events), []).append(time.perf_counter() - t)
    for f in model.books:
        f.records = records[f.index][True]
    print("platform_step, ms per step per firm: sweep, events, sweep/events")
    for f in model.books:
        sweep, ev = _ms(times[f.index, False]), _ms(times[f.index, True])
        print(
            f"  {f.name:6s} {f.spec.platform.targeting:12s} coverage "
            f"{f.spec.platform.coverage:.2f}: {sweep:7.2f} {ev:7.2f} {sweep / ev:6.2f}"
        )
    now = model.t + a.reps + 2
    who = np.empty(n, np.int32)
    contacted = np.empty(n, np.bool_)
    offered = np.empty((n, m.n_categories), np.int8)
    print("contact pass alone, one compiled loop over the chunks, ms (contacts)")
    for f, key in zip(model.books, keys, strict=True):
        rec, spec = f.records, f.spec.platform
        if spec.targeting != "homogeneous":
            continue
        assert rec is not None and rec.kind is not None and rec.n_open is not None
        assert rec.chain is not None
        table = contact_table(spec, rec.n_covered, int(rec.n_open[0]), rec.kind, f.clock)
        p = float(step_density(spec, f.clock))
        lq = math.log1p(-p) if 0.0 < p < 1.0 else 0.0
        args = (rec.kind, table, rec.chain, p, lq, key, address(now), rec.seen, now)
        out = (who, contacted, offered)
        hits = _contact_pass(False, *args, *out)
        sweep = timed(lambda args=args, out=out: _contact_pass(False, *args, *out), a.reps)
        chained = []
        for _ in range(a.reps + 1):  # the first compiles
            fresh = rec.chain.copy()  # the same step's work each time
            t = time.perf_counter()
            got = _contact_pass(True, rec.kind, table, fresh, *args[3:], *out)
            chained.append(time.perf_counter() - t)
        print(
            f"  {f.name:6s} sweep {_ms(sweep):6.2f} ({hits:,})  events "
            f"{_ms(chained[1:]):6.2f} ({got:,})  sweep/events {_ms(sweep) / _ms(chained[1:]):.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
