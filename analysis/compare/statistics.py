"""Paired comparison statistics: pure functions over replicated outcomes.

Two scenarios run with the same seeds share their random inputs (common random
numbers), so replication ``i`` of side A and replication ``i`` of side B form a
pair. The paired difference ``B - A`` then has a much smaller variance than the
difference of two independent samples; this module measures both and how much
the pairing bought:

* paired t interval of the mean difference (Student 1908; as in
  ``scipy.stats.ttest_rel``),
* Welch's unpaired interval (Welch 1947; as in ``scipy.stats.ttest_ind`` with
  ``equal_var=False``),
* variance reduction ``1 - Var(B - A) / (Var(A) + Var(B))``: 0 for independent
  runs, close to 1 when the common random numbers cancel most of the noise.

Differences are always **B minus A**. Nothing here runs the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.runs.ensemble import NOT_OUTCOMES, scalar_outcomes  # noqa: F401  (one definition)
from sim.outcomes import SCALARS, key_outcomes, label

# Labels, directions and the headline outcomes are declared once, in sim.outcomes.
#: Headline outcomes (shown first, in this order) with their labels.
KEY_OUTCOMES: dict[str, str] = {name: label(name) for name in key_outcomes()}

#: Direction in which an outcome is better (+1 higher is better, -1 lower is better).
BETTER: dict[str, int] = {o.name: o.better for o in SCALARS if o.better}


@dataclass(frozen=True)
class Interval:
    """A mean difference with its 95% (or other) confidence interval."""

    estimate: float
    lo: float
    hi: float
    n: int

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero."""
        return bool(np.isfinite(self.lo) and np.isfinite(self.hi) and (self.lo > 0 or self.hi < 0))

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2.0


def _clean(x: Iterable[Any]) -> np.ndarray:
    return np.asarray([np.nan if v is None else float(v) for v in x], dtype=float)


def paired_t_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Interval:
    """Paired-t confidence interval of ``mean(b - a)``.

    Pairs where either side is missing (NaN or None) are dropped. With fewer than
    two pairs the interval is NaN.

    Args:
        a: side A, one value per replication.
        b: side B, same replications (same seeds) in the same order.
        level: confidence level.
    """
    xa, xb = _clean(a), _clean(b)
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples differ in length: {xa.size} vs {xb.size}")
    ok = np.isfinite(xa) & np.isfinite(xb)
    d = xb[ok] - xa[ok]
    n = int(d.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(d.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    se = float(d.std(ddof=1)) / math.sqrt(n)
    t = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    return Interval(mean, mean - t * se, mean + t * se, n)


def welch_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Interval:
    """Welch (unequal variances, unpaired) confidence interval of ``mean(b) - mean(a)``.

    Missing values are dropped on each side separately. The degrees of freedom
    follow Welch-Satterthwaite. ``n`` is the smaller of the two sample sizes.
    """
    xa, xb = _clean(a), _clean(b)
    xa, xb = xa[np.isfinite(xa)], xb[np.isfinite(xb)]
    na, nb = int(xa.size), int(xb.size)
    if na == 0 or nb == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    diff = float(xb.mean() - xa.mean())
    if na < 2 or nb < 2:
        return Interval(diff, math.nan, math.nan, min(na, nb))
    va, vb = float(xa.var(ddof=1)) / na, float(xb.var(ddof=1)) / nb
    se2 = va + vb
    if se2 == 0.0:
        return Interval(diff, diff, diff, min(na, nb))
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    t = float(stats.t.ppf(0.5 + level / 2.0, df))
    se = math.sqrt(se2)
    return Interval(diff, diff - t * se, diff + t * se, min(na, nb))


def variance_reduction(a: Sequence[float], b: Sequence[float]) -> float:
    """``1 - Var(B - A) / (Var(A) + Var(B))`` over complete pairs.

    0 means the pairing bought nothing (independent runs); 1 means the common
    random numbers cancelled all the noise. Negative values mean the two sides
    are negatively correlated. NaN when both sides are constant or fewer than two
    pairs are complete.
    """
    xa, xb = _clean(a), _clean(b)
    ok = np.isfinite(xa) & np.isfinite(xb)
    xa, xb = xa[ok], xb[ok]
    if xa.size < 2:
        return math.nan
    denom = float(xa.var(ddof=1) + xb.var(ddof=1))
    if denom == 0.0:
        return math.nan
    return 1.0 - float(np.var(xb - xa, ddof=1)) / denom


def paired_p_value(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the paired t test (NaN when undefined)."""
    xa, xb = _clean(a), _clean(b)
    ok = np.isfinite(xa) & np.isfinite(xb)
    d = xb[ok] - xa[ok]
    if d.size < 2:
        return math.nan
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        return 0.0 if float(d.mean()) != 0.0 else 1.0
    t = float(d.mean()) / (sd / math.sqrt(d.size))
    return float(2.0 * stats.t.sf(abs(t), d.size - 1))


def outcome_order(names: Iterable[str]) -> list[str]:
    """Key outcomes first (in ``KEY_OUTCOMES`` order), then the rest alphabetically."""
    names = list(dict.fromkeys(names))
    first = [k for k in KEY_OUTCOMES if k in names]
    return first + sorted(n for n in names if n not in KEY_OUTCOMES)


@dataclass(frozen=True)
class OutcomeComparison:
    """One row of a comparison table (differences are B - A)."""

    outcome: str
    n: int
    mean_a: float
    mean_b: float
    diff_b_minus_a: float
    paired_lo: float
    paired_hi: float
    welch_lo: float
    welch_hi: float
    variance_reduction: float
    p_value: float
    significant: bool


def compare_outcomes(
    summaries_a: Sequence[Mapping[str, Any]],
    summaries_b: Sequence[Mapping[str, Any]],
    level: float = 0.95,
) -> pd.DataFrame:
    """Compare every scalar outcome of paired replications.

    Args:
        summaries_a: run summaries of side A, replication ``i`` run with seed ``s_i``.
        summaries_b: run summaries of side B, same seeds in the same order.
        level: confidence level of both intervals.

    Returns:
        One row per outcome: means, the paired difference B - A with its paired-t
        interval, the Welch interval, the variance reduction and the paired p-value.
    """
    if len(summaries_a) != len(summaries_b):
        raise ValueError("paired comparison needs the same number of replications on both sides")
    ra = [scalar_outcomes(s) for s in summaries_a]
    rb = [scalar_outcomes(s) for s in summaries_b]
    names = outcome_order([k for r in ra + rb for k in r])
    rows = []
    for name in names:
        a = [r.get(name, math.nan) for r in ra]
        b = [r.get(name, math.nan) for r in rb]
        paired = paired_t_ci(a, b, level)
        welch = welch_ci(a, b, level)
        xa, xb = _clean(a), _clean(b)
        rows.append(
            OutcomeComparison(
                outcome=name,
                n=paired.n,
                mean_a=float(np.nanmean(xa)) if np.isfinite(xa).any() else math.nan,
                mean_b=float(np.nanmean(xb)) if np.isfinite(xb).any() else math.nan,
                diff_b_minus_a=paired.estimate,
                paired_lo=paired.lo,
                paired_hi=paired.hi,
                welch_lo=welch.lo,
                welch_hi=welch.hi,
                variance_reduction=variance_reduction(a, b),
                p_value=paired_p_value(a, b),
                significant=paired.significant,
            )
        )
    return pd.DataFrame([asdict(r) for r in rows])


def mean_band(
    frames: Sequence[pd.DataFrame], columns: Iterable[str], level: float = 0.95
) -> pd.DataFrame:
    """Per-step mean and confidence band over replications.

    Args:
        frames: one time series per replication, each with a ``step`` column (or
            a step index) and the same steps.
        columns: numeric columns to summarise (missing ones are skipped).
        level: confidence level of the band (mean +- t * sd / sqrt(n)).

    Returns:
        A frame with ``step`` and, per column ``c``: ``c`` (mean), ``c_lo``, ``c_hi``.
    """
    if not frames:
        raise ValueError("mean_band needs at least one replication")
    steps = _steps(frames[0])
    out: dict[str, Any] = {"step": steps}
    for col in columns:
        if not all(col in f.columns for f in frames):
            continue
        m = np.vstack(
            [pd.to_numeric(f[col], errors="coerce").to_numpy(dtype=float) for f in frames]
        )
        mean, lo, hi = _band(m, level)
        out[col], out[f"{col}_lo"], out[f"{col}_hi"] = mean, lo, hi
    return pd.DataFrame(out)


def paired_band(
    frames_a: Sequence[pd.DataFrame],
    frames_b: Sequence[pd.DataFrame],
    column: str,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per-step paired difference B - A of one column with its paired-t band."""
    if len(frames_a) != len(frames_b) or not frames_a:
        raise ValueError("paired_band needs the same, non-zero number of replications per side")
    ma = np.vstack([f[column].to_numpy(dtype=float) for f in frames_a])
    mb = np.vstack([f[column].to_numpy(dtype=float) for f in frames_b])
    mean, lo, hi = _band(mb - ma, level)
    return pd.DataFrame({"step": _steps(frames_a[0]), "diff": mean, "lo": lo, "hi": hi})


def _steps(frame: pd.DataFrame) -> np.ndarray:
    if "step" in frame.columns:
        return frame["step"].to_numpy()
    return np.arange(len(frame))


def _band(m: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.sum(np.isfinite(m), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(m, axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(np.isfinite(m), m - mean, 0.0)
        var = np.where(n > 1, np.sum(dev**2, axis=0) / np.maximum(n - 1, 1), np.nan)
        t = stats.t.ppf(0.5 + level / 2.0, np.maximum(n - 1, 1))
        half = np.where(n > 1, t * np.sqrt(var / np.maximum(n, 1)), np.nan)
        lo, hi = mean - half, mean + half
    return mean, lo, hi


def worse_platform_cost(
    table: pd.DataFrame, label_a: str = "A", label_b: str = "B"
) -> dict[str, Any]:
    """The money the worse side loses against the better one (total profit).

    Returns a dict with the worse side's label, the loss (positive number) and its
    paired 95% interval, or an empty dict when the table has no profit.
    """
    rows = table[table["outcome"] == "profit_total"]
    if rows.empty:
        return {}
    r = rows.iloc[0]
    diff, lo, hi = float(r["diff_b_minus_a"]), float(r["paired_lo"]), float(r["paired_hi"])
    if diff <= 0:  # B earns less: B is the worse side, loses -diff
        return {
            "worse": label_b,
            "better": label_a,
            "loss": -diff,
            "lo": -hi,
            "hi": -lo,
            "significant": bool(r["significant"]),
        }
    return {
        "worse": label_a,
        "better": label_b,
        "loss": diff,
        "lo": lo,
        "hi": hi,
        "significant": bool(r["significant"]),
    }


def mean_nested(summaries: Sequence[Mapping[str, Any]], key: str) -> dict[str, dict[str, float]]:
    """Mean over replications of a two-level summary table such as ``detection``
    (``{event_type: {metric: value}}``) or ``chain`` (``{link: {metric: value}}``).

    Missing or None values are ignored; a metric missing everywhere is NaN.
    """
    rows: dict[str, dict[str, list[float]]] = {}
    for s in summaries:
        table = s.get(key) or {}
        if not isinstance(table, Mapping):
            continue
        for row, metrics in table.items():
            if not isinstance(metrics, Mapping):
                continue
            slot = rows.setdefault(str(row), {})
            for metric, value in metrics.items():
                vals = slot.setdefault(str(metric), [])
                if isinstance(value, int | float) and not isinstance(value, bool):
                    vals.append(float(value))
    out: dict[str, dict[str, float]] = {}
    for row, metrics in rows.items():
        out[row] = {}
        for metric, vals in metrics.items():
            finite = [v for v in vals if math.isfinite(v)]
            out[row][metric] = float(np.mean(finite)) if finite else math.nan
    return out


def launch_outcomes(summaries: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """All launches of all replications as one table, with a ``rep`` column."""
    rows = []
    for rep, s in enumerate(summaries):
        for launch in s.get("launches") or []:
            if isinstance(launch, Mapping):
                rows.append({"rep": rep, **launch})
    return pd.DataFrame(rows)


def with_focal_launch_counts(summary: Mapping[str, Any], focal: str) -> dict[str, Any]:
    """A copy of ``summary`` with ``focal_launch_pending`` counted from its ``launches``
    list: the focal firm's launches still inside their evaluation window when the run
    ends (``launch_successes`` / ``launch_failures`` already count the focal firm's)."""
    out = dict(summary)
    launches = [x for x in summary.get("launches") or [] if isinstance(x, Mapping)]
    mine = [x for x in launches if x.get("firm") == focal]
    out["focal_launch_pending"] = sum(1 for x in mine if x.get("outcome") == "pending")
    return out


def share_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper–Pearson interval of a share of runs, k of n (NaN with n = 0)."""
    if n == 0:
        return math.nan, math.nan
    a = (1 - level) / 2
    lo = float(stats.beta.ppf(a, k, n - k + 1)) if k > 0 else 0.0
    hi = float(stats.beta.ppf(1 - a, k + 1, n - k)) if k < n else 1.0
    return lo, hi


def contraction_summary(
    summaries: Sequence[Mapping[str, Any]], level: float = 0.95
) -> dict[str, Any]:
    """How many runs of one side contracted, with the share's Clopper–Pearson interval,
    and their onsets: mean with its t interval, median and range (None where no run
    contracted). A paired table compares onsets only where both sides contracted;
    this gives each side on its own."""
    onsets = [
        float(s["contraction_onset"]) for s in summaries if s.get("contraction_onset") is not None
    ]
    n, k = len(summaries), len(onsets)
    lo, hi = share_ci(k, n, level)
    out: dict[str, Any] = {"runs": n, "contracted": k, "share": k / n if n else math.nan}
    out.update(share_lo=lo, share_hi=hi, onset_mean=None, onset_lo=None, onset_hi=None)
    out.update(onset_median=None, onset_min=None, onset_max=None)
    if k:
        x = np.asarray(onsets)
        out.update(
            onset_mean=float(x.mean()),
            onset_median=float(np.median(x)),
            onset_min=float(x.min()),
            onset_max=float(x.max()),
        )
        if k > 1:
            half = float(stats.t.ppf((1 + level) / 2, k - 1) * x.std(ddof=1) / math.sqrt(k))
            out.update(onset_lo=float(x.mean()) - half, onset_hi=float(x.mean()) + half)
    return out


def contraction_text(c: Mapping[str, Any]) -> str:
    """One side's contraction in words: "14 of 20 runs (70%, 95% CI 46%–88%), onset at
    step 120 on average (95% CI 101–139; median 118, range 80–190)"."""
    head = (
        f"{c['contracted']} of {c['runs']} runs ({c['share']:.0%}, 95% CI "
        f"{c['share_lo']:.0%}–{c['share_hi']:.0%})"
    )
    if not c["contracted"]:
        return head
    ci = (
        f"95% CI {c['onset_lo']:.0f}–{c['onset_hi']:.0f}; " if c.get("onset_lo") is not None else ""
    )
    return (
        f"{head}, onset at step {c['onset_mean']:.0f} on average ({ci}median "
        f"{c['onset_median']:.0f}, range {c['onset_min']:.0f}–{c['onset_max']:.0f})"
    )


def churn_rate(frame: pd.DataFrame, steps_per_year: int) -> float:
    """Served needs lost to churn per served need and year, over a run's time series
    (all firms): the step's churn over the needs served at the step before. A market
    that serves fewer needs loses fewer to churn at the same rate; this is the rate."""
    served = (frame["adopters"] / frame["market_share"]).to_numpy(dtype=float)
    churn = frame["churn"].to_numpy(dtype=float)
    exposure = float(np.nansum(served[:-1]))
    return float(churn[1:].sum() / exposure * steps_per_year) if exposure > 0 else math.nan


def series_low(band: pd.DataFrame, column: str) -> dict[str, float]:
    """The lowest mean of a series over the run and its step (NaN if absent)."""
    if column not in band.columns or band[column].isna().all():
        return {"value": math.nan, "step": math.nan}
    i = int(band[column].to_numpy(dtype=float).argmin())
    return {"value": float(band[column].iloc[i]), "step": float(band["step"].iloc[i])}
