"""Every bad input the command line was seen to mishandle: one line of at most 200
characters naming the field, the value and what is allowed; exit code 2; nothing
written, and an existing output folder left exactly as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from demandsim.main import main

SMALL = ["--set", "run.customers=300"]
SWEEP = """
scenario = "baseline"
steps = 2
replications = 1
[sampler]
method = "grid"
points = {points}
[set]
"run.customers" = 200
[parameters]
{parameters}
"""


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too) with its content."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], root: Path, *words: str) -> str:
    """Run ``demandsim argv``; check exit 2, one short line with ``words``, no change in ``root``."""
    before = snapshot(root)
    dirs_before = sorted(str(p) for p in root.rglob("*"))
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[:2000]
    assert len(lines[0]) <= 200, lines[0]
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], lines[0]
    assert snapshot(root) == before
    assert sorted(str(p) for p in root.rglob("*")) == dirs_before
    return lines[0]


@pytest.fixture
def old_run(tmp_path: Path) -> Path:
    """An existing output folder that bad input must leave exactly as it is."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "demandsim.json").write_text('{"kind": "run"}\n')
    (out / "summary.json").write_text('{"scenario": "old"}\n')
    return out


def test_an_unknown_engine_in_the_environment(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old_run: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMANDSIM_ENGINE", "fast")
    argv = ["run", "baseline", "--steps", "2", "--out", str(old_run)]
    refused(capsys, argv, tmp_path, "DEMANDSIM_ENGINE", "'fast'", "sweep, events")


# ---------------------------------------------------------------- help


@pytest.mark.parametrize("argv", [[], ["scenarios"]])
def test_no_arguments_print_the_usage(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    assert exc.value.code == 0 and out.err == ""
    assert out.out.startswith("Usage: ") and len(out.out.splitlines()) > 5


# ---------------------------------------------------------------- scenario files


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "in" / "s.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return str(path)


BAD_SCENARIOS = {
    "mix_sum": ('[[segments]]\nname = "all"\ntier_mix = [0.2, 0.4, 0.6]\n', "tier_mix"),
    "mix_short": ('[[segments]]\nname = "all"\ntier_mix = [0.5, 0.5]\n', "one per tier"),
    "dup_segment": (
        '[[segments]]\nname = "x"\nshare = 0.5\n[[segments]]\nname = "x"\nshare = 0.5\n',
        "duplicate names",
    ),
    "dup_tier": (
        '[[categories]]\nname = "c"\ntiers = ["a", "a"]\nprices = [1.0, 2.0]\n'
        "qualities = [0.5, 0.6]\n"
        '[[segments]]\nname = "s"\ntier_mix = [0.5, 0.5]\n',
        "unique tier names",
    ),
    "generations_cycle": (
        '[[categories]]\nname = "a"\nsupersedes = "b"\n'
        '[[categories]]\nname = "b"\nsupersedes = "a"\n',
        "cycle",
    ),
    "compare_set": ('[compare]\na = "focal.platform.densty = 0.1"\n', "compare.a"),
    "deep": ("x = " + "[" * 1000 + "]" * 1000 + "\n", "nested"),
    "big_seed": (f"[run]\nseed = {2**63}\n", "run.seed"),
    "huge_number": ("[run]\nseed = " + "9" * 1_000_000 + "\n", "cannot be read"),
}


@pytest.mark.parametrize("key", sorted(BAD_SCENARIOS))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_scenario_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old_run: Path, key: str, command: str
) -> None:
    text, word = BAD_SCENARIOS[key]
    path = _file(tmp_path, text)
    argv = (
        ["scenarios", "validate", path]
        if command == "validate"
        else ["run", path, "--out", str(old_run)]
    )
    if key == "compare_set" and command == "run":
        argv = ["compare", path, "--reps", "2", "--out", str(old_run)]
    refused(capsys, argv, tmp_path, word)


BAD_SETS = {
    "deep": ("run.name=" + "[" * 1000 + "]" * 1000, "nested"),
    "huge_value": ("focal.platform.density=" + "9" * 5_000_000, "focal.platform.density"),
    "huge_key": ("x" * 5_000_000 + "=1", "unknown field"),
    "big_seed": (f"run.seed={2**63}", "run.seed"),
    "mix": ("segments.0.tier_mix=[0.2, 0.4, 0.6]", "tier_mix"),
    "supersedes": ("categories.1.supersedes=core-9", "categories.1.supersedes"),
    "supersedes_self": ("categories.0.supersedes=core", "categories.0.supersedes"),
}


@pytest.mark.parametrize("key", sorted(BAD_SETS))
def test_bad_set_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old_run: Path, key: str
) -> None:
    value, word = BAD_SETS[key]
    refused(capsys, ["run", "baseline", "--set", value, "--out", str(old_run)], tmp_path, word)


@pytest.mark.parametrize(
    "argv, word",
    [
        (["run", "baseline", "--seed", str(2**63)], "--seed"),
        (["run", "baseline", "--seed", str(2**63 - 1), "--reps", "2"], "--seed"),
        (["compare", "baseline", "low-coverage", "--seed", str(2**63)], "--seed"),
        (["run", "baseline", "--steps", "10000000"], "--steps"),
        (["compare", "baseline", "low-coverage", "--steps", "10000000"], "--steps"),
    ],
)
def test_bad_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old_run: Path, argv: list[str], word: str
) -> None:
    refused(capsys, [*argv, "--out", str(old_run)], tmp_path, word)


# ---------------------------------------------------------------- output folders


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "analyze"])
def test_unwritable_out(capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    out = str(blocker / "out")
    argv = {
        "run": ["run", "baseline", *SMALL, "--steps", "2", "--out", out],
        "compare": ["compare", "baseline", "low-coverage", *SMALL, "--steps", "2", "--reps", "2"],
        "sweep": ["sweep", "small-grid", "--out", out],
        "analyze": ["analyze", str(tmp_path), "--method", "sobol", "--out", out],
    }[command]
    if command == "compare":
        argv += ["--out", out]
    refused(capsys, argv, tmp_path, "cannot write")


def test_a_folder_of_other_files_is_not_replaced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work\n")
    refused(capsys, ["run", "baseline", "--out", str(mine)], tmp_path, "did not write")


def test_report_of_a_damaged_time_series(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"scenario": "x", "seed": 1, "steps": 2}))
    (run / "timeseries.parquet").write_bytes(b"PAR1 this is not parquet")
    refused(capsys, ["report", str(run)], tmp_path, "timeseries.parquet", "cannot be read")


def test_report_that_cannot_be_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"scenario": "x", "seed": 1, "steps": 2}))
    (run / "report.html").mkdir()  # in the way of the file
    refused(capsys, ["report", str(run)], tmp_path, "report.html")


# ---------------------------------------------------------------- sweeps


def _sweep(tmp_path: Path, parameters: str, points: int = 3, extra: str = "") -> str:
    path = tmp_path / "in" / "sweep.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(extra + SWEEP.format(points=points, parameters=parameters))
    return str(path)


def test_a_huge_grid_is_refused_before_it_is_planned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fields = [
        "focal.platform.density",
        "focal.platform.strength",
        "focal.platform.coverage",
        "demand.emergence_rate",
        "demand.activation_rate",
        "demand.expiry_rate",
    ]
    params = "\n".join(f'"{f}" = {{ range = [0.0, 0.5] }}' for f in fields)
    spec = _sweep(tmp_path, params, points=100)
    line = refused(capsys, ["sweep", spec, "--out", str(tmp_path / "out")], tmp_path, "runs")
    assert "1,000,000,000,000" in line


@pytest.mark.parametrize(
    "runner, trust, words",
    [
        ("os:system", [], ["--trust-spec"]),
        # a runner that does not exist is found when the sweep is planned, not at run time
        ("no_such_module_here:run", ["--trust-spec"], ["no_such_module_here", "importable"]),
    ],
)
def test_a_foreign_runner_needs_the_trust_flag(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    runner: str,
    trust: list[str],
    words: list[str],
) -> None:
    spec = _sweep(
        tmp_path,
        '"focal.platform.density" = { range = [0.0, 0.5] }',
        extra=f'runner = "{runner}"\n',
    )
    refused(capsys, ["sweep", spec, "--out", str(tmp_path / "out"), *trust], tmp_path, *words)


def test_analyze_without_a_method_on_a_folder_that_is_no_sweep(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # (a finished grid sweep gets its main effects: tests/test_effects.py)
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"method": "grid"}))
    refused(capsys, ["analyze", str(folder)], tmp_path, "manifest")


def test_unreachable_scheduler(tmp_path: Path) -> None:
    spec = _sweep(tmp_path, '"focal.platform.density" = { range = [0.0, 0.5] }')
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    proc = subprocess.run(
        [sys.executable, "-m", "demandsim.main", "sweep", spec, "--out", str(tmp_path / "out")]
        + ["--scheduler", "tcp://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and len(lines[0]) <= 200 and "--scheduler" in lines[0]
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- observed files

CAL_SPEC = """
replications = {reps}
trials = {trials}
refine = 0
[set]
"run.customers" = {customers}
[parameters]
{parameters}
"""
WOM = '"wom.q" = { range = [0.02, 0.8] }'


def _calibration(
    tmp_path: Path,
    observed: str | None = "step,adopters\n0,0\n1,5\n2,12\n3,20\n",
    parameters: str = WOM,
    reps: int = 2,
    trials: int = 5,
    customers: int = 1000,
) -> list[str]:
    """The argv of a calibration of bass-check reading files under tmp_path/in."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    spec = CAL_SPEC.format(reps=reps, trials=trials, customers=customers, parameters=parameters)
    (folder / "spec.toml").write_text(spec)
    if observed is not None:
        (folder / "obs.csv").write_text(observed)
    return [
        "calibrate",
        "bass-check",
        "--observed",
        str(folder / "obs.csv"),
        "--spec",
        str(folder / "spec.toml"),
    ]


BAD_OBSERVED = {
    "decreasing": ("step,adopters\n0,0\n1,5\n2,12\n3,9\n", ["adopters", "12", "9", "never"]),
    "sales_disagree": (
        "step,adopters,sales\n0,0,0\n1,5,5\n2,12,30\n3,20,8\n",
        ["sales", "step 2", "30", "change in adopters"],
    ),
    "all_zero": ("step,adopters\n0,0\n1,0\n2,0\n3,0\n", ["adopters", "zero at every step"]),
    "above_market": ("step,adopters\n0,0\n1,500\n2,90000\n3,90001\n", ["90001", "market", "1,000"]),
    "overflow": ("step,sales\n0,1e300\n1,1e300\n2,1e300\n", ["sales", "1e+300", "at most"]),
    "share": ("step,market_share\n0,0.1\n1,2.0\n2,0.3\n", ["market_share", "2", "[0, 1]"]),
}


@pytest.mark.parametrize("key", sorted(BAD_OBSERVED))
def test_observed_files_that_are_not_adoption_counts(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    old_run: Path,
    key: str,
) -> None:
    import analysis.fit.calibration_spec as cs

    def no_model(_base: object) -> list[str]:
        raise AssertionError("a model was built before the observed file was checked")

    monkeypatch.setattr(cs, "model_columns", no_model)
    text, words = BAD_OBSERVED[key]
    finished = tmp_path / "calibrated"  # a finished calibration folder stays as it is
    finished.mkdir()
    (finished / "demandsim.json").write_text('{"kind": "calibration"}\n')
    (finished / "calibrated.toml").write_text('[run]\nname = "fit"\n')
    argv = [*_calibration(tmp_path, text), "--out", str(finished)]
    refused(capsys, argv, tmp_path, *words)


def test_an_observed_file_longer_than_any_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import numpy as np
    import pandas as pd

    argv = _calibration(tmp_path, None)
    n = 3_100_000
    obs = tmp_path / "in" / "long.parquet"
    pd.DataFrame({"step": np.arange(n), "adopters": np.arange(n)}).to_parquet(obs)
    argv[argv.index("--observed") + 1] = str(obs)
    refused(capsys, [*argv, "--out", str(tmp_path / "out")], tmp_path, "3,100,000", "1,000,000")


# ---------------------------------------------------------------- work budgets


def test_a_calibration_of_years_is_refused_with_its_estimate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = _calibration(tmp_path, reps=10_000, trials=100_000, customers=1_000_000)
    line = refused(capsys, [*argv, "--out", str(tmp_path / "out")], tmp_path, "calibrate", "years")
    assert "DEMANDSIM_WORK_BUDGET=" in line and "1e+09 runs" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "baseline", "--steps", "1000000", "--set", "run.customers=1000000"],
        ["run", "baseline", "--reps", "100000", "--set", "run.customers=100000"],
        ["compare", "baseline", "low-coverage", "--reps", "10000", "--steps", "100000"],
    ],
)
def test_runs_of_days_are_refused_with_their_estimate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old_run: Path, argv: list[str]
) -> None:
    line = refused(capsys, [*argv, "--out", str(old_run)], tmp_path, "DEMANDSIM_WORK_BUDGET=")
    assert "on one core" in line and argv[0] in line


def test_the_budget_can_be_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.runs.budget import check_work

    with pytest.raises(Exception, match="DEMANDSIM_WORK_BUDGET=1e\\+12"):
        check_work("run", 1, 1_000_000, 1_000_000)
    monkeypatch.setenv("DEMANDSIM_WORK_BUDGET", "1e12")
    check_work("run", 1, 1_000_000, 1_000_000)  # allowed now


def _frontier(tmp_path: Path, head: str) -> list[str]:
    """The argv of a frontier of six-sigma-platform over density, its spec led by ``head``."""
    spec = tmp_path / "in" / "f.toml"
    spec.parent.mkdir()
    spec.write_text(head + '[parameters]\n"focal.platform.density" = { range = [0.02, 0.3] }\n')
    return ["frontier", "six-sigma-platform", "--spec", str(spec), "--out", str(tmp_path / "o")]


def test_a_frontier_of_days_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = _frontier(tmp_path, "steps = 1000000\nreplications = 100\ntrials = 100\n")
    refused(capsys, argv, tmp_path, "frontier", "DEMANDSIM_WORK_BUDGET=")


# ---------------------------------------------------------------- specs


def test_the_horizon_is_not_a_field_to_fit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = _calibration(tmp_path, parameters='"run.steps" = { range = [10, 100] }')
    refused(capsys, [*argv, "--out", str(tmp_path / "out")], tmp_path, "run.steps", "observed")


def test_a_frontier_population_larger_than_its_trials(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = _frontier(tmp_path, "trials = 4\npopulation = 10\n")
    refused(capsys, argv, tmp_path, "population", "10", "at most trials (4)")


# ---------------------------------------------------------------- output folders of others


@pytest.mark.parametrize(
    "command, kind",
    [("calibrate", "frontier"), ("run", "comparison"), ("compare", "calibration")],
)
def test_an_output_folder_of_another_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, kind: str
) -> None:
    folder = tmp_path / kind
    folder.mkdir()
    (folder / "demandsim.json").write_text(json.dumps({"kind": kind}))
    (folder / "results.csv").write_text("trial,cost\n0,1\n")
    argv = {
        "calibrate": _calibration(tmp_path),
        "run": ["run", "baseline"],
        "compare": ["compare", "baseline", "low-coverage"],
    }[command]
    refused(capsys, [*argv, "--out", str(folder)], tmp_path, kind, "another command")


@pytest.mark.parametrize("command", ["calibrate", "frontier"])
def test_a_damaged_study_is_named_as_damaged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    import sqlite3

    folder = tmp_path / "out"
    folder.mkdir()
    kind = "calibration" if command == "calibrate" else "frontier"
    (folder / "demandsim.json").write_text(json.dumps({"kind": kind}))
    whole = tmp_path / "whole.db"
    con = sqlite3.connect(whole)
    con.execute("CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, state TEXT)")
    con.executemany("INSERT INTO trials (state) VALUES (?)", [("x" * 500,)] * 200)
    con.commit()
    con.close()
    data = whole.read_bytes()
    whole.unlink()
    (folder / "study.db").write_bytes(data[: len(data) // 3])  # truncated
    if command == "calibrate":
        argv = [*_calibration(tmp_path), "--out", str(folder)]
    else:
        argv = ["frontier", "six-sigma-platform", "--spec", "six-sigma.frontier"]
        argv += ["--out", str(folder)]
    refused(capsys, argv, tmp_path, "study.db", "damaged")


@pytest.mark.parametrize("command", ["calibrate", "frontier"])
def test_unwritable_out_of_a_search(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    out = str(blocker / "out")
    if command == "calibrate":
        argv = [*_calibration(tmp_path), "--out", out]
    else:
        argv = ["frontier", "six-sigma-platform", "--spec", "six-sigma.frontier", "--out", out]
    refused(capsys, argv, tmp_path, "cannot write")


# ---------------------------------------------------------------- values


def test_an_overlong_set_value(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old_run: Path
) -> None:
    argv = ["run", "baseline", "--set", "run.name=" + "x" * 100_000, "--out", str(old_run)]
    refused(capsys, argv, tmp_path, "run.name", "100,000 characters", "at most 10,000")


@pytest.mark.parametrize(
    "argv, words",
    [
        (["scenarios", "validate", "{zero}"], ["run.steps", "0", "[1, 1000000]"]),
        (["run", "{zero}"], ["run.steps", "0"]),
        (["run", "{string}"], ["run", "'fast'", "expected a table"]),
        (["run", "baseline", "--set", "focal.platform=3"], ["focal.platform", "a table"]),
        (["scenarios", "validate", "baseline", "--set", "focal=3"], ["focal", "a table"]),
    ],
)
def test_zero_steps_and_strings_for_tables(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old_run: Path,
    argv: list[str],
    words: list[str],
) -> None:
    zero = _file(tmp_path, "[run]\nsteps = 0\n")
    string = tmp_path / "in" / "string.toml"
    string.write_text('run = "fast"\n')
    argv = [a.format(zero=zero, string=string) for a in argv]
    if argv[0] == "run":
        argv += ["--out", str(old_run)]
    refused(capsys, argv, tmp_path, *words)


@pytest.mark.parametrize(
    "address", ["http://127.0.0.1:8786", "127.0.0.1:8786://", "tcp://", "localhost:x://y"]
)
def test_a_scheduler_address_of_the_wrong_scheme_is_refused_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, address: str
) -> None:
    spec = _sweep(tmp_path, '"focal.platform.density" = { range = [0.0, 0.5] }')
    argv = ["sweep", spec, "--out", str(tmp_path / "out"), "--scheduler", address]
    refused(capsys, argv, tmp_path, "--scheduler", "tcp://HOST:PORT")


# ---------------------------------------------------------------- classroom databases


@pytest.mark.parametrize("serve", [False, True])
def test_a_debrief_of_a_foreign_database_leaves_it_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, serve: bool
) -> None:
    import socket
    import sqlite3

    db = tmp_path / "accounts.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    con.execute("INSERT INTO invoices (amount) VALUES (12.5)")
    con.commit()
    con.close()
    argv = ["classroom", "--db", str(db), "--debrief", "s1", "--out", str(tmp_path / "d.html")]
    if serve:  # the server refuses it too, before its lock file or WAL files exist
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        argv = ["classroom", "--db", str(db), "--port", str(port)]
    refused(capsys, argv, tmp_path, "not a classroom database", "invoices")
    tables = sqlite3.connect(db).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("invoices",)]


def test_a_debrief_of_a_file_that_is_not_sqlite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "notes.sqlite"
    db.write_text("just some notes, not a database\n" * 200)
    argv = ["classroom", "--db", str(db), "--debrief", "s1", "--out", str(tmp_path / "d.html")]
    refused(capsys, argv, tmp_path, "cannot be read", "classroom database")


# The classroom's first schema (analysis/classroom/store.py as first committed): no
# deadline, board or revealed in sessions, no joincode in teams.
FIRST_CLASSROOM_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sessions (id TEXT PRIMARY KEY, created REAL NOT NULL, config TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL DEFAULT 'open',
    note TEXT NOT NULL DEFAULT '');
CREATE TABLE teams (session TEXT NOT NULL REFERENCES sessions(id), idx INTEGER NOT NULL,
    name TEXT NOT NULL, code TEXT NOT NULL UNIQUE, PRIMARY KEY (session, idx));
CREATE TABLE decisions (session TEXT NOT NULL, team INTEGER NOT NULL, round INTEGER NOT NULL,
    payload TEXT NOT NULL, submitted REAL NOT NULL, applied INTEGER NOT NULL DEFAULT 0,
    carried INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (session, team, round));
CREATE TABLE results (session TEXT NOT NULL, team INTEGER NOT NULL, round INTEGER NOT NULL,
    payload TEXT NOT NULL, PRIMARY KEY (session, team, round));
CREATE TABLE rounds (session TEXT NOT NULL, round INTEGER NOT NULL, ran REAL NOT NULL,
    seconds REAL NOT NULL, PRIMARY KEY (session, round));
"""


def test_a_debrief_of_the_first_classroom_schema_migrates_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import contextlib
    import sqlite3

    from analysis.classroom.service import Classroom

    room = Classroom(tmp_path / "new.sqlite", workers=1)
    small = {"customers": "300", "rounds": "2", "steps_per_round": "2", "budget": "1000"}
    sid = room.create({**small, "teams": "2"})
    names = [str(t["name"]) for t in room.store.teams(sid)]
    room.close()
    db = tmp_path / "old.sqlite"
    with (
        contextlib.closing(sqlite3.connect(db)) as old,
        contextlib.closing(sqlite3.connect(tmp_path / "new.sqlite")) as new,
    ):
        old.executescript(FIRST_CLASSROOM_SCHEMA)
        for (table,) in old.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            cols = [r[1] for r in old.execute(f"PRAGMA table_info({table})")]
            rows = new.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
            marks = ", ".join("?" * len(cols))
            old.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
        old.commit()
    out = tmp_path / "d.html"
    main(["classroom", "--db", str(db), "--debrief", sid, "--out", str(out)])
    assert "Traceback" not in capsys.readouterr().err
    html = out.read_text()
    assert "Debrief" in html and all(f">{n}<" in html for n in names), names
    with contextlib.closing(sqlite3.connect(db)) as con:
        teams = {r[1] for r in con.execute("PRAGMA table_info(teams)")}
        codes = con.execute("SELECT joincode FROM teams").fetchall()
    assert "joincode" in teams and len(codes) == 2 and all(c for (c,) in codes)


def test_a_classroom_schema_that_cannot_be_migrated_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import sqlite3

    db = tmp_path / "odd.sqlite"
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, name TEXT);"
        "CREATE TABLE teams (session TEXT, idx INTEGER, name TEXT);"
        "INSERT INTO sessions VALUES ('s1', 'x'); INSERT INTO teams VALUES ('s1', 0, 'a');"
    )
    con.commit()
    con.close()
    argv = ["classroom", "--db", str(db), "--debrief", "s1", "--out", str(tmp_path / "d.html")]
    refused(capsys, argv, tmp_path, "cannot be migrated", "sessions.config")


def test_a_label_with_dollar_signs_is_drawn_as_written(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    from analysis.plots import save_figure

    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="$x$ saves $5")  # unbalanced: mathtext would fail
    ax.set_title("plan $A$ vs $B")
    ax.legend()
    path = save_figure(fig, tmp_path / "f.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(not t.get_parse_math() for t in fig.findobj(lambda o: hasattr(o, "get_parse_math")))


# ---------------------------------------------------------------- age counter


@pytest.mark.parametrize(
    ("sets", "words"),
    [
        (["categories.0.lifetime_weeks=32768"], ["categories.0.lifetime_weeks", "32768", "32767"]),
        (
            ["run.steps_per_year=364", "categories.0.lifetime_weeks=4682"],
            ["categories.0.lifetime_weeks", "4682", "at most 4681 weeks", "32767 steps"],
        ),
    ],
)
def test_a_lifetime_beyond_the_age_counter_is_refused(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old_run: Path,
    sets: list[str],
    words: list[str],
) -> None:
    argv = ["run", "bass-check", *SMALL, "--out", str(old_run)]
    for s in sets:
        argv += ["--set", s]
    refused(capsys, argv, tmp_path, *words)


# ---------------------------------------------------------------- sweep budget

BIG_SWEEP = """
scenario = "baseline"
steps = 52
replications = 100
[sampler]
method = "lhs"
samples = 9000
{fixed}
[parameters]
{parameters}
"""


def _big_sweep(tmp_path: Path, customers: int = 100_000, parameters: str = "") -> str:
    """A sweep of 900,000 runs of 52 steps of ``customers`` customers (or of the
    market sizes ``parameters`` vary)."""
    path = tmp_path / "in" / "big.toml"
    path.parent.mkdir(exist_ok=True)
    fixed = "" if parameters else f'[set]\n"run.customers" = {customers}'
    parameters = parameters or '"focal.platform.density" = { range = [0.0, 0.5] }'
    path.write_text(BIG_SWEEP.format(fixed=fixed, parameters=parameters))
    return str(path)


@pytest.fixture
def old_sweep(tmp_path: Path) -> Path:
    """An existing sweep folder that a refused sweep must leave exactly as it is."""
    out = tmp_path / "old-sweep"
    (out / "runs").mkdir(parents=True)
    (out / "manifest.json").write_text('{"kind": "demandsim-sweep", "spec_hash": "x"}\n')
    (out / "runs" / "r.parquet").write_bytes(b"PAR1")
    return out


@pytest.mark.parametrize("extra", [[], ["--dry-run"], ["--budget", "10"]])
def test_a_sweep_of_days_is_refused_before_it_is_planned(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    old_sweep: Path,
    extra: list[str],
) -> None:
    import analysis.sweeps.plan as plan

    def sample(spec: object) -> None:
        raise AssertionError("the sweep was sampled before its work was estimated")

    monkeypatch.setattr(plan, "sample", sample)
    argv = ["sweep", _big_sweep(tmp_path), "--out", str(old_sweep), *extra]
    line = refused(capsys, argv, tmp_path, "sweep: 900,000 runs", "52 steps", "100,000 customers")
    assert "days on one core" in line and "budget" in line
    assert "DEMANDSIM_WORK_BUDGET=4.7e+12" in line  # the estimate, and how to allow it


def test_a_swept_market_size_counts_at_its_mean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = _big_sweep(tmp_path, parameters='"run.customers" = { range = [1000, 9000] }')
    # 900,000 runs x 52 steps x 5,000 customers (the middle of the range) = 2.3e11: allowed
    from analysis.sweeps.plan import check_plan_size
    from analysis.sweeps.spec import load_spec

    check_plan_size(load_spec(spec))
    spec = _big_sweep(tmp_path, parameters='"run.customers" = { levels = [1000, 99000] }')
    line = refused(capsys, ["sweep", spec, "--out", str(tmp_path / "o")], tmp_path, "50,000 cust")
    assert "DEMANDSIM_WORK_BUDGET=2.3e+12" in line


def test_the_sweep_budget_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.sweeps.plan import check_plan_size
    from analysis.sweeps.spec import load_spec
    from sim.errors import InputError

    spec = load_spec(_big_sweep(tmp_path))
    with pytest.raises(InputError, match="DEMANDSIM_WORK_BUDGET=4.7e\\+12"):
        check_plan_size(spec)
    monkeypatch.setenv("DEMANDSIM_WORK_BUDGET", "4.7e12")
    check_plan_size(spec)  # allowed now


def test_a_known_answer_sweep_has_no_customer_budget(tmp_path: Path) -> None:
    """A runner that simulates no customers is bounded by its runs only."""
    from analysis.sweeps.plan import check_plan_size
    from analysis.sweeps.spec import load_spec

    path = Path(_big_sweep(tmp_path))
    runner = 'runner = "analysis.sensitivity.testfunctions:ishigami_runner"\n'
    path.write_text(runner + path.read_text())
    check_plan_size(load_spec(path))
