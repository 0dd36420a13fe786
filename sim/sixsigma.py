"""Six-sigma quality measures for marketing: DPMO, the shifted sigma level and the
level the counts support, first-pass yield and rolled throughput yield (seed 000;
docs/model.md §7.15).

The sigma level uses the conventional 1.5-sigma long-term shift:
sigma = Phi^-1(1 - DPMO / 10^6) + 1.5, so 3.4 DPMO is 6 sigma (shifted),
6,210 is 4 and 66,807 is 3. A count of defects is a sample: d defects in n
opportunities support a level only up to the one-sided lower confidence bound
(Clopper–Pearson on the defect rate). Zero defects give no point estimate (the
rate's estimate 0 is +inf sigma), only that bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

# scipy.special, not scipy.stats: the normal tail is ``ndtr`` (what ``scipy.stats.norm.sf``
# computes, bit for bit), and importing scipy.stats costs about 0.9 s of every run's
# start-up (docs/performance.md, "Start-up of a run")
from scipy.special import betaincinv, ndtr, ndtri

SHIFT = 1.5
#: Cap of the conversion ``sigma_level`` (0 DPMO would be +inf sigma); no measured
#: level is reported at it: zero defects give ``sigma_point`` NaN and a bound.
MAX_SIGMA = 7.5
#: Confidence of the one-sided lower bound every output reports beside a sigma level.
CONFIDENCE = 0.95


def dpmo(defects: float, opportunities: float) -> float:
    """Defects per million opportunities (NaN when there was no opportunity)."""
    if opportunities < 0 or defects < 0:
        raise ValueError(f"{defects=} and {opportunities=} must be non-negative")
    if opportunities == 0:
        return math.nan
    if defects > opportunities:
        raise ValueError(f"{defects=} must not exceed {opportunities=}")
    return defects / opportunities * 1e6


def sigma_level(dpmo_value: float, shift: float = SHIFT) -> float:
    """Shifted sigma level of a DPMO figure: Phi^-1(1 - DPMO/1e6) + shift.

    0 DPMO is capped at ``MAX_SIGMA``; NaN stays NaN.
    """
    if dpmo_value != dpmo_value:
        return math.nan
    if not 0 <= dpmo_value <= 1e6:
        raise ValueError(f"{dpmo_value=} must be in [0, 1e6]")
    if dpmo_value == 0:
        return MAX_SIGMA
    return float(min(MAX_SIGMA, float(ndtri(1.0 - dpmo_value / 1e6)) + shift))


def sigma_point(defects: float, opportunities: float) -> float:
    """The sigma level d defects in n opportunities estimate: NaN when there was no
    opportunity or no defect (zero defects estimate no level; ``sigma_lower`` says what
    they support)."""
    if defects == 0:
        return math.nan
    return sigma_level(dpmo(defects, opportunities))


def sigma_lower(defects: float, opportunities: float, confidence: float = CONFIDENCE) -> float:
    """One-sided lower confidence bound of the shifted sigma level of d defects in n
    opportunities: the Clopper–Pearson upper bound of the defect rate
    (Clopper & Pearson 1934), turned into a sigma level.

    With d = 0 the rate's bound is 1 - (1 - confidence)^(1/n), so 0 defects in 16,130
    opportunities support 5.1 sigma at 95%, not the cap. NaN without opportunities;
    -inf when every opportunity was a defect.
    """
    if opportunities < 0 or defects < 0:
        raise ValueError(f"{defects=} and {opportunities=} must be non-negative")
    if not 0 < confidence < 1:
        raise ValueError(f"{confidence=} must be in (0, 1)")
    if opportunities == 0:
        return math.nan
    if defects >= opportunities:
        return sigma_level(1e6)
    upper = float(betaincinv(defects + 1, opportunities - defects, confidence))
    return sigma_level(min(1.0, upper) * 1e6)


def sigma_measures(defects: float, opportunities: float) -> dict[str, float]:
    """``sigma_level`` (the point, NaN at zero defects) and ``sigma_level_lower`` (its
    one-sided 95% bound) of d defects in n opportunities: the pair every output holds."""
    return {
        "sigma_level": sigma_point(defects, opportunities),
        "sigma_level_lower": sigma_lower(defects, opportunities),
    }


def pooled_sigma_measures(counts: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """``sigma_measures`` of the defects and opportunities of several runs (or of one
    link over several runs) pooled, with the pooled counts: what replications
    together support, rather than a mean of levels that drops the zero-defect runs."""
    d = n = 0.0
    for c in counts:
        d += float(c["defects"])
        n += float(c["opportunities"])
    return {"defects": d, "opportunities": n, **sigma_measures(d, n)}


def dpmo_from_sigma(sigma: float, shift: float = SHIFT) -> float:
    """Inverse of ``sigma_level``: the DPMO a shifted sigma level stands for."""
    return float(ndtr(-(sigma - shift)) * 1e6)


def opportunities_to_show(sigma: float, confidence: float = CONFIDENCE) -> float:
    """Defect-free opportunities it takes for ``sigma_lower`` to reach a shifted sigma
    level: the smallest n with 1 - (1 - confidence)^(1/n) at most the level's defect
    rate (docs/model.md §7.15); about 880,000 for 6 sigma at 95%, 680,000 at 90%."""
    if not 0 < confidence < 1:
        raise ValueError(f"{confidence=} must be in (0, 1)")
    rate = dpmo_from_sigma(sigma) / 1e6
    if rate >= 1:
        return 1.0
    return float(math.ceil(math.log(1 - confidence) / math.log1p(-rate)))


def first_pass_yield(defects: float, opportunities: float) -> float:
    """Share of opportunities that passed a step without a defect (NaN if none)."""
    if opportunities == 0:
        return math.nan
    return 1.0 - defects / opportunities


def rolled_throughput_yield(yields: Iterable[float]) -> float:
    """RTY = product of the first-pass yields of the chain's links (NaN links skipped)."""
    out = 1.0
    for y in yields:
        if y == y:
            out *= y
    return out
