"""What ``demandsim sweep`` does besides running a plan: ``--set``, ``--dry-run``,
``--until-ci`` and ``--budget``.

Kept apart from the command's module so the command itself only wires options to
these functions. Every check here happens before anything is written. The analysis a
finished sweep ends with is the library's (``analysis.sensitivity.analyze``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


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
    from demandsim.errors import parse_sets

    overrides = parse_sets(sets) if sets else None
    if dry_run:
        from analysis.sweeps.dryrun import dry_run as plan

        for line in plan(
            spec, out, sets=overrides, workers=workers, until_ci=until_ci, budget=budget
        ):
            click.echo(line)
        return overrides, True
    if until_ci is not None:
        from analysis.sensitivity.converge import run_until_ci
        from analysis.sensitivity.indices import write_analysis

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
        from analysis.sweeps.spec import load_spec

        method = load_spec(spec, overrides).method
        for p in [*write_analysis(out, method, conv.table, None), conv.path_csv]:
            click.echo(str(p))
        from analysis.sensitivity.analyze import report_page

        click.echo(report_page(out), err=True)
        return overrides, True
    if budget is not None:
        from analysis.sweeps.dryrun import check_budget
        from analysis.sweeps.plan import check_plan_size, make_plan
        from analysis.sweeps.spec import load_spec

        loaded = load_spec(spec, overrides)
        check_plan_size(loaded)  # before anything is sampled
        check_budget(len(make_plan(loaded).tasks), budget)
    return overrides, False
