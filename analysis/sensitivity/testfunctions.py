"""Test functions with known sensitivity answers, and sweep runners built on them.

The analysis code is checked against these, not against the model (whose numbers
change with the engine): the Ishigami and Sobol-G functions, whose first-order and
total Sobol indices are known in closed form; a linear function, whose main
effects are exactly its slopes times the distance from the mean; and a mixture
whose indices move over time in a known way.

Each ``*_runner`` has the signature of a sweep runner (``runner = "module:function"``
in a sweep spec) and reads its inputs from three platform fields of the scenario,
``focal.platform.density``, ``.strength`` and ``.coverage``, each in [0, 1].

References: Ishigami & Homma (1990); Sobol' (1993), Saltelli et al. (2010) for the
G function; Saltelli et al. (2008), Global Sensitivity Analysis: The Primer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# --------------------------------------------------------------------------- Ishigami


def ishigami(x: Any, a: float = 7.0, b: float = 0.1) -> Any:
    """Ishigami: sin x1 + a sin^2 x2 + b x3^4 sin x1, inputs in [-pi, pi]^3 (rows x 3)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, tuple[float, ...]]:
    """Analytic first-order (``S1``) and total (``ST``) indices of ``ishigami``."""
    pi4, pi8 = math.pi**4, math.pi**8
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi8 * 8 / 225  # b^2 pi^8 (1/18 - 1/50)
    v = v1 + v2 + v13
    return {"S1": (v1 / v, v2 / v, 0.0), "ST": ((v1 + v13) / v, v2 / v, v13 / v)}


# --------------------------------------------------------------------------- Sobol G


def sobol_g(x: Any, a: Any) -> Any:
    """Sobol's G function: prod (|4 x_i - 2| + a_i) / (1 + a_i), inputs in [0, 1]^D."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    a = np.asarray(a, dtype=np.float64)
    return np.prod((np.abs(4.0 * x - 2.0) + a) / (1.0 + a), axis=1)


def sobol_g_indices(a: Any) -> dict[str, tuple[float, ...]]:
    """Analytic ``S1`` and ``ST`` of ``sobol_g``: small a_i, important input."""
    vi = np.array([1.0 / (3.0 * (1.0 + ai) ** 2) for ai in a])
    v = float(np.prod(1.0 + vi) - 1.0)
    st = [float(vi[i] * np.prod(np.delete(1.0 + vi, i)) / v) for i in range(len(vi))]
    return {"S1": tuple(float(s) for s in vi / v), "ST": tuple(st)}


# --------------------------------------------------------------------------- linear


def linear(x: Any, coefficients: Any, intercept: float = 0.0) -> Any:
    """intercept + sum_i c_i x_i (rows x D)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    return intercept + x @ np.asarray(coefficients, dtype=np.float64)


def linear_main_effect(coefficient: float, value: Any, mean: float) -> Any:
    """The exact main effect of one input of ``linear`` at ``value``: E[y | x_i] - E[y]."""
    return coefficient * (np.asarray(value, dtype=np.float64) - mean)


# --------------------------------------------------------------------------- over time


def mixture(x1: Any, x2: Any, steps: int) -> Any:
    """y_t = (1 - w_t) x1 + w_t x2 with w_t = t / (steps - 1): x1 drives the start,
    x2 the end (rows x steps)."""
    w = np.linspace(0.0, 1.0, steps)
    return (
        np.outer(1.0 - w, np.asarray(x1, dtype=np.float64)).T
        + np.outer(w, np.asarray(x2, dtype=np.float64)).T
    )


def mixture_s1(steps: int) -> tuple[Any, Any]:
    """Analytic S1 of x1 and of x2 in ``mixture`` at every step, for x1 and x2
    independent with the same variance (first-order = total: no interaction)."""
    w = np.linspace(0.0, 1.0, steps)
    total = (1.0 - w) ** 2 + w**2
    return (1.0 - w) ** 2 / total, w**2 / total


# --------------------------------------------------------------------------- runners


def _inputs(scenario: Any) -> tuple[float, float, float]:
    p = scenario.focal.platform
    return float(p.density), float(p.strength), float(p.coverage)


def ishigami_runner(scenario: Any, seed: int, steps: int) -> tuple[dict[str, Any], None]:
    """Ishigami (a = 7, b = 0.1) of the three platform fields mapped to [-pi, pi],
    and ``x1_only`` = sin(x1), which depends on density alone (S1 = ST = 1)."""
    x = [math.pi * (2.0 * v - 1.0) for v in _inputs(scenario)]
    y = float(ishigami(np.array([x]))[0])
    return {"ishigami": y, "x1_only": math.sin(x[0]), "seed": seed, "steps": steps}, None


#: The G function's a_i of ``sobol_g_runner``: density matters most, coverage least.
SOBOL_G_A = (0.0, 1.0, 9.0)


def sobol_g_runner(scenario: Any, seed: int, steps: int) -> tuple[dict[str, Any], None]:
    """Sobol-G with a = ``SOBOL_G_A`` of the three platform fields."""
    y = float(sobol_g(np.array([_inputs(scenario)]), SOBOL_G_A)[0])
    return {"sobol_g": y, "seed": seed, "steps": steps}, None


#: Slopes of ``linear_runner`` on density, strength and coverage.
LINEAR_COEFFICIENTS = (2.0, -3.0, 0.5)


def linear_runner(scenario: Any, seed: int, steps: int) -> tuple[dict[str, Any], Any]:
    """``linear`` = 1 + 2 density - 3 strength + 0.5 coverage, plus ``noisy``: the same
    with a N(0, 0.1) error drawn from the run's seed (replications then differ), and
    the time series ``mix`` of ``mixture`` (density early, strength late)."""
    import pandas as pd

    x = _inputs(scenario)
    y = float(linear(np.array([x]), LINEAR_COEFFICIENTS, 1.0)[0])
    # The error depends on the point too: replications share their seeds across points.
    point = [int(round(v * 1e9)) for v in x]
    noise = float(np.random.default_rng([seed % 2**63, *point]).normal(0.0, 0.1))
    n = max(int(steps), 2)
    ts = pd.DataFrame({"step": np.arange(n), "mix": mixture([x[0]], [x[1]], n)[0]})
    return {"linear": y, "noisy": y + noise, "seed": seed, "steps": steps}, ts
