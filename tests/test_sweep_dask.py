"""Sweeps on a real Dask cluster: a scheduler and workers as separate processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis.sweeps.run import run_sweep

BIN = Path(sys.executable).parent
SPEC = """
scenario = "baseline"
steps = 30
replications = 2
seed = 9
[sampler]
method = "grid"
points = 8
[set]
"run.customers" = 1000
[parameters]
"focal.platform.density" = { range = [0.02, 0.4] }
"focal.platform.targeting" = { levels = ["homogeneous", "personalized"] }
[outcomes]
timeseries = ["market_share"]
"""
RUNS = 8 * 2 * 2


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as fh:  # the child keeps its own descriptor
        return subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def _worker(scheduler_file: Path, name: str, log: Path) -> subprocess.Popen[bytes]:
    return _start(
        [
            str(BIN / "dask"),
            "worker",
            "--scheduler-file",
            str(scheduler_file),
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--memory-limit",
            "0",
            "--name",
            name,
        ],
        log,
    )


def _wait_for_workers(address: str, names: set[str], timeout: float = 60) -> dict[str, str]:
    from distributed import Client

    with Client(address, timeout=20, set_as_default=False) as client:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            workers = client.scheduler_info()["workers"]
            by_name = {str(w["name"]): addr for addr, w in workers.items()}
            if names <= set(by_name):
                return by_name
            time.sleep(0.2)
    raise TimeoutError(f"workers {names} did not register")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=15)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("dask")
    sfile = tmp / "scheduler.json"
    procs = [
        _start(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sfile),
            ],
            tmp / "scheduler.log",
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not sfile.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sfile.read_text())["address"]
        procs += [_worker(sfile, f"w{i}", tmp / f"w{i}.log") for i in (1, 2)]
        _wait_for_workers(address, {"w1", "w2"})
        yield {"address": address, "file": sfile, "tmp": tmp}
    finally:
        _stop(procs)


@pytest.fixture(scope="module")
def local_table(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("local")
    spec = tmp / "spec.toml"
    spec.write_text(SPEC)
    res = run_sweep(spec, tmp / "out", workers=2)
    assert res.complete and res.failed == 0
    return spec, pd.read_parquet(tmp / "out" / "results.parquet")


def _sweep(
    spec: Path, out: Path, env: dict[str, str] | None = None, *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "demandsim"), "sweep", str(spec), "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_dask_sweep_gives_the_local_table(
    cluster: dict[str, Any], local_table: Any, tmp_path: Path
) -> None:
    spec, want = local_table
    out = tmp_path / "out"
    # The address from the environment, as a cluster job script would set it.
    proc = _sweep(spec, out, {"DASK_SCHEDULER_ADDRESS": cluster["address"]})
    _, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr
    assert "Dask cluster" in stderr and "2 workers" in stderr
    got = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(got, want)  # bit for bit
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == RUNS * 31
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sessions"][-1]["executor"].startswith("Dask cluster")


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(
    cluster: dict[str, Any], local_table: Any, tmp_path: Path
) -> None:
    from distributed import Client

    spec, want = local_table
    victim = _worker(cluster["file"], "victim", tmp_path / "victim.log")
    try:
        addr = _wait_for_workers(cluster["address"], {"victim"})["victim"]
        out = tmp_path / "out"
        proc = _sweep(spec, out, None, "--scheduler", cluster["address"])
        killed_with: list[Any] = []
        with Client(cluster["address"], timeout=20, set_as_default=False) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                busy = client.processing(workers=[addr]).get(addr, [])
                done = len(list((out / "runs").glob("*.parquet"))) if (out / "runs").exists() else 0
                if busy and done >= 2:
                    os.killpg(victim.pid, signal.SIGKILL)
                    killed_with = list(busy)
                    break
                time.sleep(0.02)
        assert killed_with, "the victim never had a run in flight"
        _, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 0, stderr
        assert victim.wait(timeout=10) == -signal.SIGKILL
        got = pd.read_parquet(out / "results.parquet")
        assert len(got) == RUNS and not got[["row", "rep"]].duplicated().any()
        assert len(list((out / "runs").glob("*.parquet"))) == RUNS
        assert (got["status"] == "ok").all()
        pd.testing.assert_frame_equal(got, want)
    finally:
        _stop([victim])


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path: Path, local_table: Any) -> None:
    spec, _ = local_table
    env = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    proc = _sweep(spec, tmp_path / "out", env, "--scheduler", "tcp://127.0.0.1:9")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("demandsim: error: --scheduler 'tcp://127.0.0.1:9': cannot connect")
