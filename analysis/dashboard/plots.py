"""The dashboard's numbers, figures and plain-words explanation.

Plain matplotlib ``Figure`` objects (no pyplot state) built from the two sides'
time-series frames, so they can be drawn by the Solara page, tested and
benchmarked without a browser. ``analysis.dashboard.app`` owns the paired runner
and the page.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.detection import EVENT_TYPES
from sim.outcomes import SERIES, unit
from sim.outcomes import label as outcome_label
from sim.tables import sigma_text

EVENT_LABELS: dict[str, str] = {
    "latent_to_active": "need\nreal",
    "upmarket": "up-\nmarket",
    "complement": "needs\ncompl.",
    "supplier_failure": "supplier\nfails",
    "competitor_launch": "rival\nlaunch",
    "complaint": "com-\nplaint",
}
COLOR_A = "#1565c0"
COLOR_B = "#d84315"
NETWORK_MAX_CUSTOMERS = 400


# --------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class SideNumbers:
    """The latest numbers of one side, as shown in the number panel and the explanation."""

    marketing_density: float
    sigma_level: float  # NaN while the side has no defect: see sigma_level_lower
    sigma_level_lower: float
    dpmo: float
    market_share: float
    cum_profit: float
    alignment: float
    lags: dict[str, float]


def _last(df: pd.DataFrame, col: str) -> float:
    if col not in df.columns or not len(df):
        return math.nan
    value = df[col].iloc[-1]
    return float(value) if value is not None else math.nan


def _cum_profit(df: pd.DataFrame) -> pd.Series:
    if "cum_profit" in df.columns:
        return df["cum_profit"].astype(float)
    if "profit" in df.columns:
        return df["profit"].astype(float).cumsum()
    return pd.Series(np.zeros(len(df)))


def side_numbers(df: pd.DataFrame) -> SideNumbers:
    """The latest row of a side's frame as ``SideNumbers`` (NaN where not yet known)."""
    cum = _cum_profit(df)
    return SideNumbers(
        marketing_density=_last(df, "marketing_density"),
        sigma_level=_last(df, "sigma_level"),
        sigma_level_lower=_last(df, "sigma_level_lower"),
        dpmo=_last(df, "dpmo"),
        market_share=_last(df, "market_share"),
        cum_profit=float(cum.iloc[-1]) if len(cum) else math.nan,
        alignment=_last(df, "alignment"),
        lags={e: _last(df, f"lag_{e}") for e in EVENT_TYPES},
    )


def fmt(x: float, spec: str = ".2f") -> str:
    """Format a number, with an en dash for 'not yet known'."""
    if x is None or not math.isfinite(x):
        return "–"
    return format(x, spec)


# --------------------------------------------------------------------------- figures


FIG_SIZE = (4.3, 2.55)  # inches; at FIG_DPI a plot is about 520 x 310 pixels
FIG_DPI = 120  # type set for a projector: text is large relative to the plot


def new_figure() -> Figure:
    # Fixed margins instead of a layout engine: rendering is the slow part of a frame.
    fig = Figure(figsize=FIG_SIZE, dpi=FIG_DPI)
    fig.subplots_adjust(left=0.13, right=0.87, top=0.88, bottom=0.19)
    return fig


def _style(ax: Any, title: str) -> None:
    ax.set_title(title, fontsize=10.5, loc="left", fontweight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.25, linewidth=0.6)


def _legend(ax: Any, loc: str) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False, loc=loc)


def _xlim(ax: Any, horizon: int, steps: int) -> None:
    ax.set_xlim(0, max(horizon, steps, 1))
    ax.set_xlabel("step (week)", fontsize=8)


def figure_density_sigma(
    fa: pd.DataFrame, fb: pd.DataFrame, labels: tuple[str, str], horizon: int
) -> Figure:
    """Marketing density (solid, left axis), shifted sigma level (dashed, right axis; none
    while there is no defect) and its 95% lower bound (dotted)."""
    fig = new_figure()
    ax = fig.subplots()
    _style(ax, "Density (solid), sigma (dashed) and its 95% bound (dotted)")
    right = ax.twinx()
    for df, color, side_label in ((fa, COLOR_A, labels[0]), (fb, COLOR_B, labels[1])):
        side = side_label.split(":")[0]
        if "marketing_density" in df.columns:
            ax.plot(df["step"], df["marketing_density"], color=color, lw=2, label=side)
        if "sigma_level" in df.columns:
            right.plot(df["step"], df["sigma_level"], color=color, lw=1.3, ls="--")
        if "sigma_level_lower" in df.columns:  # what the counts support (alone at 0 defects)
            right.plot(df["step"], df["sigma_level_lower"], color=color, lw=0.9, ls=":")
    ax.set_ylim(0, 1)
    ax.set_ylabel(outcome_label("marketing_density", SERIES), fontsize=8)
    right.set_ylabel(outcome_label("sigma_level", SERIES), fontsize=8)
    right.tick_params(labelsize=8)
    right.spines[["top"]].set_visible(False)
    _xlim(ax, horizon, len(fa))
    _legend(ax, "upper right")
    return fig


def figure_detection_lag(fa: pd.DataFrame, fb: pd.DataFrame, labels: tuple[str, str]) -> Figure:
    """Median detection lag so far per event type, side by side (hatched: nothing detected yet)."""
    fig = new_figure()
    ax = fig.subplots()
    _style(ax, "Sensitivity: weeks to notice")
    x = np.arange(len(EVENT_TYPES))
    width = 0.38
    top = 1.0
    for k, (df, color, label) in enumerate(((fa, COLOR_A, labels[0]), (fb, COLOR_B, labels[1]))):
        values = np.array([_last(df, f"lag_{e}") for e in EVENT_TYPES])
        known = np.isfinite(values)
        heights = np.where(known, values, 0.0)
        ax.bar(x + (k - 0.5) * width, heights, width, color=color, label=label)
        if known.any():
            top = max(top, float(np.nanmax(values)))
        for xi, ok, h in zip(x, known, heights, strict=True):
            if ok:
                ax.text(xi + (k - 0.5) * width, h, f"{h:.0f}", ha="center", va="bottom", fontsize=7)
            else:
                ax.text(
                    xi + (k - 0.5) * width,
                    0,
                    "–",
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color=color,
                )
    ax.set_ylim(0, top * 1.5)
    ax.set_xticks(x, [EVENT_LABELS[e] for e in EVENT_TYPES], fontsize=7.5)
    ax.set_ylabel(
        f"{outcome_label('detection_lag_median', SERIES)} ({unit('detection_lag_median', SERIES)})",
        fontsize=8,
    )
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=2)
    return fig


def structure_matrices(
    df: pd.DataFrame, cells: Sequence[tuple[str, str]]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Demand share and product presence per (category, tier) cell over time.

    Returns ``(demand, product, labels)``, each matrix with one row per cell and one column per
    collected step; missing columns read as 0.
    """
    n = len(df)
    demand = np.zeros((len(cells), n))
    product = np.zeros((len(cells), n))
    labels = []
    for i, (cat, tier) in enumerate(cells):
        labels.append(f"{cat} · {tier}")
        col = f"demand_{cat}_{tier}"
        if col in df.columns:
            demand[i] = df[col].to_numpy(dtype=float)
        col = f"product_{cat}_{tier}"
        if col in df.columns:
            product[i] = df[col].to_numpy(dtype=float)
    return np.nan_to_num(demand), np.nan_to_num(product), labels


def figure_structure(
    fa: pd.DataFrame,
    fb: pd.DataFrame,
    cells: Sequence[tuple[str, str]],
    labels: tuple[str, str],
    horizon: int,
) -> Figure:
    """Demand structure against product structure over time, one heat map per side.

    Each row is a (category, tier) cell, each column a step; the colour's depth is the cell's
    share of all demand. Blue: the focal firm sells that cell; red: it has no product there.
    The more red, the worse the misalignment.
    """
    fig = new_figure()
    fig.subplots_adjust(left=0.2, right=0.92, top=0.86, bottom=0.17, hspace=0.3)
    axes = fig.subplots(2, 1, sharex=True)
    fig.suptitle(
        "Demand: blue = we sell it, red = we don't",
        fontsize=10.5,
        fontweight="bold",
        x=0.02,
        ha="left",
    )
    mats = [structure_matrices(df, cells) for df in (fa, fb)]
    vmax = max([1e-9] + [float(d.max()) for d, _, _ in mats if d.size])
    width = max(horizon + 1, max(d.shape[1] for d, _, _ in mats), 1)
    extent = (-0.5, width - 0.5, len(cells) - 0.5, -0.5)
    sides = zip(axes, mats, labels, (COLOR_A, COLOR_B), strict=True)
    for ax, (demand, product, names), label, color in sides:
        n = demand.shape[1]
        served = np.full((len(cells), width), np.nan)
        unserved = np.full((len(cells), width), np.nan)
        if n:
            served[:, :n] = np.where(product > 0.5, demand, np.nan)
            unserved[:, :n] = np.where(product > 0.5, np.nan, demand)
        for data, cmap in ((served, "Blues"), (unserved, "Reds")):
            ax.imshow(
                data,
                aspect="auto",
                cmap=cmap,
                vmin=-0.15 * vmax,
                vmax=vmax,
                extent=extent,
                interpolation="nearest",
            )
        ax.set_yticks(range(len(cells)), [_short(n) for n in names], fontsize=6.5)
        ax.tick_params(labelsize=7)
        ax.text(
            1.015,
            0.5,
            label.split(":")[0],
            transform=ax.transAxes,
            fontsize=12,
            fontweight="bold",
            color=color,
            va="center",
        )
    axes[-1].set_xlabel("step (week)", fontsize=8)
    return fig


def _short(cell: str) -> str:
    """A compact heat-map row label ("complement · standard" -> "complement std")."""
    cat, _, tier = cell.partition(" · ")
    short = {"standard": "std", "premium": "prem"}.get(tier, tier)
    return f"{cat if len(cat) <= 6 else cat[:5] + '.'} {short}"


def figure_defects(fa: pd.DataFrame, fb: pd.DataFrame, labels: tuple[str, str]) -> Figure:
    """Why needs were missed so far: exclusion (not in the platform) vs omission (in it, not done)."""
    fig = new_figure()
    fig.subplots_adjust(left=0.3, right=0.95, top=0.86, bottom=0.2)
    ax = fig.subplots()
    _style(ax, "Missed needs so far, by cause")
    ax.grid(False)

    def total(df: pd.DataFrame, col: str) -> float:
        return float(df[col].sum()) if col in df.columns else 0.0

    y = np.arange(2)[::-1]
    exc = np.array([total(df, "exclusion_defects") for df in (fa, fb)])
    omi = np.array([total(df, "omission_defects") for df in (fa, fb)])
    opp = np.array([total(df, "opportunities") for df in (fa, fb)])
    ok = np.maximum(opp - exc - omi, 0)
    ax.barh(y, ok, color="#9ccc65", label="marketed")
    ax.barh(y, exc, left=ok, color="#8d6e63", label="exclusion (not in platform)")
    ax.barh(y, omi, left=ok + exc, color="#ffb300", label="omission (in it, not done)")
    ax.set_yticks(y, [lab.replace(": ", ":\n") for lab in labels], fontsize=8)
    for label, color in zip(ax.get_yticklabels(), (COLOR_A, COLOR_B), strict=True):
        label.set_color(color)
    ax.set_xlabel("opportunities so far", fontsize=8)
    ax.set_xlim(0, max(1.0, float(opp.max())) * 1.02)
    ax.legend(
        fontsize=7,
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.3, -0.22),
        ncols=3,
        handlelength=1,
        columnspacing=0.8,
    )
    fig.subplots_adjust(bottom=0.32)
    return fig


def figure_share(
    fa: pd.DataFrame, fb: pd.DataFrame, labels: tuple[str, str], horizon: int
) -> Figure:
    """The focal firm's market share on each side."""
    fig = new_figure()
    ax = fig.subplots()
    _style(ax, "Market share of our firm")
    top = 0.05
    for df, color, label in ((fa, COLOR_A, labels[0]), (fb, COLOR_B, labels[1])):
        if "market_share" in df.columns and len(df):
            ax.plot(df["step"], df["market_share"], color=color, lw=2, label=label)
            top = max(top, float(np.nanmax(df["market_share"].to_numpy(dtype=float))))
    ax.set_ylim(0, min(1.0, top * 1.2))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _xlim(ax, horizon, len(fa))
    _legend(ax, "lower left")
    return fig


def figure_gap(
    fa: pd.DataFrame,
    fb: pd.DataFrame,
    events: tuple[dict[str, Any], dict[str, Any]],
    labels: tuple[str, str],
    horizon: int,
) -> Figure:
    """Cumulative profit of A minus B: the cost of insensitivity, with launches and contraction."""
    fig = new_figure()
    ax = fig.subplots()
    _style(ax, "Cost of insensitivity: profit A − B")
    n = min(len(fa), len(fb))
    if n:
        steps = fa["step"].to_numpy()[:n]
        gap = _cum_profit(fa).to_numpy()[:n] - _cum_profit(fb).to_numpy()[:n]
        ax.plot(steps, gap, color="#4a148c", lw=2.2)
        ax.fill_between(
            steps, 0, gap, where=gap >= 0, color="#7e57c2", alpha=0.25, interpolate=True
        )
        ax.fill_between(steps, 0, gap, where=gap < 0, color="#9e9e9e", alpha=0.25, interpolate=True)
    ax.axhline(0, color="black", lw=0.8)
    for ev, color, height in zip(events, (COLOR_A, COLOR_B), (1.0, 0.92), strict=True):
        for launch in ev["launches"]:
            marker = "v" if launch["outcome"] == "failure" else "^"
            ax.axvline(launch["step"], color=color, lw=0.8, ls=":", alpha=0.8)
            ax.plot(
                [launch["step"]],
                [height],
                marker=marker,
                color=color,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                ls="none",
            )
        if ev["contraction_onset"] is not None:
            ax.axvline(ev["contraction_onset"], color=color, lw=2, alpha=0.7)
            ax.text(
                ev["contraction_onset"],
                0.02,
                " contraction",
                color=color,
                fontsize=7,
                rotation=90,
                transform=ax.get_xaxis_transform(),
                va="bottom",
            )
    ax.set_ylabel(f"{outcome_label('cum_profit', SERIES)}: A − B", fontsize=8)
    _xlim(ax, horizon, n)
    ax.set_xlabel("step (week)      ▲ launch   ▼ failed launch   ┃ contraction", fontsize=8)
    return fig


# --------------------------------------------------------------------------- explanation


def explanation(a: SideNumbers, b: SideNumbers, steps: int) -> str:
    """The plain-words explanation panel, read off the current numbers.

    Light markup only: ``**bold**`` and blank lines between paragraphs (see ``to_html``).
    """
    if steps == 0:
        return (
            "Press **Step** or **Play**. Both firms face the same customers, who draw the same "
            "random numbers on both sides; only the marketing platform differs.\n\n"
            "**Marketing density**: of the needs our firm should market, the share it actually "
            "reached with a matching offer in time.\n\n"
            "**Sensitivity**: how fast the platform notices that something changed: a need "
            "becoming real, a customer moving upmarket, a rival's launch, a complaint.\n\n"
            "**Sigma level**: the missed needs per million, on the quality scale (shifted)."
        )

    def missed(x: float) -> str:
        return fmt(100 * (1 - x), ".0f") if math.isfinite(x) else "–"

    def lag_text(x: float) -> str:
        return f"about **{x:.0f} weeks**" if math.isfinite(x) else "**nothing yet**"

    def pct(x: float) -> str:
        return fmt(100 * x, ".0f") + "%" if math.isfinite(x) else "–"

    gap = a.cum_profit - b.cum_profit
    if math.isfinite(gap) and gap >= 0:
        cost = (
            f"So far side B has earned **{gap:,.0f}** less than side A: the cost of insensitivity."
        )
    elif math.isfinite(gap):
        cost = (
            f"So far side B is **{-gap:,.0f}** ahead: a dense platform costs money before it pays; "
            "watch whether the gap turns."
        )
    else:
        cost = ""
    return (
        f"**Marketing density.** Of every 100 needs our firm should have marketed, side A reached "
        f"**{fmt(100 * a.marketing_density, '.0f')}** and side B "
        f"**{fmt(100 * b.marketing_density, '.0f')}**. The other {missed(a.marketing_density)} "
        f"and {missed(b.marketing_density)} are defects: needs that closed without a matching "
        "offer.\n\n"
        f"**Sensitivity.** When a customer moves upmarket, side A's platform notices after "
        f"{lag_text(a.lags.get('upmarket', math.nan))}, side B's after "
        f"{lag_text(b.lags.get('upmarket', math.nan))}. A firm that notices late plans its "
        "products late.\n\n"
        f"**Sigma level.** {fmt(a.dpmo, ',.0f')} vs {fmt(b.dpmo, ',.0f')} defects per million "
        f"opportunities: **{sigma_text(a.sigma_level, a.sigma_level_lower, 1)}** vs "
        f"**{sigma_text(b.sigma_level, b.sigma_level_lower, 1)}** (shifted; 3σ is 66,807 per "
        "million, 6σ is 3.4; ≥ is what the counts support at 95%, all they say with no "
        "defect).\n\n"
        f"**Fit.** {pct(a.alignment)} vs {pct(b.alignment)} of demand falls where our firm has a "
        f"product; market share {pct(a.market_share)} vs {pct(b.market_share)}.\n\n"
        f"{cost}"
    )


def to_html(text: str) -> str:
    """Escape the text and turn ``**bold**`` and blank-line paragraphs into HTML."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    out = []
    for p in paragraphs:
        body = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(p))
        out.append(f"<p>{body}</p>")
    return "\n".join(out)


# --------------------------------------------------------------------------- network view
