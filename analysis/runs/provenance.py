"""Where an output folder came from: ``demandsim.json`` in every run and comparison.

It records the demandsim version, the git commit of the source when there is one,
the versions of the libraries results depend on, the command line, the seeds and
horizon, and the files holding the resolved scenarios (which reproduce the run:
``demandsim run DIR/scenario.toml``). Its presence also marks the folder as one
demandsim may replace (``sim.io.check_output_folder``).
"""

from __future__ import annotations

import datetime as dt
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The folder holding the packages (a checkout's root when run from one).
_ROOT = Path(__file__).resolve().parent.parent.parent


def provenance(
    kind: str,
    seeds: Sequence[int],
    steps: int,
    scenarios: dict[str, str],
    **extra: Any,
) -> dict[str, Any]:
    """The provenance record of an output folder.

    Args:
        kind: ``"run"`` or ``"comparison"``.
        seeds: the seed of each replication, in order.
        steps: the horizon of every run.
        scenarios: label -> file name of the resolved scenario in the folder.
        extra: more fields to record (e.g. ``jobs``).
    """
    vers = versions()
    return {
        "kind": kind,
        "demandsim_version": vers.get("demandsim"),
        "git_commit": source_commit(),
        "created": now(),
        "command": shlex.join(["demandsim", *sys.argv[1:]]),
        "seeds": [int(s) for s in seeds],
        "steps": int(steps),
        "scenarios": scenarios,
        "versions": vers,
        **extra,
    }


def source_commit() -> str | None:
    """The git commit of the source tree demandsim runs from, or None when it runs from
    an installed package (whose folder may sit inside some other repository)."""
    return git_commit(_ROOT) if (_ROOT / ".git").exists() else None


def git_commit(path: Path | None = None) -> str | None:
    """The commit of the source tree this package runs from (``+dirty`` if changed)."""
    root = path or _ROOT
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def code_hash() -> str:
    """A hash of the model's source (``sim/*.py``): it changes when results may change."""
    import hashlib

    root = _ROOT / "sim"
    h = hashlib.sha256()
    for path in sorted(root.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def versions() -> dict[str, str | None]:
    """Versions of the packages a run's result depends on."""
    import importlib.metadata as md
    import platform

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("demandsim", "mesa", "numpy", "pandas", "pyarrow", "SALib", "dask", "distributed"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
