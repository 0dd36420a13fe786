"""Where an output folder came from: ``demandsim.json`` in every run and comparison.

It records the demandsim version, the git commit of the source when there is one,
the versions of the libraries results depend on, the command line, the seeds and
horizon, and the files holding the resolved scenarios (which reproduce the run:
``demandsim run DIR/scenario.toml``). Its presence also marks the folder as one
demandsim may replace (``sim.io.check_output_folder``).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from typing import Any


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
    from analysis.store import now, versions

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
    from pathlib import Path

    from analysis.store import git_commit

    root = Path(__file__).resolve().parent.parent
    return git_commit(root) if (root / ".git").exists() else None
