"""The report of a run folder (what ``demandsim run`` writes): the question, headline
cards, a plain reading, the plots, the platform's sensitivity and the chain. It speaks
like the comparison report: amounts in the scenario's currency with thousands
separators, time in weeks (or years on the plots), shares in percent, captions in words."""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.compare.client import Units
from analysis.html import (
    CAPTIONS,
    CHAIN_HEAD,
    amount,
    card,
    chain_rows,
    describe,
    det_head,
    detection_rows,
    esc,
    fmt,
    horizon,
    img,
    load_json,
    page,
    percent,
    table,
)
from sim.errors import InputError
from sim.outcomes import label as outcome_label
from sim.tables import sigma_text

#: The run's headline cards, in this order (their labels are the outcomes' own).
_RUN_HEADLINE: tuple[str, ...] = (
    "marketing_density",
    "dpmo",
    "sigma_level",
    "market_share_final",
    "revenue_total",
    "profit_total",
    "alignment_final",
    "contraction_onset",
    "launch_successes",
    "launch_failures",
    "rty",
)


def _run_parts(
    summary: Mapping[str, Any], span: str
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """(headline numbers, the runs, a note on what the numbers are) of a run summary;
    ``span`` is the run's horizon in words.

    ``demandsim run`` writes one run's summary, or with ``--reps`` a dict with the
    per-run summaries under ``runs`` and their means under ``mean``.
    """
    runs = summary.get("runs")
    if isinstance(runs, list) and runs:
        head = dict(summary.get("mean") or {})
        for key in ("contraction_onset",):  # share of runs that contracted is more telling
            onsets = [r.get(key) for r in runs]
            head[key] = None if all(o is None for o in onsets) else head.get(key)
        seeds = summary.get("seeds") or [r.get("seed") for r in runs]
        note = (
            f"{len(runs)} replications (seeds {seeds[0]}..{seeds[-1]}) of {span}, "
            f"{amount(head.get('customers'))} customers; numbers are means over the replications, "
            f"plots show replication 0."
        )
        return head, [dict(r) for r in runs], note
    note = f"seed {summary.get('seed')}, {span}, {amount(summary.get('customers'))} customers."
    return dict(summary), [dict(summary)], note


def _headline_card(key: str, head: Mapping[str, Any], runs: int, u: Units) -> str:
    """One headline card with its unit; a value the run does not have says why."""
    value = head.get(key)
    sub = "mean over the replications" if runs > 1 else ""
    if key == "sigma_level":
        text = sigma_text(value, head.get("sigma_level_lower"))
        sub = "shifted (1.5σ convention); in brackets the lowest level the counts support"
    elif key == "contraction_onset":
        if value is None:
            text = "none"
            sub = "no contraction flagged" + (" in any replication" if runs > 1 else "")
        else:
            text = u.week(value)
            sub = "mean over the replications that contracted" if runs > 1 else ""
    elif key in ("launch_successes", "launch_failures"):
        text = u.value(key, value) + (" per run" if runs > 1 else "")
    else:
        text = u.value(key, value)
    return card(outcome_label(key), text, sub)


def run_report(directory: Path) -> str:
    """HTML of a run folder (``demandsim run`` output, one or several replications)."""
    from analysis.compare.statistics import mean_nested

    summary = load_json(directory / "summary.json")
    if not isinstance(summary, dict):
        raise InputError(f"report: {str(directory / 'summary.json')!r}: expected a JSON object")
    scenario: dict[str, Any] = {}
    if (directory / "scenario.toml").exists():
        try:
            scenario = tomllib.loads((directory / "scenario.toml").read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            scenario = {}
    run = scenario.get("run", {})
    u = Units(run)
    spy = run.get("steps_per_year")
    steps = summary.get("steps")
    span = horizon(steps, spy) if spy else f"{steps} steps"
    head, runs, note = _run_parts(summary, span)
    name = run.get("name") or summary.get("scenario") or directory.name
    body = [f"<h1>Run: {esc(name)}</h1>"]
    body.append(
        f"<p class=muted>{esc(note)} Amounts are in {esc(u.currency)}. "
        "Sigma levels are shifted (1.5σ convention).</p>"
    )
    body.append("<h2>What was asked</h2>")
    body.append(describe(run.get("description") or "(no description)"))
    body.append("<h2>Headline</h2><div class=cards>")
    body += [_headline_card(key, head, len(runs), u) for key in _RUN_HEADLINE if key in head]
    body.append("</div>")
    body.append("<h2>Reading</h2>" + _run_reading(head, runs, u))

    body.append("<h2>Plots</h2>")
    order = list(CAPTIONS)  # the order plot_run draws them in; others after, by name
    pngs = sorted(
        (p for p in directory.rglob("*.png") if not p.name.startswith(".")),
        key=lambda p: (order.index(p.stem) if p.stem in order else len(order), p.name),
    )
    if pngs:
        body += [img(p) for p in pngs]  # captions in words (CAPTIONS)
    elif (directory / "timeseries.parquet").exists():
        import pandas as pd

        from analysis.plots import plot_run

        path = directory / "timeseries.parquet"
        try:
            ts = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own types for a damaged file
            raise InputError(
                f"report: {str(path)!r}: cannot be read ({exc.__class__.__name__}); "
                "expected the Parquet file demandsim run writes"
            ) from None
        if "rep" in ts.columns:
            ts = ts[ts["rep"] == ts["rep"].min()].drop(columns=["rep", "seed"], errors="ignore")
        with tempfile.TemporaryDirectory() as tmp:
            drawn = plot_run(ts.reset_index(drop=True), tmp, u.currency, spy)
            body += [img(p) for p in drawn]
    else:
        body.append("<p>No plots and no time series in this folder.</p>")

    detection = mean_nested(runs, "detection")
    if detection:
        body.append(
            "<h2>Sensitivity of the platform (detection)</h2><p class=muted>Share of events the focal "
            "records reflected within the horizon H, and the lag"
            + (" (means over the replications)" if len(runs) > 1 else "")
            + ".</p>"
            + table(det_head(u.weeks_per_step), detection_rows(detection))
        )
    chain = mean_nested(runs, "chain")
    if chain:
        body.append(
            "<h2>Value-transfer chain</h2><p class=muted>Rolled throughput yield "
            f"{esc(percent(head.get('rty')))}; the link sigma counts attempts of one process step, "
            "the headline sigma counts needs.</p>" + table(CHAIN_HEAD, chain_rows(chain))
        )
    launches = [(i, lo) for i, r in enumerate(runs) for lo in (r.get("launches") or [])]
    if launches:
        head_row = ["firm", "cell", "kind", "when", "adopters", "target", "outcome"]
        if len(runs) > 1:
            head_row = ["rep", *head_row]
        rows = []
        for i, lo in launches:
            row = [
                lo.get("firm"),
                f"{lo.get('category')}/{lo.get('tier')}",
                lo.get("kind"),
                u.week(lo.get("step")),
                amount(lo.get("adopters")),
                amount(lo.get("target")),
                lo.get("outcome"),
            ]
            rows.append([i, *row] if len(runs) > 1 else row)
        body.append("<h2>Launches</h2>" + table(head_row, rows))
    return page(f"Run: {name}", body)


def _run_reading(
    summary: Mapping[str, Any], runs: Sequence[Mapping[str, Any]] = (), u: Units | None = None
) -> str:
    u = u or Units({})
    parts = []
    md, dpmo = summary.get("marketing_density"), summary.get("dpmo")
    sig = sigma_text(summary.get("sigma_level"), summary.get("sigma_level_lower"))
    if isinstance(md, int | float) and isinstance(dpmo, int | float):
        parts.append(
            f"Of every 100 marketing opportunities, {fmt(100 * float(md), 3)} were marketed effectively; "
            f"the rest were defects ({amount(dpmo)} DPMO, sigma level {sig} shifted)."
        )
        if summary.get("sigma_level") is None and summary.get("sigma_level_lower") is not None:
            parts.append(
                "No defect was counted, so the counts estimate no sigma level: they support the "
                "bound shown (one-sided 95%, Clopper–Pearson), not more."
            )
    ex, om = summary.get("exclusion_defects"), summary.get("omission_defects")
    if isinstance(ex, int | float) and isinstance(om, int | float) and ex + om > 0:
        parts.append(
            f"{fmt(100 * ex / (ex + om), 3)}% of the defects were exclusions (the customer was not in the "
            "platform) and the rest omissions (in the platform, but not marketed in time)."
        )
    onsets = [r.get("contraction_onset") for r in runs] if len(runs) > 1 else []
    hit = [int(o) for o in onsets if isinstance(o, int | float)]
    if len(runs) > 1:
        parts.append(
            f"Strategic contraction was flagged in {len(hit)} of {len(runs)} replications"
            + (
                f", from {u.week(min(hit))} to {u.week(max(hit))} "
                f"(mean {u.week(sum(hit) / len(hit))})."
                if hit
                else "."
            )
        )
    else:
        onset = summary.get("contraction_onset")
        parts.append(
            f"The firm's served market contracted from {u.week(onset)} on."
            if onset is not None
            else "No strategic contraction was flagged."
        )
    per = " per replication on average" if len(runs) > 1 else ""
    for who, suffix in (("the focal firm", ""), ("all firms", "_all")):
        fails, succ = (
            summary.get(f"launch_failures{suffix}"),
            summary.get(f"launch_successes{suffix}"),
        )
        if isinstance(fails, int | float) and isinstance(succ, int | float) and fails + succ > 0:
            parts.append(
                f"Launches ({who}{per}): {fmt(succ, 3)} succeeded and {fmt(fails, 3)} failed."
            )
    return "<p>" + " ".join(esc(p) for p in parts) + "</p>"
