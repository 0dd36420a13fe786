"""The choice step at 1M customers, and where its time goes: the measure behind the
choice's passes (``sim.choice``; docs/performance.md, "The event-driven engine",
"Choice").

    python -m benchmarks.choice_pass [--customers 1000000] [--warm 40] [--steps 20]
                                     [--engine events] [--base DIR]

Builds the benchmark workload (``benchmarks.workloads``) on ``--engine``, runs
``--warm`` steps, then at each of the next ``--steps`` steps calls ``choice_step`` on
one and on two numba threads, each call on the same state (the arrays a choice writes
put back before each call): the milliseconds per step (median; wall and the process's
CPU). With ``--base DIR`` (a checkout of another commit, ``git archive C | tar -x -C
DIR``) the same runs ``--rounds`` times in child processes, the one importing DIR's
``sim`` and the other this commit's in turn, and every step's sales and written state
must hash the same in both. (Both versions' ``sim/choice.py`` in one process, the
other loaded from its file, was tried first: the same code ran up to 3.6 times slower
as the loaded copy, so the two run in processes of their own.)

Without ``--base``, then, on one thread and the state of the last step, passes of this
commit's kernel over all chunks (``sim.choice``): the count of the active needs, their
listing, the Philox blocks the picks read, and the whole ``choice_step``; then the
kernel up to each of its stages (``STAGES``), in the CPU time of the one thread. The
figures behind the choice's passes are in docs/performance.md ("Choice", and "Where
the choice's time goes at 1M").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import njit

from benchmarks.active_scan import _by_words
from benchmarks.timing import checkout, in_turn, timed
from benchmarks.workloads import workload
from sim import DemandModel
from sim import choice as choice_module
from sim import model as model_module
from sim.jit import CHUNK, chunks
from sim.rng import CHOICE, NEIGHBOUR, address, blocks_into
from sim.state import ACTIVE

#: the state the choice writes, besides its arguments' firm counters
_WRITTEN = ("need", "supplier", "held", "age", "satisfaction", "complaint", "complaint_t")


class _Bench:
    """Wraps the model's ``choice_step``: each variant's call timed on the same state."""

    def __init__(self, variants: dict[str, Callable[..., Any]], threads: tuple[int, ...]):
        self.variants = variants
        self.threads = threads
        self.wall: dict[tuple[str, int], list[float]] = {}
        self.cpu: dict[tuple[str, int], list[float]] = {}
        self.tables: dict[str, Any] = {}
        self.calls = 0
        self.active: list[int] = []
        self.last: tuple[Any, ...] | None = None
        self.hashes: list[str] = []

    def __call__(self, *args: Any, **kw: Any) -> Any:
        state, firms, work = args[0], args[2], args[10]
        arrays = [getattr(state, a) for a in _WRITTEN] + [work.tally.served]
        arrays += [f.chain_opp for f in firms] + [f.chain_def for f in firms]
        saved = [a.copy() for a in arrays]
        self.active.append(int(np.count_nonzero(state.need == ACTIVE)))
        self.last = (args, kw, saved)
        names = list(self.variants)
        if self.calls % 2:
            names.reverse()
        self.calls += 1
        ref: list[np.ndarray] | None = None
        out = None
        before = numba.get_num_threads()
        for th in self.threads:
            for name in names:
                for a, s in zip(arrays, saved, strict=True):
                    a[...] = s
                work.choice_tables = self.tables.get(name)
                numba.set_num_threads(th)
                t, c = time.perf_counter(), time.process_time()
                out = self.variants[name](*args, **kw)
                cpu = time.process_time() - c
                wall = time.perf_counter() - t
                self.tables[name] = work.choice_tables
                self.wall.setdefault((name, th), []).append(wall)
                self.cpu.setdefault((name, th), []).append(cpu)
                got = [a.copy() for a in arrays] + [x for s in out for x in vars(s).values()]
                if ref is None:
                    ref = got
                elif not all(np.array_equal(x, y) for x, y in zip(ref, got, strict=True)):
                    raise SystemExit(f"{name} on {th} threads differs from the first call")
        numba.set_num_threads(before)
        assert ref is not None
        h = hashlib.sha256()
        for x in ref:
            h.update(np.ascontiguousarray(x).tobytes())
        self.hashes.append(h.hexdigest()[:16])
        return out


@njit
def _draws(rk, step, who, cat, out):  # type: ignore[no-untyped-def]
    """The pass's Philox blocks: a neighbour's per customer, a choice's per need."""
    m = 0
    for r in range(who.size):
        if r == 0 or who[r] != who[r - 1]:
            out[m] = who[r]
            m += 1
    zero = np.zeros(m, np.int64)
    buf = np.empty(4 * who.size)
    blocks_into(rk, step, NEIGHBOUR, out[:m], zero, buf)
    blocks_into(rk, step, CHOICE, who, cat, buf)


def _stage_runner() -> Callable[..., int]:
    """``choice_kernel`` up to a stage: built on demand, as a base commit's kernels
    (``--base``) may not have the stages."""
    from sim.choice_kernels import _first_slots, _pick_arrays, _scratch, _sell
    from sim.choice_picks import _choose, _gather, _talk

    @njit
    def _upto(
        stage, truth, complaints, network, rk, step, tb, ex, price_sens, params, now, served, chain
    ):  # type: ignore[no-untyped-def]
        """``choice_kernel`` on one thread, up to its stage ``stage`` (``STAGES``)."""
        n = truth[0].shape[0]
        n_chunks = chunks(n)
        first = _first_slots(truth[0])
        if stage == 0:
            return first[n_chunks]
        picks = _pick_arrays(first[n_chunks])
        work = _scratch(first[n_chunks], n_chunks, tb, ex, price_sens, params)
        picked = np.zeros(n_chunks, np.int64)
        for k in range(n_chunks if stage >= 2 else 0):
            lo, hi, na, at = k * CHUNK, min(k * CHUNK + CHUNK, n), first[k + 1] - first[k], first[k]
            _talk(lo, hi, na, at, truth, complaints, network, rk, step, work)
            if stage >= 3:
                _gather(na, at, truth, complaints, rk, step, ex, work)
            if stage >= 4:
                picked[k] = _choose(k, na, at, rk, step, tb, ex, params, picks, work)
        if stage >= 5:
            _sell(first, picked, picks, truth, complaints, tb, params, now, served, chain)
        return first[n_chunks]

    return _upto  # type: ignore[no-any-return]


#: the stages of ``choice_kernel``, each timed with those before it
STAGES = (
    "count of the active needs (serial)",
    "+ pick arrays and scratch",
    "+ listing, neighbours (_talk)",
    "+ choice blocks, gather (_gather)",
    "+ exposure and picks (_choose)",
    "+ sale links and booking (_sell)",
)


def _stages(args: tuple[Any, ...], kw: dict[str, Any], restore: Callable[[], None]) -> None:
    """``choice_kernel`` up to each of its stages on one thread, on the state of
    ``choice_step(*args, **kw)``: the CPU time of the calling thread (the machine is
    shared: its wall time is not), the state restored before each call, untimed."""
    got: list[tuple[Any, ...]] = []
    kernel = choice_module.choice_kernel

    def spy(*a: Any) -> Any:
        got.append(a)
        return kernel(*a)

    restore()
    choice_module.choice_kernel = spy  # type: ignore[assignment]
    try:
        choice_module.choice_step(*args, **kw)
    finally:
        choice_module.choice_kernel = kernel  # type: ignore[assignment]
    ka = got[0]
    _upto = _stage_runner()

    def cpu(stage: int) -> float:
        restore()
        t = time.thread_time()
        _upto(stage, *ka)
        return time.thread_time() - t

    print("choice_kernel up to each stage: one thread's CPU ms, min and median of 15")
    for stage, name in enumerate(STAGES):
        cpu(stage)
        t = [cpu(stage) for _ in range(15)]
        print(f"  {name:40s} {1e3 * min(t):7.3f} {1e3 * statistics.median(t):7.3f}")


def _passes(bench: _Bench) -> None:
    """This commit's passes on one thread, on the last step's state: minimum and
    median of 15 (the minimum is the least disturbed by other work on the machine)."""
    assert bench.last is not None
    args, kw, saved = bench.last
    state, firms, work = args[0], args[2], args[10]
    arrays = [getattr(state, a) for a in _WRITTEN] + [work.tally.served]
    arrays += [f.chain_opp for f in firms] + [f.chain_def for f in firms]
    numba.set_num_threads(1)

    def restore() -> None:
        for a, s in zip(arrays, saved, strict=True):
            a[...] = s

    def whole() -> None:
        restore()
        choice_module.choice_step(*args, **kw)

    from sim.choice_picks import _list_active

    @njit
    def _listing(nf, n, C, act):  # type: ignore[no-untyped-def]
        na = 0
        for lo in range(0, n, CHUNK):
            na += _list_active(nf, lo * C, min(lo + CHUNK, n) * C, act[na:])
        return na

    restore()
    nf, (n, C) = state.need.reshape(-1), state.need.shape
    na = _by_words(nf, n, C)
    act = np.empty(na, np.int64)
    _listing(nf, n, C, act)
    who, cat = act // C, act % C
    spare = np.empty(na, np.int64)
    rk, step = args[9], address(args[8])
    passes: dict[str, Callable[[], object]] = {
        "count of the active needs": lambda: _by_words(nf, n, C),
        "their listing": lambda: _listing(nf, n, C, act),
        "Philox blocks (neighbour, choice)": lambda: _draws(rk, step, who, cat, spare),
        "restoring the state": restore,
        "restoring + choice_step": whole,
    }
    print(f"one thread, the last step's state ({na:,} active needs), ms: min, median of 15")
    for name, fn in passes.items():
        fn()
        t = timed(fn, 15)
        print(f"  {name:36s} {1e3 * min(t):7.3f} {1e3 * statistics.median(t):7.3f}")
    _stages(args, kw, restore)


def _measure(a: argparse.Namespace) -> _Bench:
    """The model run with this process's ``sim.choice`` timed."""
    threads = tuple(int(t) for t in a.threads.split(","))
    model = DemandModel(workload(a.customers, steps=a.warm + a.steps), rng=7, engine=a.engine).run(
        a.warm
    )
    bench = _Bench({"this": choice_module.choice_step}, threads)
    inner = model_module.choice_step
    model_module.choice_step = bench  # type: ignore[assignment]
    try:
        model.run(a.steps)
    finally:
        model_module.choice_step = inner  # type: ignore[assignment]
    return bench


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.choice_pass", description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--warm", type=int, default=40, help="steps run before timing")
    ap.add_argument("--steps", type=int, default=20, help="steps timed")
    ap.add_argument("--engine", default="events", choices=("sweep", "events"))
    ap.add_argument("--threads", default="1,2", help="numba threads, comma-separated")
    ap.add_argument("--base", type=checkout, help="a checkout of the commit to compare with")
    ap.add_argument("--rounds", type=int, default=2, help="child runs of each version")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = sys.argv[1:] if argv is None else argv
    a = ap.parse_args(args)
    threads = tuple(int(t) for t in a.threads.split(","))
    if a.child or a.base is None:
        bench = _measure(a)
        # the first timed step compiles: left out
        res = {
            "wall": {th: bench.wall["this", th][1:] for th in threads},
            "cpu": {th: bench.cpu["this", th][1:] for th in threads},
            "active": bench.active[1:],
            "hashes": bench.hashes,
        }
        if a.child:
            print(json.dumps(res))
            return 0
        runs = {"this": [json.loads(json.dumps(res))]}
    else:
        child_argv = [x for x in args if not x.startswith("--base") and x != str(a.base)]
        trees = {"base": a.base, "this": Path(__file__).resolve().parents[1]}
        runs = in_turn(__file__, trees, child_argv, a.rounds)
        if [r["hashes"] for r in runs["base"]] != [r["hashes"] for r in runs["this"]]:
            raise SystemExit("the two versions' choices differ")
    na = statistics.median(x for r in runs["this"] for x in r["active"])
    print(
        f"choice_step, {a.customers:,} customers, {a.engine} engine, steps "
        f"{a.warm + 2}-{a.warm + a.steps}, active needs {na:,.0f} (median); ms per step,"
        f" median over the steps of {len(runs['this'])} run(s) of each version"
    )
    print("| code | threads | wall ms | CPU ms | CPU ns per active need |")
    print("|---|---:|---:|---:|---:|")
    med: dict[tuple[str, str], float] = {}
    for th in threads:
        for name, rs in runs.items():
            w = 1e3 * statistics.median(x for r in rs for x in r["wall"][str(th)])
            c = 1e3 * statistics.median(x for r in rs for x in r["cpu"][str(th)])
            med[name, str(th)] = w
            print(f"| {name} | {th} | {w:.2f} | {c:.2f} | {1e6 * c / na:.0f} |")
    if a.base is not None:
        for th in threads:
            print(
                f"base / this, {th} thread(s), wall: {med['base', str(th)] / med['this', str(th)]:.2f}x"
            )
        print("every step's sales and written state identical in both: yes")
    if a.base is None:
        _passes(bench)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
