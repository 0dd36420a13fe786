"""The classroom's web application (Starlette), its routes and who may see what.

Routes (plain HTML pages; ``.json`` routes give the same data to the pages' polls):

* ``/`` — the trainer's sessions and the form that creates one (``POST /sessions``).
* ``/s/{sid}`` — a session for the trainer: join codes and QR codes, the timer,
  who submitted, the leaderboard and every team's beliefs against the truth;
  ``POST /s/{sid}/close`` asks for confirmation, then runs the round the page
  showed; ``POST .../deadline`` starts the round's timer, ``POST .../flags`` shows
  the leaderboard or releases the debrief; ``.../debrief.html`` and
  ``.../results.csv`` export the session.
* ``/s/{sid}/projector`` — the room's screen: leaderboard and timer, no codes.
* ``/join``, ``/j/{code}`` — a student's short join code opens the team's page.
* ``/s/{sid}/team/{i}`` — team ``i``'s page; ``POST .../decide`` submits its
  decision for the round the page showed; ``.../debrief.html`` once released.

The trainer's key and each team's code are random (``secrets``) and compared in
constant time; after the first visit they travel in cookies (``access``). A wrong
or missing credential is 403, an unknown session or team 404, a decision outside
the rules 400 with one line, a decision or close for another round 409 (nothing
changed), a body over 64 KB 413 (refused before it is read), a write the disk
refuses 507. Rounds run in a worker thread, so the server keeps answering.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from analysis.classroom import debrief, layout, pages, trainer
from analysis.classroom.access import (
    TEAM_COOKIE,
    TRAINER_COOKIE,
    BadToken,
    Throttle,
    Throttled,
    TooLarge,
    credential,
    csrf_token,
    read_form,
    remember,
)
from analysis.classroom.network import Address, qr_svg
from analysis.classroom.service import Classroom, Closed, Forbidden, NotFound
from analysis.classroom.store import StorageError
from sim.errors import InputError

STATUS = {NotFound: 404, Forbidden: 403, BadToken: 403, Closed: 409, TooLarge: 413, Throttled: 429}
STATUS[StorageError] = 507
Handler = Callable[[Request], Awaitable[Response]]


def _status(exc: InputError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)


def _error_page(exc: InputError) -> HTMLResponse:
    body = f"<h1>Classroom</h1>{layout.message(str(exc), error=True)}"
    headers = {"Connection": "close"} if isinstance(exc, TooLarge) else None
    return HTMLResponse(
        layout.page("Classroom: error", body), status_code=_status(exc), headers=headers
    )


def _pages(handler: Handler) -> Handler:
    """Any ``InputError`` a route raises is its error page (one line, never a traceback)."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except InputError as exc:
            if request.url.path.endswith(".json"):
                return JSONResponse({"error": str(exc)}, status_code=_status(exc))
            return _error_page(exc)

    return run


def results_csv(room: Classroom, sid: str) -> str:
    """Every team's decisions and outcomes round by round, one row per team and round."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        ["round", "team", "decision", "coverage", "density", "strength", "focus", "targeting"]
        + ["developments", "sales", "revenue", "costs", "profit", "cumulative_profit"]
        + ["true_market_share", "sigma_level", "sigma_level_lower"]
        + ["exclusion_defects", "omission_defects"]
    )
    for t in room.store.teams(sid):
        idx = int(t["idx"])
        decisions = room.store.applied(sid, idx)
        for r, res in enumerate(room.store.results(sid, idx)[1:], start=1):
            team, tr, d = res["team"], res["truth"], decisions[r - 1]
            p = team["platform"]
            w.writerow(
                [r, t["name"], "kept" if d.get("carried") else "submitted"]
                + [p["coverage"], p["density"], p["strength"], p["focus"], p["targeting"]]
                + [" ".join(d.get("develop") or []), team["round_sales"]]
                + [round(team["round_revenue"], 2), round(team["round_cost"], 2)]
                + [round(team["round_profit"], 2), round(team["profit"], 2)]
                + [tr["market_share"], tr["sigma_level"], tr.get("sigma_level_lower")]
                + [tr["exclusion_defects"]]
                + [tr["omission_defects"]]
            )
    return out.getvalue()


def create_app(room: Classroom, scenarios: list[str], address: Address) -> Starlette:
    """The application serving ``room``'s sessions at ``address``."""
    secret = room.store.secret("csrf_secret")
    throttle = Throttle()

    def trainer_key(request: Request, form: dict[str, Any] | None = None) -> str:
        key = credential(request, form, "key", TRAINER_COOKIE, secret)
        if not room.is_trainer(key):
            raise Forbidden("this page needs the trainer's key (printed when the server started)")
        return str(key)

    def first_visit(request: Request, field: str, cookie: str, value: str, path: str) -> Response:
        """The page again without the key or code in its address, the cookie set."""
        query = "&".join(f"{k}={v}" for k, v in request.query_params.items() if k != field)
        target = request.url.path + (f"?{query}" if query else "")
        return remember(RedirectResponse(target, 303), cookie, value, path, address.secure)

    def names_results(sid: str) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
        teams = [dict(t) for t in room.store.teams(sid)]
        return teams, [room.store.results(sid, t["idx"]) for t in teams]

    def session_page(
        sid: str, key: str, msg: str | None = None, error: bool = False, status: int = 200
    ) -> HTMLResponse:
        cfg = room.config(sid)
        teams, results = names_results(sid)
        qr = {t["idx"]: qr_svg(f"{address.public_url}/j/{t['joincode']}") for t in teams}
        html = trainer.trainer_session_page(
            cfg, sid, csrf_token(secret, key), teams, room.state(sid), results,
            address.public_url, qr, msg, error,
        )  # fmt: skip
        return HTMLResponse(html, status_code=status)

    def home_page(key: str, msg: str | None = None, status: int = 200) -> HTMLResponse:
        rows = [{**dict(s), "name": json.loads(s["config"])["name"]} for s in room.store.sessions()]
        html = trainer.trainer_home(csrf_token(secret, key), rows, scenarios, msg, bool(msg))
        return HTMLResponse(html, status_code=status)

    @_pages
    async def home(request: Request) -> Response:
        key = trainer_key(request)
        if "key" in request.query_params:
            return first_visit(request, "key", TRAINER_COOKIE, key, "/")
        return home_page(key)

    @_pages
    async def create(request: Request) -> Response:
        form = await read_form(request)
        key = trainer_key(request, form)
        try:
            sid = await run_in_threadpool(room.create, form)
        except (Forbidden, StorageError):
            raise
        except InputError as exc:
            return home_page(key, str(exc), 400)
        response = RedirectResponse(f"/s/{sid}", status_code=303)
        return remember(response, TRAINER_COOKIE, key, "/", address.secure)

    @_pages
    async def session(request: Request) -> Response:
        sid = request.path_params["sid"]
        key = trainer_key(request)
        if "key" in request.query_params:
            return first_visit(request, "key", TRAINER_COOKIE, key, "/")
        ran = request.query_params.get("ran")
        return session_page(sid, key, f"Round {ran} ran." if ran and ran.isdigit() else None)

    @_pages
    async def state(request: Request) -> Response:
        trainer_key(request)
        return JSONResponse({**room.state(request.path_params["sid"]), "now": time.time()})

    def trainer_action(
        act: Callable[[str, dict[str, Any]], Any], done: Callable[[str, dict[str, Any]], str]
    ) -> Handler:
        """A trainer's form on a session: on a refusal the session page says why."""

        @_pages
        async def run(request: Request) -> Response:
            sid = request.path_params["sid"]
            form = await read_form(request)
            key = trainer_key(request, form)
            room.config(sid)
            try:
                await run_in_threadpool(act, sid, form)
            except (Forbidden, NotFound, StorageError, BadToken):
                raise
            except InputError as exc:
                return session_page(sid, key, str(exc), True, _status(exc))
            return RedirectResponse(done(sid, form), status_code=303)

        return run

    @_pages
    async def close(request: Request) -> Response:
        sid = request.path_params["sid"]
        form = await read_form(request)
        key = trainer_key(request, form)
        if form.get("confirm") == "yes":
            return await close_now(request, form)
        try:
            room.check_round(sid, form, "Close")
        except Closed as exc:
            return session_page(sid, key, str(exc), True, 409)
        html = trainer.confirm_close_page(
            room.config(sid), sid, csrf_token(secret, key), room.state(sid)
        )
        return HTMLResponse(html)

    async def close_now(request: Request, form: dict[str, Any]) -> Response:
        sid = request.path_params["sid"]
        key = trainer_key(request, form)
        try:
            await run_in_threadpool(room.close_round, sid, form)
        except (Forbidden, NotFound, StorageError):
            raise
        except InputError as exc:
            return session_page(sid, key, str(exc), True, _status(exc))
        # post/redirect/get: reloading the page must not close the next round
        return RedirectResponse(f"/s/{sid}?ran={form['round']}", status_code=303)

    deadline = trainer_action(room.set_deadline, lambda sid, form: f"/s/{sid}")
    flags = trainer_action(room.set_visibility, lambda sid, form: f"/s/{sid}")

    @_pages
    async def debrief_report(request: Request) -> Response:
        sid = request.path_params["sid"]
        trainer_key(request)
        return debrief_response(sid)

    def debrief_response(sid: str) -> Response:
        cfg = room.config(sid)
        teams, results = names_results(sid)
        html = debrief.debrief_page(cfg, sid, [t["name"] for t in teams], results)
        disposition = f'inline; filename="debrief-{sid}.html"'
        return HTMLResponse(html, headers={"Content-Disposition": disposition})

    @_pages
    async def export(request: Request) -> Response:
        sid = request.path_params["sid"]
        trainer_key(request)
        room.config(sid)
        disposition = f'attachment; filename="classroom-{sid}.csv"'
        return Response(
            results_csv(room, sid),
            media_type="text/csv",
            headers={"Content-Disposition": disposition},
        )

    @_pages
    async def projector(request: Request) -> Response:
        sid = request.path_params["sid"]
        cfg = room.config(sid)
        teams, results = names_results(sid)
        html = trainer.projector_page(
            cfg, sid, [t["name"] for t in teams], room.public_state(sid), results
        )
        return HTMLResponse(html)

    @_pages
    async def projector_state(request: Request) -> Response:
        return JSONResponse({**room.public_state(request.path_params["sid"]), "now": time.time()})

    def join_team(request: Request, code: str) -> Response:
        client = request.client.host if request.client else "?"
        try:
            throttle.check(client)
        except Throttled as exc:
            return HTMLResponse(trainer.join_page(str(exc), True), status_code=429)
        row = room.store.team_by_join_code(code)
        if row is None:
            throttle.miss(client)
            return HTMLResponse(
                trainer.join_page(f"code {code.strip()[:12]!r}: no team has this code", True),
                status_code=404,
            )
        path = f"/s/{row['session']}/team/{row['idx']}"
        response = RedirectResponse(path, status_code=303)
        return remember(response, TEAM_COOKIE, str(row["code"]), path, address.secure)

    async def join_form(request: Request) -> Response:
        return HTMLResponse(trainer.join_page())

    @_pages
    async def join_post(request: Request) -> Response:
        form = await read_form(request)
        return join_team(request, str(form.get("joincode") or ""))

    async def join_link(request: Request) -> Response:
        return join_team(request, request.path_params["code"])

    def team_index(request: Request) -> int:
        try:
            return int(request.path_params["idx"])
        except ValueError:
            raise NotFound(f"team {request.path_params['idx']!r}: no such team") from None

    def team_code(request: Request, form: dict[str, Any] | None = None) -> tuple[int, str]:
        sid, idx = request.path_params["sid"], team_index(request)
        code = credential(request, form, "code", TEAM_COOKIE, secret)
        row = room.team(sid, idx, code)
        return idx, str(row["code"])

    def team_view(
        sid: str,
        idx: int,
        code: str,
        msg: str | None = None,
        error: bool = False,
        status: int = 200,
    ) -> HTMLResponse:
        row = room.team(sid, idx, code)
        cfg = room.config(sid)
        st = room.public_state(sid)
        history = [r["team"] for r in room.store.results(sid, idx)]
        chosen = room.store.decision(sid, idx, st["round"]) if st["status"] == "open" else None
        board = ""
        if st["board"] and len(history) > 1:
            teams, results = names_results(sid)
            names = [t["name"] for t in teams]
            board = debrief.leaderboard(names, [r[-1] for r in results], truth=st["revealed"])[0]
        html = pages.team_page(
            cfg, sid, idx, row["name"], csrf_token(secret, code), st, history, chosen,
            msg, error, room.store.applied(sid, idx), board,
        )  # fmt: skip
        return HTMLResponse(html, status_code=status)

    @_pages
    async def team(request: Request) -> Response:
        sid = request.path_params["sid"]
        idx, code = team_code(request)
        if "code" in request.query_params:
            return first_visit(request, "code", TEAM_COOKIE, code, f"/s/{sid}/team/{idx}")
        sent = request.query_params.get("sent")
        msg = f"Your decision for round {sent} is recorded." if sent and sent.isdigit() else None
        return team_view(sid, idx, code, msg)

    @_pages
    async def team_data(request: Request) -> Response:
        sid = request.path_params["sid"]
        idx, _ = team_code(request)
        history = [r["team"] for r in room.store.results(sid, idx)]  # beliefs only
        st = room.public_state(sid)
        name = room.store.teams(sid)[idx]["name"]
        return JSONResponse({**st, "now": time.time(), "team": name, "results": history})

    @_pages
    async def team_debrief(request: Request) -> Response:
        sid = request.path_params["sid"]
        team_code(request)
        if not room.public_state(sid)["revealed"]:
            raise Forbidden("the debrief has not been released yet: your trainer releases it")
        return debrief_response(sid)

    @_pages
    async def decide(request: Request) -> Response:
        sid = request.path_params["sid"]
        form = await read_form(request)
        idx, code = team_code(request, form)
        try:
            msg = await run_in_threadpool(room.submit, sid, idx, code, form)
        except (StorageError, BadToken):
            raise
        except InputError as exc:
            return team_view(sid, idx, code, str(exc), True, _status(exc))
        if "already recorded" in msg:
            return team_view(sid, idx, code, msg)
        # post/redirect/get: reloading the page must not submit the decision again
        return RedirectResponse(f"/s/{sid}/team/{idx}?sent={form['round']}", status_code=303)

    routes = [
        Route("/", home),
        Route("/sessions", create, methods=["POST"]),
        Route("/join", join_form),
        Route("/join", join_post, methods=["POST"]),
        Route("/j/{code}", join_link),
        Route("/s/{sid}", session),
        Route("/s/{sid}/state.json", state),
        Route("/s/{sid}/close", close, methods=["POST"]),
        Route("/s/{sid}/deadline", deadline, methods=["POST"]),
        Route("/s/{sid}/flags", flags, methods=["POST"]),
        Route("/s/{sid}/debrief.html", debrief_report),
        Route("/s/{sid}/results.csv", export),
        Route("/s/{sid}/projector", projector),
        Route("/s/{sid}/projector.json", projector_state),
        Route("/s/{sid}/team/{idx}", team),
        Route("/s/{sid}/team/{idx}/data.json", team_data),
        Route("/s/{sid}/team/{idx}/debrief.html", team_debrief),
        Route("/s/{sid}/team/{idx}/decide", decide, methods=["POST"]),
    ]
    hosts = Middleware(TrustedHostMiddleware, allowed_hosts=list(address.allowed_hosts))
    return Starlette(routes=routes, middleware=[hosts])
