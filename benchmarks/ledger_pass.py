"""The opportunity ledger's two passes of one large step, replayed against another
commit's in the same process, on a cold cache (``--against``, as the other in-process
replays, ``benchmarks.read_pass`` and ``benchmarks.tracker_pass``; ``--base`` is for
runs in child processes).

    python -m benchmarks.ledger_pass --against DIR [--customers 1000000] [--warm 16]
                                     [--reps 15] [--loops]

Builds the benchmark workload (``benchmarks.workloads``), runs ``--warm`` steps, then
one more with ``OpportunityLedger.open_step`` and ``close_step`` recording what they
were given (the ledger as it was, copies of the arrays they read). Each version's
``sim/ledger.py`` (this tree's and ``DIR``'s, ``git archive C | tar -x -C DIR``) then
replays both calls ``--reps`` times, in turn, each time on a fresh copy of the ledger
and after reading 96 MB to push the ledger out of the cache (in a step the other rules
run between the passes): the median wall and CPU milliseconds of each call. The
machine is shared; CPU time is the code's. Both versions must leave the same ledger,
lists and counts, or the script stops. With ``--loops``, each loop of the passes is
also timed alone on the same recorded step, as ``DIR``'s kernels run it (with branches
on what it loads) and without such branches (this tree's judgement; the other loops as
variants kept here, tried and dropped). The figures behind docs/performance.md, "The
opportunity ledger's passes". ``--warm 16`` by default: the step after ``--warm 12``
judges the whole market's potential demand dated at step 0 (240,000 at 1M), not a
usual cohort.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
from numba import njit

from benchmarks.timing import checkout
from sim.ledger import CLOSED, JUDGED, MARKED, _flat, _should
from sim.state import NEVER

_NONE = np.empty(0, dtype=np.int64)


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _copied(state: Any, focal: Any) -> tuple[SimpleNamespace, SimpleNamespace]:
    """What the passes read of the state and the focal firm, copied as they are now."""
    st = SimpleNamespace(**{k: getattr(state, k).copy() for k in ("need", "tier", "segment")})
    rec = SimpleNamespace(covered=focal.records.covered.copy())
    fo = SimpleNamespace(std_cells=focal.std_cells, std_segments=focal.std_segments,
                         records=rec, clock=focal.clock, spec=focal.spec)  # fmt: skip
    return st, fo


def record(customers: int, warm: int) -> dict[str, tuple[Any, ...]]:
    """The ledger and the arguments of both passes at step ``warm + 1``."""
    from benchmarks.workloads import workload
    from sim import DemandModel
    from sim.ledger import OpportunityLedger as L

    model = DemandModel(workload(customers, steps=warm + 1), rng=7).run(warm)
    calls: dict[str, tuple[Any, ...]] = {}
    op, cl = L.open_step, L.close_step

    def open_step(self: Any, state: Any, focal: Any, opened: np.ndarray, now: int) -> None:
        calls["open"] = (copy.deepcopy(self), *_copied(state, focal), opened.copy(), now)
        op(self, state, focal, opened, now)

    def close_step(self: Any, state: Any, focal: Any, *rest: Any) -> None:
        arrays = [a.copy() if isinstance(a, np.ndarray) else a for a in rest]
        calls["close"] = (copy.deepcopy(self), *_copied(state, focal), *arrays)
        cl(self, state, focal, *rest)

    L.open_step, L.close_step = open_step, close_step  # type: ignore[method-assign]
    try:
        model.step()
    finally:
        L.open_step, L.close_step = op, cl  # type: ignore[method-assign]
    return calls


@njit
def _open_branchless(pos, where, open_t, flags, now):  # type: ignore[no-untyped-def]
    """``sim.ledger._open_kernel`` with no branch on what it loads (tried, dropped)."""
    C, T, nf, tf, std, std_segments, segment = _flat(where)
    of, fl = open_t.reshape(-1), flags.reshape(-1)
    out, early = np.empty(pos.size, np.int64), np.empty(pos.size, np.int64)
    n_out = n_early = 0
    for r in range(pos.size):
        j = pos[r]
        o, f = of[j], fl[j]
        go = _should(j, C, T, nf, tf, std, std_segments, segment) & (
            (o == NEVER) | ((f & CLOSED) != 0)
        )
        early[n_early] = o
        n_early += go & (o != NEVER) & ((f & (MARKED | JUDGED)) == MARKED)
        of[j] = now if go else o
        fl[j] = 0 if go else f
        out[n_out] = j
        n_out += go
    return out[:n_out], early[:n_early]


@njit
def _close_branchless(at, offered, pos, where, open_t, flags, now, response):  # type: ignore[no-untyped-def]
    """The marks and the closed needs of ``sim.ledger._close_kernel`` with no branch on
    what they load (tried, dropped)."""
    C, T, nf, tf, std, std_segments, segment = _flat(where)
    of, fl, tiers = open_t.reshape(-1), flags.reshape(-1), offered.reshape(-1)
    for r in range(at.size):
        j = at[r]
        f, o = fl[j], np.int64(of[j])
        hit = (o != NEVER) & ((f & (CLOSED | JUDGED)) == 0) & (now - o <= response)
        fl[j] = f | (MARKED if hit & (tiers[j] == tf[j]) else 0)
    for r in range(pos.size):
        j = pos[r]
        o, f = of[j], fl[j]
        keep = _should(j, C, T, nf, tf, std, std_segments, segment)
        ends = (o != NEVER) & ((f & CLOSED) == 0) & (not keep)
        free = ends & ((f & JUDGED) != 0)
        of[j] = NEVER if free else o
        fl[j] = 0 if free else (f | CLOSED if ends else f)


def loops(calls: dict[str, tuple[Any, ...]], base: ModuleType, this: ModuleType,
          reps: int) -> None:  # fmt: skip
    """Each loop of the passes alone, cold, as it branches (``base``'s kernels: its
    close kernel given one list at a time) and without branches (this tree's judgement,
    the variants above): median CPU ms, and the same slots, lists and counts."""
    led, st, fo, opened, now = calls["open"]
    led2, st2, fo2, at, offered, left, now2 = calls["close"]
    where = (st.need, st.tier, st.segment, fo.std_cells, fo.std_segments)
    where2 = (st2.need, st2.tier, st2.segment, fo2.std_cells, fo2.std_segments)
    resp = fo2.clock.steps(fo2.spec.platform.standard.response_weeks, 1)
    t, due = led2.cohorts[0]
    cov = fo2.records.covered

    def close(kernel: Any, a: np.ndarray, p: np.ndarray) -> Any:
        def run(ot: np.ndarray, fl: np.ndarray, n: np.ndarray) -> Any:
            return kernel(a, offered, p, False, where2, ot, fl, now2, resp, _NONE, -1, cov, n)

        return run

    def branchless(a: np.ndarray, p: np.ndarray) -> Any:
        return lambda ot, fl, n: _close_branchless(a, offered, p, where2, ot, fl, now2, resp)

    pairs = {
        f"open ({opened.size:,})": (
            lambda ot, fl, n: base._open_kernel(opened, False, where, ot, fl, now),
            lambda ot, fl, n: _open_branchless(opened, where, ot, fl, now),
            led,
        ),
        f"marks ({at.size:,} offers)": (
            close(base._close_kernel, at, _NONE), branchless(at, _NONE), led2),
        f"closed needs ({left.size:,})": (
            close(base._close_kernel, _NONE, left), branchless(_NONE, left), led2),
        f"judgement ({due.size:,} due)": (
            lambda ot, fl, n: base._judge_kernel(due, t, ot, fl, cov, n),
            lambda ot, fl, n: this._judge_kernel(due, t, ot, fl, cov, n),
            led2,
        ),
    }  # fmt: skip
    sweep = np.ones(12 * 1024 * 1024)
    print("| loop | with branches, CPU ms | without, CPU ms | ratio |")
    print("|---|---:|---:|---:|")
    for label, (branchy, flat, led0) in pairs.items():
        cpu: list[list[float]] = [[], []]
        seen = set()
        for r in range(reps + 1):
            for k in (0, 1) if r % 2 else (1, 0):
                ot, fl, n = led0.open_t.copy(), led0.flags.copy(), np.zeros(3, np.int64)
                float(sweep.sum())
                c = time.thread_time()
                out = (branchy, flat)[k](ot, fl, n)
                c = time.thread_time() - c
                if r:
                    cpu[k].append(1e3 * c)
                lists = [x.tobytes() for x in out] if out is not None else []
                seen.add(repr((ot.tobytes(), fl.tobytes(), n.tolist(), lists)))
        if len(seen) != 1:
            raise SystemExit(f"{label}: the two loops end in different states")
        b, f = (statistics.median(x) for x in cpu)
        print(f"| {label} | {b:.2f} | {f:.2f} | {b / f:.2f}x |")


def _end(led: Any, out: Any) -> tuple[Any, ...]:
    counts = (led.step_opportunities, led.step_exclusion, led.step_omission)
    cohorts = [(t, p.tolist()) for t, p in led.cohorts]
    return (led.open_t.tobytes(), led.flags.tobytes(), cohorts, led.deferred, counts, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ledger_pass", description=__doc__)
    ap.add_argument("--against", type=checkout, required=True, help="a checkout of another commit")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--warm", type=int, default=16)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--loops", action="store_true", help="also time each loop alone")
    a = ap.parse_args(argv)
    here = Path(__file__).resolve().parents[1]
    mods = {"base": _module(a.against.resolve() / "sim" / "ledger.py", "base_ledger"),
            "this": _module(here / "sim" / "ledger.py", "this_ledger")}  # fmt: skip
    calls = record(a.customers, a.warm)
    sweep = np.ones(12 * 1024 * 1024)  # 96 MB read between calls
    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    ends: dict[str, set[Any]] = {}
    for r in range(a.reps + 1):  # the first round compiles and is left out
        for name in ("base", "this") if r % 2 else ("this", "base"):
            for call, (led0, *args) in calls.items():
                led = copy.deepcopy(led0)
                led.__class__ = mods[name].OpportunityLedger
                float(sweep.sum())
                t, c = time.perf_counter(), time.thread_time()
                out = getattr(led, f"{call}_step")(*args)
                c, t = time.thread_time() - c, time.perf_counter() - t
                if r:
                    wall.setdefault((name, call), []).append(1e3 * t)
                    cpu.setdefault((name, call), []).append(1e3 * c)
                ends.setdefault(call, set()).add(repr(_end(led, out)))
                if call == "open":
                    n_new = led.cohorts[-1][1].size
    if any(len(v) != 1 for v in ends.values()):
        raise SystemExit("the two versions end in different states")
    (_, _, _, opened, _), (_, _, _, at, _, left, *_rest) = calls["open"], calls["close"]
    print(f"{a.customers:,} customers, step {a.warm + 1}: {opened.size:,} needs opened,"
          f" ({n_new:,} opportunities opened), {at.size:,} offers, {left.size:,} needs closed;"
          f" median of {a.reps}")  # fmt: skip
    print("| pass | base wall ms | this wall ms | base CPU ms | this CPU ms | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for call in calls:
        b, t = (statistics.median(cpu[n, call]) for n in ("base", "this"))
        bw, tw = (statistics.median(wall[n, call]) for n in ("base", "this"))
        print(f"| {call} | {bw:.2f} | {tw:.2f} | {b:.2f} | {t:.2f} | {b / t:.2f}x |")
    if a.loops:
        loops(calls, mods["base"], mods["this"], a.reps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
