"""Small scenario builders shared by the model tests, and a command killed midway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from sim.scenario import CHAIN_LINKS, Scenario, build_scenario

NO_DEFECTS = {link: 0.0 for link in CHAIN_LINKS}

#: Debian's Chromium, as the browser tests launch it (Playwright cannot download one here)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def bass_scenario(p: float, q: float, n: int = 2000) -> Scenario:
    """One firm, one category, one tier, mean-field, every need active at step 0."""
    return build_scenario(
        {
            "run": {"name": "bass", "customers": n, "warmup_weeks": 0},
            "categories": [
                {
                    "name": "core",
                    "tiers": ["only"],
                    "prices": [1.0],
                    "qualities": [0.8],
                    "lifetime_weeks": 32767,
                    "failure_rate": 0.0,
                }
            ],
            "segments": [{"name": "all", "share": 1.0, "tier_mix": [1.0], "upmarket_rate": 0.0}],
            "demand": {
                "initial_active": 1.0,
                "initial_served": 0.0,
                "initial_latent": 0.0,
                "emergence_rate": 0.0,
                "activation_rate": 0.0,
                "expiry_rate": 0.0,
                "churn_rate": 0.0,
            },
            "network": {"kind": "mean-field"},
            "wom": {"q": q},
            "choice": {"outside_utility": -1000.0},
            "focal": {
                "products": [{"category": "core", "tier": "only"}],
                "platform": {
                    "coverage": 1.0,
                    "density": p,
                    "strength": 1.0,
                    "targeting": "homogeneous",
                },
                "strategy": {"enabled": False},
                "chain": NO_DEFECTS,
            },
            "competitors": [],
        }
    )


def bass_curve(p: float, q: float, steps: int) -> np.ndarray:
    """The discrete Bass recursion F(n+1) = F(n) + (1 - F(n))(p + qF(n)), F(0) = 0."""
    f = np.zeros(steps + 1)
    for i in range(steps):
        f[i + 1] = f[i] + (1 - f[i]) * (p + q * f[i])
    return f


def small(name: str = "baseline", n: int = 2000, **overrides: Any) -> Scenario:
    from sim.scenario import load_scenario

    return load_scenario(name, overrides={"run.customers": n, **overrides})


ROOT = Path(__file__).resolve().parent.parent


def killed_at(args: list[str], line: str) -> list[str]:
    """Run ``demandsim args`` in its own process and kill it (SIGKILL: no chance to tidy
    up) once it has printed a line to stderr starting with ``line``. Returns the lines
    it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "demandsim.main", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = []
    for got in proc.stderr:
        seen.append(got)
        if got.startswith(line):
            proc.kill()
            break
    proc.wait(timeout=60)
    assert proc.returncode == -9, "".join(seen)
    return seen


def bash(command: str) -> subprocess.CompletedProcess[str]:
    """``command`` in bash from the project's folder: a real pipe between processes."""
    return subprocess.run(
        command,
        shell=True,
        executable="/bin/bash",
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def script_json(
    script: str,
    args: list[str],
    jit: bool = True,
    threads: int | None = None,
    engine: str | None = None,
) -> Any:
    """What a Python ``script`` run in its own process with ``args`` prints as JSON:
    compiled, or as plain Python (``NUMBA_DISABLE_JIT=1``); on ``threads`` numba threads
    (``NUMBA_NUM_THREADS``) if given; on ``engine`` (``DEMANDSIM_ENGINE``) if given."""
    env = dict(os.environ)
    if engine is not None:
        env["DEMANDSIM_ENGINE"] = engine
    if not jit:
        env["NUMBA_DISABLE_JIT"] = "1"
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
    )
    return json.loads(out.stdout)
