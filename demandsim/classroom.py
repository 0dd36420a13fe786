"""``demandsim classroom``: serve the classroom game, or write a session's debrief.

The command checks its arguments (the database can be opened and written, no other
server uses it, the address is free, the certificate loads) before anything starts,
prints the trainer's link with the address students reach (its key is made once and
kept in the database) and serves until Ctrl-C. Restarting it on the same database
resumes every session where it was. The database lives by default in the user's
data folder (``$XDG_DATA_HOME/demandsim`` or ``~/.local/share/demandsim``), readable
by its owner only. Heavy imports (Starlette, Mesa, the model) happen only when it
runs, so ``demandsim --help`` stays fast.
"""

from __future__ import annotations

import os
import sqlite3
import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.errors import InputError

if TYPE_CHECKING:
    from analysis.classroom.service import Classroom


def data_folder() -> Path:
    """The user's data folder for demandsim (XDG base directories)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "demandsim"


def open_room(db: Path | None, workers: int | None, serve: bool = True) -> Classroom:
    """The ``Classroom`` of a database file (default: ``classroom.sqlite`` in the data
    folder, created 0700), or one line on why it cannot be opened."""
    from analysis.classroom.service import Classroom
    from analysis.classroom.store import StorageError

    if db is None:
        folder = data_folder()
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"--db: cannot create the data folder {folder} ({exc.strerror})"
            ) from None
        db = folder / "classroom.sqlite"
    if not db.parent.is_dir():
        raise InputError(f"--db {db}: folder {db.parent} does not exist")
    if serve and not os.access(db.parent, os.W_OK):
        raise InputError(
            f"--db {db}: folder {db.parent} is read-only; the server must write the database "
            "and its WAL files beside it (choose a writable folder)"
        )
    try:
        return Classroom(db, workers, serve)
    except StorageError as exc:
        raise InputError(f"--db {db}: {str(exc).split(': ', 1)[-1]}") from None
    except sqlite3.DatabaseError as exc:
        raise InputError(f"--db {db}: not a classroom database ({exc})") from None


def check_tls(certfile: Path | None, keyfile: Path | None) -> None:
    """Both or neither; and they must load as a certificate and its key."""
    if (certfile is None) != (keyfile is None):
        raise InputError("--certfile and --keyfile: give both (TLS) or neither (plain HTTP)")
    if certfile is None or keyfile is None:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(
            f"--certfile/--keyfile: cannot be loaded as a certificate and its key ({exc}): "
            f"{certfile}, {keyfile}"
        ) from None


@click.command("classroom")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file holding the sessions (created 0600 if missing; reopened to resume). "
    "Default: classroom.sqlite in $XDG_DATA_HOME/demandsim or ~/.local/share/demandsim.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on: the room's address (e.g. 192.168.1.20), or 0.0.0.0 for "
    "every interface (links then use the machine's first room address).",
)
@click.option(
    "--public-url",
    default=None,
    metavar="URL",
    help="The address students use when it is not --host (a proxy or a name), e.g. "
    "https://class.example.org; team links and QR codes use it.",
)
@click.option(
    "--certfile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TLS certificate (PEM): serve HTTPS (with --keyfile).",
)
@click.option(
    "--keyfile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TLS private key (PEM) of --certfile.",
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
    db: Path | None,
    host: str,
    public_url: str | None,
    certfile: Path | None,
    keyfile: Path | None,
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
        db = db or data_folder() / "classroom.sqlite"
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
    from analysis.classroom.network import resolve
    from demandsim.dashboard import check_address

    check_address(host, port)
    check_tls(certfile, keyfile)
    address = resolve(host, port, public_url, tls=certfile is not None)
    room = open_room(db, workers)
    import uvicorn

    from analysis.classroom.server import create_app
    from sim.scenario import bundled_names

    app = create_app(room, bundled_names(), address)
    click.echo(f"Classroom database: {Path(room.store.path).resolve()}")
    if room.interrupted:
        click.echo(f"Rounds interrupted by the last stop reopened: {', '.join(room.interrupted)}")
    click.echo(f"Trainer page: {address.public_url}/?key={room.key}")
    click.echo(f"Students join at: {address.public_url}/join")
    click.echo("Stop with Ctrl-C; start again on the same --db to resume.")
    # load the engine, rebuild the sessions in play and run the rounds every team had
    # submitted, while the server already answers; then close rounds at their deadline
    stop = threading.Event()
    threading.Thread(
        target=room.start_up, args=(stop,), name="classroom-start-up", daemon=True
    ).start()
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
        )
    finally:
        stop.set()
        room.close()
