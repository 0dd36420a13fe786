"""A self-contained HTML report of a run folder or a comparison folder.

One file, ``DIR/report.html``: inline CSS, plots embedded as base64 PNG, no
scripts, no external assets, so it opens in a browser without a network. It
says what was asked (the scenario descriptions), the headline numbers, the
plots, the sensitivity (detection) and value-transfer-chain tables, and a plain
reading of which differences are significant and which are not.

A run folder is what ``demandsim run`` writes (``summary.json``,
``timeseries.parquet``, ``scenario.toml``, PNG plots); a comparison folder is
what ``demandsim compare --out`` writes (``comparison.json`` and friends).
"""

from __future__ import annotations

import base64
import html
import json
import math
import tempfile
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.errors import InputError

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
tr.sig td { background: #fff8e1; }
.muted { color: #666; font-size: .9em; }
.cards { display: flex; flex-wrap: wrap; gap: .8em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6em .9em; min-width: 12em; }
.card .v { font-size: 1.35em; font-weight: 600; } .card .k { color: #555; font-size: .85em; }
figure { display: inline-block; margin: .5em; } img { max-width: 520px; }
blockquote { border-left: 4px solid #ccc; margin: .6em 0; padding: .2em 1em; color: #333; }
.finding { font-size: 1.1em; }
"""

_RUN_HEADLINE: tuple[tuple[str, str], ...] = (
    ("marketing_density", "marketing density"),
    ("dpmo", "DPMO"),
    ("sigma_level", "sigma level (shifted)"),
    ("market_share_final", "final market share"),
    ("revenue_total", "total revenue"),
    ("profit_total", "total profit"),
    ("alignment_final", "final alignment"),
    ("contraction_onset", "contraction onset (step)"),
    ("launch_successes", "focal launch successes"),
    ("launch_failures", "focal launch failures"),
    ("rty", "rolled throughput yield"),
)

_EVENT_NAMES = {
    "latent_to_active": "latent demand became real",
    "upmarket": "demand moved upmarket",
    "complement": "complement need opened",
    "supplier_failure": "customer's supplier failed",
    "competitor_launch": "competitor launched a product",
    "complaint": "complaint about our product",
}


def fmt(x: Any, digits: int = 4) -> str:
    """A number for people: ``digits`` significant digits, '—' when missing."""
    from sim.tables import fmt_num

    return fmt_num(x, digits)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{_e(path.stem)}" src="data:image/png;base64,{data}">'
        f"<figcaption class=muted>{_e(path.name)}</figcaption></figure>"
    )


def _table(
    head: Sequence[str], rows: Iterable[Sequence[Any]], classes: Sequence[str] | None = None
) -> str:
    out = ["<table><tr>"]
    out += [f'<th class="{"l" if i == 0 else ""}">{_e(h)}</th>' for i, h in enumerate(head)]
    out.append("</tr>")
    for k, row in enumerate(rows):
        cls = f' class="{classes[k]}"' if classes and classes[k] else ""
        out.append(f"<tr{cls}>")
        out += [f'<td class="{"l" if i == 0 else ""}">{_e(c)}</td>' for i, c in enumerate(row)]
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _page(title: str, body: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f'<meta name=viewport content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _describe(text: str) -> str:
    """A scenario description as a quote, its first line (the question) in bold."""
    first, _, rest = str(text).strip().partition("\n")
    tail = f"<br>{_e(rest.strip())}" if rest.strip() else ""
    return f"<blockquote><b>{_e(first)}</b>{tail}</blockquote>"


def _card(label: str, value: str, sub: str = "") -> str:
    s = f"<div class=muted>{_e(sub)}</div>" if sub else ""
    return f"<div class=card><div class=k>{_e(label)}</div><div class=v>{_e(value)}</div>{s}</div>"


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"report: {str(path)!r}: cannot be read ({exc.__class__.__name__})"
        ) from None


# --------------------------------------------------------------------------- tables


def detection_rows(detection: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """Rows (event, events, detected share, lag median, lag p90) of a detection table."""
    rows = []
    for event, m in detection.items():
        rows.append(
            [
                f"{event} ({_EVENT_NAMES.get(event, event)})",
                fmt(m.get("events")),
                fmt(m.get("detected_share"), 3),
                fmt(m.get("lag_median"), 3),
                fmt(m.get("lag_p90"), 3),
            ]
        )
    return rows


def chain_rows(chain: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """Rows (link, opportunities, defects, DPMO, sigma, FPY) of a value-transfer chain table."""
    return [
        [
            link.replace("_", " "),
            fmt(m.get("opportunities")),
            fmt(m.get("defects")),
            fmt(m.get("dpmo")),
            fmt(m.get("sigma_level"), 3),
            fmt(m.get("fpy"), 4),
        ]
        for link, m in chain.items()
    ]


_DET_HEAD = ["event type", "events", "detected within H", "lag median (steps)", "lag p90 (steps)"]
_CHAIN_HEAD = ["link", "opportunities", "defects", "DPMO", "sigma (shifted)", "first-pass yield"]


# --------------------------------------------------------------------------- comparison


def _plain_name(outcome: str) -> str:
    from analysis.compare import KEY_OUTCOMES

    return KEY_OUTCOMES.get(outcome, outcome.replace("_", " "))


def reading(
    outcomes: Sequence[Mapping[str, Any]], label_a: str, label_b: str, reps: int
) -> list[str]:
    """Plain-language sentences on the comparison: significant differences first,
    then the outcomes where no difference could be detected."""
    from analysis.compare import BETTER, KEY_OUTCOMES

    sig, flat, others = [], [], []
    pending = next((r for r in outcomes if r["outcome"] == "focal_launch_pending"), None)
    for r in outcomes:
        name = str(r["outcome"])
        diff = r.get("diff_b_minus_a")
        if diff is None or not math.isfinite(float(diff)):
            continue
        if not r.get("significant"):
            if name in KEY_OUTCOMES:
                flat.append(_plain_name(name))
            continue
        if name not in KEY_OUTCOMES:
            others.append(_plain_name(name))
            continue
        word = "higher" if float(diff) > 0 else "lower"
        judge = ""
        if name in BETTER:
            good = (float(diff) > 0) == (BETTER[name] > 0)
            judge = f" — better for {label_b}" if good else f" — worse for {label_b}"
        if name in ("launch_failures", "launch_successes") and pending is not None:
            pa, pb = pending.get("mean_a"), pending.get("mean_b")
            if pa != pb:
                judge = (
                    f" — but launches still pending at the end (not counted) differ too: "
                    f"{fmt(pb)} under {label_b} vs {fmt(pa)} under {label_a}"
                )
        vr = r.get("variance_reduction")
        pairing = ""
        if vr is not None and math.isfinite(float(vr)) and float(vr) > 0.05:
            pairing = f"; pairing removed {float(vr):.0%} of the variance"
        sig.append(
            f"<li><b>{_e(_plain_name(name))}</b> is {word} under {_e(label_b)} than under {_e(label_a)}: "
            f"{_e(fmt(r.get('mean_b')))} vs {_e(fmt(r.get('mean_a')))}, a difference of {_e(fmt(diff))} "
            f"(95% CI {_e(fmt(r.get('paired_lo')))} to {_e(fmt(r.get('paired_hi')))}){_e(judge)}{_e(pairing)}.</li>"
        )
    if others:
        sig.append(
            f"<li>Also significantly different: {_e(', '.join(others))} (see the table below).</li>"
        )
    out = []
    if sig:
        out.append(
            f"<p>Differences that hold across the {reps} paired replications (the paired 95% interval "
            "excludes zero):</p><ul>" + "".join(sig) + "</ul>"
        )
    else:
        out.append("<p>No outcome differs significantly between the two sides.</p>")
    if flat:
        out.append(
            "<p>No detectable difference (the interval includes zero, so the sign is not settled with "
            f"{reps} replications): {_e(', '.join(flat))}. More replications would narrow these intervals; "
            "they do not show that the two sides are equal.</p>"
        )
    return out


def comparison_report(directory: Path) -> str:
    """HTML of a comparison folder."""
    meta = _load_json(directory / "comparison.json")
    a, b = meta.get("a", {}), meta.get("b", {})
    la, lb = a.get("label", "A"), b.get("label", "B")
    reps, steps = meta.get("reps"), meta.get("steps")
    outcomes: list[dict[str, Any]] = meta.get("outcomes", [])
    by_name = {r["outcome"]: r for r in outcomes}
    body = [f"<h1>Comparison: {_e(la)} vs {_e(lb)}</h1>"]
    body.append(
        f"<p class=muted>{_e(reps)} paired replications of {_e(steps)} steps; replication i of both sides "
        f"uses the same seed (seeds {_e(meta.get('seeds', ['?'])[0])}..{_e(meta.get('seeds', ['?'])[-1])}), "
        "so both sides share their random inputs (common random numbers). Differences are "
        f"<b>B − A = {_e(lb)} − {_e(la)}</b>. Sigma levels are shifted (1.5σ convention).</p>"
    )

    body.append("<h2>What was asked</h2>")
    if meta.get("question"):
        body.append(_describe(meta["question"]))
    for side, s in (("A", a), ("B", b)):
        ov = s.get("overrides") or {}
        ov_text = "; ".join(f"{k} = {v}" for k, v in ov.items())
        body.append(
            f"<p><b>{side} = {_e(s.get('label'))}</b> <span class=muted>({_e(s.get('source'))}, "
            f"{_e(s.get('customers'))} customers{'; overrides: ' + _e(ov_text) if ov_text else ''})</span></p>"
        )
        if s.get("description") and s.get("description") != meta.get("question"):
            body.append(_describe(s["description"]))

    diffs = meta.get("differences") or []
    if diffs:
        body.append(
            "<p><b>Fields that differ between the sides</b> (A → B):</p><ul>"
            + "".join(
                f"<li><code>{_e(d.get('field'))}</code>: {_e(d.get('a'))} → {_e(d.get('b'))}</li>"
                for d in diffs
            )
            + "</ul>"
        )

    body.append("<h2>Headline</h2>")
    if meta.get("finding"):
        body.append(f"<p class=finding><b>{_e(meta['finding'])}</b></p>")
    body.append("<div class=cards>")
    cost = meta.get("worse_side_cost") or {}
    currency = str(meta.get("currency") or "")
    if cost:
        sub = f"95% CI {fmt(cost.get('lo'))} to {fmt(cost.get('hi'))} {currency}" + (
            "" if cost.get("significant") else " (not significant)"
        )
        share = cost.get("share_of_a")
        if isinstance(share, int | float) and math.isfinite(share):
            sub = f"{share:.1%} of A's total profit; " + sub
        body.append(
            _card(
                f"profit lost by {cost.get('worse')} vs {cost.get('better')}",
                f"{fmt(cost.get('loss'))} {currency}".strip(),
                sub,
            )
        )
    pending = by_name.get("focal_launch_pending")
    for key in (
        "market_share_final",
        "marketing_density",
        "sigma_level",
        "contraction_onset",
        "launch_failures",
        "detection_lag_median",
    ):
        r = by_name.get(key)
        if r:
            sub = (
                f"{la} {fmt(r.get('mean_a'))} · {lb} {fmt(r.get('mean_b'))}"
                f" · CI [{fmt(r.get('paired_lo'))}, {fmt(r.get('paired_hi'))}]"
            )
            if key == "launch_failures" and pending:
                sub += (
                    f" · not counted: launches still in evaluation at the end, "
                    f"{fmt(pending.get('mean_a'))} ({la}) and {fmt(pending.get('mean_b'))} ({lb}) "
                    "per replication"
                )
            body.append(_card(f"{_plain_name(key)}: B − A", fmt(r.get("diff_b_minus_a")), sub))
    body.append("</div>")

    body.append("<h2>Reading</h2>")
    body += reading(outcomes, la, lb, int(reps or 0))
    prof = by_name.get("profit_total")
    if prof and prof.get("variance_reduction") is not None:
        pw = _width(prof.get("paired_lo"), prof.get("paired_hi"))
        ww = _width(prof.get("welch_lo"), prof.get("welch_hi"))
        if math.isfinite(pw) and math.isfinite(ww) and pw > 0:
            body.append(
                f"<p class=muted>Pairing: for total profit, Var(B−A) is "
                f"{1 - float(prof['variance_reduction']):.1%} of Var(A)+Var(B); the paired interval is "
                f"{_ratio(ww / pw)} narrower than the unpaired (Welch) interval.</p>"
            )

    body.append(
        "<h2>Plots</h2><p class=muted>Mean over replications with its 95% band; "
        "'paired difference' plots show B − A per step with the paired 95% band.</p>"
    )
    body += [_img(p) for p in sorted((directory / "plots").glob("*.png"))]

    body.append("<h2>All outcomes</h2>")
    rows, classes = [], []
    for r in outcomes:
        vr = r.get("variance_reduction")
        rows.append(
            [
                r["outcome"],
                fmt(r.get("mean_a")),
                fmt(r.get("mean_b")),
                fmt(r.get("diff_b_minus_a")),
                f"[{fmt(r.get('paired_lo'))}, {fmt(r.get('paired_hi'))}]",
                f"[{fmt(r.get('welch_lo'))}, {fmt(r.get('welch_hi'))}]",
                "—" if vr is None or not math.isfinite(float(vr)) else f"{float(vr):.0%}",
                fmt(r.get("p_value"), 2),
            ]
        )
        classes.append("sig" if r.get("significant") else "")
    body.append(
        _table(
            [
                "outcome",
                f"A: {la}",
                f"B: {lb}",
                "B − A",
                "paired 95% CI",
                "Welch 95% CI",
                "variance reduction",
                "p",
            ],
            rows,
            classes,
        )
    )
    body.append(
        "<p class=muted>Highlighted rows: the paired interval excludes zero. Variance reduction = "
        "1 − Var(B−A)/(Var(A)+Var(B)).</p>"
    )

    body.append(
        "<h2>Sensitivity of the platform (detection)</h2><p class=muted>Mean over replications: "
        "share of events the focal records reflected within the horizon H, and the lag.</p>"
    )
    det = meta.get("detection", {})
    for side, label in (("A", la), ("B", lb)):
        if det.get(side):
            body.append(
                f"<h3>{side}: {_e(label)}</h3>" + _table(_DET_HEAD, detection_rows(det[side]))
            )
    body.append(
        "<h2>Value-transfer chain</h2><p class=muted>Mean over replications, per link of the chain.</p>"
    )
    chain = meta.get("chain", {})
    for side, label in (("A", la), ("B", lb)):
        if chain.get(side):
            rty = by_name.get("rty", {}).get("mean_a" if side == "A" else "mean_b")
            body.append(
                f"<h3>{side}: {_e(label)} <span class=muted>(rolled throughput yield {_e(fmt(rty))})</span></h3>"
                + _table(_CHAIN_HEAD, chain_rows(chain[side]))
            )
    body.append(_launch_section(meta.get("launches", {}), la, lb))
    return _page(f"Comparison: {la} vs {lb}", body)


def _ratio(r: float) -> str:
    return "more than 1000×" if r > 1000 else f"{r:.1f}×"


def _width(lo: Any, hi: Any) -> float:
    try:
        return float(hi) - float(lo)
    except (TypeError, ValueError):
        return math.nan


def _launch_section(launches: Mapping[str, Sequence[Mapping[str, Any]]], la: str, lb: str) -> str:
    rows = []
    for side, label in (("A", la), ("B", lb)):
        counts: dict[tuple[str, str, str], dict[str, int]] = {}
        for item in launches.get(side, []):
            key = (
                str(item.get("firm")),
                f"{item.get('category')}/{item.get('tier')}",
                str(item.get("kind", "")),
            )
            c = counts.setdefault(key, {"success": 0, "failure": 0, "pending": 0})
            c[str(item.get("outcome", "pending"))] = (
                c.get(str(item.get("outcome", "pending")), 0) + 1
            )
        for (firm, cell, kind), c in sorted(counts.items()):
            rows.append(
                [f"{side}: {label}", firm, cell, kind, c["success"], c["failure"], c["pending"]]
            )
    if not rows:
        return "<h2>Launches</h2><p>No launches in any replication.</p>"
    return "<h2>Launches</h2><p class=muted>Counted over all replications.</p>" + _table(
        ["side", "firm", "cell", "kind", "successes", "failures", "pending"], rows
    )


# --------------------------------------------------------------------------- run


def _run_parts(summary: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """(headline numbers, the runs, a note on what the numbers are) of a run summary.

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
            f"{len(runs)} replications (seeds {seeds[0]}..{seeds[-1]}), {summary.get('steps')} steps, "
            f"{fmt(head.get('customers'))} customers; numbers are means over the replications, "
            f"plots show replication 0."
        )
        return head, [dict(r) for r in runs], note
    note = f"seed {summary.get('seed')}, {summary.get('steps')} steps, {summary.get('customers')} customers."
    return dict(summary), [dict(summary)], note


def run_report(directory: Path) -> str:
    """HTML of a run folder (``demandsim run`` output, one or several replications)."""
    from analysis.compare import mean_nested

    summary = _load_json(directory / "summary.json")
    if not isinstance(summary, dict):
        raise InputError(f"report: {str(directory / 'summary.json')!r}: expected a JSON object")
    head, runs, note = _run_parts(summary)
    scenario: dict[str, Any] = {}
    if (directory / "scenario.toml").exists():
        try:
            scenario = tomllib.loads((directory / "scenario.toml").read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            scenario = {}
    run = scenario.get("run", {})
    name = run.get("name") or summary.get("scenario") or directory.name
    body = [f"<h1>Run: {_e(name)}</h1>"]
    body.append(f"<p class=muted>{_e(note)} Sigma levels are shifted (1.5σ convention).</p>")
    body.append("<h2>What was asked</h2>")
    body.append(_describe(run.get("description") or "(no description)"))
    body.append("<h2>Headline</h2><div class=cards>")
    for key, label in _RUN_HEADLINE:
        if key in head:
            value = head[key]
            body.append(
                _card(label, "none" if value is None and key == "contraction_onset" else fmt(value))
            )
    body.append("</div>")
    body.append("<h2>Reading</h2>" + _run_reading(head, runs))

    body.append("<h2>Plots</h2>")
    pngs = sorted(p for p in directory.rglob("*.png") if not p.name.startswith("."))
    if pngs:
        body += [_img(p) for p in pngs]
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
            body += [_img(p) for p in plot_run(ts.reset_index(drop=True), tmp)]
    else:
        body.append("<p>No plots and no time series in this folder.</p>")

    detection = mean_nested(runs, "detection")
    if detection:
        body.append(
            "<h2>Sensitivity of the platform (detection)</h2><p class=muted>Share of events the focal "
            "records reflected within the horizon H, and the lag"
            + (" (means over the replications)" if len(runs) > 1 else "")
            + ".</p>"
            + _table(_DET_HEAD, detection_rows(detection))
        )
    chain = mean_nested(runs, "chain")
    if chain:
        body.append(
            f"<h2>Value-transfer chain</h2><p class=muted>Rolled throughput yield {_e(fmt(head.get('rty')))}.</p>"
            + _table(_CHAIN_HEAD, chain_rows(chain))
        )
    launches = [(i, lo) for i, r in enumerate(runs) for lo in (r.get("launches") or [])]
    if launches:
        head_row = ["firm", "cell", "kind", "step", "adopters", "target", "outcome"]
        if len(runs) > 1:
            head_row = ["rep", *head_row]
        rows = []
        for i, lo in launches:
            row = [
                lo.get("firm"),
                f"{lo.get('category')}/{lo.get('tier')}",
                lo.get("kind"),
                lo.get("step"),
                fmt(lo.get("adopters")),
                fmt(lo.get("target")),
                lo.get("outcome"),
            ]
            rows.append([i, *row] if len(runs) > 1 else row)
        body.append("<h2>Launches</h2>" + _table(head_row, rows))
    return _page(f"Run: {name}", body)


def _run_reading(summary: Mapping[str, Any], runs: Sequence[Mapping[str, Any]] = ()) -> str:
    parts = []
    md, dpmo, sig = (
        summary.get("marketing_density"),
        summary.get("dpmo"),
        summary.get("sigma_level"),
    )
    if isinstance(md, int | float) and isinstance(dpmo, int | float):
        parts.append(
            f"Of every 100 marketing opportunities, {fmt(100 * float(md), 3)} were marketed effectively; "
            f"the rest were defects ({fmt(dpmo)} DPMO, sigma level {fmt(sig, 3)} shifted)."
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
                f", from step {min(hit)} to {max(hit)} (mean {fmt(sum(hit) / len(hit), 3)})."
                if hit
                else "."
            )
        )
    else:
        onset = summary.get("contraction_onset")
        parts.append(
            f"The firm's served market contracted from step {onset} on."
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
    return "<p>" + " ".join(_e(p) for p in parts) + "</p>"


# --------------------------------------------------------------------------- entry points


def build_report(directory: str | Path) -> str:
    """The report HTML of a run, comparison, frontier or calibration folder (the last
    two: the page the command wrote, ``frontier.html`` or ``calibration.html``).

    Raises:
        InputError: the folder does not exist or is none of these.
    """
    d = Path(directory)
    if not d.is_dir():
        raise InputError(f"report {str(directory)!r}: no such folder")
    if (d / "comparison.json").exists():
        return comparison_report(d)
    if (d / "summary.json").exists():
        return run_report(d)
    for page in ("frontier.html", "calibration.html"):
        if (d / page).is_file():
            return (d / page).read_text(encoding="utf-8")
    raise InputError(
        f"report {str(directory)!r}: not a run or comparison folder (no summary.json or comparison.json)"
    )


def write_report(directory: str | Path) -> Path:
    """Write ``DIR/report.html`` atomically and return its path."""
    from sim.io import atomic_write_text

    text = build_report(directory)
    path = Path(directory) / "report.html"
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise InputError(
            f"report {str(directory)!r}: cannot write report.html there "
            f"({exc.strerror or exc.__class__.__name__}); expected a writable folder"
        ) from None
    return path
