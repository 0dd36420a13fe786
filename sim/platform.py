"""The marketing platform (seed 004; docs/model.md §7.8): coverage, density, strength,
targeting: the contacts that read and refresh a firm's records, and the offers made
on them. With ``sim.reads`` (the reads and record refreshes of each chunk of
contacts) and ``sim.records`` (the counts kept on the records, the booking of a firm's
own sales, decisions), it is the only module that writes records.

Each step every firm contacts some of the customers in its platform: with
"homogeneous group" targeting each covered customer at random, ``density`` times a
week (at most once a step); with "personalized" targeting on a schedule the records drive, each
record refreshed every 1/density weeks on average, a customer whose record shows an
open need (latent or active) ``focus`` times as often, for the same expected number
of contacts. A contact reads each of the customer's needs: correctly with
probability ``strength``; a read that fails records a wrong value with
``misread_rate`` (an open need that is not there, or a neighbouring tier), or
nothing. What was read reaches the records unless the feedback link fails. Then the
firm makes an offer for each need its record now shows open, at its closest tier to
the tier the record says is wanted; the offer reaches the customer unless the
needs-identification or product-communication link fails.

Every draw is addressed (``sim.rng``): changing one firm's parameters moves no other
process's random numbers.

The event engine (``sim.engine``) finds a homogeneous platform's random contacts
without a draw per covered customer per step (docs/model.md §7.8): each customer has
a chain of candidate steps fixed on the calendar, the next one a geometric skip from
the last (``sim.rng.next_candidate``), drawn from the customer's own uniform at the candidate's
step; a candidate contacts the customer if the customer is covered then (thinning).
A customer's contacts are so a pure function of the seed, the firm, the contact
probability and the customer's coverage, whatever other customers do. The chains
start at the market's history (``sim.contact_chains``) and are drawn again, from the step
of the change, when the contact probability changes (exact: the geometric law has no
memory). Personalized contacts keep their schedule on either engine.

The rule is one compiled kernel (``platform_kernel``: contacts, then reads and
offers, each in chunks of customers run in parallel) and its wrapper
(``platform_step``); the reads and offers of a chunk are ``sim.reads``, the event
engine's contact chains ``sim.contact_chains``. It keeps the firm's believed counts per cell and its customers'
contact kinds up to date as records change (``sim.records``), so that targeting and
planning need not recount them. Each rule here is handed the firm's ``FirmBook``;
what the platforms hand the choice is the step's ``Exposure`` (``sim.workspace``),
one row per firm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim.calendar import WEEKS_PER_YEAR, Clock
from sim.contact_chains import NO_CHAIN, contact_chain, skip_chunk
from sim.firms import CONTACT_LINKS, LINK, FirmBook, Records
from sim.jit import CHUNK, chunks, kernel, parallel_kernel, threads_for
from sim.links import overload_rate
from sim.market import Market
from sim.reads import PlatformInputs, gather_reads, read_chunk
from sim.records import keep_counts
from sim.rng import (
    CONTACT,
    address,
    customer_blocks_into,
    philox2,
    uniform,
    unit,
)
from sim.scenario import Platform
from sim.state import NEVER, NO_FIRM, NONE, SERVED, CustomerState
from sim.workspace import Exposure, Workspace


@dataclass
class Contacts:
    """One firm's contacts this step (its rows of the step's ``Exposure``, and what its
    reads found)."""

    contacted: np.ndarray  # (N,) bool
    offered: np.ndarray  # (N, C) int8: the tier an offer that reached the customer was for, -1 none
    read_ok: np.ndarray  # flat (customer*C + category) positions whose facts reached the records
    offered_at: np.ndarray  # flat positions of ``offered``


def init_records(
    firm: FirmBook, state: CustomerState, coverage_u: np.ndarray, phase_u: np.ndarray, start: int
) -> Records:
    """The platform when the market's history starts (step ``start``, the scenario's
    ``run.warmup_weeks`` before step 0): the customers of the standard it covers, and no
    record read yet. A firm knows its own customers from its past sales only: what it sold them (the tier
    held), not what they want. Contacts fill the records from here on; a scheduled
    (personalized) platform's contacts start staggered over one refresh interval
    (``phase_u``), as if each record had been refreshed at a random time before."""
    p = firm.spec.platform
    eligible = firm.std_segments[state.segment]
    covered = eligible & (coverage_u < p.coverage)
    mine = (state.need == SERVED) & (state.supplier == firm.index)
    need = np.where(mine, SERVED, NONE).astype(np.int8)
    tier = np.where(mine, state.held, 0).astype(np.int8)
    sup = np.where(mine, firm.index, NO_FIRM).astype(np.int8)
    known = mine.any(axis=1)
    seen = np.full(covered.shape, NEVER, dtype=np.int32)
    density = step_density(p, firm.clock)
    if density > 0:
        lag = np.floor(phase_u * min(1.0 / density, 2.0**30)).astype(np.int64)
        seen[covered] = (start - lag[covered]).astype(np.int32)
    return Records(covered=covered, known=known, need=need, tier=tier, supplier=sup, seen=seen)


WEEKLY = Clock(WEEKS_PER_YEAR)
#: the links whose opportunities and defects ``platform_kernel`` tallies, in order
_TALLIED = np.array((LINK["feedback"], *CONTACT_LINKS), dtype=np.int64)


def step_density(p: Platform, clock: Clock) -> float:
    """The platform's contacts per covered customer per step: ``density`` is per week,
    and a step holds at most one contact of a customer."""
    return min(clock.amount(p.density), 1.0)


def contact_table(
    p: Platform, n_cov: int, n_open: int, kind: np.ndarray, clock: Clock
) -> np.ndarray:
    """(3,) contact probability per step of a customer by kind: 0 not covered,
    1 covered, 2 covered with a believed open need in the standard (``kind`` is the
    (N,) uint8 array of kinds, ``n_cov`` and ``n_open`` the customers of kinds 1-2 and
    2). Targeting reads these counts of the records and the platform's settings only
    (``clock``: the run's step in weeks). A personalized platform contacts on
    schedule, once a record is 1/probability steps old."""
    density = step_density(p, clock)
    if n_cov == 0 or density == 0:
        return np.zeros(3, dtype=np.float64)
    if p.targeting == "homogeneous":  # kinds 1 and 2 alike
        return np.array([0.0, density, density], dtype=np.float64)
    # covered customers weigh 1, or ``focus`` with a believed open need; the same
    # expected number of contacts as homogeneous targeting
    if float(p.focus).is_integer() and n_cov * p.focus < 2**52:
        total = float(n_cov - n_open) + p.focus * n_open  # exact, as the pairwise sum is
    else:
        total = float(np.choose(kind, [0.0, 1.0, p.focus]).sum())
    scale = density * n_cov / total
    return np.minimum(np.array([0.0, 1.0, p.focus]) * scale, 1.0)


def platform_inputs(
    firm: FirmBook, market: Market, probability: np.ndarray, skip_p: float
) -> PlatformInputs:
    """What ``platform_kernel`` reads of the firm and the market at this step
    (``probability``: the contact table, ``skip_p``: the chains' probability, -1 drawn)."""
    spec = firm.spec.platform
    fb = LINK["feedback"]
    spy = firm.clock.steps_per_year
    return PlatformInputs(
        table=probability,
        scheduled=spec.targeting == "personalized",
        strength=float(spec.strength),
        misread_rate=float(spec.misread_rate),
        feedback=float(firm.defect_rate[fb]),
        feedback_cap=float(firm.spec.capacity.feedback / spy),
        link_rate=firm.defect_rate[_TALLIED[1:]],
        offers=firm.offers,
        tier_count=market.tier_count,
        std_cat=firm.std_cat,
        skip_p=skip_p,
    )


def platform_step(
    firm: FirmBook,
    state: CustomerState,
    now: int,
    key: np.ndarray,
    exposure: Exposure,
    work: Workspace,
    market: Market,
    events: bool = False,
) -> Contacts:
    """Contacts, record refreshes and offers of one firm for one step (``key``: the
    Philox round keys of the firm's platform stream). Writes the firm's row of
    ``exposure``, the step's record of what the platforms hand the choice. ``events``:
    the event engine (``sim.engine``) rather than the sweep."""
    n, C = state.need.shape
    spec = firm.spec.platform
    rec = keep_counts(firm, market)
    assert rec.kind is not None and rec.believed is not None and rec.n_open is not None
    n_cov = rec.n_covered
    f = firm.index
    contacted, offered, table = exposure.contacted[f], exposure.offered[f], exposure.table[f]
    probability = contact_table(spec, n_cov, int(rec.n_open[0]), rec.kind, firm.clock)
    table[:] = probability
    # a step longer than a week: the chances per week, for the week a contact falls in
    if firm.clock.weeks_per_step > 1.0:
        exposure.weekly[f] = contact_table(spec, n_cov, int(rec.n_open[0]), rec.kind, WEEKLY)
    tallies = np.zeros(7, dtype=np.int64)
    skip_p = -1.0
    if events and spec.targeting == "homogeneous":
        skip_p = float(step_density(spec, firm.clock))
    elif spec.targeting != "homogeneous" and rec.chain is not None:
        # personalized now: chains drawn afresh if it turns homogeneous again
        rec.chain, rec.chain_p = None, -1.0
    inputs = platform_inputs(firm, market, probability, skip_p)
    with threads_for(n):
        chain = contact_chain(rec, skip_p, key, now - 1) if skip_p >= 0.0 else NO_CHAIN
        read_ok, offered_at = platform_kernel(
            rec.kind,
            chain,
            key,
            address(now),
            now,
            inputs,
            (state.need, state.tier, state.supplier),
            (rec.need, rec.tier, rec.supplier, rec.seen, rec.known, rec.covered),
            rec.believed,
            rec.n_open,
            work.array("who", (n,), np.int32),
            contacted,
            offered,
            tallies,
        )
    exposure.kind[f] = rec.kind  # the kinds as the reads left them, for the choice
    n_con = int(tallies[0])
    firm.contacts += n_con
    cost = n_con * spec.cost_per_contact + n_cov * firm.clock.amount(spec.cost_per_record)
    firm.contact_cost += cost
    firm.step_cost += cost
    firm.chain_opp[_TALLIED] += tallies[1::2]  # feedback, then the contact links
    firm.chain_def[_TALLIED] += tallies[2::2]
    return Contacts(contacted=contacted, offered=offered, read_ok=read_ok, offered_at=offered_at)


# ---------------------------------------------------------------------- kernels
@parallel_kernel
def platform_kernel(
    kind: np.ndarray,  # (N,) uint8: 0 uncovered, 1 covered, 2 covered with an open need
    chain: np.ndarray,  # (N,) int32 next candidate steps (``inputs.skip_p`` >= 0), else empty
    rk: np.ndarray,  # the platform stream's Philox round keys
    step_addr: int,  # this step's address in the streams
    now: int,
    inputs: PlatformInputs,
    truth: tuple,  # (need, tier, supplier) (N, C) int8: what a read can reveal
    records: tuple,  # (need, tier, supplier, seen, known, covered), changed in place
    believed: np.ndarray,  # (C, T) int64 believed needs per cell, kept up to date
    n_open: np.ndarray,  # (1,) int64 customers of kind 2, kept up to date
    who: np.ndarray,  # (N,) int32 scratch
    contacted: np.ndarray,  # (N,) bool out
    offered: np.ndarray,  # (N, C) int8 out: tier offered, -1 none
    tallies: np.ndarray,  # (7,) int64 out, see below
) -> np.ndarray:
    """Contacts, record refreshes and offers of one firm. Returns the flat positions
    whose facts reached the records, and those an offer reached. ``tallies``: contacts,
    feedback opportunities and defects, then opportunities and defects of the two
    contact links.

    A contact reads each need: correctly with the platform's strength; a failed read
    records a wrong value with the misread rate, or nothing. What was read reaches the
    records unless the feedback link fails (more often when the contacts of the step
    exceed its capacity). Then the firm makes an offer for each need its record, as it
    now stands, shows open; the offer reaches the customer unless a contact link fails.

    Two parallel passes over chunks of customers (the feedback link's load is the
    step's number of contacts, known after the first): each chunk writes its own
    customers' rows and its own slots of the lists and counts, put together in chunk
    order (``sim.jit``). No array expression here: in a parallel kernel numba runs each
    as a parallel loop of its own, a thread launch per tiny array.
    """
    n, C = truth[0].shape
    T = believed.shape[1]
    n_chunks = chunks(n)
    table, scheduled, p = inputs.table, inputs.scheduled, inputs.skip_p
    lq = math.log1p(-p) if 0.0 < p < 1.0 else 0.0
    hits = np.empty(n_chunks, np.int64)  # contacts per chunk, listed in ``who`` from lo on
    for k in prange(n_chunks):
        lo = k * CHUNK
        if p >= 0.0:
            hits[k] = skip_chunk(
                lo, min(lo + CHUNK, n), kind, chain, p, lq, rk, step_addr, now, who,
                contacted, offered,
            )  # fmt: skip
        else:
            hits[k] = _contact_chunk(
                lo, min(lo + CHUNK, n), kind, table, scheduled, rk, step_addr, records[3],
                now, who, contacted, offered,
            )  # fmt: skip
    first = np.empty(n_chunks + 1, np.int64)  # contacts before each chunk
    first[0] = 0
    for k in range(n_chunks):
        first[k + 1] = first[k] + hits[k]
    n_con = first[n_chunks]
    fb = overload_rate(inputs.feedback, np.float64(n_con), inputs.feedback_cap)
    read_ok = np.empty(n_con * C, dtype=np.int64)
    offered_at = np.empty(n_con * C, dtype=np.int64)
    counts = np.empty((n_chunks, 9), np.int64)  # see ``read_chunk``
    d_believed = np.empty((n_chunks, C, T), np.int64)
    for k in prange(n_chunks):
        lo = k * CHUNK
        read_chunk(
            who[lo : lo + hits[k]], first[k] * C, rk, step_addr, inputs, fb, truth, records,
            kind, d_believed[k], now, offered, read_ok, offered_at, counts[k],
        )  # fmt: skip
    n_ok, n_off = gather_reads(first, counts, d_believed, read_ok, offered_at, believed, n_open)
    tallies[0] = n_con
    for r in range(6):
        tallies[1 + r] = 0
        for k in range(n_chunks):
            tallies[1 + r] += counts[k, 3 + r]
    return read_ok[:n_ok], offered_at[:n_off]  # type: ignore[return-value]


#: past any gap between two steps: a due time beyond it is never reached
_FAR = 2**62


@njit(inline="always")
def _steps_to(d):  # type: ignore[no-untyped-def]
    """The fewest whole steps g with g >= d: for a whole number of steps g (below 2**53,
    converted exactly) float(g) >= d exactly when g >= ceil(d)."""
    if d > _FAR:
        return np.int64(_FAR)
    return np.int64(math.ceil(d))


@kernel
def _contact_chunk(
    lo: int,  # the chunk's customers: lo..hi-1
    hi: int,
    kind: np.ndarray,
    table: np.ndarray,
    scheduled: bool,
    rk: np.ndarray,
    step_addr: int,
    seen: np.ndarray,
    now: int,
    who: np.ndarray,  # out: the customers contacted, from slot lo on
    contacted: np.ndarray,  # out
    offered: np.ndarray,  # out: the chunk's rows set to -1 (no offer yet)
) -> int:
    """Who of customers lo..hi-1 is contacted: at random with the kind's probability,
    or on schedule once a record is 1/probability steps old (an uncovered customer is
    never contacted). Returns the number contacted.

    A first pass settles every customer it can without a draw, and without branching
    on the customer (coverage and due dates are unpredictable branches, the largest
    cost of the pass); it lists those left to a draw, drawn in a second pass, and a
    third lists the contacted in order. The list of those left to a draw is kept in
    the chunk's slots of ``who``, read before the third pass writes them."""
    offered[lo:hi] = -1
    draw = who[lo:hi]  # the customers left to a draw
    n_draw = 0
    if scheduled:
        # due 1/p steps after the last contact, the fraction dithered by a draw
        # addressed to that contact, so the mean interval is exactly 1/p
        # per kind: 1/p, divided once, and the whole steps a gap must reach to be
        # due whatever the draw or due with it: a gap of whole steps g is at least a
        # due time d exactly when g >= ceil(d) (``_steps_to``), compared without a
        # conversion per customer; 0 steps of kinds never contacted
        dues = np.empty(3, np.float64)
        sure_at = np.empty(3, np.int64)
        maybe_at = np.empty(3, np.int64)
        on = np.empty(3, np.bool_)
        for k in range(3):
            p = np.float64(table[k])
            on[k] = p > 0.0
            dues[k] = 1.0 / p if p > 0.0 else 0.0
            sure_at[k] = _steps_to(dues[k])
            maybe_at[k] = _steps_to(dues[k] - 1.0)
        for i in range(lo, hi):
            k = kind[i]
            last = np.int64(seen[i])
            gap = now - last
            # never refreshed, or due whatever the draw
            sure = on[k] & ((last == NEVER) | (gap >= sure_at[k]))
            contacted[i] = sure
            draw[n_draw] = i
            n_draw += on[k] & (not sure) & (gap >= maybe_at[k])  # else not due whatever the draw
        # the draws, each addressed to the customer's last contact, two a Philox call
        for r in range(0, n_draw - 1, 2):
            i, j = np.int64(draw[r]), np.int64(draw[r + 1])  # type: ignore[assignment]
            li, lj = np.int64(seen[i]), np.int64(seen[j])
            w = philox2(
                rk, i, step_addr - (now - li), CONTACT, 0, j, step_addr - (now - lj), CONTACT, 0
            )
            contacted[i] = np.float64(now - li) >= dues[kind[i]] - unit(w[0])
            contacted[j] = np.float64(now - lj) >= dues[kind[j]] - unit(w[4])
        if n_draw & 1:
            i = np.int64(draw[n_draw - 1])  # type: ignore[assignment]
            last = np.int64(seen[i])
            u = uniform(rk, step_addr - (now - last), i, CONTACT, 0)
            contacted[i] = np.float64(now - last) >= dues[kind[i]] - u
    else:
        for i in range(lo, hi):
            contacted[i] = False
            draw[n_draw] = i
            n_draw += bool(np.float64(table[kind[i]]) > 0.0)
        u = np.empty(4 * n_draw, np.float64)  # the draws (block 0, word 0), two a call
        customer_blocks_into(rk, step_addr, CONTACT, draw[:n_draw], 1, u)
        for r in range(n_draw):
            i = np.int64(draw[r])  # type: ignore[assignment]
            contacted[i] = u[4 * r] < np.float64(table[kind[i]])
    n_con = 0
    for i in range(lo, hi):
        who[lo + n_con] = i
        n_con += contacted[i]
    return n_con


def withhold(exposure: Exposure, contacts: list[Contacts]) -> None:
    """Before step 0 the platforms keep their records (contacts read and refresh them)
    but do not act on the market: no offer reaches a customer, no complaint is handled,
    and word of mouth does not depend on who was contacted. The market's history is then
    the same whatever the platforms, so two scenarios that differ in a platform start
    from the same market at step 0 (common random numbers from the first measured step),
    with records as stale as each platform's contacts left them."""
    exposure.offered.fill(-1)
    exposure.contacted.fill(False)
    exposure.table.fill(0.0)
    for c in contacts:
        c.offered_at = c.offered_at[:0]
