"""``demandsim calibrate``: fit scenario fields to a market's observed series."""

from __future__ import annotations

from pathlib import Path

import click

from demandsim.errors import input_errors
from demandsim.output import emit_json, json_option, records


@click.command()
@click.argument("scenario")
@click.option(
    "--observed",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV or Parquet: step, then adopters and/or sales (or other model columns).",
)
@click.option(
    "--spec",
    "spec_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Calibration spec (TOML): the fields to fit with ranges, trials, seeds.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder; run again on the same folder to continue.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local worker processes for each candidate's replications (same results for any N).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@json_option
def calibrate(
    scenario: str,
    observed: Path,
    spec_path: Path,
    out: Path,
    workers: int,
    quiet: bool,
    as_json: bool = False,
) -> None:
    """Fit the spec's fields of SCENARIO to the series in --observed FILE.

    Stage 1 fits a Bass curve (least squares) as the first candidate; stage 2
    searches with optuna on common seeds, kept in DIR/study.db so that a rerun
    continues. Each candidate's replications run through the ensemble runner on
    --workers local processes; the results do not depend on N. Writes calibrated.toml (`demandsim run` accepts it), intervals.csv,
    trials.csv, start.json, fit.png, calibration.html and demandsim.json.
    """
    from demandsim.errors import need_extra

    need_extra("fit", "demandsim calibrate")
    from analysis.fit.calibrate import calibrate as run_calibration
    from analysis.fit.calibration_page import calibration_verdict, write_calibration
    from analysis.fit.calibration_spec import (
        CalibrationError,
        check_study,
        market_size,
        model_columns,
        parse_calibration_spec,
        read_observed,
    )
    from analysis.fit.words import setting_words
    from analysis.runs.budget import check_work
    from analysis.runs.provenance import provenance
    from analysis.sweeps.spec import bundled_spec, read_spec_toml
    from sim.io import MARKER, atomic_write_json, check_output_folder

    with input_errors():
        spec_path = bundled_spec(spec_path)
        data = read_spec_toml(spec_path, "--spec", CalibrationError)
        spec = parse_calibration_spec(data, spec_path.parent, scenario)
        observed = bundled_spec(observed)
        # the file is checked before the (tiny) model that lists the model's columns
        obs = read_observed(observed, lambda: model_columns(spec.base), market_size(spec.base))
        check_work(
            "calibrate",
            spec.replications * (spec.trials + spec.refine),
            len(obs),
            spec.base["run"]["customers"],
        )
        check_output_folder(out, kind="calibration")
        check_study(out)

    def progress(done: int, total: int, d: float, best: float) -> None:
        click.echo(f"calibrate: trial {done}/{total} distance {d:.4g} (best {best:.4g})", err=True)

    out.mkdir(parents=True, exist_ok=True)
    steps = int(obs["step"].iloc[-1])
    atomic_write_json(
        out / MARKER,
        provenance(
            "calibration",
            spec.seeds,
            steps,
            {"calibrated": "calibrated.toml"},
            trials=spec.trials,
            sampler=spec.sampler,
        ),
    )
    from analysis.runs.executors import kept_workers

    with input_errors(), kept_workers(workers) as executor:
        cal = run_calibration(
            spec, obs, out / "study.db", executor=executor, progress=None if quiet else progress
        )
        write_calibration(cal, out)
    if cal.warning:
        click.echo(cal.warning, err=True)
    plain = calibration_verdict(cal)
    if as_json:
        emit_json(
            {
                "kind": "calibration",
                "out": str(out),
                "best": cal.best,
                "distance_bound": cal.eps,
                "noise": cal.noise,
                "accepted": cal.accepted,
                "confidence": spec.confidence,
                "intervals": records(cal.intervals),
                "trials": len(cal.trials),
                "settings": {p.name: setting_words(p.name, spec.base) for p in spec.parameters},
                "summary": plain,
            }
        )
    else:
        click.echo(
            f"observation noise beyond the model's (estimated): {cal.noise:.1%}; "
            f"the intervals rest on {cal.accepted} good fits of {len(cal.trials)} candidates"
        )
        for line in [*(f["text"] for f in plain["fields"]), *(f["text"] for f in plain["fit"])]:
            click.echo(line)
        click.echo(plain["verdict"])
    click.echo(f"wrote {out}/ (calibrated.toml, intervals.csv, calibration.html)", err=True)
