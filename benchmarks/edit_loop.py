"""The edit loop: after changing one kernel, how long until a small run answers?

    python -m benchmarks.edit_loop

Copies the package ``sim/`` into a temporary folder (so the working tree and its
numba cache are untouched), runs a small model there once so that numba's cache is
warm, then appends a comment to one rule module (``demand.py`` by default: a change
to a kernel's module, which its cache stamp sees) and times a fresh process running
a small model (``run.customers`` 500, 13 steps, no warm-up). It prints the times of
the warm run and of the run after the edit, and the recompiled share: the kernels of
the edited module recompile, the others load from the cache (``sim/jit.py``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL = (
    "from sim import DemandModel; "
    "DemandModel('baseline', rng=1, overrides={'run.customers': 500, 'run.warmup_weeks': 0})"
    ".run(13); print('ok')"
)


def timed_run(where: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(where))
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", SMALL], cwd=where, env=env, capture_output=True, text=True
    )
    if out.returncode != 0 or "ok" not in out.stdout:
        raise RuntimeError(out.stderr)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.edit_loop", description=__doc__)
    ap.add_argument("--module", default="demand.py", help="the rule module to edit")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        shutil.copytree(ROOT / "sim", where / "sim", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "scenarios", where / "scenarios")
        cold = timed_run(where)  # compiles every kernel into the copy's cache
        warm = timed_run(where)
        with open(where / "sim" / args.module, "a", encoding="utf-8") as fh:
            fh.write("\n# an edit\n")
        edited = timed_run(where)
        print(f"first run, empty cache (every kernel compiled): {cold:.1f} s")
        print(f"run with a warm cache:                           {warm:.1f} s")
        print(f"first run after editing sim/{args.module}:           {edited:.1f} s")
        verdict = "met" if edited < 10 else "MISSED"
        print(f"{verdict}: the first small run after changing one kernel answers in < 10 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
