"""A sweep whose Dask scheduler goes away: the runs that had not finished stay not
run (not failed), the manifest says incomplete, and the same sweep run again
finishes them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis.runs.executors import InlineExecutor, SchedulerLost
from analysis.sweeps.run import run_sweep

SPEC = """
runner = "{module}:slow_runner"
steps = 1
replications = 2
[sampler]
method = "grid"
points = 4
[parameters]
"focal.platform.density" = {{ range = [0.0, 0.3] }}
"""


def slow_runner(scenario: Any, seed: int, steps: int) -> tuple[dict[str, Any], None]:
    """A run that takes a moment, so that most runs are still pending when the
    scheduler goes."""
    time.sleep(0.4)
    return {"x": scenario.focal.platform.density + seed}, None


def test_a_lost_scheduler_leaves_unfinished_runs_not_run(tmp_path: Path) -> None:
    import dask
    from distributed import Client, LocalCluster

    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format(module=__name__))
    out = tmp_path / "out"

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        cluster = LocalCluster(
            processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
        )
        client = Client(cluster)

        class CloseAfterFirstRun:
            """The progress stream: the scheduler goes as soon as one run is reported."""

            def write(self, text: str) -> None:
                if text.startswith("sweep: 1/"):
                    cluster.close()

            def flush(self) -> None:
                pass

        try:
            with pytest.raises(SchedulerLost, match="runs not run"):
                run_sweep(spec, out, executor=client, progress=CloseAfterFirstRun(), trusted=True)
        finally:
            client.close()
            cluster.close()

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"
    on_disk = [pd.read_parquet(p) for p in (out / "runs").glob("*.parquet")]
    assert 1 <= len(on_disk) < 8
    assert all((df["status"] == "ok").all() for df in on_disk)  # none recorded as failed
    again = run_sweep(spec, out, executor=InlineExecutor(), trusted=True)
    assert again.complete and again.failed == 0
    assert again.ran == 8 - len(on_disk) and again.skipped == len(on_disk)
