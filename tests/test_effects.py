"""Grid and LHS sweeps end with their main effects; `analyze` gives them on request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sensitivity import testfunctions as tf

DEMANDSIM = str(Path(sys.executable).parent / "demandsim")
PARAMS = """
[parameters]
"focal.platform.density" = { range = [0.0, 1.0] }
"focal.platform.strength" = { range = [0.0, 1.0] }
"focal.platform.coverage" = { levels = [0.2, 0.6] }
[outcomes]
analyze = ["linear", "noisy"]
"""
SPEC = (
    'runner = "analysis.sensitivity.testfunctions:linear_runner"\nsteps = 3\nreplications = {reps}\nseed = 2\n'
    '[sampler]\nmethod = "{method}"\npoints = 3\nsamples = {n}\n' + PARAMS
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEMANDSIM, *args], capture_output=True, text=True, timeout=240)


def _sweep(
    tmp: Path, method: str, reps: int, n: int = 0
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    spec = tmp / f"{method}.toml"
    text = SPEC.replace("{reps}", str(reps)).replace("{method}", method).replace("{n}", str(n))
    if method == "grid":
        text = text.replace("samples = 0\n", "")
    spec.write_text(text)
    out = tmp / method
    proc = _cli("sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    return _sweep(tmp_path_factory.mktemp("grid"), "grid", reps=4)


def test_a_grid_sweep_ends_with_its_main_effects(
    grid: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, proc = grid
    assert proc.stdout.split() == [str(out / "results.parquet")]
    # The sample size is stated, and the per-parameter table follows.
    assert "grid: 18 points x 4 replications = 72 runs" in proc.stderr
    assert "share" in proc.stderr and "effects.png" in proc.stderr
    for name in (
        "effects.csv",
        "effects-summary.csv",
        "interactions.csv",
        "interactions-summary.csv",
    ):
        assert (out / name).stat().st_size > 0
    for name in ("effects.png", "interactions.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "sweep-report.html").read_text()
    assert "<img src='effects.png'" in page and "<img src='interactions.png'" in page
    assert "18 points x 4 replications = 72 runs" in page


def test_grid_main_effects_of_the_linear_runner_are_exact(
    grid: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, _ = grid
    t = pd.read_csv(out / "effects.csv")
    lin = t[t["outcome"] == "linear"]
    values = {
        "focal.platform.density": [0.0, 0.5, 1.0],
        "focal.platform.strength": [0.0, 0.5, 1.0],
        "focal.platform.coverage": [0.2, 0.6],
    }
    for (name, vals), c in zip(values.items(), tf.LINEAR_COEFFICIENTS, strict=True):
        got = lin[lin["parameter"] == name]
        assert list(got["rows"]) == [18 // len(vals)] * len(vals)
        want = tf.linear_main_effect(c, vals, float(np.mean(vals)))
        assert np.allclose(got["effect"].to_numpy(), want, atol=1e-6)  # CSV keeps 6 digits
    # The noisy outcome (error sd 0.1 per run, independent across points and
    # replications): within 5 true standard errors of the truth, and the intervals
    # (Student's t over 4 replications) of the right size on average.
    noisy = t[t["outcome"] == "noisy"]
    t3 = 3.182446305284263  # t_0.975 with 3 degrees of freedom
    ratios = []
    for (name, vals), c in zip(values.items(), tf.LINEAR_COEFFICIENTS, strict=True):
        got = noisy[noisy["parameter"] == name]
        want = tf.linear_main_effect(c, vals, float(np.mean(vals)))
        true_se = 0.1 * np.sqrt(1 / (18 // len(vals)) - 1 / 18) / np.sqrt(4)
        assert np.all(np.abs(got["effect"].to_numpy() - want) <= 5 * true_se)
        ratios += list(got["width"].to_numpy() / 2 / t3 / true_se)
    assert 0.3 < float(np.mean(ratios)) < 2.0, ratios
    inter = pd.read_csv(out / "interactions.csv")
    assert np.allclose(inter.loc[inter["outcome"] == "linear", "interaction"], 0.0, atol=1e-6)


def test_lhs_main_effects_rank_the_slopes(tmp_path: Path) -> None:
    out, proc = _sweep(tmp_path, "lhs", reps=1, n=60)
    assert "lhs: 60 LHS samples x 1 replications = 60 runs" in proc.stderr
    s = pd.read_csv(out / "effects-summary.csv")
    lin = s[s["outcome"] == "linear"].set_index("parameter")
    # |slope| x range: strength 3 > density 2 > coverage 0.5 x 0.4.
    assert lin.loc["focal.platform.strength", "span"] > lin.loc["focal.platform.density", "span"]
    assert (
        lin.loc["focal.platform.density", "span"] > 5 * lin.loc["focal.platform.coverage", "span"]
    )
    t = pd.read_csv(out / "effects.csv")
    d = t[(t["outcome"] == "linear") & (t["parameter"] == "focal.platform.density")]
    assert len(d) == 5 and list(d["rows"]) == [12] * 5  # equal-count bins
    assert np.all(np.diff(d["effect"].to_numpy()) > 0)  # increasing in density
    # Each bin's effect is 2 (bin mean - overall mean) of density, up to the spread of the
    # other inputs in the bin, which the interval accounts for.
    assert np.all((d["low"] <= d["effect"]) & (d["effect"] <= d["high"]))
    again = _cli("analyze", str(out), "--bins", "3", "--out", str(tmp_path / "a"))
    assert again.returncode == 0, again.stderr
    t3 = pd.read_csv(tmp_path / "a" / "effects.csv")
    assert set(t3.loc[t3["parameter"] == "focal.platform.density", "rows"]) == {20}


def test_analyze_refuses_effects_of_a_sobol_sweep_in_one_line(
    grid: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    out, _ = grid
    proc = _cli("analyze", str(out), "--method", "sobol")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "sampler.method = 'sobol'" in proc.stderr
    proc = _cli("analyze", str(out), "--outcome", "nope")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "'nope'" in proc.stderr
    proc = _cli("analyze", str(out), "--max-width", "0", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
