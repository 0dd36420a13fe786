"""What a frontier search writes: the cost-sigma plot, its page (frontier.html), the
cheapest scenario per level and a copy of the study."""

from __future__ import annotations

import contextlib
from pathlib import Path

from analysis.fit.frontier import Frontier
from sim.scenario import build_scenario


def _level_name(level: float) -> str:
    return f"{level:g}".replace(".", "_")


def plot_frontier(fr: Frontier, path: Path) -> Path:
    """Cost against sigma level, profit as colour, the Pareto set joined by a line."""
    from matplotlib.figure import Figure

    from analysis.plots import save_figure

    # a candidate with no defect has no point estimate: it stands at its lower bound
    t = fr.table.assign(x=fr.table["sigma"].fillna(fr.table["sigma_lower"]))
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
    fig.colorbar(sc, ax=ax, label="profit (mean)")
    ax.set_xlabel("sigma level (shifted, pooled over the seeds; no defect: its lower bound)")
    ax.set_ylabel("platform cost (contact_cost_total, mean)")
    ax.set_title(f"What a sigma level costs: {fr.spec.base['run']['name']}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    return save_figure(fig, path)


def frontier_html(fr: Frontier, png: Path) -> str:
    """A self-contained HTML page: the question, the cheapest setting per level, the
    plot and the Pareto set."""
    import pandas as pd

    from analysis.html import describe, fmt, img, page, table

    names = [p.name for p in fr.spec.parameters]
    bound = f"sigma supported (one-sided {fr.spec.confidence:.0%} lower bound)"
    cheap_rows = [
        [
            f"{r['level']:g}σ",
            *(fmt(r[n]) for n in names),
            fmt(r["cost"]),
            fmt(r.get("sigma")),
            fmt(r.get("sigma_lower")),
            fmt(r.get("profit")),
        ]
        if not pd.isna(r["trial"])
        else [f"{r['level']:g}σ", *("not reached" for _ in names), "—", "—", "—", "—"]
        for r in fr.cheapest.to_dict("records")
    ]
    p = fr.table[fr.table["pareto"]].sort_values("cost")
    pareto_rows = [
        [
            str(int(r["trial"])),
            *(fmt(r[n]) for n in names),
            fmt(r["cost"]),
            fmt(r["sigma"]),
            fmt(r["sigma_lower"]),
            fmt(r["profit"]),
        ]
        for r in p.to_dict("records")
    ]
    s = fr.spec
    body = [
        f"<h1>Frontier: what a sigma level costs — {s.base['run']['name']}</h1>",
        describe(s.base["run"].get("description", "")),
        f"<p class=muted>{len(fr.table)} candidates (NSGA-II), each run on the same "
        f"{s.replications} seeds for {s.steps} steps with {s.base['run']['customers']} "
        f"customers. Sigma pools the seeds' defects and opportunities; a level counts as "
        f"reached when its {s.confidence:.0%} lower bound reaches it.</p>",
        "<h2>Cheapest setting per sigma level</h2>",
        table(
            ["level", *names, "cost", "sigma (pooled; — with no defect)", bound, "profit"],
            cheap_rows,
        ),
        img(png),
        "<h2>Pareto set (cost against sigma)</h2>",
        table(
            ["trial", *names, "cost", "sigma (pooled; — with no defect)", bound, "profit"],
            pareto_rows,
        ),
    ]
    return page(f"frontier: {s.base['run']['name']}", body)


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
