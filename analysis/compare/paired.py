"""Paired comparisons of two scenarios: the sides and the runs.

``resolve_sides`` loads both sides (two scenarios, or one scenario's own
``[compare]`` override sets); ``run_comparison`` runs replication ``i`` of both
sides with seed ``seed + i`` (common random numbers) on the ensemble runner.
``analysis.compare.files`` holds the text the command prints and the output folder.
Differences are always B − A.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.errors import InputError
from sim.tables import fmt_num

if TYPE_CHECKING:
    import pandas as pd

    from sim.scenario import Scenario

# Columns of the per-step comparison for which the paired difference is also plotted.
DIFF_SERIES: tuple[str, ...] = ("cum_profit", "market_share")


@dataclass
class Side:
    """One side of a comparison: a loaded scenario and where it came from."""

    label: str
    source: str
    scenario: Scenario
    overrides: dict[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "source": self.source,
            "name": self.scenario.run.name,
            "description": self.scenario.run.description,
            "overrides": {k: _jsonable(v) for k, v in self.overrides.items()},
            "customers": self.scenario.run.customers,
        }


@dataclass
class Comparison:
    """Everything a comparison produced, in memory."""

    a: Side
    b: Side
    seeds: list[int]
    steps: int
    summaries_a: list[dict[str, Any]]
    summaries_b: list[dict[str, Any]]
    series_a: list[pd.DataFrame]
    series_b: list[pd.DataFrame]
    question: str = ""

    def table(self) -> pd.DataFrame:
        from analysis.compare.statistics import compare_outcomes

        return compare_outcomes(self.summaries_a, self.summaries_b)


def _jsonable(v: Any) -> Any:
    return v if isinstance(v, int | float | str | bool) or v is None else str(v)


def resolve_sides(a: str, b: str | None, sets: dict[str, Any]) -> tuple[Side, Side, str]:
    """Load both sides (or the scenario's own [compare] sets), with ``sets`` on top.

    Returns:
        Side A, side B and the question the comparison asks (a description).

    Raises:
        InputError: a scenario or override that cannot be used.
    """
    from sim.scenario import load_scenario, parse_override_list

    if b is None:
        base = load_scenario(a, overrides=sets)
        if not base.compare.a and not base.compare.b:
            raise InputError(
                f"compare {a!r}: the scenario declares no [compare] a/b override sets; "
                "give two scenarios (compare A B)"
            )
        ov_a = {**parse_override_list(base.compare.a), **sets}
        ov_b = {**parse_override_list(base.compare.b), **sets}
        sa, sb = _with_set(a, "a", ov_a), _with_set(a, "b", ov_b)
        la, lb = base.compare.label_a or "A", base.compare.label_b or "B"
        if la == lb:
            la, lb = f"{la} (A)", f"{lb} (B)"
        return (
            Side(la, f"{a} [compare.a]", sa, ov_a),
            Side(lb, f"{a} [compare.b]", sb, ov_b),
            base.run.description,
        )
    sa, sb = load_scenario(a, overrides=sets), load_scenario(b, overrides=sets)
    la, lb = sa.run.name, sb.run.name
    if la == lb:
        la, lb = f"{la} (A)", f"{lb} (B)"
    return Side(la, a, sa, dict(sets)), Side(lb, b, sb, dict(sets)), ""


def _with_set(name: str, side: str, overrides: dict[str, Any]) -> Scenario:
    """The scenario with one side's [compare] set; its errors name ``compare.a`` / ``.b``."""
    from sim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(name, overrides=overrides)
    except ScenarioError as exc:
        raise ScenarioError(f"compare.{side}: {exc}") from None


def resolved_horizon(a: Side, b: Side, steps: int, seed: int, reps: int) -> tuple[Side, Side]:
    """Both sides with ``run.steps`` and ``run.seed`` set to what the comparison runs, so
    the scenario files it writes reproduce it.

    Raises:
        InputError: a horizon or seed out of the schema's bounds.
    """
    from sim.scenario import build_scenario

    if seed + reps - 1 > 2**63 - 1:
        raise InputError(
            f"--seed {seed}: with --reps {reps} the last seed exceeds 2^63 - 1; "
            f"expected at most {2**63 - reps}"
        )
    fixed = {"run.steps": steps, "run.seed": seed}
    return tuple(  # type: ignore[return-value]
        Side(s.label, s.source, build_scenario(s.scenario.to_dict(), fixed), s.overrides)
        for s in (a, b)
    )


def field_differences(a: Scenario, b: Scenario) -> list[dict[str, Any]]:
    """Every scenario field whose value differs between the sides (dotted name, A, B);
    the name and description are labels, not settings, and are left out."""
    fa, fb = _flat(a.to_dict()), _flat(b.to_dict())
    skip = {"run.name", "run.description", "run.seed", "run.steps"}
    return [
        {"field": k, "a": fa.get(k), "b": fb.get(k)}
        for k in sorted(set(fa) | set(fb))
        if k not in skip and fa.get(k) != fb.get(k)
    ]


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        out = {}
        for i, v in enumerate(data):
            out.update(_flat(v, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: data}


def money(x: Any, currency: str) -> str:
    """An amount with its unit."""
    return f"{fmt_num(x)} {currency}".strip()


def finding(
    cost: dict[str, Any],
    mean_a: float,
    steps: int,
    currency: str,
    steps_per_year: int | None = None,
    label_a: str = "A",
) -> str:
    """The comparison's finding in one sentence: which side earns less total profit, by
    how much (with its unit and as a share of side A's profit), with its interval.
    With ``steps_per_year`` it speaks as a client reads: the horizon in years, amounts
    with thousands separators."""
    if not cost:
        return ""
    if steps_per_year is None:
        return _finding_in_steps(cost, mean_a, steps, currency)
    from analysis.html import amount, horizon
    from analysis.html import money as cash

    share = ""
    if math.isfinite(mean_a) and mean_a != 0:
        share = f", {cost['loss'] / abs(mean_a):.1%} of {label_a}'s total profit"
    interval = f"paired 95% CI {amount(cost['lo'])} to {cash(cost['hi'], currency)}"
    span = horizon(steps, steps_per_year)
    if not cost["significant"]:
        return (
            f"No difference in total profit over {span} could be shown: {cost['worse']} "
            f"earns {cash(cost['loss'], currency)} less than {cost['better']}{share}, but the "
            f"{interval} includes 0."
        )
    return (
        f"{cost['worse']} earns {cash(cost['loss'], currency)} less total profit than "
        f"{cost['better']} over {span}{share}; {interval}."
    )


def _finding_in_steps(cost: dict[str, Any], mean_a: float, steps: int, currency: str) -> str:
    share = ""
    if math.isfinite(mean_a) and mean_a != 0:
        share = f" ({cost['loss'] / abs(mean_a):.1%} of A's total profit)"
    interval = f"paired 95% CI {money(cost['lo'], currency)} to {money(cost['hi'], currency)}"
    if not cost["significant"]:
        return (
            f"No difference in total profit over {steps} steps could be shown: {cost['worse']} "
            f"earns {money(cost['loss'], currency)} less than {cost['better']}{share}, but the "
            f"{interval} includes 0."
        )
    return (
        f"{cost['worse']} earns {money(cost['loss'], currency)} less total profit than "
        f"{cost['better']} over {steps} steps{share}; {interval}."
    )


def pairing_notes(a: Side, b: Side) -> list[str]:
    """Warnings when the two sides cannot share their random inputs fully: a different
    population, network or calendar draws different random numbers for the same seed."""
    notes = []
    ra, rb = a.scenario.run, b.scenario.run
    if ra.customers != rb.customers:
        notes.append(f"run.customers differs ({ra.customers} vs {rb.customers})")
    if ra.steps_per_year != rb.steps_per_year:
        notes.append(f"run.steps_per_year differs ({ra.steps_per_year} vs {rb.steps_per_year})")
    if a.scenario.network != b.scenario.network:
        notes.append("the network settings differ")
    if len(a.scenario.categories) != len(b.scenario.categories):
        notes.append("the number of categories differs")
    return [
        f"note: {n}; the sides share seeds but not all random inputs, so pairing buys less"
        for n in notes
    ]


def run_pairs(
    a: Side,
    b: Side,
    seeds: Sequence[int],
    steps: int,
    jobs: Any = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Any], list[Any]]:
    """Run every replication of both sides; replication ``i`` uses ``seeds[i]`` on both.

    Args:
        jobs: worker processes (1 = in this process), or any executor the ensemble
            runner takes (``analysis.runs.ensemble``).
        progress: called with 1 as each run finishes (runs finish in any order).

    Returns:
        The (summary, time series) results of side A and of side B, in seed order.
    """
    from analysis.runs.ensemble import ensemble_run

    ens = ensemble_run(
        {"A": a.scenario, "B": b.scenario},
        seeds,
        steps=steps,
        executor=jobs,
        progress=None if progress is None else (lambda _record: progress(1)),
    )
    return (
        list(zip(ens.summaries("A"), ens.series("A"), strict=True)),
        list(zip(ens.summaries("B"), ens.series("B"), strict=True)),
    )


def run_comparison(
    a: Side,
    b: Side,
    reps: int,
    steps: int,
    seed: int,
    jobs: Any = 1,
    question: str = "",
    progress: Callable[[int], None] | None = None,
) -> Comparison:
    """Run a paired comparison in memory (seeds ``seed .. seed + reps - 1``)."""
    from analysis.compare.statistics import with_focal_launch_counts

    seeds = [seed + i for i in range(reps)]
    ra, rb = run_pairs(a, b, seeds, steps, jobs, progress)
    fa, fb = a.scenario.focal.name, b.scenario.focal.name
    return Comparison(
        a=a,
        b=b,
        seeds=seeds,
        steps=steps,
        summaries_a=[with_focal_launch_counts(s, fa) for s, _ in ra],
        summaries_b=[with_focal_launch_counts(s, fb) for s, _ in rb],
        series_a=[_with_cum_profit(t) for _, t in ra],
        series_b=[_with_cum_profit(t) for _, t in rb],
        question=question,
    )


def _with_cum_profit(ts: pd.DataFrame) -> pd.DataFrame:
    ts = ts.reset_index(drop=True)
    if "cum_profit" not in ts.columns and "profit" in ts.columns:
        ts = ts.assign(cum_profit=ts["profit"].cumsum())
    if "step" not in ts.columns:
        ts = ts.assign(step=range(len(ts)))
    return ts


# --------------------------------------------------------------------------- formatting


# --------------------------------------------------------------------------- writing
