"""Plain-text tables of a run's outcomes, as the command line prints them: the
headline numbers (labelled as ``sim.outcomes`` declares them), the sensitivity
table and the value-transfer-chain table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sim.outcomes import label


def fmt_num(x: Any, digits: int = 4) -> str:
    """A number in ``digits`` significant digits, '—' for missing (comparisons, reports)."""
    if x is None or isinstance(x, str):
        return "—" if x is None else x
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "—"
    if v != 0 and (abs(v) >= 1e7 or abs(v) < 1e-3):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}" if abs(v) < 10**digits else f"{v:,.0f}"


def fmt(v: Any, digits: int = 3) -> str:
    """A number for a table: NaN/None as '-', large numbers with separators."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}f}"
    return str(v)


def sigma_text(
    point: float | None, lower: float | None, digits: int = 2, confidence: float = 0.95
) -> str:
    """A sigma level as a reader should see it: "4.23σ (≥ 4.18σ, 95%)" with a point,
    "≥ 5.11σ (95%)" with only the bound (zero defects), "—" with neither.

    ``lower`` is ``sim.sixsigma.sigma_lower`` at ``confidence`` (its default too).
    """

    def ok(x: float | None) -> bool:
        return x is not None and isinstance(x, int | float) and math.isfinite(x)

    pct = f"{confidence:.0%}"
    if ok(point) and ok(lower):
        return f"{point:.{digits}f}σ (≥ {lower:.{digits}f}σ, {pct})"
    if ok(lower):
        return f"≥ {lower:.{digits}f}σ ({pct})"
    if ok(point):
        return f"{point:.{digits}f}σ"
    return "—"


def _steps(v: Any) -> str:
    """A lag in whole steps ('-' when not reached)."""
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0f}"


def render(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    """Align a table: first column left, the others right."""
    cells = [[str(h) for h in headers]] + [
        [fmt(c) if not isinstance(c, str) else c for c in r] for r in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    if title:
        lines.append(title)
    for j, r in enumerate(cells):
        parts = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, len(r))]
        lines.append("  ".join(parts).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


#: The headline's single-number rows, in this order (labelled by sim.outcomes).
HEADLINE: tuple[str, ...] = (
    "opportunities",
    "marketing_density",
    "dpmo",
    "sigma_level",
    "exclusion_defects",
    "omission_defects",
    "market_share_final",
    "alignment_final",
    "revenue_total",
    "profit_total",
    "churn_total",
)


def headline_table(s: dict[str, Any]) -> str:
    """The run's headline outcomes."""
    onset = s.get("contraction_onset")
    rows: list[tuple[str, Any]] = [
        (label(k), sigma_text(s[k], s.get("sigma_level_lower"), 3) if k == "sigma_level" else s[k])
        for k in HEADLINE
        if k in s
    ]
    rows += [
        ("strategic contraction", "no" if onset is None else f"yes, onset at step {onset}"),
        (
            "launches (focal firm): success / failure",
            f"{s.get('launch_successes', 0)} / {s.get('launch_failures', 0)} of {s.get('launch_count', 0)}",
        ),
    ]
    if "launch_successes_all" in s:
        rows.append(
            (
                "launches (all firms): success / failure",
                f"{s.get('launch_successes_all', 0)} / {s.get('launch_failures_all', 0)}",
            )
        )
    return render(
        ("outcome", "value"),
        rows,
        title=f"{s['scenario']}: {s['customers']:,} customers, {s['steps']} steps, seed {s['seed']}",
    )


def sensitivity_table(s: dict[str, Any], horizon: int | None = None) -> str:
    """Per event type: events, share detected within H, detection lag median and p90."""
    h = f" (H = {horizon} steps)" if horizon is not None else ""
    rows = [
        (
            name.replace("_", " "),
            d["events"],
            d["detected_share"],
            _steps(d["lag_median"]),
            _steps(d["lag_p90"]),
        )
        for name, d in s["detection"].items()
    ]
    return render(
        ("event", "events", "detected within H", "lag median", "lag p90"),
        rows,
        title=f"Platform sensitivity{h}; lags in steps, '-' = not reached",
    )


def chain_table(s: dict[str, Any]) -> str:
    """Per link of the value-transfer chain: opportunities, defects, DPMO, sigma (with
    the level its counts support), FPY; RTY."""
    rows = [
        (
            name.replace("_", " "),
            d["opportunities"],
            d["defects"],
            d["dpmo"],
            sigma_text(d["sigma_level"], d.get("sigma_level_lower")),
            d["fpy"],
        )
        for name, d in s["chain"].items()
    ]
    rows.append(("rolled throughput yield", "", "", "", "", s["rty"]))
    return render(
        ("link", "opportunities", "defects", "DPMO", "sigma (shifted)", "FPY"),
        rows,
        title="Value-transfer chain (focal firm)",
    )
