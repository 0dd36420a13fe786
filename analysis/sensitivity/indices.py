"""Sensitivity indices of a finished sweep (SALib): Sobol and Morris.

SALib expects the outputs in the order of its sample rows and silently returns
zeros when an output is NaN, so this module refuses, in one line, a sweep that is
incomplete, has failed runs or misses a value of a chosen outcome, and always
orders outputs by sample row (replications are averaged per row: they share their
seeds across rows, so the average is a paired, lower-variance estimate).

References: Saltelli et al. (2010), Variance based sensitivity analysis of model
output; Morris (1991), Factorial sampling plans for preliminary computational
experiments; Campolongo, Cariboni & Saltelli (2007), mu*.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.sweeps.dryrun import sample_size
from sim.errors import InputError

METHODS = ("sobol", "morris")
#: Default flag threshold: a Sobol interval (high - low) wider than this, or a Morris
#: mu* interval wider than this share of the largest mu*, is flagged "wide".
MAX_WIDTH = 0.1


class SweepFolderError(InputError):
    """A sweep folder that cannot be analysed as asked, in one line."""


def _finite(y: Any) -> Any:
    """The outputs as float64, refused if any is NaN or infinite (SALib would
    silently return meaningless indices)."""
    import numpy as np

    y = np.asarray(y, dtype=np.float64)
    if not np.isfinite(y).all():
        raise SweepFolderError(
            "outputs contain NaN or infinity; SALib would return meaningless indices"
        )
    return y


# --------------------------------------------------------------------------- loading


def load_finished(folder: str | Path) -> tuple[dict[str, Any], Any]:
    """The manifest and the compacted results of a complete sweep without failures.

    Raises:
        SweepFolderError: the folder is not a sweep, or is incomplete, or has failed runs.
    """
    import pandas as pd

    from analysis.sweeps.store import SweepStore

    store = SweepStore(folder)
    name = str(folder)
    if not store.manifest_path.exists():
        raise SweepFolderError(f"{name}: not a sweep folder (no manifest.json)")
    manifest = store.read_manifest()
    assert manifest is not None
    expected = int(manifest.get("table_rows", -1))
    if manifest.get("status") != "complete" or not store.results_path.exists():
        have = len(list(store.runs.glob("*.parquet"))) if store.runs.exists() else 0
        raise SweepFolderError(
            f"{name}: sweep incomplete ({have} of {manifest.get('runs')} runs on disk); "
            "run `demandsim sweep SPEC --out DIR` again to finish it"
        )
    try:
        df = pd.read_parquet(store.results_path)
    except Exception as exc:
        raise SweepFolderError(
            f"{store.results_path}: unreadable ({exc.__class__.__name__})"
        ) from None
    if len(df) != expected or df[["row", "rep"]].duplicated().any():
        raise SweepFolderError(
            f"{store.results_path}: {len(df)} rows, expected {expected} (one per sample row and replication); "
            "run the sweep again to rebuild it"
        )
    failed = df[df["status"] != "ok"]
    if len(failed):
        first = failed.iloc[0]
        raise SweepFolderError(
            f"{name}: {len(failed)} of {len(df)} runs failed (e.g. run {first['run_id']}: {first['error']}); "
            "fix the cause and run `demandsim sweep SPEC --out DIR --retry-failed`"
        )
    return manifest, df.sort_values(["row", "rep"], kind="stable").reset_index(drop=True)


def outcome_matrix(df: Any, manifest: dict[str, Any], outcomes: list[str]) -> Any:
    """Outcomes averaged over replications, one row per sample row, in sample order.

    Raises:
        SweepFolderError: an outcome that is unknown or has a missing (NaN) value.
    """
    params = set(manifest["parameters"])
    meta = {"row", "rep", "run_id", "seed", "status", "error"}
    available = [c for c in df.columns if c not in meta and c not in params]
    for name in outcomes:
        if name not in available:
            raise SweepFolderError(
                f"--outcome {name!r}: not an outcome of this sweep; available: {', '.join(available)}"
            )
        nan = int(df[name].isna().sum())
        if nan:
            # a sigma level is missing where a run had no defect; its bound never is
            bound = f"{name}_lower"
            hint = f" such as {bound!r} (defined for every run)" if bound in available else ""
            raise SweepFolderError(
                f"outcome {name!r} is missing (NaN) in {nan} of {len(df)} runs; SALib needs every value "
                f"(it would silently return zeros): choose other outcomes with --outcome{hint}"
            )
    means = df.groupby("row", sort=True)[outcomes].mean()
    if list(means.index) != list(range(int(manifest["rows"]))):
        raise SweepFolderError("results.parquet: sample rows are not 0..n-1; run the sweep again")
    return means


def default_outcomes(df: Any, manifest: dict[str, Any]) -> list[str]:
    """The spec's ``outcomes.analyze``, else every non-constant outcome without NaN (the
    settings ``sim.outcomes`` declares are not outcomes to analyse)."""
    if manifest.get("analyze"):
        return list(manifest["analyze"])
    from sim.outcomes import settings

    params = set(manifest["parameters"])
    # the run's settings (seed, horizon, population) are carried beside its outcomes
    meta = {"row", "rep", "run_id", "seed", "status", "error"} | settings()
    names = [c for c in df.columns if c not in meta and c not in params]
    return [c for c in names if not df[c].isna().any() and df[c].nunique() > 1]


# --------------------------------------------------------------------------- indices


def sobol_indices(
    problem: dict[str, Any],
    y: Any,
    *,
    second_order: bool = False,
    conf_level: float = 0.95,
    num_resamples: int = 200,
    seed: int = 1,
) -> tuple[Any, Any]:
    """First-order and total Sobol indices with bootstrap confidence intervals.

    ``y`` must follow the rows of ``SALib.sample.sobol.sample(problem, N, ...)``.
    ``seed`` seeds the bootstrap; it must be positive (SALib's Sobol analysis
    treats 0 as "unseeded").

    Returns:
        (table with parameter, S1, S1_conf, S1_low, S1_high, ST, ST_conf, ST_low,
        ST_high; second-order table or None).
    """
    import numpy as np
    import pandas as pd
    from SALib.analyze import sobol

    y = _finite(y)
    si = sobol.analyze(
        problem,
        y,
        calc_second_order=second_order,
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=seed,
    )
    table = pd.DataFrame({"parameter": problem["names"]})
    for key in ("S1", "ST"):
        table[key] = np.asarray(si[key], dtype=np.float64)
        table[f"{key}_conf"] = np.asarray(si[f"{key}_conf"], dtype=np.float64)
        table[f"{key}_low"] = table[key] - table[f"{key}_conf"]
        table[f"{key}_high"] = table[key] + table[f"{key}_conf"]
    s2 = None
    if second_order:
        names = problem["names"]
        rows = []
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append(
                    {
                        "parameter": names[i],
                        "other": names[j],
                        "S2": float(si["S2"][i][j]),
                        "S2_conf": float(si["S2_conf"][i][j]),
                    }
                )
        s2 = pd.DataFrame(rows)
    return table, s2


def morris_indices(
    problem: dict[str, Any],
    x: Any,
    y: Any,
    *,
    num_levels: int = 4,
    conf_level: float = 0.95,
    num_resamples: int = 200,
    seed: int = 1,
) -> Any:
    """Morris elementary effects: mu, mu*, sigma and the confidence interval of mu*."""
    import numpy as np
    import pandas as pd
    from SALib.analyze import morris

    y = _finite(y)
    si = morris.analyze(
        problem,
        np.asarray(x, dtype=np.float64),
        y,
        num_resamples=num_resamples,
        conf_level=conf_level,
        num_levels=num_levels,
        seed=seed,
    )
    table = pd.DataFrame({"parameter": problem["names"]})
    for key in ("mu", "mu_star", "sigma", "mu_star_conf"):
        table[key] = np.asarray(si[key], dtype=np.float64)
    table["mu_star_low"] = table["mu_star"] - table["mu_star_conf"]
    table["mu_star_high"] = table["mu_star"] + table["mu_star_conf"]
    return table


def analyze_sweep(
    folder: str | Path,
    method: str,
    outcomes: list[str] | None = None,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 200,
    seed: int = 1,
    max_width: float = MAX_WIDTH,
) -> tuple[Any, Any]:
    """Indices for every chosen outcome of a finished sweep, flagged (``flag_indices``).

    Returns:
        (indices table with an ``outcome`` column first; second-order table or None).
    """
    import pandas as pd

    from analysis.sweeps.store import SweepStore

    if seed < 1:
        raise SweepFolderError(f"--seed {seed}: expected a positive integer")
    if method not in METHODS:
        raise SweepFolderError(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    manifest, df = load_finished(folder)
    if manifest.get("method") != method:
        raise SweepFolderError(
            f"--method {method}: this sweep was sampled with {manifest.get('method')!r}; "
            f"{method} indices need sampler.method = {method!r}"
        )
    names = outcomes or default_outcomes(df, manifest)
    if not names:
        raise SweepFolderError(f"{folder}: no outcome to analyse; name one with --outcome")
    y = outcome_matrix(df, manifest, names)
    problem = manifest["problem"]
    tables, s2_tables = [], []
    for name in names:
        if method == "sobol":
            t, s2 = sobol_indices(
                problem,
                y[name].to_numpy(),
                second_order=bool(manifest.get("second_order")),
                conf_level=conf_level,
                num_resamples=num_resamples,
                seed=seed,
            )
            if s2 is not None:
                s2.insert(0, "outcome", name)
                s2_tables.append(s2)
        else:
            x = SweepStore(folder).read_samples(manifest["parameters"])
            t = morris_indices(
                problem,
                x,
                y[name].to_numpy(),
                num_levels=int(manifest.get("levels", 4)),
                conf_level=conf_level,
                num_resamples=num_resamples,
                seed=seed,
            )
        t.insert(0, "outcome", name)
        tables.append(t)
    s2_all = pd.concat(s2_tables, ignore_index=True) if s2_tables else None
    return flag_indices(pd.concat(tables, ignore_index=True), method, max_width), s2_all


# --------------------------------------------------------------------------- flags


def interval_widths(table: Any, method: str, keys: tuple[str, ...] = ("S1", "ST")) -> Any:
    """Full width (high - low) of every index's interval, one column per index key.

    Sobol widths are in index units; Morris widths are relative to the largest mu*
    of the same outcome (mu* has the outcome's units).
    """
    import pandas as pd

    if method == "sobol":
        return pd.DataFrame({k: 2 * table[f"{k}_conf"] for k in keys})
    top = table.groupby("outcome")["mu_star"].transform("max") if "outcome" in table else None
    scale = top if top is not None else table["mu_star"].max()
    return pd.DataFrame({"mu_star": (2 * table["mu_star_conf"] / scale).where(scale > 0, 0.0)})


def flag_indices(table: Any, method: str, max_width: float = MAX_WIDTH) -> Any:
    """The table with a ``flags`` column: "S1 wide", "ST negative", ... ("" = fine).

    An index is "wide" when its interval is wider than ``max_width``
    (``interval_widths``) and "negative" when its whole interval is below zero
    (a sign of too few runs: Sobol indices cannot be negative).
    """
    widths = interval_widths(table, method)
    flags = []
    for i in range(len(table)):
        f = [f"{k} wide" for k in widths.columns if widths[k].iloc[i] > max_width]
        if method == "sobol":
            f += [f"{k} negative" for k in ("S1", "ST") if table[f"{k}_high"].iloc[i] < 0]
        flags.append(",".join(f))
    out = table.copy()
    out["flags"] = flags
    return out


# --------------------------------------------------------------------------- plot


def plot_indices(table: Any, method: str, path: str | Path, conf_level: float = 0.95) -> None:
    """One panel per outcome: S1 and ST (Sobol) or mu* (Morris), with their intervals."""
    import io

    import numpy as np
    from matplotlib.figure import Figure

    from sim.io import atomic_write_bytes
    from sim.outcomes import find

    outcomes = list(dict.fromkeys(table["outcome"]))
    fig = Figure(figsize=(8, 0.6 + 2.4 * len(outcomes)), layout="constrained")
    axes = fig.subplots(len(outcomes), 1, squeeze=False)[:, 0]
    pct = f"{conf_level:.0%}"
    for ax, name in zip(axes, outcomes, strict=True):
        t = table[table["outcome"] == name]
        ypos = np.arange(len(t))
        if method == "sobol":
            h = 0.38
            ax.barh(
                ypos - h / 2, t["S1"], h, xerr=t["S1_conf"], label="first order S1", color="#4477aa"
            )
            ax.barh(ypos + h / 2, t["ST"], h, xerr=t["ST_conf"], label="total ST", color="#ee6677")
            ax.set_xlabel(f"Sobol index ({pct} bootstrap interval)")
        else:
            ax.barh(ypos, t["mu_star"], 0.6, xerr=t["mu_star_conf"], label="mu*", color="#4477aa")
            ax.plot(t["sigma"], ypos, "o", color="#ee6677", label="sigma")
            ax.set_xlabel(f"Morris elementary effect (mu* with {pct} interval)")
        ax.set_yticks(ypos, list(t["parameter"]))
        ax.invert_yaxis()
        ax.axvline(0, color="0.5", lw=0.8)
        o = find(name)  # the model's outcomes by their label; another runner's by name
        ax.set_title(name if o is None else f"{o.label} ({name})", loc="left", fontsize=10)
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write_bytes(path, buf.getvalue())


def write_tables(
    folder: str | Path, out: str | Path | None, tables: dict[str, Any], png: str, plot: Any
) -> list[Path]:
    """Write each table as CSV (name -> table; None is skipped) and ``plot(path)`` as
    the PNG ``png``, into ``out`` (default: the folder); return the paths."""
    from sim.io import atomic_write_text

    base = Path(out) if out else Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        if table is not None:
            atomic_write_text(base / name, table.to_csv(index=False, float_format="%.6g"))
            paths.append(base / name)
    plot(base / png)
    return [*paths, base / png]


def write_analysis(
    folder: str | Path, method: str, table: Any, s2: Any, out: str | Path | None = None
) -> list[Path]:
    """Write ``sensitivity-<method>.csv`` (+ ``-s2.csv``) and ``.png``; return the paths."""
    return write_tables(
        folder,
        out,
        {f"sensitivity-{method}.csv": table, f"sensitivity-{method}-s2.csv": s2},
        f"sensitivity-{method}.png",
        lambda path: plot_indices(table, method, path),
    )


def describe(table: Any, method: str, manifest: dict[str, Any] | None = None) -> str:
    """A short text table for the terminal (headed by the sample size if known)."""
    cols = ["outcome", "parameter"] + (
        ["S1", "S1_conf", "ST", "ST_conf"]
        if method == "sobol"
        else ["mu_star", "mu_star_conf", "sigma"]
    )
    if "flags" in table:
        cols.append("flags")
    body = str(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return (sample_size(manifest) + "\n" + body) if manifest else body
