"""The debrief: the leaderboard and, per team, its platform's beliefs against the truth.

Shown on the trainer's session page after each round and written as one
self-contained HTML file (no scripts, nothing fetched). Per team: the believed
demand structure beside the true one, believed against true open needs and market
share, detection lags per kind of change, the opportunities missed by exclusion or
omission and why, and its decisions and outcomes round by round.
"""

from __future__ import annotations

from typing import Any

from analysis.classroom.config import SessionConfig
from analysis.classroom.layout import bars_svg, esc, fmt, lines_svg, page
from sim.outcomes import SERIES, label
from sim.tables import sigma_text

EVENT_LABELS = {
    "latent_to_active": "latent demand became real",
    "upmarket": "demand moved upmarket",
    "complement": "a complement need appeared",
    "supplier_failure": "a rival's supply failed",
    "competitor_launch": "a rival launched a product",
    "complaint": "a complaint about us",
}


def sigma(truth: dict[str, Any]) -> str:
    """A team's true sigma level with the level its counts support ("≥ 5.1σ (95%)" alone
    when it missed nothing; "−∞" when it missed everything)."""
    point, lower = truth.get("sigma_level"), truth.get("sigma_level_lower")
    if "-inf" in (point, lower):
        return fmt("-inf")
    return sigma_text(point, lower)


def leaderboard(
    names: list[str], last: list[dict[str, Any]], truth: bool = True
) -> tuple[str, list[int]]:
    """The leaderboard table (ranked by cumulative profit) and the ranking; ``truth``:
    with the columns measured on the truth (market share, sigma level, density)."""
    order = sorted(range(len(names)), key=lambda i: -last[i]["team"]["profit"])
    rows = "".join(
        f"<tr><td>{rank}</td><td class=team-name>{esc(names[i])}</td>"
        f"<td>{fmt(last[i]['team']['profit'])}</td>"
        + (
            f"<td>{fmt(last[i]['truth']['market_share'], 1, pct=True)}</td>"
            f"<td>{esc(sigma(last[i]['truth']))}</td>"
            f"<td>{fmt(last[i]['truth']['marketing_density'], 1, pct=True)}</td>"
            if truth
            else ""
        )
        + "</tr>"
        for rank, i in enumerate(order, start=1)
    )
    heads = (
        "".join(
            f"<th>{esc(text)}</th>"
            for text in (
                "true " + label("market_share", SERIES),
                label("sigma_level"),
                label("marketing_density"),
            )
        )
        if truth
        else ""
    )
    table = (
        "<table data-testid=leaderboard><tr><th>rank</th><th>team</th><th>cumulative profit</th>"
        f"{heads}</tr>{rows}</table>"
    )
    return table, order


def why(res: dict[str, Any]) -> str:
    """Plain words on the opportunities a team missed, and why."""
    tr, team = res["truth"], res["team"]
    opp, exc, omi = tr["opportunities"], tr["exclusion_defects"], tr["omission_defects"]
    if not opp:
        return "No opportunity has closed yet."
    parts = [
        f"Of {opp:,} opportunities that closed, {tr['defects']:,} were missed: "
        f"{exc:,} by <b>exclusion</b> (the customer was outside the platform: coverage "
        f"{team['platform']['coverage']:g}) and {omi:,} by <b>omission</b> (in the platform, "
        "but no matching offer reached the need in time: density "
        f"{team['platform']['density']:g}, strength {team['platform']['strength']:g}, "
        f"{team['platform']['targeting']} targeting, or no product at the tier wanted)."
    ]
    gap = [
        (t["cell"], t["open"])
        for t, b in zip(tr["cells"], team["cells"], strict=True)
        if b["standard"] and not b["sells"] and t["open"]
    ]
    if gap:
        cells = ", ".join(f"{c} ({n:,})" for c, n in gap)
        parts.append(f"Open needs in cells you do not sell, at the end: {cells}.")
    worst = max(
        zip(tr["cells"], team["cells"], strict=True),
        key=lambda p: abs(p[0]["share"] - p[1]["believed_share"]),
    )
    parts.append(
        f"Largest belief error: {worst[0]['cell']} believed "
        f"{100 * worst[1]['believed_share']:.0f}% of demand, truly {100 * worst[0]['share']:.0f}%."
    )
    return " ".join(parts)


def detection_table(tr: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{esc(EVENT_LABELS.get(k, k))}</td><td>{v['events']:,}</td>"
        f"<td>{fmt(v['detected_share'], 0, pct=True)}</td><td>{fmt(v['lag_median'], 0)}</td>"
        f"<td>{fmt(v['lag_p90'], 0)}</td></tr>"
        for k, v in tr["detection"].items()
    )
    h = tr.get("horizon")
    return (
        "<table class=detection><tr><th>what changed</th><th>events</th>"
        f"<th>detected within {h} steps</th><th>median lag (steps)</th><th>p90 lag</th></tr>"
        f"{rows}</table><p class=note>A change is detected when the records first show it "
        f"(a correct read at a contact, or a sale). Shares count changes at least {h} steps "
        "old; lags count the undetected as still waiting (Kaplan–Meier).</p>"
    )


def rounds_table(history: list[dict[str, Any]]) -> str:
    """A team's decisions and their outcomes, round by round (defects in each round)."""
    rows = []
    for r in range(1, len(history)):
        team, tr, prev = history[r]["team"], history[r]["truth"], history[r - 1]["truth"]
        p = team["platform"]
        dev = ", ".join(c["cell"] for c in team["cells"] if c["ready"] is not None)
        rows.append(
            f"<tr><td>{r}</td><td>{p['coverage']:g} / {p['density']:g} / {p['strength']:g} / "
            f"{esc(p['targeting'])}</td><td>{esc(dev) or '–'}</td>"
            f"<td>{fmt(team['round_profit'])}</td><td>{fmt(tr['market_share'], 1, pct=True)}</td>"
            f"<td>{tr['exclusion_defects'] - prev['exclusion_defects']:,}</td>"
            f"<td>{tr['omission_defects'] - prev['omission_defects']:,}</td></tr>"
        )
    return (
        "<table class=rounds><tr><th>round</th><th>coverage / density / strength / targeting"
        "</th><th>in development</th><th>profit</th><th>true share</th><th>missed: exclusion"
        f"</th><th>omission</th></tr>{''.join(rows)}</table>"
    )


def team_truth(name: str, history: list[dict[str, Any]]) -> str:
    """One team's beliefs against the truth (after its last round) and its rounds."""
    res = history[-1]
    team, tr = res["team"], res["truth"]
    rows = "".join(
        f"<tr><td>{esc(b['cell'])}</td><td>{fmt(b['believed_share'], 1, pct=True)}</td>"
        f"<td>{fmt(t['share'], 1, pct=True)}</td><td>{b['believed_open']:,}</td><td>{t['open']:,}</td>"
        f"<td>{'yes' if b['sells'] else 'no'}</td></tr>"
        for b, t in zip(team["cells"], tr["cells"], strict=True)
    )
    table = (
        "<table class=beliefs><tr><th>cell</th><th>believed demand</th><th>true demand</th>"
        f"<th>believed open</th><th>true open</th><th>sells</th></tr>{rows}</table>"
    )
    bars = bars_svg(
        [
            (b["cell"], b["believed_share"], t["share"])
            for b, t in zip(team["cells"], tr["cells"], strict=True)
        ],
        ("believed", "true"),
    )
    p = team["platform"]
    return (
        f"<div class=team data-team='{esc(name)}'><h3>{esc(name)}</h3>"
        f"<p class=note>Platform in the last round: coverage {p['coverage']:g}, density "
        f"{p['density']:g}, strength {p['strength']:g}, {esc(p['targeting'])} targeting "
        f"(focus {p['focus']:g}). Believed share of the market "
        f"{fmt(team['believed_share'], 1, pct=True)}, true {fmt(tr['market_share'], 1, pct=True)}.</p>"
        f"<div class=grid><div>{table}</div><div>{bars}</div></div>"
        f"<h3>Detection lags</h3>{detection_table(tr)}"
        f"<h3>Missed opportunities</h3><p class=why>{why(res)}</p>"
        f"<h3>Round by round</h3>{rounds_table(history)}</div>"
    )


def lesson(names: list[str], results: list[list[dict[str, Any]]]) -> str:
    """The lesson in money, one line per team: what its platform cost a round, what it
    missed (by exclusion and omission, and how late it saw changes), and how far that
    left it behind the best team, in money and in percent."""
    played = len(results[0]) - 1
    if not played:
        return ""
    profit = [r[-1]["team"]["profit"] for r in results]
    best = max(range(len(names)), key=lambda i: profit[i])

    def platform(i: int) -> float:
        rounds = results[i][1:]
        return (
            sum(
                float(h["team"].get("round_platform_cost", h["team"]["round_cost"])) for h in rounds
            )
            / played
        )

    lines = []
    for i in sorted(range(len(names)), key=lambda i: -profit[i]):
        tr, p = results[i][-1]["truth"], results[i][-1]["team"]["platform"]
        lag = tr["detection_lag_median"]
        seen = f"; median detection lag {lag:.0f} steps" if isinstance(lag, int | float) else ""
        head = (
            f"<b>{esc(names[i])}</b> spent {platform(i):,.0f} a round on its platform "
            f"(coverage {p['coverage']:g}, density {p['density']:g}, strength "
            f"{p['strength']:g}, {esc(p['targeting'])}, focus {p['focus']:g}; premium for "
            f"strength and focus {results[i][-1]['team'].get('premium', 0) / played:,.0f} a round)"
        )
        missed = (
            f"missed {tr['exclusion_defects']:,} opportunities by exclusion and "
            f"{tr['omission_defects']:,} by omission (sigma level {esc(sigma(tr))}"
            f"{seen})"
        )
        if i == best:
            tail = f"and finished first with {profit[i]:,.0f}."
        else:
            gap = profit[best] - profit[i]
            pct = gap / abs(profit[best]) if profit[best] else float("nan")
            saved = platform(best) - platform(i)
            spent = f"saved {saved:,.0f}" if saved >= 0 else f"spent {-saved:,.0f} more"
            tail = (
                f"and finished {gap:,.0f} ({100 * pct:.0f}%) behind {esc(names[best])}: it "
                f"{spent} a round on its platform against {esc(names[best])}."
            )
        lines.append(f"<li data-team-lesson='{esc(names[i])}'>{head}, {missed}, {tail}</li>")
    return (
        "<h2>The lesson in money</h2><ul data-testid=lesson>" + "".join(lines) + "</ul>"
        "<p class=note>Density buys contacts (changes seen sooner: fewer misses by omission), "
        "strength buys correct reads at each contact, coverage buys sight of the customer at "
        "all (fewer misses by exclusion); each has a price. The sigma level counts the "
        "opportunities missed per million (with the 1.5σ shift).</p>"
    )


def debrief_body(
    cfg: SessionConfig, sid: str, names: list[str], results: list[list[dict[str, Any]]]
) -> str:
    """Leaderboard, profit by round, and every team's beliefs against the truth."""
    last = [r[-1] for r in results]
    board, order = leaderboard(names, last)
    played = len(results[0]) - 1
    chart = lines_svg(
        {names[i]: [h["team"]["profit"] for h in results[i]] for i in order}, "profit"
    )
    return (
        f"<h2>Leaderboard after round {played}</h2>{board}"
        "<p class=note>Sigma level with the conventional 1.5σ shift (3.4 defects per million "
        "opportunities is 6σ); beside it, after ≥, the level the counts support at 95% (all "
        "they support when a team missed nothing). Share and sigma level are measured on the "
        "truth.</p>"
        f"{lesson(names, results)}<h2>Cumulative profit by round</h2>{chart}"
        "<h2>Beliefs against the truth</h2>"
        + "".join(team_truth(names[i], results[i]) for i in order)
    )


def debrief_page(
    cfg: SessionConfig, sid: str, names: list[str], results: list[list[dict[str, Any]]]
) -> str:
    """The self-contained debrief report."""
    played = len(results[0]) - 1
    body = (
        f"<h1>Debrief: {esc(cfg.name)}</h1><p class=note>Scenario {esc(cfg.scenario)}, seed "
        f"{cfg.seed}, {cfg.customers:,} customers; {len(names)} teams; {played} of {cfg.rounds} "
        f"rounds of {cfg.steps_per_round} steps played. Every team faced the same market on "
        "the same random inputs: the differences come from their decisions alone.</p>"
        + debrief_body(cfg, sid, names, results)
    )
    return page(f"Debrief · {cfg.name}", body)
