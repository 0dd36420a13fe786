"""The ``demandsim sweep`` and ``demandsim analyze`` commands.

Heavy imports (numpy, pandas, SALib, dask) happen inside the commands so that
``demandsim --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.errors import input_errors


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
def sweep(
    spec: Path,
    out: Path,
    workers: int | None,
    scheduler: str | None,
    retry_failed: bool,
    trust_spec: bool,
    quiet: bool,
) -> None:
    """Run the parameter sweep SPEC (a TOML file, or a bundled sweep such as small-grid)
    into --out DIR.

    Each finished run is written to DIR/runs/ as it completes; at the end all runs
    are compacted into DIR/results.parquet (one row per sample row and replication).
    Exit 0 when every run succeeded, 1 when some runs failed (recorded with their
    error), 2 on bad input.
    """
    import os

    from analysis.executors import SchedulerLost, make_executor
    from analysis.sweep import resolve_spec_path, run_sweep
    from sim.errors import InputError
    from sim.io import check_writable

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    with input_errors():
        if workers is not None and address:
            raise InputError(
                f"--workers {workers}: the sweep runs on the Dask cluster at {address}, whose "
                "workers are its own; drop --workers, or the scheduler to run locally"
            )
        spec = resolve_spec_path(spec)
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {str(out)!r}: is a file; expected a folder")
        check_writable(out, "--out")
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


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--method",
    type=click.Choice(["sobol", "morris"]),
    default=None,
    help="Sobol (sampler sobol) or Morris (sampler morris) indices [default: the sweep's sampler].",
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
def analyze(
    folder: Path,
    method: str | None,
    outcomes: tuple[str, ...],
    out: Path | None,
    conf_level: float,
    resamples: int,
    seed: int,
) -> None:
    """Sensitivity indices of the finished sweep in FOLDER, with confidence intervals.

    Writes FOLDER/sensitivity-METHOD.csv and .png. Refuses (exit 2) a sweep that is
    incomplete, has failed runs, or misses a value of a chosen outcome.
    """
    from analysis.sensitivity import analyze_sweep, describe, write_analysis
    from sim.io import check_writable

    with input_errors():
        if method is None:
            method = method_of(folder)
        check_writable(out or folder, "--out" if out else "FOLDER")
    table, s2 = analyze_sweep(
        folder,
        method,
        list(outcomes) or None,
        conf_level=conf_level,
        num_resamples=resamples,
        seed=seed,
    )
    paths = write_analysis(folder, method, table, s2, out)
    click.echo(describe(table, method), err=True)
    for p in paths:
        click.echo(str(p))


def method_of(folder: Path) -> str:
    """The sampler of the sweep in ``folder`` (from its manifest), when it has indices."""
    import json

    from sim.errors import InputError

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(
            f"{str(folder)!r}: no readable manifest.json; expected a sweep folder, or give --method"
        ) from None
    method = manifest.get("method") if isinstance(manifest, dict) else None
    if method not in ("sobol", "morris"):
        raise InputError(
            f"{str(folder)!r}: sampled with {method!r}, which has no sensitivity indices; "
            "expected a sobol or morris sweep"
        )
    return str(method)
