"""What the fixed cost of a small market's step is made of: CPU per step split into
the compiled kernels and the Python around them, rule by rule.

    python -m benchmarks.step_overhead [--customers 2000 10000] [--steps 200]
        [--scenario baseline] [--big 1000000 --big-steps 3] [--kernels K] [--fit K]
        [--threads]

For each size: a model is run ``steps`` steps plain (CPU per step and per
customer-step, ``time.process_time``); then another is run ``steps`` steps to load
every kernel and ``steps`` more with a timer around each part of
``DemandModel._advance`` (the rules' wrappers, the ledger, the tracker, the firms'
planning, the output row, Mesa's ``DataCollector``) and around every compiled kernel
the wrappers call. The table prints each part's own time per step (µs; the median
over the steps of the wall clock, which an interrupted step on a shared machine
does not move), the kernels' part of it and the Python's. "Mesa's step" is what
``model.step`` costs around ``DemandModel.step`` (Mesa's event list), "DemandModel.step
(threads)" what that costs around ``_advance`` (numba's thread count), "rest of the
step" ``_advance``'s own lines. A timer costs under a microsecond a call (printed),
counted in its caller's row: read the table for the split, the plain figure for the
cost. ``--big`` runs a few plain steps of a large market to compare the CPU per
customer-step. ``--kernels K`` also lists the K kernels that cost most, each by its
module and name, whatever part called it. ``--fit K`` (with two sizes or more) fits
each part's and kernel's time per step as a fixed cost plus a cost per customer, least
squares over the sizes, and lists the K of highest fixed cost: what a small market pays
whatever its size. ``--threads`` instead runs each size with one and two numba threads
in turn, step by step (1, 2, 2, 1, ...), and prints each part's median wall time a step
on each and their ratio: the machine's speed drifts by a third over minutes, so two
runs minutes apart do not give a two-thread speed-up (docs/performance.md, "Two threads
against one at 1M, part by part").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numba.core.dispatcher import Dispatcher

from sim import DemandModel
from sim.jit import CHUNK, PARALLEL_MIN_CHUNKS, chunks

#: a cheap clock (the thread's CPU clock costs about 2 µs a read, more than many of the
#: parts): on a shared machine a step is now and then interrupted, so the table reports
#: each part's median over the steps, which an interruption does not move
_clock = time.perf_counter_ns


class Timers:
    """Own time and kernel time per part and step; nested parts are taken out of their
    parent. A step's times are filed when its outermost part returns."""

    def __init__(self) -> None:
        self.own: dict[str, list[int]] = {}  # per step
        self.kernel: dict[str, list[int]] = {}
        self.calls: dict[str, int] = {}
        self.steps = 0
        self._own: dict[str, int] = {}  # this step's
        self._kernel: dict[str, int] = {}
        self.by_kernel: dict[str, list[int]] = {}  # per step, each kernel's own time
        self._by_kernel: dict[str, int] = {}
        self.stack: list[list[Any]] = []  # [name, start, children's time]

    def part(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*a: Any, **k: Any) -> Any:
            frame = [name, _clock(), 0]
            self.stack.append(frame)
            try:
                return fn(*a, **k)
            finally:
                self.stack.pop()
                took = _clock() - frame[1]
                self._own[name] = self._own.get(name, 0) + took - frame[2]
                self.calls[name] = self.calls.get(name, 0) + 1
                if self.stack:
                    self.stack[-1][2] += took
                else:
                    self._file()

        return timed

    def kernel_of(self, fn: Callable[..., Any], label: str = "") -> Callable[..., Any]:
        def timed(*a: Any, **k: Any) -> Any:
            t0 = _clock()
            try:
                return fn(*a, **k)
            finally:
                took = _clock() - t0
                name = self.stack[-1][0] if self.stack else "outside the step"
                self._kernel[name] = self._kernel.get(name, 0) + took
                self._by_kernel[label] = self._by_kernel.get(label, 0) + took

        return timed

    def _file(self) -> None:
        for name in self.own.keys() | self._own.keys():
            self.own.setdefault(name, [0] * self.steps).append(self._own.get(name, 0))
            self.kernel.setdefault(name, [0] * self.steps).append(self._kernel.get(name, 0))
        for name in self.by_kernel.keys() | self._by_kernel.keys():
            self.by_kernel.setdefault(name, [0] * self.steps).append(self._by_kernel.get(name, 0))
        self.steps += 1
        self._own, self._kernel, self._by_kernel = {}, {}, {}


def _patch_kernels(t: Timers, undo: list[tuple[Any, str, Any]]) -> None:
    """Time every compiled kernel a ``sim`` module calls by its global name (the
    kernels are compiled by then: a kernel calling another has its own reference)."""
    for mod_name, mod in list(sys.modules.items()):
        if not (mod_name == "sim" or mod_name.startswith("sim.")) or mod is None:
            continue
        for attr, v in list(vars(mod).items()):
            if isinstance(v, Dispatcher):
                undo.append((mod, attr, v))
                setattr(mod, attr, t.kernel_of(v, f"{mod_name}.{attr}"))


#: the parts of ``DemandModel._advance`` called through ``sim.model``'s globals
_MODEL_GLOBALS = [
    "unresolved_pair", "demand_step", "become_aware", "platform_step", "withhold",
    "handle_complaints", "choice_step", "hold_newest", "book_sales", "substitute", "plan",
]  # fmt: skip


def _patch_model(model: DemandModel, t: Timers, undo: list[tuple[Any, str, Any]]) -> None:
    import sim.model as sm
    from sim import outputs

    for name in _MODEL_GLOBALS:
        undo.append((sm, name, getattr(sm, name)))
        setattr(sm, name, t.part(name, getattr(sm, name)))
    undo.append((outputs, "metric_row", outputs.metric_row))
    outputs.metric_row = t.part("metric_row (outputs)", outputs.metric_row)  # type: ignore[assignment]
    inst: list[tuple[Any, str, str]] = [
        (model, "step", "Mesa's step (event list)"),
        (model, "_user_step", "DemandModel.step (threads)"),
        (model, "_advance", "rest of the step"),
        (model, "accounts", "accounts"),
        (model, "_in_focal_standard", "_in_focal_standard"),
        (model.events, "scripted", "events"),
        (model.events, "detect_launches", "events"),
        (model.events, "register_launches", "events"),
        (model.work, "portfolios", "workspace"),
        (model.work, "exposure", "workspace"),
        (model.ledger, "open_step", "ledger"),
        (model.ledger, "close_step", "ledger"),
        (model.tracker, "occur", "tracker"),
        (model.tracker, "detect", "tracker"),
        (model.datacollector, "collect", "DataCollector.collect"),
    ]
    for obj, attr, name in inst:
        setattr(obj, attr, t.part(name, getattr(obj, attr)))


def _noop() -> None:
    """Nothing: what a timer around nothing costs."""


def _timer_cost(calls: int = 20000) -> float:
    """Microseconds a timed call of a function costs more than the plain call."""
    t = Timers()
    timed, outer = t.part("x", _noop), t.part("outer", lambda: [timed() for _ in range(calls)])
    c0 = time.process_time()
    [_noop() for _ in range(calls)]
    plain = time.process_time() - c0
    c0 = time.process_time()
    outer()
    return (time.process_time() - c0 - plain) * 1e6 / calls


def _scenario(name: str, customers: int, steps: int) -> DemandModel:
    return DemandModel(name, rng=1, overrides={"run.customers": customers, "run.steps": steps})


def plain(name: str, customers: int, steps: int) -> float:
    """CPU milliseconds per step of ``steps`` plain steps (after as many to warm up)."""
    model = _scenario(name, customers, 2 * steps)
    model.run(min(steps, 20))
    c0 = time.process_time()
    model.run(steps)
    return (time.process_time() - c0) * 1e3 / steps


def table(name: str, customers: int, steps: int, kernels: int = 0) -> dict[str, float]:
    """Print the table of one market size; return each part's and each kernel's median
    µs per step (kernels under their module's name), and the plain CPU per step."""
    ms = plain(name, customers, steps)
    print(f"\n{name}, {customers:,} customers, {steps} steps")
    print(f"plain: {ms:.3f} ms CPU per step, {ms * 1e3 / customers:.3f} µs per customer-step")
    model = _scenario(name, customers, 2 * steps)
    model.run(steps)  # every kernel compiled and loaded before the timers go in
    t = Timers()
    undo: list[tuple[Any, str, Any]] = []
    _patch_kernels(t, undo)
    _patch_model(model, t, undo)
    c0 = time.process_time()
    try:
        model.run(steps)
    finally:
        for obj, attr, v in reversed(undo):
            setattr(obj, attr, v)
    timed_ms = (time.process_time() - c0) * 1e3 / steps
    med = {k: statistics.median(v) / 1e3 for k, v in t.own.items()}
    kmed = {k: statistics.median(v) / 1e3 for k, v in t.kernel.items()}
    step = [sum(v[i] for v in t.own.values()) / 1e3 for i in range(t.steps)]
    kstep = [sum(v[i] for v in t.kernel.values()) / 1e3 for i in range(t.steps)]
    print(f"timed: {timed_ms:.3f} ms CPU per step (the timers' own cost included)")
    print(f"a timer costs about {_timer_cost():.2f} µs a call, counted in its caller's row")
    print(
        f"{'part (median µs per step)':28s} {'calls':>6s} {'own':>8s} {'kernels':>8s} {'Python':>8s}"
    )
    for k in sorted(med, key=lambda k: -med[k]):
        py = statistics.median(a - b for a, b in zip(t.own[k], t.kernel[k], strict=True)) / 1e3
        print(f"{k:28s} {t.calls[k] / steps:6.1f} {med[k]:8.1f} {kmed[k]:8.1f} {py:8.1f}")
    py_step = statistics.median(a - b for a, b in zip(step, kstep, strict=True))
    print(f"{'whole step':28s} {'':6s} {statistics.median(step):8.1f} "
          f"{statistics.median(kstep):8.1f} {py_step:8.1f}")  # fmt: skip
    if kernels:
        print(f"\nthe {kernels} costliest kernels (median µs per step, all calls)")
        kern = {k: statistics.median(v) / 1e3 for k, v in t.by_kernel.items()}
        for k in sorted(kern, key=lambda k: -kern[k])[:kernels]:
            print(f"{k:50s} {kern[k]:8.1f}")
    kern = {k: statistics.median(v) / 1e3 for k, v in t.by_kernel.items()}
    return {"plain step (CPU)": ms * 1e3, **med, **kern}


def two_threads(name: str, customers: int, steps: int) -> None:
    """Each part's median wall time a step on one and on two numba threads, the thread
    count alternating step by step in one run (1, 2, 2, 1, ...), so that the machine's
    drift over minutes does not enter the ratio."""
    import numba

    model = _scenario(name, customers, 3 * steps)
    model.run(min(steps, 12))
    t = Timers()
    undo: list[tuple[Any, str, Any]] = []
    _patch_kernels(t, undo)
    _patch_model(model, t, undo)
    counts = [1 + (s % 2) if (s // 2) % 2 == 0 else 2 - (s % 2) for s in range(2 * steps)]
    before = numba.get_num_threads()
    try:
        for th in counts:
            numba.set_num_threads(th)
            model.run(1)
    finally:
        numba.set_num_threads(before)
        for obj, attr, v in reversed(undo):
            setattr(obj, attr, v)
    per = {th: [i for i, c in enumerate(counts) if c == th] for th in (1, 2)}

    def med(v: list[int], th: int) -> float:
        return statistics.median(v[i] for i in per[th]) / 1e3

    step = [sum(v[i] for v in t.own.values()) for i in range(t.steps)]
    print(f"\n{name}, {customers:,} customers, {steps} steps on each thread count, alternating")
    print(f"{'part (median µs per step)':50s} {'one':>9s} {'two':>9s} {'ratio':>6s}")
    rows = {**t.own, **t.by_kernel}
    for k in sorted(rows, key=lambda k: -med(rows[k], 1)):
        one, two = med(rows[k], 1), med(rows[k], 2)
        if one >= 50:
            print(f"{k:50s} {one:9.1f} {two:9.1f} {one / two:5.2f}x")
    one, two = med(step, 1), med(step, 2)
    print(f"{'whole step':50s} {one:9.1f} {two:9.1f} {one / two:5.2f}x")


def fit(sizes: list[int], rows: list[dict[str, float]], top: int) -> None:
    """Each part's µs per step as ``fixed + per_customer * n``, least squares over the
    market sizes: what a step costs whatever the size, and what each customer adds."""
    x = np.array(sizes, float)
    print(f"\nfixed and per-customer cost, least squares over {', '.join(map(str, sizes))}")
    print(f"{'part':50s} {'fixed µs':>9s} {'ns/customer':>12s}")
    names = [k for k in rows[0] if all(k in r for r in rows)]
    got = {}
    for k in names:
        per, fixed = np.polyfit(x, [r[k] for r in rows], 1)
        got[k] = (fixed, per * 1e3)
    for k in sorted(got, key=lambda k: -got[k][0])[:top]:
        print(f"{k:50s} {got[k][0]:9.1f} {got[k][1]:12.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--big", type=int, default=0, help="customers of a large market (0: none)")
    ap.add_argument("--big-steps", type=int, default=3)
    ap.add_argument("--kernels", type=int, default=0, help="also list the K costliest kernels")
    ap.add_argument("--threads", action="store_true",
                    help="one and two threads step by step in one run, part by part")  # fmt: skip
    ap.add_argument("--fit", type=int, default=0,
                    help="over the sizes, the K parts of highest fixed cost a step")  # fmt: skip
    a = ap.parse_args()
    if a.fit and len(set(a.customers)) < 2:
        ap.error(f"--fit {a.fit}: needs two market sizes or more in --customers, got {a.customers}")
    small = [n for n in a.customers if chunks(n) < PARALLEL_MIN_CHUNKS]
    if a.threads and small:
        ap.error(
            f"--threads: --customers {small[0]} runs on one thread whatever numba's count"
            f" (fewer than {PARALLEL_MIN_CHUNKS * CHUNK:,} customers); give a larger market"
        )
    if a.big:
        ms = plain(a.scenario, a.big, a.big_steps)
        print(f"{a.scenario}, {a.big:,} customers: {ms:.1f} ms CPU per step, "
              f"{ms * 1e3 / a.big:.3f} µs per customer-step")  # fmt: skip
    if a.threads:
        for n in a.customers:
            two_threads(a.scenario, n, a.steps)
        return
    rows = [table(a.scenario, n, a.steps, a.kernels) for n in a.customers]
    if a.fit:
        fit(a.customers, rows, a.fit)


if __name__ == "__main__":
    main()
