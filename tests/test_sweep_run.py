"""Local sweeps with real processes: kill and resume, untrusted files, failed runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis.sweeps.plan import make_plan
from analysis.sweeps.run import execute_run, run_sweep
from analysis.sweeps.spec import canonical_json, load_spec
from analysis.sweeps.store import SweepStore
from sim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
DEMANDSIM = str(Path(sys.executable).parent / "demandsim")

SPEC = """
scenario = "baseline"
steps = 30
replications = 2
seed = 5
[sampler]
method = "grid"
points = 6
[set]
"run.customers" = 800
[parameters]
"focal.platform.density" = { range = [0.02, 0.4] }
"focal.platform.targeting" = { levels = ["homogeneous", "personalized"] }
[outcomes]
timeseries = ["market_share", "dpmo"]
"""
RUNS = 6 * 2 * 2


def _spec(tmp: Path, text: str = SPEC, name: str = "spec.toml") -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def _sweep_cli(spec: Path, out: Path, *extra: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [DEMANDSIM, "sweep", str(spec), "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill takes the workers too
        **kw,
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An uninterrupted sweep on one worker process."""
    tmp = tmp_path_factory.mktemp("ref")
    spec = _spec(tmp)
    out = tmp / "out"
    proc = _sweep_cli(spec, out, "--workers", "1")
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    assert stdout.strip() == str(out / "results.parquet")
    assert "left ~" in stderr  # progress with an estimate of the time left
    return spec, out


def test_sigkill_then_resume_gives_the_uninterrupted_table(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, ref_out = reference
    out = tmp_path / "out"
    proc = _sweep_cli(spec, out, "--workers", "2")
    runs = out / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if runs.exists() and len(list(runs.glob("*.parquet"))) >= 4:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    survivors = len(list(runs.glob("*.parquet")))
    assert 4 <= survivors < RUNS, "the kill must land part-way through the sweep"
    assert not (out / "results.parquet").exists()

    proc = _sweep_cli(spec, out, "--workers", "2")
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    # Only the missing runs ran: none redone, none lost.
    assert f"{RUNS - survivors} run now, {survivors} already done" in stderr
    assert len(list(runs.glob("*.parquet"))) == RUNS
    assert not list(runs.glob(".*.tmp"))

    got = pd.read_parquet(out / "results.parquet")
    want = pd.read_parquet(ref_out / "results.parquet")
    assert len(got) == RUNS and not got[["row", "rep"]].duplicated().any()
    pd.testing.assert_frame_equal(got, want)  # 1 worker uninterrupted == 2 workers killed
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "timeseries.parquet"), pd.read_parquet(ref_out / "timeseries.parquet")
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert [s["ran"] for s in manifest["sessions"]][-1] == RUNS - survivors


def test_table_is_tidy_paired_and_described(reference: tuple[Path, Path]) -> None:
    spec, out = reference
    df = pd.read_parquet(out / "results.parquet")
    assert list(df.columns[:8]) == [
        "row",
        "rep",
        "run_id",
        "seed",
        "status",
        "error",
        "focal.platform.density",
        "focal.platform.targeting",
    ]
    assert (df["status"] == "ok").all() and df["run_id"].is_unique
    # The same seeds at every point: replication r has one seed across all rows.
    assert df.groupby("rep")["seed"].nunique().tolist() == [1, 1]
    assert df["seed"].nunique() == 2
    # Outcomes respond to the parameter (the sweep is not running one scenario 24 times).
    assert df.groupby("focal.platform.density")["market_share_final"].mean().is_monotonic_increasing
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == RUNS * 31 and list(ts.columns) == [
        "row",
        "rep",
        "run_id",
        "step",
        "market_share",
        "dpmo",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == sorted(set(df["seed"]), key=list(df["seed"]).index)
    assert manifest["spec"]["parameters"]["focal.platform.density"] == {"range": [0.02, 0.4]}
    assert (
        manifest["demandsim_version"] and "git_commit" in manifest and manifest["versions"]["mesa"]
    )
    assert manifest["table_rows"] == RUNS


def test_truncated_and_foreign_files_are_redone(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    spec, ref_out = reference
    out = tmp_path / "out"
    shutil.copytree(ref_out, out)
    files = sorted((out / "runs").glob("*.parquet"))
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2])  # truncated
    shutil.copy(files[2], files[1])  # a valid Parquet file of another run under this name
    (out / "runs" / "not-a-run.parquet").write_bytes(b"junk")  # belongs to no run: ignored
    (out / "results.parquet").unlink()
    lines: list[str] = []

    class Capture:
        def write(self, s: str) -> None:
            lines.append(s)

        def flush(self) -> None:
            pass

    res = run_sweep(spec, out, workers=2, progress=Capture())
    assert (res.redone, res.ran, res.skipped, res.complete) == (2, 2, RUNS - 2, True)
    assert any("quarantine" in s for s in lines) and any("belong to no run" in s for s in lines)
    assert len(list((out / "quarantine").glob("*.parquet"))) == 2
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "results.parquet"), pd.read_parquet(ref_out / "results.parquet")
    )


def test_another_spec_in_the_same_folder_is_refused(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    _, ref_out = reference
    other = _spec(tmp_path, SPEC.replace("seed = 5", "seed = 6"), "other.toml")
    proc = subprocess.run(
        [DEMANDSIM, "sweep", str(other), "--out", str(ref_out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("demandsim: error: --out ")
    assert "holds another sweep" in proc.stderr


# ---------------------------------------------------------------- failed runs


def flaky_runner(scenario: Any, seed: int, steps: int) -> tuple[dict[str, Any], None]:
    """Fails for a high density: stands for a model run that raises."""
    if scenario.focal.platform.density > 0.35:
        raise FloatingPointError(f"density {scenario.focal.platform.density} diverged")
    return {"x": scenario.focal.platform.density * 2, "seed": seed}, None


class InProcess:
    """An executor that runs tasks here, in order (the test runner lives in this module)."""

    description = "in-process"
    workers = 1

    def run(self, fn: Any, tasks: list[dict[str, Any]]) -> Any:
        for t in tasks:
            yield fn(t)

    def close(self) -> None:
        pass


FLAKY = """
runner = "{module}:flaky_runner"
steps = 1
replications = 2
[sampler]
method = "grid"
points = 5
[parameters]
"focal.platform.density" = { range = [0.0, 0.4] }
"focal.platform.strength" = { levels = [0.5, 0.9] }
"""


def test_a_failed_run_is_recorded_and_does_not_stop_the_others(tmp_path: Path) -> None:
    spec = _spec(tmp_path, FLAKY.replace("{module}", __name__))
    out = tmp_path / "out"
    res = run_sweep(spec, out, executor=InProcess(), trusted=True)
    assert (res.total, res.failed, res.complete) == (20, 4, True)
    df = pd.read_parquet(out / "results.parquet")
    bad = df[df["status"] == "error"]
    assert set(bad["focal.platform.density"]) == {0.4}
    assert bad["error"].str.startswith("FloatingPointError: density 0.4 diverged").all()
    assert bad["x"].isna().all()
    good = df[df["status"] == "ok"]
    assert (good["x"] == 2 * good["focal.platform.density"]).all()
    # Failed runs are done: a plain resume runs nothing; --retry-failed runs them again.
    assert run_sweep(spec, out, executor=InProcess(), trusted=True).ran == 0
    assert run_sweep(spec, out, executor=InProcess(), retry_failed=True, trusted=True).ran == 4


def test_execute_run_is_a_pure_function_of_its_task() -> None:
    spec = load_spec(ROOT / "analysis" / "specs" / "small-grid.toml")
    task = dict(next(iter(make_plan(spec).tasks.values())))
    task["scenario"] = {**task["scenario"], "run": {**task["scenario"]["run"], "customers": 500}}
    task["steps"] = 10
    a, b = execute_run(task), execute_run(task)
    assert a["status"] == "ok", a["error"]
    same = canonical_json([a["outcomes"], a["timeseries"]]) == canonical_json(
        [b["outcomes"], b["timeseries"]]
    )
    assert same  # NaN-aware, exact
    other = execute_run({**task, "seed": task["seed"] + 1})
    assert canonical_json(other["outcomes"]) != canonical_json(a["outcomes"])


def test_a_second_sweep_on_a_busy_folder_is_refused(tmp_path: Path) -> None:
    store = SweepStore(tmp_path / "out")
    with store.lock(), pytest.raises(InputError, match="another sweep is writing"):
        run_sweep(
            _spec(tmp_path, FLAKY.replace("{module}", __name__)),
            tmp_path / "out",
            executor=InProcess(),
            trusted=True,
        )


def test_an_unknown_series_column_is_refused_alike_here_and_on_workers(tmp_path: Path) -> None:
    """The columns come from a small model in this process, or on the worker processes
    (the driver then never imports the model): the same refusal, nothing written."""
    from analysis.runs.executors import InlineExecutor

    spec = _spec(tmp_path, SPEC.replace('"dpmo"]', '"share_nobody"]'))
    said = []
    for name, executor in [("here", InlineExecutor()), ("workers", 2)]:
        out = tmp_path / name
        with pytest.raises(InputError) as err:
            run_sweep(spec, out, executor=executor)
        said.append(str(err.value))
        assert not out.exists()
    assert said[0] == said[1]
    assert said[0].startswith("outcomes.timeseries.1 = 'share_nobody': expected one of ")
    assert "market_share" in said[0].split("expected one of ")[1].split(", ")
