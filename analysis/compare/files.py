"""What a comparison shows and writes: the table of paired differences as text, the
headline finding, and the files of a comparison folder (written all at once)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.compare.paired import DIFF_SERIES, Comparison, field_differences, finding
from sim.sixsigma import pooled_sigma_measures
from sim.tables import fmt_num, render, sigma_text

if TYPE_CHECKING:
    import pandas as pd


def _pct(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    return f"{v:.0%}" if math.isfinite(v) else "—"


def format_table(table: pd.DataFrame, label_a: str, label_b: str) -> str:
    """The comparison table as plain text (differences B - A)."""
    head = [
        "outcome",
        f"A: {label_a}",
        f"B: {label_b}",
        "B − A",
        "paired 95% CI",
        "Welch 95% CI",
        "var.red.",
        "",
    ]
    rows = [head]
    for r in table.itertuples(index=False):
        rows.append(
            [
                str(r.outcome),
                fmt_num(r.mean_a),
                fmt_num(r.mean_b),
                fmt_num(r.diff_b_minus_a),
                f"[{fmt_num(r.paired_lo)}, {fmt_num(r.paired_hi)}]",
                f"[{fmt_num(r.welch_lo)}, {fmt_num(r.welch_hi)}]",
                _pct(r.variance_reduction),
                "*" if r.significant else "",
            ]
        )
    return render(rows[0], rows[1:])


def pooled_sigma(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The sigma level the replications' pooled counts support (with the pooled counts),
    and per chain link likewise: what a comparison shows beside the means of levels."""
    out: dict[str, Any] = pooled_sigma_measures(summaries)
    links = summaries[0].get("chain", {}) if summaries else {}
    out["chain"] = {
        link: pooled_sigma_measures(s["chain"][link] for s in summaries) for link in links
    }
    return out


def sigma_line(comp: Comparison) -> str:
    """One line: each side's sigma level over the pooled replications, with its bound."""
    parts = []
    for side, summaries in (("A", comp.summaries_a), ("B", comp.summaries_b)):
        p = pooled_sigma(summaries)
        parts.append(
            f"{side} {sigma_text(p['sigma_level'], p['sigma_level_lower'])} "
            f"({p['defects']:,.0f} defects in {p['opportunities']:,.0f} opportunities)"
        )
    return "Sigma level of the pooled replications: " + "; ".join(parts) + "."


def contraction_line(comp: Comparison) -> str:
    """One line: how many runs of each side contracted, when, with their intervals."""
    from analysis.compare.statistics import contraction_summary, contraction_text

    a = contraction_text(contraction_summary(comp.summaries_a))
    b = contraction_text(contraction_summary(comp.summaries_b))
    return f"Strategic contraction: A in {a}; B in {b}."


def headline(comp: Comparison, table: pd.DataFrame) -> str:
    """The lines printed above and below the table."""
    from analysis.compare.statistics import worse_platform_cost

    n = len(comp.seeds)
    lines = [
        f"A = {comp.a.label} ({comp.a.source})",
        f"B = {comp.b.label} ({comp.b.source})",
        f"{n} paired replications (seeds {comp.seeds[0]}..{comp.seeds[-1]}, same seeds on both sides), "
        f"{comp.steps} steps; differences are B − A; * = paired 95% CI excludes 0; "
        "var.red. = 1 − Var(B−A)/(Var(A)+Var(B)).",
    ]
    diffs = field_differences(comp.a.scenario, comp.b.scenario)
    if diffs:
        shown = "; ".join(f"{d['field']}: {d['a']!r} → {d['b']!r}" for d in diffs[:8])
        more = f"; and {len(diffs) - 8} more (comparison.json)" if len(diffs) > 8 else ""
        lines.append(f"Fields that differ (A → B): {shown}{more}.")
    cost = worse_platform_cost(table, comp.a.label, comp.b.label)
    tail = ""
    if cost:
        prof = table[table["outcome"] == "profit_total"].iloc[0]
        run = comp.a.scenario.run
        tail = finding(
            cost, float(prof["mean_a"]), comp.steps, run.currency, run.steps_per_year, comp.a.label
        )
        paired_w = float(prof["paired_hi"] - prof["paired_lo"])
        welch_w = float(prof["welch_hi"] - prof["welch_lo"])
        if math.isfinite(paired_w) and math.isfinite(welch_w) and paired_w > 0:
            tail += (
                f"\nPairing: Var(B−A) of total profit is {1 - float(prof['variance_reduction']):.0%} "
                f"of Var(A)+Var(B); its paired interval is {welch_w / paired_w:.1f}× narrower "
                "than the unpaired (Welch) one."
            )
    return (
        "\n".join(lines)
        + "\n\n"
        + format_table(table, comp.a.label, comp.b.label)
        + "\n"
        + contraction_line(comp)
        + "\n"
        + sigma_line(comp)
        + ("\n\n" + tail if tail else "")
    )


def write_comparison(
    comp: Comparison, out: Path, prices: dict[str, Any] | None = None
) -> list[Path]:
    """Write every output of a comparison as the folder ``out``, replacing any earlier
    one as a whole (all or nothing; see ``sim.io.staged_dir``).

    Args:
        prices: the price reruns of ``analysis.compare.assumptions.price_swings``, if
            any; the sensitivity strip shows them beside the accounting assumptions.
    """
    import pandas as pd
    import tomli_w

    from analysis.compare.assumptions import decompose, sensitivity
    from analysis.compare.statistics import (
        contraction_summary,
        launch_outcomes,
        mean_band,
        mean_nested,
        paired_band,
        scalar_outcomes,
        series_low,
        worse_platform_cost,
    )
    from analysis.plots import plot_compare, plot_tornado
    from analysis.runs.provenance import provenance
    from sim.io import (
        MARKER,
        atomic_write_json,
        atomic_write_parquet,
        atomic_write_text,
        staged_dir,
        to_json,
    )

    table = comp.table()
    written: list[Path] = []
    with staged_dir(out) as stage:
        atomic_write_text(stage / "comparison.csv", table.to_csv(index=False))
        rows = []
        for side, label, summaries in (
            ("A", comp.a.label, comp.summaries_a),
            ("B", comp.b.label, comp.summaries_b),
        ):
            for rep, s in enumerate(summaries):
                rows.append(
                    {
                        "side": side,
                        "label": label,
                        "rep": rep,
                        "seed": comp.seeds[rep],
                        **scalar_outcomes(s),
                    }
                )
        atomic_write_parquet(stage / "summaries.parquet", pd.DataFrame(rows))
        atomic_write_text(
            stage / "summaries.json", to_json({"A": comp.summaries_a, "B": comp.summaries_b})
        )

        columns = [
            c for c in comp.series_a[0].columns if c != "step" and _numeric(comp.series_a[0][c])
        ]
        band_a = mean_band(comp.series_a, columns)
        band_b = mean_band(comp.series_b, columns)
        both = pd.concat(
            [
                band_a.assign(side="A", label=comp.a.label),
                band_b.assign(side="B", label=comp.b.label),
            ],
            ignore_index=True,
        )
        atomic_write_parquet(stage / "timeseries_mean.parquet", both)
        diffs = {
            c: paired_band(comp.series_a, comp.series_b, c) for c in DIFF_SERIES if c in columns
        }
        run = comp.a.scenario.run
        plot_compare(
            band_a,
            band_b,
            comp.a.label,
            comp.b.label,
            stage / "plots",
            diffs,
            currency=run.currency,
            steps_per_year=run.steps_per_year,
        )
        accounts = decompose(comp.summaries_a, comp.summaries_b, comp.a.scenario, comp.b.scenario)
        strip = sensitivity(accounts, prices)
        plot_tornado(strip, comp.b.label, comp.a.label, run.currency, stage / "plots")

        for key, part in (("a", comp.a), ("b", comp.b)):
            atomic_write_text(
                stage / f"scenario_{key}.toml", tomli_w.dumps(part.scenario.to_dict())
            )
        launches = {
            "A": launch_outcomes(comp.summaries_a).to_dict(orient="records"),
            "B": launch_outcomes(comp.summaries_b).to_dict(orient="records"),
        }
        cost = worse_platform_cost(table, comp.a.label, comp.b.label)
        prof = table[table["outcome"] == "profit_total"]
        profit_a = float(prof["mean_a"].iloc[0]) if len(prof) else math.nan
        if cost and math.isfinite(profit_a) and profit_a != 0:
            cost["share_of_a"] = cost["loss"] / abs(profit_a)
        meta = {
            "kind": "comparison",
            "direction": "B - A",
            "question": comp.question,
            "a": comp.a.meta(),
            "b": comp.b.meta(),
            "reps": len(comp.seeds),
            "seeds": comp.seeds,
            "steps": comp.steps,
            "level": 0.95,
            "outcomes": table.to_dict(orient="records"),
            "worse_side_cost": cost,
            "currency": run.currency,
            "steps_per_year": run.steps_per_year,
            "finding": finding(
                cost, profit_a, comp.steps, run.currency, run.steps_per_year, comp.a.label
            ),
            "accounts": accounts,
            "sensitivity": strip,
            "differences": field_differences(comp.a.scenario, comp.b.scenario),
            "detection": {
                "A": mean_nested(comp.summaries_a, "detection"),
                "B": mean_nested(comp.summaries_b, "detection"),
            },
            "chain": {
                side: _pooled_chain(mean_nested(summaries, "chain"), pooled_sigma(summaries))
                for side, summaries in (("A", comp.summaries_a), ("B", comp.summaries_b))
            },
            "sigma": {"A": pooled_sigma(comp.summaries_a), "B": pooled_sigma(comp.summaries_b)},
            "contraction": {
                "A": contraction_summary(comp.summaries_a),
                "B": contraction_summary(comp.summaries_b),
            },
            # what the report needs to read rows that look backwards
            "churn_rate": _churn_rates(comp),
            "alignment_low": {
                "A": series_low(band_a, "alignment"),
                "B": series_low(band_b, "alignment"),
            },
            "launches": launches,
        }
        atomic_write_json(stage / "comparison.json", meta)
        atomic_write_json(
            stage / MARKER,
            provenance(
                "comparison",
                comp.seeds,
                comp.steps,
                {comp.a.label: "scenario_a.toml", comp.b.label: "scenario_b.toml"},
            ),
        )
        written = sorted(p.relative_to(stage) for p in stage.rglob("*") if p.is_file())
    # the folder was replaced as a whole: a report of an earlier comparison is gone with it
    return [out / p for p in written]


def _churn_rates(comp: Comparison) -> dict[str, Any]:
    """Churn per served need and year on each side, with the paired difference B - A."""
    from analysis.compare.statistics import churn_rate, paired_t_ci

    spy = comp.a.scenario.run.steps_per_year
    a = [churn_rate(f, spy) for f in comp.series_a]
    b = [churn_rate(f, spy) for f in comp.series_b]
    d = paired_t_ci(a, b)
    return {
        "A": float(np.nanmean(a)),
        "B": float(np.nanmean(b)),
        "diff": d.estimate,
        "lo": d.lo,
        "hi": d.hi,
    }


def _pooled_chain(
    means: dict[str, dict[str, float]], pooled: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Per link, the means over replications with the sigma level of the pooled counts
    in place of a mean of levels."""
    for link, m in means.items():
        p = pooled["chain"].get(link, {})
        m.update({k: p[k] for k in ("sigma_level", "sigma_level_lower") if k in p})
    return means


def _numeric(col: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(col))
