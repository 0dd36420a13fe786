"""The rules run as plain Python too (``NUMBA_DISABLE_JIT=1``, for stepping through a
rule in a debugger) with the compiled numbers; on one thread or two with the same
numbers; runs of any length; Mesa's loop stops."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim import DemandModel
from sim.engine import ENGINES
from sim.jit import CHUNK
from tests.helpers import script_json, small

SCRIPT = """
import json, sys
import sim.jit
from sim import DemandModel
from tests.helpers import small
sim.jit.PARALLEL_MIN_CHUNKS = 1  # spread every loop over the threads, however small
sc = small("complement-wave", n=int(sys.argv[2]), **{"network.kind": sys.argv[1]})
m = DemandModel(sc, rng=7).run(10)
ts = m.datacollector.get_model_vars_dataframe()
print(json.dumps({"ts": ts.to_json(), "summary": m.summary(), "need": m.state.need.tolist(),
                  "rec": m.focal.book.records.need.tolist()}, default=str))
"""


def _run(
    kind: str, jit: bool, n: int = 80, threads: int | None = None, engine: str = "sweep"
) -> dict:
    return script_json(SCRIPT, [kind, str(n)], jit, threads, engine)  # type: ignore[no-any-return]


@pytest.mark.parametrize("engine", ENGINES)
def test_plain_python_gives_the_compiled_numbers(engine: str) -> None:
    for kind in ("watts-strogatz", "mean-field"):
        compiled, plain = _run(kind, True, engine=engine), _run(kind, False, engine=engine)
        assert plain == compiled
        assert json.loads(compiled["ts"])["revenue"]  # a run that sold something


@pytest.mark.parametrize("engine", ENGINES)
def test_the_numbers_do_not_depend_on_the_threads(engine: str) -> None:
    # more customers than one chunk of the parallel loops (sim.jit.CHUNK), so that the
    # threads share the chunks of every step (four threads on any machine: more threads
    # than cores is allowed, and interleaves the chunks differently again)
    n = 3 * CHUNK + 100
    one = _run("watts-strogatz", True, n, 1, engine)
    for threads in (2, 4):
        assert _run("watts-strogatz", True, n, threads, engine) == one
    assert json.loads(one["ts"])["revenue"]


def test_runs_of_any_length() -> None:
    sc = small(n=200, **{"run.steps": 5000})
    model = DemandModel(sc, rng=1)
    model.run_model()
    assert model.t == 5000 and not model.running
    ts = model.datacollector.get_model_vars_dataframe()
    assert len(ts) == 5001 and np.isfinite(ts["market_share"].iloc[-1])
    table = model.summary()["detection"]
    assert sum(row["events"] for row in table.values()) > 0
