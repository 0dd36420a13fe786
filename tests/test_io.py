"""Atomic outputs: all or nothing, with ordinary file permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.io import atomic_write_json, atomic_write_text, staged_dir


def test_atomic_write_has_plain_permissions_and_no_leftovers(tmp_path: Path) -> None:
    path = tmp_path / "a" / "out.txt"
    atomic_write_text(path, "hello")
    assert path.read_text() == "hello"
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in path.parent.iterdir()] == ["out.txt"]


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    atomic_write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"a": object()})
    assert path.read_text().strip().startswith("{") and '"a": 1' in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_json_turns_non_finite_into_null(tmp_path: Path) -> None:
    path = tmp_path / "n.json"
    atomic_write_json(path, {"x": float("nan"), "y": [float("inf"), 1.5]})
    assert path.read_text().split() == ["{", '"x":', "null,", '"y":', "[", "null,", "1.5", "]", "}"]


def test_staged_dir_is_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), staged_dir(out) as stage:
        (stage / "part.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
    with staged_dir(out) as stage:
        (stage / "full.txt").write_text("done")
    assert (out / "full.txt").read_text() == "done"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
