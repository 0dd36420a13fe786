"""The sweep's results table has an explicit schema: the run's identity as int64 and
strings whether or not a run failed, parameters as their values' types, outcomes as
float64; and the folder's lock is a portable OS lock (a second sweep is refused)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.sweeps.run import run_sweep
from analysis.sweeps.store import SweepStore
from sim.errors import InputError

SPEC = """runner = "analysis.sensitivity.testfunctions:linear_runner"
steps = 3
replications = 2
seed = 4
[sampler]
method = "grid"
points = 2
[parameters]
"focal.platform.density" = { range = [0.0, 1.0] }
"focal.platform.targeting" = { levels = ["homogeneous", "personalized"] }
"""


def test_results_schema_is_explicit_when_no_run_failed(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    res = run_sweep(spec, tmp_path / "out", workers=1, progress=None)
    assert res.complete and res.failed == 0
    schema = pq.read_schema(tmp_path / "out" / "results.parquet")
    types = {f.name: f.type for f in schema}
    assert types["row"] == types["rep"] == types["seed"] == pa.int64()
    # nothing failed, so every error is missing: still a string column, not Arrow's null
    assert types["run_id"] == types["status"] == types["error"] == pa.string()
    assert types["focal.platform.density"] == pa.float64()
    assert types["focal.platform.targeting"] == pa.string()
    assert types["linear"] == pa.float64()
    table = pq.read_table(tmp_path / "out" / "results.parquet")
    assert table.column("error").null_count == table.num_rows == 2 * 2 * 2


def test_a_second_lock_on_the_folder_is_refused(tmp_path: Path) -> None:
    store = SweepStore(tmp_path / "out")
    with (
        store.lock(),
        pytest.raises(InputError, match="another sweep is writing to this folder"),
        SweepStore(tmp_path / "out").lock(),
    ):
        pass  # pragma: no cover - the lock above holds
    with SweepStore(tmp_path / "out").lock():  # released: taken again
        pass


MODEL_SPEC = """scenario = "baseline"
steps = 4
replications = 1
seed = 2
[sampler]
method = "grid"
points = 2
[set]
"run.customers" = 300
[parameters]
"focal.platform.density" = { range = [0.05, 0.2] }
"""


def test_counts_of_the_model_are_integers(tmp_path: Path) -> None:
    from sim.outcomes import COUNTS

    spec = tmp_path / "spec.toml"
    spec.write_text(MODEL_SPEC)
    res = run_sweep(spec, tmp_path / "out", workers=1, progress=None)
    assert res.complete and res.failed == 0
    types = {f.name: f.type for f in pq.read_schema(tmp_path / "out" / "results.parquet")}
    counted = sorted(n for n in COUNTS if n in types and n not in ("seed", "steps"))
    assert {"defects", "opportunities", "churn_total", "contacts_total"} <= set(counted)
    assert all(types[n] == pa.int64() for n in counted), {n: types[n] for n in counted}
    assert types["dpmo"] == types["profit_total"] == pa.float64()
    # contraction_onset is missing in a run without contraction: a null, not a fake 0
    table = pq.read_table(tmp_path / "out" / "results.parquet")
    onset = table.column("contraction_onset")
    assert onset.null_count == sum(v is None for v in onset.to_pylist())
