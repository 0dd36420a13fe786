"""One run of a scenario, start to end: the shortest way to its outcomes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.model import DemandModel
from sim.scenario import Scenario, load_scenario


def run_scenario(
    scenario: Scenario | str, seed: int | None = None, steps: int | None = None
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run one scenario and return (summary, time series); ``seed`` defaults to the
    scenario's ``run.seed``."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    model = DemandModel(sc, rng=sc.run.seed if seed is None else seed)
    model.run(model.spec.run.steps if steps is None else steps)
    return model.summary(), model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
