"""The classroom database: sessions, teams and their codes, decisions, round results.

SQLite through the standard library, in WAL mode so that pages read while a round
is being written. Every change is one transaction; a submission takes the write
lock at its start (``BEGIN IMMEDIATE``), so concurrent submissions are serialised
and exactly one of them sees the round complete. Whether a round may start is
claimed by one conditional update (``open`` -> ``running``), so a round runs once
even if the trainer closes it while the last team submits.

A session is deterministic: its models can be rebuilt by replaying the decisions
applied in each round (``applied``), which the results of each round were computed
from. Nothing else needs to be kept to resume a session after a restart.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    config TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 1,      -- the round teams are deciding (rounds + 1: over)
    status TEXT NOT NULL DEFAULT 'open',   -- open | running | finished
    note TEXT NOT NULL DEFAULT ''          -- what the last replay found, for the trainer
);
CREATE TABLE IF NOT EXISTS teams (
    session TEXT NOT NULL REFERENCES sessions(id),
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    PRIMARY KEY (session, idx)
);
CREATE TABLE IF NOT EXISTS decisions (
    session TEXT NOT NULL,
    team INTEGER NOT NULL,
    round INTEGER NOT NULL,
    payload TEXT NOT NULL,
    submitted REAL NOT NULL,
    applied INTEGER NOT NULL DEFAULT 0,    -- 1 once the round ran with it
    carried INTEGER NOT NULL DEFAULT 0,    -- 1: the team did not submit; last round's kept
    PRIMARY KEY (session, team, round)
);
CREATE TABLE IF NOT EXISTS results (
    session TEXT NOT NULL,
    team INTEGER NOT NULL,
    round INTEGER NOT NULL,                -- 0: the market before the first round
    payload TEXT NOT NULL,
    PRIMARY KEY (session, team, round)
);
CREATE TABLE IF NOT EXISTS rounds (
    session TEXT NOT NULL,
    round INTEGER NOT NULL,
    ran REAL NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (session, round)
);
"""


def new_code() -> str:
    """An unguessable code (128 bits from ``secrets``) for a link."""
    return secrets.token_urlsafe(16)


class Store:
    """The database file, with one connection per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._db().executescript(SCHEMA)  # idempotent; executescript commits on its own

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the write lock from its start."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def read(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self._db().execute(sql, args).fetchall()

    # ------------------------------------------------------------------ meta
    def trainer_key(self) -> str:
        """The trainer's key, made once and kept in the database."""
        with self.tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key='trainer_key'").fetchone()
            if row:
                return str(row["value"])
            key = new_code()
            db.execute("INSERT INTO meta VALUES ('trainer_key', ?)", (key,))
            return key

    # ------------------------------------------------------------------ sessions
    def create_session(
        self, config: dict[str, Any], team_names: list[str], start: dict[str, Any]
    ) -> str:
        """A new session, its teams with fresh codes, and the round-0 result of every team."""
        sid = secrets.token_hex(4)
        now = time.time()
        with self.tx() as db:
            while db.execute("SELECT 1 FROM sessions WHERE id=?", (sid,)).fetchone():
                sid = secrets.token_hex(4)
            db.execute(
                "INSERT INTO sessions (id, created, config) VALUES (?, ?, ?)",
                (sid, now, json.dumps(config)),
            )
            payload = json.dumps(start)
            for i, name in enumerate(team_names):
                db.execute("INSERT INTO teams VALUES (?, ?, ?, ?)", (sid, i, name, new_code()))
                db.execute("INSERT INTO results VALUES (?, ?, 0, ?)", (sid, i, payload))
        return sid

    def session(self, sid: str) -> sqlite3.Row | None:
        rows = self.read("SELECT * FROM sessions WHERE id=?", (sid,))
        return rows[0] if rows else None

    def sessions(self) -> list[sqlite3.Row]:
        return self.read("SELECT * FROM sessions ORDER BY created DESC")

    def teams(self, sid: str) -> list[sqlite3.Row]:
        return self.read("SELECT * FROM teams WHERE session=? ORDER BY idx", (sid,))

    def set_note(self, sid: str, note: str) -> None:
        with self.tx() as db:
            db.execute("UPDATE sessions SET note=? WHERE id=?", (note, sid))

    def reopen_interrupted(self) -> list[str]:
        """Sessions left ``running`` by a stopped server go back to ``open`` (their
        round's results were never committed, so the round runs again)."""
        with self.tx() as db:
            rows = db.execute("SELECT id FROM sessions WHERE status='running'").fetchall()
            db.execute("UPDATE sessions SET status='open' WHERE status='running'")
        return [str(r["id"]) for r in rows]

    # ------------------------------------------------------------------ decisions
    def submit(self, sid: str, team: int, rnd: int, payload: dict[str, Any]) -> tuple[bool, int]:
        """Record (or replace) a team's decision for the open round ``rnd``.

        Returns:
            (whether every team has now submitted, how many have).

        Raises:
            LookupError: the round is no longer open for decisions.
        """
        with self.tx() as db:
            s = db.execute("SELECT round, status FROM sessions WHERE id=?", (sid,)).fetchone()
            if s is None or s["status"] != "open" or s["round"] != rnd:
                raise LookupError(f"round {rnd} is not open for decisions")
            db.execute(
                "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?, 0, 0)",
                (sid, team, rnd, json.dumps(payload), time.time()),
            )
            n = db.execute(
                "SELECT COUNT(*) FROM decisions WHERE session=? AND round=?", (sid, rnd)
            ).fetchone()[0]
            total = db.execute("SELECT COUNT(*) FROM teams WHERE session=?", (sid,)).fetchone()[0]
        return n == total, int(n)

    def decision(self, sid: str, team: int, rnd: int) -> dict[str, Any] | None:
        rows = self.read(
            "SELECT payload FROM decisions WHERE session=? AND team=? AND round=?",
            (sid, team, rnd),
        )
        return json.loads(rows[0]["payload"]) if rows else None

    def submitted(self, sid: str, rnd: int) -> set[int]:
        rows = self.read("SELECT team FROM decisions WHERE session=? AND round=?", (sid, rnd))
        return {int(r["team"]) for r in rows}

    def applied(self, sid: str, team: int) -> list[dict[str, Any]]:
        """The decisions a team's rounds ran with, round 1 first."""
        rows = self.read(
            "SELECT payload FROM decisions WHERE session=? AND team=? AND applied=1 ORDER BY round",
            (sid, team),
        )
        return [json.loads(r["payload"]) for r in rows]

    # ------------------------------------------------------------------ rounds
    def claim_round(self, sid: str, rnd: int) -> bool:
        """Move round ``rnd`` from open to running; False if another caller did first."""
        with self.tx() as db:
            cur = db.execute(
                "UPDATE sessions SET status='running' WHERE id=? AND status='open' AND round=?",
                (sid, rnd),
            )
            return cur.rowcount == 1

    def release_round(self, sid: str) -> None:
        """A round that failed to run goes back to open."""
        with self.tx() as db:
            db.execute("UPDATE sessions SET status='open' WHERE id=? AND status='running'", (sid,))

    def finish_round(
        self,
        sid: str,
        rnd: int,
        decisions: dict[int, tuple[dict[str, Any], bool]],
        results: dict[int, dict[str, Any]],
        seconds: float,
        last: bool,
    ) -> None:
        """Commit a round at once: the decisions it applied (carried ones added), every
        team's result, and the session moved to the next round (or finished)."""
        now = time.time()
        with self.tx() as db:
            for team, (payload, carried) in decisions.items():
                db.execute(
                    "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?, 1, ?)",
                    (sid, team, rnd, json.dumps(payload), now, int(carried)),
                )
            for team, res in results.items():
                db.execute(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
                    (sid, team, rnd, json.dumps(res)),
                )
            db.execute(
                "INSERT OR REPLACE INTO rounds VALUES (?, ?, ?, ?)", (sid, rnd, now, seconds)
            )
            db.execute(
                "UPDATE sessions SET round=?, status=? WHERE id=?",
                (rnd + 1, "finished" if last else "open", sid),
            )

    def results(self, sid: str, team: int) -> list[dict[str, Any]]:
        """A team's results, round 0 first."""
        rows = self.read(
            "SELECT payload FROM results WHERE session=? AND team=? ORDER BY round", (sid, team)
        )
        return [json.loads(r["payload"]) for r in rows]

    def round_seconds(self, sid: str) -> dict[int, float]:
        rows = self.read("SELECT round, seconds FROM rounds WHERE session=?", (sid,))
        return {int(r["round"]): float(r["seconds"]) for r in rows}
