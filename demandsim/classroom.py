"""``demandsim classroom``: serve the classroom game, or write a session's debrief.

The command checks its arguments (the database can be opened, the address is
free) before anything starts, prints the trainer's link (its key is made once
and kept in the database) and serves until Ctrl-C. Restarting it on the same
database resumes every session where it was. Heavy imports (Starlette, Mesa,
the model) happen only when it runs, so ``demandsim --help`` stays fast.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.errors import InputError

if TYPE_CHECKING:
    from analysis.classroom.service import Classroom


def open_room(db: Path, workers: int | None, serve: bool = True) -> Classroom:
    """The ``Classroom`` of a database file, or one line on why it cannot be opened."""
    from analysis.classroom.service import Classroom

    if not db.parent.is_dir():
        raise InputError(f"--db {db}: folder {db.parent} does not exist")
    try:
        return Classroom(db, workers, serve)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"--db {db}: not a classroom database ({exc})") from None


@click.command("classroom")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("classroom.sqlite"),
    show_default=True,
    help="SQLite file holding the sessions (created if missing; reopened to resume).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; use 0.0.0.0 to let the class's machines in deliberately.",
)
@click.option(
    "--port",
    default=8766,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Threads running the teams' rounds (default: up to 4, one per core).",
)
@click.option(
    "--debrief",
    "debrief_session",
    default=None,
    metavar="SESSION",
    help="Write SESSION's debrief report to --out instead of serving.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where --debrief writes the report (an .html file).",
)
def classroom(
    db: Path,
    host: str,
    port: int,
    workers: int | None,
    debrief_session: str | None,
    out: Path | None,
) -> None:
    """Run the classroom game: teams set their platform round by round on the same
    market; the trainer's page ranks them and shows what each platform believed
    against the truth. The trainer's link is printed at start-up.
    """
    if debrief_session is not None:
        if out is None:
            raise InputError("--out: required with --debrief (the .html file to write)")
        if not db.is_file():
            raise InputError(f"--db {db}: no such file")
        from analysis.classroom import debrief

        room = open_room(db, 1, serve=False)
        cfg = room.config(debrief_session)
        teams = room.store.teams(debrief_session)
        results = [room.store.results(debrief_session, int(t["idx"])) for t in teams]
        html = debrief.debrief_page(cfg, debrief_session, [str(t["name"]) for t in teams], results)
        out.write_text(html, encoding="utf-8")
        click.echo(f"wrote {out}")
        return
    from demandsim.errors import need_extra

    need_extra("classroom", "demandsim classroom")
    from demandsim.dashboard import check_address

    check_address(host, port)
    room = open_room(db, workers)
    import uvicorn

    from analysis.classroom.server import create_app
    from sim.scenario import bundled_names

    app = create_app(room, bundled_names())
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"Classroom database: {db.resolve()}")
    if room.interrupted:
        click.echo(f"Rounds interrupted by the last stop reopened: {', '.join(room.interrupted)}")
    click.echo(f"Trainer page: http://{shown}:{port}/?key={room.key}", nl=True)
    click.echo("Stop with Ctrl-C; start again on the same --db to resume.")
    # load the engine and rebuild the sessions in play while the server already answers
    threading.Thread(target=room.start_up, name="classroom-start-up", daemon=True).start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        room.close()
