"""Classroom sessions as a whole: create one, take decisions, run rounds, resume.

The database (``store``) is the record; the models in memory are a cache of it.
A team's model is rebuilt, when it is needed and missing (after a restart), by
replaying the decisions its rounds ran with, round by round, on the same scenario
and seed; the replayed results are compared with the stored ones and the trainer
is told whether they match. Pages are drawn from the stored results alone, so a
restarted server answers at once and replays only when the next round runs.

A round runs when every team has submitted, when the trainer closes it, or when its
deadline passes; a team that did not submit keeps its last platform and starts no
development. Every action that changes a session names the round it was shown
(``round``): a decision or a close for any other round is refused (``Closed``) and
changes nothing, and the same decision sent twice is recorded once. A server that
restarts runs at once a round that every team had submitted. The teams'
rounds run on a thread pool: the engine's compiled loops release the GIL, and each
team's model is its own, so the numbers do not depend on the number of workers.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from analysis.classroom.config import (
    NUMERIC_FIELDS,
    Costs,
    SessionConfig,
    check_decision,
    session_from_form,
)
from analysis.classroom.game import TeamGame, accounts, snapshot, with_scenario
from analysis.classroom.store import Store
from sim.errors import InputError


class NotFound(InputError):
    """An unknown session or team (HTTP 404)."""


class Forbidden(InputError):
    """A code that does not open this page (HTTP 403)."""


class Closed(InputError):
    """A decision for a round that is not open (HTTP 409)."""


# Building models concurrently would load the compiled kernels from several threads.
_BUILD = threading.Lock()


def _clip(platform: dict[str, Any], cfg: SessionConfig) -> dict[str, Any]:
    """The scenario's own platform, moved inside the trainer's bounds."""
    out = dict(platform)
    for f in NUMERIC_FIELDS:
        lo, hi = cfg.bounds[f]
        out[f] = min(max(float(out[f]), lo), hi)
    if out["targeting"] not in cfg.targeting:
        out["targeting"] = cfg.targeting[0]
    return out


class Classroom:
    """Every session in one database, and the models that play them."""

    def __init__(self, db: str | Path, workers: int | None = None, serve: bool = True) -> None:
        """Open the database; ``serve``: this process serves the sessions, so it takes
        the database's one-server lock and reopens a round left running by a stopped
        server (a reader leaves both alone)."""
        self.store = Store(db, serve=serve)
        self.key = self.store.secret("trainer_key")
        self.interrupted = self.store.reopen_interrupted() if serve else []
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="classroom")
        self._games: dict[tuple[str, int], TeamGame] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.last_error = ""

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.store.close()

    # ------------------------------------------------------------------ access
    def is_trainer(self, key: str | None) -> bool:
        return bool(key) and secrets.compare_digest(str(key), self.key)

    def config(self, sid: str) -> SessionConfig:
        row = self.store.session(sid)
        if row is None:
            raise NotFound(f"session {sid!r}: no such session")
        return SessionConfig.from_dict(json.loads(row["config"]))

    def team(self, sid: str, idx: int, code: str | None) -> dict[str, Any]:
        """The team ``idx`` of session ``sid`` if ``code`` is its code."""
        self.config(sid)
        teams = self.store.teams(sid)
        if not 0 <= idx < len(teams):
            raise NotFound(f"team {idx}: no such team in session {sid!r}")
        row = teams[idx]
        if not code or not secrets.compare_digest(str(code), str(row["code"])):
            raise Forbidden(f"team {idx}: this code does not open this team's page")
        return dict(row)

    # ------------------------------------------------------------------ sessions
    def create(self, form: dict[str, Any]) -> str:
        """A new session from the trainer's form; the round-0 view every team starts from."""
        cfg = with_scenario(session_from_form(form))
        names_text = str(form.get("team_names") or "")
        names = [n.strip() for n in names_text.replace(",", "\n").splitlines() if n.strip()]
        if names and len(names) != cfg.teams:
            raise InputError(f"team_names: {len(names)} names for teams={cfg.teams}")
        names = names or [f"Team {i + 1}" for i in range(cfg.teams)]
        if len(set(names)) != len(names):
            raise InputError("team_names: two teams have the same name")
        if any(len(n) > 40 for n in names):
            raise InputError("team_names: a name longer than 40 characters")
        with _BUILD:
            game = TeamGame(cfg)
        # round 0 is the same for every team: one model tells it
        start = snapshot(game.model, accounts(game.model), cfg)
        start["team"]["platform"] = _clip(start["team"]["platform"], cfg)
        return self.store.create_session(cfg.to_dict(), names, start)

    def state(self, sid: str) -> dict[str, Any]:
        """The session's round and status, and who has submitted."""
        row = self.store.session(sid)
        if row is None:
            raise NotFound(f"session {sid!r}: no such session")
        rnd = int(row["round"])
        return {
            "round": rnd,
            "status": str(row["status"]),
            "submitted": sorted(self.store.submitted(sid, rnd)),
            "note": str(row["note"]),
            "teams": len(self.store.teams(sid)),
            "deadline": row["deadline"],
            "board": bool(row["board"]),
            "revealed": bool(row["revealed"]),
        }

    def public_state(self, sid: str) -> dict[str, Any]:
        """What a team page or the projector may know of the session's state (the
        trainer's notes left out)."""
        return {**self.state(sid), "note": ""}

    def set_visibility(self, sid: str, form: dict[str, Any]) -> None:
        """Show or hide the leaderboard (``board``), release or withdraw the debrief and
        the truth on the projector (``revealed``): ``0`` or ``1``."""
        self.config(sid)
        flags = {}
        for k in ("board", "revealed"):
            if k in form:
                v = str(form[k])
                if v not in ("0", "1"):
                    raise InputError(f"{k}={v!r}: must be 0 or 1")
                flags[k] = int(v)
        self.store.set_flags(sid, **flags)

    # ------------------------------------------------------------------ decisions
    def check_round(self, sid: str, form: dict[str, Any], what: str) -> int:
        """The round the page that sent ``form`` showed; ``Closed`` unless it is open."""
        st = self.state(sid)
        text = str(form.get("round") or "").strip()
        if not text.isdigit():
            raise InputError(
                f"round={text!r}: the form must name the round it was shown (reload the page)"
            )
        shown = int(text)
        if shown != st["round"] or st["status"] != "open":
            if st["status"] == "finished":
                now = "all rounds have been played"
            elif shown == st["round"]:
                now = f"round {shown} is running now, closed for decisions"
            else:
                now = f"the session is now at round {st['round']} ({st['status']})"
            raise Closed(
                f"{what} for round {shown} refused: {now}. Nothing was changed; "
                "reload the page to see the current round."
            )
        return shown

    def submit(self, sid: str, idx: int, code: str | None, form: dict[str, Any]) -> str:
        """Check and record a team's decision for the round its page showed (``round``
        in ``form``); run the round if it was the last one in. The same decision sent
        again is recorded once.

        Returns:
            A one-line message for the team.
        """
        self.team(sid, idx, code)
        cfg = self.config(sid)
        last = self.store.results(sid, idx)[-1]["team"]
        try:
            rnd = self.check_round(sid, form, "Decision")
        except Closed:
            shown = int(str(form.get("round")))
            if self._same(form, cfg, sid, idx, shown):
                return f"Decision for round {shown} was already recorded; nothing changed."
            raise
        decision = check_decision(form, cfg, Costs(**last["costs"]), last["open_cells"])
        try:
            complete, n, same = self.store.submit(sid, idx, rnd, decision)
        except LookupError:
            # the round moved between the check and the write: the same answer as above
            return self.submit(sid, idx, code, form)
        if complete:
            self.run_round(sid, rnd)
            return f"Decision for round {rnd} recorded; every team is in, the round ran."
        total = len(self.store.teams(sid))
        again = " (the same decision again: recorded once)" if same else ""
        return f"Decision for round {rnd} recorded{again} ({n} of {total} teams in)."

    def _same(self, form: dict[str, Any], cfg: SessionConfig, sid: str, idx: int, rnd: int) -> bool:
        """Whether ``form`` is the decision the team already recorded for round ``rnd``
        (a repeated submit that arrives after the round closed)."""
        stored = self.store.decision(sid, idx, rnd)
        results = self.store.results(sid, idx)
        if stored is None or stored.get("carried") or not 0 < rnd < len(results) + 1:
            return False
        before = results[rnd - 1]["team"]
        try:
            decision = check_decision(form, cfg, Costs(**before["costs"]), before["open_cells"])
        except InputError:
            return False
        return {k: decision[k] for k in ("platform", "develop")} == {
            k: stored.get(k) for k in ("platform", "develop")
        }

    def close_round(self, sid: str, form: dict[str, Any]) -> float | None:
        """The trainer closes the round the page showed (``round`` in ``form``) now."""
        rnd = self.check_round(sid, form, "Close")
        return self.run_round(sid, rnd)

    def set_deadline(self, sid: str, form: dict[str, Any]) -> None:
        """Start (``minutes`` > 0) or stop (0) the timer of the round the page showed; the
        round closes by itself when it runs out (``close_expired``)."""
        self.check_round(sid, form, "Timer")
        text = str(form.get("minutes") or "0").strip()
        try:
            minutes = float(text)
        except ValueError:
            raise InputError(f"minutes={text!r}: not a number") from None
        if not 0 <= minutes <= 240:
            raise InputError(f"minutes={text}: must be between 0 and 240")
        self.store.set_flags(sid, deadline=time.time() + 60 * minutes if minutes else None)

    def close_expired(self, now: float | None = None) -> list[str]:
        """Run every open round whose deadline has passed; the sessions that ran."""
        now = time.time() if now is None else now
        ran = []
        for row in self.store.sessions():
            due = row["status"] == "open" and row["deadline"] is not None
            if due and row["deadline"] <= now and self.run_round(str(row["id"]), int(row["round"])):
                ran.append(str(row["id"]))
        return ran

    def run_complete(self) -> list[str]:
        """Run every open round that all teams have submitted (a server stopped before
        it could); the sessions that ran."""
        ran = []
        for row in self.store.sessions():
            sid, rnd = str(row["id"]), int(row["round"])
            if row["status"] != "open":
                continue
            complete = len(self.store.submitted(sid, rnd)) == len(self.store.teams(sid))
            if complete and self.run_round(sid, rnd) is not None:
                ran.append(sid)
        return ran

    # ------------------------------------------------------------------ rounds
    def _lock(self, sid: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sid, threading.Lock())

    def run_round(self, sid: str, rnd: int | None = None) -> float | None:
        """Run the open round for every team, if no one else is; its wall time (s)."""
        cfg = self.config(sid)
        rnd = int(self.state(sid)["round"]) if rnd is None else rnd
        if rnd > cfg.rounds:
            raise Closed(f"session {sid!r}: all {cfg.rounds} rounds have been played")
        with self._lock(sid):
            if not self.store.claim_round(sid, rnd):
                return None
            try:
                return self._run(sid, rnd, cfg)
            except BaseException:
                self.store.release_round(sid)
                # a model may have stopped mid-round: rebuild by replay next time
                for key in [k for k in self._games if k[0] == sid]:
                    del self._games[key]
                raise

    def _decisions(self, sid: str, rnd: int, n: int) -> dict[int, tuple[dict[str, Any], bool]]:
        """Each team's decision for the round; one who did not submit keeps its platform."""
        out: dict[int, tuple[dict[str, Any], bool]] = {}
        for team in range(n):
            d = self.store.decision(sid, team, rnd)
            if d is not None:
                out[team] = (d, False)
            else:
                last = self.store.results(sid, team)[-1]["team"]
                out[team] = ({"platform": last["platform"], "develop": [], "carried": True}, True)
        return out

    def _run(self, sid: str, rnd: int, cfg: SessionConfig) -> float:
        n = len(self.store.teams(sid))
        decisions = self._decisions(sid, rnd, n)
        t0 = time.perf_counter()
        notes: list[str] = []

        def one(team: int) -> dict[str, Any]:
            game = self._game(sid, team, rnd - 1, cfg, notes)
            return game.play(decisions[team][0])

        results = dict(zip(range(n), self.pool.map(one, range(n)), strict=True))
        seconds = time.perf_counter() - t0
        self.store.finish_round(sid, rnd, decisions, results, seconds, rnd == cfg.rounds)
        if notes:
            self.store.set_note(sid, " ".join(sorted(set(notes))))
        return seconds

    def start_up(self, stop: threading.Event | None = None) -> None:
        """What a starting server does in the background while it already answers: load
        the engine's compiled kernels (one step of a tiny market, so that the first
        session's creation does not wait for them), ``resume``, run the rounds every
        team had submitted before the stop, then close rounds at their deadline each
        second until ``stop`` is set."""
        from sim.model import DemandModel

        with _BUILD:
            DemandModel("baseline", rng=1, overrides={"run.customers": 64}).run(1)
        self.resume()
        self.run_complete()
        while stop is not None and not stop.wait(1.0):
            try:
                self.close_expired()
            except InputError as exc:  # a full disk: said on the pages; try again
                self.last_error = str(exc)

    def resume(self) -> list[str]:
        """Rebuild, by replay, the models of every session still being played, so the
        first round after a restart runs as fast as any other (the server calls this
        in the background at start-up; a round waits for its session's replay).

        Returns:
            The sessions replayed.
        """
        done = []
        for row in self.store.sessions():
            sid = str(row["id"])
            with self._lock(sid):
                st = self.state(sid)  # read under the lock: a round may have run meanwhile
                if st["status"] != "open" or st["round"] == 1:
                    continue  # nothing to replay (round 1 starts from a fresh model)
                self._replay(sid, st["round"] - 1, self.config(sid))
            done.append(sid)
        return done

    def _replay(self, sid: str, played: int, cfg: SessionConfig) -> None:
        """Every team's model of a session after ``played`` rounds (caller holds its lock)."""
        notes: list[str] = []
        n = len(self.store.teams(sid))
        list(self.pool.map(partial(self._game, sid, played=played, cfg=cfg, notes=notes), range(n)))
        if notes:
            self.store.set_note(sid, " ".join(sorted(set(notes))))

    def _game(
        self, sid: str, team: int, played: int, cfg: SessionConfig, notes: list[str]
    ) -> TeamGame:
        """The team's model after ``played`` rounds: cached, or rebuilt by replay."""
        game = self._games.get((sid, team))
        if game is not None and game.rounds == played:
            return game
        with _BUILD:
            game = TeamGame(cfg)
        applied = self.store.applied(sid, team)[:played]
        stored = self.store.results(sid, team)
        for r, decision in enumerate(applied, start=1):
            res = game.play(decision)
            want, got = stored[r]["team"]["profit"], res["team"]["profit"]
            if not math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-9):
                notes.append(
                    f"Replay after a restart differs from the stored round {r} "
                    "(the engine changed?): pages show the stored results."
                )
        if applied:
            notes.append(f"Resumed from the database by replaying {played} round(s).")
        self._games[(sid, team)] = game
        return game
