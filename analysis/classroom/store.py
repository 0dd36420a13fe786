"""The classroom database: sessions, teams and their codes, decisions, round results.

SQLite through the standard library, in WAL mode so that pages read while a round
is being written. The database holds the trainer's key and the teams' codes, so the
file and its WAL files are readable by their owner only (0600), and one server at a
time may use it: ``Store(serve=True)`` holds an OS lock (``flock``) on a ``.lock``
file beside it for as long as the process lives, and a second server is refused.
A write that the disk or the folder refuses (full, read-only) rolls back whole and
is raised as ``StorageError``, one line for the trainer, never a half-written round. Every change is one transaction; a submission takes the write
lock at its start (``BEGIN IMMEDIATE``), so concurrent submissions are serialised
and exactly one of them sees the round complete. Whether a round may start is
claimed by one conditional update (``open`` -> ``running``), so a round runs once
even if the trainer closes it while the last team submits.

A session is deterministic: its models can be rebuilt by replaying the decisions
applied in each round (``applied``), which the results of each round were computed
from. Nothing else needs to be kept to resume a session after a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import sqlite3
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sim.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    config TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 1,      -- the round teams are deciding (rounds + 1: over)
    status TEXT NOT NULL DEFAULT 'open',   -- open | running | finished
    note TEXT NOT NULL DEFAULT '',         -- what the last replay found, for the trainer
    deadline REAL,                         -- when the open round closes by itself (epoch s)
    board INTEGER NOT NULL DEFAULT 1,      -- 1: teams and the projector see the leaderboard
    revealed INTEGER NOT NULL DEFAULT 0    -- 1: the truth and the debrief are released
);
CREATE TABLE IF NOT EXISTS teams (
    session TEXT NOT NULL REFERENCES sessions(id),
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    joincode TEXT UNIQUE,                  -- short code a student types or scans
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


#: columns added since the first schema: (table, column, definition)
MIGRATIONS = (
    ("sessions", "deadline", "REAL"),
    ("sessions", "board", "INTEGER NOT NULL DEFAULT 1"),
    ("sessions", "revealed", "INTEGER NOT NULL DEFAULT 0"),
    ("teams", "joincode", "TEXT"),
)
#: letters and digits a student cannot misread (no 0/O, 1/I/L)
JOIN_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL")
JOIN_LENGTH = 6  # 31**6: about 9e8 codes, for a class of at most 60 teams


def new_code() -> str:
    """An unguessable code (128 bits from ``secrets``) for a link."""
    return secrets.token_urlsafe(16)


def new_join_code() -> str:
    """A short code a student types (``JOIN_LENGTH`` characters of ``JOIN_ALPHABET``)."""
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_LENGTH))


class StorageError(InputError):
    """The disk or the folder refused a write (HTTP 507): nothing was recorded."""


class Busy(InputError):
    """Another server holds the database's lock."""


def _storage_error(path: str, exc: sqlite3.Error) -> InputError:
    """One line on why the database could not be written, for the trainer."""
    text = str(exc).lower()
    if "full" in text:
        why = "the disk is full"
    elif "readonly" in text or "read-only" in text:
        why = "the database or its folder is read-only"
    elif "unable to open" in text:
        why = "its folder cannot be written (read-only or missing)"
    elif "disk i/o" in text:
        why = "the disk reported an error"
    else:
        return StorageError(f"database {path}: {exc}")
    return StorageError(
        f"database {path}: could not be written: {why} ({exc}). Nothing was recorded; "
        "free space or fix the folder, then try again."
    )


def _private(path: str) -> None:
    """Create ``path`` readable by its owner only (or make it so if it exists)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


#: The tables that make a database the classroom's (older versions had these too);
#: an older database is migrated (``MIGRATIONS``), one lacking other columns refused.
OUR_TABLES = frozenset({"sessions", "teams"})


def _check_ours(path: str) -> None:
    """Refuse, reading only, a file that is not an empty or a classroom database.

    Raises:
        StorageError: the file is not SQLite, is damaged, holds another program's tables,
            or a classroom schema that ``MIGRATIONS`` cannot bring up to date.
    """
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    try:
        con = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
        try:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            ours = _required()
            columns = {
                t: {r[1] for r in con.execute(f"PRAGMA table_info({t})")}
                for t in sorted(tables & set(ours))
            }
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StorageError(
            f"database {path}: cannot be read ({exc}); expected a classroom database"
        ) from None
    if tables and not tables >= OUR_TABLES:
        shown = ", ".join(sorted(tables)[:4]) + (", ..." if len(tables) > 4 else "")
        raise StorageError(
            f"database {path}: not a classroom database (its tables: {shown}); expected one "
            "demandsim classroom wrote, or a new file"
        )
    missing = [f"{t}.{c}" for t, cols in columns.items() for c in sorted(ours[t] - cols)]
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise StorageError(
            f"database {path}: a classroom schema that cannot be migrated (no {shown}); "
            "expected one demandsim classroom wrote"
        )


def _required() -> dict[str, set[str]]:
    """The columns of each table every classroom schema has had (``SCHEMA`` without
    the columns ``MIGRATIONS`` add to older databases)."""
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(SCHEMA)
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: {r[1] for r in con.execute(f"PRAGMA table_info({t})")}
            - {c for table, c, _ in MIGRATIONS if table == t}
            for t in tables
        }
    finally:
        con.close()


class Store:
    """The database file, with one connection per thread."""

    def __init__(self, path: str | Path, serve: bool = False) -> None:
        """Open (or create, 0600) the database; ``serve``: take the one-server lock first.

        Raises:
            Busy: another server holds the lock.
            StorageError: the file or its folder cannot be written.
        """
        self.path = str(path)
        self._local = threading.local()
        _check_ours(self.path)  # before anything (a lock, WAL mode, a table) touches it
        self._lockfile: IO[str] | None = self._lock() if serve else None
        try:
            _private(self.path)
            self._db().executescript(SCHEMA)  # idempotent; executescript commits on its own
            self._migrate()
            for suffix in ("-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.chmod(self.path + suffix, 0o600)
        except PermissionError as exc:
            self.close()
            raise _storage_error(self.path, sqlite3.OperationalError("unable to open")) from exc
        except sqlite3.OperationalError as exc:
            self.close()
            raise _storage_error(self.path, exc) from None

    def _lock(self) -> IO[str]:
        """Hold an exclusive ``flock`` on ``PATH.lock`` (released when the process ends,
        even by SIGKILL), or raise ``Busy`` naming the server that holds it."""
        lock_path = self.path + ".lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _storage_error(
                self.path, sqlite3.OperationalError(f"unable to open {lock_path}")
            ) from exc
        f = os.fdopen(fd, "r+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = f.read().strip() or "unknown"
            f.close()
            raise Busy(
                f"database {self.path}: another classroom server (pid {holder}) is using it; "
                "stop that server or give this one another --db"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        return f

    def close(self) -> None:
        """Release the one-server lock (the connections close with their threads)."""
        if self._lockfile is not None:
            self._lockfile.close()
            self._lockfile = None

    def _migrate(self) -> None:
        """Add the columns a database made by an earlier version lacks."""
        db = self._db()
        for table, column, definition in MIGRATIONS:
            have = {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        with self.tx() as tx:
            for row in tx.execute("SELECT session, idx FROM teams WHERE joincode IS NULL"):
                self._set_join_code(tx, row["session"], row["idx"])

    @staticmethod
    def _set_join_code(db: sqlite3.Connection, sid: str, idx: int) -> None:
        while True:
            code = new_join_code()
            if not db.execute("SELECT 1 FROM teams WHERE joincode=?", (code,)).fetchone():
                db.execute(
                    "UPDATE teams SET joincode=? WHERE session=? AND idx=?", (code, sid, idx)
                )
                return

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
        """One write transaction, holding the write lock from its start; a write the
        disk refuses rolls back whole and is raised as ``StorageError``."""
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            if "locked" in str(exc) or "busy" in str(exc):
                raise
            raise _storage_error(self.path, exc) from None

    def read(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self._db().execute(sql, args).fetchall()

    # ------------------------------------------------------------------ meta
    def secret(self, name: str) -> str:
        """A random secret (the trainer's key, the CSRF tokens' key), made once and kept
        in the database."""
        with self.tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (name,)).fetchone()
            if row:
                return str(row["value"])
            key = new_code()
            db.execute("INSERT INTO meta VALUES (?, ?)", (name, key))
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
                db.execute(
                    "INSERT INTO teams (session, idx, name, code) VALUES (?, ?, ?, ?)",
                    (sid, i, name, new_code()),
                )
                self._set_join_code(db, sid, i)
                db.execute("INSERT INTO results VALUES (?, ?, 0, ?)", (sid, i, payload))
        return sid

    def session(self, sid: str) -> sqlite3.Row | None:
        rows = self.read("SELECT * FROM sessions WHERE id=?", (sid,))
        return rows[0] if rows else None

    def sessions(self) -> list[sqlite3.Row]:
        return self.read("SELECT * FROM sessions ORDER BY created DESC")

    def teams(self, sid: str) -> list[sqlite3.Row]:
        return self.read("SELECT * FROM teams WHERE session=? ORDER BY idx", (sid,))

    def set_flags(self, sid: str, **flags: Any) -> None:
        """Set the session's ``deadline``, ``board`` or ``revealed``."""
        allowed = {"deadline", "board", "revealed"}
        with self.tx() as db:
            for k, v in flags.items():
                assert k in allowed, k
                db.execute(f"UPDATE sessions SET {k}=? WHERE id=?", (v, sid))

    def team_by_join_code(self, code: str) -> sqlite3.Row | None:
        rows = self.read("SELECT * FROM teams WHERE joincode=?", (code.strip().upper(),))
        return rows[0] if rows else None

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
    def submit(
        self, sid: str, team: int, rnd: int, payload: dict[str, Any]
    ) -> tuple[bool, int, bool]:
        """Record (or replace) a team's decision for the open round ``rnd``.

        Returns:
            (whether every team has now submitted, how many have, whether the same
            decision was already recorded: a repeated submit changes nothing).

        Raises:
            LookupError: the round is no longer open for decisions.
        """
        with self.tx() as db:
            s = db.execute("SELECT round, status FROM sessions WHERE id=?", (sid,)).fetchone()
            if s is None or s["status"] != "open" or s["round"] != rnd:
                raise LookupError(f"round {rnd} is not open for decisions")
            old = db.execute(
                "SELECT payload FROM decisions WHERE session=? AND team=? AND round=?",
                (sid, team, rnd),
            ).fetchone()
            same = old is not None and json.loads(old["payload"]) == payload
            if not same:
                db.execute(
                    "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?, 0, 0)",
                    (sid, team, rnd, json.dumps(payload), time.time()),
                )
            n = db.execute(
                "SELECT COUNT(*) FROM decisions WHERE session=? AND round=?", (sid, rnd)
            ).fetchone()[0]
            total = db.execute("SELECT COUNT(*) FROM teams WHERE session=?", (sid,)).fetchone()[0]
        return n == total, int(n), same

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
                "UPDATE sessions SET round=?, status=?, deadline=NULL WHERE id=?",
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
