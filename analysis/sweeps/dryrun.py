"""What a sweep spec means before it runs: ``sweep --dry-run``.

The plan (sample rows x replications, distinct runs, runs already in the output
folder) and a time estimate from a few runs timed in this process. Nothing is
written: the output folder is only read, and the timed runs keep no result.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from pathlib import Path
from typing import Any

from sim.errors import InputError

#: Runs timed for the estimate.
TIMED_RUNS = 2


#: The samplers ``--until-ci`` can grow.
GROWABLE = ("sobol", "morris")


def sample_size(manifest: dict[str, Any]) -> str:
    """One line saying how many runs stand behind an analysis."""
    rows, reps = int(manifest["rows"]), int(manifest["replications"])
    d = len(manifest["parameters"])
    method = manifest["method"]
    if method == "sobol":
        k = 2 * d + 2 if manifest.get("second_order") else d + 2
        n = rows // k
        what = f"N = {n} base samples x {k} = {rows} rows"
    elif method == "morris":
        what = f"{rows // (d + 1)} trajectories x {d + 1} = {rows} rows"
    else:
        what = f"{rows} points"
    return f"{method}: {what} x {reps} replications = {rows * reps} runs ({manifest.get('runs')} distinct)"


def runs_at(spec: Any, samples: int) -> int:
    """Distinct runs of ``spec`` at base size ``samples`` (no run is made)."""
    from analysis.sweeps.plan import make_plan

    return len(make_plan(dataclasses.replace(spec, samples=samples)).tasks)


def check_until_ci(spec: Any, threshold: float, budget: int | None) -> None:
    """Refuse, in one line, an ``--until-ci`` that cannot work (before anything runs)."""
    if spec.method not in GROWABLE:
        raise InputError(
            f"--until-ci {threshold}: sampler.method = {spec.method!r} has no bootstrap "
            "interval to shrink; use 'sobol' or 'morris'"
        )
    if not 0 < threshold < 1:
        raise InputError(f"--until-ci {threshold}: expected an interval width in (0, 1), e.g. 0.05")
    if budget is not None:
        first = runs_at(spec, spec.samples)
        if first > budget:
            raise InputError(
                f"--budget {budget}: the first round alone needs {first} runs "
                f"(sampler.samples = {spec.samples}); raise it or lower samples"
            )


def runs_on_disk(out: str | Path, run_ids: set[str], sweep_hash: str) -> int:
    """How many of ``run_ids`` the folder already holds (read only: nothing is
    validated or quarantined here; the sweep itself does that)."""
    import pyarrow.parquet as pq

    from analysis.sweeps.store import PART_PREFIX, SweepStore

    store = SweepStore(out)
    try:
        manifest = store.read_manifest()
    except Exception:
        return 0
    if manifest is None or manifest.get("spec_hash") != sweep_hash or not store.runs.is_dir():
        return 0
    found: set[str] = set()
    for path in store.runs.glob("*.parquet"):
        if path.name.startswith(PART_PREFIX):
            try:
                found.update(pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist())
            except Exception:
                continue
        else:
            found.add(path.stem)
    return len(found & run_ids)


def time_runs(tasks: list[dict[str, Any]], n: int = TIMED_RUNS) -> list[float]:
    """Seconds of the first ``n`` tasks, run here, one after the other."""
    from analysis.sweeps.run import execute_run

    out = []
    for task in tasks[:n]:
        t0 = time.perf_counter()
        record = execute_run(task)
        out.append(time.perf_counter() - t0)
        if record["status"] != "ok":
            from sim.errors import InputError

            raise InputError(f"--dry-run: a timed run failed: {record['error'][:150]}")
    return out


def dry_run(
    spec_path: str | Path,
    out: str | Path | None = None,
    *,
    sets: dict[str, Any] | None = None,
    workers: int | None = None,
    timed: int = TIMED_RUNS,
    until_ci: float | None = None,
    budget: int | None = None,
) -> list[str]:
    """The lines of the plan of a sweep, without running it (but ``timed`` runs).

    Raises:
        InputError: a bad spec, or an ``--until-ci``/``--budget`` that cannot work.
    """
    from analysis.runs.executors import default_workers
    from analysis.sweeps.plan import check_plan_size, make_plan
    from analysis.sweeps.run import _check_timeseries
    from analysis.sweeps.spec import SweepSpec, load_spec

    spec: SweepSpec = load_spec(spec_path, sets)
    _check_timeseries(spec)  # an unknown column is bad input here too
    if until_ci is not None:
        check_until_ci(spec, until_ci, budget)
    check_plan_size(spec)  # before anything is sampled
    plan = make_plan(spec)
    total = len(plan.tasks)
    if until_ci is None:
        check_budget(total, budget)
    sweep_hash = spec.family_hash() if until_ci is not None else spec.spec_hash()
    have = runs_on_disk(out, set(plan.tasks), sweep_hash) if out is not None else 0
    todo = total - have
    desc = {
        "method": spec.method,
        "rows": len(plan.points),
        "replications": spec.replications,
        "parameters": spec.names,
        "second_order": spec.second_order,
        "runs": total,
    }
    lines = [
        f"plan: {sample_size(desc)}",
        f"runs: {total} distinct; {have} already in {out}, {todo} to run"
        if out is not None
        else f"runs: {total} distinct, {todo} to run",
        f"each run: {spec.steps} steps of scenario {spec.scenario!r} (runner {spec.runner})",
    ]
    if until_ci is not None:
        sizes: list[str] = []
        n = spec.samples
        while len(sizes) < 12:
            r = runs_at(spec, n)
            if budget is not None and r > budget:
                break
            sizes.append(f"N={n}: {r}")
            n *= 2
        lines.append(
            f"until-ci {until_ci}: doubles N while the widest interval is >= {until_ci}; runs per "
            f"size (cumulative, reused): {'; '.join(sizes)}"
            + (f"; budget {budget}" if budget is not None else "")
        )
    if timed > 0 and todo > 0:
        tasks = sorted(plan.tasks.values(), key=lambda t: t["run_id"])
        secs = time_runs(tasks, timed)
        per = statistics.median(secs)
        w = workers or default_workers()
        est = per * todo / w
        lines.append(
            f"time: {per:.3g} s per run (median of {len(secs)} timed here) -> about "
            f"{_hms(est)} for {todo} runs on {w} worker process{'es' if w > 1 else ''}"
        )
    return lines


def check_budget(runs: int, budget: int | None) -> None:
    """Refuse a plan over ``--budget`` runs, in one line."""
    if budget is not None and runs > budget:
        from sim.errors import InputError

        raise InputError(f"--budget {budget}: this sweep needs {runs} runs; raise the budget")


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
