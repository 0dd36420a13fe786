"""The SLURM recipe (dask-jobqueue), with a LocalCluster standing in for the cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from analysis.runs.cluster import check_workers, slurm_cluster, worker_versions
from analysis.sweeps.cluster import run_on_cluster
from analysis.sweeps.run import run_sweep
from sim.errors import InputError

SPEC = """runner = "analysis.sensitivity.testfunctions:linear_runner"
steps = 3
replications = 2
seed = 6
[sampler]
method = "grid"
points = 3
[parameters]
"focal.platform.density" = { range = [0.0, 1.0] }
"focal.platform.strength" = { range = [0.0, 1.0] }
[outcomes]
timeseries = ["mix"]
analyze = ["linear"]
"""


def _module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "demandsim.cluster", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_slurm_job_script_asks_for_what_was_given() -> None:
    cluster = slurm_cluster(
        cores=4,
        memory="8GB",
        walltime="02:00:00",
        queue="normal",
        account="proj",
        extra=("--exclusive",),
        prologue=("module load python/3.12",),
    )
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in (
        "#SBATCH -p normal",
        "#SBATCH -A proj",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH -t 02:00:00",
        "#SBATCH --exclusive",
        "module load python/3.12",
    ):
        assert line in script, script
    # One single-threaded worker process per core, in the driver's environment.
    assert "--nworkers 4" in script and "--nthreads 1" in script
    assert sys.executable in script


def test_print_script_submits_and_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    proc = _module(str(spec), "--out", str(out), "--jobs", "2", "--cores", "2", "--print-script")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("#!/usr/bin/env bash") and "#SBATCH" in proc.stdout
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--jobs", "0"], "--jobs"), (["--jobs", "1", "--cores", "x"], "--cores")],
)
def test_bad_cluster_options_are_one_line(tmp_path: Path, args: list[str], fragment: str) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    proc = _module(str(spec), "--out", str(tmp_path / "out"), *args)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert fragment in proc.stderr and not (tmp_path / "out").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC.replace("points = 3", "points = 1"))
    proc = _module(str(bad), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert proc.returncode == 2 and "sampler.points = 1" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def stand_in() -> LocalCluster:
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    yield cluster
    cluster.close()


def test_the_recipe_on_a_stand_in_cluster_gives_the_local_table(
    stand_in: LocalCluster, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    res = run_on_cluster(spec, tmp_path / "dask", stand_in, wait_for=2, timeout=60)
    assert res.complete and res.ran == 18 and res.failed == 0
    local = run_sweep(spec, tmp_path / "local", workers=1)
    assert local.complete
    for name in ("results.parquet", "timeseries.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "dask" / name), pd.read_parquet(tmp_path / "local" / name)
        )


def test_a_worker_with_other_versions_is_refused_in_one_line(stand_in: LocalCluster) -> None:
    with Client(stand_in, set_as_default=False) as client:
        assert check_workers(client) == 2  # the same environment: accepted
        driver = worker_versions()
        for key, value in (("numpy", "0.0.1"), ("code", "0" * 16)):
            other = {**driver, key: value}
            with pytest.raises(InputError) as err:
                check_workers(client, reference=other)
            msg = str(err.value)
            assert "\n" not in msg and msg.startswith("worker tcp://") and key in msg
            assert f"(driver {value})" in msg
