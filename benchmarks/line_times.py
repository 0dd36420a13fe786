"""Each top-level line of one function of a small market's step, timed in a real run:
what a line of ``DemandModel._advance`` (or of the planning, or the output row) costs.

    python -m benchmarks.line_times [--target advance|plan|metric_row|platform_step|
                                     choice_step|demand_step|book_sales]
        [--customers 2000] [--steps 300]

The function's source is compiled again with a clock read after each statement of its
body (a loop or ``if`` counts as one statement, with everything inside it), and put in
place of the original; a model of the ``baseline`` scenario is run ``steps`` steps
after as many to load the kernels, and each line's median over its calls is printed
(µs; a clock read costs about 0.3 µs, counted in the line after it). The numbers of the
run do not change: the function is the same code.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import statistics
import textwrap
import time
from collections import defaultdict
from typing import Any

import sim.choice as sch
import sim.demand as sd
import sim.model as sm
import sim.outputs as so
import sim.platform as sp
import sim.sales as ssa
import sim.strategy as ss
from sim import DemandModel

#: where each target is defined and how it is called from the model
TARGETS = {
    "advance": (sm, "DemandModel", "_advance"),
    "plan": (ss, None, "plan"),
    "metric_row": (so, None, "metric_row"),
    "platform_step": (sp, None, "platform_step"),
    "choice_step": (sch, None, "choice_step"),
    "demand_step": (sd, None, "demand_step"),
    "book_sales": (ssa, None, "book_sales"),
}


def timed_copy(
    mod: Any, owner: str | None, name: str
) -> tuple[Any, dict[int, list[int]], list[str]]:
    """The function recompiled with a clock read after each statement of its body, the
    nanoseconds each line took (by line number) and the function's source lines."""
    fn = getattr(getattr(mod, owner), name) if owner else getattr(mod, name)
    src = textwrap.dedent(inspect.getsource(fn))
    tree = ast.parse(src)
    body = tree.body[0].body  # type: ignore[attr-defined]
    ticked = [ast.parse("_TICK(0)").body[0]]
    for stmt in body:
        ticked += [stmt, ast.parse(f"_TICK({stmt.lineno})").body[0]]
    tree.body[0].body = ticked  # type: ignore[attr-defined]
    ast.fix_missing_locations(tree)
    took: dict[int, list[int]] = defaultdict(list)
    last = [0]

    def tick(line: int) -> None:
        now = time.perf_counter_ns()
        if line:
            took[line].append(now - last[0])
        last[0] = time.perf_counter_ns()

    scope = dict(vars(mod), _TICK=tick)
    exec(compile(tree, f"<timed {name}>", "exec"), scope)
    return scope[name], took, src.splitlines()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", choices=list(TARGETS), default="advance")
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args()
    mod, owner, name = TARGETS[a.target]
    fn, took, lines = timed_copy(mod, owner, name)
    model = DemandModel(
        "baseline", rng=1, overrides={"run.customers": a.customers, "run.steps": 2 * a.steps}
    )
    model.run(a.steps)
    if owner:
        setattr(model, name, fn.__get__(model))
    else:  # the model calls it through its module's globals (the output row: outputs')
        setattr(so if a.target == "metric_row" else sm, name, fn)
    took.clear()
    model.run(a.steps)
    for line, ns in sorted(took.items()):
        print(f"{statistics.median(ns) / 1e3:8.1f} µs  {lines[line - 1].strip()[:88]}")


if __name__ == "__main__":
    main()
