"""The classroom's web application (Starlette), its routes and who may see what.

Routes (every page is plain HTML; ``.json`` routes give the same data to scripts):

* ``/?key=K`` — the trainer's sessions and the form that creates one (``POST /sessions``).
* ``/s/{sid}?key=K`` — a session for the trainer: team links, who submitted, the
  leaderboard and every team's beliefs against the truth; ``POST /s/{sid}/close``
  runs the open round now; ``/s/{sid}/debrief.html?key=K`` is the report.
* ``/s/{sid}/team/{i}?code=C`` — team ``i``'s page; ``POST .../decide`` submits its
  decision; ``.../data.json?code=C`` its data. These hold what the team's platform
  believes and its own accounts, never the truth.

The trainer's key and each team's code are random (``secrets``) and compared in
constant time. A wrong or missing code is 403, an unknown session or team 404, a
decision outside the rules 400 with one line, a decision for a closed round 409.
Rounds run in a worker thread, so the server keeps answering while they run.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from analysis.classroom import debrief, layout, pages
from analysis.classroom.service import Classroom, Closed, Forbidden, NotFound
from sim.errors import InputError

STATUS = {NotFound: 404, Forbidden: 403, Closed: 409}
MAX_FORM = 64 * 1024  # bytes: a decision or a session's settings are far smaller


def _status(exc: InputError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)


async def _form(request: Request) -> dict[str, Any]:
    """A urlencoded form: one value per field, or a list where a field repeats."""
    raw = await request.body()
    if len(raw) > MAX_FORM:
        raise InputError(f"form: {len(raw):,} bytes, at most {MAX_FORM:,} allowed")
    body = raw.decode("utf-8", "replace")
    out: dict[str, Any] = {}
    for k, v in parse_qs(body, keep_blank_values=True).items():
        out[k] = v if len(v) > 1 or k in ("develop", "targeting_allowed") else v[0]
    return out


def _error_page(exc: InputError) -> HTMLResponse:
    body = f"<h1>Classroom</h1>{layout.message(str(exc), error=True)}"
    return HTMLResponse(layout.page("Classroom: error", body), status_code=_status(exc))


def create_app(room: Classroom, scenarios: list[str] | None = None) -> Starlette:
    """The application serving ``room``'s sessions."""
    names = scenarios or []

    def trainer(request: Request, key: Any = None) -> str:
        key = key if key is not None else request.query_params.get("key")
        if not room.is_trainer(key):
            raise Forbidden("this page needs the trainer's key (printed when the server started)")
        return str(key)

    def teams_and_results(sid: str) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
        teams = [dict(t) for t in room.store.teams(sid)]
        return teams, [room.store.results(sid, t["idx"]) for t in teams]

    def session_page(
        request: Request,
        sid: str,
        key: str,
        msg: str | None = None,
        error: bool = False,
        status: int = 200,
    ) -> HTMLResponse:
        cfg = room.config(sid)
        teams, results = teams_and_results(sid)
        base = f"{request.url.scheme}://{request.url.netloc}"
        html = pages.trainer_session_page(
            cfg, sid, key, teams, room.state(sid), results, base, msg, error
        )
        return HTMLResponse(html, status_code=status)

    async def home(request: Request) -> Response:
        try:
            key = trainer(request)
        except InputError as exc:
            return _error_page(exc)
        rows = [{**dict(s), "name": json.loads(s["config"])["name"]} for s in room.store.sessions()]
        return HTMLResponse(pages.trainer_home(key, rows, names))

    async def create(request: Request) -> Response:
        form = await _form(request)
        try:
            key = trainer(request, form.get("key"))
        except InputError as exc:
            return _error_page(exc)
        try:
            sid = await run_in_threadpool(room.create, form)
        except InputError as exc:
            rows = [
                {**dict(s), "name": json.loads(s["config"])["name"]} for s in room.store.sessions()
            ]
            html = pages.trainer_home(key, rows, names, str(exc), error=True)
            return HTMLResponse(html, status_code=400)
        return RedirectResponse(f"/s/{sid}?key={key}", status_code=303)

    async def session(request: Request) -> Response:
        sid = request.path_params["sid"]
        ran = request.query_params.get("ran")
        try:
            return session_page(request, sid, trainer(request), "The round ran." if ran else None)
        except InputError as exc:
            return _error_page(exc)

    async def state(request: Request) -> Response:
        sid = request.path_params["sid"]
        try:
            trainer(request)
            return JSONResponse(room.state(sid))
        except InputError as exc:
            return JSONResponse({"error": str(exc)}, status_code=_status(exc))

    async def close(request: Request) -> Response:
        sid = request.path_params["sid"]
        form = await _form(request)
        try:
            key = trainer(request, form.get("key"))
            await run_in_threadpool(room.run_round, sid)
        except InputError as exc:
            if isinstance(exc, Forbidden | NotFound):
                return _error_page(exc)
            return session_page(request, sid, str(form.get("key")), str(exc), True, _status(exc))
        # post/redirect/get: reloading the page must not close the next round
        return RedirectResponse(f"/s/{sid}?key={key}&ran=1", status_code=303)

    async def debrief_report(request: Request) -> Response:
        sid = request.path_params["sid"]
        try:
            trainer(request)
            cfg = room.config(sid)
        except InputError as exc:
            return _error_page(exc)
        teams, results = teams_and_results(sid)
        html = debrief.debrief_page(cfg, sid, [t["name"] for t in teams], results)
        disposition = f'inline; filename="debrief-{sid}.html"'
        return HTMLResponse(html, headers={"Content-Disposition": disposition})

    def team_view(
        request: Request,
        sid: str,
        idx: int,
        code: str | None,
        msg: str | None = None,
        error: bool = False,
        status: int = 200,
    ) -> HTMLResponse:
        row = room.team(sid, idx, code)
        cfg = room.config(sid)
        st = {**room.state(sid), "note": ""}  # the trainer's notes are not the team's
        history = [r["team"] for r in room.store.results(sid, idx)]
        chosen = room.store.decision(sid, idx, st["round"]) if st["status"] == "open" else None
        html = pages.team_page(
            cfg, sid, idx, row["name"], row["code"], st, history, chosen, msg, error
        )
        return HTMLResponse(html, status_code=status)

    def team_index(request: Request) -> int:
        try:
            return int(request.path_params["idx"])
        except ValueError:
            raise NotFound(f"team {request.path_params['idx']!r}: no such team") from None

    async def team(request: Request) -> Response:
        sid = request.path_params["sid"]
        sent = request.query_params.get("sent")
        msg = "Your decision is recorded." if sent else None
        try:
            return team_view(
                request, sid, team_index(request), request.query_params.get("code"), msg
            )
        except InputError as exc:
            return _error_page(exc)

    async def team_data(request: Request) -> Response:
        sid = request.path_params["sid"]
        try:
            idx = team_index(request)
            row = room.team(sid, idx, request.query_params.get("code"))
            st = room.state(sid)
        except InputError as exc:
            return JSONResponse({"error": str(exc)}, status_code=_status(exc))
        history = [r["team"] for r in room.store.results(sid, idx)]  # beliefs only
        return JSONResponse({**st, "note": "", "team": row["name"], "results": history})

    async def decide(request: Request) -> Response:
        sid = request.path_params["sid"]
        form = await _form(request)
        code = form.get("code")
        try:
            idx = team_index(request)
            room.team(sid, idx, code)
        except InputError as exc:
            return _error_page(exc)
        try:
            await run_in_threadpool(room.submit, sid, idx, code, form)
        except InputError as exc:
            return team_view(request, sid, idx, code, str(exc), True, _status(exc))
        # post/redirect/get: reloading the page must not submit the decision again
        return RedirectResponse(f"/s/{sid}/team/{idx}?code={code}&sent=1", status_code=303)

    routes = [
        Route("/", home),
        Route("/sessions", create, methods=["POST"]),
        Route("/s/{sid}", session),
        Route("/s/{sid}/state.json", state),
        Route("/s/{sid}/close", close, methods=["POST"]),
        Route("/s/{sid}/debrief.html", debrief_report),
        Route("/s/{sid}/team/{idx}", team),
        Route("/s/{sid}/team/{idx}/data.json", team_data),
        Route("/s/{sid}/team/{idx}/decide", decide, methods=["POST"]),
    ]

    async def input_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InputError)
        return _error_page(exc)

    # any bad input not answered by a route's own page: one line, never a traceback
    return Starlette(routes=routes, exception_handlers={InputError: input_error})
