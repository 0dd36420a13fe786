"""``sim.precompile`` leaves no kernel for a real run to compile."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

from numba.core.registry import CPUDispatcher

import sim
from sim import DemandModel
from sim.precompile import compile_kernels


def _signatures() -> dict[str, int]:
    """Every compiled kernel of ``sim`` with the number of signatures it holds."""
    out: dict[str, int] = {}
    for info in pkgutil.iter_modules(sim.__path__):
        module = importlib.import_module(f"sim.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == module.__name__:
                out[f"{module.__name__}.{name}"] = len(obj.signatures)
    return out


def grown_after_precompiling() -> dict[str, list[int]]:
    """In this process: the kernels that gain a signature in real runs after
    ``compile_kernels`` (loaded from the cache or compiled, either way one that
    ``sim.precompile`` did not reach)."""
    compile_kernels()
    before = _signatures()
    assert sum(before.values()) > 20  # the rules' kernels are there
    # the benchmark workload's market, with three firms and a rival's launch to detect
    from benchmarks.workloads import workload

    DemandModel(workload(1000, 104), rng=2024).run(104)
    DemandModel("baseline", rng=3, overrides={"run.customers": 500}).run(104)
    after = _signatures()
    return {k: [before.get(k, 0), v] for k, v in after.items() if v != before.get(k, 0)}


def test_a_run_after_precompiling_compiles_nothing() -> None:
    # a fresh process: in this one other tests may have reached the kernels already
    code = (
        "import json, tests.test_precompile as t; print(json.dumps(t.grown_after_precompiling()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    grown = json.loads(out.stdout.strip().splitlines()[-1])
    assert not grown, f"kernels first called in a run after sim.precompile: {grown}"
