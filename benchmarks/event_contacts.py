"""The platform step on the sweep and on the event engine, in one process: the measure
behind the event engine's homogeneous contacts (``sim.platform``: chains of geometric
skips instead of a draw per covered customer per step; docs/performance.md, "The
event-driven engine").

    python -m benchmarks.event_contacts [--customers 1000000] [--steps 3] [--reps 64]
                                        [--threads 1]

Builds the benchmark workload (``benchmarks.workloads``: the focal and niche firms'
personalized platforms, the rival's homogeneous one) on the event engine and runs
``--steps`` steps. Then, on ``--threads`` numba threads:

- ``platform_step`` of each firm (contacts, reads, record refreshes, offers), sweep and
  events taken in turn at each of ``--reps`` further steps (the order alternating),
  each engine on its own copy of the firm's records: the milliseconds per step per firm
  (median and mean) and the ratio of the medians. Only a homogeneous platform differs
  between the engines; the personalized ones show the noise of the measure.
- the homogeneous platform's contact pass alone, ``STEPS`` steps in one compiled loop
  over the chunks: the sweep's draw per covered customer (``_contact_chunk``) against
  the chains (``sim.contact_chains.skip_chunk``, each repetition on a fresh copy of the same chains, so
  that each does the same steps' work), milliseconds per step (median of 3) and
  contacts per step; and the chains' scan alone: a step before every chain's next
  candidate, at which no one is due.
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import time
from collections.abc import Callable

import numba
import numpy as np
from numba import njit

from benchmarks.timing import timed
from benchmarks.workloads import SEED, workload
from sim import DemandModel
from sim.contact_chains import skip_chunk
from sim.firms import FirmBook
from sim.jit import CHUNK
from sim.platform import _contact_chunk, contact_table, platform_step, step_density
from sim.rng import STEP_OFFSET

#: steps of the contact pass timed one after the other
STEPS = 64


@njit
def _contact_steps(chained, kind, table, chain, rest, first, steps, out):  # type: ignore[no-untyped-def]
    """The contact passes of ``steps`` steps from ``first`` on, over all chunks in one
    compiled loop: on the chains, or drawn per covered customer (``rest``: p, log(1 -
    p), the round keys, the records' ``seen``; ``out``: who, contacted, offered).
    Returns the contacts."""
    p, lq, rk, seen = rest
    who, contacted, offered = out
    n = kind.size
    hits = 0
    for now in range(first, first + steps):
        at = now + STEP_OFFSET
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            if chained:
                hits += skip_chunk(lo, hi, kind, chain, p, lq, rk, at, now, who, contacted, offered)  # fmt: skip
            else:
                hits += _contact_chunk(lo, hi, kind, table, False, rk, at, seen, now, who, contacted, offered)  # fmt: skip
    return hits


def _ms(times: list[float]) -> float:
    return statistics.median(times) * 1e3


def paired_steps(
    model: DemandModel,
    reps: int,
    step: Callable[[FirmBook, int, np.ndarray, bool], object],
    header: str,
) -> None:
    """Times ``step(firm, now, key, which)`` of each firm for ``which`` False and True
    in turn at each of ``reps`` steps after the model's (the order alternating, the
    first step's calls, which compile, left out), each ``which`` on its own copy of the
    firm's records, moved on step by step on its own. Prints ``header``, then per firm
    the milliseconds per step of False and of True, median (mean), and the ratio of
    the medians."""
    keys = [model.streams.key(f"platform:{f.name}") for f in model.books]
    times: dict[tuple[int, bool], list[float]] = {}
    records = [{True: f.records, False: copy.deepcopy(f.records)} for f in model.books]
    for r in range(reps + 1):
        now = model.t + 1 + r
        for f, key in zip(model.books, keys, strict=True):
            for which in (r % 2 == 1, r % 2 == 0):
                f.records = records[f.index][which]
                t = time.perf_counter()
                step(f, now, key, which)
                if r > 0:
                    times.setdefault((f.index, which), []).append(time.perf_counter() - t)
    for f in model.books:
        f.records = records[f.index][True]
    print(header)
    for f in model.books:
        a, b = times[f.index, False], times[f.index, True]
        print(
            f"  {f.name:6s} {f.spec.platform.targeting:12s} coverage "
            f"{f.spec.platform.coverage:.2f}: {_ms(a):6.2f} "
            f"({statistics.mean(a) * 1e3:6.2f}) {_ms(b):6.2f} "
            f"({statistics.mean(b) * 1e3:6.2f}) {_ms(a) / _ms(b):5.2f}"
        )


def _platform_steps(model: DemandModel, reps: int) -> None:
    """``platform_step`` of each firm, sweep and events in turn, ``reps`` steps."""
    n, st, m, work = model.n, model.state, model.market, model.work
    exposure = work.exposure(n, m.n_categories, len(model.books))
    paired_steps(
        model,
        reps,
        lambda f, now, key, events: platform_step(f, st, now, key, exposure, work, m, events),
        f"platform_step over {reps} steps, ms per step per firm, median (mean): "
        "sweep, events, sweep/events of the medians",
    )


def _contact_passes(model: DemandModel, first: int) -> None:
    """The homogeneous platforms' contact passes alone, from step ``first`` on."""
    n, m = model.n, model.market
    out = (np.empty(n, np.int32), np.empty(n, np.bool_), np.empty((n, m.n_categories), np.int8))
    print(
        f"contact pass alone, {STEPS} steps in one compiled loop, ms per step (median of 3) "
        "and contacts per step; the chains' scan alone (a step at which no one is due)"
    )
    for f in model.books:
        rec, spec = f.records, f.spec.platform
        if spec.targeting != "homogeneous":
            continue
        assert rec is not None and rec.kind is not None and rec.n_open is not None
        chain = rec.chain
        assert chain is not None
        table = contact_table(spec, rec.n_covered, int(rec.n_open[0]), rec.kind, f.clock)
        p = float(step_density(spec, f.clock))
        lq = math.log1p(-p) if 0.0 < p < 1.0 else 0.0
        rest = (p, lq, model.streams.key(f"platform:{f.name}"), rec.seen)
        spent: dict[bool, list[float]] = {False: [], True: []}
        hits = {}
        for r in range(4):  # the first compiles
            for chained in (r % 2 == 0, r % 2 == 1):
                fresh = chain.copy()  # the same steps' work each time
                t = time.perf_counter()
                hits[chained] = _contact_steps(chained, rec.kind, table, fresh, rest, first, STEPS, out)  # fmt: skip
                if r > 0:
                    spent[chained].append((time.perf_counter() - t) / STEPS)
        before = int(chain.min()) - STEPS  # every chain is past these steps
        scan = timed(
            lambda: _contact_steps(True, rec.kind, table, chain, rest, before, STEPS, out),  # noqa: B023
            3,
        )
        sweep, ev = _ms(spent[False]), _ms(spent[True])
        print(
            f"  {f.name:6s} sweep {sweep:6.2f} ({hits[False] / STEPS:,.0f})  events "
            f"{ev:6.2f} ({hits[True] / STEPS:,.0f})  sweep/events {sweep / ev:.1f}  "
            f"scan {_ms(scan) / STEPS:5.2f}"
        )


def workload_args(ap: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of the workload and its timed steps (``ap``, with them)."""
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--reps", type=int, default=STEPS)
    ap.add_argument("--threads", type=int, default=1)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.event_contacts", description=__doc__)
    a = workload_args(ap).parse_args(argv)
    numba.set_num_threads(a.threads)
    t0 = time.perf_counter()
    model = DemandModel(workload(a.customers, a.steps + a.reps + 1), rng=SEED, engine="events")
    model.run(a.steps)
    print(
        f"{model.n:,} customers, after {a.steps} steps (built and run in "
        f"{time.perf_counter() - t0:.0f} s); {a.threads} thread(s)"
    )
    _platform_steps(model, a.reps)
    _contact_passes(model, model.t + a.reps + 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
