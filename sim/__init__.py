"""demandsim: a customer-demand evolution simulator.

Public names are imported lazily so that ``demandsim --help`` does not pay for
Mesa's import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["DemandModel", "Scenario", "ScenarioError", "load_scenario", "run_scenario"]

if TYPE_CHECKING:
    from sim.model import DemandModel
    from sim.runs import run_scenario
    from sim.scenario import Scenario, ScenarioError, load_scenario


def __getattr__(name: str) -> Any:
    if name == "DemandModel":
        from sim.model import DemandModel

        return DemandModel
    if name == "run_scenario":
        from sim.runs import run_scenario

        return run_scenario
    if name in ("Scenario", "ScenarioError", "load_scenario"):
        from sim import scenario

        return getattr(scenario, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
