"""The ensemble runner: the same numbers on every executor, results streamed as they
finish, tidy tables, and the one definition of a run's scalar outcomes."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.runs.ensemble import ensemble_run, scalar_outcomes
from sim import load_scenario

SMALL = {"run.customers": 300, "run.steps": 12}


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Any]:
    return {
        "low": load_scenario("baseline", {**SMALL, "focal.platform.density": 0.05}),
        "high": load_scenario("baseline", {**SMALL, "focal.platform.density": 0.4}),
    }


@pytest.fixture(scope="module")
def inline(scenarios: dict[str, Any]) -> Any:
    return ensemble_run(scenarios, [5, 6, 7])


def test_tidy_tables(inline: Any, scenarios: dict[str, Any]) -> None:
    out = inline.outcomes()
    assert list(out[["scenario", "rep", "seed"]].itertuples(index=False, name=None)) == [
        (k, r, s) for k in ("low", "high") for r, s in enumerate([5, 6, 7])
    ]
    assert set(out["steps"]) == {12}
    assert "profit_total" in out.columns and set(out["customers"]) == {300}
    ts = inline.timeseries()
    assert len(ts) == 2 * 3 * 13  # steps 0..12 of each replication
    assert list(ts.columns[:4]) == ["scenario", "rep", "seed", "step"]
    # common random numbers: replication i of both scenarios used seed i
    assert inline.summaries("low")[1]["seed"] == inline.summaries("high")[1]["seed"] == 6


@pytest.mark.parametrize("executor", ["processes", "threads", "dask"])
def test_same_numbers_on_every_executor(
    executor: str, inline: Any, scenarios: dict[str, Any]
) -> None:
    if executor == "processes":
        got = ensemble_run(scenarios, [5, 6, 7], executor=2)
    elif executor == "threads":
        with ThreadPoolExecutor(max_workers=3) as pool:
            got = ensemble_run(scenarios, [5, 6, 7], executor=pool)
    else:
        from distributed import Client

        with Client(processes=False, n_workers=1, threads_per_worker=2) as client:
            got = ensemble_run(scenarios, [5, 6, 7], executor=client)
    pd.testing.assert_frame_equal(got.outcomes(), inline.outcomes())
    pd.testing.assert_frame_equal(got.timeseries(), inline.timeseries())


def gated_runner(scenario: Any, seed: int, steps: int) -> tuple[dict[str, Any], None]:
    """Seed 0 returns at once; seed 1 waits until the file named in the scenario's
    description exists (the caller creates it when seed 0's result arrives)."""
    gate = Path(scenario.run.description)
    waited = seed == 0
    deadline = time.monotonic() + 30
    while seed == 1 and time.monotonic() < deadline:
        if gate.exists():
            waited = True
            break
        time.sleep(0.05)
    return {"seed": seed, "released": waited}, None


def test_results_stream_as_runs_finish(tmp_path: Path) -> None:
    """With two worker processes (what ``compare --jobs 2`` uses), the first result
    reaches the caller while the other run is still going: the second run waits for
    a file that the progress callback writes when the first result arrives."""
    gate = tmp_path / "first-result-arrived"
    sc = load_scenario("baseline", {"run.description": str(gate), **SMALL})
    seen: list[int] = []

    def progress(record: dict[str, Any]) -> None:
        seen.append(record["seed"])
        gate.touch()

    ens = ensemble_run(
        {"x": sc}, [0, 1], executor=2, progress=progress, runner=f"{__name__}:gated_runner"
    )
    assert seen == [0, 1]
    assert [s["released"] for s in ens.summaries("x")] == [True, True]


def test_compare_reports_each_run_as_it_finishes() -> None:
    from analysis.compare.paired import resolve_sides, run_comparison

    a, b, _ = resolve_sides("baseline", "insensitive-platform", {"run.customers": 300})
    ticks: list[int] = []
    comp = run_comparison(a, b, reps=2, steps=6, seed=3, jobs=2, progress=ticks.append)
    assert ticks == [1, 1, 1, 1]
    assert [s["seed"] for s in comp.summaries_a] == [3, 4] == [s["seed"] for s in comp.summaries_b]


def test_scalar_outcomes_one_definition() -> None:
    summary = {
        "scenario": "x",
        "seed": 3,
        "steps": 10,
        "customers": 500,
        "profit_total": 2,
        "share": np.float32(0.5),
        "count": np.int64(4),
        "flag": True,
        "onset": None,
        "launches": [{"firm": "f"}],
        "detection": {"a": {"events": 1}},
    }
    out = scalar_outcomes(summary)
    assert out.keys() == {"customers", "profit_total", "share", "count", "flag", "onset"}
    assert out["flag"] == 1.0 and math.isnan(out["onset"]) and out["count"] == 4.0
    assert all(isinstance(v, float) for v in out.values())
    from analysis.compare import statistics
    from analysis.sweeps import run

    assert statistics.scalar_outcomes is run.scalar_outcomes is scalar_outcomes


def test_step_progress_in_process_gives_the_same_numbers(
    inline: Any, scenarios: dict[str, Any]
) -> None:
    steps: list[int] = []
    got = ensemble_run(scenarios, [5, 6, 7], step_progress=lambda: steps.append(1))
    assert len(steps) == 2 * 3 * 12
    pd.testing.assert_frame_equal(got.outcomes(), inline.outcomes())
    pd.testing.assert_frame_equal(got.timeseries(), inline.timeseries())
