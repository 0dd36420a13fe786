"""Safe storage of the classroom: files readable by their owner only, one server per
database, and a full disk or a read-only folder answered with one line and nothing
half written. The disk and the folder are a tiny tmpfs the test mounts (root)."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.classroom.service import Classroom
from analysis.classroom.store import Busy, StorageError
from demandsim.classroom import data_folder, open_room
from sim.errors import InputError
from tests.test_classroom import SMALL as ROUNDS
from tests.test_classroom import WEAK as A

SMALL = {**ROUNDS, "teams": "2"}


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True
    )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_and_wal_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a usual umask: files would be 0644
    try:
        room = Classroom(tmp_path / "c.sqlite", workers=1)
        room.create(SMALL)
    finally:
        os.umask(old)
    db = str(tmp_path / "c.sqlite")
    for path in (db, db + "-wal", db + "-shm", db + ".lock"):
        assert os.path.exists(path) and _mode(path) == 0o600, path
    room.close()


def test_the_default_database_is_in_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert data_folder() == tmp_path / "data" / "demandsim"
    room = open_room(None, 1)
    assert room.store.path == str(tmp_path / "data" / "demandsim" / "classroom.sqlite")
    assert _mode(str(tmp_path / "data" / "demandsim")) == 0o700
    room.close()
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_folder() == tmp_path / "home" / ".local" / "share" / "demandsim"


def test_a_second_server_on_the_same_database_is_refused(tmp_path: Path) -> None:
    room = Classroom(tmp_path / "c.sqlite", workers=1)
    with pytest.raises(Busy) as exc:
        Classroom(tmp_path / "c.sqlite", workers=1)
    assert str(exc.value) == (
        f"database {tmp_path / 'c.sqlite'}: another classroom server (pid {os.getpid()}) is "
        "using it; stop that server or give this one another --db"
    )
    reader = Classroom(tmp_path / "c.sqlite", serve=False)  # a debrief may read meanwhile
    assert reader.key == room.key
    room.close()
    Classroom(tmp_path / "c.sqlite", workers=1).close()  # free again once the first stops


def test_a_full_disk_is_one_line_and_nothing_is_half_written(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        room = Classroom(disk / "c.sqlite", workers=1)
        sid = room.create(SMALL)
        code = str(room.store.teams(sid)[0]["code"])
        filler = disk / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as f:
            while True:  # until the disk is full
                f.write(b"\0" * 4096)
                f.flush()
        with pytest.raises(StorageError) as exc:
            # a decision with a long payload: the write needs pages the disk no longer has
            for _ in range(50):
                room.store.submit(sid, 0, 1, {"platform": {"pad": "x" * 4000}, "develop": []})
                room.store.submit(sid, 0, 1, {"platform": {"pad": "y" * 4000}, "develop": []})
        text = str(exc.value)
        assert "\n" not in text and "the disk is full" in text and "Nothing was recorded" in text
        filler.unlink()
        st = room.state(sid)
        assert st["round"] == 1 and st["status"] == "open"
        d = room.store.decision(sid, 0, 1)
        assert d is None or len(d["platform"]["pad"]) == 4000  # a whole decision or none
        assert room.submit(sid, 0, code, {**A, "round": "1"}).startswith("Decision for round 1")
        room.close()


def test_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    rw, folder = tmp_path / "rw", tmp_path / "ro"
    rw.mkdir()
    folder.mkdir()
    room = Classroom(rw / "c.sqlite", workers=1)  # a database made in class last week
    room.create(SMALL)
    room.close()
    subprocess.run(["mount", "--bind", str(rw), str(folder)], check=True)
    try:  # the same folder, read-only (root ignores permission bits, not a read-only mount)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        with pytest.raises(InputError) as exc:
            open_room(folder / "c.sqlite", 1)
        assert str(exc.value) == (
            f"--db {folder / 'c.sqlite'}: folder {folder} is read-only; the server must write "
            "the database and its WAL files beside it (choose a writable folder)"
        )
        with pytest.raises(StorageError) as exc2:  # the service itself, past the command's check
            Classroom(folder / "new.sqlite", workers=1)
        assert "read-only" in str(exc2.value) and "\n" not in str(exc2.value)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
