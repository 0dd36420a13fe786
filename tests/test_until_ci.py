"""`sweep --until-ci`: doubling the base sample, reusing runs, until intervals are narrow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sensitivity.testfunctions import ishigami_indices
from analysis.sweeps.plan import make_plan, sample
from analysis.sweeps.spec import load_spec

ISHIGAMI_S1 = ishigami_indices()["S1"]
ISHIGAMI_ST = ishigami_indices()["ST"]

DEMANDSIM = str(Path(sys.executable).parent / "demandsim")
ISHIGAMI = """runner = "analysis.sensitivity.testfunctions:ishigami_runner"
steps = 1
seed = 3
[sampler]
method = "{method}"
samples = {n}
[parameters]
"focal.platform.density" = { range = [0.0, 1.0] }
"focal.platform.strength" = { range = [0.0, 1.0] }
"focal.platform.coverage" = { range = [0.0, 1.0] }
[outcomes]
analyze = ["ishigami"]
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEMANDSIM, *args], capture_output=True, text=True, timeout=300)


def _spec(tmp: Path, method: str = "sobol", n: int = 32, name: str = "ish.toml") -> Path:
    path = tmp / name
    path.write_text(ISHIGAMI.replace("{method}", method).replace("{n}", str(n)))
    return path


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_a_doubled_sample_starts_with_the_smaller_one(tmp_path: Path, method: str) -> None:
    spec = load_spec(_spec(tmp_path, method, 16))
    import dataclasses

    small = sample(spec)
    big = sample(dataclasses.replace(spec, samples=32))
    assert len(big) == 2 * len(small)
    assert np.array_equal(big[: len(small)], small)
    assert not np.array_equal(big[len(small) :], small)  # and adds new points
    # So the smaller plan's runs are all in the bigger plan.
    ids_small = set(make_plan(spec).tasks)
    ids_big = set(make_plan(dataclasses.replace(spec, samples=32)).tasks)
    assert ids_small < ids_big


@pytest.fixture(scope="module")
def converged(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    tmp = tmp_path_factory.mktemp("until")
    out = tmp / "out"
    proc = _cli(
        "sweep",
        str(_spec(tmp)),
        "--out",
        str(out),
        "--until-ci",
        "0.6",
        "--workers",
        "2",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_until_ci_stops_by_itself_and_says_why(
    converged: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, proc = converged
    assert "until-ci: converged at N = " in proc.stderr
    path = pd.read_csv(out / "convergence.csv")
    assert len(path) >= 2  # N = 32 is not enough for Ishigami at this threshold
    assert list(path["samples"]) == [32 * 2**i for i in range(len(path))]
    assert path["widest"].iloc[-1] < 0.6 <= path["widest"].iloc[:-1].min()
    # Every round ran only the runs the smaller size did not have.
    assert list(path["runs"]) == [5 * n for n in path["samples"]]
    assert list(path["ran"]) == [path["runs"].iloc[0]] + list(np.diff(path["runs"]))
    assert proc.stdout.split() == [
        str(out / "sensitivity-sobol.csv"),
        str(out / "sensitivity-sobol.png"),
        str(out / "convergence.csv"),
    ]
    t = pd.read_csv(out / "sensitivity-sobol.csv")
    assert (2 * t[["S1_conf", "ST_conf"]]).to_numpy().max() < 0.6
    for key, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        assert np.all((t[f"{key}_low"] <= np.array(truth)) & (np.array(truth) <= t[f"{key}_high"]))
    # Every run once on disk: a file each, or (quick runs) together in part files.
    ids: list[str] = []
    for p in (out / "runs").glob("*.parquet"):
        ids += pd.read_parquet(p, columns=["run_id"])["run_id"].tolist()
    assert len(ids) == len(set(ids)) == path["runs"].iloc[-1]


def test_until_ci_again_reuses_everything(
    converged: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    out, first = converged
    spec = Path(str(out)[: -len("out")]) / "ish.toml"
    proc = _cli(
        "sweep", str(spec), "--out", str(out), "--until-ci", "0.6", "--workers", "2", "--quiet"
    )
    assert proc.returncode == 0, proc.stderr
    path = pd.read_csv(out / "convergence.csv")
    assert set(path["ran"]) == {0}


def test_until_ci_stops_at_the_budget(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _cli(
        "sweep",
        str(_spec(tmp_path)),
        "--out",
        str(out),
        "--until-ci",
        "0.01",
        "--budget",
        "400",
        "--workers",
        "2",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert "over the budget of 400" in proc.stderr and "still" in proc.stderr
    path = pd.read_csv(out / "convergence.csv")
    assert list(path["runs"]) == [160, 320]  # 640 would exceed 400


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--until-ci", "0"], "--until-ci 0.0: expected an interval width in (0, 1)"),
        (["--until-ci", "1.5"], "--until-ci 1.5"),
        (["--until-ci", "nan"], "--until-ci nan"),
        (["--until-ci", "wide"], "--until-ci"),
        (["--until-ci", "0.1", "--budget", "0"], "--budget"),
        (["--until-ci", "0.1", "--budget", "100"], "--budget 100: the first round alone needs 160"),
        (["--budget", "100"], "--budget 100: this sweep needs 160 runs"),
    ],
)
def test_bad_until_ci_and_budget_are_one_line_and_write_nothing(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    out = tmp_path / "out"
    proc = _cli("sweep", str(_spec(tmp_path)), "--out", str(out), *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 200 and fragment in lines[0], proc.stderr
    assert not out.exists()


def test_until_ci_refuses_a_grid_sweep(tmp_path: Path) -> None:
    spec = tmp_path / "grid.toml"
    spec.write_text(ISHIGAMI.replace('method = "{method}"\nsamples = {n}', 'method = "grid"'))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    proc = _cli("sweep", str(spec), "--out", str(out), "--until-ci", "0.1")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "sampler.method = 'grid'" in proc.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_dry_run_shows_the_doubling_schedule_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _cli(
        "sweep",
        str(_spec(tmp_path)),
        "--out",
        str(out),
        "--until-ci",
        "0.3",
        "--budget",
        "700",
        "--dry-run",
    )
    assert proc.returncode == 0, proc.stderr
    assert "runs per size (cumulative, reused): N=32: 160; N=64: 320; N=128: 640; budget 700" in (
        proc.stdout
    )
    assert not out.exists()


def test_until_ci_grows_a_morris_sweep_too(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = _spec(tmp_path, "morris", 8)
    args = ["--out", str(out), "--until-ci", "0.001", "--workers", "2", "--quiet"]
    proc = _cli("sweep", str(spec), *args, "--budget", "50")
    assert proc.returncode == 0, proc.stderr
    assert "over the budget of 50" in proc.stderr
    path = pd.read_csv(out / "convergence.csv")
    assert list(path["samples"]) == [8, 16]  # 8 and 16 trajectories of 4 points
    assert list(path["ran"]) == [path["runs"].iloc[0], path["runs"].iloc[1] - path["runs"].iloc[0]]
    assert path["where"].str.endswith("/ mu_star").all()
    assert (out / "sensitivity-morris.csv").exists()
    # Without a budget it stops once the 4-level grid (4^3 points) is exhausted.
    proc = _cli("sweep", str(spec), *args)
    assert proc.returncode == 0, proc.stderr
    assert "doubling adds no new run" in proc.stderr
    path = pd.read_csv(out / "convergence.csv")
    assert path["runs"].iloc[-1] == 4**3  # every point of the grid, and no further round
