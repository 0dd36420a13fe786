"""The six-sigma measures under their first public name: ``from sim.quality import
sigma_level, dpmo, rolled_throughput_yield`` keeps working. They live in
``sim.sixsigma``, whose name says what they are."""

from __future__ import annotations

from sim.sixsigma import (
    MAX_SIGMA,
    SHIFT,
    dpmo,
    dpmo_from_sigma,
    first_pass_yield,
    rolled_throughput_yield,
    sigma_level,
)

__all__ = [
    "MAX_SIGMA",
    "SHIFT",
    "dpmo",
    "dpmo_from_sigma",
    "first_pass_yield",
    "rolled_throughput_yield",
    "sigma_level",
]
