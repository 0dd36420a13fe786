"""What a frontier search writes: the cost-sigma plot, its page (frontier.html), the
cheapest scenario per level and a copy of the study."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

from analysis.fit.frontier import Frontier
from sim.scenario import build_scenario


def _level_name(level: float) -> str:
    return f"{level:g}".replace(".", "_")


def _about(n: float) -> str:
    """A count rounded to two significant digits, with separators: ``880,000``."""
    if n < 100:
        return f"{n:,.0f}"
    digits = int(math.floor(math.log10(n))) - 1
    return f"{round(n, -digits):,.0f}"


def _sigma(r: dict[str, Any], confidence: float) -> str:
    """ "4.46σ (at least 4.25σ at 95%)", or for no defect the bound alone."""
    bound = f"at least {r['sigma_lower']:.2f}σ at {confidence:.0%}"
    if pd_isna(r.get("sigma")):
        return f"no defect in {r['opportunities']:,.0f} opportunities ({bound})"
    return f"{r['sigma']:.2f}σ ({bound})"


def pd_isna(value: Any) -> bool:
    """True for None and NaN (a level nobody reached, a sigma of no defect)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def frontier_words(fr: Frontier) -> dict[str, Any]:
    """The frontier in a manager's words: what was tried (``intro``), one sentence per
    sigma level (``levels``: its cheapest setting with its cost and profit per year,
    or why no setting showed it: the opportunities it takes against those observed)
    and the most profitable setting (``profit``). Settings are named by what they do
    (``analysis.fit.words``); money is per year in the scenario's currency."""
    from analysis.fit.words import money_per_year, setting_phrase, years
    from sim.sixsigma import opportunities_to_show

    s = fr.spec
    run = s.base["run"]
    names = [p.name for p in s.parameters]
    t = fr.table

    def per_year(v: float) -> str:
        return money_per_year(v, s.steps, s.base)

    def setting(r: dict[str, Any]) -> str:
        return "; ".join(setting_phrase(n, _plain_value(r[n]), s.base) for n in names)

    intro = (
        f"What each sigma level costs in {run['name']}: {len(t)} settings tried, each on "
        f"the same {s.replications} seed{'s' if s.replications > 1 else ''} for "
        f"{years(s.steps, int(run['steps_per_year']))} with {int(run['customers']):,} "
        f"customers. A level counts as shown when the one-sided {s.confidence:.0%} lower "
        f"bound of the sigma level reaches it; cost is the platform's (contacts and "
        f"records)."
    )
    levels = []
    rows = t.to_dict("records")
    for c in fr.cheapest.to_dict("records"):
        level = c["level"]
        if not pd_isna(c["trial"]):
            r = next(x for x in rows if x["trial"] == int(c["trial"]))
            text = (
                f"{level:g}σ: cheapest setting found: {setting(r)}; platform cost "
                f"{per_year(r['cost'])}; {_sigma(r, s.confidence)}; profit "
                f"{per_year(r['profit'])}."
            )
            cheaper = [
                x
                for x in rows
                if x["cost"] < r["cost"] and not pd_isna(x["sigma"]) and x["sigma"] >= level
            ]
            if cheaper:
                x = min(cheaper, key=lambda x: x["cost"])
                text += (
                    f" A cheaper setting ({setting(x)}; {per_year(x['cost'])}) estimates "
                    f"{x['sigma']:.2f}σ, but its {x['opportunities']:,.0f} opportunities "
                    f"support only {x['sigma_lower']:.2f}σ."
                )
            levels.append(text)
            continue
        need = opportunities_to_show(level, s.confidence)
        most = max(rows, key=lambda x: x["opportunities"])
        best = max(rows, key=lambda x: x["sigma_lower"])
        if need > most["opportunities"]:
            why = (
                f"with no defect at all it takes about {_about(need)} opportunities to show "
                f"{level:g}σ at {s.confidence:.0%}, and the largest run held "
                f"{most['opportunities']:,.0f} (pooled over its seeds): more customers, "
                f"seeds (replications) or steps would show it"
            )
        else:
            why = "no setting tried has few enough defects"
        levels.append(
            f"{level:g}σ: not shown by any setting: {why}. The best supports "
            f"{best['sigma_lower']:.2f}σ ({setting(best)}; {per_year(best['cost'])})."
        )
    top = max(rows, key=lambda x: x["profit"])
    profit = (
        f"Most profitable setting: {setting(top)}: {_sigma(top, s.confidence)}, profit "
        f"{per_year(top['profit'])} at a platform cost of {per_year(top['cost'])}."
    )
    above = [x for x in rows if x["sigma_lower"] > top["sigma_lower"]]
    if above:
        profit += (
            f" Profit peaks near {top['sigma_lower']:.1f}σ: the {len(above)} settings "
            f"that show more cost more in contacts than they bring in sales (at most "
            f"{per_year(max(x['profit'] for x in above))} of profit)."
        )
    return {"intro": intro, "levels": levels, "profit": profit}


def _plain_value(value: Any) -> Any:
    """A table cell as a plain Python value (numpy scalars to float/int)."""
    return value.item() if hasattr(value, "item") else value


def plot_frontier(fr: Frontier, path: Path) -> Path:
    """Cost against sigma level, profit as colour, the Pareto set joined by a line."""
    from matplotlib.figure import Figure

    from analysis.plots import save_figure

    # a candidate with no defect has no point estimate: it stands at its lower bound
    run = fr.spec.base["run"]
    yearly = int(run["steps_per_year"]) / fr.spec.steps  # totals over the run to a year
    t = fr.table.assign(
        x=fr.table["sigma"].fillna(fr.table["sigma_lower"]),
        cost=fr.table["cost"] * yearly,
        profit=fr.table["profit"] * yearly,
    )
    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot()
    sc = ax.scatter(t["x"], t["cost"], c=t["profit"], cmap="viridis", s=28, alpha=0.85)
    p = t[t["pareto"]].sort_values("x")
    ax.plot(
        p["x"],
        p["cost"],
        color="#d62728",
        lw=1.2,
        marker="o",
        mfc="none",
        ms=9,
        label="Pareto set",
    )
    for level in fr.spec.levels:
        ax.axvline(level, color="grey", lw=0.6, ls=":")
    currency = str(run.get("currency", "money units"))
    fig.colorbar(sc, ax=ax, label=f"profit ({currency} a year, mean of the seeds)")
    ax.set_xlabel("sigma level (shifted, pooled over the seeds; no defect: its lower bound)")
    ax.set_ylabel(f"platform cost: contacts and records ({currency} a year)")
    ax.set_title(f"What a sigma level costs: {run['name']}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    return save_figure(fig, path)


def frontier_html(fr: Frontier, png: Path) -> str:
    """A self-contained HTML page: the answer in plain words, the cheapest setting per
    level, the plot and the Pareto set (settings by what they do, money per year)."""
    import pandas as pd

    from analysis.fit.words import per_year, setting_label, setting_value
    from analysis.html import describe, esc, fmt, img, page, table

    s = fr.spec
    run = s.base["run"]
    currency = str(run.get("currency", "money units"))
    names = [p.name for p in s.parameters]
    labels = [setting_label(n, s.base) for n in names]

    def yearly(v: float) -> str:
        return fmt(per_year(v, s.steps, int(run["steps_per_year"])))

    def values(r: dict[str, Any]) -> list[str]:
        return [setting_value(n, _plain_value(r[n]), currency) for n in names]

    bound = f"sigma shown (one-sided {s.confidence:.0%} lower bound)"
    money_cols = [f"platform cost ({currency} a year)", f"profit ({currency} a year)"]
    cheap_rows = [
        [
            f"{r['level']:g}σ",
            *values(r),
            yearly(r["cost"]),
            fmt(r.get("sigma")),
            fmt(r.get("sigma_lower")),
            yearly(r["profit"]),
        ]
        if not pd.isna(r["trial"])
        else [f"{r['level']:g}σ", *("not shown" for _ in names), "—", "—", "—", "—"]
        for r in fr.cheapest.to_dict("records")
    ]
    p = fr.table[fr.table["pareto"]].sort_values("cost")
    pareto_rows = [
        [
            str(int(r["trial"])),
            *values(r),
            yearly(r["cost"]),
            fmt(r["sigma"]),
            fmt(r["sigma_lower"]),
            yearly(r["profit"]),
        ]
        for r in p.to_dict("records")
    ]
    words = frontier_words(fr)
    plain = "".join(f"<li>{esc(line)}</li>" for line in [*words["levels"], words["profit"]])
    body = [
        f"<h1>Frontier: what a sigma level costs — {run['name']}</h1>",
        describe(run.get("description", "")),
        "<h2>In plain words</h2>",
        f"<p>{esc(words['intro'])}</p>",
        f"<ul class=plain>{plain}</ul>",
        "<h2>Cheapest setting per sigma level</h2>",
        table(
            ["level", *labels, money_cols[0], "sigma (— with no defect)", bound, money_cols[1]],
            cheap_rows,
        ),
        img(png),
        "<h2>Pareto set (cost against sigma)</h2>",
        table(
            ["trial", *labels, money_cols[0], "sigma (— with no defect)", bound, money_cols[1]],
            pareto_rows,
        ),
    ]
    return page(f"frontier: {run['name']}", body)


def write_frontier(fr: Frontier, out: str | Path, study: str | Path | None = None) -> Path:
    """Write the frontier's folder as a whole: pareto.csv/.parquet, candidates.csv,
    cheapest.csv, cheapest-Ksigma.toml per reached level, frontier.png, frontier.html,
    spec.json and demandsim.json, and a copy of the ``study`` file (SQLite) as
    study.db, so that a rerun on the folder continues the search."""
    import pandas as pd
    import tomli_w

    from analysis.runs.provenance import provenance
    from sim.io import (
        MARKER,
        atomic_write_bytes,
        atomic_write_json,
        atomic_write_parquet,
        atomic_write_text,
        staged_dir,
    )

    out = Path(out)
    scenarios: dict[str, str] = {}
    with staged_dir(out) as stage:
        pareto = fr.table[fr.table["pareto"]].sort_values("cost")
        atomic_write_text(stage / "candidates.csv", fr.table.to_csv(index=False))
        atomic_write_text(stage / "pareto.csv", pareto.to_csv(index=False))
        atomic_write_parquet(stage / "pareto.parquet", pareto.astype({"trial": int}))
        atomic_write_text(stage / "cheapest.csv", fr.cheapest.to_csv(index=False))
        for r in fr.cheapest.to_dict("records"):
            if pd.isna(r["trial"]):
                continue
            sc = build_scenario(fr.spec.base, fr.overrides(int(r["trial"])))
            name = f"cheapest-{_level_name(r['level'])}sigma.toml"
            atomic_write_bytes(stage / name, tomli_w.dumps(sc.to_dict()).encode())
            scenarios[f"{r['level']:g}sigma"] = name
        png = plot_frontier(fr, stage / "frontier.png")
        atomic_write_text(stage / "frontier.html", frontier_html(fr, png))
        atomic_write_json(stage / "spec.json", fr.spec.source)
        if study is not None and Path(study).is_file():
            _copy_sqlite(Path(study), stage / "study.db")
        atomic_write_json(
            stage / MARKER,
            provenance(
                "frontier",
                fr.spec.seeds,
                fr.spec.steps,
                scenarios,
                trials=fr.spec.trials,
                sampler="optuna.samplers.NSGAIISampler",
            ),
        )
    return out


def _copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of an SQLite database (its backup API, not a file copy)."""
    import sqlite3

    with (
        contextlib.closing(sqlite3.connect(src)) as a,
        contextlib.closing(sqlite3.connect(dst)) as b,
    ):
        a.backup(b)
