"""A sweep's plan: the sample matrix in the sampler's units, and every (row, replication)
with its run id and task. Nothing runs here."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from analysis.sweeps.spec import (
    SweepSpec,
    canonical_hash,
    run_id,
    run_seed,
)
from sim.errors import InputError


def sample(spec: SweepSpec) -> Any:
    """The sample matrix (rows x parameters, numpy float64) in the sampler's units.

    Grid: every combination (ranges at ``points`` evenly spaced values, levels by
    index). LHS, Sobol (Saltelli's scheme, scrambled) and Morris come from SALib,
    seeded with the spec seed, so the same spec always gives the same matrix.
    """
    import itertools

    import numpy as np

    problem = spec.problem()
    if spec.method == "grid":
        axes = []
        for p in spec.parameters:
            if p.kind == "levels":
                axes.append([float(i) for i in range(len(p.levels))])
            else:
                n = p.points or spec.points
                axis = np.linspace(p.lo, p.hi, n)
                if p.type == "int":
                    axis = np.unique(np.round(axis))
                axes.append([float(v) for v in axis])
        return np.array(list(itertools.product(*axes)), dtype=np.float64)
    if spec.method == "lhs":
        from SALib.sample import latin

        return np.asarray(latin.sample(problem, spec.samples, seed=spec.seed), dtype=np.float64)
    if spec.method == "sobol":
        from SALib.sample import sobol

        return np.asarray(
            sobol.sample(
                problem, spec.samples, calc_second_order=spec.second_order, seed=spec.seed
            ),
            dtype=np.float64,
        )
    from SALib.sample import morris

    return np.asarray(
        morris.sample(problem, spec.samples, num_levels=spec.levels, seed=spec.seed),
        dtype=np.float64,
    )


@dataclasses.dataclass(frozen=True)
class Plan:
    """Every (sample row, replication) of a sweep and the run that answers it."""

    spec: SweepSpec
    matrix: Any  # numpy array, rows x parameters
    points: list[dict[str, Any]]  # per row: parameter name -> scenario value
    seeds: list[int]  # per replication
    rows: list[tuple[int, int, str]]  # (row, rep, run_id), sorted by row then rep
    tasks: dict[str, dict[str, Any]]  # run_id -> task for execute_run (deduplicated)


# The most runs a sweep may plan: the plan is held in memory (a task per run).
MAX_RUNS = 1_000_000


def planned_rows(spec: SweepSpec) -> int:
    """The number of sample rows the spec asks for, computed without sampling."""

    d = len(spec.parameters)
    if spec.method == "grid":
        sizes = []
        for p in spec.parameters:
            sizes.append(len(p.levels) if p.kind == "levels" else (p.points or spec.points))
        return math.prod(sizes)
    if spec.method == "lhs":
        return int(spec.samples)
    if spec.method == "sobol":
        return int(spec.samples) * (2 * d + 2 if spec.second_order else d + 2)
    return int(spec.samples) * (d + 1)


def planned_customers(spec: SweepSpec) -> int:
    """Customers of an average run: the base scenario's, or the mean of a swept
    ``run.customers`` (the middle of its range, the mean of its levels)."""
    for p in spec.parameters:
        if p.name == "run.customers":
            if p.kind == "levels":
                return round(sum(float(v) for v in p.levels) / len(p.levels))
            return round((p.lo + p.hi) / 2)
    return int(spec.base["run"]["customers"])


def check_plan_size(spec: SweepSpec) -> None:
    """Refuse a sweep too large to plan, or (the model's runner) whose work exceeds the
    budget of ``analysis.runs.budget``: computed from the spec, before any sample
    matrix, run id or task is made."""
    _check_runs(spec)
    from analysis.runs.ensemble import DEFAULT_RUNNER, runner_name

    if runner_name(spec.runner) == DEFAULT_RUNNER:
        from analysis.runs.budget import check_work

        runs = planned_rows(spec) * spec.replications
        check_work("sweep", runs, spec.steps, planned_customers(spec))


def _check_runs(spec: SweepSpec) -> None:
    rows = planned_rows(spec)
    runs = rows * spec.replications
    if runs > MAX_RUNS:
        raise InputError(
            f"sampler: {rows:,} sample rows x {spec.replications} replications = {runs:,} runs; "
            f"expected at most {MAX_RUNS:,} (fewer points, samples or replications)"
        )


def resolve_spec_path(spec: str | Path) -> Path:
    """A spec path, or the bundled spec of that name (``small-grid``)."""
    from analysis.sweeps.spec import bundled_spec

    return bundled_spec(spec)


def make_plan(spec: SweepSpec) -> Plan:
    """Sample the spec and give every (row, replication) its run id and task."""
    _check_runs(spec)
    matrix = sample(spec)
    base_hash = canonical_hash(spec.base)
    extra = {"timeseries": list(spec.timeseries), "runner": spec.runner}
    points = [
        {p.name: p.value(x) for p, x in zip(spec.parameters, row, strict=True)}
        for row in matrix.tolist()
    ]
    seeds = [run_seed(spec.seed, r) for r in range(spec.replications)]
    rows: list[tuple[int, int, str]] = []
    tasks: dict[str, dict[str, Any]] = {}
    for i, overrides in enumerate(points):
        for rep, seed in enumerate(seeds):
            rid = run_id(base_hash, overrides, seed, spec.steps, extra)
            rows.append((i, rep, rid))
            if rid not in tasks:
                tasks[rid] = {
                    "run_id": rid,
                    "scenario": spec.base,
                    "overrides": overrides,
                    "seed": seed,
                    "steps": spec.steps,
                    "timeseries": list(spec.timeseries),
                    "runner": spec.runner,
                }
    return Plan(spec, matrix, points, seeds, rows, tasks)
