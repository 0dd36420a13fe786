"""Sensitivity indices over time, from the time series a sweep already stored.

The model's outcomes are time series (contraction has an onset, alignment
drifts), so one index per end-of-run scalar hides which parameter drives an
outcome early and which late. Here the stored per-step outcomes of a Sobol or
Morris sweep (``outcomes.timeseries`` in the spec, ``timeseries.parquet`` in the
folder) are averaged over replications, optionally over windows of steps, and
SALib's estimator is applied at every step or window: the same runs, no new ones.

A step at which the outcome does not vary across sample rows (at the start, often
every run is equal) has no index: its row is kept with NaN and the flag
"constant".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.sensitivity.indices import MAX_WIDTH, SweepFolderError


def load_series(folder: str | Path, columns: list[str] | None = None) -> tuple[dict[str, Any], Any]:
    """The manifest and, per time-series column, a (sample rows x steps) array of the
    replication means, with the steps.

    Returns:
        (manifest, {"steps": array, column: array, ...}).

    Raises:
        SweepFolderError: no time series in the folder, an unknown column, or runs
            of unequal length.
    """
    import numpy as np
    import pandas as pd

    from analysis.sensitivity.indices import load_finished
    from analysis.sweeps.store import SweepStore

    manifest, _df = load_finished(folder)
    store = SweepStore(folder)
    if not store.timeseries_path.exists():
        raise SweepFolderError(
            f"{folder}: no time series stored; list them in the spec's outcomes.timeseries"
        )
    ts = pd.read_parquet(store.timeseries_path)
    available = [c for c in ts.columns if c not in ("row", "rep", "run_id", "step")]
    names = columns or available
    for name in names:
        if name not in available:
            raise SweepFolderError(
                f"--series {name!r}: not a stored time series; available: {', '.join(available)}"
            )
    rows = int(manifest["rows"])
    steps = np.sort(ts["step"].unique())
    counts = ts.groupby(["row", "rep"]).size()
    if counts.nunique() != 1 or int(counts.iloc[0]) != len(steps):
        raise SweepFolderError(
            f"{store.timeseries_path}: runs of unequal length; cannot align steps"
        )
    out: dict[str, Any] = {"steps": steps}
    for name in names:
        means = ts.groupby(["row", "step"], sort=True)[name].mean().unstack("step")
        if list(means.index) != list(range(rows)):
            raise SweepFolderError(f"{store.timeseries_path}: sample rows are not 0..n-1")
        out[name] = means.to_numpy(dtype=np.float64)
    return manifest, out


def windows(steps: Any, width: int) -> list[tuple[int, int, Any]]:
    """(first step, last step, column indices) of consecutive windows of ``width`` steps."""
    import numpy as np

    idx = np.arange(len(steps))
    return [
        (int(steps[i]), int(steps[min(i + width, len(steps)) - 1]), idx[i : i + width])
        for i in range(0, len(steps), width)
    ]


def indices_over_time(
    folder: str | Path,
    series: list[str] | None = None,
    *,
    window: int = 1,
    conf_level: float = 0.95,
    num_resamples: int = 200,
    seed: int = 1,
    max_width: float = MAX_WIDTH,
) -> Any:
    """Sobol or Morris indices at every step (or window) of every stored series.

    Returns:
        a long table: series, step, step_end, parameter, then the method's index
        columns (as ``analysis.sensitivity.indices``), runs, and flags.
    """
    import numpy as np
    import pandas as pd

    from analysis.sensitivity.indices import flag_indices, morris_indices, sobol_indices
    from analysis.sweeps.store import SweepStore

    if window < 1:
        raise SweepFolderError(f"--window {window}: expected a positive number of steps")
    manifest, data = load_series(folder, series)
    method = manifest["method"]
    if method not in ("sobol", "morris"):
        raise SweepFolderError(
            f"{folder}: indices over time need a 'sobol' or 'morris' sweep, not {method!r}"
        )
    problem = manifest["problem"]
    x = SweepStore(folder).read_samples(manifest["parameters"]) if method == "morris" else None
    runs = int(manifest["rows"]) * int(manifest["replications"])
    frames = []
    for name in [k for k in data if k != "steps"]:
        y_all = data[name]
        for first, last, cols in windows(data["steps"], window):
            y = y_all[:, cols].mean(axis=1)
            if not np.isfinite(y).all() or float(np.ptp(y)) == 0.0:
                t = pd.DataFrame({"parameter": problem["names"]})
                flag = "constant" if np.isfinite(y).all() else "missing"
            else:
                if method == "sobol":
                    t, _ = sobol_indices(
                        problem,
                        y,
                        second_order=bool(manifest.get("second_order")),
                        conf_level=conf_level,
                        num_resamples=num_resamples,
                        seed=seed,
                    )
                else:
                    t = morris_indices(
                        problem,
                        x,
                        y,
                        num_levels=int(manifest.get("levels", 4)),
                        conf_level=conf_level,
                        num_resamples=num_resamples,
                        seed=seed,
                    )
                t.insert(0, "outcome", name)
                t = flag_indices(t, method, max_width).drop(columns="outcome")
                flag = None
            t.insert(0, "step_end", last)
            t.insert(0, "step", first)
            t.insert(0, "series", name)
            t["runs"] = runs
            if flag is not None:
                t["flags"] = flag
            frames.append(t)
    return pd.concat(frames, ignore_index=True)


def plot_over_time(table: Any, method: str, path: str | Path, key: str | None = None) -> None:
    """One panel per series: each parameter's index over time as a line in its
    interval band (Sobol: ``key`` S1 or ST, default S1; Morris: mu*)."""
    import io

    from matplotlib.figure import Figure

    from sim.io import atomic_write_bytes

    key = key or ("S1" if method == "sobol" else "mu_star")
    conf = f"{key}_conf"
    series = list(dict.fromkeys(table["series"]))
    fig = Figure(figsize=(8, 0.8 + 2.8 * len(series)), layout="constrained")
    axes = fig.subplots(len(series), 1, squeeze=False)[:, 0]
    colors = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb")
    for ax, name in zip(axes, series, strict=True):
        t = table[table["series"] == name]
        for i, (param, g) in enumerate(t.groupby("parameter", sort=False)):
            x = (g["step"] + g["step_end"]) / 2
            c = colors[i % len(colors)]
            if key in g:
                ax.plot(
                    x,
                    g[key],
                    color=c,
                    label=str(param).split(".")[-1] if "." in str(param) else param,
                )
                ax.fill_between(x, g[key] - g[conf], g[key] + g[conf], color=c, alpha=0.2, lw=0)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_title(name, loc="left", fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(
        f"{'Sobol ' + key if method == 'sobol' else 'Morris mu*'} over time (bands: intervals)"
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    atomic_write_bytes(path, buf.getvalue())


def write_over_time(
    folder: str | Path, method: str, table: Any, out: str | Path | None = None
) -> list[Path]:
    """Write ``sensitivity-<method>-time.csv`` and ``.png``; return the paths."""
    from analysis.sensitivity.indices import write_tables

    return write_tables(
        folder,
        out,
        {f"sensitivity-{method}-time.csv": table},
        f"sensitivity-{method}-time.png",
        lambda path: plot_over_time(table, method, path),
    )
