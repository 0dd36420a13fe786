"""Timing one call repeated in one process, for the benchmarks of single passes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(fn: Callable[[], object], reps: int) -> list[float]:
    """Seconds of each of ``reps`` calls of ``fn`` (call it once before, untimed, to
    compile it and warm the caches)."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def checkout(text: str) -> Path:
    """An argparse type for a tree of other code to compare with (``--base``,
    ``--against``): a folder holding a ``sim`` package, or one short error naming the
    value, before any run starts."""
    path = Path(text)
    if not (path / "sim" / "__init__.py").is_file():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a checkout: a folder with the sim package is needed"
            " (git archive COMMIT | tar -x -C DIR)"
        )
    return path


def in_turn(
    script: str, trees: dict[str, Path], argv: list[str], rounds: int
) -> dict[str, list[dict[str, Any]]]:
    """``rounds`` runs of ``script --child *argv`` for each tree, each in a child process
    of its own, the trees taken in turn (their order reversed every other round, so
    that none always runs first). A child imports its tree's packages (``sim``, and
    ``analysis`` and ``demandsim`` where it has them) and this checkout's
    ``benchmarks``, so that a tree older than the script can be measured by it; it
    prints its result as JSON on its last line."""
    here = Path(__file__).resolve().parents[1]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    names = list(trees)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for k, name in enumerate(names):
            root = trees[name].resolve()
            path = Path(tmp) / str(k)
            path.mkdir()
            for pkg in ("sim", "analysis", "demandsim"):
                if (root / pkg).is_dir():
                    (path / pkg).symlink_to(root / pkg)
            (path / "benchmarks").symlink_to(here / "benchmarks")
            paths[name] = (root, path)
        for r in range(rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                root, path = paths[name]
                env = {**os.environ, "PYTHONPATH": str(path)}
                cmd = [sys.executable, script, "--child", *argv]
                got = subprocess.run(
                    cmd, env=env, cwd=root, capture_output=True, text=True, check=True
                )
                runs[name].append(json.loads(got.stdout.strip().splitlines()[-1]))
                print(f"round {r + 1}: {name} done", file=sys.stderr, flush=True)
    return runs
