"""The ecosystem's conventions hold at our seams, through the real libraries: Mesa's
batch_run iterations differ, EMA replications honour their seeds and return time
series and booleans in the workbench's own types, Mesa's SolaraViz renders our model."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from sim import DemandModel, load_scenario, run_scenario

SMALL = {"run.customers": 300}


@pytest.fixture
def keep_start_method() -> Iterator[None]:
    """mesa.batch_run forces the global start method; put it back afterwards."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_seedless_model_draws_and_records_a_fresh_seed() -> None:
    a = DemandModel("baseline", overrides=SMALL)
    b = DemandModel("baseline", overrides=SMALL)
    assert a.seed != b.seed
    # the recorded seed reproduces the run
    a.run(6)
    again = DemandModel("baseline", rng=a.seed, overrides=SMALL).run(6)
    assert a.summary()["profit_total"] == again.summary()["profit_total"]


def test_batch_run_iterations_are_different_runs(keep_start_method: None) -> None:
    from mesa import batch_run

    from analysis.adapters.mesa_batch import BatchDemandModel

    rows = batch_run(
        BatchDemandModel,
        {"scenario": "baseline", **SMALL},
        rng=[None, None, None],  # what iterations=3 means
        max_steps=8,
        number_processes=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    assert len(df) == 3
    runs = {tuple(r) for r in df[["profit", "cum_profit", "market_share", "contacts"]].to_numpy()}
    assert len(runs) == 3


@pytest.fixture(scope="module")
def replicated() -> tuple[pd.DataFrame, dict[str, np.ndarray], list[int]]:
    from ema_workbench import ScalarOutcome, perform_experiments

    from analysis.adapters.ema import make_model

    seeds = [11, 12, 13]
    model = make_model(
        {"focal.platform.density": (0.05, 0.4), "focal.strategy.enabled": [True, False]},
        fixed=SMALL,
        outcomes=[
            "profit_total",
            ScalarOutcome("profit_sd", variable_name="profit_total", function=np.std),
        ],
        steps=8,
        timeseries=["market_share"],
        replications=[{"seed": s} for s in seeds],
    )
    experiments, outcomes = perform_experiments(model, 3)
    return experiments, outcomes, seeds


def test_ema_replications_honour_their_seeds(
    replicated: tuple[pd.DataFrame, dict[str, np.ndarray], list[int]],
) -> None:
    experiments, outcomes, seeds = replicated
    assert np.all(outcomes["profit_sd"] > 0)  # replications are different runs
    for i in range(len(experiments)):
        row = experiments.iloc[i]
        overrides = {
            **SMALL,
            "focal.platform.density": float(row["focal__platform__density"]),
            "focal.strategy.enabled": bool(row["focal__strategy__enabled"]),
        }
        # replication j is the run with seed j: mean and spread are those of these runs
        profits = [
            run_scenario(load_scenario("baseline", overrides), seed=s, steps=8)[0]["profit_total"]
            for s in seeds
        ]
        assert outcomes["profit_total"][i] == pytest.approx(np.mean(profits), rel=1e-12)
        assert outcomes["profit_sd"][i] == pytest.approx(np.std(profits), rel=1e-9)


def test_ema_time_series_and_booleans_in_the_workbench_types(
    replicated: tuple[pd.DataFrame, dict[str, np.ndarray], list[int]],
) -> None:
    from ema_workbench import BooleanParameter, TimeSeriesOutcome

    from analysis.adapters.ema import make_model

    experiments, outcomes, seeds = replicated
    assert outcomes["market_share"].shape == (3, 3, 9)  # steps 0..8 of each replication
    assert experiments["focal__strategy__enabled"].dtype == bool
    model = make_model(
        {"focal.strategy.enabled": [True, False]}, fixed=SMALL, timeseries=["market_share"]
    )
    assert isinstance(model.uncertainties["focal__strategy__enabled"], BooleanParameter)
    assert isinstance(model.outcomes["market_share"], TimeSeriesOutcome)
    row = experiments.iloc[1]
    overrides = {
        **SMALL,
        "focal.platform.density": float(row["focal__platform__density"]),
        "focal.strategy.enabled": bool(row["focal__strategy__enabled"]),
    }
    _, ts = run_scenario(load_scenario("baseline", overrides), seed=seeds[2], steps=8)
    assert np.array_equal(outcomes["market_share"][1, 2], ts["market_share"].to_numpy())


def test_solara_viz_renders_the_model() -> None:
    import ipywidgets
    import solara
    from mesa.visualization import SolaraViz, make_plot_component

    model = DemandModel("baseline", rng=1, overrides={**SMALL, "run.steps": 5})
    model.run(3)
    page = SolaraViz(
        model,
        components=[make_plot_component("market_share")],
        model_params={"scenario": "baseline", "rng": 1},
        name="demandsim",
    )
    _box, rc = solara.render(page, handle_error=False)
    images = rc.find(ipywidgets.Image).widgets
    assert len(images) == 1
    assert bytes(images[0].value)[:8] == b"\x89PNG\r\n\x1a\n"
