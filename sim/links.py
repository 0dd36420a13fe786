"""The arithmetic of the value-transfer chain's links (seed 000; docs/model.md §7.7),
shared by the platform's contact links and the choice's sale and after-sale links: how a link
fails more under load, and how one uniform runs through consecutive links.

A module of its own so that a rule's kernels depend on it alone, not on each other's
modules: an edit to the platform does not recompile the choice.
"""

from __future__ import annotations

from numba import njit


@njit(inline="always")
def overload_rate(rate, load, capacity):  # type: ignore[no-untyped-def]
    """A process link's defect rate under load: its base ``rate``, and above
    ``capacity`` (per step; 0 = unlimited) the share of the load beyond it fails too."""
    if capacity <= 0.0 or load <= capacity:
        return rate
    return rate + (1.0 - rate) * (1.0 - capacity / load)


@njit(inline="always")
def band_edge(lo, rate):  # type: ignore[no-untyped-def]
    """The upper edge of the band in which one uniform fails the next of consecutive
    chain links: the links before fail below ``lo``, this one fails with ``rate`` of
    what passed them."""
    return lo + (1.0 - lo) * rate
