"""Sweep specs: the TOML file, validated once, and the hashes behind run ids.

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
import json
import math
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any

from analysis.runs.ensemble import DEFAULT_RUNNER, runner_name
from sim.errors import InputError
from sim.outcomes import SCALAR, SERIES, find, key_outcomes
from sim.scenario import ScenarioError, build_scenario, iter_fields, read_toml

SAMPLERS = ("grid", "lhs", "sobol", "morris")


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

    def family_hash(self) -> str:
        """The hash of the spec whatever its base sample size: the sweeps that
        ``--until-ci`` grows by doubling ``samples`` share it, and so their runs."""
        data = self.normalized()
        data["sampler"] = {k: v for k, v in data["sampler"].items() if k != "samples"}
        data["grows"] = True
        return canonical_hash(data)[:16]


# --------------------------------------------------------------------------- hashing


#: The bundled specs (sweeps, a calibration, a frontier): package data of ``analysis``.
SPEC_DIR = Path(str(files("analysis").joinpath("specs")))


def bundled_names() -> list[str]:
    """Names of the bundled specs (``small-grid``, ``six-sigma.frontier``, ...)."""
    return sorted(p.stem for p in SPEC_DIR.glob("*.toml"))


def bundled_spec(spec: str | Path) -> Path:
    """A spec path as given, or, when no such file exists and the name has no folder,
    the bundled file of that name (``small-grid`` or ``small-grid.toml`` for a spec,
    ``bass.observed.csv`` for the observed series a bundled calibration uses)."""
    path = Path(spec)
    if path.exists() or len(path.parts) != 1:
        return path
    bundled = SPEC_DIR / (path.name if path.suffix in (".toml", ".csv") else f"{path.name}.toml")
    return bundled if bundled.exists() else path


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


def field_error(path: str, value: Any, expected: str) -> SweepSpecError:
    return SweepSpecError(f"{path} = {value!r}: expected {expected}")


def int_field(
    data: dict[str, Any], key: str, default: int, lo: int, hi: int, where: str = ""
) -> int:
    value = data.get(key, default)
    path = f"{where}{key}"
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise field_error(path, value, f"an integer in [{lo}, {hi}]")
    return value


def check_model_outcomes(analyze: list[str], timeseries: list[str]) -> None:
    """Refuse, before any run, an outcome name the model does not write (``sim.outcomes``
    declares what it writes; another runner's outcomes are its own)."""
    for i, name in enumerate(analyze):
        o = find(name, SCALAR)
        if o is None or o.derived:
            examples = ", ".join(key_outcomes()[:3])
            raise field_error(
                f"outcomes.analyze.{i}", name, f"a scalar outcome of the model, e.g. {examples}"
            )
    for i, col in enumerate(timeseries):
        if col != "*" and find(col, SERIES) is None:
            raise field_error(
                f"outcomes.timeseries.{i}",
                col,
                "'*' or a time-series column of the model such as 'market_share'",
            )


def field_types() -> dict[str, tuple[type, str]]:
    return {name: (tp, allowed) for name, tp, _d, _desc, allowed in iter_fields()}


def field_pattern(name: str) -> str:
    return ".".join("N" if part.isdigit() else part for part in name.split("."))


def check_value(base: dict[str, Any], name: str, value: Any, path: str, shown: Any = None) -> None:
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


def parse_parameter(name: str, raw: Any, base: dict[str, Any], fields: dict[str, Any]) -> Parameter:
    where = f"parameters.{name}"
    pattern = field_pattern(name)
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
        raise field_error(
            where, raw, "a table with 'range = [lo, hi]' or 'levels = [...]' (and 'points')"
        )
    if ("range" in raw) == ("levels" in raw):
        raise field_error(where, raw, "exactly one of 'range = [lo, hi]' or 'levels = [...]'")
    points = int_field(raw, "points", 0, 0, 10000, where + ".") if "points" in raw else 0
    if "levels" in raw:
        levels = raw["levels"]
        if not isinstance(levels, list) or not levels:
            raise field_error(where + ".levels", levels, "a non-empty list of values")
        if len({canonical_json(v) for v in levels}) != len(levels):
            raise field_error(where + ".levels", levels, "distinct values")
        for i, v in enumerate(levels):
            check_value(base, name, v, f"{where}.levels.{i}")
        return Parameter(name, "levels", tname, levels=tuple(levels), points=points)
    rng = raw["range"]
    if tname not in ("int", "float"):
        raise field_error(where + ".range", rng, f"levels = [...] for a field of {allowed}")
    ok = (
        isinstance(rng, list)
        and len(rng) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
        and all(math.isfinite(v) for v in rng)
    )
    if not ok or not rng[0] < rng[1]:
        raise field_error(where + ".range", rng, "[lo, hi] with finite numbers, lo < hi")
    for v in rng:
        check_value(base, name, int(v) if tname == "int" else float(v), f"{where}.range", rng)
    return Parameter(name, "range", tname, lo=float(rng[0]), hi=float(rng[1]), points=points)


def load_spec(path: str | Path, sets: dict[str, Any] | None = None) -> SweepSpec:
    """Read and validate a sweep spec (TOML).

    Args:
        path: the spec file, or the name of a bundled spec (``small-grid``).
        sets: dotted scenario fields fixed on top of the spec's ``[set]`` (``--set``).

    Raises:
        SweepSpecError: one line naming the dotted field, the value and what is allowed.
    """
    path = bundled_spec(path)
    data = read_spec_toml(path, "sweep spec")
    if sets:
        fixed = data.get("set", {})
        if isinstance(fixed, dict):
            for key in sets:
                if key in data.get("parameters", {}):
                    raise SweepSpecError(
                        f"--set {key}: a parameter of this sweep; vary it or fix it, not both"
                    )
            data["set"] = {**fixed, **sets}
    return parse_spec(data, path.parent)


def read_spec_toml(
    path: Path, what: str, error: type[InputError] = SweepSpecError
) -> dict[str, Any]:
    """The TOML data of a spec file, or one line saying why it cannot be read."""
    if not path.is_file():
        raise error(f"{what} {str(path)!r}: no such file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{what} {str(path)!r}: cannot be read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {str(path)!r}: malformed TOML ({exc})") from None


def load_base(
    data: dict[str, Any], root: str | Path, default: str = "baseline", scenario: str | None = None
) -> tuple[str, Any, dict[str, Any]]:
    """The scenario a spec names (``scenario`` given: that one), with its ``[set]`` applied.

    Returns:
        The scenario's name or path as given, the built ``Scenario`` and the ``[set]`` table.
    """
    name = scenario if scenario is not None else data.get("scenario", default)
    if not isinstance(name, str) or not name:
        raise field_error("scenario", name, "a bundled scenario name or a path to a .toml file")
    scen_path: str | Path = name  # a bundled name
    if scenario is None and (name.endswith(".toml") or "/" in name):
        scen_path = Path(name) if Path(name).is_absolute() else Path(root) / name
    try:
        raw_base = read_toml(scen_path)
    except ScenarioError as exc:
        raise SweepSpecError(f"scenario = {name!r}: {str(exc).split(': ', 1)[-1]}") from None
    fixed = data.get("set", {})
    if not isinstance(fixed, dict):
        raise field_error("set", fixed, "a table of dotted scenario fields and values")
    try:
        base_sc = build_scenario(raw_base, fixed)
    except ScenarioError as exc:
        raise SweepSpecError(f"set.{exc}") from None
    return name, base_sc, fixed


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
    scenario, base_sc, fixed = load_base(data, root)
    base = base_sc.to_dict()

    steps = int_field(data, "steps", base_sc.run.steps, 1, 1_000_000)
    replications = int_field(data, "replications", 1, 1, 100_000)
    seed = int_field(data, "seed", 0, 0, 2**63 - 1)

    sampler = data.get("sampler", {})
    if not isinstance(sampler, dict):
        raise field_error("sampler", sampler, "a table")
    for key in sampler:
        if key not in ("method", "samples", "points", "second_order", "levels"):
            raise SweepSpecError(
                f"sampler.{key}: unknown field; allowed: method, samples, points, second_order, levels"
            )
    method = sampler.get("method", "grid")
    if method not in SAMPLERS:
        raise field_error(
            "sampler.method", method, "one of " + ", ".join(repr(s) for s in SAMPLERS)
        )
    samples = int_field(
        sampler, "samples", 0 if method == "grid" else 16, 0, 10_000_000, "sampler."
    )
    if method != "grid" and samples < 1:
        raise field_error("sampler.samples", samples, f"a positive integer for method = {method!r}")
    if method == "sobol" and samples & (samples - 1):
        raise field_error(
            "sampler.samples", samples, "a power of 2 for method = 'sobol' (e.g. 16, 64, 256)"
        )
    points = int_field(sampler, "points", 5, 2, 10_000, "sampler.")
    second_order = sampler.get("second_order", False)
    if not isinstance(second_order, bool):
        raise field_error("sampler.second_order", second_order, "true or false")
    levels = int_field(sampler, "levels", 4, 2, 1000, "sampler.")

    params_raw = data.get("parameters", {})
    if not isinstance(params_raw, dict) or not params_raw:
        raise field_error(
            "parameters",
            params_raw,
            'a table of at least one field, e.g. "focal.platform.density" = { range = [0.05, 0.5] }',
        )
    fields = field_types()
    params = tuple(parse_parameter(name, raw, base, fields) for name, raw in params_raw.items())
    for name in params_raw:
        if name in fixed:
            raise SweepSpecError(
                f"parameters.{name}: also fixed in [set]; vary it or fix it, not both"
            )
    if method in ("sobol", "morris") and len(params) < 2:
        raise field_error(
            "parameters", list(params_raw), f"at least 2 parameters for method = {method!r}"
        )

    outcomes = data.get("outcomes", {})
    if not isinstance(outcomes, dict) or set(outcomes) - {"timeseries", "analyze"}:
        raise field_error("outcomes", outcomes, "a table with 'timeseries' and/or 'analyze' lists")
    timeseries = outcomes.get("timeseries", [])
    if not isinstance(timeseries, list) or not all(isinstance(c, str) for c in timeseries):
        raise field_error(
            "outcomes.timeseries", timeseries, 'a list of time-series column names, or ["*"]'
        )
    for i, col in enumerate(timeseries):
        if not (col == "*" or col.isidentifier()):
            raise field_error(
                f"outcomes.timeseries.{i}",
                col,
                "'*' or a time-series column name such as 'market_share'",
            )
    analyze = outcomes.get("analyze", [])
    if not isinstance(analyze, list) or not all(isinstance(c, str) and c for c in analyze):
        raise field_error("outcomes.analyze", analyze, "a list of summary outcome names")

    runner = data.get("runner", DEFAULT_RUNNER)
    if not isinstance(runner, str) or runner.count(":") != 1:
        raise field_error(
            "runner", runner, "'module:function', e.g. 'analysis.runs.ensemble:run_model'"
        )
    if runner_name(runner) == DEFAULT_RUNNER:
        check_model_outcomes(analyze, timeseries)

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
