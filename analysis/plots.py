"""Plots of runs and comparisons as PNG files (matplotlib, no display needed).

Titles and axis labels are the series' labels and units (``sim.outcomes``).
Figures are built with ``matplotlib.figure.Figure`` directly (the Agg canvas), so
nothing here touches pyplot's global state or the process-wide backend. Every
file is written atomically.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.io import atomic_write_bytes
from sim.outcomes import SERIES, unit
from sim.outcomes import label as outcome_label

COMPARE_SERIES: tuple[str, ...] = (
    "market_share",
    "marketing_density",
    "sigma_level",
    "sigma_level_lower",
    "cum_profit",
    "alignment",
)

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def literal_text(fig: Figure) -> Figure:
    """Show every text of ``fig`` literally: a scenario name or label such as ``$x$``
    is not a formula (mathtext would render it, or fail on an unbalanced ``$``)."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
    return fig


def save_figure(fig: Figure, path: Path) -> Path:
    literal_text(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    return path


def series_titles(col: str, currency: str = "") -> tuple[str, str]:
    """A series' plot title and y-axis label: its label and unit as ``sim.outcomes``
    declares them (an amount of money in ``currency`` when one is given)."""
    text = outcome_label(col, SERIES)
    u = unit(col, SERIES)
    if u == "money" and currency:
        u = currency
    return text[:1].upper() + text[1:], u or text


def time_axis(steps: np.ndarray, steps_per_year: int | None) -> tuple[np.ndarray, str]:
    """Steps as calendar time: years for a horizon of two years or more, weeks below
    (steps unchanged, labelled 'step', when the calendar is not known)."""
    from sim.calendar import WEEKS_PER_YEAR

    x = np.asarray(steps, dtype=float)
    if not steps_per_year:
        return x, "step"
    if x.size and x.max() >= 2 * steps_per_year:
        return x / steps_per_year, "years"
    return x * WEEKS_PER_YEAR / steps_per_year, "weeks"


def _fig(
    title: str, ylabel: str, size: tuple[float, float] = (7.0, 3.6), xlabel: str = "step"
) -> tuple[Figure, Any]:
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10 if len(title) > 60 else 12)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _steps(ts: pd.DataFrame) -> np.ndarray:
    return ts["step"].to_numpy() if "step" in ts.columns else np.arange(len(ts))


def _with_cum_profit(ts: pd.DataFrame) -> pd.DataFrame:
    if "cum_profit" not in ts.columns and "profit" in ts.columns:
        ts = ts.assign(cum_profit=ts["profit"].cumsum())
    return ts


def plot_run(
    ts: pd.DataFrame,
    out_dir: str | Path,
    currency: str = "",
    steps_per_year: int | None = None,
) -> list[Path]:
    """Write the key series of one run as PNG files into ``out_dir``.

    Args:
        ts: the run's time series (one row per step, model output columns).
        out_dir: folder for the files (created if needed).
        currency: the unit of money axes (``run.currency``).
        steps_per_year: the calendar (``run.steps_per_year``), to draw time in years or
            weeks rather than steps.

    Returns:
        The paths written: market shares, marketing density and detection, sigma
        level, cumulative profit, alignment with the contraction flag, and the
        demand structure against the portfolio (when those columns exist).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ts = _with_cum_profit(ts)
    x, xlabel = time_axis(_steps(ts), steps_per_year)
    paths: list[Path] = []

    shares = [c for c in ts.columns if c.startswith("share_")]
    if shares or "market_share" in ts.columns:
        fig, ax = _fig("Market shares", "share of served needs", xlabel=xlabel)
        for i, c in enumerate(shares or ["market_share"]):
            ax.plot(x, ts[c], label=c.removeprefix("share_"), color=_COLORS[i % len(_COLORS)])
        ax.legend(loc="best", fontsize=8)
        paths.append(save_figure(fig, out / "market_share.png"))

    present = [c for c in ("marketing_density", "detected_share") if c in ts.columns]
    if present:
        fig, ax = _fig("Marketing density and detection (cumulative)", "share", xlabel=xlabel)
        for i, c in enumerate(present):
            ax.plot(x, ts[c], label=outcome_label(c, SERIES), color=_COLORS[i])
        ax.set_ylim(0, 1.02)
        ax.legend(loc="best", fontsize=8)
        paths.append(save_figure(fig, out / "marketing_density.png"))

    for col, name in (("sigma_level", "sigma_level.png"), ("cum_profit", "cum_profit.png")):
        if col in ts.columns:
            title, ylabel = series_titles(col, currency)
            fig, ax = _fig(title, ylabel, xlabel=xlabel)
            ax.plot(x, ts[col], color=_COLORS[0], label=outcome_label(col, SERIES))
            if col == "cum_profit":
                thousands(ax.yaxis)
            if col == "sigma_level" and "sigma_level_lower" in ts.columns:
                # the point is missing while there is no defect; the bound never is
                ax.plot(
                    x,
                    ts["sigma_level_lower"],
                    color=_COLORS[0],
                    ls=":",
                    label=outcome_label("sigma_level_lower", SERIES),
                )
                ax.legend(loc="best", fontsize=8)
            paths.append(save_figure(fig, out / name))

    if "alignment" in ts.columns:
        title, ylabel = series_titles("alignment")
        fig, ax = _fig(title, ylabel, xlabel=xlabel)
        ax.plot(x, ts["alignment"], color=_COLORS[0], label=outcome_label("alignment", SERIES))
        if "contraction" in ts.columns:
            flag = ts["contraction"].fillna(0).to_numpy(dtype=float) > 0
            if flag.any():
                ax.fill_between(
                    x,
                    0,
                    1,
                    where=flag,
                    color=_COLORS[1],
                    alpha=0.15,
                    transform=ax.get_xaxis_transform(),
                    label="contraction flagged",
                )
        ax.legend(loc="best", fontsize=8)
        paths.append(save_figure(fig, out / "alignment.png"))

    structure = plot_structure(ts, out / "demand_structure.png", steps_per_year)
    if structure is not None:
        paths.append(structure)
    return paths


def plot_structure(ts: pd.DataFrame, path: Path, steps_per_year: int | None = None) -> Path | None:
    """Demand share per (category, tier) cell over time; a thick line where the
    focal firm sells the cell, a thin dashed one where it does not."""
    cells = [c.removeprefix("demand_") for c in ts.columns if c.startswith("demand_")]
    if not cells:
        return None
    x, xlabel = time_axis(_steps(ts), steps_per_year)
    fig, ax = _fig(
        "Demand structure vs focal portfolio (thick: sold by the focal firm; dashed: not sold)",
        "share of all needs",
        size=(7.0, 4.0),
        xlabel=xlabel,
    )
    for i, cell in enumerate(cells):
        y = ts[f"demand_{cell}"].to_numpy(dtype=float)
        color = _COLORS[i % len(_COLORS)]
        prod = ts.get(f"product_{cell}")
        if prod is None:
            ax.plot(x, y, color=color, label=cell)
            continue
        sold = prod.fillna(0).to_numpy(dtype=float) > 0
        ax.plot(
            x, np.where(sold, y, np.nan), color=color, lw=2.5, label=cell if sold.any() else None
        )
        ax.plot(
            x,
            np.where(sold, np.nan, y),
            color=color,
            lw=1,
            ls="--",
            label=None if sold.any() else cell,
        )
    ax.legend(loc="best", fontsize=7, ncol=2)
    return save_figure(fig, path)


def plot_compare(
    band_a: pd.DataFrame,
    band_b: pd.DataFrame,
    label_a: str,
    label_b: str,
    out_dir: str | Path,
    diffs: dict[str, pd.DataFrame] | None = None,
    series: Sequence[str] = COMPARE_SERIES,
    currency: str = "",
    steps_per_year: int | None = None,
) -> list[Path]:
    """Overlay the mean of each key series of both sides with its 95% band.

    Args:
        band_a, band_b: output of ``analysis.compare.statistics.mean_band`` for each side.
        label_a, label_b: legend labels.
        out_dir: folder for the PNG files.
        diffs: optional paired differences (``analysis.compare.statistics.paired_band``) per
            column, each drawn as its own plot of B - A with its band.
        series: columns to overlay (missing ones are skipped).
        currency: the unit of money axes.
        steps_per_year: the calendar, to draw time in years or weeks rather than steps.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for col in series:
        if col not in band_a.columns or col not in band_b.columns:
            continue
        title, ylabel = series_titles(col, currency)
        x, xlabel = time_axis(band_a["step"].to_numpy(), steps_per_year)
        fig, ax = _fig(f"{title}: mean and 95% band over replications", ylabel, xlabel=xlabel)
        for band, side, color in ((band_a, label_a, _COLORS[0]), (band_b, label_b, _COLORS[1])):
            ax.plot(x, band[col], color=color, label=side)
            ax.fill_between(x, band[f"{col}_lo"], band[f"{col}_hi"], color=color, alpha=0.2, lw=0)
        if currency and ylabel == currency:
            thousands(ax.yaxis)
        ax.legend(loc="best", fontsize=8)
        paths.append(save_figure(fig, out / f"compare_{_slug(col)}.png"))
    for col, d in (diffs or {}).items():
        title, ylabel = series_titles(col, currency)
        x, xlabel = time_axis(d["step"].to_numpy(), steps_per_year)
        fig, ax = _fig(
            f"{title}: paired difference {label_b} − {label_a} (95% band)", ylabel, xlabel=xlabel
        )
        ax.plot(x, d["diff"], color=_COLORS[3])
        ax.fill_between(x, d["lo"], d["hi"], color=_COLORS[3], alpha=0.25, lw=0)
        ax.axhline(0.0, color="black", lw=0.8)
        if currency and ylabel == currency:
            thousands(ax.yaxis)
        paths.append(save_figure(fig, out / f"diff_{_slug(col)}.png"))
    return paths


def plot_tornado(
    strip: dict[str, Any], label_b: str, label_a: str, currency: str, out_dir: str | Path
) -> Path | None:
    """The sensitivity strip as a small tornado: per assumption, the profit difference
    B − A with the assumption at −x% (one bar) and +x% (the other) around the finding.

    Args:
        strip: ``analysis.compare.assumptions.sensitivity`` (``base``, ``swing``, ``rows``
            with ``label``, ``low``, ``high``).
    """
    rows = strip.get("rows") or []
    if not rows:
        return None
    base, swing = float(strip["base"]), float(strip["swing"])
    fig, ax = _fig(
        f"Profit difference {label_b} − {label_a} with each assumption ±{swing:.0%}",
        "",
        size=(7.0, 0.9 + 0.55 * len(rows)),
        xlabel=f"total profit difference ({currency})",
    )
    ys = np.arange(len(rows))[::-1]
    for y, r in zip(ys, rows, strict=True):
        lo, hi = float(r["low"]), float(r["high"])
        ax.barh(y, lo - base, left=base, color=_COLORS[0], height=0.6)
        ax.barh(y, hi - base, left=base, color=_COLORS[1], height=0.6)
        if abs(hi - lo) <= 1e-9 * max(1.0, abs(base)):
            ax.text(base, y, "  no change", va="center", fontsize=8, color="#555")
    ax.axvline(base, color="black", lw=1)
    thousands(ax.xaxis)
    ax.set_yticks(ys, [str(r["label"]) for r in rows])
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(
        handles=[
            _patch(_COLORS[0], f"assumption −{swing:.0%}"),
            _patch(_COLORS[1], f"assumption +{swing:.0%}"),
        ],
        loc="best",
        fontsize=8,
    )
    return save_figure(fig, Path(out_dir) / "tornado.png")


def thousands(axis: Any) -> None:
    """Tick labels of an axis of amounts with thousands separators ('12,000')."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _patch(color: str, text: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(color=color, label=text)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
