"""The classroom's pages: a team's page, the trainer's sessions and session page.

A team's page is drawn from the ``team`` part of its results only: the ground
truth (the ``truth`` part) reaches the trainer's session page and the debrief
(``debrief``) alone. Both pages follow the session with a poll and move to their
own address (by GET, never resubmitting a form) when the round moves on.
"""

from __future__ import annotations

import json
from typing import Any

from analysis.classroom.config import FIELD_LABELS, NUMERIC_FIELDS, TARGETING, SessionConfig
from analysis.classroom.debrief import debrief_body
from analysis.classroom.layout import bars_svg, esc, fmt, message, page, poll, state_key

# --------------------------------------------------------------------------- team


def _decision_form(
    cfg: SessionConfig,
    sid: str,
    idx: int,
    code: str,
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
        )
    opts = "".join(
        f"<option{' selected' if t == plat['targeting'] else ''}>{t}</option>"
        for t in TARGETING
        if t in cfg.targeting
    )
    rows.append(
        f"<label>{FIELD_LABELS['targeting']}: <select name=targeting>{opts}</select></label>"
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
        f"<input type=hidden name=code value='{esc(code)}'>{''.join(rows)}"
        f"<p>Estimated cost this round: <b id=estimate>–</b> of your budget "
        f"<b>{cfg.budget:,.1f}</b> <span class=note>({costs['steps']} steps × "
        f"{costs['eligible']:,} customers in your standard × coverage × (record "
        f"{costs['cost_per_record']:g} + density × contact {costs['cost_per_contact']:g}))"
        f"</span></p><button type=submit data-testid=submit>Submit decision for round {rnd}</button>"
        "</form>"
    )


def _estimate_js(team: dict[str, Any]) -> str:
    c = team["costs"]
    return (
        f"const C={json.dumps(c)};function est(){{const v=n=>Number(document.getElementById('f-'+n).value);"
        "const d=document.querySelectorAll('input.dev:checked').length;"
        "const e=C.steps*C.eligible*v('coverage')*(C.cost_per_record+v('density')*C.cost_per_contact)"
        "+d*C.development_cost;document.getElementById('estimate').textContent="
        "e.toLocaleString('en',{maximumFractionDigits:1});}"
        "document.querySelectorAll('form.decide input').forEach(i=>i.addEventListener('input',est));est();"
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


def team_page(
    cfg: SessionConfig,
    sid: str,
    idx: int,
    name: str,
    code: str,
    state: dict[str, Any],
    history: list[dict[str, Any]],
    chosen: dict[str, Any] | None,
    msg: str | None = None,
    error: bool = False,
) -> str:
    """A team's page: its decision form and what its platform believes. ``history`` holds
    the ``team`` part of each round's result only."""
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
        form = _decision_form(cfg, sid, idx, code, team, rnd, chosen)
        script = _estimate_js(team)
    played = len(history) - 1
    acc_rows = "".join(
        f"<tr><td>{r}</td><td>{h['step']}</td><td>{h['round_sales']:,}</td>"
        f"<td>{fmt(h['round_revenue'])}</td><td>{fmt(h['round_cost'])}</td>"
        f"<td>{fmt(h['round_profit'])}</td><td>{fmt(h['profit'])}</td></tr>"
        for r, h in enumerate(history)
        if r > 0
    )
    accounts = (
        "<table data-testid=accounts><tr><th>round</th><th>step</th><th>sales</th><th>revenue</th>"
        f"<th>costs</th><th>profit</th><th>cumulative profit</th></tr>{acc_rows}</table>"
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
        f"<p data-testid=status><b>{esc(head)}</b></p>{message(msg, error)}{form}"
        "<h2>What your platform believes</h2>"
        f"<p>Your platform covers <b>{team['covered']:,}</b> customers and has records on "
        f"<b>{team['known']:,}</b>. Of the customers it believes served, it believes "
        f"<b data-testid=believed-share>{fmt(team['believed_share'], 1, pct=True)}</b> buy from you.</p>"
        f"<div class=grid><div>{believed_table(team)}</div><div>{bars}</div></div>"
        "<p class=note>Beliefs come from your records: a customer's need as last read at a "
        "contact (reads fail with 1 − strength) or at a sale. The truth is shown at the debrief.</p>"
        f"<h2>Your accounts</h2>{accounts}"
        + (f"<h3>Your launches</h3><ul>{launches}</ul>" if launches else "")
    )
    here = f"/s/{sid}/team/{idx}?code={code}"
    follow = poll(f"/s/{sid}/team/{idx}/data.json?code={code}", state_key(state), here)
    return page(f"{name} · {cfg.name}", body, script + follow)


# --------------------------------------------------------------------------- trainer


def trainer_session_page(
    cfg: SessionConfig,
    sid: str,
    key: str,
    teams: list[dict[str, Any]],
    state: dict[str, Any],
    results: list[list[dict[str, Any]]],
    base_url: str,
    msg: str | None = None,
    error: bool = False,
) -> str:
    rnd, status = state["round"], state["status"]
    names = [t["name"] for t in teams]
    links = "".join(
        f"<tr><td>{esc(t['name'])}</td><td>{'submitted' if t['idx'] in state['submitted'] else '–'}</td>"
        f"<td><a class=team-link href='/s/{sid}/team/{t['idx']}?code={esc(t['code'])}'>"
        f"{esc(base_url)}/s/{sid}/team/{t['idx']}?code={esc(t['code'])}</a></td></tr>"
        for t in teams
    )
    close = (
        f"<form method=post action='/s/{sid}/close'><input type=hidden name=key value='{esc(key)}'>"
        f"<button data-testid=close-round>Close round {rnd} and run it now</button> "
        "<span class=note>(teams that did not submit keep their platform)</span></form>"
        if status == "open"
        else ""
    )
    head = (
        "All rounds played."
        if status == "finished"
        else f"Round {rnd} of {cfg.rounds}: {len(state['submitted'])} of {len(teams)} teams submitted ({status})."
    )
    note = f"<p class=note data-testid=note>{esc(state['note'])}</p>" if state["note"] else ""
    played = len(results[0]) - 1
    debrief = (
        debrief_body(cfg, sid, names, results)
        + f"<p><a data-testid=debrief-link href='/s/{sid}/debrief.html?key={esc(key)}'>"
        "Download the debrief report (one self-contained HTML file)</a></p>"
        if played
        else "<p class=note>The leaderboard and the debrief appear after the first round.</p>"
    )
    body = (
        f"<p><a href='/?key={esc(key)}'>All sessions</a></p><h1>{esc(cfg.name)}</h1>"
        f"<p class=note>Session {esc(sid)} · scenario {esc(cfg.scenario)} · seed {cfg.seed} · "
        f"{cfg.customers:,} customers · {cfg.steps_per_round} steps a round · budget "
        f"{cfg.budget:,.0f} a round</p><p data-testid=status><b>{esc(head)}</b></p>{note}"
        f"{message(msg, error)}{close}<h2>Team links</h2><p class=note>Give each team its own "
        f"link: the code in it opens that team's page only.</p><table>{links}</table>{debrief}"
    )
    return page(
        f"Trainer · {cfg.name}",
        body,
        poll(f"/s/{sid}/state.json?key={key}", state_key(state), f"/s/{sid}?key={key}"),
    )


def trainer_home(
    key: str,
    sessions: list[dict[str, Any]],
    scenarios: list[str],
    msg: str | None = None,
    error: bool = False,
) -> str:
    rows = "".join(
        f"<tr><td><a href='/s/{esc(s['id'])}?key={esc(key)}'>{esc(s['name'])}</a></td>"
        f"<td>{esc(s['id'])}</td><td>{esc(s['status'])}</td><td>{s['round']}</td></tr>"
        for s in sessions
    )
    opts = "".join(f"<option>{esc(n)}</option>" for n in scenarios)
    bounds = "".join(
        f"<label>{esc(FIELD_LABELS[f])}: from <input type=number step=any name={f}_min> "
        f"to <input type=number step=any name={f}_max></label>"
        for f in NUMERIC_FIELDS
    )
    form = (
        f"<form class=create method=post action='/sessions'><input type=hidden name=key value='{esc(key)}'>"
        "<label>Name <input name=name value='Class session'></label>"
        f"<label>Scenario <input name=scenario list=scenarios value=baseline></label>"
        f"<datalist id=scenarios>{opts}</datalist>"
        "<label>Seed <input type=number name=seed value=1></label>"
        "<label>Customers <input type=number name=customers value=10000></label>"
        "<label>Teams <input type=number name=teams value=4></label>"
        "<label>Team names (optional, one a line) <textarea name=team_names rows=3></textarea></label>"
        "<label>Rounds <input type=number name=rounds value=6></label>"
        "<label>Steps per round <input type=number name=steps_per_round value=13></label>"
        "<label>Budget per round <input type=number step=any name=budget value=1000></label>"
        "<h3>What teams may set (empty: the scenario schema's bounds)</h3>"
        f"{bounds}<label><input type=checkbox name=targeting_allowed value=homogeneous checked> "
        "homogeneous targeting</label><label><input type=checkbox name=targeting_allowed "
        "value=personalized checked> personalized targeting</label>"
        "<label>Developments <select name=development><option>yes</option><option>no</option>"
        "</select></label><button type=submit data-testid=create>Create session</button></form>"
    )
    body = (
        "<h1>Classroom: trainer</h1>"
        f"{message(msg, error)}<h2>Sessions</h2><table><tr><th>name</th><th>id</th><th>status</th>"
        f"<th>round</th></tr>{rows}</table><h2>New session</h2>{form}"
    )
    return page(
        "Classroom · trainer",
        body.replace("<label>", "<label style='display:block;margin:.3em 0'>"),
    )
