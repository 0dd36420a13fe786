"""Marketing density and defects (DESIGN §2), and the strategic-contraction rule.

An opportunity is a (customer, category) need that, by the focal firm's standard,
should be marketed: it opens when the need becomes active and closes when it is
served (by anyone) or lapses. It was effectively marketed if, while it was open,
the firm's contact carried a matching offer (a product at the desired tier)
through the contact links. Any other closing is a defect: of *exclusion* when the
customer is not in the platform, of *omission* when it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.scenario import Contraction


class OpportunityLedger:
    """Open opportunities and the counts of how they closed."""

    def __init__(self, n: int, n_categories: int) -> None:
        self.open_m = np.zeros((n, n_categories), dtype=bool)
        self.effective = np.zeros((n, n_categories), dtype=bool)
        self.opportunities_total = 0
        self.effective_total = 0
        self.defects_total = 0
        self.exclusion_total = 0
        self.omission_total = 0
        self.step_opportunities = 0
        self.step_defects = 0
        self.step_exclusion = 0
        self.step_omission = 0

    def open(self, should: np.ndarray) -> None:
        """Open an opportunity wherever one should exist and none is open."""
        new = should & ~self.open_m
        self.open_m |= new
        self.effective &= ~new

    def mark_effective(self, offered_matching: np.ndarray) -> None:
        self.effective |= offered_matching & self.open_m

    def close(self, should: np.ndarray, covered: np.ndarray) -> None:
        """Close the opportunities that no longer should be open, and count them."""
        # few opportunities close in a step: count them at their flat positions
        closing = np.flatnonzero(self.open_m & ~should)
        was_effective = self.effective.reshape(-1)[closing]
        uncovered = ~covered[closing // self.open_m.shape[1]]
        self.count_closed(
            int(closing.size),
            int(np.count_nonzero(was_effective)),
            int(np.count_nonzero(~was_effective & uncovered)),
        )
        np.put(self.open_m, closing, False)
        np.put(self.effective, closing, False)

    def count_closed(self, n_close: int, eff: int, excl: int) -> None:
        """Book this step's closed opportunities: ``eff`` effectively marketed, ``excl``
        exclusion defects (the customer outside the platform), the rest omissions."""
        n_def = n_close - eff
        self.step_opportunities = n_close
        self.step_defects = n_def
        self.step_exclusion = excl
        self.step_omission = n_def - excl
        self.opportunities_total += n_close
        self.effective_total += eff
        self.defects_total += n_def
        self.exclusion_total += excl
        self.omission_total += n_def - excl


def contraction_update(cs: dict[str, Any], weighted: float, now: int, rule: Contraction) -> None:
    """Strategic contraction: alignment-weighted served demand at least ``drop`` below
    its trailing peak for ``consecutive_steps`` steps; the onset is the streak's first step."""
    cs["peak"] = max(cs["peak"], weighted)
    if weighted < (1.0 - rule.drop) * cs["peak"]:
        cs["streak"] += 1
    else:
        cs["streak"] = 0
    cs["active"] = cs["streak"] >= rule.consecutive_steps
    if cs["active"] and cs["onset"] is None:
        cs["onset"] = now - rule.consecutive_steps + 1
