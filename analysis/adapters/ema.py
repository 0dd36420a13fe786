"""An adapter for the EMA Workbench (3.x): our model and our sweeps in its terms.

* ``make_model`` wraps the demandsim model as an ``ema_workbench.Model`` whose
  uncertainties are scenario fields (ranges or levels) and whose outcomes are the
  scalar summary outcomes, each MAXIMIZE, MINIMIZE or INFO as ``sim.outcomes``
  declares its direction, so ``perform_experiments`` runs it, PRIM and CART work on
  what it returns and an optimization knows which way each outcome is better.
* ``model_from_spec`` does the same from a sweep spec's ``[parameters]``.
* ``load_results`` turns a finished sweep folder into the ``(experiments,
  outcomes)`` pair the workbench's analysis functions take.

The workbench requires parameter names to be Python identifiers; a dotted field
becomes ``focal__platform__density`` (``ema_name``) and is mapped back inside.
Every experiment runs with the same seed (common random numbers), so the
difference between two experiments is the effect of their parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.outcomes import HIGHER, LOWER, direction

DEFAULT_OUTCOMES = ("market_share_final", "profit_total", "dpmo", "marketing_density")


def ema_kind(name: str) -> int:
    """The workbench's kind of an outcome from its declared direction (``sim.outcomes``):
    MAXIMIZE when higher is better, MINIMIZE when lower is, INFO otherwise (and for a
    name the registry does not know)."""
    from ema_workbench import ScalarOutcome

    return {HIGHER: ScalarOutcome.MAXIMIZE, LOWER: ScalarOutcome.MINIMIZE}.get(
        direction(name), ScalarOutcome.INFO
    )


def ema_name(dotted: str) -> str:
    """The identifier the workbench accepts for a dotted scenario field."""
    return dotted.replace(".", "__")


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) and type(value).__module__ == "numpy" else value


class ScenarioFunction:
    """A picklable callable running one experiment: keyword arguments in (identifier
    names), outcomes out.

    A ``seed`` (or ``rng``) keyword, as a ``ReplicatorModel``'s replications give it
    (``model.replications = [{"seed": 1}, {"seed": 2}]``), is the run's seed;
    without one every experiment runs with ``seed`` (common random numbers). The
    run goes through the ensemble runner (``analysis.runs.ensemble``); the result holds
    every scalar outcome and, for the names in ``timeseries``, the per-step series
    as an array (for ``TimeSeriesOutcome``).
    """

    def __init__(
        self,
        base: dict[str, Any],
        steps: int,
        seed: int,
        names: dict[str, str],
        timeseries: tuple[str, ...] | list[str] = (),
    ) -> None:
        self.base = base
        self.steps = steps
        self.seed = seed
        self.names = names  # identifier -> dotted field
        self.timeseries = tuple(timeseries)

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        from analysis.runs.ensemble import run_replication, scalar_outcomes
        from sim.scenario import build_scenario

        overrides = {self.names[k]: _plain(v) for k, v in kwargs.items() if k in self.names}
        seed = kwargs.get("seed", kwargs.get("rng", self.seed))
        sc = build_scenario(self.base, overrides)
        record = run_replication(
            {
                "run_id": "ema",
                "key": "ema",
                "rep": 0,
                "scenario": sc.to_dict(),
                "seed": int(_plain(seed)),
                "steps": self.steps,
                "timeseries": bool(self.timeseries),
            }
        )
        out: dict[str, Any] = dict(scalar_outcomes(record["summary"]))
        ts = record["timeseries"]
        for name in self.timeseries:
            if ts is None or name not in ts.columns:
                raise InputError(f"TimeSeriesOutcome {name!r}: not a column of the model's series")
            out[name] = ts[name].to_numpy(dtype=float)
        return out


def _uncertainty(dotted: str, spec: Any, kind: str | None = None) -> Any:
    from ema_workbench import (
        BooleanParameter,
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
    )

    name = ema_name(dotted)
    if kind == "bool" or (
        isinstance(spec, list | tuple) and spec and all(isinstance(v, bool) for v in spec)
    ):
        return BooleanParameter(name)
    if isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(v, int | float) for v in spec):
        lo, hi = spec
        if kind == "int" or (kind is None and isinstance(lo, int) and isinstance(hi, int)):
            return IntegerParameter(name, int(lo), int(hi))
        return RealParameter(name, float(lo), float(hi))
    if isinstance(spec, list | tuple) and spec:
        return CategoricalParameter(name, list(spec))
    raise InputError(f"uncertainty {dotted} = {spec!r}: expected (lo, hi) or a list of levels")


def _outcomes(scalars: Sequence[Any], timeseries: Sequence[str], replicated: bool) -> list[Any]:
    """A ScalarOutcome per name (the mean over replications when replicated; pass your own
    outcome objects, e.g. ``ScalarOutcome("sd", variable_name="profit_total",
    function=np.std)``, for another reduction), of the kind its declared direction gives
    (``ema_kind``), and a TimeSeriesOutcome per series."""
    import numpy as np
    from ema_workbench import ScalarOutcome, TimeSeriesOutcome

    out = [
        o
        if not isinstance(o, str)
        else ScalarOutcome(o, kind=ema_kind(o), function=np.mean if replicated else None)
        for o in scalars
    ]
    return out + [TimeSeriesOutcome(o) for o in timeseries]  # the workbench gives these no kind


def make_model(
    uncertainties: dict[str, Any],
    *,
    scenario: str | Path = "baseline",
    fixed: dict[str, Any] | None = None,
    outcomes: Sequence[Any] = DEFAULT_OUTCOMES,
    steps: int | None = None,
    seed: int = 0,
    name: str = "demandsim",
    timeseries: tuple[str, ...] | list[str] = (),
    replications: int | list[dict[str, Any]] | None = None,
) -> Any:
    """The demandsim model as an ``ema_workbench.Model``.

    Args:
        uncertainties: dotted scenario field -> ``(lo, hi)`` (ints give an
            IntegerParameter), a list of levels (a CategoricalParameter) or
            ``[True, False]`` (a BooleanParameter).
        scenario: bundled name or path of the base scenario.
        fixed: dotted overrides applied to the base scenario.
        outcomes: scalar summary outcomes to report (a ScalarOutcome each), or the
            workbench's outcome objects themselves.
        steps: horizon (default: the scenario's run.steps).
        seed: the seed of every experiment (common random numbers).
        timeseries: per-step series to report (a TimeSeriesOutcome each).
        replications: a number of replications, or one dict per replication
            (``[{"seed": 1}, {"seed": 2}]``): a ``ReplicatorModel`` then runs each
            experiment once per replication, with that replication's seed; a named
            scalar outcome is then the mean over the replications.

    Raises:
        ScenarioError: a field or value the scenario does not accept.
    """
    from ema_workbench import Model, ReplicatorModel

    from sim.scenario import load_scenario

    sc = load_scenario(scenario, overrides=fixed)
    base = sc.to_dict()
    for dotted, spec in uncertainties.items():  # check the bounds once, with our errors
        values = spec if isinstance(spec, list) else list(spec)
        for v in values:
            load_scenario(scenario, overrides={**(fixed or {}), dotted: v})
    names = {ema_name(d): d for d in uncertainties}
    fn = ScenarioFunction(base, steps or sc.run.steps, seed, names, timeseries)
    model: Any
    if replications is None:
        model = Model(name, function=fn)
    else:
        model = ReplicatorModel(name, function=fn)
        model.replications = replications
    model.uncertainties = [_uncertainty(d, s) for d, s in uncertainties.items()]
    model.outcomes = _outcomes(outcomes, timeseries, replications is not None)
    return model


def model_from_spec(
    spec_path: str | Path, outcomes: tuple[str, ...] | list[str] | None = None
) -> Any:
    """An EMA model with a sweep spec's base scenario, fixed fields, parameters and horizon."""
    from analysis.sweeps.spec import load_spec
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
    from ema_workbench import Model

    base = build_scenario(spec.base).to_dict()
    names = {ema_name(p.name): p.name for p in spec.parameters}
    model = Model("demandsim", function=ScenarioFunction(base, spec.steps, spec.seed, names))
    model.uncertainties = [_uncertainty(d, s, kinds.get(d)) for d, s in uncertainties.items()]
    model.outcomes = _outcomes(outcomes or spec.analyze or DEFAULT_OUTCOMES, (), False)
    return model


def load_results(
    folder: str | Path, outcomes: list[str] | None = None
) -> tuple[Any, dict[str, Any]]:
    """A finished sweep as the workbench's ``(experiments, outcomes)``.

    One experiment per sample row (replications averaged, as they share their
    seeds); experiment columns are the varied fields under their identifier names.
    """
    from analysis.sensitivity.indices import default_outcomes, load_finished, outcome_matrix

    manifest, df = load_finished(folder)
    names = outcomes or default_outcomes(df, manifest)
    y = outcome_matrix(df, manifest, names)
    params = manifest["parameters"]
    experiments = df[df["rep"] == 0].sort_values("row")[params].reset_index(drop=True)
    experiments.columns = [ema_name(p) for p in params]
    return experiments, {name: y[name].to_numpy() for name in names}
