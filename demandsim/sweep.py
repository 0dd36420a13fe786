"""The ``demandsim sweep`` and ``demandsim analyze`` commands.

Heavy imports (numpy, pandas, SALib, dask) happen inside the commands so that
``demandsim --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from demandsim.errors import check_scheduler, input_errors, need_extra
from demandsim.output import emit_json, json_option


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder; run again on the same folder to resume.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes (default: the cores).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Run on this Dask scheduler (default: $DASK_SCHEDULER_ADDRESS if set).",
)
@click.option("--retry-failed", is_flag=True, help="Run again the runs recorded as failed.")
@click.option(
    "--trust-spec",
    is_flag=True,
    help="Let the spec's runner name any module:function (it runs as code on the workers).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="Fix a scenario field (like run)."
)
@click.option(
    "--until-ci",
    type=float,
    default=None,
    metavar="WIDTH",
    help="Sobol/Morris: double the base sample (reusing runs) until every interval is narrower.",
)
@click.option(
    "--budget", type=click.IntRange(min=1), default=None, help="Never plan more runs than this."
)
@click.option("--dry-run", is_flag=True, help="Print the plan and a time estimate; run nothing.")
def sweep(
    spec: Path,
    out: Path,
    workers: int | None,
    scheduler: str | None,
    retry_failed: bool,
    trust_spec: bool,
    quiet: bool,
    sets: tuple[str, ...] = (),
    until_ci: float | None = None,
    budget: int | None = None,
    dry_run: bool = False,
) -> None:
    """Run the parameter sweep SPEC (a TOML file, or a bundled sweep such as small-grid)
    into --out DIR.

    Each finished run is written to DIR/runs/ as it completes; at the end all runs
    are compacted into DIR/results.parquet (one row per sample row and replication).
    A grid or LHS sweep then ends with its main effects (DIR/effects.csv, .png).
    --until-ci grows a Sobol or Morris sweep until its intervals are narrow enough;
    --dry-run prints the plan and a time estimate and writes nothing.
    Exit 0 when every run succeeded, 1 when some runs failed (recorded with their
    error), 2 on bad input.
    """
    import os

    from analysis.runs.executors import SchedulerLost, make_executor
    from analysis.sweeps.plan import resolve_spec_path
    from analysis.sweeps.run import run_sweep
    from demandsim.sweep_options import sweep_extra
    from sim.errors import InputError
    from sim.io import check_writable

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    with input_errors():
        if address:
            check_scheduler(address, "--scheduler" if scheduler else "$DASK_SCHEDULER_ADDRESS")
            need_extra("cluster", "demandsim sweep --scheduler")
        if workers is not None and address:
            raise InputError(
                f"--workers {workers}: the sweep runs on the Dask cluster at {address}, whose "
                "workers are its own; drop --workers, or the scheduler to run locally"
            )
        spec = resolve_spec_path(spec)
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {str(out)!r}: is a file; expected a folder")
        if not dry_run:
            check_writable(out, "--out")
        overrides, done = sweep_extra(
            spec, out, sets, until_ci, budget, dry_run, workers, scheduler, retry_failed, quiet
        )
    if done:
        return
    with input_errors():
        # connect before anything is written: an unreachable scheduler leaves no folder
        executor = make_executor(None, address) if address else None
    try:
        with input_errors():
            res = run_sweep(
                spec,
                out,
                workers=workers,
                retry_failed=retry_failed,
                progress=None if quiet else sys.stderr,
                executor=executor,
                trusted=trust_spec,
                sets=overrides,
            )
    except SchedulerLost as exc:
        click.echo(f"sweep: {exc}", err=True)
        sys.exit(1)
    finally:
        if executor is not None:
            executor.close()
    msg = (
        f"sweep: {res.total} runs ({res.ran} run now, {res.skipped} already done"
        + (f", {res.redone} redone" if res.redone else "")
        + (f", {res.failed} failed" if res.failed else "")
        + ")"
    )
    click.echo(msg, err=True)
    if res.complete:
        click.echo(str(res.out / "results.parquet"))
    if res.failed:
        click.echo(
            f"sweep: {res.failed} runs failed; see the status and error columns of results.parquet",
            err=True,
        )
        sys.exit(1)
    if res.complete:
        from analysis.sensitivity.analyze import effects_of_finished

        for line in effects_of_finished(res.out):
            click.echo(line, err=True)


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--method",
    type=click.Choice(["sobol", "morris", "effects"]),
    default=None,
    help="Sobol, Morris indices, or main effects (grid, lhs); default: the sweep's design.",
)
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    help="Outcome to analyse (repeatable; default: the spec's outcomes.analyze).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the CSV and PNG (default: FOLDER).",
)
@click.option("--conf-level", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option(
    "--resamples",
    type=click.IntRange(min=10),
    default=200,
    show_default=True,
    help="Bootstrap resamples for the intervals.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Seed of the bootstrap (positive: SALib treats 0 as unseeded).",
)
@click.option(
    "--max-width",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Flag intervals wider than this (Sobol: index units, default 0.1; Morris: share "
    "of the largest mu*, 0.1; effects: outcome standard deviations, 0.2).",
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Steps per window of the indices over time (Sobol/Morris sweeps with time series).",
)
@click.option(
    "--bins",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="LHS: levels per range.",
)
@json_option
def analyze(
    folder: Path,
    method: str | None,
    outcomes: tuple[str, ...],
    out: Path | None,
    conf_level: float,
    resamples: int,
    seed: int,
    max_width: float | None = None,
    window: int = 1,
    bins: int = 5,
    as_json: bool = False,
) -> None:
    """Sensitivity of the finished sweep in FOLDER, with confidence intervals.

    Sobol and Morris sweeps: SALib's indices in FOLDER/sensitivity-METHOD.csv and
    .png, and, when the sweep stored time series, the indices at every step (or
    --window) in sensitivity-METHOD-time.csv and .png. Grid and LHS sweeps: main
    effects and two-way interactions (effects*.csv, interactions*.csv, .png).
    Refuses (exit 2) a sweep that is incomplete, has failed runs, or misses a value
    of a chosen outcome. The table goes to stdout, the files written to stderr; with
    --json, stdout carries one JSON document with every table written.
    """
    from analysis.sensitivity.analyze import analyze_folder
    from sim.io import check_writable

    with input_errors():
        check_writable(out or folder, "--out" if out else "FOLDER")
        paths, said = analyze_folder(
            folder, method, list(outcomes), out, conf_level, resamples, seed, max_width, window,
            bins,
        )  # fmt: skip
    table, *notes = said
    for line in notes:
        click.echo(line, err=True)
    for p in paths:
        click.echo(f"wrote {p}", err=True)
    if as_json:
        emit_json({"folder": str(folder), "tables": tables_written(paths)})
    else:
        click.echo(table)


def tables_written(paths: list[Path]) -> dict[str, list[dict[str, object]]]:
    """Every CSV file among ``paths``, by name, as JSON-ready rows."""
    import pandas as pd

    from demandsim.output import records

    return {p.stem: records(pd.read_csv(p)) for p in paths if p.suffix == ".csv"}
