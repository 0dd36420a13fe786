"""Parameter sweeps: the spec, the samplers, run ids and seeds, one run, the driver.

A sweep spec is a TOML file::

    scenario = "baseline"        # bundled name, or a path relative to the spec file
    steps = 104                  # horizon (default: the scenario's run.steps)
    replications = 2             # the same seeds at every point: points are paired
    seed = 1                     # seeds the sampler and the runs

    [sampler]
    method = "sobol"             # grid | lhs | sobol | morris
    samples = 64                 # lhs: points; sobol: base N (2^k); morris: trajectories

    [set]                        # fixed overrides of the base scenario
    "run.customers" = 2000

    [parameters]                 # any scenario field, by its dotted name
    "focal.platform.density" = { range = [0.02, 0.5] }
    "focal.platform.targeting" = { levels = ["homogeneous", "personalized"] }

    [outcomes]
    timeseries = ["market_share"]          # kept per step on request (summary: always)
    analyze = ["market_share_final"]       # default outcomes of `demandsim analyze`

The spec is validated once, like a scenario: every error is one line naming the
dotted field, the value and what is allowed. A run is identified by a hash of its
base scenario, parameter values, seed and horizon, so the same run has the same id
in every session, on every machine, whatever finished first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import math
import time
import tomllib
import traceback
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.scenario import ScenarioError, build_scenario, iter_fields, read_toml

SAMPLERS = ("grid", "lhs", "sobol", "morris")
DEFAULT_RUNNER = "analysis.sweep:run_model"
# Summary keys that describe the run rather than its outcome.
META_KEYS = frozenset({"seed", "steps", "customers"})


class SweepSpecError(InputError):
    """A sweep spec that cannot be used, in one line."""


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One varied scenario field: a numeric range or a list of levels."""

    name: str
    kind: str  # "range" | "levels"
    type: str  # "int" | "float" | "bool" | "str"
    lo: float = 0.0
    hi: float = 0.0
    levels: tuple[Any, ...] = ()
    points: int = 0  # grid points of a range (0 = the sampler's default)

    @property
    def bounds(self) -> tuple[float, float]:
        """Bounds of the unit the sampler draws in (levels: an index in [0, k))."""
        if self.kind == "levels":
            return (0.0, float(len(self.levels)))
        return (self.lo, self.hi)

    def value(self, x: float) -> Any:
        """The scenario value for a sampled number ``x``."""
        if self.kind == "levels":
            k = len(self.levels)
            return self.levels[min(max(int(math.floor(x)), 0), k - 1)]
        if self.type == "int":
            return int(round(x))
        return float(x)


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec."""

    scenario: str
    base: dict[str, Any]  # the base scenario (after ``[set]``) as plain data
    steps: int
    replications: int
    seed: int
    method: str
    samples: int
    points: int
    second_order: bool
    levels: int
    fixed: dict[str, Any]
    parameters: tuple[Parameter, ...]
    timeseries: tuple[str, ...]
    analyze: tuple[str, ...]
    runner: str
    source: dict[str, Any]  # the spec as written, for the manifest

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def problem(self) -> dict[str, Any]:
        """The SALib problem definition."""
        return {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [list(p.bounds) for p in self.parameters],
        }

    def normalized(self) -> dict[str, Any]:
        """Everything that decides the runs and their content, as plain data."""
        return {
            "base_hash": canonical_hash(self.base),
            "steps": self.steps,
            "replications": self.replications,
            "seed": self.seed,
            "sampler": {
                "method": self.method,
                "samples": self.samples,
                "points": self.points,
                "second_order": self.second_order,
                "levels": self.levels,
            },
            "parameters": [dataclasses.asdict(p) for p in self.parameters],
            "timeseries": list(self.timeseries),
            "runner": self.runner,
        }

    def spec_hash(self) -> str:
        return canonical_hash(self.normalized())[:16]


# --------------------------------------------------------------------------- hashing


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the same data gives the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True, default=list)


def canonical_hash(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def run_seed(spec_seed: int, rep: int) -> int:
    """The seed of replication ``rep``: the same at every point of the sweep."""
    digest = hashlib.sha256(f"demandsim-sweep-seed:{spec_seed}:{rep}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # 63 bits, a valid run.seed


def run_id(base_hash: str, overrides: dict[str, Any], seed: int, steps: int, extra: Any) -> str:
    """Stable id of one run: a hash of everything that decides its result."""
    payload = {
        "v": 1,
        "base": base_hash,
        "overrides": overrides,
        "seed": seed,
        "steps": steps,
        "extra": extra,
    }
    return canonical_hash(payload)[:16]


# --------------------------------------------------------------------------- spec


def _err(path: str, value: Any, expected: str) -> SweepSpecError:
    return SweepSpecError(f"{path} = {value!r}: expected {expected}")


def _int(data: dict[str, Any], key: str, default: int, lo: int, hi: int, where: str = "") -> int:
    value = data.get(key, default)
    path = f"{where}{key}"
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _err(path, value, f"an integer in [{lo}, {hi}]")
    return value


def _field_types() -> dict[str, tuple[type, str]]:
    return {name: (tp, allowed) for name, tp, _d, _desc, allowed in iter_fields()}


def _pattern(name: str) -> str:
    return ".".join("N" if part.isdigit() else part for part in name.split("."))


def _check_value(base: dict[str, Any], name: str, value: Any, path: str, shown: Any = None) -> None:
    """Raise a one-line error if ``name = value`` is not a valid scenario."""
    try:
        build_scenario(base, {name: value})
    except ScenarioError as exc:
        msg = str(exc)
        if msg.startswith(f"{name} = ") and ": " in msg:
            detail = msg.split(": ", 1)[1]
            raise SweepSpecError(
                f"{path} = {value if shown is None else shown!r}: {detail}"
            ) from None
        raise SweepSpecError(f"parameters.{name}: {msg}") from None


def _parse_parameter(
    name: str, raw: Any, base: dict[str, Any], fields: dict[str, Any]
) -> Parameter:
    where = f"parameters.{name}"
    pattern = _pattern(name)
    if pattern not in fields:
        import difflib

        close = difflib.get_close_matches(pattern, list(fields), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise SweepSpecError(f"{where}: unknown scenario field{hint}")
    tp, allowed = fields[pattern]
    tname = {int: "int", float: "float", bool: "bool", str: "str"}.get(tp)
    if tname is None:
        raise SweepSpecError(f"{where}: a {allowed} field cannot be varied; vary one of its items")
    if not isinstance(raw, dict) or set(raw) - {"range", "levels", "points"}:
        raise _err(where, raw, "a table with 'range = [lo, hi]' or 'levels = [...]' (and 'points')")
    if ("range" in raw) == ("levels" in raw):
        raise _err(where, raw, "exactly one of 'range = [lo, hi]' or 'levels = [...]'")
    points = _int(raw, "points", 0, 0, 10000, where + ".") if "points" in raw else 0
    if "levels" in raw:
        levels = raw["levels"]
        if not isinstance(levels, list) or not levels:
            raise _err(where + ".levels", levels, "a non-empty list of values")
        if len({canonical_json(v) for v in levels}) != len(levels):
            raise _err(where + ".levels", levels, "distinct values")
        for i, v in enumerate(levels):
            _check_value(base, name, v, f"{where}.levels.{i}")
        return Parameter(name, "levels", tname, levels=tuple(levels), points=points)
    rng = raw["range"]
    if tname not in ("int", "float"):
        raise _err(where + ".range", rng, f"levels = [...] for a field of {allowed}")
    ok = (
        isinstance(rng, list)
        and len(rng) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
        and all(math.isfinite(v) for v in rng)
    )
    if not ok or not rng[0] < rng[1]:
        raise _err(where + ".range", rng, "[lo, hi] with finite numbers, lo < hi")
    for v in rng:
        _check_value(base, name, int(v) if tname == "int" else float(v), f"{where}.range", rng)
    return Parameter(name, "range", tname, lo=float(rng[0]), hi=float(rng[1]), points=points)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec (TOML).

    Raises:
        SweepSpecError: one line naming the dotted field, the value and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise SweepSpecError(f"sweep spec {str(path)!r}: no such file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepSpecError(
            f"sweep spec {str(path)!r}: cannot be read ({exc.__class__.__name__})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepSpecError(f"sweep spec {str(path)!r}: malformed TOML ({exc})") from None
    return parse_spec(data, path.parent)


def parse_spec(data: dict[str, Any], root: str | Path = ".") -> SweepSpec:
    """Validate plain spec data; relative scenario paths are taken from ``root``."""
    allowed_top = {
        "scenario",
        "steps",
        "replications",
        "seed",
        "sampler",
        "set",
        "parameters",
        "outcomes",
        "runner",
    }
    for key in data:
        if key not in allowed_top:
            raise SweepSpecError(f"{key}: unknown field; allowed: {', '.join(sorted(allowed_top))}")
    scenario = data.get("scenario", "baseline")
    if not isinstance(scenario, str) or not scenario:
        raise _err("scenario", scenario, "a bundled scenario name or a path to a .toml file")
    scen_path: str | Path = scenario  # a bundled name
    if scenario.endswith(".toml") or "/" in scenario:
        scen_path = Path(scenario) if Path(scenario).is_absolute() else Path(root) / scenario
    try:
        raw_base = read_toml(scen_path)
    except ScenarioError as exc:
        raise SweepSpecError(f"scenario = {scenario!r}: {str(exc).split(': ', 1)[-1]}") from None
    fixed = data.get("set", {})
    if not isinstance(fixed, dict):
        raise _err("set", fixed, "a table of dotted scenario fields and values")
    try:
        base_sc = build_scenario(raw_base, fixed)
    except ScenarioError as exc:
        raise SweepSpecError(f"set.{exc}") from None
    base = base_sc.to_dict()

    steps = _int(data, "steps", base_sc.run.steps, 1, 1_000_000)
    replications = _int(data, "replications", 1, 1, 100_000)
    seed = _int(data, "seed", 0, 0, 2**63 - 1)

    sampler = data.get("sampler", {})
    if not isinstance(sampler, dict):
        raise _err("sampler", sampler, "a table")
    for key in sampler:
        if key not in ("method", "samples", "points", "second_order", "levels"):
            raise SweepSpecError(
                f"sampler.{key}: unknown field; allowed: method, samples, points, second_order, levels"
            )
    method = sampler.get("method", "grid")
    if method not in SAMPLERS:
        raise _err("sampler.method", method, "one of " + ", ".join(repr(s) for s in SAMPLERS))
    samples = _int(sampler, "samples", 0 if method == "grid" else 16, 0, 10_000_000, "sampler.")
    if method != "grid" and samples < 1:
        raise _err("sampler.samples", samples, f"a positive integer for method = {method!r}")
    if method == "sobol" and samples & (samples - 1):
        raise _err(
            "sampler.samples", samples, "a power of 2 for method = 'sobol' (e.g. 16, 64, 256)"
        )
    points = _int(sampler, "points", 5, 2, 10_000, "sampler.")
    second_order = sampler.get("second_order", False)
    if not isinstance(second_order, bool):
        raise _err("sampler.second_order", second_order, "true or false")
    levels = _int(sampler, "levels", 4, 2, 1000, "sampler.")

    params_raw = data.get("parameters", {})
    if not isinstance(params_raw, dict) or not params_raw:
        raise _err(
            "parameters",
            params_raw,
            'a table of at least one field, e.g. "focal.platform.density" = { range = [0.05, 0.5] }',
        )
    fields = _field_types()
    params = tuple(_parse_parameter(name, raw, base, fields) for name, raw in params_raw.items())
    for name in params_raw:
        if name in fixed:
            raise SweepSpecError(
                f"parameters.{name}: also fixed in [set]; vary it or fix it, not both"
            )
    if method in ("sobol", "morris") and len(params) < 2:
        raise _err("parameters", list(params_raw), f"at least 2 parameters for method = {method!r}")

    outcomes = data.get("outcomes", {})
    if not isinstance(outcomes, dict) or set(outcomes) - {"timeseries", "analyze"}:
        raise _err("outcomes", outcomes, "a table with 'timeseries' and/or 'analyze' lists")
    timeseries = outcomes.get("timeseries", [])
    if not isinstance(timeseries, list) or not all(isinstance(c, str) for c in timeseries):
        raise _err(
            "outcomes.timeseries", timeseries, 'a list of time-series column names, or ["*"]'
        )
    for i, col in enumerate(timeseries):
        if not (col == "*" or col.isidentifier()):
            raise _err(
                f"outcomes.timeseries.{i}",
                col,
                "'*' or a time-series column name such as 'market_share'",
            )
    analyze = outcomes.get("analyze", [])
    if not isinstance(analyze, list) or not all(isinstance(c, str) and c for c in analyze):
        raise _err("outcomes.analyze", analyze, "a list of summary outcome names")

    runner = data.get("runner", DEFAULT_RUNNER)
    if not isinstance(runner, str) or runner.count(":") != 1:
        raise _err("runner", runner, "'module:function', e.g. 'analysis.sweep:run_model'")

    return SweepSpec(
        scenario=scenario,
        base=base,
        steps=steps,
        replications=replications,
        seed=seed,
        method=method,
        samples=samples,
        points=points,
        second_order=second_order,
        levels=levels,
        fixed=dict(fixed),
        parameters=params,
        timeseries=tuple(timeseries),
        analyze=tuple(analyze),
        runner=runner,
        source=data,
    )


# --------------------------------------------------------------------------- samplers


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


def make_plan(spec: SweepSpec) -> Plan:
    """Sample the spec and give every (row, replication) its run id and task."""
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


# --------------------------------------------------------------------------- one run


def run_model(scenario: Any, seed: int, steps: int) -> tuple[dict[str, Any], Any]:
    """The default runner: the demandsim model (summary dict, time-series DataFrame)."""
    from sim import run_scenario

    return run_scenario(scenario, seed=seed, steps=steps)  # type: ignore[no-any-return]


def scalar_outcomes(summary: dict[str, Any]) -> dict[str, float]:
    """Every top-level numeric summary value as a float (None = NaN), by name."""
    out: dict[str, float] = {}
    for key, value in summary.items():
        if value is None:
            out[key] = math.nan
        elif isinstance(value, bool | int | float) or (
            type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0
        ):
            out[key] = float(value)
    return out


def execute_run(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task and return its record; never raises for a failing model run.

    The record holds ``run_id``, ``status`` ("ok" or "error"), ``error`` (one line),
    ``traceback``, ``outcomes`` (name -> float), ``timeseries`` (column -> list, or
    None) and ``seconds``. A pure function of the task: the same task gives the same
    record (but ``seconds``) in any process, on any worker.
    """
    t0 = time.perf_counter()
    record: dict[str, Any] = {
        "run_id": task["run_id"],
        "status": "ok",
        "error": None,
        "traceback": None,
    }
    try:
        module, attr = task["runner"].split(":")
        runner = getattr(importlib.import_module(module), attr)
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
    from analysis.store import FORMAT, KIND, code_hash, git_commit, now, versions

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


def _check_timeseries(spec: SweepSpec) -> None:
    """Name an unknown time-series column before any run starts, not in every run."""
    wanted = [c for c in spec.timeseries if c != "*"]
    if not wanted or spec.runner != DEFAULT_RUNNER:
        return
    try:
        from sim import DemandModel

        small = build_scenario(spec.base, {"run.customers": 200})
        columns = set(DemandModel(small, rng=0).datacollector.get_model_vars_dataframe().columns)
    except Exception:  # the runs themselves will report what is wrong
        return
    for i, col in enumerate(spec.timeseries):
        if col != "*" and col not in columns:
            raise _err(f"outcomes.timeseries.{i}", col, "one of " + ", ".join(sorted(columns)))


def _same_sweep(manifest: dict[str, Any] | None, sweep_hash: str, out: str | Path) -> None:
    if manifest is not None and manifest.get("spec_hash") != sweep_hash:
        raise InputError(
            f"--out {str(out)!r}: holds another sweep (spec {manifest.get('spec_hash')}, "
            f"this spec {sweep_hash}); use a new folder"
        )


def run_sweep(
    spec_path: str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: Any = None,
    executor: Any = None,
) -> SweepResult:
    """Run (or resume) a sweep into ``out``.

    Runs already on disk and valid are kept; missing ones run; an unreadable or
    foreign run file is quarantined and its run done again. Each finished run is
    written atomically as it arrives; at the end all runs are compacted into
    ``results.parquet``, sorted by sample row and replication.

    Args:
        spec_path: the sweep spec (TOML).
        out: the output folder (created, or resumed if it holds this sweep).
        workers: local worker processes (default: the cores).
        scheduler: a Dask scheduler address; default: DASK_SCHEDULER_ADDRESS if set.
        retry_failed: run again the runs recorded as failed.
        progress: a text stream for progress lines (None: silent).
        executor: an executor object to use instead (tests, embedding).

    Raises:
        InputError: a bad spec, or a folder holding another sweep.
    """
    from analysis.executors import make_executor
    from analysis.store import SweepStore, code_hash, git_commit, now, versions

    spec_path = Path(spec_path)
    spec = load_spec(spec_path)
    sweep_hash = spec.spec_hash()
    store = SweepStore(out)
    if store.manifest_path.exists():  # refuse another sweep's folder before any work
        _same_sweep(store.read_manifest(), sweep_hash, out)
    _check_timeseries(spec)
    plan = make_plan(spec)
    with store.lock():
        manifest = store.read_manifest()
        _same_sweep(manifest, sweep_hash, out)
        if manifest is None:
            manifest = _manifest(spec, plan, spec_path)
            store.write_samples(spec.names, plan.matrix)
            store.write_manifest(manifest)
        else:
            import numpy as np

            try:
                on_disk = store.read_samples(spec.names)
            except Exception:
                on_disk = None
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
            ex = executor if executor is not None else make_executor(workers, scheduler)
            session["executor"] = ex.description
            if progress is not None:
                progress.write(
                    f"sweep: {len(plan.tasks)} runs ({len(done)} already done, {len(todo)} to run) "
                    f"on {ex.description}\n"
                )
            bar = Progress(len(plan.tasks), len(todo), progress)
            try:
                for record in ex.run(execute_run, todo):
                    rid = record["run_id"]
                    store.write_run(record, plan.tasks[rid], sweep_hash)
                    done[rid] = record["status"]
                    ran += 1
                    bar.update(record)
            finally:
                if executor is None:
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
            store.compact(plan.rows, plan.seeds, plan.points, spec.names, sweep_hash)
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
