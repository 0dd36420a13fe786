"""Sensitivity over time: per-step Sobol indices from the runs a sweep already stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sensitivity import testfunctions as tf
from analysis.sensitivity.indices import SweepFolderError
from analysis.sensitivity.overtime import indices_over_time

DEMANDSIM = str(Path(sys.executable).parent / "demandsim")
STEPS = 11
SPEC = f"""runner = "analysis.sensitivity.testfunctions:linear_runner"
steps = {STEPS}
seed = 4
[sampler]
method = "sobol"
samples = 128
[parameters]
"focal.platform.density" = {{ range = [0.0, 1.0] }}
"focal.platform.strength" = {{ range = [0.0, 1.0] }}
"focal.platform.coverage" = {{ range = [0.0, 1.0] }}
[outcomes]
timeseries = ["mix"]
analyze = ["linear"]
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEMANDSIM, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def mixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("mix")
    (tmp / "mix.toml").write_text(SPEC)
    out = tmp / "out"
    proc = _cli("sweep", str(tmp / "mix.toml"), "--out", str(out), "--workers", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out


def test_indices_over_time_follow_the_analytic_path(mixture: Path) -> None:
    proc = _cli("analyze", str(mixture))  # the sweep's own method: sobol
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {mixture / 'sensitivity-sobol-time.png'}" in proc.stderr.splitlines()
    assert (mixture / "sensitivity-sobol-time.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The sweep's report shows the band plot beside the indices and the sample size.
    page = (mixture / "sweep-report.html").read_text()
    assert "<img src='sensitivity-sobol-time.png'" in page and "Sobol indices over time" in page
    assert "N = 128 base samples x 5 = 640 rows x 1 replications = 640 runs" in page
    assert f"report: {mixture / 'sweep-report.html'}" in proc.stderr
    t = pd.read_csv(mixture / "sensitivity-sobol-time.csv")
    assert list(t["step"].unique()) == list(range(STEPS))
    s1_density, s1_strength = tf.mixture_s1(STEPS)
    for name, truth in (
        ("focal.platform.density", s1_density),
        ("focal.platform.strength", s1_strength),
    ):
        g = t[t["parameter"] == name].sort_values("step")
        se = g["S1_conf"].to_numpy() / 1.96
        err = np.abs(g["S1"].to_numpy() - truth)
        assert np.all(err <= 4 * se + 0.02), (name, g[["step", "S1", "S1_conf"]])
    # Density drives the start, strength the end: the crossing is in the middle.
    d = t[t["parameter"] == "focal.platform.density"].set_index("step")["S1"]
    s = t[t["parameter"] == "focal.platform.strength"].set_index("step")["S1"]
    assert d[0] > 0.9 > 0.1 > s[0] and s[STEPS - 1] > 0.9 > 0.1 > d[STEPS - 1]
    # Coverage is not in the mixture: exactly no effect at any step.
    c = t[t["parameter"] == "focal.platform.coverage"]
    assert np.all(c["S1"].abs() < 1e-12) and np.all(c["ST"].abs() < 1e-12)
    assert set(t["runs"]) == {128 * 5}


def test_windows_average_steps(mixture: Path) -> None:
    t = indices_over_time(mixture, window=4, num_resamples=50)
    assert list(t["step"].unique()) == [0, 4, 8]
    assert list(t["step_end"].unique()) == [3, 7, 10]
    with pytest.raises(SweepFolderError, match="--series 'nope'"):
        indices_over_time(mixture, ["nope"])


def test_bad_window_is_one_line(mixture: Path, tmp_path: Path) -> None:
    proc = _cli("analyze", str(mixture), "--window", "0", "--out", str(tmp_path / "a"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "--window" in proc.stderr and not (tmp_path / "a").exists()
