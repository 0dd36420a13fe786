"""``demandsim compare`` and ``demandsim report``.

``compare A B`` runs both scenarios with the same seeds (common random numbers:
replication ``i`` of A and of B share seed ``seed + i``), compares every scalar
outcome as the paired difference **B - A** with its paired-t interval, the
Welch interval beside it and the variance reduction the pairing bought, prints
the table and, with ``--out``, writes a complete output folder atomically.
``compare SCENARIO`` uses the scenario's own ``[compare]`` override sets.

``report DIR`` writes ``DIR/report.html`` for a run or comparison folder.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim.errors import InputError
from sim.scenarios_cli import input_errors, parse_sets

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
        from analysis.compare import compare_outcomes

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
        sa, sb = load_scenario(a, overrides=ov_a), load_scenario(a, overrides=ov_b)
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


def _run_one(scenario: Scenario, seed: int, steps: int) -> tuple[dict[str, Any], pd.DataFrame]:
    from sim.model import run_scenario

    summary, ts = run_scenario(scenario, seed=seed, steps=steps)
    return summary, ts


def run_pairs(
    a: Side,
    b: Side,
    seeds: Sequence[int],
    steps: int,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Any], list[Any]]:
    """Run every replication of both sides; replication ``i`` uses ``seeds[i]`` on both.

    Args:
        jobs: worker processes (1 = in this process). Workers are started with the
            'spawn' method so nothing global is changed and no threads are forked.
        progress: called with 1 after each finished run.

    Returns:
        The (summary, time series) results of side A and of side B, in seed order.
    """
    tasks = [
        (side, i, sc, seed)
        for side, sc in ((0, a.scenario), (1, b.scenario))
        for i, seed in enumerate(seeds)
    ]
    results: list[list[Any]] = [[None] * len(seeds), [None] * len(seeds)]
    if jobs <= 1:
        for side, i, sc, seed in tasks:
            results[side][i] = _run_one(sc, seed, steps)
            if progress:
                progress(1)
        return results[0], results[1]
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {pool.submit(_run_one, sc, seed, steps): (side, i) for side, i, sc, seed in tasks}
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for fut in done:
                    side, i = futures[fut]
                    results[side][i] = fut.result()
                    if progress:
                        progress(1)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return results[0], results[1]


def run_comparison(
    a: Side,
    b: Side,
    reps: int,
    steps: int,
    seed: int,
    jobs: int = 1,
    question: str = "",
    progress: Callable[[int], None] | None = None,
) -> Comparison:
    """Run a paired comparison in memory (seeds ``seed .. seed + reps - 1``)."""
    from analysis.compare import with_focal_launch_counts

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


def fmt_num(x: Any, digits: int = 4) -> str:
    """A number in ``digits`` significant digits, '—' for missing."""
    if x is None:
        return "—"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "—"
    if v != 0 and (abs(v) >= 1e7 or abs(v) < 1e-3):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}" if abs(v) < 10**digits else f"{v:,.0f}"


def _pct(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    return f"{v:.0%}" if math.isfinite(v) else "—"


def format_table(table: pd.DataFrame, label_a: str, label_b: str) -> str:
    """The comparison table as plain text (differences B - A)."""
    head = [
        "outcome",
        f"A: {label_a}",
        f"B: {label_b}",
        "B − A",
        "paired 95% CI",
        "Welch 95% CI",
        "var.red.",
        "",
    ]
    rows = [head]
    for r in table.itertuples(index=False):
        rows.append(
            [
                str(r.outcome),
                fmt_num(r.mean_a),
                fmt_num(r.mean_b),
                fmt_num(r.diff_b_minus_a),
                f"[{fmt_num(r.paired_lo)}, {fmt_num(r.paired_hi)}]",
                f"[{fmt_num(r.welch_lo)}, {fmt_num(r.welch_hi)}]",
                _pct(r.variance_reduction),
                "*" if r.significant else "",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for k, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def headline(comp: Comparison, table: pd.DataFrame) -> str:
    """The lines printed above and below the table."""
    from analysis.compare import worse_platform_cost

    n = len(comp.seeds)
    lines = [
        f"A = {comp.a.label} ({comp.a.source})",
        f"B = {comp.b.label} ({comp.b.source})",
        f"{n} paired replications (seeds {comp.seeds[0]}..{comp.seeds[-1]}, same seeds on both sides), "
        f"{comp.steps} steps; differences are B − A; * = paired 95% CI excludes 0; "
        "var.red. = 1 − Var(B−A)/(Var(A)+Var(B)).",
    ]
    cost = worse_platform_cost(table, comp.a.label, comp.b.label)
    tail = ""
    if cost:
        verdict = "" if cost["significant"] else " — not significant: the interval includes 0"
        tail = (
            f"Cost of the worse side ({cost['worse']}) against {cost['better']}: "
            f"{fmt_num(cost['loss'])} in total profit over {comp.steps} steps "
            f"(paired 95% CI {fmt_num(cost['lo'])} to {fmt_num(cost['hi'])}){verdict}."
        )
        prof = table[table["outcome"] == "profit_total"].iloc[0]
        paired_w = float(prof["paired_hi"] - prof["paired_lo"])
        welch_w = float(prof["welch_hi"] - prof["welch_lo"])
        if math.isfinite(paired_w) and math.isfinite(welch_w) and paired_w > 0:
            tail += (
                f"\nPairing: Var(B−A) of total profit is {1 - float(prof['variance_reduction']):.0%} "
                f"of Var(A)+Var(B); its paired interval is {welch_w / paired_w:.1f}× narrower "
                "than the unpaired (Welch) one."
            )
    return (
        "\n".join(lines)
        + "\n\n"
        + format_table(table, comp.a.label, comp.b.label)
        + ("\n\n" + tail if tail else "")
    )


# --------------------------------------------------------------------------- writing


def write_comparison(comp: Comparison, out: Path) -> list[Path]:
    """Write every output of a comparison into ``out`` atomically (all or nothing)."""
    import pandas as pd
    import tomli_w

    from analysis.compare import (
        launch_outcomes,
        mean_band,
        mean_nested,
        paired_band,
        scalar_outcomes,
        worse_platform_cost,
    )
    from analysis.plots import plot_compare
    from sim.io import (
        atomic_write_json,
        atomic_write_parquet,
        atomic_write_text,
        staged_dir,
        to_json,
    )

    table = comp.table()
    written: list[Path] = []
    with staged_dir(out) as stage:
        atomic_write_text(stage / "comparison.csv", table.to_csv(index=False))
        rows = []
        for side, label, summaries in (
            ("A", comp.a.label, comp.summaries_a),
            ("B", comp.b.label, comp.summaries_b),
        ):
            for rep, s in enumerate(summaries):
                rows.append(
                    {
                        "side": side,
                        "label": label,
                        "rep": rep,
                        "seed": comp.seeds[rep],
                        **scalar_outcomes(s),
                    }
                )
        atomic_write_parquet(stage / "summaries.parquet", pd.DataFrame(rows))
        atomic_write_text(
            stage / "summaries.json", to_json({"A": comp.summaries_a, "B": comp.summaries_b})
        )

        columns = [
            c for c in comp.series_a[0].columns if c != "step" and _numeric(comp.series_a[0][c])
        ]
        band_a = mean_band(comp.series_a, columns)
        band_b = mean_band(comp.series_b, columns)
        both = pd.concat(
            [
                band_a.assign(side="A", label=comp.a.label),
                band_b.assign(side="B", label=comp.b.label),
            ],
            ignore_index=True,
        )
        atomic_write_parquet(stage / "timeseries_mean.parquet", both)
        diffs = {
            c: paired_band(comp.series_a, comp.series_b, c) for c in DIFF_SERIES if c in columns
        }
        plot_compare(band_a, band_b, comp.a.label, comp.b.label, stage / "plots", diffs)

        for key, part in (("a", comp.a), ("b", comp.b)):
            atomic_write_text(
                stage / f"scenario_{key}.toml", tomli_w.dumps(part.scenario.to_dict())
            )
        launches = {
            "A": launch_outcomes(comp.summaries_a).to_dict(orient="records"),
            "B": launch_outcomes(comp.summaries_b).to_dict(orient="records"),
        }
        meta = {
            "kind": "comparison",
            "direction": "B - A",
            "question": comp.question,
            "a": comp.a.meta(),
            "b": comp.b.meta(),
            "reps": len(comp.seeds),
            "seeds": comp.seeds,
            "steps": comp.steps,
            "level": 0.95,
            "outcomes": table.to_dict(orient="records"),
            "worse_side_cost": worse_platform_cost(table, comp.a.label, comp.b.label),
            "detection": {
                "A": mean_nested(comp.summaries_a, "detection"),
                "B": mean_nested(comp.summaries_b, "detection"),
            },
            "chain": {
                "A": mean_nested(comp.summaries_a, "chain"),
                "B": mean_nested(comp.summaries_b, "chain"),
            },
            "launches": launches,
        }
        # comparison.json last: its presence marks a complete folder.
        atomic_write_json(stage / "comparison.json", meta)
        written = sorted(p.relative_to(stage) for p in stage.rglob("*") if p.is_file())
    # a report left from an earlier comparison in this folder would now describe other numbers
    (out / "report.html").unlink(missing_ok=True)
    return [out / p for p in written]


def _numeric(col: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(col))


def _check_out(out: str | None) -> Path | None:
    if out is None:
        return None
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError(f"--out {out!r}: is a file; expected a folder")
    return p


# --------------------------------------------------------------------------- commands


@click.command("compare")
@click.argument("a")
@click.argument("b", required=False)
@click.option(
    "--reps",
    type=click.IntRange(2, 100_000),
    default=10,
    show_default=True,
    help="Paired replications (same seeds on both sides).",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 10_000_000),
    default=None,
    help="Steps per run [default: scenario A's run.steps].",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    help="First seed; replication i uses seed + i [default: scenario A's run.seed].",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a field on both sides (repeatable), e.g. --set run.customers=3000.",
)
@click.option(
    "--out", type=str, default=None, help="Write tables, series and plots to this folder."
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 1024),
    default=None,
    help="Worker processes [default: CPU count, at most the number of runs].",
)
def compare(
    a: str,
    b: str | None,
    reps: int,
    steps: int | None,
    seed: int | None,
    sets: tuple[str, ...],
    out: str | None,
    jobs: int | None,
) -> None:
    """Paired comparison of scenario A and B (common random numbers).

    Differences are B − A. With one argument, the scenario's own [compare] table
    gives the override sets of both sides.
    """
    with input_errors():
        overrides = parse_sets(sets)
        side_a, side_b, question = resolve_sides(a, b, overrides)
        out_dir = _check_out(out)
    for note in pairing_notes(side_a, side_b):
        click.echo(note, err=True)
    n_steps = steps if steps is not None else side_a.scenario.run.steps
    first = seed if seed is not None else side_a.scenario.run.seed
    if jobs is None:
        jobs = min(os.cpu_count() or 1, 2 * reps)
    with (
        input_errors(),
        click.progressbar(
            length=2 * reps,
            label=f"compare {side_a.label} vs {side_b.label}",
            file=sys.stderr,
            show_pos=True,
        ) as bar,
    ):
        comp = run_comparison(
            side_a, side_b, reps, n_steps, first, jobs, question, progress=bar.update
        )
    table = comp.table()
    click.echo(headline(comp, table))
    if out_dir is not None:
        write_comparison(comp, out_dir)
        click.echo(
            f"\nwrote {out_dir}/ (comparison.csv, comparison.json, summaries.parquet, "
            "timeseries_mean.parquet, plots/)"
        )


@click.command("report")
@click.argument("directory", metavar="DIR")
def report(directory: str) -> None:
    """Write DIR/report.html (self-contained) for a run or comparison folder."""
    from analysis.report import write_report

    with input_errors():
        path = write_report(directory)
    click.echo(f"wrote {path}")
