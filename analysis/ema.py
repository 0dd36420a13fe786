"""An adapter for the EMA Workbench (3.x): our model and our sweeps in its terms.

* ``make_model`` wraps the demandsim model as an ``ema_workbench.Model`` whose
  uncertainties are scenario fields (ranges or levels) and whose outcomes are the
  scalar summary outcomes, so ``perform_experiments`` runs it and PRIM and CART
  work on what it returns.
* ``model_from_spec`` does the same from a sweep spec's ``[parameters]``.
* ``load_results`` turns a finished sweep folder into the ``(experiments,
  outcomes)`` pair the workbench's analysis functions take.

The workbench requires parameter names to be Python identifiers; a dotted field
becomes ``focal__platform__density`` (``ema_name``) and is mapped back inside.
Every experiment runs with the same seed (common random numbers), so the
difference between two experiments is the effect of their parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.errors import InputError

DEFAULT_OUTCOMES = ("market_share_final", "profit_total", "dpmo", "marketing_density")


def ema_name(dotted: str) -> str:
    """The identifier the workbench accepts for a dotted scenario field."""
    return dotted.replace(".", "__")


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) and type(value).__module__ == "numpy" else value


class ScenarioFunction:
    """A picklable callable running one experiment: keyword arguments in (identifier
    names), scalar summary outcomes out."""

    def __init__(self, base: dict[str, Any], steps: int, seed: int, names: dict[str, str]) -> None:
        self.base = base
        self.steps = steps
        self.seed = seed
        self.names = names  # identifier -> dotted field

    def __call__(self, **kwargs: Any) -> dict[str, float]:
        from analysis.sweep import scalar_outcomes
        from sim import run_scenario
        from sim.scenario import build_scenario

        overrides = {self.names[k]: _plain(v) for k, v in kwargs.items() if k in self.names}
        sc = build_scenario(self.base, overrides)
        summary, _ = run_scenario(sc, seed=self.seed, steps=self.steps)
        return scalar_outcomes(summary)


def _uncertainty(dotted: str, spec: Any, kind: str | None = None) -> Any:
    from ema_workbench import CategoricalParameter, IntegerParameter, RealParameter

    name = ema_name(dotted)
    if isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(v, int | float) for v in spec):
        lo, hi = spec
        if kind == "int" or (kind is None and isinstance(lo, int) and isinstance(hi, int)):
            return IntegerParameter(name, int(lo), int(hi))
        return RealParameter(name, float(lo), float(hi))
    if isinstance(spec, list | tuple) and spec:
        return CategoricalParameter(name, list(spec))
    raise InputError(f"uncertainty {dotted} = {spec!r}: expected (lo, hi) or a list of levels")


def make_model(
    uncertainties: dict[str, Any],
    *,
    scenario: str | Path = "baseline",
    fixed: dict[str, Any] | None = None,
    outcomes: tuple[str, ...] | list[str] = DEFAULT_OUTCOMES,
    steps: int | None = None,
    seed: int = 0,
    name: str = "demandsim",
) -> Any:
    """The demandsim model as an ``ema_workbench.Model``.

    Args:
        uncertainties: dotted scenario field -> ``(lo, hi)`` (ints give an
            IntegerParameter) or a list of levels (a CategoricalParameter).
        scenario: bundled name or path of the base scenario.
        fixed: dotted overrides applied to the base scenario.
        outcomes: scalar summary outcomes to report (ScalarOutcome each).
        steps: horizon (default: the scenario's run.steps).
        seed: the seed of every experiment (common random numbers).

    Raises:
        ScenarioError: a field or value the scenario does not accept.
    """
    from ema_workbench import Model, ScalarOutcome

    from sim.scenario import load_scenario

    sc = load_scenario(scenario, overrides=fixed)
    base = sc.to_dict()
    for dotted, spec in uncertainties.items():  # check the bounds once, with our errors
        values = spec if isinstance(spec, list) else list(spec)
        for v in values:
            load_scenario(scenario, overrides={**(fixed or {}), dotted: v})
    names = {ema_name(d): d for d in uncertainties}
    model = Model(name, function=ScenarioFunction(base, steps or sc.run.steps, seed, names))
    model.uncertainties = [_uncertainty(d, s) for d, s in uncertainties.items()]
    model.outcomes = [ScalarOutcome(o) for o in outcomes]
    return model


def model_from_spec(
    spec_path: str | Path, outcomes: tuple[str, ...] | list[str] | None = None
) -> Any:
    """An EMA model with a sweep spec's base scenario, fixed fields, parameters and horizon."""
    from analysis.sweep import load_spec
    from sim.scenario import build_scenario

    spec = load_spec(spec_path)
    uncertainties: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for p in spec.parameters:
        if p.kind == "levels":
            uncertainties[p.name] = list(p.levels)
        else:
            uncertainties[p.name] = (int(p.lo), int(p.hi)) if p.type == "int" else (p.lo, p.hi)
            kinds[p.name] = p.type
    from ema_workbench import Model, ScalarOutcome

    base = build_scenario(spec.base).to_dict()
    names = {ema_name(p.name): p.name for p in spec.parameters}
    model = Model("demandsim", function=ScenarioFunction(base, spec.steps, spec.seed, names))
    model.uncertainties = [_uncertainty(d, s, kinds.get(d)) for d, s in uncertainties.items()]
    model.outcomes = [ScalarOutcome(o) for o in (outcomes or spec.analyze or DEFAULT_OUTCOMES)]
    return model


def load_results(
    folder: str | Path, outcomes: list[str] | None = None
) -> tuple[Any, dict[str, Any]]:
    """A finished sweep as the workbench's ``(experiments, outcomes)``.

    One experiment per sample row (replications averaged, as they share their
    seeds); experiment columns are the varied fields under their identifier names.
    """
    from analysis.sensitivity import default_outcomes, load_finished, outcome_matrix

    manifest, df = load_finished(folder)
    names = outcomes or default_outcomes(df, manifest)
    y = outcome_matrix(df, manifest, names)
    params = manifest["parameters"]
    experiments = df[df["rep"] == 0].sort_values("row")[params].reset_index(drop=True)
    experiments.columns = [ema_name(p) for p in params]
    return experiments, {name: y[name].to_numpy() for name in names}
