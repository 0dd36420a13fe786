"""The edit loop: after changing one kernel, how long until a small run answers?

    python -m benchmarks.edit_loop

Copies the package ``sim/`` into a temporary folder (so the working tree and its
numba cache are untouched), runs a small model there once so that numba's cache is
warm, then appends a comment to one rule module (``demand.py`` by default: a change
to a kernel's module, which its cache stamp sees) and times a fresh process running
a small model (``run.customers`` 500, 13 steps, no warm-up). It prints the times of
the warm run and of the run after the edit, and the recompiled share: the kernels of
the edited module recompile, the others load from the cache (``sim/jit.py``).
``--module`` takes several modules: after the one cold run, each is edited and timed in
turn (each edited run leaves the cache warm for the next).
``--compiles`` lists the time each recompiled kernel took (numba's compile events).

``--caller`` measures what one compiled call per step would add to the loop: it puts a
module in the copy whose one kernel calls the demand, platform and choice kernels (as
a fused step would, with much more besides), and times that kernel's compile in each
run, after the model's own kernels are loaded or compiled: its cache stamp covers every
rule it calls, so it compiles again after an edit to any of them.
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

#: before ``SMALL`` with ``--compiles``: numba's compile events of the package's kernels,
#: printed at exit as "compiled <kernel> <seconds>" (a kernel's time includes what it
#: compiles inside it: the kernels it calls, numba's own implementations it needs)
COMPILES = """
import atexit, time
from numba.core import event
_start, _spent = {}, {}
class _Times(event.Listener):
    def on_start(self, ev):
        f = ev.data['dispatcher'].py_func
        _start[f] = time.perf_counter()
    def on_end(self, ev):
        f = ev.data['dispatcher'].py_func
        if f.__module__.startswith('sim.'):
            _spent[f'{f.__module__}.{f.__qualname__}'] = time.perf_counter() - _start[f]
event.register('numba:compile', _Times())
atexit.register(lambda: [print('compiled', k, round(v, 2)) for k, v in _spent.items()])
"""


#: ``--caller``: a module of the copy whose one kernel calls three rules' kernels
CALLER_MODULE = """from sim.choice_kernels import choice_kernel
from sim.demand_kernels import demand_kernel
from sim.jit import kernel
from sim.platform import platform_kernel


@kernel
def step(dargs, pargs, cargs):
    demand_kernel(*dargs)
    platform_kernel(*pargs)
    choice_kernel(*cargs)
"""

#: after ``SMALL`` with ``--caller``: the caller's first call, with the arguments the
#: model's last step passed to the three kernels, timed ("caller <seconds>")
CALLER = """
import time
import sim.caller_probe as _probe
import sim.choice as _ch, sim.demand as _d, sim.platform as _p
_args = {}
def _grab(mod, name):
    k = getattr(mod, name)
    def call(*a):
        _args[name] = a
        return k(*a)
    setattr(mod, name, call)
for _m, _n in ((_d, 'demand_kernel'), (_p, 'platform_kernel'), (_ch, 'choice_kernel')):
    _grab(_m, _n)
DemandModel('baseline', rng=1, overrides={'run.customers': 500, 'run.warmup_weeks': 0}).run(1)
_t = time.perf_counter()
_probe.step(_args['demand_kernel'], _args['platform_kernel'], _args['choice_kernel'])
print('caller', round(time.perf_counter() - _t, 2))
"""


def timed_run(
    where: Path, compiles: bool = False, log: list[str] | None = None, caller: bool = False
) -> float:
    env = dict(os.environ, PYTHONPATH=str(where))
    code = (COMPILES if compiles else "") + SMALL + (CALLER if caller else "")
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=where, env=env, capture_output=True, text=True
    )
    took = time.perf_counter() - t
    if out.returncode != 0 or "ok" not in out.stdout:
        raise RuntimeError(out.stderr)
    for line in out.stdout.splitlines():
        if line.startswith("compiled ") and log is not None:
            _, kernel, seconds = line.split()
            log.append(f"  {kernel}: {float(seconds):.2f} s")
        if line.startswith("caller ") and log is not None:
            log.append(f"  the kernel calling three rules' kernels: {float(line.split()[1]):.2f} s")
    return took


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.edit_loop", description=__doc__)
    ap.add_argument(
        "--module",
        nargs="+",
        default=["demand.py"],
        help="the rule module to edit; with several, each is edited in turn (one cold run)",
    )
    ap.add_argument(
        "--compiles", action="store_true", help="print each kernel's compile time after the edit"
    )
    ap.add_argument(
        "--caller",
        action="store_true",
        help="also time a kernel that calls the demand, platform and choice kernels",
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        shutil.copytree(ROOT / "sim", where / "sim", ignore=shutil.ignore_patterns("__pycache__"))
        if args.caller:
            (where / "sim" / "caller_probe.py").write_text(CALLER_MODULE)
        cold = timed_run(where, caller=args.caller)  # every kernel into the copy's cache
        warm = timed_run(where, caller=args.caller)
        print(f"first run, empty cache (every kernel compiled): {cold:.1f} s")
        print(f"run with a warm cache:                           {warm:.1f} s", flush=True)
        missed = []
        for module in args.module:  # each edited run leaves the cache warm for the next
            with open(where / "sim" / module, "a", encoding="utf-8") as fh:
                fh.write("\n# an edit\n")
            log: list[str] = []
            edited = timed_run(where, args.compiles, log, args.caller)
            print(f"first run after editing sim/{module}: {edited:.1f} s", flush=True)
            if log:
                print("compiled after the edit (each with what it compiles inside it):")
                print("\n".join(log), flush=True)
            if edited >= 10:
                missed.append(module)
        verdict = f"MISSED ({', '.join(missed)})" if missed else "met"
        print(f"{verdict}: the first small run after changing one kernel answers in < 10 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
