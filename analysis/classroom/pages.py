"""The classroom's HTML: the trainer's pages, a team's page and the debrief report.

Plain HTML forms, inline CSS and SVG, and a few lines of JavaScript (a cost
estimate while a team edits its decision; a poll that reloads a page when the
round moves on). Nothing is fetched from outside, so the pages work offline and
the debrief is one self-contained file.

A team's page is drawn from the ``team`` part of its results only: the ground
truth (the ``truth`` part) is handed to the trainer's pages and the debrief alone.
"""

from __future__ import annotations

import html
import json
from typing import Any

from analysis.classroom.config import FIELD_LABELS, NUMERIC_FIELDS, TARGETING, SessionConfig

CSS = """
body{font-family:system-ui,sans-serif;margin:1.2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #ddd}
h3{font-size:1em;margin:.8em 0 .3em}
table{border-collapse:collapse;margin:.4em 0}td,th{padding:.2em .6em;border-bottom:1px solid #eee;
text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.msg{padding:.5em .8em;border-radius:4px;margin:.6em 0}.ok{background:#e6f4e6}.err{background:#fde8e8}
.note{color:#555;font-size:.9em}.muted{color:#888}form.decide label{display:block;margin:.4em 0}
input[type=number]{width:7em}.team{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}.bar-b{fill:#4a7bd0}.bar-t{fill:#d0704a}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em}
code{background:#f4f4f4;padding:0 .2em}td.team-name{text-align:left}
"""

EVENT_LABELS = {
    "latent_to_active": "latent demand became real",
    "upmarket": "demand moved upmarket",
    "complement": "a complement need appeared",
    "supplier_failure": "a rival's supply failed",
    "competitor_launch": "a rival launched a product",
    "complaint": "a complaint about us",
}


def esc(x: Any) -> str:
    return html.escape(str(x))


def fmt(x: Any, digits: int = 1, pct: bool = False) -> str:
    """A number for a table; None (not measured yet) as a dash."""
    if x is None:
        return "–"
    if x in ("inf", "-inf"):
        return "∞" if x == "inf" else "−∞"
    if pct:
        return f"{100 * float(x):.{digits}f}%"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{float(x):,.{digits}f}"


def page(title: str, body: str, script: str = "") -> str:
    js = f"<script>{script}</script>" if script else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width'><title>{esc(title)}</title>"
        f"<style>{CSS}</style></head><body>{body}{js}</body></html>"
    )


def message(text: str | None, error: bool = False) -> str:
    if not text:
        return ""
    cls = "err" if error else "ok"
    return f"<div class='msg {cls}' data-testid=message>{esc(text)}</div>"


def _poll(url: str, current: dict[str, Any], target: str) -> str:
    """Go to ``target`` (the page's own address, by GET: never a form resubmitted) when
    the round, status or submissions change."""
    return (
        f"const cur={json.dumps(json.dumps(current, sort_keys=True, separators=(',', ':')))},T={json.dumps(target)};"
        f"setInterval(async()=>{{try{{const r=await fetch({json.dumps(url)});"
        "if(!r.ok)return;const s=await r.json();"
        "const k=JSON.stringify({note:s.note,round:s.round,status:s.status,submitted:s.submitted},"
        "['note','round','status','submitted']);"
        "if(k!==cur&&!document.querySelector('form.decide :focus'))location.replace(T);}catch(e){}},1500);"
    )


def _state_key(state: dict[str, Any]) -> dict[str, Any]:
    return {k: state[k] for k in ("note", "round", "status", "submitted")}


# --------------------------------------------------------------------------- charts


def bars_svg(rows: list[tuple[str, float, float | None]], labels: tuple[str, str]) -> str:
    """Horizontal paired bars per cell: believed (blue) beside true (orange) shares."""
    h, top, w0, w = 26, 4, 130, 300
    height = top + h * len(rows) + 4
    out = [f"<svg width={w0 + w + 60} height={height} role=img>"]
    for i, (name, a, b) in enumerate(rows):
        y = top + i * h
        out.append(f"<text x=0 y={y + 15} font-size=12>{esc(name)}</text>")
        out.append(
            f"<rect class=bar-b x={w0} y={y + 2} width={w * a:.1f} height=10>"
            f"<title>{labels[0]} {100 * a:.1f}%</title></rect>"
        )
        out.append(f"<text x={w0 + w * a + 4:.1f} y={y + 11} font-size=10>{100 * a:.0f}%</text>")
        if b is not None:
            out.append(
                f"<rect class=bar-t x={w0} y={y + 13} width={w * b:.1f} height=10>"
                f"<title>{labels[1]} {100 * b:.1f}%</title></rect>"
            )
            out.append(
                f"<text x={w0 + w * b + 4:.1f} y={y + 22} font-size=10>{100 * b:.0f}%</text>"
            )
    out.append("</svg>")
    legend = f"<span style='background:#4a7bd0'></span>{labels[0]}"
    if any(b is not None for _, _, b in rows):
        legend += f"<span style='background:#d0704a'></span>{labels[1]}"
    return "".join(out) + f"<div class='legend note'>{legend}</div>"


def lines_svg(series: dict[str, list[float]], title: str) -> str:
    """Cumulative profit per team by round, one line each."""
    colours = ["#4a7bd0", "#d0704a", "#4aa05a", "#9a4ad0", "#d0b84a", "#4ac0d0", "#888"]
    pts = [v for s in series.values() for v in s]
    if not pts:
        return ""
    lo, hi = min(pts + [0.0]), max(pts + [0.0])
    hi = hi if hi > lo else lo + 1
    n = max(len(s) for s in series.values())
    W, H, L = 520, 200, 60

    def xy(i: int, v: float) -> str:
        x = L + (W - L - 10) * (i / max(n - 1, 1))
        y = 10 + (H - 30) * (1 - (v - lo) / (hi - lo))
        return f"{x:.1f},{y:.1f}"

    out = [f"<svg width={W} height={H} role=img><title>{esc(title)}</title>"]
    y0 = xy(0, 0.0).split(",")[1]
    out.append(f"<line x1={L} x2={W - 10} y1={y0} y2={y0} stroke=#bbb />")
    out.append(
        f"<text x=0 y=14 font-size=10>{hi:,.0f}</text><text x=0 y={H - 20} font-size=10>{lo:,.0f}</text>"
    )
    out.append(f"<text x={L} y={H - 4} font-size=10>round 0</text>")
    out.append(f"<text x={W - 60} y={H - 4} font-size=10>round {n - 1}</text>")
    for j, (name, s) in enumerate(series.items()):
        c = colours[j % len(colours)]
        p = " ".join(xy(i, v) for i, v in enumerate(s))
        out.append(
            f"<polyline fill=none stroke={c} stroke-width=2 points='{p}'><title>{esc(name)}</title></polyline>"
        )
    out.append("</svg>")
    legend = "".join(
        f"<span style='background:{colours[j % len(colours)]}'></span>{esc(name)}"
        for j, name in enumerate(series)
    )
    return "".join(out) + f"<div class='legend note'>{legend}</div>"


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
    poll = _poll(f"/s/{sid}/team/{idx}/data.json?code={code}", _state_key(state), here)
    return page(f"{name} · {cfg.name}", body, script + poll)


# --------------------------------------------------------------------------- trainer


def leaderboard(names: list[str], last: list[dict[str, Any]]) -> tuple[str, list[int]]:
    """The leaderboard table (ranked by cumulative profit) and the ranking."""
    order = sorted(range(len(names)), key=lambda i: -last[i]["team"]["profit"])
    rows = "".join(
        f"<tr><td>{rank}</td><td class=team-name>{esc(names[i])}</td>"
        f"<td>{fmt(last[i]['team']['profit'])}</td>"
        f"<td>{fmt(last[i]['truth']['market_share'], 1, pct=True)}</td>"
        f"<td>{fmt(last[i]['truth']['sigma_level'], 2)}</td>"
        f"<td>{fmt(last[i]['truth']['marketing_density'], 1, pct=True)}</td></tr>"
        for rank, i in enumerate(order, start=1)
    )
    table = (
        "<table data-testid=leaderboard><tr><th>rank</th><th>team</th><th>cumulative profit</th>"
        "<th>true market share</th><th>sigma level (shifted)</th><th>marketing density</th></tr>"
        f"{rows}</table>"
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
        "opportunities is 6σ). Share and sigma level are measured on the truth.</p>"
        f"<h2>Cumulative profit by round</h2>{chart}"
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
        _poll(f"/s/{sid}/state.json?key={key}", _state_key(state), f"/s/{sid}?key={key}"),
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
