"""Where a platform step's time goes at 1M customers: the contact pass and the read pass
of each firm, timed apart (``sim.platform``; docs/performance.md, "The event-driven
engine", "Platforms").

    python -m benchmarks.read_pass [--customers 1000000] [--steps 3] [--reps 64]
                                   [--threads 1] [--engine events] [--against DIR]

Builds the benchmark workload (``benchmarks.workloads``: the focal and niche firms'
personalized platforms, the rival's homogeneous one) on ``--engine`` and runs
``--steps`` steps. Then, on one thread, at each of ``--reps`` further steps, each
firm's step taken apart as ``platform_kernel`` does it, each part in one compiled loop
over the chunks: the contact pass (``_contact_chunk``, or ``sim.contact_chains.skip_chunk`` on the
chains), the read pass (``sim.reads.read_chunk``: reads, record refreshes, offers) and the
chunks' lists put together (``gather_reads``). Milliseconds per step per firm
(median over the steps), contacts per step, and the read pass per contact.

``--against DIR``: ``platform_step`` of another checkout (``DIR/sim/platform.py`` and
``DIR/sim/records.py``, the rest of ``sim`` this one's) against this one's, in turn at each step (the order
alternating), each on its own copy of the firm's records, on ``--threads`` threads:
milliseconds per step per firm, median (mean), and the ratio of the medians. The other
checkout's kernels are cached in its own tree under other module names: give it a
checkout that runs nothing else (``git archive COMMIT | tar -x -C DIR``).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

import numba
import numpy as np
from numba import njit

from benchmarks.event_contacts import paired_steps, workload_args
from benchmarks.workloads import SEED, workload
from sim import DemandModel
from sim import platform as here
from sim.contact_chains import NO_CHAIN, contact_chain, skip_chunk
from sim.jit import CHUNK, chunks
from sim.links import overload_rate
from sim.platform import _contact_chunk, contact_table, platform_inputs, step_density
from sim.reads import gather_reads, read_chunk
from sim.records import keep_counts
from sim.rng import address


@njit
def _contact_pass(kind, chain, inputs, rk, step_addr, now, seen, out, hits):  # type: ignore[no-untyped-def]
    """``platform_kernel``'s contact pass on one thread (``out``: who, contacted,
    offered); the contacts per chunk into ``hits``."""
    who, contacted, offered = out
    n = kind.size
    p = inputs.skip_p
    lq = math.log1p(-p) if 0.0 < p < 1.0 else 0.0
    for k in range(chunks(n)):
        lo = k * CHUNK
        hi = min(lo + CHUNK, n)
        if p >= 0.0:
            hits[k] = skip_chunk(lo, hi, kind, chain, p, lq, rk, step_addr, now, who, contacted, offered)  # fmt: skip
        else:
            hits[k] = _contact_chunk(lo, hi, kind, inputs.table, inputs.scheduled, rk, step_addr, seen, now, who, contacted, offered)  # fmt: skip


@njit
def _read_pass(hits, rk, step_addr, inputs, truth, records, kind, now, who, offered, lists):  # type: ignore[no-untyped-def]
    """``platform_kernel``'s read pass on one thread (``lists``: first, read_ok,
    offered_at, counts, d_believed, filled here)."""
    first, read_ok, offered_at, counts, d_believed = lists
    C = truth[0].shape[1]
    first[0] = 0
    for k in range(hits.size):
        first[k + 1] = first[k] + hits[k]
    fb = overload_rate(inputs.feedback, np.float64(first[hits.size]), inputs.feedback_cap)
    for k in range(hits.size):
        lo = k * CHUNK
        read_chunk(
            who[lo : lo + hits[k]], first[k] * C, rk, step_addr, inputs, fb, truth, records,
            kind, d_believed[k], now, offered, read_ok, offered_at, counts[k],
        )  # fmt: skip


def _ms(times: list[float]) -> float:
    return statistics.median(times) * 1e3


def _passes(model: DemandModel, reps: int, events: bool, first: int) -> None:
    """Each firm's contact, read and gather passes on one thread, ``reps`` steps from
    ``first`` on."""
    n, st, m = model.n, model.state, model.market
    C, T = st.need.shape[1], int(m.n_tiers)
    nc = chunks(n)
    who = np.empty(n, np.int32)
    contacted = np.empty(n, np.bool_)
    offered = np.empty((n, C), np.int8)
    hits = np.empty(nc, np.int64)
    lists = (
        np.empty(nc + 1, np.int64),
        np.empty(n * C, np.int64),
        np.empty(n * C, np.int64),
        np.empty((nc, 9), np.int64),
        np.empty((nc, C, T), np.int64),
    )
    spent: dict[tuple[int, str], list[float]] = {}
    n_con: dict[int, list[int]] = {}
    numba.set_num_threads(1)
    for r in range(reps + 1):  # the first compiles
        now = first + r
        for f in model.books:
            spec = f.spec.platform
            rec = keep_counts(f, m)
            assert rec.kind is not None and rec.believed is not None and rec.n_open is not None
            key = model.streams.key(f"platform:{f.name}")
            prob = contact_table(spec, rec.n_covered, int(rec.n_open[0]), rec.kind, f.clock)
            skip_p = -1.0
            if events and spec.targeting == "homogeneous":
                skip_p = float(step_density(spec, f.clock))
            inputs = platform_inputs(f, m, prob, skip_p)
            chain = contact_chain(rec, skip_p, key, now - 1) if skip_p >= 0.0 else NO_CHAIN
            truth = (st.need, st.tier, st.supplier)
            records = (rec.need, rec.tier, rec.supplier, rec.seen, rec.known, rec.covered)
            at = address(now)
            t0 = time.perf_counter()
            _contact_pass(rec.kind, chain, inputs, key, at, now, rec.seen, (who, contacted, offered), hits)  # fmt: skip
            t1 = time.perf_counter()
            _read_pass(hits, key, at, inputs, truth, records, rec.kind, now, who, offered, lists)
            t2 = time.perf_counter()
            gather_reads(lists[0], lists[3], lists[4], lists[1], lists[2], rec.believed, rec.n_open)  # fmt: skip
            t3 = time.perf_counter()
            if r > 0:
                for part, s in (("contact", t1 - t0), ("read", t2 - t1), ("gather", t3 - t2)):
                    spent.setdefault((f.index, part), []).append(s)
                n_con.setdefault(f.index, []).append(int(hits.sum()))
    print(
        f"the passes on one thread over {reps} steps ({'events' if events else 'sweep'}), "
        "ms per step (median): contact, read, gather; contacts per step; read ns per contact"
    )
    for f in model.books:
        c, rd, g = (_ms(spent[f.index, part]) for part in ("contact", "read", "gather"))
        k = statistics.median(n_con[f.index])
        print(
            f"  {f.name:6s} {f.spec.platform.targeting:12s}: contact {c:6.2f}  read {rd:6.2f}  "
            f"gather {g:5.2f}  contacts {k:8,.0f}  read {rd * 1e6 / max(k, 1):5.0f} ns/contact"
        )


def _load(checkout: str) -> ModuleType:
    """``sim/platform.py`` of another checkout, as a module beside this one's, with that
    checkout's ``sim/records.py`` (the rest of ``sim`` this one's)."""
    mods = {}
    for name in ("records", "platform"):
        path = Path(checkout) / "sim" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"sim._{name}_against", path)
        assert spec is not None and spec.loader is not None
        mods[name] = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mods[name]
        mine = sys.modules["sim.records"]
        sys.modules["sim.records"] = mods["records"]  # what the other platform imports
        try:
            spec.loader.exec_module(mods[name])
        finally:
            sys.modules["sim.records"] = mine
    return mods["platform"]


def _against(model: DemandModel, reps: int, events: bool, other: ModuleType) -> None:
    """``platform_step`` of the other checkout and of this one in turn, ``reps`` steps."""
    n, st, m, work = model.n, model.state, model.market, model.work
    exposure = work.exposure(n, m.n_categories, len(model.books))
    steps = {False: other.platform_step, True: here.platform_step}
    paired_steps(
        model,
        reps,
        lambda f, now, key, mine: steps[mine](f, st, now, key, exposure, work, m, events),
        f"platform_step over {reps} steps on {numba.get_num_threads()} thread(s), ms per "
        "step per firm, median (mean): the other checkout, this one, other/this of the medians",
    )


def main(argv: list[str] | None = None) -> int:
    ap = workload_args(
        argparse.ArgumentParser(prog="python -m benchmarks.read_pass", description=__doc__)
    )
    ap.add_argument("--engine", choices=("events", "sweep"), default="events")
    ap.add_argument("--against", metavar="DIR", default=None)
    a = ap.parse_args(argv)
    events = a.engine == "events"
    t0 = time.perf_counter()
    model = DemandModel(workload(a.customers, a.steps + 2 * a.reps + 2), rng=SEED, engine=a.engine)
    model.run(a.steps)
    print(
        f"{model.n:,} customers, {a.engine}, after {a.steps} steps (built and run in "
        f"{time.perf_counter() - t0:.0f} s)"
    )
    if a.against is not None:
        other = _load(a.against)
        numba.set_num_threads(a.threads)
        _against(model, a.reps, events, other)
    _passes(model, a.reps, events, model.t + a.reps + 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
