"""A team's page: its decision form with one help line per lever, the round's timer,
what its platform believes, its decisions and accounts round by round.

A team's page is drawn from the ``team`` part of its results only: the ground
truth (the ``truth`` part) reaches the trainer's pages, the projector once revealed,
and the debrief (``debrief``) alone. The page follows the session with a poll,
updates the count and the timer in place, and reloads (by GET, never resubmitting
a form) only when the round or status moves on, so a draft survives other teams'
submissions. Its form names the round it was shown and carries a CSRF token: the
team's code travels in a cookie, never in the page's address.
"""

from __future__ import annotations

import json
from typing import Any

from analysis.classroom.config import (
    FIELD_HELP,
    FIELD_LABELS,
    NUMERIC_FIELDS,
    TARGETING,
    SessionConfig,
)
from analysis.classroom.layout import bars_svg, esc, fmt, hidden, message, page, poll

# --------------------------------------------------------------------------- team


def _decision_form(
    cfg: SessionConfig,
    sid: str,
    idx: int,
    csrf: str,
    team: dict[str, Any],
    rnd: int,
    chosen: dict[str, Any] | None,
) -> str:
    plat = (chosen or {}).get("platform") or team["platform"]
    develop = set((chosen or {}).get("develop") or [])
    costs = team["costs"]
    rows = []
    for f in NUMERIC_FIELDS:
        lo, hi = cfg.bounds[f]
        step = "any"
        rows.append(
            f"<label>{esc(FIELD_LABELS[f])}: <input type=number name={f} id=f-{f} "
            f"min={lo:g} max={hi:g} step={step} value={plat[f]:g} required> "
            f"<span class=note>{lo:g} – {hi:g}</span></label>"
            f"<div class=help data-help={f}>{esc(FIELD_HELP[f])}</div>"
        )
    opts = "".join(
        f"<option{' selected' if t == plat['targeting'] else ''}>{t}</option>"
        for t in TARGETING
        if t in cfg.targeting
    )
    rows.append(
        f"<label>{FIELD_LABELS['targeting']}: <select name=targeting>{opts}</select></label>"
        f"<div class=help data-help=targeting>{esc(FIELD_HELP['targeting'])}</div>"
    )
    if cfg.development:
        cells = team["open_cells"]
        boxes = (
            "".join(
                f"<label><input type=checkbox name=develop value='{esc(c)}' class=dev"
                f"{' checked' if c in develop else ''}> develop <b>{esc(c)}</b></label>"
                for c in cells
            )
            or "<p class=note>No cell of your standard is left to develop.</p>"
        )
        rows.append(
            f"<h3>Start developing a product</h3><p class=note>Each costs "
            f"{costs['development_cost']:,.0f} (all of it counted in this round's budget) and "
            f"launches {costs.get('lead_time', 0)} steps after it starts.</p>{boxes}"
        )
    return (
        f"<form class=decide method=post action='/s/{sid}/team/{idx}/decide'>"
        f"{hidden(csrf=csrf, round=rnd)}{''.join(rows)}"
        f"<p>Estimated cost this round: <b id=estimate>–</b> of your budget "
        f"<b>{cfg.budget:,.1f}</b> <span class=note>({costs['steps']} steps × "
        f"{costs['eligible']:,} customers in your standard × coverage × (record "
        f"{costs['cost_per_record']:g} + density × contact <b id=contact-price>–</b>)); a "
        f"contact costs {costs['cost_per_contact']:g} × (1 + "
        f"{costs.get('strength_price', 0):g} × strength² + "
        f"{costs.get('focus_price', 0):g} × ln(focus) when personalized)</span></p><button type=submit data-testid=submit>Submit decision for round {rnd}</button>"
        "</form>"
    )


def _estimate_js(team: dict[str, Any]) -> str:
    c = team["costs"]
    return (
        f"const C={json.dumps(c)};function est(){{const v=n=>Number(document.getElementById('f-'+n).value);"
        "const d=document.querySelectorAll('input.dev:checked').length;"
        "const t=document.querySelector('select[name=targeting]').value;"
        "const p=(C.strength_price||0)*v('strength')**2+(t==='personalized'?(C.focus_price||0)*"
        "Math.log(Math.max(v('focus'),1)):0);"
        "const e=C.steps*C.eligible*v('coverage')*(C.cost_per_record+v('density')*C.cost_per_contact*(1+p))"
        "+d*C.development_cost;document.getElementById('estimate').textContent="
        "e.toLocaleString('en',{maximumFractionDigits:1});"
        "document.getElementById('contact-price').textContent=(C.cost_per_contact*(1+p)).toFixed(4);}"
        "document.querySelectorAll('form.decide input,form.decide select')"
        ".forEach(i=>i.addEventListener('input',est));est();"
    )


def believed_table(team: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{esc(r['cell'])}</td><td>{fmt(r['believed_share'], 1, pct=True)}</td>"
        f"<td>{r['believed_demand']:,}</td><td>{r['believed_open']:,}</td>"
        f"<td>{'yes' if r['sells'] else ('in development, launch at step ' + str(r['ready']) if r['ready'] else 'no')}</td></tr>"
        for r in team["cells"]
    )
    return (
        "<table data-testid=believed><tr><th>cell</th><th>believed share of demand</th>"
        "<th>believed needs (active or served)</th><th>believed open needs (latent or active)</th>"
        "<th>you sell it</th></tr>"
        f"{rows}</table>"
    )


def _costs_split(h: dict[str, Any]) -> tuple[float, float]:
    """(platform, developments) booked in a round."""
    platform = float(h.get("round_platform_cost", h["round_cost"]))
    return platform, float(h["round_cost"]) - platform


def profit_change(history: list[dict[str, Any]]) -> str:
    """The last round's profit explained in money: revenue and sales, the platform's
    cost (and the premium on strength and focus in it), developments booked; and how
    each moved against the round before."""
    if len(history) < 2:
        return ""
    now, r = history[-1], len(history) - 1
    platform, dev = _costs_split(now)
    text = (
        f"Round {r}: profit <b>{now['round_profit']:,.0f}</b> = revenue "
        f"{now['round_revenue']:,.0f} ({now['round_sales']:,} sales) − platform "
        f"{platform:,.0f} (of which {now.get('round_premium', 0):,.0f} for strength and "
        f"focus) − developments {dev:,.0f}."
    )
    if r >= 2:
        before = history[-2]
        b_platform, b_dev = _costs_split(before)
        d_profit = now["round_profit"] - before["round_profit"]
        text += (
            f" Against round {r - 1} it {'rose' if d_profit >= 0 else 'fell'} by "
            f"<b>{abs(d_profit):,.0f}</b>: revenue {now['round_revenue'] - before['round_revenue']:+,.0f} "
            f"({now['round_sales'] - before['round_sales']:+,} sales), platform "
            f"{platform - b_platform:+,.0f}, developments {dev - b_dev:+,.0f}."
        )
    return f"<p data-testid=profit-change>{text}</p>"


def history_table(history: list[dict[str, Any]], decisions: list[dict[str, Any]]) -> str:
    """A team's decisions and accounts round by round (``decisions[r-1]`` ran round r)."""
    rows = []
    for r, h in enumerate(history):
        if r == 0:
            continue
        d = decisions[r - 1] if r - 1 < len(decisions) else {}
        p = h["platform"]
        how = "kept (no submit)" if d.get("carried") else "submitted"
        rows.append(
            f"<tr><td>{r}</td><td>{p['coverage']:g} / {p['density']:g} / {p['strength']:g} / "
            f"{p['focus']:g} / {esc(p['targeting'])}</td><td>{how}</td>"
            f"<td>{esc(', '.join(d.get('develop') or [])) or '–'}</td>"
            f"<td>{h['round_sales']:,}</td><td>{fmt(h['round_revenue'])}</td>"
            f"<td>{fmt(h['round_cost'])}</td><td>{fmt(h['round_profit'])}</td>"
            f"<td>{fmt(h['profit'])}</td></tr>"
        )
    return (
        "<table data-testid=accounts><tr><th>round</th><th>coverage / density / strength / "
        "focus / targeting</th><th>decision</th><th>developments</th><th>sales</th>"
        "<th>revenue</th><th>costs</th><th>profit</th><th>cumulative profit</th></tr>"
        f"{''.join(rows)}</table>"
    )


def team_page(
    cfg: SessionConfig,
    sid: str,
    idx: int,
    name: str,
    csrf: str,
    state: dict[str, Any],
    history: list[dict[str, Any]],
    chosen: dict[str, Any] | None,
    msg: str | None = None,
    error: bool = False,
    decisions: list[dict[str, Any]] | None = None,
    board: str = "",
) -> str:
    """A team's page: its decision form, the round's timer, what its platform believes,
    its decisions and accounts so far, and the leaderboard if the trainer shows it.
    ``history`` holds the ``team`` part of each round's result only."""
    team = history[-1]
    rnd, status = state["round"], state["status"]
    if status == "finished":
        head = f"All {cfg.rounds} rounds played. Your trainer will now debrief the class."
        form, script = "", ""
    elif status == "running":
        head, form, script = f"Round {rnd} is running…", "", ""
    else:
        got = (
            "submitted (you may change it until the round runs)" if chosen else "not submitted yet"
        )
        head = f"Round {rnd} of {cfg.rounds}: your decision is {got}."
        form = _decision_form(cfg, sid, idx, csrf, team, rnd, chosen)
        script = _estimate_js(team)
    played = len(history) - 1
    accounts = (
        profit_change(history) + history_table(history, decisions or [])
        if played
        else "<p class=note>No round played yet.</p>"
    )
    launches = "".join(
        f"<li>{esc(la['category'])}/{esc(la['tier'])} launched at step {la['step']}: "
        f"{la['adopters']} adopters of a target of {la['target']} ({esc(la['outcome'])})</li>"
        for la in team["launches"]
    )
    bars = bars_svg(
        [(r["cell"], r["believed_share"], None) for r in team["cells"]],
        ("believed share of demand", ""),
    )
    body = (
        f"<h1 data-testid=team-name>{esc(name)}</h1><p class=note>{esc(cfg.name)} · session "
        f"{esc(sid)} · after round {played}, step {team['step']}</p>"
        f"<p data-testid=status><b>{esc(head)}</b></p>"
        f"<p>Round timer: <span id=timer class=timer data-testid=timer>–</span> · "
        f"<span data-live=submitted>{len(state['submitted'])}</span> of {state['teams']} teams "
        f"submitted</p>{message(msg, error)}{form}"
        + (
            f"<p><a data-testid=team-debrief href='/s/{sid}/team/{idx}/debrief.html'>"
            "Open the debrief</a> (released by your trainer)</p>"
            if state.get("revealed")
            else ""
        )
        + (f"<h2>Leaderboard</h2>{board}" if board else "")
        + "<h2>What your platform believes</h2>"
        f"<p>Your platform covers <b>{team['covered']:,}</b> customers and has records on "
        f"<b>{team['known']:,}</b>. Of the customers it believes served, it believes "
        f"<b data-testid=believed-share>{fmt(team['believed_share'], 1, pct=True)}</b> buy from you.</p>"
        f"<div class=grid><div>{believed_table(team)}</div><div>{bars}</div></div>"
        "<p class=note>Beliefs come from your records: a customer's need as last read at a "
        "contact (reads fail with 1 − strength) or at a sale. The truth is shown at the debrief.</p>"
        f"<h2>Your accounts</h2>{accounts}"
        + (f"<h3>Your launches</h3><ul>{launches}</ul>" if launches else "")
    )
    here = f"/s/{sid}/team/{idx}"
    follow = poll(
        f"{here}/data.json", state, here, reload_on=("round", "status", "revealed", "board")
    )
    return page(f"{name} · {cfg.name}", body, script + follow)
