"""Closed-form diffusion curves and their least-squares fits: the calibration's start.

``bass_cdf`` is the Bass (1969) adopter share F(t) = (1 - e^{-(p+q)t}) /
(1 + (q/p) e^{-(p+q)t}); ``bass_discrete`` the recursion F(n+1) = F(n) + (1 - F(n))
(p + q F(n)) that demandsim's ``bass-check`` reduction follows step by step;
``norton_bass`` the Norton–Bass (1987) cumulative adopters of successive
generations, where generation g+1 (introduced at ``tau[g]``) draws adopters from
the potential of the earlier ones. ``fit_bass`` and ``fit_norton_bass`` fit them
by least squares (``scipy.optimize.least_squares``) to observed cumulative
adopters; ``fit_bass`` maps the fitted p and q to the model's
``focal.platform.density`` and ``wom.q`` (a homogeneous platform with coverage and
strength near 1 contacts a share p of customers a step; each adopter persuades
with probability q per step under mean-field mixing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Bounds of the fitted coefficients (per step).
P_BOUNDS = (1e-5, 0.99)
Q_BOUNDS = (0.0, 3.0)


def bass_cdf(t: np.ndarray | float, p: float, q: float) -> np.ndarray:
    """The continuous Bass adopter share at time(s) ``t`` (0 before t = 0)."""
    t = np.maximum(np.asarray(t, dtype=float), 0.0)
    e = np.exp(-(p + q) * t)
    return np.asarray((1.0 - e) / (1.0 + (q / p) * e))


def bass_discrete(p: float, q: float, steps: int, f0: float = 0.0) -> np.ndarray:
    """The discrete Bass recursion F(0) = f0, ..., F(steps) (length ``steps + 1``)."""
    f = np.empty(steps + 1)
    f[0] = f0
    for n in range(steps):
        f[n + 1] = f[n] + (1.0 - f[n]) * min(1.0, p + q * f[n])
    return f


def norton_bass(
    t: np.ndarray, p: float, q: float, m: Sequence[float] | np.ndarray, tau: Sequence[float]
) -> np.ndarray:
    """Norton–Bass (1987) cumulative adopters of each generation at times ``t``.

    Generation g (g = 0 .. G-1) is introduced at ``tau[g]`` (``tau[0]`` is usually 0)
    with incremental potential ``m[g]``; every generation shares p and q. With
    F_g = ``bass_cdf(t - tau[g])``, generation g's cumulative adopters are
    F_g (m_g + A_{g-1}) (1 - F_{g+1}), where A_{g-1} = F_{g-1} (m_{g-1} + A_{g-2}) is
    what the earlier generations built, all of which the new one substitutes.

    Returns:
        An array of shape (G, len(t)).
    """
    t = np.asarray(t, dtype=float)
    fs = [bass_cdf(t - tau[g], p, q) * (t >= tau[g]) for g in range(len(m))]
    return _generations(fs, m)


def norton_bass_discrete(
    p: float | Sequence[float],
    q: float | Sequence[float],
    m: Sequence[float] | np.ndarray,
    tau: Sequence[int],
    steps: int,
) -> np.ndarray:
    """Norton–Bass cumulative adopters of each generation at steps 0 .. ``steps``, with
    each F_g the discrete Bass recursion started at step ``tau[g]`` (F_g = 0 before):
    the curves demandsim's ``norton-bass-check`` reduction follows. ``p`` and ``q`` are
    common to every generation, or one per generation (the generalisation Norton and
    Bass allow and the two-clock rule of ``sim.generations`` follows).

    Returns:
        An array of shape (G, steps + 1).
    """
    t = np.arange(steps + 1)
    ps, qs = np.broadcast_to(p, len(m)), np.broadcast_to(q, len(m))
    fs = []
    for g in range(len(m)):
        f = bass_discrete(float(ps[g]), float(qs[g]), steps)
        fs.append(np.where(t >= tau[g], f[np.clip(t - tau[g], 0, steps)], 0.0))
    return _generations(fs, m)


def _generations(fs: list[np.ndarray], m: Sequence[float] | np.ndarray) -> np.ndarray:
    """Compose each generation's Bass share F_g into the Norton–Bass adopters."""
    g_count = len(m)
    out = np.empty((g_count, len(fs[0])))
    pool = np.zeros(len(fs[0]))  # A_{g-1}: the potential passed on by earlier generations
    for g in range(g_count):
        reach = fs[g] * (m[g] + pool)
        nxt = fs[g + 1] if g + 1 < g_count else 0.0
        out[g] = reach * (1.0 - nxt)
        pool = reach
    return out


@dataclass(frozen=True)
class BassFit:
    """A least-squares Bass fit: coefficients per step, market potential, residual RMS."""

    p: float
    q: float
    m: float
    rmse: float

    def overrides(self, steps_per_year: int = 52) -> dict[str, float]:
        """The model fields the fit maps to (a homogeneous platform's density, wom.q)."""
        return model_fields(self.p, self.q, steps_per_year)


def model_fields(p: float, q: float, steps_per_year: int = 52) -> dict[str, float]:
    """Bass coefficients per step as the model's fields, which are per week
    (``sim.calendar``): the contact density p per step is p / k a week, and the
    chance q per step is 1 - (1 - q)^(1/k) a week, for steps of k weeks."""
    k = 52 / steps_per_year
    q = min(q, 1.0)
    return {
        "focal.platform.density": float(np.clip(p / k, 1e-4, 1.0)),
        "wom.q": float(np.clip(q if k == 1 else -np.expm1(np.log1p(-q) / k), 0.0, 1.0)),
    }


def fit_bass(adopters: Sequence[float], m: float | None = None, discrete: bool = True) -> BassFit:
    """Fit p, q (and m unless given) to cumulative adopters observed at steps 0, 1, ...

    Args:
        adopters: cumulative adopters per step, starting at step 0.
        m: the market potential when known (e.g. the customers in the scenario);
            fitted when None.
        discrete: fit the discrete recursion (demandsim's steps) rather than the
            continuous curve.
    """
    from scipy.optimize import least_squares

    y = np.asarray(adopters, dtype=float)
    steps = len(y) - 1
    scale = max(float(y.max()), 1.0)
    f0 = float(y[0])
    t = np.arange(len(y), dtype=float)

    def curve(p: float, q: float, mm: float) -> np.ndarray:
        if discrete:
            return mm * bass_discrete(p, q, steps, f0 / mm if mm > 0 else 0.0)
        return f0 + (mm - f0) * bass_cdf(t, p, q)

    def resid(x: np.ndarray) -> np.ndarray:
        mm = m if m is not None else x[2] * scale
        return (curve(x[0], x[1], mm) - y) / scale

    best = None
    for p0, q0 in ((0.01, 0.1), (0.03, 0.4), (0.003, 0.8)):
        x0 = [p0, q0] + ([] if m is not None else [1.2])
        lo = [P_BOUNDS[0], Q_BOUNDS[0]] + ([] if m is not None else [1.0])
        hi = [P_BOUNDS[1], Q_BOUNDS[1]] + ([] if m is not None else [100.0])
        res = least_squares(resid, x0, bounds=(lo, hi), method="trf")
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    x = best.x
    mm = float(m if m is not None else x[2] * scale)
    rmse = float(np.sqrt(np.mean((curve(x[0], x[1], mm) - y) ** 2)))
    return BassFit(p=float(x[0]), q=float(x[1]), m=mm, rmse=rmse)


@dataclass(frozen=True)
class NortonBassFit:
    """A least-squares Norton–Bass fit: shared p, q and each generation's potential."""

    p: float
    q: float
    m: tuple[float, ...]
    rmse: float

    def overrides(self, steps_per_year: int = 52) -> dict[str, float]:
        """The model fields the shared p and q map to, as ``BassFit.overrides``."""
        return model_fields(self.p, self.q, steps_per_year)


def fit_norton_bass(
    t: Sequence[float], adopters: np.ndarray, tau: Sequence[float], discrete: bool = False
) -> NortonBassFit:
    """Fit p, q and every m_g to cumulative adopters by generation (shape (G, T)),
    generation g introduced at ``tau[g]``; ``discrete``: the discrete recursions at
    steps 0, 1, ... (demandsim's steps, ``t`` then being those steps)."""
    from scipy.optimize import least_squares

    y = np.asarray(adopters, dtype=float)
    tt = np.asarray(t, dtype=float)
    g_count = y.shape[0]
    scale = max(float(y.max()), 1.0)

    def curve(x: np.ndarray) -> np.ndarray:
        m = x[2:] * scale
        if discrete:
            return norton_bass_discrete(x[0], x[1], m, [int(v) for v in tau], len(tt) - 1)
        return norton_bass(tt, x[0], x[1], m, tau)

    def resid(x: np.ndarray) -> np.ndarray:
        return ((curve(x) - y) / scale).ravel()

    best = None
    for p0, q0 in ((0.01, 0.1), (0.03, 0.4), (0.003, 0.8)):
        x0 = [p0, q0, *([1.0] * g_count)]
        lo = [P_BOUNDS[0], Q_BOUNDS[0], *([0.0] * g_count)]
        hi = [P_BOUNDS[1], Q_BOUNDS[1], *([100.0] * g_count)]
        res = least_squares(resid, x0, bounds=(lo, hi), method="trf")
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    x = best.x
    fitted = curve(x)
    return NortonBassFit(
        p=float(x[0]),
        q=float(x[1]),
        m=tuple(float(v) for v in x[2:] * scale),
        rmse=float(np.sqrt(np.mean((fitted - y) ** 2))),
    )
