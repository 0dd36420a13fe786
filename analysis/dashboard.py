"""The trainer's browser dashboard: what an insensitive platform costs.

Two runs of the same scenario on the same market and the same random streams
(the same seed, so common random numbers) step together: side A with a
sensitive marketing platform, side B with an insensitive one. The plots show
the gap opening up as the runs go on.

This module owns three things:

* ``PairedRun`` -- two ``DemandModel`` instances built from one scenario and one
  seed with each side's overrides, stepped together (no Solara here, so tests
  and the benchmark use it directly);
* the figure builders (plain matplotlib ``Figure`` objects, no pyplot state);
* the Solara page ``Page`` that ``demandsim dashboard`` serves.

The plots read the model's outputs: the DataCollector frame (column names from
the contract), ``summary()`` for launches and contraction onset, and the
scenario. Only the small-population network view looks further, at the model's
network (``model.graph``) and who serves whom (``model.state``), and it quietly
steps aside if those are not there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import math
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.scenario import Scenario, bundled_names, load_scenario, parse_override_list

EVENT_TYPES: tuple[str, ...] = (
    "latent_to_active",
    "upmarket",
    "complement",
    "supplier_failure",
    "competitor_launch",
    "complaint",
)
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
PLAY_INTERVAL_S = 0.5  # seconds per step when playing: a 260-week run plays in about 2 minutes
MAX_STEPS_PER_FRAME = 10
PNG_OPTIONS: dict[str, Any] = {"pil_kwargs": {"compress_level": 1}}  # fast to encode, local network
REBUILD_DELAY_S = 0.3  # wait for a slider drag to settle before rebuilding the runs

# Environment the command line uses to hand its arguments to the served page.
ENV_SCENARIO = "DEMANDSIM_DASHBOARD_SCENARIO"
ENV_SEED = "DEMANDSIM_DASHBOARD_SEED"
ENV_CUSTOMERS = "DEMANDSIM_DASHBOARD_CUSTOMERS"


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SideSettings:
    """What one side's sliders set: the focal firm's platform and the market's drift."""

    coverage: float
    density: float
    strength: float
    upmarket_rate: float
    complement_propensity: float


@dataclass(frozen=True)
class PairSettings:
    """Everything that defines a pair of runs; a change rebuilds both runs."""

    scenario: str
    seed: int
    customers: int
    a: SideSettings
    b: SideSettings
    label_a: str = "sensitive platform"
    label_b: str = "insensitive platform"


SENSITIVE: dict[str, Any] = {"density": 0.3, "strength": 0.95}
INSENSITIVE: dict[str, Any] = {"density": 0.02, "strength": 0.4}


def _weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    total = float(sum(weights))
    if total <= 0:
        return float(np.mean(values))
    return float(sum(v * w for v, w in zip(values, weights, strict=True)) / total)


PLATFORM_FIELDS = frozenset(
    {"focal.platform.coverage", "focal.platform.density", "focal.platform.strength"}
)


def _side_of(sc: Scenario) -> SideSettings:
    """A scenario's own slider values: its focal platform and its segment-weighted drift."""
    shares = [s.share for s in sc.segments]
    p = sc.focal.platform
    return SideSettings(
        coverage=p.coverage,
        density=p.density,
        strength=p.strength,
        upmarket_rate=_weighted_mean([s.upmarket_rate for s in sc.segments], shares),
        complement_propensity=_weighted_mean(
            [s.complement_propensity for s in sc.segments], shares
        ),
    )


def default_settings(
    scenario: str = "baseline", seed: int | None = None, customers: int | None = None
) -> PairSettings:
    """The default pair for a scenario: its focal firm with a sensitive and an insensitive platform.

    When the scenario's own comparison (``[compare]``) changes nothing but the focal
    platform's coverage, density or strength, its two sides and labels are used. Otherwise
    side A gets a sensitive platform (density 0.3, strength 0.95) and side B an insensitive
    one (density 0.02, strength 0.4); coverage, upmarket rate and complement propensity
    stay at the scenario's own values on both sides.
    """
    sc = load_scenario(scenario)
    cmp = sc.compare
    sides = (parse_override_list(cmp.a), parse_override_list(cmp.b))
    own = _side_of(sc)
    if (cmp.a or cmp.b) and all(set(o) <= PLATFORM_FIELDS for o in sides):
        side_a, side_b = (_side_of(load_scenario(scenario, o)) for o in sides)
        labels = (cmp.label_a, cmp.label_b)
    else:
        side_a = dataclasses.replace(own, **SENSITIVE)
        side_b = dataclasses.replace(own, **INSENSITIVE)
        labels = ("sensitive platform", "insensitive platform")
    return PairSettings(
        scenario=scenario,
        seed=sc.run.seed if seed is None else int(seed),
        customers=sc.run.customers if customers is None else int(customers),
        a=side_a,
        b=side_b,
        label_a=labels[0],
        label_b=labels[1],
    )


def side_overrides(sc: Scenario, side: SideSettings) -> dict[str, Any]:
    """Dotted overrides that put one side's slider values into the scenario.

    The upmarket rate and complement propensity sliders set the population-weighted mean
    over segments; each segment keeps its rate relative to the others.
    """
    out: dict[str, Any] = {
        "focal.platform.coverage": float(side.coverage),
        "focal.platform.density": float(side.density),
        "focal.platform.strength": float(side.strength),
    }
    shares = [s.share for s in sc.segments]
    up = [s.upmarket_rate for s in sc.segments]
    comp = [s.complement_propensity for s in sc.segments]
    up_mean = _weighted_mean(up, shares)
    comp_mean = _weighted_mean(comp, shares)
    for i in range(len(sc.segments)):
        rate = up[i] * side.upmarket_rate / up_mean if up_mean > 0 else side.upmarket_rate
        prop = (
            comp[i] * side.complement_propensity / comp_mean
            if comp_mean > 0
            else side.complement_propensity
        )
        out[f"segments.{i}.upmarket_rate"] = float(rate)
        out[f"segments.{i}.complement_propensity"] = float(min(1.0, prop))
    return out


def env_customers() -> int | None:
    """The population the command line asked for (``--customers``), if any."""
    customers = os.environ.get(ENV_CUSTOMERS)
    return int(customers) if customers else None


def env_settings() -> PairSettings:
    """Default settings from the environment the command line sets (or the baseline)."""
    scenario = os.environ.get(ENV_SCENARIO) or "baseline"
    seed = os.environ.get(ENV_SEED)
    return default_settings(scenario, seed=int(seed) if seed else None, customers=env_customers())


# --------------------------------------------------------------------------- paired runner


class PairedRun:
    """Two runs of one scenario with the same seed, side A and side B, stepped together.

    Args:
        settings: the scenario, seed, population and each side's slider values.
    """

    def __init__(self, settings: PairSettings) -> None:
        from sim.model import DemandModel

        self.settings = settings
        base = load_scenario(settings.scenario, {"run.customers": settings.customers})
        self.scenario_a = load_scenario(
            settings.scenario,
            {"run.customers": settings.customers, **side_overrides(base, settings.a)},
        )
        self.scenario_b = load_scenario(
            settings.scenario,
            {"run.customers": settings.customers, **side_overrides(base, settings.b)},
        )
        self.horizon = base.run.steps
        self.focal = base.focal.name
        self.cells = [(c.name, t) for c in base.categories for t in c.tiers]
        self.model_a = DemandModel(self.scenario_a, rng=settings.seed)
        self.model_b = DemandModel(self.scenario_b, rng=settings.seed)
        self.steps = 0
        self._lock = threading.Lock()
        self._frames: tuple[pd.DataFrame, pd.DataFrame] | None = None
        self._events: tuple[dict[str, Any], dict[str, Any]] | None = None
        self.layout = network_positions(self.model_a)  # same seed: the same network on both sides

    @property
    def done(self) -> bool:
        """Whether both runs reached the scenario's number of steps."""
        return self.steps >= self.horizon

    def step(self, n: int = 1) -> None:
        """Advance both runs by ``n`` steps (side A, then side B, each step)."""
        with self._lock:
            for _ in range(n):
                self.model_a.step()
                self.model_b.step()
                self.steps += 1
            self._frames = None
            self._events = None

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The two DataCollector frames (one row per collected step), cached until the next step."""
        with self._lock:
            if self._frames is None:
                self._frames = (_frame(self.model_a), _frame(self.model_b))
            return self._frames

    def events(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Launches and contraction onset of the focal firm on each side."""
        fa, fb = self.frames()
        with self._lock:
            if self._events is None:
                self._events = (
                    _focal_events(self.model_a, fa, self.focal),
                    _focal_events(self.model_b, fb, self.focal),
                )
            return self._events


def _frame(model: Any) -> pd.DataFrame:
    df = model.datacollector.get_model_vars_dataframe()
    if "step" not in df.columns:
        df = df.assign(step=np.arange(len(df)))
    return df.reset_index(drop=True)


def _focal_events(model: Any, df: pd.DataFrame, focal: str) -> dict[str, Any]:
    """The focal firm's launches (step, cell, outcome) and the contraction onset step."""
    launches: list[dict[str, Any]] = []
    onset: int | None = None
    summary: dict[str, Any] = {}
    if hasattr(model, "summary"):
        summary = model.summary()
    for item in summary.get("launches", []) or []:
        if item.get("firm", focal) == focal and item.get("step") is not None:
            launches.append(
                {
                    "step": int(item["step"]),
                    "cell": f"{item.get('category', '')} {item.get('tier', '')}".strip(),
                    "outcome": str(item.get("outcome", "pending")),
                }
            )
    if summary.get("contraction_onset") is not None:
        onset = int(summary["contraction_onset"])
    elif "contraction" in df.columns and len(df):
        flagged = np.flatnonzero(df["contraction"].to_numpy(dtype=float) > 0)
        if flagged.size:
            onset = int(df["step"].iloc[flagged[0]])
    return {"launches": launches, "contraction_onset": onset}


# --------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class SideNumbers:
    """The latest numbers of one side, as shown in the number panel and the explanation."""

    marketing_density: float
    sigma_level: float
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


def _new_figure() -> Figure:
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
    """Marketing density (solid, left axis) and shifted sigma level (dashed, right axis)."""
    fig = _new_figure()
    ax = fig.subplots()
    _style(ax, "Density (solid) and sigma (dashed)")
    right = ax.twinx()
    for df, color, label in ((fa, COLOR_A, labels[0]), (fb, COLOR_B, labels[1])):
        side = label.split(":")[0]
        if "marketing_density" in df.columns:
            ax.plot(df["step"], df["marketing_density"], color=color, lw=2, label=side)
        if "sigma_level" in df.columns:
            right.plot(df["step"], df["sigma_level"], color=color, lw=1.3, ls="--")
    ax.set_ylim(0, 1)
    ax.set_ylabel("marketing density", fontsize=8)
    right.set_ylabel("sigma level (shifted)", fontsize=8)
    right.tick_params(labelsize=8)
    right.spines[["top"]].set_visible(False)
    _xlim(ax, horizon, len(fa))
    _legend(ax, "upper right")
    return fig


def figure_detection_lag(fa: pd.DataFrame, fb: pd.DataFrame, labels: tuple[str, str]) -> Figure:
    """Median detection lag so far per event type, side by side (hatched: nothing detected yet)."""
    fig = _new_figure()
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
    ax.set_ylabel("median lag (steps)", fontsize=8)
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
    fig = _new_figure()
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
    fig = _new_figure()
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
    fig = _new_figure()
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
    fig = _new_figure()
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
    ax.set_ylabel("cumulative profit gap", fontsize=8)
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
        f"opportunities: **{fmt(a.sigma_level, '.1f')}σ** vs **{fmt(b.sigma_level, '.1f')}σ** "
        "(shifted; 3σ is 66,807 per million, 6σ is 3.4).\n\n"
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


def network_positions(model: Any) -> tuple[Any, dict[int, Any]] | None:
    """The word-of-mouth network as networkx and a fixed layout, for small populations only.

    Returns None when the population is larger than ``NETWORK_MAX_CUSTOMERS`` or the model
    does not expose its network.
    """
    graph = getattr(model, "graph", None)
    if (
        graph is None
        or not hasattr(graph, "to_networkx")
        or getattr(graph, "n", 0) > NETWORK_MAX_CUSTOMERS
    ):
        return None
    if getattr(graph, "mean_field", False):
        return None
    import networkx as nx

    g = graph.to_networkx()
    return g, nx.spring_layout(g, seed=1, iterations=40)


def _served_by(model: Any) -> np.ndarray | None:
    """Per customer: the firm index serving its first-category need, -1 if none."""
    st = getattr(model, "state", None)
    if st is None or not hasattr(st, "supplier") or not hasattr(st, "need"):
        return None
    from sim.state import SERVED

    sup = np.asarray(st.supplier)[:, 0].astype(np.int64)
    return np.where(np.asarray(st.need)[:, 0] == SERVED, sup, -1)


def figure_network(
    run: PairedRun, layout: tuple[Any, dict[int, Any]], labels: tuple[str, str]
) -> Figure | None:
    """The word-of-mouth network on each side, customers coloured by who serves them."""
    import networkx as nx

    g, pos = layout
    fig = _new_figure()
    fig.subplots_adjust(left=0.01, right=0.99, top=0.84, bottom=0.1, wspace=0.05)
    fig.suptitle(
        "Who serves whom (rivals in grey)",
        fontsize=10.5,
        fontweight="bold",
        x=0.02,
        ha="left",
    )
    axes = fig.subplots(1, 2)
    for ax, model, label, color in zip(
        axes, (run.model_a, run.model_b), labels, (COLOR_A, COLOR_B), strict=True
    ):
        served = _served_by(model)
        if served is None:
            return None
        palette = np.array(["#e0e0e0", color, "#757575", "#9e9e9e", "#bdbdbd"])
        colors = palette[np.clip(served + 1, 0, len(palette) - 1)]
        nx.draw_networkx_edges(g, pos, ax=ax, width=0.25, alpha=0.25)
        nx.draw_networkx_nodes(g, pos, ax=ax, node_size=9, node_color=list(colors), linewidths=0)
        ax.set_title(label.split(":")[0], fontsize=12, fontweight="bold", color=color)
        ax.set_axis_off()
    return fig


# --------------------------------------------------------------------------- Solara page

# Plots take the room that is left and shrink with the window; the numbers and the
# explanation keep a readable width beside them, or go below them on a narrow screen.
PAGE_CSS = """
.dash-main { flex-wrap: wrap; align-items: flex-start; gap: 12px; }
.dash-plots { flex: 1 1 640px; min-width: 0; }
.dash-side { flex: 0 0 300px; }
.plot img { max-width: 100%; height: auto; display: block; }
"""


def _testid(name: str, text: str) -> Any:
    """A span the browser test finds by ``data-testid``."""
    return solara.v.Html(tag="span", attributes={"data-testid": name}, children=[text])


def _text(text: str, tag: str = "div", style: str = "") -> Any:
    return solara.v.Html(tag=tag, children=[text], style_=style)


SLIDERS: tuple[tuple[str, str, float, float, float, str], ...] = (
    ("coverage", "coverage", 0.0, 1.0, 0.05, ".2f"),
    ("density", "density", 0.0, 1.0, 0.01, ".2f"),
    ("strength", "strength", 0.0, 1.0, 0.05, ".2f"),
    ("upmarket_rate", "upmarket /yr", 0.0, 3.0, 0.05, ".2f"),
    ("complement_propensity", "complement", 0.0, 1.0, 0.05, ".2f"),
)


@solara.component
def SideControls(
    title: str, color: str, side: SideSettings, on_side: Callable[[SideSettings], None], key: str
) -> None:
    """The five sliders of one side; each slider has the class ``slider-<side>-<field>``."""
    with solara.Card(
        style={"border-left": f"6px solid {color}", "margin-bottom": "8px", "padding": "8px"}
    ):
        _text(title, style=f"font-weight: 600; color: {color}")
        for field_name, label, lo, hi, step, spec_ in SLIDERS:
            value = getattr(side, field_name)

            def set_value(v: float, name: str = field_name) -> None:
                on_side(dataclasses.replace(side, **{name: round(float(v), 6)}))

            with solara.Div(classes=[f"slider-{key}-{field_name.replace('_', '-')}"]):
                solara.SliderFloat(
                    f"{label} {format(value, spec_)}",
                    value=value,
                    min=lo,
                    max=hi,
                    step=step,
                    on_value=set_value,
                    thumb_label=False,
                )


@solara.component
def NumberPanel(run: PairedRun, a: SideNumbers, b: SideNumbers) -> None:
    """The current numbers, side by side (the browser test reads them by ``data-testid``)."""
    gap = a.cum_profit - b.cum_profit
    rows = [
        ("marketing density", "density", a.marketing_density, b.marketing_density, ".3f"),
        ("sigma (shifted)", "sigma", a.sigma_level, b.sigma_level, ".2f"),
        ("market share", "share", a.market_share, b.market_share, ".3f"),
        ("profit so far", "profit", a.cum_profit, b.cum_profit, ",.0f"),
    ]
    # One element carrying every number at once: widgets update one by one, so a reader
    # (the browser test) that waits for this text sees a consistent frame.
    snapshot = "|".join(
        [str(run.steps), fmt(gap, ".6g")]
        + [fmt(v, ".6g") for _, _, va, vb, _ in rows for v in (va, vb)]
    )
    with solara.Card(style={"padding": "8px 12px", "margin-bottom": "8px"}):
        solara.v.Html(
            tag="span",
            attributes={"data-testid": "snapshot"},
            children=[snapshot],
            style_="display: none",
        )
        with solara.Row(style={"align-items": "baseline", "gap": "6px"}):
            _text("Step", "b")
            _testid("step", str(run.steps))
            _text(f"of {run.horizon}", "span")
        with solara.Row(style={"align-items": "baseline", "gap": "6px", "font-size": "1.15em"}):
            _text("Cost of insensitivity:", "b")
            solara.v.Html(
                tag="span",
                attributes={"data-testid": "gap"},
                children=[fmt(gap, ",.0f")],
                style_="color: #4a148c; font-weight: 700",
            )
        cell = "padding: 0 4px; white-space: nowrap"
        with solara.v.SimpleTable(dense=True):
            with solara.v.Html(tag="thead"), solara.v.Html(tag="tr"):
                solara.v.Html(tag="th", children=[""], style_=cell)
                solara.v.Html(tag="th", children=["A"], style_=f"{cell}; color:{COLOR_A}")
                solara.v.Html(tag="th", children=["B"], style_=f"{cell}; color:{COLOR_B}")
            with solara.v.Html(tag="tbody"):
                for title, key, va, vb, spec_ in rows:
                    with solara.v.Html(tag="tr"):
                        solara.v.Html(tag="td", children=[title], style_=cell)
                        with solara.v.Html(tag="td", style_=cell):
                            _testid(f"{key}-a", fmt(va, spec_))
                        with solara.v.Html(tag="td", style_=cell):
                            _testid(f"{key}-b", fmt(vb, spec_))


def all_figures(run: PairedRun) -> list[Figure]:
    """Every plot of the page for the runs' current state, in page order."""
    fa, fb = run.frames()
    labels = (f"A: {run.settings.label_a}", f"B: {run.settings.label_b}")
    figures = [
        figure_gap(fa, fb, run.events(), labels, run.horizon),
        figure_share(fa, fb, labels, run.horizon),
        figure_density_sigma(fa, fb, labels, run.horizon),
        figure_detection_lag(fa, fb, labels),
        figure_structure(fa, fb, run.cells, labels, run.horizon),
        figure_defects(fa, fb, labels),
    ]
    if run.layout is not None:
        net = figure_network(run, run.layout, labels)
        if net is not None:
            figures.append(net)
    return figures


@solara.component
def Plots(run: PairedRun, tick: int) -> None:
    """The plots, redrawn whenever the runs step (``tick``) or are rebuilt."""
    deps = [id(run), tick]
    figures = solara.use_memo(lambda: all_figures(run), deps)
    with solara.GridFixed(columns=2):
        for fig in figures:
            with solara.Div(classes=["plot"]):
                solara.FigureMatplotlib(fig, dependencies=deps, format="png", **PNG_OPTIONS)


@solara.component
def Page() -> None:
    """The dashboard: controls on the left, plots in the middle, numbers and explanation on the right."""
    settings = solara.use_reactive(solara.use_memo(env_settings, []))
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    interval = solara.use_reactive(PLAY_INTERVAL_S)
    error = solara.use_reactive("")
    generation = solara.use_reactive(0)
    first = solara.use_memo(lambda: PairedRun(settings.value), [])
    current = solara.use_reactive(first)
    built_for = solara.use_ref((settings.value, 0))
    run = current.value

    async def rebuild() -> None:
        # A slider drag sends many values: wait until they settle, then build the new pair
        # off the event loop (the first build also pays for importing the model).
        key = (settings.value, generation.value)
        if built_for.current == key:
            return
        playing.value = False
        await asyncio.sleep(REBUILD_DELAY_S)
        try:
            new = await asyncio.to_thread(PairedRun, key[0])
        except Exception as exc:  # e.g. a negative seed, or a scenario file that changed
            built_for.current = key
            error.value = f"cannot build the runs: {exc}; still showing the previous runs"
            return
        built_for.current = key
        error.value = ""
        current.value = new
        tick.value = 0

    solara.lab.use_task(  # type: ignore[call-overload]
        rebuild, dependencies=[settings.value, generation.value], prefer_threaded=False
    )

    def do_step(n: int = 1) -> None:
        n = min(n, max(run.horizon - run.steps, 0))
        if n:
            run.step(n)
        tick.value += 1

    async def play_loop() -> None:
        # Keep the pace at one step per interval whatever a frame costs to draw: when drawing
        # falls behind, a frame takes several steps at once. The model steps off the event loop.
        started = time.perf_counter()
        taken = 0
        while playing.value and not run.done:
            due = int((time.perf_counter() - started) / interval.value) + 1 - taken
            n = max(1, min(due, MAX_STEPS_PER_FRAME, run.horizon - run.steps))
            try:
                await asyncio.to_thread(run.step, n)
            except Exception as exc:  # shown on the page instead of ending the loop silently
                error.value = f"step failed: {exc}"
                break
            taken += n
            tick.value += 1
            await asyncio.sleep(max(0.0, started + taken * interval.value - time.perf_counter()))
        playing.value = False

    solara.lab.use_task(  # type: ignore[call-overload]
        play_loop, dependencies=[playing.value, id(run), interval.value], prefer_threaded=False
    )

    def reset() -> None:
        playing.value = False
        generation.value += 1

    def pick_scenario(name: str) -> None:
        playing.value = False
        settings.value = default_settings(name, seed=settings.value.seed, customers=env_customers())

    def set_seed(seed: int) -> None:
        settings.value = dataclasses.replace(settings.value, seed=int(seed))

    def set_side(which: str) -> Callable[[SideSettings], None]:
        def update(side: SideSettings) -> None:
            s = settings.value
            settings.value = (
                dataclasses.replace(s, a=side) if which == "a" else dataclasses.replace(s, b=side)
            )

        return update

    fa, fb = run.frames()
    a_numbers, b_numbers = side_numbers(fa), side_numbers(fb)
    names = bundled_names()
    if settings.value.scenario not in names:
        names = [*names, settings.value.scenario]

    solara.Title("demandsim: what an insensitive platform costs")
    with solara.AppBar():
        _text(f"scenario: {settings.value.scenario}", "span", "font-size: 0.95em; opacity: 0.9")
    with solara.Sidebar():
        with solara.Card(style={"padding": "8px", "margin-bottom": "8px"}):
            solara.Select(
                "scenario", value=settings.value.scenario, values=names, on_value=pick_scenario
            )
            solara.InputInt("seed (both sides)", value=settings.value.seed, on_value=set_seed)
            _text(
                f"{settings.value.customers:,} customers", style="font-size: 0.85em; opacity: 0.8"
            )
            with solara.Row(style={"flex-wrap": "wrap", "gap": "4px", "margin-top": "6px"}):
                solara.Button(
                    "Pause" if playing.value else "Play",
                    on_click=lambda: playing.set(not playing.value),
                    color="primary",
                    disabled=run.done,
                    classes=["btn-play"],
                )
                solara.Button(
                    "Step",
                    on_click=lambda: do_step(1),
                    disabled=playing.value or run.done,
                    classes=["btn-step"],
                )
                solara.Button(
                    "+10",
                    on_click=lambda: do_step(10),
                    disabled=playing.value or run.done,
                    classes=["btn-step10"],
                )
                solara.Button("Reset", on_click=reset, classes=["btn-reset"])
            solara.SliderFloat(
                f"seconds per step {interval.value:.1f}",
                value=interval,
                min=0.1,
                max=2.0,
                step=0.1,
                thumb_label=False,
            )
            if error.value:
                solara.Error(error.value)
        SideControls(f"A: {settings.value.label_a}", COLOR_A, settings.value.a, set_side("a"), "a")
        SideControls(f"B: {settings.value.label_b}", COLOR_B, settings.value.b, set_side("b"), "b")
        pending = built_for.current != (settings.value, generation.value)
        solara.v.Html(
            tag="div",
            attributes={"data-testid": "status"},
            children=[
                "Restarting both runs…"
                if pending
                else "Moving a slider restarts both runs from step 0."
            ],
            style_="font-size: 0.85em; opacity: 0.8; padding: 0 8px",
        )

    solara.Style(PAGE_CSS)
    with solara.Row(classes=["dash-main"]):
        with solara.Div(classes=["dash-plots"]):
            Plots(run, tick.value)
        with solara.Column(gap="0px", classes=["dash-side"]):
            NumberPanel(run, a_numbers, b_numbers)
            with solara.Card("In plain words", style={"padding": "8px 12px"}):
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=to_html(explanation(a_numbers, b_numbers, run.steps)),
                    attributes={"data-testid": "explanation"},
                    style="font-size: 0.92em; line-height: 1.35",
                )
