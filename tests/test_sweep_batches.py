"""Runs handed to workers in chunks and written in batches: the same scenarios, the
same tables whatever the chunk size or the number of workers, and nothing lost when a
sweep stops with finished runs still in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analysis.runs.executors import InlineExecutor
from analysis.sweeps import run as sweep_run
from analysis.sweeps.run import chunk_size, run_sweep
from analysis.sweeps.store import PART_MIN
from sim.scenario import ScenarioBuilder, ScenarioError, build_scenario, read_toml

SPEC = """
runner = "analysis.sensitivity.testfunctions:linear_runner"
seed = 4
replications = 2
steps = 3
[outcomes]
timeseries = ["mix"]
[parameters]
"focal.platform.density" = {{ range = [0.0, 1.0] }}
"focal.platform.strength" = {{ range = [0.0, 1.0] }}
[sampler]
samples = {samples}
method = "lhs"
"""


def _spec(tmp: Path, samples: int) -> Path:
    path = tmp / f"spec-{samples}.toml"
    path.write_text(SPEC.format(samples=samples))
    return path


@pytest.mark.parametrize(
    "overrides",
    [
        {"focal.platform.density": 0.3},
        {"focal.platform.density": 0.3, "run.customers": 700, "focal.platform.strength": 0.1},
        {"competitors.0.platform.density": 0.2},
        {"focal.platform": {"density": 0.4}},
        {"focal.platform.density": "0.25"},
        {"focal.platform.targeting": "homogeneous"},
        {"run.steps": 12},
    ],
)
def test_the_builder_gives_the_scenario_build_scenario_gives(overrides: dict[str, Any]) -> None:
    base = read_toml("baseline")
    builder = ScenarioBuilder(base)
    assert builder.build(overrides) == build_scenario(base, overrides)
    assert builder.build({}) == build_scenario(base)


@pytest.mark.parametrize(
    "overrides",
    [
        {"focal.platform.density": 7.0},
        {"focal.platform.density": "high"},
        {"focal.platform.densty": 0.3},
        {"focal.nothing.density": 0.3},
        {"nothing": 1},
        {"focal.platform.density": 2.0, "run.customers": -5},
        {"competitors.9.platform.density": 0.2},
        {"focal.platform": 3},
    ],
)
def test_the_builder_refuses_what_build_scenario_refuses_in_the_same_words(
    overrides: dict[str, Any],
) -> None:
    base = read_toml("baseline")
    with pytest.raises(ScenarioError) as want:
        build_scenario(base, overrides)
    with pytest.raises(ScenarioError) as got:
        ScenarioBuilder(base).build(overrides)
    assert str(got.value) == str(want.value)


def test_chunks_follow_the_time_of_a_run() -> None:
    assert chunk_size([2.0, 3.0], 1000, 2) == 1  # slow runs go one by one
    assert chunk_size([1e-5, 0.5], 100_000, 2) == sweep_run.CHUNK  # the quickest counts
    assert chunk_size([1e-5], 40, 2) == 5  # at least four chunks per worker
    assert chunk_size([], 1000, 2) == 1


def test_the_table_is_the_same_whatever_the_chunks_and_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(tmp_path, 60)
    tables = {}
    for name, chunk, executor in [
        ("one-by-one", 1, InlineExecutor()),
        ("chunks-of-7", 7, InlineExecutor()),
        ("two-workers", 256, 2),
    ]:
        monkeypatch.setattr(sweep_run, "CHUNK", chunk)
        res = run_sweep(spec, tmp_path / name, executor=executor)
        assert res.complete and res.ran == 120 and res.failed == 0
        tables[name] = [
            (tmp_path / name / f).read_bytes() for f in ("results.parquet", "timeseries.parquet")
        ]
    assert tables["one-by-one"] == tables["chunks-of-7"] == tables["two-workers"]


@pytest.mark.parametrize(("hold", "files"), [(60.0, 1), (0.0, 200)])
def test_quick_runs_are_written_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hold: float, files: int
) -> None:
    """Runs finishing within ``HOLD_SECONDS`` of each other go to disk as one part
    file; runs that wait longer are written a file each (as slow runs are)."""
    monkeypatch.setattr(sweep_run, "HOLD_SECONDS", hold)
    spec = _spec(tmp_path, 100)  # 200 runs
    res = run_sweep(spec, tmp_path / "out", executor=InlineExecutor())
    assert res.complete and res.ran == 200
    on_disk = list((tmp_path / "out" / "runs").glob("*.parquet"))
    assert len(on_disk) == files
    assert all(p.name.startswith("part-") == (files == 1) for p in on_disk)


class StopAt:
    """A progress stream that interrupts the sweep once ``n`` runs are reported."""

    def __init__(self, n: int, total: int) -> None:
        self.n, self.total = n, total

    def write(self, text: str) -> None:
        reported = text.startswith("sweep: ") and f"/{self.total} runs" in text
        if reported and int(text.split()[1].split("/")[0]) >= self.n:
            raise KeyboardInterrupt

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("stop", [PART_MIN // 2, 150])
def test_a_stopped_sweep_keeps_every_finished_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: int
) -> None:
    """Runs held in memory are written when the sweep stops (a run file each, or one
    part when there are many); the sweep resumed gives the uninterrupted tables."""
    spec = _spec(tmp_path, 100)  # 200 runs
    assert run_sweep(spec, tmp_path / "ref", executor=InlineExecutor()).complete
    monkeypatch.setattr(sweep_run, "HOLD_SECONDS", 60.0)
    monkeypatch.setattr(sweep_run.Progress.__init__, "__defaults__", (0.0,))  # every run
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out, executor=InlineExecutor(), progress=StopAt(stop, 200))
    parts = list((out / "runs").glob("part-*.parquet"))
    assert len(parts) == (1 if stop >= PART_MIN else 0)
    again = run_sweep(spec, out, executor=InlineExecutor())
    assert again.complete and again.skipped == stop and again.ran == 200 - stop
    for name in ("results.parquet", "timeseries.parquet"):
        assert (out / name).read_bytes() == (tmp_path / "ref" / name).read_bytes()


def test_a_folder_of_run_files_resumes(tmp_path: Path) -> None:
    """A folder written a run file per run (as slow runs are) resumes into the same table."""
    spec = _spec(tmp_path, 20)
    ref = run_sweep(spec, tmp_path / "ref", executor=InlineExecutor())
    out = tmp_path / "out"
    first = run_sweep(spec, out, executor=InlineExecutor())
    assert first.complete and ref.complete
    runs = sorted((out / "runs").glob("*.parquet"))
    assert len(runs) == 40 and not any(p.name.startswith("part-") for p in runs)
    for p in runs[::2]:
        p.unlink()
    (out / "results.parquet").unlink()
    again = run_sweep(spec, out, executor=InlineExecutor())
    assert again.ran == 20 and again.skipped == 20
    assert (out / "results.parquet").read_bytes() == (
        tmp_path / "ref" / "results.parquet"
    ).read_bytes()
