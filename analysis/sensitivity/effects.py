"""Main effects and two-way interactions of grid and Latin-hypercube sweeps.

Sobol and Morris sweeps have SALib's estimators (``analysis.sensitivity.indices``); a grid
or an LHS sweep has none, so this module computes what a designed experiment
gives: the mean outcome at each level of each parameter (averaged over the other
parameters), its deviation from the grand mean (the main effect) with an
interval, the share of the outcome's variance the levels explain (the
correlation ratio, a first-order index), and two-way cell means with their
interaction terms.

Levels: a grid's values as sampled; an LHS range is cut into equal-count bins by
rank (``bins``, labelled by the bin's mean value).

Intervals, where the design decides what is uncertain:

- grid: every combination is run, so the only uncertainty is the replications'.
  The effect is computed within each replication (paired: replications share
  their seeds across points) and the interval is Student's t over replications;
  one replication gives no interval.
- LHS: the other parameters vary within a bin too, so the interval is Student's t
  over the sample rows in the bin (outcomes averaged over replications).
"""

from __future__ import annotations

import math
from typing import Any

DESIGNS = ("grid", "lhs")
#: Default flag threshold: an effect interval wider than this many standard
#: deviations of the outcome (across sample rows) is flagged "wide".
MAX_WIDTH = 0.2


def _t(conf_level: float, dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + conf_level / 2, dof)) if dof >= 1 else math.nan


def _level_order(manifest: dict[str, Any], name: str) -> list[Any] | None:
    """The spec's order of a ``levels`` parameter (None for a range)."""
    for p in manifest.get("normalized", {}).get("parameters", []):
        if p.get("name") == name and p.get("kind") == "levels":
            return list(p.get("levels", []))
    return None


def levels_of(
    values: Any, design: str, bins: int, order: list[Any] | None = None
) -> tuple[Any, list[str], list[float]]:
    """Code each sample row by its level.

    Returns:
        (integer code per row, label per level, x position per level).
    """
    import numpy as np
    import pandas as pd

    s = pd.Series(values).reset_index(drop=True)
    numeric = s.dtype.kind in "biuf"
    if order is not None or not numeric:
        cats = order if order is not None else list(dict.fromkeys(s))
        lookup = {repr(v): i for i, v in enumerate(cats)}
        codes = np.array([lookup[repr(v)] for v in s], dtype=np.int64)
        return codes, [str(v) for v in cats], [float(i) for i in range(len(cats))]
    if design == "grid" or s.nunique() <= bins:
        uniq = np.sort(s.unique())
        codes = np.searchsorted(uniq, s.to_numpy())
        return codes, [f"{v:.6g}" for v in uniq], [float(v) for v in uniq]
    # Equal-count bins by rank: each bin holds the same number of LHS rows (+-1).
    ranks = s.rank(method="first").to_numpy() - 1
    codes = np.minimum((ranks * bins // len(s)).astype(np.int64), bins - 1)
    xs = [float(s[codes == k].mean()) for k in range(bins)]
    labels = [f"{s[codes == k].min():.4g}..{s[codes == k].max():.4g}" for k in range(bins)]
    return codes, labels, xs


def _outcome_matrix(df: Any, name: str, rows: int, reps: int) -> Any:
    """Outcome as a (sample rows x replications) array, in sample order."""
    import numpy as np

    y = np.full((rows, reps), np.nan)
    y[df["row"].to_numpy(), df["rep"].to_numpy()] = df[name].to_numpy(dtype=np.float64)
    return y


def main_effects(
    df: Any,
    manifest: dict[str, Any],
    outcomes: list[str],
    *,
    bins: int = 5,
    conf_level: float = 0.95,
    max_width: float = MAX_WIDTH,
) -> tuple[Any, Any]:
    """Main effects of every parameter on every outcome.

    Args:
        df: the sweep's table (one row per sample row and replication, sorted).
        manifest: the sweep's manifest (parameters, method, rows, replications).
        outcomes: outcome columns to analyse (no NaN: check before).
        bins: levels of an LHS range.
        conf_level: coverage of the intervals.
        max_width: flag intervals wider than this many outcome standard deviations.

    Returns:
        (per-level table: outcome, parameter, level, x, rows, runs, mean, effect,
        low, high, width; per-parameter summary: outcome, parameter, levels, rows,
        runs, share, span, widest, flags).
    """
    import numpy as np
    import pandas as pd

    design = manifest["method"]
    rows, reps = int(manifest["rows"]), int(manifest["replications"])
    first = df[df["rep"] == df["rep"].min()].sort_values("row")
    level_rows, summary_rows = [], []
    for name in outcomes:
        y = _outcome_matrix(df, name, rows, reps)
        y_row = y.mean(axis=1)
        sd = float(np.std(y_row))
        for pname in manifest["parameters"]:
            codes, labels, xs = levels_of(first[pname], design, bins, _level_order(manifest, pname))
            effects, widths = [], []
            for k, (label, x) in enumerate(zip(labels, xs, strict=True)):
                at = codes == k
                n = int(at.sum())
                if design == "grid":
                    per_rep = y[at].mean(axis=0) - y.mean(axis=0)  # one effect per replication
                    effect = float(per_rep.mean())
                    half = (
                        _t(conf_level, reps - 1) * float(np.std(per_rep, ddof=1)) / math.sqrt(reps)
                        if reps > 1
                        else math.nan
                    )
                else:
                    vals = y_row[at]
                    effect = float(vals.mean() - y_row.mean())
                    half = (
                        _t(conf_level, n - 1) * float(np.std(vals, ddof=1)) / math.sqrt(n)
                        if n > 1
                        else math.nan
                    )
                mean = float(y_row[at].mean())
                effects.append(effect)
                widths.append(2 * half)
                level_rows.append(
                    {
                        "outcome": name,
                        "parameter": pname,
                        "level": label,
                        "x": x,
                        "rows": n,
                        "runs": n * reps,
                        "mean": mean,
                        "effect": effect,
                        "low": effect - half,
                        "high": effect + half,
                        "width": 2 * half,
                    }
                )
            counts = np.bincount(codes, minlength=len(labels))
            means = np.array([y_row[codes == k].mean() for k in range(len(labels))])
            var = float(np.var(y_row))
            between = float(np.sum(counts * (means - y_row.mean()) ** 2) / counts.sum())
            widest = float(np.nanmax(widths)) if not np.isnan(widths).all() else math.nan
            flags = []
            if math.isnan(widest):
                flags.append("no interval" + (" (1 replication)" if design == "grid" else ""))
            elif sd > 0 and widest > max_width * sd:
                flags.append("wide")
            summary_rows.append(
                {
                    "outcome": name,
                    "parameter": pname,
                    "levels": len(labels),
                    "rows": rows,
                    "runs": rows * reps,
                    "share": between / var if var > 0 else math.nan,
                    "span": float(max(effects) - min(effects)),
                    "widest": widest,
                    "flags": ",".join(flags),
                }
            )
    return pd.DataFrame(level_rows), pd.DataFrame(summary_rows)


def interactions(
    df: Any, manifest: dict[str, Any], outcomes: list[str], *, bins: int = 3
) -> tuple[Any, Any]:
    """Two-way cell means and interaction terms of every pair of parameters.

    The interaction of a cell is its mean minus both main effects and the grand
    mean; it is exactly zero for an additive outcome on a full grid.

    Returns:
        (cell table: outcome, parameter, other, level, other_level, x, rows, mean,
        interaction; pair summary: outcome, parameter, other, share (of the
        outcome's variance carried by the interaction terms)).
    """
    import numpy as np
    import pandas as pd

    design = manifest["method"]
    rows, reps = int(manifest["rows"]), int(manifest["replications"])
    first = df[df["rep"] == df["rep"].min()].sort_values("row")
    names = list(manifest["parameters"])
    coded = {p: levels_of(first[p], design, bins, _level_order(manifest, p)) for p in names}
    cells, pairs = [], []
    for name in outcomes:
        y_row = _outcome_matrix(df, name, rows, reps).mean(axis=1)
        grand = float(y_row.mean())
        var = float(np.var(y_row))
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                ca, la, xa = coded[a]
                cb, lb, _ = coded[b]
                ma = {k: float(y_row[ca == k].mean()) for k in range(len(la))}
                mb = {k: float(y_row[cb == k].mean()) for k in range(len(lb))}
                sq = 0.0
                for ka in range(len(la)):
                    for kb in range(len(lb)):
                        at = (ca == ka) & (cb == kb)
                        n = int(at.sum())
                        if not n:
                            continue
                        mean = float(y_row[at].mean())
                        inter = mean - ma[ka] - mb[kb] + grand
                        sq += n * inter**2
                        cells.append(
                            {
                                "outcome": name,
                                "parameter": a,
                                "other": b,
                                "level": la[ka],
                                "other_level": lb[kb],
                                "x": xa[ka],
                                "rows": n,
                                "mean": mean,
                                "interaction": inter,
                            }
                        )
                pairs.append(
                    {
                        "outcome": name,
                        "parameter": a,
                        "other": b,
                        "share": sq / rows / var if var > 0 else math.nan,
                    }
                )
    return pd.DataFrame(cells), pd.DataFrame(pairs)


def describe(summary: Any, manifest: dict[str, Any]) -> str:
    """The sample size and the per-parameter table, for the terminal."""
    rows, reps = int(manifest["rows"]), int(manifest["replications"])
    what = "points" if manifest["method"] == "grid" else "LHS samples"
    head = f"{manifest['method']}: {rows} {what} x {reps} replications = {rows * reps} runs"
    cols = ["outcome", "parameter", "levels", "share", "span", "widest", "flags"]
    body = summary[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}")
    return head + "\n" + body


def plot_main_effects(table: Any, path: Any, conf_level: float = 0.95) -> None:
    """One panel per outcome and parameter: the mean outcome at each level, with the
    effect's interval around it."""
    import io

    import numpy as np
    from matplotlib.figure import Figure

    from sim.io import atomic_write_bytes

    outcomes = list(dict.fromkeys(table["outcome"]))
    params = list(dict.fromkeys(table["parameter"]))
    fig = Figure(figsize=(3.2 * len(params) + 0.6, 2.5 * len(outcomes) + 0.6), layout="constrained")
    axes = fig.subplots(len(outcomes), len(params), squeeze=False)
    for i, name in enumerate(outcomes):
        for j, pname in enumerate(params):
            ax = axes[i, j]
            t = table[(table["outcome"] == name) & (table["parameter"] == pname)]
            half = (t["width"] / 2).to_numpy()
            err = None if np.isnan(half).all() else np.nan_to_num(half)
            ax.errorbar(t["x"], t["mean"], yerr=err, marker="o", capsize=3, color="#4477aa")
            ax.axhline(float((t["mean"] - t["effect"]).iloc[0]), color="0.6", lw=0.8, ls="--")
            if not all(lbl == f"{x:.6g}" for lbl, x in zip(t["level"], t["x"], strict=True)):
                ax.set_xticks(t["x"], list(t["level"]), fontsize=7)
            ax.set_xlabel(pname, fontsize=8)
            if j == 0:
                ax.set_ylabel(name, fontsize=8)
            ax.grid(True, alpha=0.3)
    fig.suptitle(f"Main effects (mean per level; {conf_level:.0%} interval of the effect)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    atomic_write_bytes(path, buf.getvalue())


def plot_interactions(cells: Any, path: Any) -> None:
    """One panel per outcome and pair: mean against the first parameter, one line per
    level of the second (parallel lines: no interaction)."""
    import io

    from matplotlib.figure import Figure

    from sim.io import atomic_write_bytes

    outcomes = list(dict.fromkeys(cells["outcome"]))
    pairs = list(dict.fromkeys(zip(cells["parameter"], cells["other"], strict=True)))
    fig = Figure(figsize=(3.4 * len(pairs) + 0.6, 2.6 * len(outcomes) + 0.6), layout="constrained")
    axes = fig.subplots(len(outcomes), len(pairs), squeeze=False)
    for i, name in enumerate(outcomes):
        for j, (a, b) in enumerate(pairs):
            ax = axes[i, j]
            t = cells[
                (cells["outcome"] == name) & (cells["parameter"] == a) & (cells["other"] == b)
            ]
            for lvl, g in t.groupby("other_level", sort=False):
                ax.plot(g["x"], g["mean"], marker="o", label=f"{b.split('.')[-1]} = {lvl}")
            ax.set_xlabel(a, fontsize=8)
            if j == 0:
                ax.set_ylabel(name, fontsize=8)
            ax.legend(fontsize=6)
            ax.grid(True, alpha=0.3)
    fig.suptitle("Two-way interactions (cell means)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    atomic_write_bytes(path, buf.getvalue())


def analyze_effects(
    folder: Any,
    outcomes: list[str] | None = None,
    *,
    out: Any = None,
    bins: int = 5,
    conf_level: float = 0.95,
    max_width: float = MAX_WIDTH,
) -> tuple[Any, Any, list[Any]]:
    """Main effects and interactions of a finished grid or LHS sweep, written to
    ``effects.csv``, ``effects-summary.csv``, ``interactions.csv``, ``effects.png``
    and ``interactions.png`` in ``out`` (default: the folder).

    Returns:
        (per-level table, summary table, written paths).

    Raises:
        SweepFolderError: not a finished grid/LHS sweep, or an outcome with NaN.
    """
    from pathlib import Path

    from analysis.sensitivity.indices import (
        SweepFolderError,
        default_outcomes,
        load_finished,
        outcome_matrix,
    )
    from sim.io import atomic_write_text

    manifest, df = load_finished(folder)
    if manifest.get("method") not in DESIGNS:
        raise SweepFolderError(
            f"--method effects: this sweep was sampled with {manifest.get('method')!r}; "
            "main effects need sampler.method = 'grid' or 'lhs'"
        )
    names = outcomes or default_outcomes(df, manifest)
    if not names:
        raise SweepFolderError(f"{folder}: no outcome to analyse; name one with --outcome")
    outcome_matrix(df, manifest, names)  # refuses unknown outcomes and NaN, in one line
    table, summary = main_effects(
        df, manifest, names, bins=bins, conf_level=conf_level, max_width=max_width
    )
    cells, pairs = interactions(df, manifest, names)
    base = Path(out) if out else Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    paths = []
    for fname, frame in (
        ("effects.csv", table),
        ("effects-summary.csv", summary),
        ("interactions.csv", cells),
        ("interactions-summary.csv", pairs),
    ):
        atomic_write_text(base / fname, frame.to_csv(index=False, float_format="%.6g"))
        paths.append(base / fname)
    plot_main_effects(table, base / "effects.png", conf_level)
    paths.append(base / "effects.png")
    if len(cells):
        plot_interactions(cells, base / "interactions.png")
        paths.append(base / "interactions.png")
    return table, summary, paths
