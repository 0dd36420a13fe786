"""The demand rule on the sweep and on the event engine, side by side: the measure
behind scheduling need transitions (``sim.demand.DemandCalendar``).

    python -m benchmarks.event_demand [--customers 1000000] [--warm 40] [--steps 20]

Builds the benchmark workload (``benchmarks.workloads``) once per engine, runs
``--warm`` steps, then times the demand rule (``sim.demand.demand_step``, its wrapper
and kernels) over the next ``--steps`` steps, in wall time and in the process's CPU
time (all threads). Prints milliseconds per step (median), nanoseconds per
customer-step of CPU, the events per need-step, the whole step's time, and the ratio
of the two engines' demand rules. Both engines run in one process, so the ratio is measured in one run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.workloads import workload
from sim import DemandModel
from sim import model as model_module


def _timed_run(engine: str, customers: int, warm: int, steps: int) -> dict[str, Any]:
    m = DemandModel(workload(customers, steps=warm + steps), rng=7, engine=engine).run(warm)
    wall: list[float] = []
    cpu: list[float] = []
    events = [0]
    inner = model_module.demand_step

    def timed_step(*args: Any, **kw: Any) -> Any:
        t, c = time.perf_counter(), time.process_time()
        ev = inner(*args, **kw)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - t)
        events[0] += sum(a.size for a in vars(ev).values())
        return ev

    model_module.demand_step = timed_step  # type: ignore[assignment]
    t, c = time.perf_counter(), time.process_time()
    try:
        m.run(steps)
    finally:
        model_module.demand_step = inner  # type: ignore[assignment]
    step_wall, step_cpu = (time.perf_counter() - t) / steps, (time.process_time() - c) / steps
    needs = customers * m.market.n_categories
    out = {
        "wall_ms": 1e3 * statistics.median(wall),
        "cpu_ms": 1e3 * statistics.median(cpu),
        "events_per_need_step": events[0] / (needs * steps),
        "step_wall_ms": 1e3 * step_wall,
        "step_cpu_ms": 1e3 * step_cpu,
    }
    if m.calendar is not None:
        out["bound"] = [round(float(b), 4) for b in m.calendar.bound]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--warm", type=int, default=40, help="steps run before timing")
    ap.add_argument("--steps", type=int, default=20, help="steps timed")
    a = ap.parse_args(argv)
    res = {e: _timed_run(e, a.customers, a.warm, a.steps) for e in ("sweep", "events")}
    print(f"demand rule, {a.customers:,} customers, steps {a.warm + 1}-{a.warm + a.steps}")
    print("| engine | wall ms/step | CPU ms/step | CPU ns/customer-step | events/need-step |")
    print("|---|---:|---:|---:|---:|")
    for e, r in res.items():
        ns = 1e6 * r["cpu_ms"] / a.customers
        print(
            f"| {e} | {r['wall_ms']:.2f} | {r['cpu_ms']:.2f} | {ns:.2f} |"
            f" {r['events_per_need_step']:.4f} |"
        )
    if "bound" in res["events"]:
        print(f"candidate probability per step, by category: {res['events']['bound']}")
    s, v = res["sweep"], res["events"]
    print("whole step (every rule), mean over the timed steps:")
    for e, r in res.items():
        print(f"  {e}: wall {r['step_wall_ms']:.1f} ms, CPU {r['step_cpu_ms']:.1f} ms")
    print(
        f"sweep / events: wall {s['wall_ms'] / v['wall_ms']:.1f}x, CPU {s['cpu_ms'] / v['cpu_ms']:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
