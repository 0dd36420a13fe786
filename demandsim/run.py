"""``demandsim run``: one scenario, one or more replications, written as a whole."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from demandsim.errors import input_errors, parse_sets
from demandsim.output import emit_json, json_option, said_written

# Upper bounds of the options, as the scenario schema bounds the fields they set.
MAX_SEED = 2**63 - 1
MAX_STEPS = 1_000_000


def show_progress() -> bool:
    return sys.stderr.isatty() or os.environ.get("DEMANDSIM_PROGRESS") == "1"


@click.command()
@click.argument("scenario")
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override any scenario field."
)
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=None,
    help="Seed of the first replication (default: the scenario's run.seed).",
)
@click.option(
    "--steps",
    type=click.IntRange(1, MAX_STEPS),
    default=None,
    help="Steps (default: the scenario's run.steps).",
)
@click.option(
    "--reps",
    type=click.IntRange(1, 100_000),
    default=1,
    show_default=True,
    help="Replications (seeds seed, seed+1, ...).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 1024),
    default=1,
    show_default=True,
    help="Worker processes for the replications.",
)
@click.option("--out", "out", type=click.Path(file_okay=False), default=None, help="Output folder.")
@click.option(
    "--plots/--no-plots", default=True, show_default=True, help="Write PNG plots of the key series."
)
@json_option
def run(
    scenario: str,
    sets: tuple[str, ...],
    seed: int | None,
    steps: int | None,
    reps: int,
    jobs: int,
    out: str | None,
    plots: bool,
    as_json: bool = False,
) -> None:
    """Run SCENARIO (a bundled name or a TOML path) and print its outcomes.

    With --out DIR, writes timeseries.parquet, summary.json, scenario.toml (the
    resolved scenario: `demandsim run DIR/scenario.toml` runs it again), plots and
    demandsim.json (version, commit, seeds): all of them or, if interrupted, none.
    With --json, prints the summary (one JSON document) instead of the tables.
    """
    from analysis.runs.budget import check_work
    from sim.io import check_output_folder
    from sim.scenario import load_scenario

    with input_errors():
        overrides = parse_sets(sets)
        # --seed and --steps are part of the resolved scenario the folder records
        if seed is not None:
            overrides["run.seed"] = seed
        if steps is not None:
            overrides["run.steps"] = steps
        sc = load_scenario(scenario, overrides=overrides)
        if sc.run.seed + reps - 1 > MAX_SEED:
            raise_seed(sc.run.seed, reps)
        check_work("run", reps, sc.run.steps, sc.run.customers)
        if out is not None:
            check_output_folder(out, kind="run")
    seeds = [sc.run.seed + r for r in range(reps)]

    from analysis.runs.ensemble import ensemble_run, scalar_outcomes
    from sim.sixsigma import pooled_sigma_measures
    from sim.tables import chain_table, headline_table, sensitivity_table

    workers = min(jobs, reps)
    # in this process the bar moves with every step; with workers, as each run finishes
    per_step = workers == 1
    bar = (
        LateBar(
            length=reps * sc.run.steps if per_step else reps,
            label="simulating" if per_step else f"simulating ({workers} workers, runs done)",
            show_pos=not per_step,
        )
        if show_progress()
        else None
    )
    try:
        ens = ensemble_run(
            {sc.run.name: sc},
            seeds,
            executor=workers,
            progress=None if bar is None or per_step else (lambda _r: bar.update()),
            step_progress=None if bar is None or not per_step else bar.update,
        )
    finally:
        if bar is not None:
            bar.finish()
    summaries = ens.summaries(sc.run.name)
    first = summaries[0]
    if not as_json:
        click.echo(headline_table(first))
        click.echo()
        click.echo(sensitivity_table(first, sc.run.detection_horizon_weeks))
        click.echo()
        click.echo(chain_table(first))
    if reps > 1:
        import warnings

        import numpy as np

        rows = [scalar_outcomes(s) for s in summaries]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an outcome missing in every rep
            mean = {k: float(np.nanmean([r.get(k, np.nan) for r in rows])) for k in rows[0]}
        # a mean of levels would drop the zero-defect runs: the level of the pooled counts
        pooled = pooled_sigma_measures(summaries)
        mean.update({k: pooled[k] for k in ("sigma_level", "sigma_level_lower")})
        summary: dict[str, Any] = {
            "scenario": sc.run.name,
            "reps": reps,
            "seeds": seeds,
            "steps": sc.run.steps,
            "mean": mean,
            "runs": summaries,
        }
        if not as_json:
            click.echo(
                f"\n(tables above: rep 0, seed {seeds[0]}; means over {reps} reps in summary.json)"
            )
    else:
        summary = first
    if out is not None:
        write_run(out, sc, ens, summary, plots)
        said_written(
            f"wrote {Path(out)}/ (timeseries.parquet, summary.json, scenario.toml, "
            f"demandsim.json{', plots' if plots else ''})",
            as_json,
        )
    if as_json:
        emit_json(summary)


class LateBar:
    """A progress bar on stderr that appears at its first step, so that the model's
    set-up (building customers and networks) does not count in its time estimate."""

    def __init__(self, length: int, label: str, show_pos: bool) -> None:
        self.options: dict[str, Any] = {"length": length, "label": label, "show_pos": show_pos}
        self.bar: Any = None

    def update(self, n: int = 1) -> None:
        if self.bar is None:
            self.bar = click.progressbar(file=sys.stderr, **self.options)
            self.bar.render_progress()
        self.bar.update(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()


def raise_seed(seed: int, reps: int) -> None:
    from sim.errors import InputError

    raise InputError(
        f"--seed {seed}: with --reps {reps} the last seed exceeds 2^63 - 1; "
        f"expected at most {MAX_SEED - reps + 1}"
    )


def write_run(out: str, sc: Any, ens: Any, summary: dict[str, Any], plots: bool) -> None:
    """Write a run's output folder as a whole (see ``sim.io.staged_dir``)."""
    import tomli_w

    from analysis.runs.provenance import provenance
    from sim.io import (
        MARKER,
        atomic_write_bytes,
        atomic_write_json,
        atomic_write_parquet,
        staged_dir,
    )

    ts_all = ens.timeseries().drop(columns=["scenario"])
    with input_errors(), staged_dir(out) as stage:
        atomic_write_parquet(stage / "timeseries.parquet", ts_all)
        atomic_write_json(stage / "summary.json", summary)
        atomic_write_bytes(stage / "scenario.toml", tomli_w.dumps(sc.to_dict()).encode())
        if plots:
            from analysis.plots import plot_run

            plot_run(
                ts_all[ts_all["rep"] == 0].drop(columns=["rep", "seed"]),
                stage,
                sc.run.currency,
                sc.run.steps_per_year,
            )
        atomic_write_json(
            stage / MARKER,
            provenance("run", ens.seeds, sc.run.steps, {sc.run.name: "scenario.toml"}),
        )
