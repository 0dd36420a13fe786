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


def test_a_foreign_runner_needs_the_trust_flag(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = _sweep(
        tmp_path,
        '"focal.platform.density" = { range = [0.0, 0.5] }',
        extra='runner = "os:system"\n',
    )
    refused(capsys, ["sweep", spec, "--out", str(tmp_path / "out")], tmp_path, "--trust-spec")


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
