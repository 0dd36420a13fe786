"""The cost of a sigma level: a multi-objective search over platform and chain fields.

A frontier spec is a small TOML file, like a sweep's::

    scenario = "six-sigma-platform"   # bundled name, or a path relative to the spec
    steps = 104                       # horizon (default: the scenario's run.steps)
    replications = 2                  # the same seeds for every candidate (CRN)
    seed = 1                          # seeds the search and the runs
    trials = 40                       # candidates evaluated
    population = 10                   # NSGA-II population size
    levels = [3, 4, 5, 6]             # sigma levels whose cheapest setting is reported
    confidence = 0.95                 # a level counts as reached when the one-sided
                                      # lower bound of the sigma level reaches it
                                      # (default 0.95, as everywhere else)

    [set]                             # fixed overrides of the scenario
    "run.customers" = 2000

    [parameters]                      # platform and chain fields, with ranges
    "focal.platform.density" = { range = [0.05, 0.3] }
    "focal.platform.targeting" = { levels = ["homogeneous", "personalized"] }

Every candidate runs with the same seeds (common random numbers) through the
ensemble runner. Its sigma level pools the defects and opportunities of all its
replications; its cost and profit are the means of ``contact_cost_total`` and
``profit_total``. optuna's NSGA-II minimises cost and maximises sigma; the Pareto
set is computed from every evaluated candidate (``pareto_mask``). The cheapest
setting per level is the cheapest candidate whose sigma lower bound (a
Clopper–Pearson bound on the pooled defect rate) reaches the level, so that a
setting reported for 4σ is not one that reached it by luck of the seeds.

The study can live in SQLite (``demandsim frontier`` keeps it in ``OUT/study.db``):
a run that was stopped, even killed mid-candidate, continues on a rerun with the
candidates it had finished. Candidate k is proposed by a sampler seeded from (seed,
k) on the candidates finished before it, so a resumed search proposes, and writes,
exactly what an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from analysis.sweeps.spec import (
    Parameter,
    SweepSpecError,
    canonical_hash,
    field_error,
    field_types,
    int_field,
    load_base,
    parse_parameter,
    read_spec_toml,
    run_seed,
)
from sim.errors import InputError
from sim.scenario import ScenarioError, build_scenario

# Fields a frontier may vary: the focal firm's (or a competitor's) platform and chain.
SEARCHABLE = ("platform", "chain")
# What ``pooled_sigma`` measures of a candidate, in the tables' column order.
MEASURES = ("cost", "sigma", "sigma_lower", "profit", "dpmo", "defects", "opportunities")


class FrontierSpecError(SweepSpecError):
    """A frontier spec that cannot be used, in one line."""


@dataclasses.dataclass(frozen=True)
class FrontierSpec:
    """A validated frontier spec."""

    scenario: str
    base: dict[str, Any]
    steps: int
    replications: int
    seed: int
    trials: int
    population: int
    levels: tuple[float, ...]
    confidence: float
    fixed: dict[str, Any]
    parameters: tuple[Parameter, ...]
    source: dict[str, Any]

    @property
    def seeds(self) -> list[int]:
        """The seeds every candidate runs with (common random numbers)."""
        return [run_seed(self.seed, r) for r in range(self.replications)]


def _float(data: dict[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo < value < hi:
        raise field_error(key, value, f"a number in ({lo}, {hi})")
    return float(value)


def load_frontier_spec(path: str | Path) -> FrontierSpec:
    """Read and validate a frontier spec (TOML).

    Raises:
        FrontierSpecError: one line naming the field, the value and what is allowed.
    """
    path = Path(path)
    data = read_spec_toml(path, "frontier spec", FrontierSpecError)
    return parse_frontier_spec(data, path.parent)


def parse_frontier_spec(
    data: dict[str, Any], root: str | Path = ".", scenario: str | None = None
) -> FrontierSpec:
    """Validate plain frontier-spec data (``scenario``, when given, replaces the spec's)."""
    allowed = {
        "scenario",
        "steps",
        "replications",
        "seed",
        "trials",
        "population",
        "levels",
        "confidence",
        "set",
        "parameters",
    }
    for key in data:
        if key not in allowed:
            raise FrontierSpecError(f"{key}: unknown field; allowed: {', '.join(sorted(allowed))}")
    name, base_sc, fixed = load_base(data, root, "six-sigma-platform", scenario)
    base = base_sc.to_dict()
    steps = int_field(data, "steps", base_sc.run.steps, 1, 1_000_000)
    replications = int_field(data, "replications", 2, 1, 10_000)
    seed = int_field(data, "seed", 0, 0, 2**63 - 1)
    trials = int_field(data, "trials", 40, 2, 100_000)
    population = int_field(data, "population", min(10, trials), 2, 10_000)
    if population > trials:
        # NSGA-II breeds only after a whole first generation: fewer trials never evolve
        raise field_error("population", population, f"at most trials ({trials})")
    # the one-sided 95% of every other sigma bound (docs/model.md §7.15) unless chosen
    confidence = _float(data, "confidence", 0.95, 0.5, 1.0)
    levels = data.get("levels", [3, 4, 5, 6])
    if (
        not isinstance(levels, list)
        or not levels
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels)
        or not all(0 < v <= 7.5 for v in levels)
    ):
        raise field_error("levels", levels, "a non-empty list of sigma levels in (0, 7.5]")
    params_raw = data.get("parameters", {})
    if not isinstance(params_raw, dict) or not params_raw:
        raise field_error(
            "parameters",
            params_raw,
            'a table of platform or chain fields, e.g. "focal.platform.density" = '
            "{ range = [0.05, 0.3] }",
        )
    fields = field_types()
    params = []
    for pname, raw in params_raw.items():
        parts = pname.split(".")
        if len(parts) < 3 or not any(part in SEARCHABLE for part in parts[1:-1]):
            raise FrontierSpecError(
                f"parameters.{pname}: not a platform or chain field; expected e.g. "
                "focal.platform.density or focal.chain.channel"
            )
        if pname in fixed:
            raise FrontierSpecError(
                f"parameters.{pname}: also fixed in [set]; search it or fix it, not both"
            )
        params.append(parse_parameter(pname, raw, base, fields))
    return FrontierSpec(
        scenario=name,
        base=base,
        steps=steps,
        replications=replications,
        seed=seed,
        trials=trials,
        population=population,
        levels=tuple(float(v) for v in sorted(set(levels))),
        confidence=confidence,
        fixed=dict(fixed),
        parameters=tuple(params),
        source=data,
    )


# --------------------------------------------------------------------------- measures


def pooled_sigma(summaries: Sequence[dict[str, Any]], confidence: float) -> dict[str, float]:
    """Sigma level of replications pooled (their defects over their opportunities;
    NaN with no defect), with its one-sided lower bound at ``confidence``
    (``sim.sixsigma.sigma_lower``), and the mean cost and profit."""
    import numpy as np

    from sim.sixsigma import dpmo, sigma_lower, sigma_point

    d = float(sum(s["defects"] for s in summaries))
    o = float(sum(s["opportunities"] for s in summaries))
    d_ppm = dpmo(d, o)
    return {
        "cost": float(np.mean([s["contact_cost_total"] for s in summaries])),
        "sigma": sigma_point(d, o),
        "sigma_lower": sigma_lower(d, o, confidence),
        "profit": float(np.mean([s["profit_total"] for s in summaries])),
        "dpmo": d_ppm,
        "defects": d,
        "opportunities": o,
    }


def searched_sigma(sigma: float, lower: float) -> float:
    """The level the search maximises: the pooled point estimate, or with no defect at
    all the lower bound (what zero defects support), 0 when neither is finite."""
    for v in (sigma, lower) if sigma == sigma else (lower,):
        if math.isfinite(v):
            return float(v)
    return 0.0


def pareto_mask(cost: Sequence[float], sigma: Sequence[float]) -> list[bool]:
    """True for each point no other point dominates (cost no higher and sigma no lower,
    one of them strictly). Points with a missing value are never on the frontier."""
    n = len(cost)
    out = []
    for i in range(n):
        ci, si = cost[i], sigma[i]
        if not (math.isfinite(ci) and math.isfinite(si)):
            out.append(False)
            continue
        dominated = any(
            cost[j] <= ci and sigma[j] >= si and (cost[j] < ci or sigma[j] > si)
            for j in range(n)
            if j != i and math.isfinite(cost[j]) and math.isfinite(sigma[j])
        )
        out.append(not dominated)
    return out


# --------------------------------------------------------------------------- search


@dataclasses.dataclass
class Frontier:
    """Every evaluated candidate (``table``), its Pareto flag and the cheapest per level."""

    spec: FrontierSpec
    table: Any  # pandas DataFrame: trial, the parameters, cost, sigma, ..., pareto
    cheapest: Any  # pandas DataFrame: level, trial, the parameters, cost, sigma, profit

    def overrides(self, trial: int) -> dict[str, Any]:
        """The parameter values of candidate ``trial``."""
        row = self.table.set_index("trial").loc[trial]
        return {p.name: _plain(row[p.name], p) for p in self.spec.parameters}


def _plain(value: Any, p: Parameter) -> Any:
    if p.kind == "levels":
        return next(v for v in p.levels if str(v) == str(value))
    return int(value) if p.type == "int" else float(value)


def suggest(trial: Any, p: Parameter) -> Any:
    """The value of ``p`` an optuna trial proposes (a level, an integer or a float)."""
    if p.kind == "levels":
        return trial.suggest_categorical(p.name, list(p.levels))
    if p.type == "int":
        return trial.suggest_int(p.name, int(p.lo), int(p.hi))
    return trial.suggest_float(p.name, p.lo, p.hi)


def study_name(spec: FrontierSpec) -> str:
    """A study per spec: a rerun of the same spec (any ``trials``) continues it."""
    source = {k: v for k, v in spec.source.items() if k != "trials"}
    return "frontier-" + canonical_hash({"spec": source, "base": spec.base})[:16]


def candidate_sampler(spec: FrontierSpec, k: int) -> Any:
    """The NSGA-II sampler that proposes candidate ``k``: seeded from (seed, k), so
    what it proposes depends only on the candidates finished before it."""
    import numpy as np
    import optuna

    seed = int(np.random.SeedSequence([spec.seed, k]).generate_state(1)[0])
    return optuna.samplers.NSGAIISampler(population_size=spec.population, seed=seed)


def run_frontier(
    spec: FrontierSpec,
    *,
    executor: Any = None,
    progress: Callable[[int, int, dict[str, float]], None] | None = None,
    storage: str | Path | None = None,
) -> Frontier:
    """Search (or continue searching) the frontier of ``spec`` with optuna's NSGA-II.

    Args:
        spec: the validated spec.
        executor: where each candidate's replications run (see ``ensemble_run``).
        progress: called after each candidate with (done, total, its measures).
        storage: an SQLite file that keeps the study, so that a rerun continues it
            (None: in memory).
    """
    import optuna
    import pandas as pd

    from analysis.runs.ensemble import ensemble_run

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name(spec),
        storage=None if storage is None else f"sqlite:///{storage}",
        directions=["minimize", "maximize"],
        load_if_exists=True,
    )
    state = optuna.trial.TrialState
    # a candidate a killed run left running is given up (it is proposed again)
    for t in study.get_trials(deepcopy=False, states=(state.RUNNING,)):
        study.tell(t.number, state=state.FAIL)
    seeds = spec.seeds

    def finished() -> list[Any]:
        return study.get_trials(deepcopy=False, states=(state.COMPLETE,))

    def objective(trial: Any) -> tuple[float, float]:
        values = {p.name: suggest(trial, p) for p in spec.parameters}
        try:
            sc = build_scenario(spec.base, values)
        except ScenarioError as exc:  # a combination the scenario's cross-checks refuse
            raise InputError(f"frontier candidate {values}: {exc}") from None
        ens = ensemble_run(
            {"candidate": sc}, seeds, steps=spec.steps, executor=executor, timeseries=False
        )
        m = pooled_sigma(ens.summaries("candidate"), spec.confidence)
        for key, value in m.items():
            trial.set_user_attr(key, value)
        if progress is not None:
            progress(len(finished()) + 1, spec.trials, m)
        return m["cost"], searched_sigma(m["sigma"], m["sigma_lower"])

    while (k := len(finished())) < spec.trials:
        study.sampler = candidate_sampler(spec, k)
        study.optimize(objective, n_trials=1)
    # candidates numbered in the order they finished: the same whether the search
    # ran at once or was resumed
    rows = [
        {
            "trial": i,
            **{p.name: t.params[p.name] for p in spec.parameters},
            **{k: t.user_attrs[k] for k in MEASURES},
        }
        for i, t in enumerate(finished()[: spec.trials])
    ]
    table = pd.DataFrame(rows)
    searched = [
        searched_sigma(a, b) for a, b in zip(table["sigma"], table["sigma_lower"], strict=True)
    ]
    table["pareto"] = pareto_mask(list(table["cost"]), searched)
    return Frontier(spec=spec, table=table, cheapest=cheapest_per_level(table, spec))


def cheapest_per_level(table: Any, spec: FrontierSpec) -> Any:
    """The cheapest candidate whose sigma lower bound reaches each level (NaN: none did)."""
    import pandas as pd

    names = [p.name for p in spec.parameters]
    rows = []
    for level in spec.levels:
        ok = table[table["sigma_lower"] >= level]
        if ok.empty:
            rows.append({"level": level, "trial": None, **dict.fromkeys(names), "cost": math.nan})
            continue
        best = ok.sort_values(["cost", "sigma"], ascending=[True, False]).iloc[0]
        rows.append(
            {
                "level": level,
                "trial": int(best["trial"]),
                **{n: best[n] for n in names},
                "cost": best["cost"],
                "sigma": best["sigma"],
                "sigma_lower": best["sigma_lower"],
                "profit": best["profit"],
            }
        )
    out = pd.DataFrame(rows)
    out["trial"] = out["trial"].astype("Int64")  # a level no candidate reached has none
    return out


# --------------------------------------------------------------------------- output
