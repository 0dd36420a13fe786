"""`demandsim run`: outputs, tables, and bad input (one line, exit 2, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from demandsim.main import main

DEMANDSIM = [sys.executable, "-m", "demandsim"]


def test_run_writes_series_summary_scenario_and_plots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    main(
        [
            "run",
            "baseline",
            "--steps",
            "30",
            "--seed",
            "4",
            "--set",
            "run.customers=1500",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert "Platform sensitivity" in printed and "Value-transfer chain" in printed
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 31 and ts["seed"].eq(4).all()
    for col in (
        "step",
        "opportunities",
        "defects",
        "marketing_density",
        "dpmo",
        "sigma_level",
        "detected_share",
        "detection_lag_median",
        "alignment",
        "market_share",
        "revenue",
        "profit",
        "contraction",
    ):
        assert col in ts.columns, col
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "seed",
        "steps",
        "marketing_density",
        "dpmo",
        "sigma_level",
        "market_share_final",
        "revenue_total",
        "profit_total",
        "contraction_onset",
        "launches",
    ):
        assert key in summary, key
    assert summary["seed"] == 4 and summary["customers"] == 1500
    assert "customers = 1500" in (out / "scenario.toml").read_text()
    assert list(out.glob("*.png"))
    assert not list(tmp_path.glob(".*partial"))


def test_reps_write_one_frame_per_rep(tmp_path: Path) -> None:
    out = tmp_path / "reps"
    main(
        [
            "run",
            "baseline",
            "--steps",
            "10",
            "--reps",
            "3",
            "--set",
            "run.customers=500",
            "--out",
            str(out),
            "--no-plots",
        ]
    )
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert sorted(ts["rep"].unique()) == [0, 1, 2] and len(ts) == 33
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reps"] == 3 and len(summary["runs"]) == 3 and summary["seeds"] == [0, 1, 2]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["run", "baseline", "--set", "focal.platform.density=7"],
            "focal.platform.density = 7.0: expected a number in [0, 1]",
        ),
        (["run", "baseline", "--set", "nonsense"], "--set 'nonsense': expected key=value"),
        (["run", "baseline", "--set", "focal.platfrom.density=0.1"], "did you mean 'platform'"),
        (["run", "no-such-scenario"], "no such file or bundled scenario"),
        (["run", "baseline", "--steps", "0"], "--steps"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [*DEMANDSIM, *args, "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_help_does_not_import_the_model() -> None:
    code = "import sys; from demandsim.main import main\ntry:\n    main(['--help'])\nexcept SystemExit: pass\nprint('mesa' in sys.modules, 'numpy' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().endswith("False False"), proc.stdout


def test_launch_rows_name_whose_launches_they_count() -> None:
    from analysis.compare.statistics import KEY_OUTCOMES
    from sim import load_scenario, run_scenario
    from sim.tables import headline_table

    sc = load_scenario("competitor-launch", {"run.customers": 1000})
    summary, _ = run_scenario(sc, seed=2, steps=30)
    table = headline_table(summary).splitlines()
    focal = [line for line in table if line.startswith("launches (focal firm)")]
    every = [line for line in table if line.startswith("launches (all firms)")]
    assert len(focal) == 1 and len(every) == 1
    assert summary["launch_successes_all"] >= summary["launch_successes"]
    assert summary["launch_failures_all"] >= summary["launch_failures"]
    assert every[0].split()[-3:] == [
        str(summary["launch_successes_all"]),
        "/",
        str(summary["launch_failures_all"]),
    ]
    assert "focal" in KEY_OUTCOMES["launch_successes"]
    assert "all firms" in KEY_OUTCOMES["launch_successes_all"]
