"""The parts of a comparison report a client reads: headline cards with units, the
"why" of the profit difference, the two sigma levels explained, and the sensitivity
strip. Every function takes the comparison folder's ``comparison.json`` (``meta``)
and returns HTML parts; units, labels and directions come from ``sim.outcomes``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.html import amount, card, esc, money, percent, points, signed
from sim.calendar import WEEKS_PER_YEAR
from sim.outcomes import find
from sim.outcomes import label as outcome_label
from sim.tables import sigma_text

Row = Mapping[str, Any]


class Units:
    """How one comparison writes its numbers: its currency and its calendar."""

    def __init__(self, meta: Mapping[str, Any]) -> None:
        self.currency = str(meta.get("currency") or "money units")
        spy = meta.get("steps_per_year")
        self.weeks_per_step = WEEKS_PER_YEAR / float(spy) if spy else None

    def unit(self, name: str) -> str:
        o = find(name)
        return o.unit if o else ""

    def value(self, name: str, x: Any) -> str:
        """A value of outcome ``name`` with its unit ('none' when it has none)."""
        if not _finite(x):
            return "none"
        u = self.unit(name)
        if u == "share":
            return percent(x)
        if u == "money":
            return money(x, self.currency)
        if u in ("steps", "step") and self.weeks_per_step:
            return f"{amount(_times(x, self.weeks_per_step))} weeks"
        if u in ("σ",):
            return f"{amount(x)}σ"
        return f"{amount(x)} {u}".strip()

    def diff(self, name: str, x: Any) -> str:
        """A difference B − A of outcome ``name`` with its unit (shares in points)."""
        u = self.unit(name)
        if u == "share":
            return points(x)
        return signed(self.value(name, x))

    def interval(self, name: str, lo: Any, hi: Any) -> str:
        u = self.unit(name)
        if u == "share":
            return f"95% CI {points(lo)} to {points(hi)}"
        return f"95% CI {self.diff(name, lo)} to {self.diff(name, hi)}"

    def week(self, step: Any) -> str:
        """A point in time of the run: 'week 42' (or 'step 42' without a calendar)."""
        if self.weeks_per_step:
            return f"week {amount(_times(step, self.weeks_per_step))}"
        return f"step {amount(step)}"


def _number(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _times(x: Any, k: float) -> float:
    return _number(x) * k


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(float(x))


# --------------------------------------------------------------------------- headline cards


def diff_card(name: str, r: Row, la: str, lb: str, u: Units) -> str:
    """A card of one outcome's difference B − A in its unit, each side's mean and the
    interval; a difference that cannot be computed says in words why."""
    label = outcome_label(name)
    a, b, d = r.get("mean_a"), r.get("mean_b"), r.get("diff_b_minus_a")
    sides = f"{la} {u.value(name, a)} · {lb} {u.value(name, b)}"
    if not _finite(d):
        missing = [s for s, v in ((la, a), (lb, b)) if not _finite(v)]
        why = MISSING_WORDS.get(name, "no value in any replication")
        if not missing:
            why = "no replication has a value on both sides"
        shown = " → ".join(u.value(name, v) if _finite(v) else "none" for v in (a, b))
        return card(
            label, shown, f"{la} → {lb}; none on {' and '.join(missing) or 'a pair'}: {why}"
        )
    ci = u.interval(name, r.get("paired_lo"), r.get("paired_hi"))
    return card(f"{label}: B − A", u.diff(name, d), f"{sides} · {ci}")


#: What a missing value of an outcome means, in words.
MISSING_WORDS: dict[str, str] = {
    "detection_lag_median": "fewer than half of the market's changes were ever detected, "
    "so the median lag is longer than the run",
    "contraction_onset": "no contraction in any run",
    "sigma_level": "no defect, so only a bound (see the sigma card)",
}


def profit_card(cost: Mapping[str, Any], u: Units) -> str:
    sub = f"95% CI {amount(cost.get('lo'))} to {money(cost.get('hi'), u.currency)}"
    if not cost.get("significant"):
        sub += " (the interval includes 0)"
    share = cost.get("share_of_a")
    if _finite(share):
        sub = f"{percent(share)} of A's total profit; " + sub
    return card(
        f"total profit lost by {cost.get('worse')} against {cost.get('better')}",
        money(cost.get("loss"), u.currency),
        sub,
    )


def sigma_card(pooled: Mapping[str, Mapping[str, Any]], la: str, lb: str) -> str:
    """Each side's sigma level over its pooled replications, with the counts."""
    a, b = pooled.get("A", {}), pooled.get("B", {})

    def side(p: Mapping[str, Any]) -> str:
        return sigma_text(p.get("sigma_level"), p.get("sigma_level_lower"))

    def counts(p: Mapping[str, Any]) -> str:
        return f"{amount(p.get('defects'))} defects in {amount(p.get('opportunities'))} needs"

    return card(
        f"{outcome_label('sigma_level')}, replications pooled",
        f"{side(a)} → {side(b)}",
        f"{la}: {counts(a)} · {lb}: {counts(b)}",
    )


def contraction_words(c: Mapping[str, Any], u: Units) -> str:
    """One side's contraction in words, never empty."""
    if not c:
        return "not measured"
    n, k = c.get("runs"), c.get("contracted")
    if not k:
        return f"no contraction in any of {n} runs"
    when = f"from {u.week(c.get('onset_mean'))} on average"
    if c.get("onset_min") is not None and c.get("onset_min") != c.get("onset_max"):
        when += f" (earliest {u.week(c.get('onset_min'))}, latest {u.week(c.get('onset_max'))})"
    return f"contracted in {k} of {n} runs, {when}"


def contraction_card(
    contraction: Mapping[str, Mapping[str, Any]], la: str, lb: str, u: Units
) -> str:
    a, b = contraction.get("A", {}), contraction.get("B", {})

    def share(c: Mapping[str, Any]) -> str:
        return f"{c.get('contracted')} of {c.get('runs')} runs" if c else "not measured"

    return card(
        "strategic contraction: runs whose served market contracted",
        f"{share(a)} → {share(b)}",
        f"{la}: {contraction_words(a, u)} · {lb}: {contraction_words(b, u)}",
    )


def launch_card(r: Row, pending: Row | None, la: str, lb: str, u: Units) -> str:
    """Failed launches per run, with the launches still being judged at the end."""
    a, b = r.get("mean_a"), r.get("mean_b")
    value = f"{amount(a)} → {amount(b)} per run"
    sub = f"{la} → {lb}; B − A {u.diff('launch_failures', r.get('diff_b_minus_a'))}"
    if pending:
        sub += (
            f" · still being judged at the end (not counted): {amount(pending.get('mean_a'))} "
            f"({la}) and {amount(pending.get('mean_b'))} ({lb}) per run"
        )
    if not (_finite(a) and _finite(b)):
        value = "no launch judged"
    return card(outcome_label("launch_failures"), value, sub)


def headline_cards(
    meta: Mapping[str, Any], by_name: Mapping[str, Row], la: str, lb: str
) -> list[str]:
    """The headline's cards: profit, share, density, sigma, contraction, failed launches
    and the detection lag, each with its unit; an outcome the folder lacks has no card."""
    u = Units(meta)
    out = ["<div class=cards>"]
    cost = meta.get("worse_side_cost") or {}
    if cost:
        out.append(profit_card(cost, u))
    for key in ("market_share_final", "marketing_density"):
        if by_name.get(key):
            out.append(diff_card(key, by_name[key], la, lb, u))
    if meta.get("sigma"):
        out.append(sigma_card(meta["sigma"], la, lb))
    if meta.get("contraction"):
        out.append(contraction_card(meta["contraction"], la, lb, u))
    if by_name.get("launch_failures"):
        out.append(
            launch_card(by_name["launch_failures"], by_name.get("focal_launch_pending"), la, lb, u)
        )
    if by_name.get("detection_lag_median"):
        out.append(diff_card("detection_lag_median", by_name["detection_lag_median"], la, lb, u))
    out.append("</div>")
    return out


# --------------------------------------------------------------------------- why


def decomposition_sentence(accounts: Mapping[str, Any], lb: str, u: Units) -> str:
    """The trade-off in one sentence: what B saves and what it loses, part by part."""
    gains: list[str] = []
    losses: list[str] = []
    for p in accounts.get("parts", []):
        e = float(p["effect"])
        if not _finite(e) or abs(e) < 0.5:
            continue
        m = money(abs(e), u.currency)
        if p["sign"] > 0:
            (gains if e > 0 else losses).append(
                f"earns {m} more {p['label']}" if e > 0 else f"loses {m} of {p['label']}"
            )
        else:
            (gains if e > 0 else losses).append(
                f"saves {m} of {p['label']}" if e > 0 else f"spends {m} more on {p['label']}"
            )
    total = float(accounts["total"]["diff"])
    said = _and(gains) + ", but " + _and(losses) if gains and losses else _and(gains + losses)
    net = "loses" if total < 0 else "gains"
    head = (
        f"{esc(lb)} {esc(said)}" if said else f"{esc(lb)} and A differ in no part of the accounts"
    )
    return (
        f"<p>{head}: on balance it {net} {esc(money(abs(total), u.currency))} of total profit.</p>"
    )


def _and(items: Sequence[str]) -> str:
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def decomposition_table(accounts: Mapping[str, Any], la: str, lb: str, u: Units) -> str:
    """Each part of the accounts on both sides and its effect on the difference; the
    effects add up to the total line."""
    from analysis.html import table

    rows = []
    for p in accounts.get("parts", []):
        kind = "income" if p["sign"] > 0 else "cost"
        rows.append(
            [
                f"{p['label']} ({kind})",
                money(p["mean_a"], u.currency),
                money(p["mean_b"], u.currency),
                signed(money(p["effect"], u.currency)),
                f"{amount(p['lo'])} to {amount(p['hi'])}",
            ]
        )
    t = accounts["total"]
    rows.append(
        [
            "total profit",
            "",
            "",
            signed(money(t["diff"], u.currency)),
            f"{amount(t['lo'])} to {amount(t['hi'])}",
        ]
    )
    head = ["part of the accounts", f"A: {la}", f"B: {lb}", "effect on B − A profit", "95% CI"]
    return (
        "<div class=decomposition>" + table(head, rows, [""] * (len(rows) - 1) + ["sig"]) + "</div>"
    )


#: Plain words for rows that can favour the side that earns less.
BACKWARDS_WORDS: dict[str, str] = {
    "contact_cost_total": (
        "a platform that contacts fewer customers spends less on contacts: this saving is "
        "the contact cost line of the accounts above, and the revenue it costs outweighs it"
    ),
    "complaints_raised": (
        "complaints are raised after a sale, so a firm that sells less hears fewer of them"
    ),
    "launch_failures": (
        "a launch fails when it misses its adoption target; a firm that launches later or "
        "less often has fewer launches to fail (launches still being judged are not counted)"
    ),
    "development_cost_total": (
        "a firm that develops later or less spends less on development, and sells less of "
        "what it would have developed"
    ),
}


def counterintuitive(by_name: Mapping[str, Row], la: str, lb: str) -> list[str]:
    """Bullets for the significant rows on which the side that earns less looks better,
    each with what the row counts and why it does not show the loss."""
    from analysis.compare.statistics import BETTER

    prof = by_name.get("profit_total") or {}
    d = _number(prof.get("diff_b_minus_a"))
    if not prof.get("significant") or not math.isfinite(d):
        return []
    worse = lb if d < 0 else la
    out = []
    for name, r in by_name.items():
        direction = BETTER.get(name, 0)
        diff = _number(r.get("diff_b_minus_a"))
        if not direction or not r.get("significant") or not math.isfinite(diff):
            continue
        if name in ("profit_total", "alignment_final"):  # the latter: see report.backwards
            continue
        favours_b = (diff > 0) == (direction > 0)
        if (lb if favours_b else la) != worse:
            continue
        o = find(name)
        why = BACKWARDS_WORDS.get(name) or (
            f"it counts {o.meaning if o else name}, which is not money: it does not decide profit"
        )
        out.append(
            f"<li><b>{esc(outcome_label(name))}</b> favours {esc(worse)} "
            f"({esc(amount(r.get('mean_a')))} → {esc(amount(r.get('mean_b')))}): {esc(why)}.</li>"
        )
    return out


def sigma_explained(meta: Mapping[str, Any], la: str, lb: str) -> list[str]:
    """Why each link of the chain can sit at 3.5–4σ while the headline level is near 2σ
    or below: the two count different opportunities and defects."""
    sig = meta.get("sigma") or {}
    chain = meta.get("chain") or {}
    if not sig or not chain:
        return []
    lines, every = [], []
    for side, label in (("A", la), ("B", lb)):
        p = sig.get(side, {})
        links = chain.get(side, {})
        levels = [float(m["sigma_level"]) for m in links.values() if _finite(m.get("sigma_level"))]
        every += levels
        span = f"{min(levels):.1f}σ to {max(levels):.1f}σ" if levels else "no level"
        biggest = max(
            links.items(), key=lambda kv: float(kv[1].get("opportunities") or 0), default=None
        )
        big = (
            f"; its busiest link, {biggest[0].replace('_', ' ')}, had "
            f"{amount(biggest[1].get('opportunities'))} attempts and "
            f"{amount(biggest[1].get('defects'))} failures per run"
            if biggest
            else ""
        )
        lines.append(
            f"<li><b>{esc(label)}</b>: headline "
            f"{esc(sigma_text(p.get('sigma_level'), p.get('sigma_level_lower')))} from "
            f"{esc(amount(p.get('defects')))} needs missed of {esc(amount(p.get('opportunities')))} "
            f"(all runs); the chain's links {esc(span)}{esc(big)}.</li>"
        )
    links_span = f"{min(every):.1f}–{max(every):.1f}σ" if every else "a level of their own"
    return [
        "<h2>Two kinds of sigma</h2>",
        "<p>The <b>headline sigma</b> counts <b>needs</b>: each need of a customer in the firm's "
        "own standard is an opportunity, and it is a defect when no offer at the tier the "
        "customer wants reached the customer within the standard's response time, whether the "
        "customer was never in the platform (exclusion) or in it but not worked in time "
        "(omission). The <b>link sigma</b> of the value-transfer chain counts <b>attempts of one "
        "process step</b>: an offer made, an order taken, a sale delivered, a finding recorded; "
        "a defect is an attempt that step spoils. A link only sees what the platform attempted: "
        "a need nobody contacted is no opportunity of any link, but it is a defect of the "
        f"headline. So the links can sit at {esc(links_span)} on both sides (each link's failure "
        "rate is a setting, the same on both unless the comparison changes it) while the "
        "headline level tells the two platforms apart: a platform that attempts less loses "
        "needs it never attempts, which no link counts.</p>",
        "<ul>" + "".join(lines) + "</ul>",
    ]


# --------------------------------------------------------------------------- sensitivity


def sensitivity_section(meta: Mapping[str, Any], la: str, lb: str, figure: str) -> list[str]:
    """The strip: the tornado, what was varied and how, and its numbers."""
    from analysis.html import table

    strip = meta.get("sensitivity") or {}
    if not strip.get("rows"):
        return []
    u = Units(meta)
    swing = float(strip["swing"])
    rows = []
    for r in strip["rows"]:
        how = str(r["method"])
        if r.get("accounting_only"):
            acc = r["accounting_only"]
            how += (
                f"; had customers not reacted, the difference would move by "
                f"{signed(money(acc['low'], u.currency))} and {signed(money(acc['high'], u.currency))}"
            )
        rows.append(
            [
                str(r["label"]),
                f"{r['field']} ×{1 - swing:g} and ×{1 + swing:g} on both sides",
                how,
                money(r["low"], u.currency),
                money(r["high"], u.currency),
            ]
        )
    reps = strip.get("price_reps")
    fewer = (
        "(fewer than the comparison's replications, to keep the comparison quick)"
        if reps and reps < int(meta.get("reps") or 0)
        else "(all the comparison's replications)"
    )
    prices = (
        f" Product prices change what customers choose, so they were rerun on the first {reps} "
        f"paired seeds {fewer}; "
        "their bars are the shift those reruns measured, added to the finding."
        if reps
        else " Product prices were not varied (they need reruns; compare --price-reps)."
    )
    return [
        "<section id=sensitivity><h2>How the finding moves with the economic assumptions</h2>",
        f"<p>The finding, {esc(lb)} − {esc(la)} = <b>{esc(signed(money(strip['base'], u.currency)))}</b> "
        f"of total profit, recomputed with each assumption a client may question {swing:.0%} "
        "lower and higher, on both sides at once and with the same seeds (common random "
        "numbers). The price of a contact, of a record and of a development change no decision "
        "in the model, so they are recomputed exactly from the runs' own counts."
        + esc(prices)
        + "</p>",
        figure,
        table(
            ["assumption", "what was varied", "how", f"at −{swing:.0%}", f"at +{swing:.0%}"],
            rows,
        )
        + "</section>",
    ]
