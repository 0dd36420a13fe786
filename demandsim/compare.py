"""``demandsim compare`` and ``demandsim report``.

``compare A B`` runs both scenarios with the same seeds (common random numbers:
replication ``i`` of A and of B share seed ``seed + i``), compares every scalar
outcome as the paired difference **B - A** with its paired-t interval, the
Welch interval beside it and the variance reduction the pairing bought, prints
the table and, with ``--out``, writes a complete output folder as a whole.
``compare SCENARIO`` uses the scenario's own ``[compare]`` override sets.

``report DIR`` writes ``DIR/report.html`` for a run or comparison folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from demandsim.errors import input_errors, parse_sets
from demandsim.output import emit_json, json_option, records, said_written
from demandsim.run import MAX_STEPS


def _check_out(out: str | None) -> Path | None:
    from sim.io import check_output_folder

    return None if out is None else check_output_folder(out, kind="comparison")


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
    type=click.IntRange(1, MAX_STEPS),
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
@click.option(
    "--price-reps",
    type=click.IntRange(0, 100_000),
    default=4,
    show_default=True,
    help="With --out: replications rerun at prices ±20% for the report's sensitivity "
    "strip (at most --reps; 0 = none).",
)
@json_option
def compare(
    a: str,
    b: str | None,
    reps: int,
    steps: int | None,
    seed: int | None,
    sets: tuple[str, ...],
    out: str | None,
    jobs: int | None,
    price_reps: int = 4,
    as_json: bool = False,
) -> None:
    """Paired comparison of scenario A and B (common random numbers).

    Differences are B − A. With one argument, the scenario's own [compare] table
    gives the override sets of both sides. With --json, prints the sides and every
    outcome's paired difference as one JSON document instead of the table.
    """
    from analysis.compare.files import headline, write_comparison
    from analysis.compare.paired import (
        pairing_notes,
        resolve_sides,
        resolved_horizon,
        run_comparison,
    )
    from analysis.runs.budget import check_work

    with input_errors():
        overrides = parse_sets(sets)
        side_a, side_b, question = resolve_sides(a, b, overrides)
        # the horizon and first seed are part of the resolved scenarios the folder records
        first = seed if seed is not None else side_a.scenario.run.seed
        n_steps = steps if steps is not None else side_a.scenario.run.steps
        side_a, side_b = resolved_horizon(side_a, side_b, n_steps, first, reps)
        customers = max(side_a.scenario.run.customers, side_b.scenario.run.customers)
        reruns = 4 * max(2, min(price_reps, reps)) if out is not None and price_reps else 0
        check_work("compare", 2 * reps + reruns, n_steps, customers)
        out_dir = _check_out(out)
    for note in pairing_notes(side_a, side_b):
        click.echo(note, err=True)
    if jobs is None:
        jobs = min(os.cpu_count() or 1, 2 * reps)
    with click.progressbar(
        length=2 * reps,
        label=f"compare {side_a.label} vs {side_b.label}",
        file=sys.stderr,
        show_pos=True,
    ) as bar:
        comp = run_comparison(
            side_a, side_b, reps, n_steps, first, jobs, question, progress=bar.update
        )
    table = comp.table()
    if not as_json:
        click.echo(headline(comp, table))
    prices = None
    if out_dir is not None and price_reps > 0:
        prices = _price_swings(comp, min(price_reps, reps), jobs)
    if out_dir is not None:
        with input_errors():
            write_comparison(comp, out_dir, prices)
        said_written(
            f"wrote {out_dir}/ (comparison.csv, comparison.json, summaries.parquet, "
            "timeseries_mean.parquet, scenario_a.toml, scenario_b.toml, demandsim.json, plots/)",
            as_json,
        )
    if as_json:
        emit_json(
            {
                "kind": "comparison",
                "direction": "B - A",
                "a": comp.a.meta(),
                "b": comp.b.meta(),
                "seeds": comp.seeds,
                "steps": comp.steps,
                "outcomes": records(table),
            }
        )


def _price_swings(comp: Any, reps: int, jobs: int) -> dict[str, Any]:
    """The sensitivity strip's price reruns, with their own progress bar."""
    from analysis.compare.assumptions import price_swings

    reps = max(2, reps)
    with click.progressbar(
        length=4 * reps, label="prices ±20%", file=sys.stderr, show_pos=True
    ) as bar:
        return price_swings(comp, reps, min(jobs, 2 * reps), progress=bar.update)


@click.command("report")
@click.argument("directory", metavar="DIR")
def report(directory: str) -> None:
    """Write DIR/report.html (self-contained) for a run or comparison folder."""
    from analysis.compare.report import write_report

    with input_errors():
        path = write_report(directory)
    click.echo(f"wrote {path}")
