"""``demandsim run``: one scenario, one or more replications, written atomically."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click


def show_progress() -> bool:
    return sys.stderr.isatty() or os.environ.get("DEMANDSIM_PROGRESS") == "1"


@click.command()
@click.argument("scenario")
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override any scenario field."
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=None, help="Seed (default: the scenario's)."
)
@click.option(
    "--steps", type=click.IntRange(min=1), default=None, help="Steps (default: the scenario's)."
)
@click.option(
    "--reps",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Replications (seeds seed, seed+1, ...).",
)
@click.option("--out", "out", type=click.Path(file_okay=False), default=None, help="Output folder.")
@click.option(
    "--plots/--no-plots", default=True, show_default=True, help="Write PNG plots of the key series."
)
def run(
    scenario: str,
    sets: tuple[str, ...],
    seed: int | None,
    steps: int | None,
    reps: int,
    out: str | None,
    plots: bool,
) -> None:
    """Run SCENARIO (a bundled name or a TOML path) and print its outcomes.

    With --out DIR, writes timeseries.parquet, summary.json, scenario.toml and
    plots: all of them or, if interrupted, none.
    """
    from sim.scenario import load_scenario
    from sim.scenarios_cli import parse_sets

    sc = load_scenario(scenario, overrides=parse_sets(sets))
    seed0 = sc.run.seed if seed is None else seed
    n_steps = sc.run.steps if steps is None else steps

    import numpy as np
    import pandas as pd

    from sim.model import DemandModel
    from sim.tables import chain_table, headline_table, sensitivity_table

    summaries: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    total = reps * n_steps
    bar = (
        click.progressbar(length=total, label="simulating", file=sys.stderr)
        if show_progress()
        else None
    )
    try:
        for r in range(reps):
            model = DemandModel(sc, rng=seed0 + r)
            for _ in range(n_steps):
                model.step()
                if bar is not None:
                    bar.update(1)
            summaries.append(model.summary())
            ts = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
            ts.insert(0, "seed", seed0 + r)
            ts.insert(0, "rep", r)
            frames.append(ts)
    finally:
        if bar is not None:
            bar.render_finish()
    ts_all = pd.concat(frames, ignore_index=True)
    first = summaries[0]
    click.echo(headline_table(first))
    click.echo()
    click.echo(sensitivity_table(first, sc.run.detection_horizon_steps))
    click.echo()
    click.echo(chain_table(first))
    if reps > 1:
        scalars = [
            k for k, v in first.items() if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        mean = {
            k: float(np.nanmean([np.nan if s[k] is None else s[k] for s in summaries]))
            for k in scalars
        }
        summary: dict[str, Any] = {
            "scenario": sc.run.name,
            "reps": reps,
            "seeds": [s["seed"] for s in summaries],
            "steps": n_steps,
            "mean": mean,
            "runs": summaries,
        }
        click.echo(f"\n(tables above: rep 0, seed {seed0}; means over {reps} reps in summary.json)")
    else:
        summary = first
    if out is None:
        return
    import tomli_w

    from sim.io import atomic_write_bytes, atomic_write_json, atomic_write_parquet, staged_dir

    with staged_dir(out) as stage:
        atomic_write_parquet(stage / "timeseries.parquet", ts_all)
        atomic_write_json(stage / "summary.json", summary)
        atomic_write_bytes(stage / "scenario.toml", tomli_w.dumps(sc.to_dict()).encode())
        if plots:
            from analysis.plots import plot_run

            plot_run(ts_all[ts_all["rep"] == 0].drop(columns=["rep", "seed"]), stage)
    click.echo(
        f"\nwrote {Path(out)}/ (timeseries.parquet, summary.json, scenario.toml{', plots' if plots else ''})"
    )
