"""``demandsim frontier``: the cheapest platform for every sigma level (NSGA-II)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from demandsim.errors import input_errors
from demandsim.output import emit_json, json_option, records


@click.command()
@click.argument("scenario")
@click.option(
    "--spec",
    "spec_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Frontier spec (TOML): the fields to search with their ranges, trials, seeds.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (written as a whole); run again on the same folder to continue.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local worker processes for each candidate's replications.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@json_option
def frontier(
    scenario: str, spec_path: Path, out: Path, workers: int, quiet: bool, as_json: bool = False
) -> None:
    """Search the cost of each sigma level for SCENARIO (a bundled name or a TOML path).

    Minimises platform cost (contact_cost_total) and maximises the sigma level over
    the spec's platform and chain fields with optuna's NSGA-II, every candidate on
    the same seeds. Writes pareto.csv/.parquet, candidates.csv, cheapest.csv, one
    cheapest-Ksigma.toml per reached level (`demandsim run` accepts it),
    frontier.png, frontier.html and demandsim.json into --out DIR. The search is
    kept in DIR/study.db (SQLite): run the same command again after a stop, even a
    kill, and it continues with the candidates already finished.
    """
    from demandsim.errors import need_extra

    need_extra("fit", "demandsim frontier")
    from analysis.fit.calibration_spec import check_study
    from analysis.fit.frontier import FrontierSpecError, parse_frontier_spec, run_frontier
    from analysis.fit.frontier_page import frontier_words, write_frontier
    from analysis.fit.words import money_per_year, per_year, setting_words
    from analysis.runs.budget import check_work
    from analysis.runs.provenance import provenance
    from analysis.sweeps.spec import bundled_spec, read_spec_toml
    from sim.io import MARKER, atomic_write_json, check_output_folder

    with input_errors():
        spec_path = bundled_spec(spec_path)
        data = read_spec_toml(spec_path, "--spec", FrontierSpecError)
        spec = parse_frontier_spec(data, spec_path.parent, scenario=scenario)
        check_work(
            "frontier",
            spec.replications * spec.trials,
            spec.steps,
            spec.base["run"]["customers"],
        )
        check_output_folder(out, kind="frontier")
        check_study(out)

    def progress(done: int, total: int, m: dict[str, float]) -> None:
        level = f"{m['sigma']:.2f}σ" if m["sigma"] == m["sigma"] else "no defect"
        click.echo(
            f"frontier: {done}/{total} {level} (at least {m['sigma_lower']:.2f}σ), platform "
            f"cost {money_per_year(m['cost'], spec.steps, spec.base)}, profit "
            f"{money_per_year(m['profit'], spec.steps, spec.base)}",
            err=True,
        )

    # the study is kept in the output folder from the start, so that a stopped run
    # continues; the results replace the folder as a whole at the end, with the study
    out.mkdir(parents=True, exist_ok=True)
    if not (out / MARKER).exists():
        atomic_write_json(
            out / MARKER,
            provenance("frontier", spec.seeds, spec.steps, {}, trials=spec.trials),
        )
    study = out / "study.db"
    from analysis.runs.executors import kept_workers

    with input_errors(), kept_workers(workers) as executor:
        fr = run_frontier(
            spec, executor=executor, progress=None if quiet else progress, storage=study
        )
        write_frontier(fr, out, study=study)

    words = frontier_words(fr)

    def yearly(total: float | None) -> float | None:
        """A total over the run per year (None for a level nobody reached)."""
        return None if total is None else per_year(total, spec.steps, spy)

    spy = int(spec.base["run"]["steps_per_year"])
    if as_json:
        emit_json(
            {
                "kind": "frontier",
                "out": str(out),
                "parameters": [p.name for p in spec.parameters],
                "settings": {p.name: setting_words(p.name, spec.base) for p in spec.parameters},
                "currency": spec.base["run"]["currency"],
                "steps_per_year": spec.base["run"]["steps_per_year"],
                "cheapest": [
                    {
                        **r,
                        "cost_per_year": yearly(r["cost"]),
                        "profit_per_year": yearly(r["profit"]),
                    }
                    for r in records(fr.cheapest)
                ],
                "candidates": len(fr.table),
                "pareto": records(fr.table[fr.table["pareto"]]),
                "summary": words,
            }
        )
    else:
        for line in [words["intro"], *words["levels"], words["profit"]]:
            click.echo(line)
    click.echo(f"wrote {out}/ (pareto.csv, cheapest.csv, frontier.html, frontier.png)", err=True)
    sys.stdout.flush()
