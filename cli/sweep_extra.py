"""What ``demandsim sweep`` does besides running a plan: ``--set``, ``--dry-run``,
``--until-ci``, ``--budget``, and the analysis a finished grid or LHS sweep ends with.

Kept apart from the command's module so the command itself only wires options to
these functions. Every check here happens before anything is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

#: A sweep without ``outcomes.analyze`` ends with the main effects of this many outcomes.
AUTO_OUTCOMES = 6


def sweep_extra(
    spec: Path,
    out: Path,
    sets: tuple[str, ...],
    until_ci: float | None,
    budget: int | None,
    dry_run: bool,
    workers: int | None,
    scheduler: str | None,
    retry_failed: bool,
    quiet: bool,
) -> tuple[dict[str, Any] | None, bool]:
    """Handle the options that change what ``sweep`` does.

    Returns:
        (the ``--set`` overrides or None, whether the command is finished).

    Raises:
        InputError: a bad ``--set``, ``--until-ci`` or ``--budget``, in one line.
    """
    from cli.errors import parse_sets

    overrides = parse_sets(sets) if sets else None
    if dry_run:
        from analysis.sweep_plan import dry_run as plan

        for line in plan(
            spec, out, sets=overrides, workers=workers, until_ci=until_ci, budget=budget
        ):
            click.echo(line)
        return overrides, True
    if until_ci is not None:
        from analysis.converge import run_until_ci
        from analysis.sensitivity import write_analysis

        conv = run_until_ci(
            spec,
            out,
            until_ci,
            budget=budget,
            sets=overrides,
            workers=workers,
            scheduler=scheduler,
            retry_failed=retry_failed,
            progress=None if quiet else sys.stderr,
        )
        click.echo("until-ci path: N, runs, new runs, widest interval", err=True)
        for r in conv.rounds:
            click.echo(f"  {r.samples}, {r.runs}, {r.ran}, {r.widest:.4f}", err=True)
        click.echo(conv.message, err=True)
        if conv.table is None:
            sys.exit(1)
        from analysis.sweep import load_spec

        method = load_spec(spec, overrides).method
        for p in [*write_analysis(out, method, conv.table, None), conv.path_csv]:
            click.echo(str(p))
        from analysis.sensitivity import load_finished

        _report(out, load_finished(out)[0], None)
        return overrides, True
    if budget is not None:
        from analysis.sweep import load_spec, make_plan
        from analysis.sweep_plan import check_budget

        check_budget(len(make_plan(load_spec(spec, overrides)).tasks), budget)
    return overrides, False


def self_analysis(out: Path) -> None:
    """A finished grid or LHS sweep ends with its main effects (table on stderr, files
    in the folder); other designs keep ``demandsim analyze``."""
    from analysis.effects import DESIGNS, analyze_effects, describe
    from analysis.sensitivity import SweepFolderError, default_outcomes, load_finished

    try:
        manifest, df = load_finished(out)
        if manifest.get("method") not in DESIGNS:
            return
        names = default_outcomes(df, manifest)
        if not manifest.get("analyze") and len(names) > AUTO_OUTCOMES:
            click.echo(
                f"sweep: main effects of the first {AUTO_OUTCOMES} of {len(names)} outcomes "
                "(list yours in the spec's outcomes.analyze, or use `demandsim analyze`)",
                err=True,
            )
            names = names[:AUTO_OUTCOMES]
        _table, summary, paths = analyze_effects(out, names)
    except SweepFolderError as exc:
        click.echo(f"sweep: no main effects: {exc}", err=True)
        return
    click.echo(describe(summary, manifest), err=True)
    click.echo("sweep: main effects in " + ", ".join(p.name for p in paths), err=True)
    _report(out, manifest, None)


def analyze_any(
    folder: Path,
    method: str | None,
    outcomes: list[str],
    out: Path | None,
    conf_level: float,
    resamples: int,
    seed: int,
    max_width: float | None,
    window: int,
    bins: int,
) -> list[Path]:
    """``demandsim analyze``: the analysis that fits the sweep's design; the written paths.

    Raises:
        SweepFolderError: the folder cannot be analysed as asked, in one line.
    """
    from analysis.sensitivity import SweepFolderError, load_finished

    if method is None:
        manifest, _ = load_finished(folder)
        method = {"grid": "effects", "lhs": "effects"}.get(manifest.get("method", ""))
        method = method or str(manifest.get("method"))
    if method == "effects":
        from analysis.effects import MAX_WIDTH, analyze_effects, describe

        manifest, _ = load_finished(folder)
        _t, summary, paths = analyze_effects(
            folder,
            outcomes or None,
            out=out,
            bins=bins,
            conf_level=conf_level,
            max_width=max_width or MAX_WIDTH,
        )
        click.echo(describe(summary, manifest), err=True)
        _report(folder, manifest, out)
        return list(paths)
    from analysis.sensitivity import MAX_WIDTH as SA_WIDTH
    from analysis.sensitivity import analyze_sweep, write_analysis
    from analysis.sensitivity import describe as sa_describe
    from analysis.store import SweepStore

    table, s2 = analyze_sweep(
        folder,
        method,
        outcomes or None,
        conf_level=conf_level,
        num_resamples=resamples,
        seed=seed,
        max_width=max_width or SA_WIDTH,
    )
    paths = write_analysis(folder, method, table, s2, out)
    manifest, _ = load_finished(folder)
    click.echo(sa_describe(table, method, manifest), err=True)
    if SweepStore(folder).timeseries_path.exists():
        from analysis.timevarying import indices_over_time, write_over_time

        try:
            over = indices_over_time(
                folder,
                window=window,
                conf_level=conf_level,
                num_resamples=resamples,
                seed=seed,
                max_width=max_width or SA_WIDTH,
            )
        except SweepFolderError as exc:
            click.echo(f"analyze: no indices over time: {exc}", err=True)
        else:
            paths += write_over_time(folder, method, over, out)
    _report(folder, manifest, out)
    return list(paths)


def _report(folder: Path, manifest: dict[str, Any], out: Path | None) -> None:
    """Write the sweep's HTML page and name it on stderr (stdout lists the data files)."""
    from analysis.sweep_report import write_report

    click.echo(f"report: {write_report(folder, manifest, out)}", err=True)
