"""Calibration: fit a scenario's fields to a market's observed series.

The observed file (CSV or Parquet) has one row per period: a ``step`` column
(consecutive integers, step 0 is the model's starting market) and one or more
observed series: ``adopters`` (the focal firm's customers, cumulative),
``sales`` (new adopters in the period: the difference of ``adopters``), or any
other time-series column the model writes (``market_share``, ``share_focal``,
``demand_core_standard`` ...: by firm and by cell). ``read_observed`` refuses gaps,
negative or missing values and unknown columns with one line.

A calibration spec is a small TOML file, like a sweep's::

    replications = 4      # seeds per candidate (the same for every candidate)
    seed = 1
    trials = 40           # candidates evaluated (a rerun on the same folder continues)
    confidence = 0.9      # level of the per-field intervals
    sampler = "random"    # "random" (ABC rejection) or "tpe" (Bayesian optimisation)
    refine = 30           # extra candidates drawn around the good fits after the search
    [set]                 # fixed overrides
    "run.customers" = 2000
    [parameters]          # the fields to fit, with ranges inside the schema's bounds
    "focal.platform.density" = { range = [0.002, 0.1] }
    "wom.q" = { range = [0.02, 0.6] }

Stage 1 fits the Bass curve to the observed adopters by least squares, or, when
the file has the adopters of two generations or more of a product line
(``adopters_<category>`` columns, written for categories that supersede another),
the Norton-Bass (1987) curves; it maps p and q to ``focal.platform.density`` and
``wom.q`` (``analysis.fit.diffusion``, per week whatever the step): it is the first
candidate when those fields are fitted. Stage 2 searches the fields with
optuna (random sampling from the ranges, or TPE), each candidate run on the same seeds through the ensemble runner;
its distance is the scaled RMS gap between the observed series and the mean of
the simulated ones. The study lives in ``OUT/study.db`` (SQLite): a rerun continues,
and a calibration stopped (even killed) and run again writes what one never stopped
would have (candidate k of the search is proposed by a sampler seeded from (seed, k);
a refining round draws its points from the candidates finished before it).

Good fits are an ABC acceptance region (``analysis.fit.tolerance``): the candidates
whose distance is within ``eps``, the ``confidence`` quantile of how far fresh
markets at the best fit, measured with an observation noise estimated from the
data's residual scatter, fall from the best fit's mean. Each field's interval is the
range of its good fits; ``Calibration.accepted`` says how many it rests on, and too
few are warned about in one line. Each candidate keeps its mean curve (and a
refining one the box it was drawn from) in the study, so other posteriors can be
computed from it (``benchmarks/calibration_likelihood.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from analysis.fit.calibration_spec import CalibrationSpec
from analysis.fit.frontier import suggest
from analysis.fit.tolerance import (
    estimate_noise,
    noise_draws,
    noisy_distances,
    too_few_warning,
)
from analysis.sweeps.spec import (
    canonical_hash,
    run_seed,
)
from sim.calendar import Clock
from sim.market import compile_market
from sim.scenario import build_scenario

# Fresh replications at the best fit that set the acceptance distance and the band.
CHECK_REPS = 12


# Rounds of refinement: each draws around the good fits the rounds before found.
REFINE_ROUNDS = 3


# --------------------------------------------------------------------------- observed


# --------------------------------------------------------------------------- distance


def simulated(ts: Any, columns: list[str]) -> np.ndarray:
    """The simulated counterpart of each observed column, shape (columns, steps + 1)."""
    out = []
    for c in columns:
        if c == "sales":
            a = ts["adopters"].to_numpy(dtype=float)
            out.append(np.concatenate([[np.nan], np.diff(a)]))
        else:
            out.append(ts[c].to_numpy(dtype=float))
    return np.array(out)


def distance(obs: np.ndarray, sim: np.ndarray, scale: np.ndarray) -> float:
    """Scaled RMS gap between observed and simulated (NaN entries skipped)."""
    z = (obs - sim) / scale[:, None]
    return float(np.sqrt(np.nanmean(z**2)))


@dataclasses.dataclass
class Calibration:
    """The outcome: every trial, the best fit, intervals, the band and the Bass start."""

    spec: CalibrationSpec
    observed: Any
    columns: list[str]
    trials: Any  # DataFrame: trial, the fields, distance, phase, good
    best: dict[str, Any]
    eps: float
    intervals: Any  # DataFrame: field, best, lo, hi, accepted
    band: dict[str, np.ndarray]  # column -> (mean, lo, hi) arrays of shape (3, T)
    start: dict[str, Any]
    noise: float  # the observation noise estimated (coefficient of variation)
    accepted: int  # good fits the intervals rest on
    warning: str | None  # one line when they are too few
    fresh: np.ndarray  # fresh runs at the best fit (reps, columns, T): the model's noise


def _introduced(sc: Any, clock: Clock, category: str) -> int:
    """The step before a category is first on sale (Norton-Bass tau: its first
    adopters come a step later, as a market's first do at step 1)."""
    on_sale = [
        clock.date(p.launch_week) for f in sc.firms for p in f.products if p.category == category
    ] + [
        clock.date(e.week)
        for f in sc.firms
        for e in f.events
        if e.kind == "launch" and e.category == category
    ]
    return max(min(on_sale, default=0) - 1, 0)


def generations_start(observed: Any, sc: Any) -> dict[str, Any]:
    """Stage 1 for successive generations: the Norton-Bass fit of the observed
    adopters of each generation (``adopters_<category>`` columns) of scenario ``sc``,
    mapped; {} unless the data have two generations or more."""
    from analysis.fit.diffusion import fit_norton_bass

    market = compile_market(sc)
    chain = [market.category_names[c] for c in market.generations]
    gens = [c for c in chain if f"adopters_{c}" in observed]
    if len(gens) < 2 or observed["step"].iloc[0] != 0:
        return {}
    y = np.array([observed[f"adopters_{c}"].to_numpy(dtype=float) for c in gens])
    tau = [_introduced(sc, market.clock, c) for c in gens]
    fit = fit_norton_bass(observed["step"].to_numpy(dtype=float), y, tau, discrete=True)
    return {
        "curve": "norton-bass",
        "generations": gens,
        "tau": tau,
        "p": fit.p,
        "q": fit.q,
        "m": list(fit.m),
        "rmse": fit.rmse,
        "mapped": fit.overrides(sc.run.steps_per_year),
    }


def bass_start(observed: Any, spec: CalibrationSpec) -> dict[str, Any]:
    """Stage 1: the Norton-Bass fit of the observed generations, or else the Bass fit
    of the observed adopters (or cumulated sales), mapped to the model's fields
    (which are per week: ``sim.calendar``)."""
    from analysis.fit.diffusion import fit_bass

    sc = build_scenario(spec.base, {})
    start = generations_start(observed, sc)
    if start:
        return {**start, "enqueued": _enqueued(start["mapped"], spec)}
    if "adopters" in observed:
        y = observed["adopters"].to_numpy(dtype=float)
    elif "sales" in observed:
        y = np.cumsum(np.nan_to_num(observed["sales"].to_numpy(dtype=float)))
    else:
        return {}
    if observed["step"].iloc[0] != 0 or y.max() <= 0:
        return {}
    fit = fit_bass(y)
    mapped = fit.overrides(sc.run.steps_per_year)
    return {
        "curve": "bass",
        "p": fit.p,
        "q": fit.q,
        "m": fit.m,
        "rmse": fit.rmse,
        "mapped": mapped,
        "enqueued": _enqueued(mapped, spec),
    }


def _enqueued(mapped: dict[str, float], spec: CalibrationSpec) -> dict[str, float]:
    """The mapped fields the search fits, inside their ranges: its first candidate."""
    names = {p.name: p for p in spec.parameters}
    return {
        k: float(np.clip(v, names[k].lo, names[k].hi))
        for k, v in mapped.items()
        if k in names and names[k].kind == "range"
    }


def study_name(spec: CalibrationSpec, observed: Any) -> str:
    """A study per spec and data: a rerun with the same ones (any ``trials``) continues it."""
    data = hashlib.sha256(observed.to_csv(index=False).encode()).hexdigest()
    # trials is left out: raising it on a rerun continues the same study
    source = {k: v for k, v in spec.source.items() if k not in ("trials", "refine")}
    return "calibration-" + canonical_hash({"spec": source, "base": spec.base, "data": data})[:16]


def refine_box(
    trials: Any, good: Any, best: dict[str, Any], spec: CalibrationSpec
) -> dict[str, tuple[float, float]]:
    """The box a refining round draws from: around the best fit, twice the spread of
    the good fits (at least 5% of each range), inside the ranges."""
    box = {}
    for p in spec.parameters:
        if p.kind != "range":
            continue
        spread = float((trials.loc[good, p.name] - best[p.name]).abs().max()) if good.any() else 0.0
        half = max(2 * spread, 0.05 * (p.hi - p.lo))
        box[p.name] = (max(p.lo, best[p.name] - half), min(p.hi, best[p.name] + half))
    return box


def refine_points(
    box: dict[str, tuple[float, float]],
    best: dict[str, Any],
    spec: CalibrationSpec,
    n: int,
    rnd: int,
) -> list[dict[str, Any]]:
    """``n`` candidates drawn uniformly in ``box`` (round ``rnd``), the other fields
    at the best fit."""
    rng = np.random.default_rng([spec.seed, rnd])
    out = []
    for _ in range(n):
        values = dict(best)
        for name, (lo, hi) in box.items():
            v = float(rng.uniform(lo, hi))
            values[name] = int(round(v)) if isinstance(best[name], int) else v
        out.append(values)
    return out


def as_json_curve(curve: np.ndarray) -> list[list[float | None]]:
    """A (columns, T) curve as JSON-safe lists (NaN as None), for a trial's attributes."""
    return [[None if not np.isfinite(x) else float(x) for x in row] for row in curve]


def calibrate(
    spec: CalibrationSpec,
    observed: Any,
    storage: Path,
    *,
    executor: Any = None,
    progress: Callable[[int, int, float, float], None] | None = None,
) -> Calibration:
    """Run (or continue) the calibration; the optuna study is kept in ``storage`` (SQLite).

    Args:
        progress: called after each new trial with (done, total, its distance, best).
    """
    import optuna
    import pandas as pd

    from analysis.runs.ensemble import ensemble_run

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    columns = [c for c in observed.columns if c != "step"]
    steps = int(observed["step"].iloc[-1])
    first = int(observed["step"].iloc[0])
    obs = observed[columns].to_numpy(dtype=float).T
    scale = np.maximum(np.nanmax(np.abs(obs), axis=1), 1e-9)
    seeds = spec.seeds
    start = bass_start(observed, spec)

    def curves(values: dict[str, Any], run_seeds: list[int]) -> np.ndarray:
        sc = build_scenario(spec.base, values)
        ens = ensemble_run({"fit": sc}, run_seeds, steps=steps, executor=executor)
        return np.array([simulated(ts, columns)[:, first:] for ts in ens.series("fit")])

    study = optuna.create_study(
        study_name=study_name(spec, observed),
        storage=f"sqlite:///{storage}",
        direction="minimize",
        load_if_exists=True,
    )
    state = optuna.trial.TrialState
    # a candidate a killed run left running is given up (it is proposed again)
    for t in study.get_trials(deepcopy=False, states=(state.RUNNING,)):
        study.tell(t.number, state=state.FAIL)

    def finished(phase: str | None = None) -> list[Any]:
        """The completed candidates in the order they finished (of one phase)."""
        done = study.get_trials(deepcopy=False, states=(state.COMPLETE,))
        return [t for t in done if phase in (None, t.user_attrs.get("phase", "search"))]

    total = spec.trials + spec.refine

    def run_one(sampler: Any, phase: str, attrs: dict[str, Any] | None = None) -> None:
        """One more candidate, proposed by ``sampler``; its mean curve is kept with it
        (other posteriors can read it), with ``attrs``."""

        def objective(trial: Any) -> float:
            trial.set_user_attr("phase", phase)
            for k, v in (attrs or {}).items():
                trial.set_user_attr(k, v)
            values = {p.name: suggest(trial, p) for p in spec.parameters}
            mean = curves(values, seeds).mean(axis=0)
            trial.set_user_attr("mean", as_json_curve(mean))
            d = distance(obs, mean, scale)
            if progress is not None:
                done = finished()
                progress(len(done) + 1, total, d, min([d, *(t.value for t in done)]))
            return d

        study.sampler = sampler
        study.optimize(objective, n_trials=1)

    def fixed(values: dict[str, Any], base: Any) -> Any:
        """A sampler that proposes ``values`` (optuna marks it experimental; the warning
        would reach the user's terminal)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.PartialFixedSampler(values, base)

    # candidate k of the search is proposed by a sampler seeded from (seed, k), the
    # first one at the closed form's fit: what it proposes depends only on the
    # candidates finished before it, so a search that was stopped and run again
    # proposes what one never stopped would have
    while (k := len(finished("search"))) < spec.trials:
        seed = int(np.random.SeedSequence([spec.seed, k]).generate_state(1)[0])
        sampler: Any = (
            optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, spec.trials))
            if spec.sampler == "tpe"
            else optuna.samplers.RandomSampler(seed=seed)
        )
        if k == 0 and start.get("enqueued"):
            sampler = fixed(start["enqueued"], sampler)
        run_one(sampler, "search")

    def table(done: list[Any]) -> Any:
        """The candidates as rows, numbered in the order they finished."""
        return pd.DataFrame(
            [
                {
                    "trial": i,
                    **t.params,
                    "distance": t.value,
                    "phase": t.user_attrs.get("phase", "search"),
                }
                for i, t in enumerate(done)
            ]
        )

    checked: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, float, float]] = {}
    n_fitted = sum(p.kind == "range" for p in spec.parameters)
    n_observed = int(np.isfinite(obs).sum())

    def acceptance(done: list[Any]) -> tuple[dict[str, Any], np.ndarray, np.ndarray, float, float]:
        """The best of ``done``, its mean, fresh markets at it, the acceptance distance
        and the observation noise (computed once per best fit)."""
        top = min(done, key=lambda t: t.value)  # the first of equals
        best = dict(top.params)
        key = tuple(sorted(best.items()))
        if key not in checked:
            mean_best = curves(best, seeds).mean(axis=0)
            fresh_seeds = [run_seed(spec.seed + 1, 1000 + k) for k in range(CHECK_REPS)]
            fresh = curves(best, fresh_seeds)
            z = noise_draws(spec.seed, CHECK_REPS, fresh.shape[1:])

            def gap(a: np.ndarray, b: np.ndarray) -> float:
                return distance(a, b, scale)

            sigma = estimate_noise(
                fresh, mean_best, columns, float(top.value), n_fitted, n_observed, z, gap
            )
            d = noisy_distances(fresh, mean_best, columns, sigma, z, gap)
            checked[key] = (mean_best, fresh, float(np.quantile(d, spec.confidence)), sigma)
        return (best, *checked[key])

    # refine: fill the neighbourhood of the good fits, so that their range (the
    # interval) is not set by the few points the search happened to try there. Round
    # r draws its points from the candidates finished before it (the search and the
    # rounds before; refining candidates belong to rounds in the order they finished),
    # so a stopped round draws the same points again and runs the ones not done; each
    # keeps its round's box
    per_round = -(-spec.refine // REFINE_ROUNDS)
    every_field_fixed = optuna.samplers.RandomSampler(seed=spec.seed)  # proposes nothing
    for rnd in range(REFINE_ROUNDS):
        lo, hi = min(spec.refine, rnd * per_round), min(spec.refine, (rnd + 1) * per_round)
        done_refine = finished("refine")
        if hi <= lo or len(done_refine) >= hi:
            continue
        before = sorted(finished("search") + done_refine[:lo], key=lambda t: t.number)
        trials = table(before)
        best, _, _, eps, _ = acceptance(before)
        box = refine_box(trials, trials["distance"] <= eps, best, spec)
        attrs = {"round": rnd, "box": {k: list(v) for k, v in box.items()}}
        for values in refine_points(box, best, spec, hi - lo, rnd)[len(done_refine) - lo :]:
            run_one(fixed(values, every_field_fixed), "refine", attrs)
    done = finished()
    trials = table(done)
    best, mean_best, fresh, eps, sigma = acceptance(done)
    trials["good"] = trials["distance"] <= eps
    good = trials[trials["good"]] if trials["good"].any() else trials.nsmallest(1, "distance")
    rows = []
    for p in spec.parameters:
        if p.kind == "levels":
            rows.append({"field": p.name, "best": best[p.name], "lo": None, "hi": None})
            continue
        rows.append(
            {
                "field": p.name,
                "best": best[p.name],
                "lo": float(good[p.name].min()),
                "hi": float(good[p.name].max()),
            }
        )
    intervals = pd.DataFrame(rows)
    intervals["accepted"] = len(good)
    lo_q, hi_q = (1 - spec.confidence) / 2, (1 + spec.confidence) / 2
    with warnings.catch_warnings():  # a step no fresh run measured has no band (NaN)
        warnings.simplefilter("ignore", RuntimeWarning)
        band = {
            c: np.array(
                [
                    mean_best[i],
                    np.nanquantile(fresh[:, i], lo_q, axis=0),
                    np.nanquantile(fresh[:, i], hi_q, axis=0),
                ]
            )
            for i, c in enumerate(columns)
        }
    return Calibration(
        spec=spec,
        observed=observed,
        columns=columns,
        trials=trials,
        best=best,
        eps=eps,
        intervals=intervals,
        band=band,
        start=start,
        noise=sigma,
        accepted=int(trials["good"].sum()),
        warning=too_few_warning(int(trials["good"].sum()), spec.confidence),
        fresh=fresh,
    )


# --------------------------------------------------------------------------- output
