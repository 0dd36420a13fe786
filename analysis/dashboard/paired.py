"""Two runs of one scenario on the same market, stepped together: the dashboard's
engine, with no user interface (tests and the benchmark use it directly).

Side A and side B share the scenario and the seed (so common random numbers) and
differ only in each side's platform settings (``SideSettings``); ``PairedRun`` steps
them together and hands the page their frames and the focal firm's events.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.dashboard.network import network_positions
from sim.scenario import Scenario, load_scenario, parse_override_list

# Environment the command line uses to hand its arguments to the served page.
ENV_SCENARIO = "DEMANDSIM_DASHBOARD_SCENARIO"
ENV_SEED = "DEMANDSIM_DASHBOARD_SEED"
ENV_CUSTOMERS = "DEMANDSIM_DASHBOARD_CUSTOMERS"


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SideSettings:
    """What one side's sliders set: the focal firm's platform and the market's drift."""

    coverage: float
    density: float
    strength: float
    upmarket_rate: float
    complement_propensity: float


@dataclass(frozen=True)
class PairSettings:
    """Everything that defines a pair of runs; a change rebuilds both runs."""

    scenario: str
    seed: int
    customers: int
    a: SideSettings
    b: SideSettings
    label_a: str = "sensitive platform"
    label_b: str = "insensitive platform"


SENSITIVE: dict[str, Any] = {"density": 0.3, "strength": 0.95}
INSENSITIVE: dict[str, Any] = {"density": 0.02, "strength": 0.4}


def _weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    total = float(sum(weights))
    if total <= 0:
        return float(np.mean(values))
    return float(sum(v * w for v, w in zip(values, weights, strict=True)) / total)


PLATFORM_FIELDS = frozenset(
    {"focal.platform.coverage", "focal.platform.density", "focal.platform.strength"}
)


def _side_of(sc: Scenario) -> SideSettings:
    """A scenario's own slider values: its focal platform and its segment-weighted drift."""
    shares = [s.share for s in sc.segments]
    p = sc.focal.platform
    return SideSettings(
        coverage=p.coverage,
        density=p.density,
        strength=p.strength,
        upmarket_rate=_weighted_mean([s.upmarket_rate for s in sc.segments], shares),
        complement_propensity=_weighted_mean(
            [s.complement_propensity for s in sc.segments], shares
        ),
    )


def default_settings(
    scenario: str = "baseline", seed: int | None = None, customers: int | None = None
) -> PairSettings:
    """The default pair for a scenario: its focal firm with a sensitive and an insensitive platform.

    When the scenario's own comparison (``[compare]``) changes nothing but the focal
    platform's coverage, density or strength, its two sides and labels are used. Otherwise
    side A gets a sensitive platform (density 0.3, strength 0.95) and side B an insensitive
    one (density 0.02, strength 0.4); coverage, upmarket rate and complement propensity
    stay at the scenario's own values on both sides.
    """
    sc = load_scenario(scenario)
    cmp = sc.compare
    sides = (parse_override_list(cmp.a), parse_override_list(cmp.b))
    own = _side_of(sc)
    if (cmp.a or cmp.b) and all(set(o) <= PLATFORM_FIELDS for o in sides):
        side_a, side_b = (_side_of(load_scenario(scenario, o)) for o in sides)
        labels = (cmp.label_a, cmp.label_b)
    else:
        side_a = dataclasses.replace(own, **SENSITIVE)
        side_b = dataclasses.replace(own, **INSENSITIVE)
        labels = ("sensitive platform", "insensitive platform")
    return PairSettings(
        scenario=scenario,
        seed=sc.run.seed if seed is None else int(seed),
        customers=sc.run.customers if customers is None else int(customers),
        a=side_a,
        b=side_b,
        label_a=labels[0],
        label_b=labels[1],
    )


def side_overrides(sc: Scenario, side: SideSettings) -> dict[str, Any]:
    """Dotted overrides that put one side's slider values into the scenario.

    The upmarket rate and complement propensity sliders set the population-weighted mean
    over segments; each segment keeps its rate relative to the others.
    """
    out: dict[str, Any] = {
        "focal.platform.coverage": float(side.coverage),
        "focal.platform.density": float(side.density),
        "focal.platform.strength": float(side.strength),
    }
    shares = [s.share for s in sc.segments]
    up = [s.upmarket_rate for s in sc.segments]
    comp = [s.complement_propensity for s in sc.segments]
    up_mean = _weighted_mean(up, shares)
    comp_mean = _weighted_mean(comp, shares)
    for i in range(len(sc.segments)):
        rate = up[i] * side.upmarket_rate / up_mean if up_mean > 0 else side.upmarket_rate
        prop = (
            comp[i] * side.complement_propensity / comp_mean
            if comp_mean > 0
            else side.complement_propensity
        )
        out[f"segments.{i}.upmarket_rate"] = float(rate)
        out[f"segments.{i}.complement_propensity"] = float(min(1.0, prop))
    return out


def env_customers() -> int | None:
    """The population the command line asked for (``--customers``), if any."""
    customers = os.environ.get(ENV_CUSTOMERS)
    return int(customers) if customers else None


def env_settings() -> PairSettings:
    """Default settings from the environment the command line sets (or the baseline)."""
    scenario = os.environ.get(ENV_SCENARIO) or "baseline"
    seed = os.environ.get(ENV_SEED)
    return default_settings(scenario, seed=int(seed) if seed else None, customers=env_customers())


# --------------------------------------------------------------------------- paired runner


class PairedRun:
    """Two runs of one scenario with the same seed, side A and side B, stepped together.

    Args:
        settings: the scenario, seed, population and each side's slider values.
    """

    def __init__(self, settings: PairSettings) -> None:
        from sim.model import DemandModel

        self.settings = settings
        base = load_scenario(settings.scenario, {"run.customers": settings.customers})
        self.scenario_a = load_scenario(
            settings.scenario,
            {"run.customers": settings.customers, **side_overrides(base, settings.a)},
        )
        self.scenario_b = load_scenario(
            settings.scenario,
            {"run.customers": settings.customers, **side_overrides(base, settings.b)},
        )
        self.horizon = base.run.steps
        self.focal = base.focal.name
        self.cells = [(c.name, t) for c in base.categories for t in c.tiers]
        self.model_a = DemandModel(self.scenario_a, rng=settings.seed)
        self.model_b = DemandModel(self.scenario_b, rng=settings.seed)
        self.steps = 0
        self._lock = threading.Lock()
        self._frames: tuple[pd.DataFrame, pd.DataFrame] | None = None
        self._events: tuple[dict[str, Any], dict[str, Any]] | None = None
        self.layout = network_positions(self.model_a)  # same seed: the same network on both sides

    @property
    def done(self) -> bool:
        """Whether both runs reached the scenario's number of steps."""
        return self.steps >= self.horizon

    def step(self, n: int = 1) -> None:
        """Advance both runs by ``n`` steps (side A, then side B, each step)."""
        with self._lock:
            for _ in range(n):
                self.model_a.step()
                self.model_b.step()
                self.steps += 1
            self._frames = None
            self._events = None

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The two DataCollector frames (one row per collected step), cached until the next step."""
        with self._lock:
            if self._frames is None:
                self._frames = (_frame(self.model_a), _frame(self.model_b))
            return self._frames

    def events(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Launches and contraction onset of the focal firm on each side."""
        fa, fb = self.frames()
        with self._lock:
            if self._events is None:
                self._events = (
                    _focal_events(self.model_a, fa, self.focal),
                    _focal_events(self.model_b, fb, self.focal),
                )
            return self._events


def _frame(model: Any) -> pd.DataFrame:
    df = model.datacollector.get_model_vars_dataframe()
    if "step" not in df.columns:
        df = df.assign(step=np.arange(len(df)))
    return df.reset_index(drop=True)


def _focal_events(model: Any, df: pd.DataFrame, focal: str) -> dict[str, Any]:
    """The focal firm's launches (step, cell, outcome) and the contraction onset step."""
    launches: list[dict[str, Any]] = []
    onset: int | None = None
    summary: dict[str, Any] = {}
    if hasattr(model, "summary"):
        summary = model.summary()
    for item in summary.get("launches", []) or []:
        if item.get("firm", focal) == focal and item.get("step") is not None:
            launches.append(
                {
                    "step": int(item["step"]),
                    "cell": f"{item.get('category', '')} {item.get('tier', '')}".strip(),
                    "outcome": str(item.get("outcome", "pending")),
                }
            )
    if summary.get("contraction_onset") is not None:
        onset = int(summary["contraction_onset"])
    elif "contraction" in df.columns and len(df):
        flagged = np.flatnonzero(df["contraction"].to_numpy(dtype=float) > 0)
        if flagged.size:
            onset = int(df["step"].iloc[flagged[0]])
    return {"launches": launches, "contraction_onset": onset}
