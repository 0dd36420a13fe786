"""``mesa.batch_run`` with scenario fields as its parameters.

``mesa.batch_run(model_cls, parameters, ...)`` builds ``model_cls(**kwargs)`` for
every combination of ``parameters``. ``DemandModel`` takes ``(scenario, rng,
overrides)``, so a batch run can already vary whole override sets
(``parameters={"overrides": [{...}, {...}]}``); ``BatchDemandModel`` also accepts
each dotted field as its own keyword, the usual batch_run idiom::

    from mesa import batch_run
    rows = batch_run(
        BatchDemandModel,
        {"scenario": "baseline", "run.customers": 2000,
         "focal.platform.density": [0.05, 0.2]},
        rng=[1, 2], max_steps=52, number_processes=1,
    )
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.model import DemandModel
from sim.scenario import Scenario


class BatchDemandModel(DemandModel):
    """``DemandModel`` whose scenario fields are keyword arguments (dotted names)."""

    def __init__(
        self,
        scenario: Scenario | str | Path = "baseline",
        rng: int | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(scenario, rng=rng, overrides=overrides or None)
