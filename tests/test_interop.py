"""Interoperability: mesa.batch_run and the EMA Workbench run our model."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import DemandModel, load_scenario, run_scenario


@pytest.fixture
def keep_start_method() -> Iterator[None]:
    """mesa.batch_run forces the global start method; put it back afterwards."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def _final_share(overrides: dict[str, object], seed: int, steps: int) -> float:
    _, ts = run_scenario(load_scenario("baseline", overrides=overrides), seed=seed, steps=steps)
    return float(ts["market_share"].iloc[-1])


def test_demand_model_runs_under_mesa_batch_run(keep_start_method: None) -> None:
    from mesa import batch_run

    sets = [{"run.customers": 500, "focal.platform.density": d} for d in (0.05, 0.3)]
    rows = batch_run(
        DemandModel,
        {"scenario": "baseline", "overrides": sets},
        rng=[1, 2],
        max_steps=26,
        number_processes=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    assert len(df) == 4 and set(df["Step"]) == {26}
    for _, r in df.iterrows():
        want = _final_share(r["overrides"], int(r["rng"]), 26)
        assert r["market_share"] == want  # the same run as run_scenario, bit for bit
    by_density = df.groupby(df["overrides"].map(lambda o: o["focal.platform.density"]))[
        "market_share"
    ].mean()
    assert by_density[0.3] > by_density[0.05]


def test_dotted_fields_as_batch_run_parameters(keep_start_method: None) -> None:
    from mesa import batch_run

    from analysis.adapters.mesa_batch import BatchDemandModel

    rows = batch_run(
        BatchDemandModel,
        {"run.customers": 500, "focal.platform.density": [0.05, 0.3]},
        rng=[3],
        max_steps=20,
        number_processes=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows).sort_values("focal.platform.density")
    assert list(df["focal.platform.density"]) == [0.05, 0.3]
    for _, r in df.iterrows():
        overrides = {"run.customers": 500, "focal.platform.density": r["focal.platform.density"]}
        assert r["market_share"] == _final_share(overrides, 3, 20)


@pytest.fixture(scope="module")
def ema_run() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    from ema_workbench import perform_experiments

    from analysis.adapters.ema import make_model

    model = make_model(
        {
            "focal.platform.density": (0.02, 0.4),
            "focal.platform.targeting": ["homogeneous", "personalized"],
        },
        fixed={"run.customers": 500},
        outcomes=["market_share_final", "profit_total", "dpmo"],
        steps=26,
        seed=5,
    )
    # a seeded design: EMA's Latin hypercube draws fresh entropy otherwise
    return perform_experiments(  # type: ignore[return-value]
        model, scenarios=30, uncertainty_sampling_kwargs={"rng": 1}
    )


def test_ema_perform_experiments_runs_our_model(
    ema_run: tuple[pd.DataFrame, dict[str, np.ndarray]],
) -> None:
    experiments, outcomes = ema_run
    assert len(experiments) == 30 and set(outcomes) == {
        "market_share_final",
        "profit_total",
        "dpmo",
    }
    assert all(len(v) == 30 and np.isfinite(v).all() for v in outcomes.values())
    first = experiments.iloc[0]
    overrides = {
        "run.customers": 500,
        "focal.platform.density": float(first["focal__platform__density"]),
        "focal.platform.targeting": str(first["focal__platform__targeting"]),
    }
    summary, _ = run_scenario(load_scenario("baseline", overrides=overrides), seed=5, steps=26)
    assert outcomes["market_share_final"][0] == summary["market_share_final"]


def test_prim_and_cart_find_the_density_that_drives_share(
    ema_run: tuple[pd.DataFrame, dict[str, np.ndarray]],
) -> None:
    from ema_workbench.analysis import cart, prim

    experiments, outcomes = ema_run
    x = experiments[["focal__platform__density", "focal__platform__targeting"]]
    share = outcomes["market_share_final"]
    y = share > np.median(share)
    box = prim.Prim(x, y).find_box()
    assert box is not None
    limits = box.box_lim  # the last box of the peeling trajectory
    # high share needs density: the box was peeled from below in density, and the
    # designs it cut off there have the lower shares
    low = float(limits["focal__platform__density"].iloc[0])
    density = x["focal__platform__density"].to_numpy()
    assert low > density.min()
    assert share[density < low].mean() < share[density >= low].mean()
    tree = cart.CART(x, y, mass_min=0.1)
    tree.build_tree()
    boxes = tree.boxes_to_dataframe()
    assert "focal__platform__density" in set(boxes.index)


def test_a_finished_sweep_loads_as_workbench_results(tmp_path: Path) -> None:
    from ema_workbench.analysis import prim

    from analysis.adapters.ema import load_results
    from analysis.sweeps.run import run_sweep

    spec = tmp_path / "spec.toml"
    spec.write_text(
        'runner = "analysis.sensitivity.testfunctions:ishigami_runner"\nsteps = 1\n'
        '[sampler]\nmethod = "lhs"\nsamples = 60\n'
        '[parameters]\n"focal.platform.density" = { range = [0.0, 1.0] }\n'
        '"focal.platform.strength" = { range = [0.0, 1.0] }\n'
        '[outcomes]\nanalyze = ["x1_only"]\n'
    )
    assert run_sweep(spec, tmp_path / "out", workers=1).complete
    experiments, outcomes = load_results(tmp_path / "out")
    assert list(experiments.columns) == ["focal__platform__density", "focal__platform__strength"]
    x1 = np.pi * (2 * experiments["focal__platform__density"].to_numpy() - 1)
    np.testing.assert_array_equal(outcomes["x1_only"], np.sin(x1))  # rows matched to samples
    box = prim.Prim(experiments, outcomes["x1_only"] > 0.5).find_box()
    assert box is not None
    # sin(x1) > 0.5 where x1 in (pi/6, 5pi/6), i.e. density in (7/12, 11/12): the first
    # box of the peeling trajectory that is pure has found that interval.
    pure = int(np.argmax(box.peeling_trajectory["density"].to_numpy() >= 1.0))
    box.select(pure)
    lo, hi = (float(v) for v in box.box_lim["focal__platform__density"])
    assert lo > 0.5 and hi < 1.0, (lo, hi)
    assert box.peeling_trajectory["coverage"].iloc[pure] > 0.5


def test_a_sweep_spec_becomes_a_workbench_model() -> None:
    from ema_workbench import CategoricalParameter, RealParameter, perform_experiments

    from analysis.adapters.ema import model_from_spec

    root = Path(__file__).resolve().parent.parent
    model = model_from_spec(
        root / "analysis" / "specs" / "small-grid.toml", outcomes=["market_share_final"]
    )
    kinds = {u.name: type(u) for u in model.uncertainties}
    assert kinds == {
        "focal__platform__density": RealParameter,
        "focal__platform__targeting": CategoricalParameter,
    }
    experiments, outcomes = perform_experiments(model, scenarios=3)
    assert len(experiments) == 3 and np.isfinite(outcomes["market_share_final"]).all()
    assert experiments["focal__platform__density"].between(0.02, 0.3).all()
