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

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.compare.run_report import run_report
from analysis.html import (
    CHAIN_HEAD,
    amount,
    caption,
    chain_rows,
    describe,
    det_head,
    detection_rows,
    esc,
    fmt,
    img,
    load_json,
    page,
    table,
)
from sim.errors import InputError
from sim.outcomes import label as outcome_label


def reading(
    outcomes: Sequence[Mapping[str, Any]], label_a: str, label_b: str, reps: int
) -> list[str]:
    """Plain-language sentences on the comparison: significant differences first,
    then the outcomes where no difference could be detected."""
    from analysis.compare.statistics import BETTER, KEY_OUTCOMES

    sig, flat, others = [], [], []
    pending = next((r for r in outcomes if r["outcome"] == "focal_launch_pending"), None)
    for r in outcomes:
        name = str(r["outcome"])
        diff = r.get("diff_b_minus_a")
        if diff is None or not math.isfinite(float(diff)):
            continue
        if not r.get("significant"):
            if name in KEY_OUTCOMES:
                flat.append(outcome_label(name))
            continue
        if name not in KEY_OUTCOMES:
            others.append(outcome_label(name))
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
            f"<li><b>{esc(outcome_label(name))}</b> is {word} under {esc(label_b)} than under {esc(label_a)}: "
            f"{esc(fmt(r.get('mean_b')))} vs {esc(fmt(r.get('mean_a')))}, a difference of {esc(fmt(diff))} "
            f"(95% CI {esc(fmt(r.get('paired_lo')))} to {esc(fmt(r.get('paired_hi')))}){esc(judge)}{esc(pairing)}.</li>"
        )
    if others:
        sig.append(
            f"<li>Also significantly different: {esc(', '.join(others))} (see the table below).</li>"
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
            f"{reps} replications): {esc(', '.join(flat))}. More replications would narrow these intervals; "
            "they do not show that the two sides are equal.</p>"
        )
    return out


def comparison_report(directory: Path) -> str:
    """HTML of a comparison folder."""
    from analysis.compare.client import (
        Units,
        counterintuitive,
        decomposition_sentence,
        decomposition_table,
        headline_cards,
        sensitivity_section,
        sigma_explained,
    )
    from analysis.html import horizon

    meta = load_json(directory / "comparison.json")
    a, b = meta.get("a", {}), meta.get("b", {})
    la, lb = a.get("label", "A"), b.get("label", "B")
    reps, steps = meta.get("reps"), meta.get("steps")
    span = (
        horizon(steps, meta["steps_per_year"]) if meta.get("steps_per_year") else f"{steps} steps"
    )
    outcomes: list[dict[str, Any]] = meta.get("outcomes", [])
    by_name = {r["outcome"]: r for r in outcomes}
    units = Units(meta)
    body = [f"<h1>Comparison: {esc(la)} vs {esc(lb)}</h1>"]
    body.append(
        f"<p class=muted>{esc(reps)} paired replications of {esc(span)}; replication i of both sides "
        f"uses the same seed (seeds {esc(meta.get('seeds', ['?'])[0])}..{esc(meta.get('seeds', ['?'])[-1])}), "
        "so both sides share their random inputs (common random numbers). Differences are "
        f"<b>B − A = {esc(lb)} − {esc(la)}</b>. Amounts are in {esc(units.currency)}. "
        "Sigma levels are shifted (1.5σ convention).</p>"
    )

    body.append("<h2>What was asked</h2>")
    if meta.get("question"):
        body.append(describe(meta["question"]))
    for side, s in (("A", a), ("B", b)):
        ov = s.get("overrides") or {}
        ov_text = "; ".join(f"{k} = {v}" for k, v in ov.items())
        body.append(
            f"<p><b>{side} = {esc(s.get('label'))}</b> <span class=muted>({esc(s.get('source'))}, "
            f"{esc(amount(s.get('customers')))} customers{'; overrides: ' + esc(ov_text) if ov_text else ''})</span></p>"
        )
        if s.get("description") and s.get("description") != meta.get("question"):
            body.append(describe(s["description"]))

    diffs = meta.get("differences") or []
    if diffs:
        body.append(
            "<p><b>Fields that differ between the sides</b> (A → B):</p><ul>"
            + "".join(
                f"<li><code>{esc(d.get('field'))}</code>: {esc(d.get('a'))} → {esc(d.get('b'))}</li>"
                for d in diffs
            )
            + "</ul>"
        )

    body.append("<h2>Headline</h2>")
    if meta.get("finding"):
        body.append(f"<p class=finding><b>{esc(meta['finding'])}</b></p>")
    body += headline_cards(meta, by_name, la, lb)

    body.append("<h2 id=why>Why</h2>")
    accounts = meta.get("accounts")
    if accounts:
        body.append(decomposition_sentence(accounts, lb, units))
        body.append(decomposition_table(accounts, la, lb, units))
    odd = counterintuitive(by_name, la, lb)
    rest = backwards(meta, by_name, la, lb, units.weeks_per_step)
    if odd or rest:
        body.append(
            "<p>Rows that seem to favour the side that earns less, and why they do not:</p><ul>"
            + "".join(odd)
            + "".join(x for x in rest if x.startswith("<li>"))
            + "</ul>"
        )
    prof = by_name.get("profit_total")
    if prof and prof.get("variance_reduction") is not None:
        pw = _width(prof.get("paired_lo"), prof.get("paired_hi"))
        ww = _width(prof.get("welch_lo"), prof.get("welch_hi"))
        if math.isfinite(pw) and math.isfinite(ww) and pw > 0:
            body.append(
                f"<p class=muted>The intervals cover the randomness of the runs only. Pairing: for "
                f"total profit, Var(B−A) is {1 - float(prof['variance_reduction']):.1%} of "
                f"Var(A)+Var(B); the paired interval is {pw / ww:.0%} as wide as the unpaired "
                "(Welch) interval.</p>"
            )

    body += sigma_explained(meta, la, lb)

    plots = sorted((directory / "plots").glob("*.png"))
    tornado = [p for p in plots if p.stem == "tornado"]
    body += sensitivity_section(
        meta, la, lb, img(tornado[0], caption(tornado[0])) if tornado else ""
    )

    body.append(
        "<h2>Plots</h2><p class=muted>Mean over replications with its 95% band; "
        "the 'paired difference' plots show B − A over time with the paired 95% band.</p>"
    )
    body += [img(p, caption(p)) for p in plots if p.stem != "tornado"]

    body.append("<h2>All outcomes</h2>")
    rows, classes = [], []
    for r in outcomes:
        vr = r.get("variance_reduction")
        name = str(r["outcome"])
        rows.append(
            [
                f"{outcome_label(name)} ({units.unit(name) or 'number'})",
                amount(r.get("mean_a")),
                amount(r.get("mean_b")),
                amount(r.get("diff_b_minus_a")),
                f"[{amount(r.get('paired_lo'))}, {amount(r.get('paired_hi'))}]",
                f"[{amount(r.get('welch_lo'))}, {amount(r.get('welch_hi'))}]",
                "—" if vr is None or not math.isfinite(float(vr)) else f"{float(vr):.0%}",
                fmt(r.get("p_value"), 2),
            ]
        )
        classes.append("sig" if r.get("significant") else "")
    body.append(
        table(
            [
                "outcome (unit)",
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
        "<p class=muted>Highlighted rows: the paired interval excludes zero. Money in "
        f"{esc(units.currency)}; shares as fractions (0.5 = 50%); steps are "
        f"{'weeks' if units.weeks_per_step == 1.0 else 'the run steps'}. Variance reduction = "
        "1 − Var(B−A)/(Var(A)+Var(B)).</p>"
    )

    body.append(
        "<h2>Sensitivity of the platform (detection)</h2><p class=muted>Mean over replications: "
        "share of events the focal records reflected within the horizon H, and the lag.</p>"
    )
    det = meta.get("detection", {})
    head = det_head(units.weeks_per_step)
    for side, label in (("A", la), ("B", lb)):
        if det.get(side):
            body.append(f"<h3>{side}: {esc(label)}</h3>" + table(head, detection_rows(det[side])))
    body.append(
        "<h2>Value-transfer chain</h2><p class=muted>Mean over replications, per link of the chain "
        "(the link sigma: see 'Two kinds of sigma').</p>"
    )
    chain = meta.get("chain", {})
    for side, label in (("A", la), ("B", lb)):
        if chain.get(side):
            rty = by_name.get("rty", {}).get("mean_a" if side == "A" else "mean_b")
            body.append(
                f"<h3>{side}: {esc(label)} <span class=muted>(rolled throughput yield {esc(fmt(rty))})</span></h3>"
                + table(CHAIN_HEAD, chain_rows(chain[side]))
            )
    body.append(_launch_section(meta.get("launches", {}), la, lb))
    return page(f"Comparison: {la} vs {lb}", body)


def _per_k(rate: Any, sign: bool = False) -> str:
    """A rate per served need and year, said per 1,000 needs (one decimal)."""
    try:
        x = 1000 * float(rate)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(x):
        return "—"
    x = 0.0 if round(x, 1) == 0 else x  # no "-0.0"
    return f"{x:+,.1f}".replace("-", "−") if sign else f"{x:,.1f}"


def backwards(
    meta: Mapping[str, Any],
    by_name: Mapping[str, Mapping[str, Any]],
    la: str,
    lb: str,
    weeks_per_step: float | None = None,
) -> list[str]:
    """Words for the rows that read backwards: the side that earns less ending with no
    lower alignment, or losing fewer needs to churn. Neither is an error of the
    measure; each counts something other than what its name suggests at first."""
    prof = by_name.get("profit_total") or {}
    diff = prof.get("diff_b_minus_a")
    if not prof.get("significant") or not isinstance(diff, int | float):
        return []
    worse, better = ("B", "A") if diff < 0 else ("A", "B")
    name = {"A": la, "B": lb}
    key = {"A": "mean_a", "B": "mean_b"}
    out = []
    al = by_name.get("alignment_final") or {}
    low = meta.get("alignment_low") or {}
    aw, ab = al.get(key[worse]), al.get(key[better])
    if isinstance(aw, int | float) and isinstance(ab, int | float) and aw >= ab - 0.005 and low:
        lw, lbt = low.get(worse, {}), low.get(better, {})
        out.append(
            f"<li><b>Final alignment</b> does not show the loss: {esc(name[worse])} ends at "
            f"{esc(fmt(aw))} against {esc(fmt(ab))}. Alignment is the share of all demand that "
            "falls in cells where our firm has a product, read at the last step, whoever serves "
            "that demand: it says whether the portfolio fits demand, not how much of it the firm "
            "wins, and a product launched late (or launched, failed and still on sale) counts as "
            f"much as one launched in time. The gap is in the path: the mean alignment of "
            f"{esc(name[worse])} fell to {esc(fmt(lw.get('value')))} {esc(_when(lw.get('step'), weeks_per_step))}"
            f", that of {esc(name[better])} no lower than "
            f"{esc(fmt(lbt.get('value')))} (see the alignment plot).</li>"
        )
    ch = by_name.get("churn_total") or {}
    rate = meta.get("churn_rate") or {}
    cw, cb = ch.get(key[worse]), ch.get(key[better])
    if isinstance(cw, int | float) and isinstance(cb, int | float) and cw < cb and rate:
        sign = 1.0 if worse == "B" else -1.0  # the rate's difference, worse side − better
        d, lo, hi = (sign * float(rate.get(k, math.nan)) for k in ("diff", "lo", "hi"))
        lo, hi = min(lo, hi), max(lo, hi)
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 <= hi:
            verdict = (
                "no detectable difference per need: the totals differ because the served needs do"
            )
        elif hi < 0:
            rb = float(rate.get(better, math.nan))
            verdict = (
                f"lower per need too, but by {abs(d) / rb:.1%} where the totals differ by "
                f"{(cb - cw) / cb:.1%}: most of the gap is in the needs served"
            )
        else:
            verdict = "higher per need: the totals hide it"
        out.append(
            f"<li><b>Churn</b>: {esc(name[worse])} loses fewer served needs to churn "
            f"({esc(amount(cw))} against {esc(amount(cb))}) because fewer needs are served in its "
            "market at all: churn counts the needs of every firm's customers, and a need no "
            "platform markets in time stays unserved and cannot churn. Per 1,000 served "
            f"needs a year, {esc(_per_k(rate.get(worse)))} churn under {esc(name[worse])} "
            f"against {esc(_per_k(rate.get(better)))} (B − A "
            f"{esc(_per_k(rate.get('diff'), sign=True))}, paired 95% CI "
            f"{esc(_per_k(rate.get('lo'), sign=True))} to "
            f"{esc(_per_k(rate.get('hi'), sign=True))}): {esc(verdict)}.</li>"
        )
    if not out:
        return []
    return ["<p>Rows that read backwards, and why:</p><ul>", *out, "</ul>"]


def _when(step: Any, weeks_per_step: float | None) -> str:
    if weeks_per_step is None or not isinstance(step, int | float):
        return f"at step {fmt(step)}"
    return f"in week {fmt(float(step) * weeks_per_step)}"


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
    return "<h2>Launches</h2><p class=muted>Counted over all replications.</p>" + table(
        ["side", "firm", "cell", "kind", "successes", "failures", "pending"], rows
    )


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
    for written in ("frontier.html", "calibration.html"):
        if (d / written).is_file():
            return (d / written).read_text(encoding="utf-8")
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
