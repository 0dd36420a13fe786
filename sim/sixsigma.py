"""Six-sigma quality measures for marketing: DPMO, the shifted sigma level,
first-pass yield and rolled throughput yield (seed 000; docs/model.md §7.15).

The sigma level uses the conventional 1.5-sigma long-term shift:
sigma = Phi^-1(1 - DPMO / 10^6) + 1.5, so 3.4 DPMO is 6 sigma (shifted),
6,210 is 4 and 66,807 is 3.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from scipy.special import ndtri
from scipy.stats import norm

SHIFT = 1.5
#: Cap for a process with no defect at all (0 DPMO would be +inf sigma).
MAX_SIGMA = 7.5


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


def dpmo_from_sigma(sigma: float, shift: float = SHIFT) -> float:
    """Inverse of ``sigma_level``: the DPMO a shifted sigma level stands for."""
    return float(norm.sf(sigma - shift) * 1e6)


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
