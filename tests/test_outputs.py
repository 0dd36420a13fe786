"""Output folders are replaced as a whole, record where they came from, and reproduce
their run; what a killed run left behind is cleaned up by the next."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from demandsim.main import main
from sim import io as sio

RUN = ["--set", "run.customers=300", "--steps", "7"]


def demandsim(*argv: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*argv])
        raise SystemExit(0)
    assert exc.value.code in (0, None)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def siblings(out: Path) -> list[str]:
    """Staging folders beside ``out``."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_run_folder_records_provenance_and_reproduces(tmp_path: Path) -> None:
    out = tmp_path / "run"
    demandsim(
        "run", "baseline", *RUN, "--seed", "4", "--reps", "2", "--no-plots", "--out", str(out)
    )
    prov = json.loads((out / "demandsim.json").read_text())
    assert prov["kind"] == "run" and prov["seeds"] == [4, 5] and prov["steps"] == 7
    assert prov["demandsim_version"] and "git_commit" in prov
    assert prov["scenarios"] == {"baseline": "scenario.toml"}
    resolved = tomllib.loads((out / "scenario.toml").read_text())
    assert resolved["run"]["steps"] == 7 and resolved["run"]["seed"] == 4
    # rerunning the recorded scenario gives the same run
    again = tmp_path / "again"
    demandsim("run", str(out / "scenario.toml"), "--no-plots", "--out", str(again))
    first = json.loads((out / "summary.json").read_text())["runs"][0]
    assert json.loads((again / "summary.json").read_text()) == first


def test_compare_folder_records_provenance(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    demandsim("compare", "baseline", "low-coverage", *RUN, "--reps", "2", "--out", str(out))
    prov = json.loads((out / "demandsim.json").read_text())
    assert prov["kind"] == "comparison" and prov["steps"] == 7 and len(prov["seeds"]) == 2
    for key in ("a", "b"):
        resolved = tomllib.loads((out / f"scenario_{key}.toml").read_text())
        assert resolved["run"]["steps"] == 7 and resolved["run"]["seed"] == prov["seeds"][0]


def test_a_new_run_replaces_the_folder_as_a_whole(tmp_path: Path) -> None:
    out = tmp_path / "run"
    demandsim("run", "baseline", *RUN, "--no-plots", "--out", str(out))
    (out / "report.html").write_text("a report of the earlier run")
    stale = out.parent / f".{out.name}.{dead_pid()}.abcd1234.partial"
    stale.mkdir()
    (stale / "summary.json").write_text("half written")
    demandsim("run", "baseline", *RUN, "--seed", "9", "--no-plots", "--out", str(out))
    assert not (out / "report.html").exists()  # nothing of the old folder survives
    assert json.loads((out / "summary.json").read_text())["seed"] == 9
    assert siblings(out) == []  # the killed run's staging folder is gone


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_failed_swap_leaves_the_old_folder_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    out = tmp_path / command
    argv = (
        ["run", "baseline", *RUN, "--no-plots"]
        if command == "run"
        else ["compare", "baseline", "low-coverage", *RUN, "--reps", "2"]
    )
    demandsim(*argv, "--out", str(out))
    before = files(out)

    def killed(*_: Any) -> bool:
        raise KeyboardInterrupt  # the signal arrives as the folders are swapped

    monkeypatch.setattr(sio, "_exchange", killed)
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--seed", "77", "--out", str(out)])
    assert exc.value.code == 130
    assert files(out) == before
    assert siblings(out) == []


def test_a_kill_between_the_two_renames_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where folders cannot be swapped in one step the old one is moved aside first; a
    kill right after that leaves no ``out`` but the old folder beside it, which the
    next command puts back before it does anything else."""
    out = tmp_path / "run"
    demandsim("run", "baseline", *RUN, "--no-plots", "--out", str(out))
    before = files(out)
    monkeypatch.setattr(sio, "_exchange", lambda a, b: False)
    real_rename = os.rename
    calls = []

    def rename(src: Any, dst: Any) -> None:
        calls.append((src, dst))
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed between the two renames
        real_rename(src, dst)

    monkeypatch.setattr(sio.os, "rename", rename)
    with pytest.raises(SystemExit):
        main(["run", "baseline", *RUN, "--seed", "5", "--no-plots", "--out", str(out)])
    monkeypatch.setattr(sio.os, "rename", real_rename)
    assert not out.exists()
    aside = [n for n in siblings(out) if n.endswith(".old")]
    assert len(aside) == 1
    # the process that moved it is this one, still alive: pretend it died
    pid = aside[0].split(".")[2]
    dead = out.parent / aside[0].replace(f".{pid}.", f".{dead_pid()}.")
    os.rename(out.parent / aside[0], dead)
    sio.clean_stale(out)
    assert files(out) == before and siblings(out) == []


def test_labels_are_shown_literally_in_plots(tmp_path: Path) -> None:
    out = tmp_path / "run"
    demandsim("run", "baseline", *RUN, "--set", 'run.name="$a_{x"', "--out", str(out))
    assert any(out.rglob("*.png"))
    cmp = tmp_path / "cmp"
    demandsim(
        "compare", "baseline", "baseline", *RUN, "--set", 'run.name="$b$ $"', "--reps", "2",
        "--out", str(cmp),
    )  # fmt: skip
    assert any(cmp.rglob("*.png"))
