"""Sensitivity indices: known answers, and refusals of sweeps SALib would misread."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.sensitivity.indices import analyze_sweep
from analysis.sensitivity.testfunctions import ishigami_indices
from analysis.sweeps.run import run_sweep
from demandsim.main import main

ISHIGAMI_S1 = ishigami_indices()["S1"]
ISHIGAMI_ST = ishigami_indices()["ST"]

DEMANDSIM = str(Path(sys.executable).parent / "demandsim")
PARAMS = """
[parameters]
"focal.platform.density" = { range = [0.0, 1.0] }
"focal.platform.strength" = { range = [0.0, 1.0] }
"focal.platform.coverage" = { range = [0.0, 1.0] }
[outcomes]
analyze = ["ishigami", "x1_only"]
"""
ISHIGAMI = (
    'runner = "analysis.sensitivity.testfunctions:ishigami_runner"\nsteps = 1\nseed = 3\n'
    '[sampler]\nmethod = "{method}"\nsamples = {n}\n' + PARAMS
)


def _cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEMANDSIM, *args], capture_output=True, text=True, timeout=timeout)


def _sweep(tmp: Path, text: str, name: str) -> Path:
    spec = tmp / f"{name}.toml"
    spec.write_text(text)
    out = tmp / name
    proc = _cli("sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet")
    assert proc.returncode in (0, 1), proc.stderr
    return out


@pytest.fixture(scope="module")
def ishigami(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("ishigami")
    return _sweep(tmp, ISHIGAMI.replace("{method}", "sobol").replace("{n}", "128"), "sobol")


def test_sobol_indices_of_ishigami_cover_the_analytic_values(ishigami: Path) -> None:
    proc = _cli("analyze", str(ishigami))  # the method comes from the sweep's manifest
    assert proc.returncode == 0, proc.stderr
    # the table on stdout, the files written on stderr
    assert "focal.platform.density" in proc.stdout and "wrote" not in proc.stdout
    assert [ln[len("wrote ") :] for ln in proc.stderr.splitlines() if ln.startswith("wrote ")] == [
        str(ishigami / "sensitivity-sobol.csv"),
        str(ishigami / "sensitivity-sobol.png"),
    ]
    assert (ishigami / "sensitivity-sobol.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    t = pd.read_csv(ishigami / "sensitivity-sobol.csv")
    ish = t[t["outcome"] == "ishigami"].reset_index(drop=True)
    assert list(ish["parameter"]) == [
        "focal.platform.density",
        "focal.platform.strength",
        "focal.platform.coverage",
    ]
    for key, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        lo, hi = ish[f"{key}_low"].to_numpy(), ish[f"{key}_high"].to_numpy()
        assert np.all((lo <= np.array(truth)) & (np.array(truth) <= hi)), (key, ish)
        assert np.all(ish[f"{key}_conf"] < 0.3)  # informative intervals, not [0, 1]
    # x1_only = sin(x1) depends on density alone.
    x1 = t[t["outcome"] == "x1_only"].set_index("parameter")
    d = x1.loc["focal.platform.density"]
    assert d["S1_low"] <= 1.0 <= d["S1_high"] and d["ST_low"] <= 1.0 <= d["ST_high"]
    for other in ("focal.platform.strength", "focal.platform.coverage"):
        assert x1.loc[other, "ST"] == 0.0 and abs(x1.loc[other, "S1"]) < 1e-12


def test_outputs_are_matched_to_sample_rows_not_to_file_order(
    ishigami: Path, tmp_path: Path
) -> None:
    out = tmp_path / "shuffled"
    shutil.copytree(ishigami, out)
    df = pd.read_parquet(out / "results.parquet")
    df.sample(frac=1.0, random_state=0).to_parquet(out / "results.parquet", index=False)
    a, _ = analyze_sweep(ishigami, "sobol", ["ishigami"])
    b, _ = analyze_sweep(out, "sobol", ["ishigami"])
    pd.testing.assert_frame_equal(a, b)


def test_morris_finds_the_one_parameter_an_outcome_depends_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "morris.toml"
    spec.write_text(ISHIGAMI.replace("{method}", "morris").replace("{n}", "20"))
    out = tmp_path / "morris"
    assert run_sweep(spec, out, workers=2).complete
    code, stderr = _analyze(capsys, str(out), "--method", "morris", "--outcome", "x1_only")
    assert code == 0, stderr
    t = pd.read_csv(out / "sensitivity-morris.csv").set_index("parameter")
    assert t.loc["focal.platform.density", "mu_star_low"] > 0
    assert (
        t.loc["focal.platform.strength", "mu_star"] == 0
        and t.loc["focal.platform.coverage", "mu_star"] == 0
    )


MODEL = """
scenario = "baseline"
steps = 26
replications = 1
seed = 2
[sampler]
method = "sobol"
samples = 32
[parameters]
"run.customers" = { range = [400, 1200] }
"focal.platform.density" = { range = [0.02, 0.4] }
"""


@pytest.fixture(scope="module")
def model_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("model")
    spec = tmp / "spec.toml"
    spec.write_text(MODEL)
    res = run_sweep(spec, tmp / "out", workers=2)
    assert res.complete and res.failed == 0 and res.rows == 32 * 4
    return tmp / "out"


def test_sobol_on_the_model_an_outcome_of_one_parameter(model_sweep: Path) -> None:
    table, _ = analyze_sweep(model_sweep, "sobol", ["customers", "market_share_final"])
    c = table[table["outcome"] == "customers"].set_index("parameter")
    assert c.loc["run.customers", "S1_low"] <= 1.0 <= c.loc["run.customers", "S1_high"]
    assert c.loc["focal.platform.density", "ST"] == 0.0  # exactly: density never moves it
    # the platform's density does move the focal firm's share
    m = table[table["outcome"] == "market_share_final"].set_index("parameter")
    assert m.loc["focal.platform.density", "ST_low"] > 0


def _analyze(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``demandsim analyze ...`` in this process, through the console entry point."""
    capsys.readouterr()
    try:
        main(["analyze", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def _one_line_exit_2(result: tuple[int, str], start: str) -> str:
    code, stderr = result
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("demandsim: error: " + start), stderr
    return lines[0]


def test_refuses_an_outcome_with_missing_values(
    model_sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    df = pd.read_parquet(model_sweep / "results.parquet")
    nan = int(df["contraction_onset"].isna().sum())
    assert nan > 0
    result = _analyze(
        capsys, str(model_sweep), "--method", "sobol", "--outcome", "contraction_onset"
    )
    line = _one_line_exit_2(result, "outcome 'contraction_onset' is missing (NaN)")
    assert f"in {nan} of {len(df)} runs" in line


def test_refuses_an_incomplete_sweep(
    ishigami: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cut"
    shutil.copytree(ishigami, out)
    (out / "results.parquet").unlink()
    first = next((out / "runs").glob("*.parquet"))  # a run file, or quick runs' part file
    lost = len(pq.read_table(first, columns=["run_id"]))
    first.unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "incomplete"
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = _analyze(capsys, str(out), "--method", "sobol")
    left = manifest["runs"] - lost
    _one_line_exit_2(result, f"{out}: sweep incomplete ({left} of {manifest['runs']} runs on disk)")


def test_refuses_failed_runs_another_sampler_and_a_non_sweep(
    ishigami: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = ISHIGAMI.replace("{method}", "sobol").replace("{n}", "4")
    # a runner that imports (a missing module is refused when the sweep is planned) but
    # fails on every call: abs() takes one argument, a runner is called with three
    spec = spec.replace("analysis.sensitivity.testfunctions:ishigami_runner", "builtins:abs")
    spec_path = tmp_path / "failed.toml"
    spec_path.write_text(spec)
    failed = tmp_path / "failed"
    assert run_sweep(spec_path, failed, workers=1, trusted=True).failed == 20
    line = _one_line_exit_2(
        _analyze(capsys, str(failed), "--method", "sobol"), f"{failed}: 20 of 20 runs failed"
    )
    assert "TypeError" in line
    _one_line_exit_2(
        _analyze(capsys, str(ishigami), "--method", "morris"),
        "--method morris: this sweep was sampled with 'sobol'",
    )
    _one_line_exit_2(
        _analyze(capsys, str(tmp_path), "--method", "sobol"), f"{tmp_path}: not a sweep folder"
    )
    _one_line_exit_2(
        _analyze(capsys, str(ishigami), "--method", "sobol", "--outcome", "nope"),
        "--outcome 'nope': not an outcome of this sweep",
    )
