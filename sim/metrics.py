"""Marketing density and defects (DESIGN §2), and the strategic-contraction rule.

An opportunity is a (customer, category) need that, by the focal firm's standard,
should be marketed: it opens when the need becomes active and closes when it is
served (by anyone) or lapses. It was effectively marketed if, while it was open,
the firm's contact carried a matching offer (a product at the desired tier)
through the contact links. Any other closing is a defect: of *exclusion* when the
customer is not in the platform, of *omission* when it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from sim.scenario import Contraction
from sim.state import ACTIVE, CustomerState

if TYPE_CHECKING:
    from sim.firms import FirmAgent


class OpportunityLedger:
    """Open opportunities and the counts of how they closed."""

    def __init__(self, n: int, n_categories: int) -> None:
        self.open_m = np.zeros((n, n_categories), dtype=bool)
        self.effective = np.zeros((n, n_categories), dtype=bool)
        #: the first opening and closing look at every need; after that only at the
        #: needs that changed
        self.full = True
        self.opportunities_total = 0
        self.effective_total = 0
        self.defects_total = 0
        self.exclusion_total = 0
        self.omission_total = 0
        self.step_opportunities = 0
        self.step_defects = 0
        self.step_exclusion = 0
        self.step_omission = 0

    @staticmethod
    def _where(state: CustomerState, focal: FirmAgent) -> tuple[np.ndarray, ...]:
        """What the passes need to tell whether the focal firm should market a need:
        the needs, tiers and segments, and the standard's cells and segments."""
        return state.need, state.tier, state.segment, focal.std_cells, focal.std_segments

    def open_step(
        self, state: CustomerState, focal: FirmAgent, became_active: list[np.ndarray]
    ) -> None:
        """Open an opportunity wherever the focal firm should market and none is open.

        ``became_active``: the needs that became active this step. Once the ledger has
        looked at every need (the first step), only these can open one."""
        _open_kernel(
            np.concatenate(became_active),
            self.full,
            self._where(state, focal),
            self.open_m,
            self.effective,
        )

    def close_step(
        self,
        state: CustomerState,
        focal: FirmAgent,
        offered_at: np.ndarray,
        left: list[np.ndarray],
    ) -> None:
        """Mark the opportunities the focal firm's offers (``offered_at``) reached with a
        product at the desired tier, then close those that should no longer be open,
        and count them.

        ``left``: the needs that stopped being active this step (lapsed or sold); an
        opportunity is open only while its need is active, so once the ledger has looked
        at every need, only these can close one."""
        assert focal.records is not None
        closed = _close_kernel(
            offered_at,
            np.concatenate(left),
            self.full,
            self._where(state, focal),
            focal.has,
            focal.records.covered,
            self.open_m,
            self.effective,
        )
        self.full = False
        self.count_closed(*(int(x) for x in closed))

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


@njit(inline="always")
def _should(j, C, T, nf, tf, std, std_segments, segment):  # type: ignore[no-untyped-def]
    """Whether the focal firm should market flat position ``j``: an active need in
    the focal firm's standard (cell and segment). ``where`` of the ledger passes holds
    the state's need, tier and segment arrays and the standard's (C, T) cells and (S,)
    segments."""
    i = j // C
    c = j - i * C
    return (nf[j] == ACTIVE) & std[c * T + tf[j]] & std_segments[segment[i]]


@njit(inline="always")
def _flat(where):  # type: ignore[no-untyped-def]
    """The ``where`` of the ledger passes as what ``_should`` reads: (C, T, flat needs,
    flat tiers, flat standard cells, standard segments, segments)."""
    need, tier, segment, std_cells, std_segments = where
    return (
        need.shape[1],
        std_cells.shape[1],
        need.reshape(-1),
        tier.reshape(-1),
        std_cells.reshape(-1),
        std_segments,
        segment,
    )


@njit(cache=True, nogil=True)
def _open_kernel(
    pos: np.ndarray,  # flat positions that may have to open (every position if ``full``)
    full: bool,
    where: tuple,  # (need, tier, segment, std_cells, std_segments): see ``_should``
    open_m: np.ndarray,  # (N, C) bool, changed in place
    effective: np.ndarray,  # (N, C) bool, changed in place
) -> None:
    """Open an opportunity at the given positions: every position the first
    time; after that the ledger holds every should-market position, and only needs
    that became active since can open an opportunity."""
    C, T, nf, tf, std, std_segments, segment = _flat(where)
    of = open_m.reshape(-1)
    ef = effective.reshape(-1)
    for r in range(nf.size if full else pos.size):
        j = r if full else pos[r]
        if _should(j, C, T, nf, tf, std, std_segments, segment) and not of[j]:
            of[j] = True
            ef[j] = False


@njit(cache=True, nogil=True)
def _close_kernel(
    offered_at: np.ndarray,  # flat positions the focal firm's offers reached this step
    pos: np.ndarray,  # flat positions that may have to close (every position if ``full``)
    full: bool,
    where: tuple,  # (need, tier, segment, std_cells, std_segments): see ``_should``
    has: np.ndarray,  # (C, T) bool: the focal firm's portfolio
    covered: np.ndarray,  # (N,) bool: in the focal platform
    open_m: np.ndarray,
    effective: np.ndarray,
) -> tuple[int, int, int]:
    """Mark effective the opportunities whose offers match the desired tier exactly,
    then close at the given positions: every position the first time; after that an
    opportunity is open only while its need is active, and only needs that stopped
    being active (lapsed or sold) can close one. Returns (closed, closed effectively,
    closed as exclusion defects)."""
    C, T, nf, tf, std, std_segments, segment = _flat(where)
    of = open_m.reshape(-1)
    ef = effective.reshape(-1)
    cells = has.reshape(-1)
    for r in range(offered_at.size):
        j = offered_at[r]
        ef[j] = ef[j] | (of[j] & cells[(j % C) * T + tf[j]])
    n_close = 0
    n_eff = 0
    n_excl = 0
    for r in range(nf.size if full else pos.size):
        j = r if full else pos[r]
        if of[j] and not _should(j, C, T, nf, tf, std, std_segments, segment):
            e = ef[j]
            n_close += 1
            n_eff += e
            n_excl += (~e) & (~covered[j // C])
            of[j] = False
            ef[j] = False
    return n_close, n_eff, n_excl
