"""Parameter sweeps: the samplers, one run, and the driver that streams runs to disk.

The spec (``analysis.sweeps.spec``) is validated once; each run is identified by a
hash of its base scenario, parameter values, seed and horizon, so the same run has
the same id in every session, on every machine, whatever finished first. The
driver writes each finished run atomically, resumes what is missing, and compacts
the runs into one table sorted by sample row and replication.
"""

from __future__ import annotations

import dataclasses
import math
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from analysis.runs.ensemble import TRUSTED_RUNNERS, load_runner, runner_name, scalar_outcomes
from analysis.sweeps.plan import Plan, check_plan_size, make_plan
from analysis.sweeps.spec import (
    DEFAULT_RUNNER,
    SweepSpec,
    field_error,
    load_spec,
)
from sim.errors import InputError
from sim.scenario import build_scenario

# --------------------------------------------------------------------------- samplers


# --------------------------------------------------------------------------- one run


def counts_of(runner: str) -> frozenset[str]:
    """The outcomes of ``runner`` that count things (the model's own, from the registry)."""
    from sim.outcomes import COUNTS

    return COUNTS if runner_name(runner) == DEFAULT_RUNNER else frozenset()


def execute_run(task: dict[str, Any], builder: Any = None) -> dict[str, Any]:
    """Run one task and return its record; never raises for a failing model run.

    The record holds ``run_id``, ``status`` ("ok" or "error"), ``error`` (one line),
    ``traceback``, ``outcomes`` (name -> float), ``timeseries`` (column -> list, or
    None) and ``seconds``. A pure function of the task: the same task gives the same
    record (but ``seconds``) in any process, on any worker. ``builder`` (a
    ``sim.scenario.ScenarioBuilder`` of the task's scenario) builds the same scenario
    faster.
    """
    t0 = time.perf_counter()
    record: dict[str, Any] = {
        "run_id": task["run_id"],
        "status": "ok",
        "error": None,
        "traceback": None,
    }
    try:
        runner = load_runner(task["runner"])
        if builder is not None:
            sc = builder.build(task["overrides"])
        else:
            sc = build_scenario(task["scenario"], task["overrides"])
        summary, ts = runner(sc, task["seed"], task["steps"])
        record["outcomes"] = scalar_outcomes(summary)
        record["timeseries"] = (
            _pick_timeseries(ts, task["timeseries"]) if task["timeseries"] else None
        )
    except Exception as exc:  # a failed run is recorded, the sweep goes on
        line = " ".join(f"{exc.__class__.__name__}: {exc}".split())
        record.update(status="error", error=line[:500], traceback=traceback.format_exc()[-4000:])
        record["outcomes"] = {}
        record["timeseries"] = None
    record["seconds"] = time.perf_counter() - t0
    return record


def execute_chunk(chunk: dict[str, Any]) -> dict[str, Any]:
    """Run a chunk of tasks one after the other: ``{"run_id": chunk id, "records":
    [each task's record from execute_run]}``.

    A chunk carries its scenario once (``scenario``) and tasks without it, so a worker
    gets many runs for one hand-off and builds their scenarios from one validated base
    (``sim.scenario.ScenarioBuilder``); each record is the one ``execute_run`` gives.
    """
    from sim.scenario import ScenarioBuilder

    base = chunk["scenario"]
    try:
        builder: Any = ScenarioBuilder(base)
    except Exception:  # a base that does not build: each run records why
        builder = None
    records = [execute_run({**task, "scenario": base}, builder) for task in chunk["tasks"]]
    return {"run_id": chunk["run_id"], "records": records}


def _pick_timeseries(ts: Any, columns: list[str]) -> dict[str, list[Any]]:
    if "*" in columns:
        columns = [c for c in ts.columns if c != "step" and ts[c].dtype.kind in "biuf"]
    missing = [c for c in columns if c not in ts.columns]
    if missing:
        raise KeyError(f"time-series columns not in the model output: {missing}")
    steps = ts["step"].astype("int64").tolist() if "step" in ts.columns else list(range(len(ts)))
    out: dict[str, list[Any]] = {"step": steps}
    for c in columns:
        out[c] = ts[c].astype("float64").tolist()
    return out


#: Chunks handed to an executor at a time: its futures (and their records) are let
#: go batch by batch, so the driver's memory does not grow with the sweep.
BATCH = 2048
#: The most runs in one chunk, and the time a chunk should take (seconds): chunks
#: are sized from the first runs' times, so quick runs go to workers many at a time
#: and slow ones one by one.
CHUNK = 256
CHUNK_SECONDS = 0.25
#: The longest a finished run waits in memory before it is written: runs that finish
#: quickly are written together (``SweepStore.hold``); a kill loses at most this much.
HOLD_SECONDS = 1.0


def chunk_size(seconds: list[float], runs: int, workers: int) -> int:
    """Runs per chunk: about ``CHUNK_SECONDS`` of work, at most ``CHUNK``, and at
    least four chunks per worker (the last chunks do not leave workers idle)."""
    # The quickest: a worker's first run also pays its imports.
    per_run = max(min(seconds), 1e-6) if seconds else CHUNK_SECONDS
    size = min(CHUNK, int(CHUNK_SECONDS / per_run), runs // (4 * workers))
    return max(1, size)


def _in_batches(ex: Any, todo: list[dict[str, Any]]) -> Any:
    """Each record of ``execute_run`` over ``todo`` on ``ex``, in chunks.

    The first runs go one per chunk and time the rest's chunks (``chunk_size``).
    """
    workers = max(1, int(getattr(ex, "workers", 1) or 1))
    first = todo[: 2 * workers]
    seconds = []
    for record in _records(ex, _chunks(first, 1)):
        seconds.append(record["seconds"])
        yield record
    rest = todo[len(first) :]
    chunks = _chunks(rest, chunk_size(seconds, len(rest), workers))
    for i in range(0, len(chunks), BATCH):
        yield from _records(ex, chunks[i : i + BATCH])


def _records(ex: Any, chunks: list[dict[str, Any]]) -> Any:
    """The records of ``chunks`` run on ``ex``, a chunk's as soon as it finishes."""
    runs = {c["run_id"]: c["tasks"] for c in chunks}
    for result in ex.run(execute_chunk, chunks):
        if "records" in result:
            yield from result["records"]
            continue
        # The executor's own record of a chunk that failed as a whole (a Dask task that
        # killed its workers): every run of it failed so.
        for task in runs[result["run_id"]]:
            yield {**result, "run_id": task["run_id"]}


def _chunks(tasks: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """Tasks ``size`` at a time (fewer where the scenario changes), each chunk named
    by its first run and the number of runs it holds."""
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(tasks):
        base = tasks[i]["scenario"]
        j = i + 1
        while j < min(i + size, len(tasks)) and tasks[j]["scenario"] is base:
            j += 1
        slim = [{k: v for k, v in t.items() if k != "scenario"} for t in tasks[i:j]]
        out.append({"run_id": f"{tasks[i]['run_id']}+{j - i}", "scenario": base, "tasks": slim})
        i = j
    return out


def _nested(a: Any, b: Any) -> bool:
    """Whether the shorter of two sample matrices is the start of the longer."""
    import numpy as np

    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return bool(short.shape[1] == long.shape[1] and np.array_equal(long[: len(short)], short))


# --------------------------------------------------------------------------- driver


@dataclasses.dataclass
class SweepResult:
    """What one ``run_sweep`` session did."""

    out: Path
    total: int  # distinct runs in the plan
    rows: int  # (sample row, replication) pairs in the table
    ran: int  # runs executed in this session
    skipped: int  # runs found finished on disk
    redone: int  # run files quarantined and done again
    failed: int  # runs whose status is "error" (this session or earlier)
    complete: bool


class Progress:
    """Finished runs and the estimated time left, on stderr, at most once a second."""

    def __init__(self, total: int, todo: int, stream: Any, every: float = 1.0) -> None:
        self.total, self.todo, self.stream, self.every = total, todo, stream, every
        self.done = 0
        self.failed = 0
        self.t0 = time.monotonic()
        self.last = -math.inf

    def update(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.failed += record["status"] != "ok"
        now = time.monotonic()
        if self.stream is None or (now - self.last < self.every and self.done < self.todo):
            return
        self.last = now
        elapsed = now - self.t0
        rate = self.done / elapsed if elapsed > 0 else math.inf
        left = (self.todo - self.done) / rate if rate > 0 else math.inf
        already = self.total - self.todo
        failed = f", {self.failed} failed" if self.failed else ""
        self.stream.write(
            f"sweep: {already + self.done}/{self.total} runs{failed} | "
            f"{rate:.2f} runs/s | elapsed {_hms(elapsed)} | left ~{_hms(left)}\n"
        )
        self.stream.flush()


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _manifest(spec: SweepSpec, plan: Plan, spec_path: Path | None) -> dict[str, Any]:
    from analysis.runs.provenance import code_hash, git_commit, now, versions
    from analysis.sweeps.store import FORMAT, KIND

    vers = versions()
    return {
        "kind": KIND,
        "format": FORMAT,
        "spec_hash": spec.spec_hash(),
        "spec_path": str(spec_path) if spec_path else None,
        "spec": spec.source,
        "normalized": spec.normalized(),
        "scenario": spec.scenario,
        "base_scenario": spec.base,
        "parameters": spec.names,
        "problem": spec.problem(),
        "method": spec.method,
        "second_order": spec.second_order,
        "levels": spec.levels,
        "steps": spec.steps,
        "replications": spec.replications,
        "seed": spec.seed,
        "seeds": plan.seeds,
        "rows": len(plan.points),
        "table_rows": len(plan.rows),
        "runs": len(plan.tasks),
        "timeseries": list(spec.timeseries),
        "analyze": list(spec.analyze),
        "demandsim_version": vers.get("demandsim"),
        "git_commit": git_commit(),
        "code_hash": code_hash(),
        "versions": vers,
        "created": now(),
        "sessions": [],
        "status": "running",
        "counts": {},
    }


def model_columns(task: dict[str, Any]) -> dict[str, Any]:
    """The time-series columns of a small model of ``task["scenario"]`` (sorted; None
    when it does not build: the runs themselves will report what is wrong).

    A task for an executor: on a worker process it also loads the kernels that
    worker's runs use, and the driver never imports the model.
    """
    try:
        from sim import DemandModel

        small = build_scenario(task["scenario"], {"run.customers": 200})
        model = DemandModel(small, rng=0)
        columns: list[str] | None = sorted(model.datacollector.get_model_vars_dataframe().columns)
    except Exception:
        columns = None
    return {"run_id": task["run_id"], "columns": columns}


def _check_timeseries(spec: SweepSpec, ex: Any = None) -> None:
    """Name an unknown time-series column before any run starts, not in every run
    (the columns from a small model on ``ex``'s worker processes when ``ex`` is
    local ones, else in this process)."""
    from analysis.runs.executors import LocalExecutor

    wanted = [c for c in spec.timeseries if c != "*"]
    if not wanted or runner_name(spec.runner) != DEFAULT_RUNNER:
        return
    task = {"run_id": "columns", "scenario": spec.base}
    if isinstance(ex, LocalExecutor):
        (found,) = list(ex.run(model_columns, [task]))
    else:
        found = model_columns(task)
    if found["columns"] is None:
        return
    columns = set(found["columns"])
    for i, col in enumerate(spec.timeseries):
        if col != "*" and col not in columns:
            raise field_error(
                f"outcomes.timeseries.{i}", col, "one of " + ", ".join(sorted(columns))
            )


def _same_sweep(manifest: dict[str, Any] | None, sweep_hash: str, out: str | Path) -> None:
    if manifest is not None and manifest.get("spec_hash") != sweep_hash:
        raise InputError(
            f"--out {str(out)!r}: holds another sweep (spec {manifest.get('spec_hash')}, "
            f"this spec {sweep_hash}); use a new folder"
        )


def _preload(runner: str) -> list[str] | None:
    """What local worker processes import ahead: the model's own (None) for its runner,
    else only the sweep and the runner's module (a known answer needs no model)."""
    if runner_name(runner) == DEFAULT_RUNNER:
        return None
    return ["analysis.sweeps.run", runner_name(runner).split(":")[0]]


def _local_executor(
    executor: Any, workers: int | None, scheduler: str | None, runner: str
) -> tuple[Any, bool] | None:
    """Local worker processes made before the plan (and whether ours to close), or None
    (a cluster, this process, a caller's executor of another kind): the check of the
    time-series columns runs on them (``_check_timeseries``); they start with it."""
    import os

    from analysis.runs.executors import LocalExecutor, make_executor, resolve_executor

    if executor is None:
        if scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS"):
            return None
        return make_executor(workers, None, _preload(runner)), True
    if isinstance(executor, int) and not isinstance(executor, bool) and executor > 1:
        return resolve_executor(executor)
    return (executor, False) if isinstance(executor, LocalExecutor) else None


def _resolve_runner(name: str) -> None:
    """Find the spec's runner when the sweep is planned, not when its first run starts."""
    try:
        load_runner(name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise field_error(
            "runner", name, f"an importable module:function ({exc.__class__.__name__})"
        ) from None


def run_sweep(
    spec_path: str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: Any = None,
    executor: Any = None,
    trusted: bool = False,
    sets: dict[str, Any] | None = None,
    samples: int | None = None,
    fold_every: int | None = None,
) -> SweepResult:
    """Run (or resume) a sweep into ``out``.

    Runs already on disk and valid are kept; missing ones run; an unreadable or
    foreign run file is quarantined and its run done again. Runs go to the workers
    in chunks (``chunk_size``); finished runs are written atomically as they arrive,
    quick ones together (held up to ``HOLD_SECONDS``, and always written when the
    sweep stops); at the end all runs are compacted into ``results.parquet``,
    sorted by sample row and replication.

    Args:
        spec_path: the sweep spec (TOML).
        out: the output folder (created, or resumed if it holds this sweep).
        workers: local worker processes (default: the cores).
        scheduler: a Dask scheduler address; default: DASK_SCHEDULER_ADDRESS if set.
        retry_failed: run again the runs recorded as failed.
        progress: a text stream for progress lines (None: silent).
        trusted: let the spec's ``runner`` name any function (else only demandsim's own
            runners: a spec from someone else would otherwise be code on the workers).
        executor: an executor to use instead: a number of local worker processes, a
            ``concurrent.futures.Executor``, a ``distributed.Client`` or an object
            with ``analysis.runs.executors``' interface (tests, embedding).
        sets: scenario fields fixed on top of the spec's ``[set]`` (``--set``).
        samples: grow the spec to this base sample size (``--until-ci``): the folder
            then holds every size of the spec, and a larger one reuses the runs of a
            smaller one (the samplers' matrices are nested).
        fold_every: fold finished runs into a part file whenever this many are loose
            (default ``analysis.sweeps.store.FOLD_EVERY``).

    Raises:
        InputError: a bad spec, or a folder holding another sweep.
    """
    from analysis.runs.executors import make_executor, resolve_executor
    from analysis.runs.provenance import code_hash, git_commit, now, versions
    from analysis.sweeps.store import FOLD_EVERY, SweepStore

    spec_path = Path(spec_path)
    spec = load_spec(spec_path, sets)
    if runner_name(spec.runner) not in TRUSTED_RUNNERS and not trusted:
        raise field_error(
            "runner",
            spec.runner,
            f"demandsim's own runner {DEFAULT_RUNNER} (or a known-answer test function), "
            "or pass --trust-spec",
        )
    _resolve_runner(spec.runner)
    if samples is not None:
        spec = dataclasses.replace(spec, samples=samples)
    check_plan_size(spec)
    sweep_hash = spec.spec_hash() if samples is None else spec.family_hash()
    fold_every = fold_every or FOLD_EVERY
    store = SweepStore(out)
    if store.manifest_path.exists():  # refuse another sweep's folder before any work
        _same_sweep(store.read_manifest(), sweep_hash, out)
    early = _local_executor(executor, workers, scheduler, spec.runner)
    try:
        with ThreadPoolExecutor(1) as planner:
            # sampling (SALib's import) while the worker processes start and check
            planned = planner.submit(make_plan, spec)
            _check_timeseries(spec, early[0] if early else None)
            plan = planned.result()
        with store.lock():
            manifest = store.read_manifest()
            _same_sweep(manifest, sweep_hash, out)
            if manifest is None:
                manifest = _manifest(spec, plan, spec_path)
                manifest["spec_hash"] = sweep_hash
                store.write_samples(spec.names, plan.matrix)
                store.write_manifest(manifest)
            else:
                import numpy as np

                try:
                    on_disk = store.read_samples(spec.names)
                except Exception:
                    on_disk = None
                if samples is not None and on_disk is not None and _nested(on_disk, plan.matrix):
                    # The same sweep at another base size: its runs stay, the plan changes.
                    grown = _manifest(spec, plan, spec_path)
                    for key in ("rows", "table_rows", "runs", "normalized"):
                        manifest[key] = grown[key]
                    manifest["samples"] = samples
                    store.write_samples(spec.names, plan.matrix)
                    on_disk = plan.matrix
                if (
                    on_disk is None
                    or on_disk.shape != plan.matrix.shape
                    or not np.array_equal(on_disk, plan.matrix)
                ):
                    store.write_samples(spec.names, plan.matrix)
                    if on_disk is not None:
                        raise InputError(
                            f"--out {str(out)!r}: its sample matrix differs from this one "
                            "(another SALib version?); use a new folder"
                        )
            store.clean_temporaries()
            code = code_hash()
            if progress is not None and manifest.get("code_hash") not in (None, code):
                progress.write(
                    "sweep: warning: the model's source changed since this sweep started; runs already "
                    "on disk came from the old source (use a new --out for a sweep of one version)\n"
                )
            done, bad = store.scan(plan.tasks, sweep_hash)
            unexpected = store.unexpected_files(set(plan.tasks))
            if progress is not None and (bad or unexpected):
                if bad:
                    progress.write(
                        f"sweep: {len(bad)} run files unreadable or foreign: moved to quarantine/, runs redone\n"
                    )
                if unexpected:
                    progress.write(
                        f"sweep: ignoring {len(unexpected)} files in runs/ that belong to no run of this sweep\n"
                    )
            todo = [
                t
                for rid, t in plan.tasks.items()
                if rid not in done or (retry_failed and done[rid] == "error")
            ]
            todo.sort(key=lambda t: t["run_id"])
            session: dict[str, Any] = {
                "started": now(),
                "todo": len(todo),
                "found": len(done),
                "quarantined": len(bad),
                "demandsim_version": versions().get("demandsim"),
                "git_commit": git_commit(),
                "code_hash": code,
            }
            ran = 0
            if todo:
                if early is not None:
                    ex, owned = early
                elif executor is None:
                    ex, owned = make_executor(workers, scheduler, _preload(spec.runner)), True
                else:
                    ex, owned = resolve_executor(executor)
                client = getattr(ex, "client", None)
                if client is not None:  # a Dask cluster: the same code everywhere
                    from analysis.runs.cluster import check_workers

                    try:
                        check_workers(client)
                    except BaseException:
                        if owned:
                            ex.close()
                        raise
                session["executor"] = ex.description
                if progress is not None:
                    progress.write(
                        f"sweep: {len(plan.tasks)} runs ({len(done)} already done, {len(todo)} to run) "
                        f"on {ex.description}\n"
                    )
                bar = Progress(len(plan.tasks), len(todo), progress)
                try:
                    for record in _in_batches(ex, todo):
                        rid = record["run_id"]
                        store.hold(record, plan.tasks[rid], sweep_hash)
                        if store.loose + store.held >= fold_every:
                            store.fold(sweep_hash)
                        elif store.held_for() >= HOLD_SECONDS:
                            store.spill(sweep_hash)
                        done[rid] = record["status"]
                        ran += 1
                        bar.update(record)
                finally:
                    store.spill(sweep_hash)  # what finished is kept, whatever stopped the loop
                    if owned:
                        ex.close()
                    session["finished"] = now()
                    session["ran"] = ran
                    manifest.setdefault("sessions", []).append(session)
                    complete = all(rid in done for rid in plan.tasks)
                    manifest["status"] = "complete" if complete else "incomplete"
                    store.write_manifest(manifest)
            complete = all(rid in done for rid in plan.tasks)
            failed = sum(1 for rid in plan.tasks if done.get(rid) == "error")
            if complete:
                if store.part_files():  # a large sweep ends folded; a small one is left as is
                    store.fold(sweep_hash)
                store.compact(
                    plan.rows,
                    plan.seeds,
                    plan.points,
                    spec.names,
                    sweep_hash,
                    counts_of(spec.runner),
                )
            manifest["status"] = "complete" if complete else "incomplete"
            manifest["counts"] = {
                "runs": len(plan.tasks),
                "ok": len(plan.tasks) - failed,
                "failed": failed,
            }
            if not todo:
                session["finished"] = now()
                session["ran"] = 0
                manifest.setdefault("sessions", []).append(session)
            store.write_manifest(manifest)
    finally:
        if early is not None and early[1]:
            early[0].close()
    return SweepResult(
        out=Path(out),
        total=len(plan.tasks),
        rows=len(plan.rows),
        ran=ran,
        skipped=len(plan.tasks) - len(todo),
        redone=len(bad),
        failed=failed,
        complete=complete,
    )
