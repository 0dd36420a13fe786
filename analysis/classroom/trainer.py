"""The trainer's pages: the sessions, a session (team join codes with their QR codes,
the round's timer, close with confirmation, what the class may see), and the
projector view.

No page puts the trainer's key or a team's code in an address: the key reaches the
server once (the start-up link) and then travels in a cookie; the forms carry a CSRF
token and the round they were shown. The projector view is meant for the room's
screen: the leaderboard (if the trainer shows it) and the round's timer, no codes,
and no truth until the trainer reveals it.
"""

from __future__ import annotations

from typing import Any

from analysis.classroom.config import FIELD_LABELS, NUMERIC_FIELDS, SessionConfig
from analysis.classroom.debrief import debrief_body, leaderboard
from analysis.classroom.layout import esc, hidden, message, page, poll, state_key


def _status_line(cfg: SessionConfig, state: dict[str, Any]) -> str:
    rnd, status = state["round"], state["status"]
    if status == "finished":
        return f"All {cfg.rounds} rounds played."
    return (
        f"Round {rnd} of {cfg.rounds}: <span data-live=submitted>{len(state['submitted'])}"
        f"</span> of {state['teams']} teams submitted ({esc(status)})."
    )


def _controls(sid: str, csrf: str, state: dict[str, Any]) -> str:
    rnd = state["round"]
    tokens = hidden(csrf=csrf, round=rnd)
    out = []
    if state["status"] == "open":
        out.append(
            f"<form method=post action='/s/{sid}/close'>{tokens}"
            f"<button data-testid=close-round>Close round {rnd} and run it now…</button> "
            "<span class=note>(you confirm on the next page; teams that did not submit keep "
            "their platform)</span></form>"
            f"<form method=post action='/s/{sid}/deadline'>{tokens}"
            "<label>Round deadline in <input type=number name=minutes min=0 max=240 step=any "
            "value=7 data-testid=minutes> minutes</label> <button data-testid=set-deadline>"
            "Start the timer</button> <span class=note>(0 stops it; the round closes by "
            "itself when it runs out)</span></form>"
        )
    board = "Hide" if state["board"] else "Show"
    out.append(
        f"<form method=post action='/s/{sid}/flags'>{tokens}"
        f"<input type=hidden name=board value={0 if state['board'] else 1}>"
        f"<button data-testid=toggle-board>{board} the leaderboard to teams and projector"
        "</button></form>"
    )
    reveal = "Withdraw the debrief" if state["revealed"] else "Release the debrief"
    out.append(
        f"<form method=post action='/s/{sid}/flags'>{tokens}"
        f"<input type=hidden name=revealed value={0 if state['revealed'] else 1}>"
        f"<button data-testid=toggle-reveal>{reveal}</button> <span class=note>(teams may "
        "open it; the projector shows the truth columns)</span></form>"
    )
    return "".join(out)


def trainer_session_page(
    cfg: SessionConfig,
    sid: str,
    csrf: str,
    teams: list[dict[str, Any]],
    state: dict[str, Any],
    results: list[list[dict[str, Any]]],
    base_url: str,
    qr: dict[int, str],
    msg: str | None = None,
    error: bool = False,
) -> str:
    """A session for the trainer: status, timer, controls, the teams' join codes and
    QR codes (links from the server's configured address), the leaderboard and the
    debrief."""
    names = [t["name"] for t in teams]
    links = "".join(
        f"<tr data-team={t['idx']}><td>{esc(t['name'])}</td>"
        f"<td>{'submitted' if t['idx'] in state['submitted'] else '–'}</td>"
        f"<td class=join data-testid=join-code>{esc(t['joincode'])}</td>"
        f"<td><a class=team-link href='{esc(base_url)}/j/{esc(t['joincode'])}'>"
        f"{esc(base_url)}/j/{esc(t['joincode'])}</a></td><td>{qr.get(t['idx'], '')}</td></tr>"
        for t in teams
    )
    note = f"<p class=note data-testid=note>{esc(state['note'])}</p>" if state["note"] else ""
    played = len(results[0]) - 1
    debrief = (
        debrief_body(cfg, sid, names, results)
        + f"<p><a data-testid=debrief-link href='/s/{sid}/debrief.html'>"
        "Download the debrief report (one self-contained HTML file)</a> · "
        f"<a data-testid=csv-link href='/s/{sid}/results.csv'>Results as CSV</a></p>"
        if played
        else "<p class=note>The leaderboard and the debrief appear after the first round.</p>"
    )
    body = (
        f"<p><a href='/'>All sessions</a> · <a data-testid=projector-link "
        f"href='/s/{sid}/projector' target=_blank>Projector view</a></p><h1>{esc(cfg.name)}</h1>"
        f"<p class=note>Session {esc(sid)} · scenario {esc(cfg.scenario)} · seed {cfg.seed} · "
        f"{cfg.customers:,} customers · {cfg.steps_per_round} steps a round · budget "
        f"{cfg.budget:,.0f} a round</p><p data-testid=status><b>{_status_line(cfg, state)}</b> "
        f"Timer: <span id=timer class=timer data-testid=timer>–</span></p>{note}"
        f"{message(msg, error)}{_controls(sid, csrf, state)}<h2>Teams: join codes</h2>"
        f"<p class=note>Students open <b>{esc(base_url)}/join</b> and type their team's code, "
        "or scan its QR code. The code opens that team's page only and leaves the address "
        f"after the first visit.</p><table>{links}</table>{debrief}"
    )
    return page(
        f"Trainer · {cfg.name}",
        body,
        poll(f"/s/{sid}/state.json", state_key(state), f"/s/{sid}"),
    )


def confirm_close_page(cfg: SessionConfig, sid: str, csrf: str, state: dict[str, Any]) -> str:
    """'Close round R now?': names who has not submitted; the form carries the round."""
    rnd = state["round"]
    missing = state["teams"] - len(state["submitted"])
    body = (
        f"<h1>{esc(cfg.name)}</h1><p data-testid=confirm-text>Close round {rnd} now? "
        f"{len(state['submitted'])} of {state['teams']} teams submitted; {missing} will keep "
        "their platform and start no development.</p>"
        f"<form method=post action='/s/{sid}/close'>{hidden(csrf=csrf, round=rnd, confirm='yes')}"
        f"<button data-testid=confirm-close>Yes, close round {rnd}</button></form>"
        f"<p><a href='/s/{sid}'>No, back to the session</a></p>"
    )
    return page(f"Close round {rnd}?", body)


def projector_page(
    cfg: SessionConfig,
    sid: str,
    names: list[str],
    state: dict[str, Any],
    results: list[list[dict[str, Any]]],
) -> str:
    """The room's screen: round, timer, count of teams in, and the leaderboard if shown
    (its truth columns once revealed)."""
    played = len(results[0]) - 1
    if not state["board"]:
        board = "<p class=note>The leaderboard is hidden.</p>"
    elif not played:
        board = "<p class=note>The leaderboard appears after the first round.</p>"
    else:
        board = leaderboard(names, [r[-1] for r in results], truth=state["revealed"])[0]
    body = (
        f"<div class=projector><h1>{esc(cfg.name)}</h1>"
        f"<p data-testid=status><b>{_status_line(cfg, state)}</b></p>"
        f"<p>Round timer: <span id=timer class=timer data-testid=timer>–</span></p>"
        f"{board}</div>"
    )
    return page(
        f"Projector · {cfg.name}",
        body,
        poll(
            f"/s/{sid}/projector.json",
            state,
            f"/s/{sid}/projector",
            reload_on=("round", "status", "board", "revealed"),
        ),
    )


def trainer_home(
    csrf: str,
    sessions: list[dict[str, Any]],
    scenarios: list[str],
    msg: str | None = None,
    error: bool = False,
) -> str:
    rows = "".join(
        f"<tr><td><a href='/s/{esc(s['id'])}'>{esc(s['name'])}</a></td>"
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
        f"<form class=create method=post action='/sessions'>{hidden(csrf=csrf)}"
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


def join_page(msg: str | None = None, error: bool = False) -> str:
    """Where a student types the team's join code."""
    body = (
        "<h1>Join your team</h1>"
        f"{message(msg, error)}<form method=post action='/join'>"
        "<label>Team code <input name=joincode autocomplete=off autocapitalize=characters "
        "maxlength=12 required data-testid=joincode></label> "
        "<button data-testid=join>Join</button></form>"
    )
    return page("Classroom · join", body)
