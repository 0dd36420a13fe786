"""What a calibration is given, checked before any model is built: the spec (the fields
to fit with their ranges, trials, seeds) and the observed series (a step column, then
adopters, sales or other model columns)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from analysis.sweeps.spec import (
    Parameter,
    SweepSpecError,
    field_error,
    field_types,
    int_field,
    load_base,
    parse_parameter,
    run_seed,
)
from sim.scenario import build_scenario


class CalibrationError(SweepSpecError):
    """A calibration spec or observed file that cannot be used, in one line."""


#: Fields of the run that a calibration cannot fit, and why.
NOT_FITTED = {
    "run.steps": "cannot be fitted: the observed file's steps are the horizon",
    "run.seed": "cannot be fitted: the spec's seed gives every candidate the same seeds",
    "run.steps_per_year": "cannot be fitted: it is the calendar the rates are read in",
}


@dataclasses.dataclass(frozen=True)
class CalibrationSpec:
    """A validated calibration spec."""

    base: dict[str, Any]
    replications: int
    seed: int
    trials: int
    confidence: float
    sampler: str
    refine: int
    parameters: tuple[Parameter, ...]
    source: dict[str, Any]

    @property
    def seeds(self) -> list[int]:
        return [run_seed(self.seed, r) for r in range(self.replications)]


def parse_calibration_spec(
    data: dict[str, Any], root: str | Path, scenario: str
) -> CalibrationSpec:
    """Validate plain calibration-spec data for ``scenario``."""
    allowed = {
        "replications",
        "seed",
        "trials",
        "confidence",
        "sampler",
        "refine",
        "set",
        "parameters",
    }
    for key in data:
        if key not in allowed:
            raise CalibrationError(f"{key}: unknown field; allowed: {', '.join(sorted(allowed))}")
    _name, base_sc, fixed = load_base(data, root, scenario=scenario)
    base = base_sc.to_dict()
    replications = int_field(data, "replications", 4, 2, 10_000)
    seed = int_field(data, "seed", 0, 0, 2**63 - 1)
    trials = int_field(data, "trials", 40, 2, 100_000)
    refine = int_field(data, "refine", 30, 0, 100_000)
    confidence = data.get("confidence", 0.9)
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, float)
        or not 0.5 <= confidence < 1
    ):
        raise field_error("confidence", confidence, "a number in [0.5, 1), e.g. 0.9")
    # random (ABC rejection, then refinement) by default: measured 0.76 s per good fit
    # against TPE's 1.31 s (benchmarks/calibration-recovery.md)
    sampler = data.get("sampler", "random")
    if sampler not in ("tpe", "random"):
        raise field_error("sampler", sampler, "'tpe' or 'random'")
    raw = data.get("parameters", {})
    if not isinstance(raw, dict) or not raw:
        raise field_error(
            "parameters", raw, 'a table of fields, e.g. "wom.q" = { range = [0.02, 0.6] }'
        )
    fields = field_types()
    params = []
    for name, value in raw.items():
        if name in NOT_FITTED:
            raise CalibrationError(f"parameters.{name}: {NOT_FITTED[name]}; expected a model field")
        if name in fixed:
            raise CalibrationError(f"parameters.{name}: also fixed in [set]; fit it or fix it")
        params.append(parse_parameter(name, value, base, fields))
    return CalibrationSpec(
        base=base,
        replications=replications,
        seed=seed,
        trials=trials,
        confidence=float(confidence),
        sampler=sampler,
        refine=refine,
        parameters=tuple(params),
        source=data,
    )


def model_columns(base: dict[str, Any]) -> list[str]:
    """The time-series columns the model writes for this scenario (a tiny market)."""
    from sim.model import DemandModel

    sc = build_scenario(base, {"run.customers": 20, "run.warmup_weeks": 0})
    cols = DemandModel(sc, rng=0).datacollector.get_model_vars_dataframe().columns
    return [c for c in cols if c != "step"]


#: Columns every market has; any other column is checked against the model's columns,
#: which needs a (tiny) model built, so a file of only these is checked without one.
COMMON_COLUMNS = ("adopters", "sales")
#: The most steps a run has (the bound of run.steps): a longer series cannot be fitted.
MAX_STEPS = 1_000_000
#: Larger counts are not a market's (and overflow float sums of squares: 1e300**2).
MAX_COUNT = 1e12


def market_size(base: dict[str, Any]) -> int:
    """The most needs the focal firm can serve: one per customer and category."""
    sc = build_scenario(base)
    return int(sc.run.customers) * len(sc.categories)


def read_observed(
    path: str | Path,
    allowed: list[str] | Callable[[], list[str]],
    market: int | None = None,
) -> Any:
    """Read and validate an observed file (CSV or Parquet), before any model is built.

    Adopters are cumulative counts of needs served: whole, never decreasing, not all
    zero, at most ``market``; sales, when given beside them, are the change in
    adopters from one step to the next; a share column lies in [0, 1].

    Args:
        path: the file.
        allowed: the model's time-series columns (``sales`` is allowed besides), or a
            function giving them, called only for a column other than adopters or sales.
        market: the most adopters the scenario's market holds (``market_size``).

    Raises:
        CalibrationError: one line naming the file, the column or step, and what is allowed.
    """
    import pandas as pd

    path = Path(path)
    shown = f"--observed {str(path)!r}"
    if not path.is_file():
        raise CalibrationError(f"{shown}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = pd.read_csv(path, comment="#")
        elif suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            raise CalibrationError(f"{shown}: expected a .csv or .parquet file")
    except CalibrationError:
        raise
    except Exception as exc:  # any reader failure is a file that cannot be used
        raise CalibrationError(f"{shown}: cannot be read ({exc.__class__.__name__})") from None
    cols = [str(c) for c in df.columns]
    if "step" not in cols:
        raise CalibrationError(
            f"{shown}: no 'step' column; expected step plus adopters and/or sales"
        )
    series = [c for c in cols if c != "step"]
    if not series:
        raise CalibrationError(f"{shown}: no observed column; expected adopters and/or sales")
    if len(df) > MAX_STEPS:
        raise CalibrationError(
            f"{shown}: {len(df):,} steps; expected at most {MAX_STEPS:,} (the bound of run.steps)"
        )
    if len(df) < 3:
        raise CalibrationError(f"{shown}: {len(df)} rows; expected at least 3 periods")
    for c in cols:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            raise CalibrationError(f"{shown}: column {c!r} is not numeric; expected numbers")
    steps = df["step"].to_numpy(dtype=float)
    if not np.all(np.isfinite(steps)) or np.any(steps != np.round(steps)) or steps[0] < 0:
        raise CalibrationError(f"{shown}: step must be whole numbers from 0 up")
    gaps = np.nonzero(np.diff(steps) != 1)[0]
    if len(gaps):
        i = int(gaps[0])
        raise CalibrationError(
            f"{shown}: step jumps from {steps[i]:g} to {steps[i + 1]:g}; "
            "expected consecutive steps with no gaps"
        )
    for c in series:
        v = df[c].to_numpy(dtype=float)
        bad = np.nonzero(~np.isfinite(v) | (v < 0))[0]
        if len(bad):
            i = int(bad[0])
            raise CalibrationError(
                f"{shown}: {c} at step {steps[i]:g} = {v[i]:g}; expected a non-negative number"
            )
    _check_counts(df, shown, market)
    # last: a column other than adopters or sales needs the model's columns listed
    unusual = [c for c in series if c not in COMMON_COLUMNS]
    known: list[str] = []
    if unusual:
        known = allowed() if callable(allowed) else allowed
    for c in unusual:
        if c not in known:
            import difflib

            close = difflib.get_close_matches(c, [*COMMON_COLUMNS, *known], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise CalibrationError(
                f"{shown}: unknown column {c!r}; expected adopters, sales or a model column{hint}"
            )
    return df.astype({"step": int}).reset_index(drop=True)


def _check_counts(df: Any, shown: str, market: int | None) -> None:
    """Refuse series that are not what the model's columns count (see ``read_observed``)."""
    from sim.outcomes import SERIES, unit

    steps = df["step"].to_numpy()
    for c in [c for c in df.columns if c != "step"]:
        v = df[c].to_numpy(dtype=float)
        top = int(np.argmax(v))
        if v[top] > MAX_COUNT:
            raise CalibrationError(
                f"{shown}: {c} at step {steps[top]} = {v[top]:.3g}; expected at most {MAX_COUNT:.0e}"
            )
        if unit(c, SERIES) == "share" and v[top] > 1:
            raise CalibrationError(
                f"{shown}: {c} at step {steps[top]} = {v[top]:g}; expected a share in [0, 1]"
            )
        if c in COMMON_COLUMNS and not v.any():
            raise CalibrationError(
                f"{shown}: {c} is zero at every step; expected observed {c} (counts of needs)"
            )
    if "adopters" not in df.columns:
        return
    adopters = df["adopters"].to_numpy(dtype=float)
    down = np.nonzero(np.diff(adopters) < 0)[0]
    if len(down):
        i = int(down[0]) + 1
        raise CalibrationError(
            f"{shown}: adopters fall from {adopters[i - 1]:g} to {adopters[i]:g} at step "
            f"{steps[i]}; expected cumulative adopters, never decreasing"
        )
    if market is not None and adopters[-1] > market:
        raise CalibrationError(
            f"{shown}: adopters reach {adopters[-1]:g}, above the scenario's market of "
            f"{market:,} needs; expected at most {market:,} (or a larger run.customers)"
        )
    if "sales" in df.columns:
        sales = df["sales"].to_numpy(dtype=float)[1:]
        change = np.diff(adopters)
        off = np.nonzero(np.abs(sales - change) > 1e-6 * np.maximum(1.0, np.abs(change)))[0]
        if len(off):
            i = int(off[0]) + 1
            raise CalibrationError(
                f"{shown}: sales at step {steps[i]} = {sales[i - 1]:g} but adopters grew by "
                f"{change[i - 1]:g}; expected sales equal to the change in adopters"
            )


def check_study(out: Path, option: str = "--out") -> None:
    """Refuse, before any work, an output folder whose kept study (``study.db``, the
    SQLite database a rerun continues) is damaged; it is only read, never changed."""
    import sqlite3

    db = Path(out) / "study.db"
    if not db.exists():
        return
    try:
        con = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True)
        try:
            (verdict,) = con.execute("PRAGMA quick_check").fetchone()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        verdict, tables = str(exc), set()
    if verdict == "ok" and "trials" in tables:
        return
    raise CalibrationError(
        f"{option} {str(out)!r}: study.db is damaged ({verdict if verdict != 'ok' else 'no trials'}); "
        "expected the study this command kept: remove it to start again, or use a new folder"
    )
