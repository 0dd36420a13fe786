"""A run handed to a worker with others equals the run alone, bit for bit.

Where runs are grouped today: the sweep hands quick runs to its workers in chunks and
writes them a part file at a time; compare and calibrate hand each replication to a
worker on its own (through the ensemble runner), one process or several. For each,
every output file is the same on one worker and on two, and every run in it is the
run made alone in this process (``sim.run_scenario`` with its seed and horizon).
Calibrate's files on one worker and two: ``tests.test_calibrate``.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.runs.executors import InlineExecutor, LocalExecutor
from analysis.sweeps import run as sweep_run
from analysis.sweeps.plan import make_plan
from analysis.sweeps.spec import load_spec
from demandsim.main import cli
from sim import load_scenario, run_scenario
from sim.scenario import build_scenario

#: Files whose bytes hold the command line or the clock: the provenance record, and the
#: search's database (each trial's start and end times; its values are trials.csv).
PROVENANCE = {"demandsim.json", "study.db"}

SWEEP = """
scenario = "baseline"
steps = 8
replications = 2
seed = 9
[sampler]
method = "grid"
points = 12
[set]
"run.customers" = 300
[parameters]
"focal.platform.density" = { range = [0.02, 0.4] }
[outcomes]
timeseries = ["market_share", "dpmo", "alignment"]
"""
SWEEP_RUNS = 12 * 2


def hashes(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (but the provenance record) by its sha256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in PROVENANCE
    }


def same_number(a: Any, b: Any) -> bool:
    """Equal floats, or both NaN (a missing value)."""
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


def solo(scenario: Any, seed: int, steps: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """The run alone in this process."""
    return run_scenario(scenario, seed=seed, steps=steps)


# ---------------------------------------------------------------------------- sweep


@pytest.fixture(scope="module")
def sweep_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sweep one run per hand-off written a run file each (``alone``), and in
    chunks written a part file at a time on 1 and on 2 worker processes."""
    tmp = tmp_path_factory.mktemp("sweep")
    spec = tmp / "spec.toml"
    spec.write_text(SWEEP)
    folders = {}
    with pytest.MonkeyPatch.context() as mp:
        sizes: list[int] = []
        chunks = sweep_run._chunks

        def counted(tasks: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
            out = chunks(tasks, size)
            sizes.extend(len(c["tasks"]) for c in out)
            return out

        mp.setattr(sweep_run, "_chunks", counted)
        for name, workers, chunk, hold in [
            ("alone", 0, 1, 0.0),  # 0: this process
            ("batched-1", 1, sweep_run.CHUNK, 60.0),
            ("batched-2", 2, sweep_run.CHUNK, 60.0),
        ]:
            sizes.clear()
            mp.setattr(sweep_run, "CHUNK", chunk)
            mp.setattr(sweep_run, "CHUNK_SECONDS", 60.0)  # as large as the plan allows
            mp.setattr(sweep_run, "HOLD_SECONDS", hold)
            executor = LocalExecutor(workers) if workers else InlineExecutor()
            fold = 8 if workers else None  # a part file per 8 finished runs
            try:
                res = sweep_run.run_sweep(spec, tmp / name, executor=executor, fold_every=fold)
            finally:
                executor.close()
            assert res.complete and res.ran == SWEEP_RUNS and res.failed == 0
            runs = list((tmp / name / "runs").glob("*.parquet"))
            if name == "alone":
                assert max(sizes) == 1 and len(runs) == SWEEP_RUNS  # a run file each
            else:
                assert max(sizes) > 1, f"{name}: no chunk held more than one run"
                assert all(p.name.startswith("part-") for p in runs)  # written together
            folders[name] = tmp / name
    folders["spec"] = spec
    return folders


@pytest.mark.parametrize("batched", ["batched-1", "batched-2"])
def test_a_sweep_in_chunks_writes_what_it_writes_run_by_run(
    sweep_folders: dict[str, Path], batched: str
) -> None:
    alone, got = sweep_folders["alone"], sweep_folders[batched]
    for name in ("results.parquet", "timeseries.parquet", "samples.parquet"):
        assert hashes(got)[name] == hashes(alone)[name], name


def test_every_run_of_a_chunked_sweep_is_the_run_alone(sweep_folders: dict[str, Path]) -> None:
    spec = load_spec(sweep_folders["spec"])
    plan = make_plan(spec)
    table = pd.read_parquet(sweep_folders["batched-2"] / "results.parquet")
    series = pd.read_parquet(sweep_folders["batched-2"] / "timeseries.parquet")
    assert len(table) == SWEEP_RUNS
    for row, rep, rid in plan.rows:
        task = plan.tasks[rid]
        summary, ts = solo(build_scenario(spec.base, task["overrides"]), task["seed"], spec.steps)
        mine = table[(table["row"] == row) & (table["rep"] == rep)].iloc[0]
        for key in ("market_share_final", "dpmo", "profit_total", "opportunities"):
            assert same_number(mine[key], summary[key]), (rid, key)
        steps = series[(series["row"] == row) & (series["rep"] == rep)]
        for col in ("market_share", "dpmo", "alignment"):
            want = ts[col].to_numpy(dtype=float)
            assert len(steps) == len(want) == spec.steps + 1
            assert all(map(same_number, steps[col], want)), (rid, col)


# ---------------------------------------------------------------------------- compare


@pytest.fixture(scope="module")
def compare_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    tmp = tmp_path_factory.mktemp("compare")
    out = {}
    for jobs in (1, 2):
        folder = tmp / f"jobs{jobs}"
        args = ["compare", "baseline", "insensitive-platform", "--reps", "3", "--steps", "8"]
        args += ["--set", "run.customers=300", "--seed", "11", "--jobs", str(jobs)]
        result = CliRunner().invoke(cli, [*args, "--out", str(folder)])
        assert result.exit_code == 0, result.output
        out[jobs] = folder
    return out


def test_compare_writes_the_same_files_on_one_worker_and_two(
    compare_folders: dict[int, Path],
) -> None:
    one, two = hashes(compare_folders[1]), hashes(compare_folders[2])
    assert len(one) >= 10 and "summaries.parquet" in one
    assert one == two


def test_every_replication_of_a_compare_is_the_run_alone(
    compare_folders: dict[int, Path],
) -> None:
    per_rep = pd.read_parquet(compare_folders[2] / "summaries.parquet")
    meta = json.loads((compare_folders[2] / "comparison.json").read_text())
    assert meta["seeds"] == [11, 12, 13] and len(per_rep) == 6
    for side, name in (("A", "baseline"), ("B", "insensitive-platform")):
        sc = load_scenario(name, overrides={"run.customers": 300})
        for seed in meta["seeds"]:
            summary, _ = solo(sc, seed, 8)
            mine = per_rep[(per_rep["side"] == side) & (per_rep["seed"] == seed)].iloc[0]
            for key in ("market_share_final", "dpmo", "profit_total", "opportunities"):
                assert same_number(mine[key], summary[key]), (side, seed, key)


# ---------------------------------------------------------------------------- calibrate


@pytest.mark.parametrize("workers", [1, 2])
def test_a_candidates_replications_on_workers_are_the_runs_alone(workers: int) -> None:
    """What calibrate asks of the ensemble runner for each candidate (its replications
    on the workers it keeps for the whole search) gives the runs alone."""
    from analysis.runs.ensemble import ensemble_run
    from analysis.runs.executors import kept_workers

    sc = load_scenario("bass-check", overrides={"run.customers": 200, "wom.q": 0.4})
    seeds = [101, 102, 103]
    with kept_workers(workers) as executor:
        ens = ensemble_run({"fit": sc}, seeds, steps=10, executor=executor)
    for seed, summary, ts in zip(seeds, ens.summaries("fit"), ens.series("fit"), strict=True):
        alone_summary, alone_ts = solo(sc, seed, 10)
        assert json.dumps(summary, sort_keys=True, default=str) == json.dumps(
            alone_summary, sort_keys=True, default=str
        )
        pd.testing.assert_frame_equal(ts, alone_ts, check_exact=True)
