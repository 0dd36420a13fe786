"""The calibration's acceptance distance, with the data's own noise in it.

Good fits are an ABC acceptance region (Pritchard et al. 1999; Beaumont 2010): the
candidates whose mean curve is within ``eps`` of the observed series. ``eps`` is the
``confidence`` quantile of how far a market the model would make at the best fit,
*as it would be measured*, falls from the model's mean: fresh replications at the
best fit (the model's own noise, one market against the mean of many) with an
observation noise on top. Real series scatter around any smooth curve by more than
one simulated market does (reporting, seasons, shipments against purchases), so
without that noise a real series is farther from every candidate than any fresh
market and the region shrinks to the best fit alone.

The observation noise is multiplicative, a coefficient of variation ``sigma``: each
period's value (for cumulative columns, ``adopters`` and ``adopters_<category>``,
each period's increment, then summed again) times exp(sigma z - sigma^2 / 2), z
standard normal. ``sigma`` is estimated from the residual scatter: the smallest
noise at which the best fit's distance to the data (scaled up by n / (n - k) in
squares, for the k fields the fit used up on n observed values) is no more than the
median distance of noisy fresh markets; zero when the data are no noisier than the
model. Noise draws are addressed by (seed, replication, draw), so a calibration
stopped and run again draws the same ones.

The interval of a field is the range of its good fits (the region projected on the
field), and rests on the number of good fits: fewer than ``MIN_ACCEPTED`` are warned
about in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# Noise draws per fresh replication: 12 replications x 8 draws make the quantile.
NOISE_DRAWS = 8

# Bounds of the estimated noise (a coefficient of variation).
SIGMA_MAX = 2.0

# Good fits below which an interval is warned about: n points scattered uniformly in
# an interval span (n - 1) / (n + 1) of it on average, under 82% below 10.
MIN_ACCEPTED = 10


def is_cumulative(column: str) -> bool:
    """Whether a column counts customers so far (its noise is on its increments)."""
    return column == "adopters" or column.startswith("adopters_")


def noise_draws(seed: int, reps: int, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal draws for the noisy fresh markets, shape (reps, NOISE_DRAWS,
    *shape), replication r's from the stream (seed, r)."""
    return np.array(
        [
            np.random.default_rng([seed, 7919, r]).standard_normal((NOISE_DRAWS, *shape))
            for r in range(reps)
        ]
    )


def with_noise(
    curves: np.ndarray, columns: Sequence[str], sigma: float, z: np.ndarray
) -> np.ndarray:
    """Curves (reps, columns, T) measured with multiplicative noise ``sigma``: shape
    (reps, NOISE_DRAWS, columns, T), with ``z`` from ``noise_draws``."""
    factor = np.exp(sigma * z - sigma**2 / 2)
    out = np.repeat(curves[:, None], z.shape[1], axis=1)
    for i, c in enumerate(columns):
        if is_cumulative(c):
            level = np.nan_to_num(out[..., i, :])
            step = np.diff(level, axis=-1, prepend=0.0) * factor[..., i, :]
            out[..., i, :] = np.where(
                np.isnan(curves[:, None, i]), np.nan, np.cumsum(step, axis=-1)
            )
        else:
            out[..., i, :] = out[..., i, :] * factor[..., i, :]
    return out


def noisy_distances(
    fresh: np.ndarray,
    mean: np.ndarray,
    columns: Sequence[str],
    sigma: float,
    z: np.ndarray,
    distance: Callable[[np.ndarray, np.ndarray], float],
) -> np.ndarray:
    """How far each noisy fresh market falls from ``mean``: a flat array."""
    noisy = with_noise(fresh, columns, sigma, z)
    return np.array([distance(m, mean) for m in noisy.reshape(-1, *noisy.shape[2:])])


def estimate_noise(
    fresh: np.ndarray,
    mean: np.ndarray,
    columns: Sequence[str],
    d_best: float,
    n_fitted: int,
    n_observed: int,
    z: np.ndarray,
    distance: Callable[[np.ndarray, np.ndarray], float],
) -> float:
    """The observation noise the data show beyond the model's: the sigma at which the
    median noisy fresh market is as far from ``mean`` as the data are from the best
    fit (``d_best``, scaled up for the ``n_fitted`` fields fitted to ``n_observed``
    values); found by bisection, 0 when the model's noise alone is as large."""
    target = d_best * np.sqrt(n_observed / max(n_observed - n_fitted, 1))

    def gap(sigma: float) -> float:
        return float(np.median(noisy_distances(fresh, mean, columns, sigma, z, distance)))

    if gap(0.0) >= target:
        return 0.0
    if gap(SIGMA_MAX) <= target:
        return SIGMA_MAX
    lo, hi = 0.0, SIGMA_MAX
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gap(mid) < target else (lo, mid)
    return hi


def too_few_warning(accepted: int, level: float) -> str | None:
    """One line when the intervals rest on too few good fits, else None."""
    if accepted >= MIN_ACCEPTED:
        return None
    return (
        f"warning: the {level:.0%} intervals rest on {accepted} good fit"
        f"{'' if accepted == 1 else 's'} (fewer than {MIN_ACCEPTED}); "
        "raise trials or refine and run again"
    )
