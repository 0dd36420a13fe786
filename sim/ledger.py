"""The opportunity ledger: marketing density and defects of the focal firm
(docs/model.md §7.12).

An opportunity (seed 004: potential demand that "theoretically should be effectively
detected and marketed") is a (customer, category) need in the focal firm's standard
that carries potential demand: it opens when the need becomes latent or active (it
emerges, a product fails or wears out, the customer leaves its supplier, moves
upmarket beyond it, or its supplier fails) and lasts while the need stays latent or
active. What marketing it needs is set by marketing practice (seed 004: "need to
carry out ... can be established based on industry marketing rules"): the standard's
response time R. Every opportunity is judged R steps after it opened: effectively
marketed if within those R steps a contact of the firm brought an offer that matched
it (the tier the firm offered, on what its records said, is the tier the customer
wants) through the contact links; a defect if it is still open and was not (of
*exclusion* when the customer is not in the platform, of *omission* when it is); not
counted if the need was met or lapsed sooner without marketing (none was due yet).
Judging every opportunity at the same age keeps the counts unbiased from the first
measured step. docs/model.md gives the rule with the seed's words beside it.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numba import njit

from sim.firms import FirmBook
from sim.jit import kernel
from sim.state import ACTIVE, LATENT, NEVER, CustomerState

#: no positions (no cohort due)
_NONE = np.empty(0, dtype=np.int64)

#: ``OpportunityLedger.flags`` bits
MARKED, CLOSED, JUDGED = 1, 2, 4


class OpportunityLedger:
    """Open opportunities, their judgement at the response time, and the counts."""

    def __init__(self, n: int, n_categories: int) -> None:
        #: the step each opportunity opened (``NEVER``: none); kept until its need
        #: closes and it has been judged
        self.open_t = np.full((n, n_categories), NEVER, dtype=np.int32)
        #: MARKED (a matching offer in time), CLOSED (the need closed before the
        #: judgement), JUDGED (counted)
        self.flags = np.zeros((n, n_categories), dtype=np.int8)
        #: the positions opened at each of the last steps, to judge at their age R
        self.cohorts: deque[tuple[int, np.ndarray]] = deque()
        #: effective opportunities judged early, by the step they are due
        self.deferred: dict[int, int] = {}
        #: the first pass looks at every need; after that only at the needs that changed
        self.full = True
        self.reset_counts()

    def start_at(self, now: int) -> None:
        """Start measuring at step ``now`` (step 0, after the market's history): the
        potential demand open now is dated now (the history's platforms did not
        market), and the counts start afresh."""
        open_ = (self.open_t != NEVER) & ((self.flags & CLOSED) == 0)
        self.open_t[:] = NEVER
        self.open_t[open_] = now
        self.flags[:] = 0
        self.deferred.clear()
        self.cohorts.clear()
        self.cohorts.append((now, np.flatnonzero(open_.reshape(-1))))
        self.reset_counts()

    def reset_counts(self) -> None:
        """Zero the counts."""
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
    def _where(state: CustomerState, focal: FirmBook) -> tuple[np.ndarray, ...]:
        """What the passes need to tell whether the focal firm should market a need:
        the needs, tiers and segments, and the standard's cells and segments."""
        return state.need, state.tier, state.segment, focal.std_cells, focal.std_segments

    def open_step(
        self, state: CustomerState, focal: FirmBook, opened: np.ndarray, now: int
    ) -> None:
        """Open an opportunity wherever the focal firm should market and none is open.

        ``opened``: the needs that became latent or active this step. Once the ledger
        has looked at every need (the first step), only these can open one. A need that
        closed and opened again before its last opportunity was judged has that one
        judged now (it was met or lapsed in time, or marketed)."""
        new, early = _open_kernel(
            opened, self.full, self._where(state, focal), self.open_t, self.flags, now
        )
        self.cohorts.append((now, new))
        # an opportunity marketed in time whose need closed and opened again before it
        # was judged: effective, counted when it is due, as every other
        response = focal.clock.steps(focal.spec.platform.standard.response_weeks, 1)
        for t in early.tolist():
            self.deferred[t + response] = self.deferred.get(t + response, 0) + 1

    def close_step(
        self,
        state: CustomerState,
        focal: FirmBook,
        offered_at: np.ndarray,
        offered: np.ndarray,
        left: np.ndarray,
        now: int,
    ) -> None:
        """Mark the opportunities the focal firm's offers reached at the tier the
        customer wants, within the response time (``offered_at`` positions, ``offered``
        (N, C) tiers); note the needs that closed (``left``: lapsed or sold; once the
        ledger has looked at every need, only these can close one); then judge the
        opportunities opened R steps ago, and count them."""
        assert focal.records is not None
        response = focal.clock.steps(focal.spec.platform.standard.response_weeks, 1)
        counts = np.zeros(3, dtype=np.int64)
        # the cohort due now, judged in the same compiled call (one is due each step
        # once the first R steps are past; any other due are judged after it)
        t, due = -1, _NONE
        if self.cohorts and self.cohorts[0][0] <= now - response:
            t, due = self.cohorts.popleft()
        _close_kernel(
            offered_at, offered, left, self.full, self._where(state, focal), self.open_t,
            self.flags, now, response, due, t, focal.records.covered, counts,
        )  # fmt: skip
        self.full = False
        while self.cohorts and self.cohorts[0][0] <= now - response:
            t, pos = self.cohorts.popleft()
            _judge_kernel(pos, t, self.open_t, self.flags, focal.records.covered, counts)
        eff, excl, omis = counts.tolist()
        self._count(eff + self.deferred.pop(now, 0), excl, omis)

    def _count(self, eff: int, excl: int, omis: int) -> None:
        """Add judged opportunities: effective, of exclusion, of omission."""
        self.step_opportunities = eff + excl + omis
        self.step_defects = excl + omis
        self.step_exclusion = excl
        self.step_omission = omis
        self.opportunities_total += eff + excl + omis
        self.effective_total += eff
        self.defects_total += excl + omis
        self.exclusion_total += excl
        self.omission_total += omis


@njit(inline="always")
def _should(j, C, T, nf, tf, std, std_segments, segment):  # type: ignore[no-untyped-def]
    """Whether the focal firm should market flat position ``j``: a latent or active
    need (potential demand) in the focal firm's standard (cell and segment)."""
    i = j // C
    c = j - i * C
    x = nf[j]
    return ((x == LATENT) | (x == ACTIVE)) & std[c * T + tf[j]] & std_segments[segment[i]]


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


@kernel
def _open_kernel(
    pos: np.ndarray,  # flat positions that may have to open (every position if ``full``)
    full: bool,
    where: tuple,  # (need, tier, segment, std_cells, std_segments): see ``_should``
    open_t: np.ndarray,  # (N, C) int32, changed in place
    flags: np.ndarray,  # (N, C) int8, changed in place
    now: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Open an opportunity at the given positions: every position the first time,
    after that the needs that became latent or active. Returns the positions opened,
    and the opening steps of marketed opportunities whose need had closed and now
    opened again before they were judged (effective, to be counted when due)."""
    C, T, nf, tf, std, std_segments, segment = _flat(where)
    of = open_t.reshape(-1)
    fl = flags.reshape(-1)
    m = nf.size if full else pos.size
    out = np.empty(m, dtype=np.int64)
    early = np.empty(m, dtype=np.int64)
    n_out = 0
    n_early = 0
    for r in range(m):
        j = r if full else pos[r]
        if not _should(j, C, T, nf, tf, std, std_segments, segment):
            continue
        if of[j] != NEVER:
            if not fl[j] & CLOSED:
                continue  # the same potential demand, still open
            if fl[j] & MARKED and not fl[j] & JUDGED:  # closed, now open again
                early[n_early] = of[j]
                n_early += 1
        of[j] = now
        fl[j] = 0
        out[n_out] = j
        n_out += 1
    return out[:n_out], early[:n_early]


@kernel
def _close_kernel(
    offered_at: np.ndarray,  # flat positions the focal firm's offers reached this step
    offered: np.ndarray,  # (N, C) int8 the tiers offered
    pos: np.ndarray,  # flat positions that may have closed (every position if ``full``)
    full: bool,
    where: tuple,  # (need, tier, segment, std_cells, std_segments): see ``_should``
    open_t: np.ndarray,
    flags: np.ndarray,
    now: int,
    response: int,  # steps within which potential demand should be marketed
    due: np.ndarray,  # flat positions opened at step ``t``, to judge now (may be empty)
    t: int,
    covered: np.ndarray,  # (N,) bool the focal firm's platform
    counts: np.ndarray,  # (3,) int64 out: (effective, exclusion, omission)
) -> None:
    """Mark the open opportunities an offer reached at the wanted tier in time; note
    (and, when already judged, free) those whose need closed; then judge the cohort
    ``due`` (``_judge_kernel``)."""
    C, T, nf, tf, std, std_segments, segment = _flat(where)
    of = open_t.reshape(-1)
    fl = flags.reshape(-1)
    tiers = offered.reshape(-1)
    for r in range(offered_at.size):
        j = offered_at[r]
        f = fl[j]
        live = (of[j] != NEVER) and not (f & (CLOSED | JUDGED))
        if live and now - np.int64(of[j]) <= response and tiers[j] == tf[j]:
            fl[j] = f | MARKED
    for r in range(nf.size if full else pos.size):
        j = r if full else pos[r]
        if of[j] == NEVER or fl[j] & CLOSED:
            continue
        if not _should(j, C, T, nf, tf, std, std_segments, segment):
            if fl[j] & JUDGED:
                of[j] = NEVER
                fl[j] = 0
            else:
                fl[j] = fl[j] | CLOSED
    _judge_cohort(due, t, of, fl, covered, C, counts)


@njit(inline="always")
def _judge_cohort(pos, t, of, fl, covered, C, counts):  # type: ignore[no-untyped-def]
    """Judge the opportunities opened at step ``t`` that are still in their slot and
    not judged yet: effective if marked; else, if its need is still open, a defect
    (exclusion outside the platform, omission inside); else not counted. Frees the
    slot when the need has closed, else marks it judged.

    The loop has no branch on what it loads: every entry writes its slot back (the
    same values where nothing is judged) and adds 0 or 1 to each count, so that the
    outcomes, which vary from entry to entry, cost no mispredicted branch
    (docs/performance.md, "The opportunity ledger's passes"). An entry sees what the
    entries before it wrote, as in a loop that branches."""
    eff = 0
    excl = 0
    omis = 0
    for r in range(pos.size):
        j = pos[r]
        o = of[j]
        f = fl[j]
        due = (o == t) & ((f & JUDGED) == 0)
        missed = due & ((f & (MARKED | CLOSED)) == 0)
        inside = covered[j // C]
        eff += due & ((f & MARKED) != 0)
        excl += missed & (not inside)
        omis += missed & inside
        free = due & ((f & CLOSED) != 0)
        of[j] = NEVER if free else o
        fl[j] = 0 if free else (f | JUDGED if due else f)
    counts[0] += eff
    counts[1] += excl
    counts[2] += omis


@kernel
def _judge_kernel(
    pos: np.ndarray,  # flat positions opened at step ``t``
    t: int,
    open_t: np.ndarray,
    flags: np.ndarray,
    covered: np.ndarray,
    counts: np.ndarray,  # (3,) int64 out: (effective, exclusion, omission)
) -> None:
    """Judge the opportunities opened at step ``t`` that are still in their slot."""
    _judge_cohort(pos, t, open_t.reshape(-1), flags.reshape(-1), covered, open_t.shape[1], counts)
