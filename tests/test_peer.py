"""The per-agent Mesa peer (benchmarks/peer.py) and the engine implement the same
customer rules: over replications their mean trajectories agree within the standard
error of the difference, and a real change in the market is told apart."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.peer import PeerModel
from benchmarks.workloads import workload, workload_data
from sim import DemandModel
from sim.scenario import Scenario, build_scenario
from sim.state import ACTIVE, SERVED

CUSTOMERS = 1000
STEPS = 52
REPS = 8
CHECKPOINTS = (13, 26, 39, 52)
METRICS = ("served_share", "active_share", "market_share")
#: z for 12 comparisons at once: a false alarm has probability < 1e-3 in all
Z = 4.0


def engine_paths(spec: Scenario, seed: int) -> dict[str, np.ndarray]:
    model = DemandModel(spec, rng=seed)
    served, active = [], []
    for _ in range(STEPS):
        model.step()
        served.append(float(np.mean(model.state.need == SERVED)))
        active.append(float(np.mean(model.state.need == ACTIVE)))
    ts = model.datacollector.get_model_vars_dataframe()
    return {
        "served_share": np.array(served),
        "active_share": np.array(active),
        "market_share": ts["market_share"].to_numpy()[1:],
    }


def peer_paths(spec: Scenario, seed: int) -> dict[str, np.ndarray]:
    ts = PeerModel(spec, seed).run(STEPS).datacollector.get_model_vars_dataframe()
    return {k: ts[k].to_numpy()[1:] for k in METRICS}


def replicate(fn, spec: Scenario, seeds: range) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    runs = [fn(spec, s) for s in seeds]
    return {k: np.stack([r[k] for r in runs]) for k in METRICS}


def z_scores(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[tuple[str, int], float]:
    """|mean difference| / its standard error at each checkpoint, per metric."""
    out = {}
    for k in METRICS:
        for t in CHECKPOINTS:
            x, y = a[k][:, t - 1], b[k][:, t - 1]
            se = np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
            out[(k, t)] = abs(x.mean() - y.mean()) / max(se, 1e-9)
    return out


@pytest.fixture(scope="module")
def spec() -> Scenario:
    return workload(CUSTOMERS, STEPS)


@pytest.fixture(scope="module")
def engine_runs(spec: Scenario) -> dict[str, np.ndarray]:
    return replicate(engine_paths, spec, range(100, 100 + REPS))


def test_peer_agrees_with_engine(spec: Scenario, engine_runs: dict[str, np.ndarray]) -> None:
    peer = replicate(peer_paths, spec, range(200, 200 + REPS))
    z = z_scores(engine_runs, peer)
    worst = max(z, key=z.__getitem__)
    assert z[worst] < Z, f"peer and engine disagree on {worst}: z = {z[worst]:.1f}"
    # the shares move over the run (by many standard errors), so agreement is not
    # agreement on a constant
    moved = peer["served_share"][:, -1] - peer["served_share"][:, 0]
    assert abs(moved.mean()) > Z * moved.std(ddof=1) / np.sqrt(moved.size)


def test_comparison_has_power(engine_runs: dict[str, np.ndarray]) -> None:
    """The same comparison flags a market that really differs (the focal firm's platform
    contacting five times as often), so the agreement above is not for lack of power."""
    data = workload_data(CUSTOMERS, STEPS)
    data["focal"]["platform"]["density"] = 0.5
    changed = replicate(engine_paths, build_scenario(data), range(300, 300 + REPS))
    z = z_scores(engine_runs, changed)
    assert max(z[("market_share", t)] for t in CHECKPOINTS) > Z
