"""One runner for every replication: scenarios x seeds on any executor.

In the spirit of Agents.jl's ``ensemblerun!``: give it scenarios (a mapping from
a label to a scenario, a name or a TOML path), the seeds and an executor (in this
process, local worker processes, a Dask cluster or any
``concurrent.futures.Executor``); it runs every (scenario, seed) replication,
streams each result as it finishes (``iter_ensemble``), calls ``progress`` once
per finished run, and returns tidy tables (``Ensemble.outcomes()``, one row per
replication; ``Ensemble.timeseries()``, one row per replication and step).

Replication ``i`` of every scenario uses ``seeds[i]`` (common random numbers), and
a replication is a pure function of its scenario, seed and horizon, so results do
not depend on which worker ran what or in which order runs finished.

``scalar_outcomes`` is the one definition of a run's scalar outcomes, used by
``run``, ``compare``, ``sweep`` and the EMA and Mesa adapters.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from sim.scenario import Scenario

# Summary keys that are settings of the run, not outcomes: a table of outcomes
# carries them as its own columns. (``customers`` is the population the model built,
# an outcome a sweep over ``run.customers`` can analyse.)
NOT_OUTCOMES = frozenset({"seed", "steps"})

#: demandsim's own runner: the model itself (``run_model``).
DEFAULT_RUNNER = "analysis.runs.ensemble:run_model"
_TF = "analysis.sensitivity.testfunctions"
#: demandsim's own runners, the only ones a sweep spec may name unless it is trusted: the
#: model, and the known-answer test functions.
TRUSTED_RUNNERS = frozenset(
    {DEFAULT_RUNNER, f"{_TF}:ishigami_runner", f"{_TF}:sobol_g_runner", f"{_TF}:linear_runner"}
)
#: Runner names of earlier releases (their modules have moved), still accepted in specs;
#: a spec keeps the name it gives, so the run ids of its folders do not change.
RENAMED_RUNNERS = {
    "analysis.sweep:run_model": DEFAULT_RUNNER,
    "analysis.sensitivity:ishigami_runner": f"{_TF}:ishigami_runner",
    "analysis.testfunctions:ishigami_runner": f"{_TF}:ishigami_runner",
    "analysis.testfunctions:sobol_g_runner": f"{_TF}:sobol_g_runner",
    "analysis.testfunctions:linear_runner": f"{_TF}:linear_runner",
}


def runner_name(name: str) -> str:
    """The current name of a runner (an earlier release's name mapped to today's)."""
    return RENAMED_RUNNERS.get(name, name)


def run_model(scenario: Any, seed: int, steps: int) -> tuple[dict[str, Any], Any]:
    """The default runner: the demandsim model (summary dict, time-series DataFrame)."""
    from sim import run_scenario

    return run_scenario(scenario, seed=seed, steps=steps)  # type: ignore[no-any-return]


def scalar_outcomes(summary: Mapping[str, Any]) -> dict[str, float]:
    """The scalar outcomes of a run summary, as floats by name.

    Numbers (Python or numpy) become floats, booleans 1.0 / 0.0 (so their mean is
    a share), None becomes NaN. Run settings (``seed``, ``steps``) and nested
    tables are not outcomes.
    """
    out: dict[str, float] = {}
    for key, value in summary.items():
        if key in NOT_OUTCOMES:
            continue
        if value is None:
            out[key] = math.nan
        elif isinstance(value, bool | int | float) or (
            type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0
        ):
            out[key] = float(value)
    return out


def load_runner(name: str) -> Callable[..., Any]:
    """The runner ``module:function`` (``runner(scenario, seed, steps) -> (summary, ts)``)."""
    module, attr = runner_name(name).split(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return fn


def run_replication(task: dict[str, Any]) -> dict[str, Any]:
    """Run one replication task and return its record (raises if the run fails).

    The task holds ``run_id``, ``key``, ``rep``, ``scenario`` (a plain dict),
    ``seed``, ``steps``, ``runner`` and ``timeseries`` (bool). The record holds the
    same identifiers, the full ``summary``, the time series (a DataFrame, or None)
    and ``seconds``.
    """
    from sim.scenario import build_scenario

    t0 = time.perf_counter()
    sc = build_scenario(task["scenario"])
    runner = task.get("runner", DEFAULT_RUNNER)
    on_step = task.get("on_step")
    if on_step is not None and runner_name(runner) == DEFAULT_RUNNER:
        summary, ts = _stepwise(sc, task["seed"], task["steps"], on_step)
    else:
        summary, ts = load_runner(runner)(sc, task["seed"], task["steps"])
    if ts is not None:
        ts = ts.reset_index(drop=True)
        if "step" not in ts.columns:
            ts.insert(0, "step", range(len(ts)))
    return {
        "run_id": task["run_id"],
        "key": task["key"],
        "rep": task["rep"],
        "seed": task["seed"],
        "summary": summary,
        "timeseries": ts if task.get("timeseries", True) else None,
        "seconds": time.perf_counter() - t0,
    }


def _stepwise(
    sc: Scenario, seed: int, steps: int, on_step: Callable[[], None]
) -> tuple[dict[str, Any], Any]:
    """The default runner, one step at a time, calling ``on_step`` after each (in-process
    progress of long runs; the same numbers as ``sim.run_scenario``)."""
    from sim.model import DemandModel

    model = DemandModel(sc, rng=seed)
    for _ in range(steps):
        model.step()
        on_step()
    return model.summary(), model.datacollector.get_model_vars_dataframe()


@dataclass
class Ensemble:
    """The results of one ensemble, in (scenario, seed) order whatever finished first."""

    keys: list[str]
    seeds: list[int]
    steps: dict[str, int]
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def summaries(self, key: str) -> list[dict[str, Any]]:
        """The run summaries of scenario ``key``, one per seed."""
        return [r["summary"] for r in self.records[key]]

    def series(self, key: str) -> list[pd.DataFrame]:
        """The time series of scenario ``key``, one per seed."""
        return [r["timeseries"] for r in self.records[key]]

    def outcomes(self) -> pd.DataFrame:
        """One row per replication: ``scenario``, ``rep``, ``seed``, ``steps`` and
        every scalar outcome."""
        import pandas as pd

        rows = [
            {
                "scenario": key,
                "rep": r["rep"],
                "seed": r["seed"],
                "steps": self.steps[key],
                **scalar_outcomes(r["summary"]),
            }
            for key in self.keys
            for r in self.records[key]
        ]
        return pd.DataFrame(rows)

    def timeseries(self) -> pd.DataFrame:
        """One row per replication and step: ``scenario``, ``rep``, ``seed``, the columns."""
        import pandas as pd

        frames = []
        for key in self.keys:
            for r in self.records[key]:
                ts = r["timeseries"]
                if ts is None:
                    continue
                frames.append(
                    ts.assign(scenario=key, rep=r["rep"], seed=r["seed"])[
                        ["scenario", "rep", "seed", *ts.columns]
                    ]
                )
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _scenarios(scenarios: Any) -> dict[str, Scenario]:
    from sim.scenario import Scenario, load_scenario

    if isinstance(scenarios, Scenario | str | Path):
        scenarios = [scenarios]
    if not isinstance(scenarios, Mapping):
        items: dict[str, Any] = {}
        for sc in scenarios:
            label = sc.run.name if isinstance(sc, Scenario) else str(sc)
            if label in items:
                label = f"{label} ({len(items)})"
            items[label] = sc
        scenarios = items
    return {
        str(k): v if isinstance(v, Scenario) else load_scenario(v) for k, v in scenarios.items()
    }


def plan_tasks(
    scenarios: Any,
    seeds: Sequence[int],
    steps: int | Mapping[str, int] | None = None,
    *,
    timeseries: bool = True,
    runner: str = DEFAULT_RUNNER,
    on_step: Callable[[], None] | None = None,
) -> tuple[dict[str, Scenario], dict[str, int], list[dict[str, Any]]]:
    """The scenarios by label, the horizon of each, and one task per (scenario, seed)
    (``on_step``, called after every step, only for runs in this process)."""
    scs = _scenarios(scenarios)
    horizons = {
        k: int(
            steps[k] if isinstance(steps, Mapping) else (sc.run.steps if steps is None else steps)
        )
        for k, sc in scs.items()
    }
    tasks = []
    for key, sc in scs.items():
        plain = sc.to_dict()
        for rep, seed in enumerate(seeds):
            tasks.append(
                {
                    "run_id": f"{key}#{rep}",
                    "key": key,
                    "rep": rep,
                    "scenario": plain,
                    "seed": int(seed),
                    "steps": horizons[key],
                    "runner": runner,
                    "timeseries": timeseries,
                    **({"on_step": on_step} if on_step is not None else {}),
                }
            )
    return scs, horizons, tasks


def iter_ensemble(
    tasks: list[dict[str, Any]],
    executor: Any = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield each replication's record as soon as it finishes (any order).

    Args:
        tasks: from ``plan_tasks``.
        executor: see ``analysis.runs.executors.resolve_executor``.
        progress: called with each record as it arrives.
    """
    from analysis.runs.executors import resolve_executor

    ex, owned = resolve_executor(executor)
    try:
        for record in ex.run(run_replication, tasks):
            if progress is not None:
                progress(record)
            yield record
    finally:
        if owned:
            ex.close()


def ensemble_run(
    scenarios: Any,
    seeds: Sequence[int],
    *,
    steps: int | Mapping[str, int] | None = None,
    executor: Any = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    timeseries: bool = True,
    runner: str = DEFAULT_RUNNER,
    step_progress: Callable[[], None] | None = None,
) -> Ensemble:
    """Run every scenario with every seed and collect the results.

    Args:
        scenarios: a mapping label -> scenario (a ``Scenario``, a bundled name or a
            TOML path), or a list of them (labelled by their names), or one.
        seeds: replication ``i`` of every scenario runs with ``seeds[i]``.
        steps: the horizon (one for all, one per label, or each scenario's own).
        executor: None or 1 (this process), a number of local worker processes, a
            ``concurrent.futures.Executor`` or a ``distributed.Client``.
        progress: called with each finished replication's record, as it finishes.
        timeseries: keep each run's per-step table.
        runner: ``module:function`` running one replication (demandsim's model).
        step_progress: called after every step of every run, when the runs are in this
            process (``executor`` None or 1); long single runs show progress this way.

    Returns:
        The ``Ensemble``, its records in scenario then seed order.
    """
    inline = executor is None or (isinstance(executor, int) and executor == 1)
    scs, horizons, tasks = plan_tasks(
        scenarios,
        seeds,
        steps,
        timeseries=timeseries,
        runner=runner,
        on_step=step_progress if inline else None,
    )
    slots: dict[str, list[Any]] = {k: [None] * len(seeds) for k in scs}
    for record in iter_ensemble(tasks, executor, progress):
        slots[record["key"]][record["rep"]] = record
    return Ensemble(keys=list(scs), seeds=[int(s) for s in seeds], steps=horizons, records=slots)
