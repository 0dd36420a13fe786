"""The alternative the calibration was measured against: a likelihood with a
dispersion parameter, computed from the candidates a calibration keeps in its study
(``benchmarks.calibration_recovery`` reports its coverage beside the ABC rule's).

The observed series is one market, measured with error: around the model's mean
curve mu(theta) it scatters by the model's own noise (one market against the mean of
many, measured by fresh replications at the best fit: variance v_t, plus v_t / R for
the mean of the candidate's R replications) and by the data's own noise, taken as
multiplicative: an observation is mu_t (1 + e_t) with e_t of standard deviation
sigma, one sigma per observed column. So each period is Gaussian with variance
v_t (1 + 1/R) + sigma^2 mu_t^2 (a likelihood with a dispersion parameter). sigma is
not assumed: it is integrated out over a log-uniform prior on [SIGMA_MIN,
SIGMA_MAX] (a grid), so a noisy series widens the intervals by as much as its
residuals say, and a series as short as ten points pays for not knowing sigma well.

Cumulative columns (``adopters``, ``adopters_<category>``) are compared by their
increments (new adopters per period: nearly independent from one period to the next,
which the levels are not), and ``adopters`` is left out when ``sales`` is observed
too (the same information twice).

Candidates are weighted by importance sampling: likelihood times the (uniform) prior
over the density they were proposed from, the search's uniform draws over the
ranges mixed with each refining round's uniform box (a deterministic mixture: the
weights do not depend on which proposal a candidate came from). A TPE search's
proposals are taken as uniform: an approximation. Each field's interval is the
equal-tailed weighted quantile; it rests on the weights' effective sample size
(Kish: (sum w)^2 / sum w^2).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

# The grid over which the observation noise sigma (a coefficient of variation) is
# integrated out: log-uniform from 0.1% to 100%.
SIGMA_MIN, SIGMA_MAX, SIGMA_POINTS = 1e-3, 1.0, 61
SIGMAS = np.geomspace(SIGMA_MIN, SIGMA_MAX, SIGMA_POINTS)


def is_cumulative(column: str) -> bool:
    """Whether a column counts customers so far (compared by its increments)."""
    return column == "adopters" or column.startswith("adopters_")


def likelihood_columns(columns: Sequence[str]) -> list[int]:
    """The observed columns the likelihood reads (``adopters`` is dropped beside
    ``sales``: the same series twice)."""
    return [i for i, c in enumerate(columns) if not (c == "adopters" and "sales" in columns)]


def increments(curves: np.ndarray, columns: Sequence[str]) -> np.ndarray:
    """Curves (..., columns, T) with cumulative columns turned into their increments
    (the first period of those becomes NaN)."""
    out = np.array(curves, dtype=float, copy=True)
    for i, c in enumerate(columns):
        if is_cumulative(c):
            level = out[..., i, :].copy()
            out[..., i, 0] = np.nan
            out[..., i, 1:] = np.diff(level, axis=-1)
    return out


def log_likelihood(
    y: np.ndarray, mu: np.ndarray, base_var: np.ndarray, sigmas: np.ndarray = SIGMAS
) -> np.ndarray:
    """Gaussian log-likelihood of one column ``y`` (T) around candidates' means ``mu``
    (N, T), variance ``base_var`` (T) + sigma^2 mu^2, for each sigma: shape (N, S).
    NaN periods (of ``y`` or ``mu``) are left out."""
    ok = np.isfinite(y)[None, :] & np.isfinite(mu)
    r = np.where(ok, y[None, :] - mu, 0.0)
    m2 = np.where(ok, mu, 0.0) ** 2
    var = base_var[None, None, :] + sigmas[None, :, None] ** 2 * m2[:, None, :]
    terms = np.log(2 * np.pi * var) + r[:, None, :] ** 2 / var
    return -0.5 * np.sum(np.where(ok[:, None, :], terms, 0.0), axis=-1)


def model_variance(fresh: np.ndarray, replications: int) -> np.ndarray:
    """The model's own variance of one market around a candidate's mean of
    ``replications`` runs, per column and period, from fresh runs (reps, columns, T);
    floored at 1% of each column's median variance (a period where every fresh run
    happened to give the same value is not exact)."""
    with warnings.catch_warnings():  # a period no fresh run measured (NaN) has no variance
        warnings.simplefilter("ignore", RuntimeWarning)
        v = np.nanvar(fresh, axis=0, ddof=1) * (1 + 1 / replications)
    floor = np.nan_to_num(np.nanmedian(np.where(v > 0, v, np.nan), axis=-1), nan=1e-12)
    return np.maximum(np.nan_to_num(v, nan=0.0), np.maximum(0.01 * floor, 1e-12)[:, None])


@dataclasses.dataclass(frozen=True)
class Posterior:
    """Importance weights of the candidates and what they say about the noise."""

    weights: np.ndarray  # normalised, one per candidate
    log_likelihood: np.ndarray  # sigma integrated out
    sigma: dict[str, float]  # posterior mean of each column's observation noise
    effective: float  # Kish effective sample size of the weights

    def region(self, level: float) -> np.ndarray:
        """The candidates that make up ``level`` of the posterior (the heaviest first):
        a boolean mask."""
        order = np.argsort(-self.weights, kind="stable")
        mass = np.cumsum(self.weights[order])
        keep = np.zeros(len(self.weights), dtype=bool)
        keep[order[: int(np.searchsorted(mass, level)) + 1]] = True
        return keep


def posterior(
    observed: np.ndarray,
    means: np.ndarray,
    columns: Sequence[str],
    fresh: np.ndarray,
    replications: int,
    log_proposal: np.ndarray,
    sigma: dict[str, float] | None = None,
) -> Posterior:
    """The candidates' posterior weights.

    Args:
        observed: the observed series, shape (columns, T).
        means: each candidate's mean simulated series, shape (N, columns, T).
        columns: the observed columns' names.
        fresh: fresh runs at the best fit, shape (reps, columns, T): the model's noise.
        replications: runs behind each candidate's mean.
        log_proposal: log density each candidate was proposed from (up to a constant).
        sigma: each column's observation noise, when fixed rather than integrated out.
    """
    y = increments(observed, columns)
    mu = increments(means, columns)
    base = model_variance(increments(fresh, columns), replications)
    total = np.zeros(len(means))
    sigma_mean: dict[str, float] = {}
    per_column = []
    for i in likelihood_columns(columns):
        grid = SIGMAS if sigma is None else np.array([sigma[columns[i]]])
        ll = log_likelihood(y[i], mu[:, i], base[i], grid)  # (N, S)
        top = ll.max(axis=1, keepdims=True)
        marginal = top[:, 0] + np.log(np.mean(np.exp(ll - top), axis=1))
        total += marginal
        per_column.append((columns[i], grid, np.exp(ll - top)))
    log_w = total - log_proposal
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    for name, grid, like in per_column:
        # E[sigma] = sum_i w_i E[sigma | theta_i]
        cond = like @ grid / like.sum(axis=1)
        sigma_mean[name] = float(w @ cond)
    return Posterior(
        weights=w,
        log_likelihood=total,
        sigma=sigma_mean,
        effective=float(1.0 / np.sum(w**2)),
    )


def log_proposal(
    points: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    boxes: Sequence[tuple[np.ndarray, np.ndarray, int]],
    n_uniform: int,
) -> np.ndarray:
    """Log density of the deterministic mixture the candidates were drawn from:
    ``n_uniform`` uniform draws over the ranges (``lows``, ``highs``) and, for each
    refining round, its count of uniform draws in its box (low, high, count).

    Args:
        points: the candidates' values of the range fields, shape (N, fields).
    """
    total = n_uniform + sum(n for _, _, n in boxes)
    dens = np.full(len(points), n_uniform / float(np.prod(highs - lows)))
    for lo, hi, n in boxes:
        inside = np.all((points >= lo) & (points <= hi), axis=1)
        dens += inside * n / float(np.prod(np.maximum(hi - lo, 1e-300)))
    return np.log(dens / max(total, 1))


def weighted_interval(values: np.ndarray, weights: np.ndarray, level: float) -> tuple[float, float]:
    """The equal-tailed ``level`` interval of a weighted sample (the inverse of its
    step distribution function at (1 - level)/2 and (1 + level)/2)."""
    order = np.argsort(values, kind="stable")
    v, cdf = values[order], np.cumsum(weights[order])
    cdf /= cdf[-1]
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    lo = v[min(int(np.searchsorted(cdf, lo_q, side="left")), len(v) - 1)]
    hi = v[min(int(np.searchsorted(cdf, hi_q, side="left")), len(v) - 1)]
    return float(lo), float(hi)


def from_json_curve(data: Any) -> np.ndarray:
    """The inverse of ``as_json_curve``."""
    return np.array([[np.nan if x is None else x for x in row] for row in data], dtype=float)


def weigh(
    done: list[Any],
    spec: Any,
    obs: np.ndarray,
    columns: list[str],
    fresh: np.ndarray,
    sigma: dict[str, float] | None = None,
) -> Posterior:
    """The posterior weights of a calibration's finished candidates (optuna trials
    holding their mean curve and, for refining ones, the box they were drawn from)."""
    ranges = [p for p in spec.parameters if p.kind == "range"]
    lows = np.array([p.lo for p in ranges], dtype=float)
    highs = np.array([p.hi for p in ranges], dtype=float)
    boxes: dict[int, list[Any]] = {}
    for t in done:
        if "box" in t.user_attrs:
            boxes.setdefault(t.user_attrs["round"], []).append(t.user_attrs["box"])
    mixture = [
        (
            np.array([b[0][p.name][0] for p in ranges], dtype=float),
            np.array([b[0][p.name][1] for p in ranges], dtype=float),
            len(b),
        )
        for _, b in sorted(boxes.items())
    ]
    points = np.array([[float(t.params[p.name]) for p in ranges] for t in done], dtype=float)
    n_uniform = sum("box" not in t.user_attrs for t in done)
    log_q = log_proposal(points, lows, highs, mixture, n_uniform)
    means = np.array([from_json_curve(t.user_attrs["mean"]) for t in done])
    return posterior(obs, means, columns, fresh, spec.replications, log_q, sigma)
