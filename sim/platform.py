"""The marketing platform (seed 004; DESIGN §2): coverage, density, strength,
targeting — and the records it keeps. This is the one module that writes a firm's
records.

Each step every firm contacts some of the customers in its platform: with
"homogeneous group" targeting each covered customer with probability ``density``;
with "personalized" targeting the same expected number of contacts is spread by
the records, a customer whose record shows an open need (latent or active)
weighing ``focus`` times one whose record does not. A contact refreshes the
record: each fact is read correctly with probability ``strength`` and reaches the
records unless the feedback link fails. A contact to a customer with an active
need also carries an offer, which reaches the customer unless the
needs-identification or product-communication link fails.

Draws per firm per step are fixed-shape (one uniform per customer for the
contact, one per customer and category for the read and for the offer's links),
so changing one firm's parameters moves no other process's random numbers.

The rule is one compiled kernel (``platform_kernel``) and its wrapper
(``platform_step``); ``record_sales`` books a firm's own sales into its records. Both
keep the firm's believed counts per cell and its customers' contact kinds up to
date as records change, so that targeting and planning need not recount them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.counts import cell_counts
from sim.firms import CONTACT_LINKS, LINK, FirmAgent, Records
from sim.market import Market
from sim.pcg import RuleDraws, _muladd128, _rotr, f32_at
from sim.state import ACTIVE, LATENT, CustomerState
from sim.workspace import Workspace


@dataclass
class Contacts:
    """One firm's contacts this step."""

    p: np.ndarray | None  # (N,) contact probability (None: ``table[kind]``)
    contacted: np.ndarray  # (N,) bool
    offered: np.ndarray  # (N, C) bool: an offer reached a customer with an active need
    read_ok: np.ndarray  # flat (customer*C + category) positions whose facts reached the records
    kind: np.ndarray | None = None  # (N,) uint8 contact kind
    table: np.ndarray | None = None  # (3,) float32 contact probability per kind
    offered_at: np.ndarray | None = None  # flat positions of ``offered``


def init_records(firm: FirmAgent, state: CustomerState, coverage_u: np.ndarray) -> Records:
    """Build the platform at step 0: covered customers' records hold the truth."""
    p = firm.spec.platform
    eligible = firm.std_segments[state.segment]
    covered = eligible & (coverage_u < p.coverage)
    own = (state.supplier == firm.index).any(axis=1) & (state.need == 3).any(axis=1)
    known = covered | own
    need = np.where(known[:, None], state.need, 0).astype(np.int8)
    tier = np.where(known[:, None], state.tier, 0).astype(np.int8)
    sup = np.where(known[:, None], state.supplier, -1).astype(np.int8)
    seen = np.where(known, 0, -1).astype(np.int32)
    return Records(covered=covered, known=known, need=need, tier=tier, supplier=sup, seen=seen)


def contact_table(firm: FirmAgent, n_cov: int, n_open: int, kind: np.ndarray) -> np.ndarray:
    """(3,) float32 contact probability of a customer by kind: 0 not covered, 1 covered,
    2 covered with a believed open need in the standard (``kind`` is the (N,) uint8
    array of kinds, ``n_cov`` and ``n_open`` the customers of kinds 1-2 and 2)."""
    p = firm.spec.platform
    if n_cov == 0 or p.density == 0:
        return np.zeros(3, dtype=np.float32)
    if p.targeting == "homogeneous":  # kinds 1 and 2 alike
        return np.array([0.0, p.density, p.density], dtype=np.float32)
    # covered customers weigh 1, or ``focus`` with a believed open need; the same
    # expected number of contacts as homogeneous targeting
    if float(p.focus).is_integer() and n_cov * p.focus < 2**52:
        total = float(n_cov - n_open) + p.focus * n_open  # exact, as the pairwise sum is
    else:
        total = float(np.choose(kind, [0.0, 1.0, p.focus]).sum())
    scale = p.density * n_cov / total
    return np.minimum(np.array([0.0, 1.0, p.focus]) * scale, 1.0).astype(np.float32)


def keep_counts(firm: FirmAgent, work: Workspace, market: Market, n_firms: int) -> Records:
    """The firm's records, with their believed counts per cell and its customers'
    contact kinds counted if they are not kept yet (at set-up, or after a decision
    changed the platform). The kinds of all firms are rows of one (F, N) array of the
    workspace, read together by the choice."""
    rec = firm.records
    assert rec is not None
    if rec.believed is None or rec.kind is None or rec.n_open is None:
        n = rec.covered.size
        rec.believed = cell_counts(rec.tier, rec.need, LATENT, market.n_tiers)
        rec.kind = work.array("kinds", (n_firms, n), np.uint8)[firm.index]
        n_open = contact_kind(rec.need, rec.covered, firm.std_cells.any(axis=1), rec.kind)
        rec.n_open = np.array([n_open], dtype=np.int64)
    return rec


def record_sales(
    firm: FirmAgent, state: CustomerState, flat_idx: np.ndarray, work: Workspace, market: Market
) -> None:
    """A firm knows its own sales: the buyer's record for that category is the truth."""
    rec = keep_counts(firm, work, market, len(firm.model.firm_list))
    assert rec.kind is not None and rec.believed is not None and rec.n_open is not None
    _record_sales_kernel(
        np.ascontiguousarray(flat_idx, dtype=np.int64),
        firm.index,
        state.need,
        state.tier,
        rec.need,
        rec.tier,
        rec.supplier,
        rec.known,
        rec.covered,
        firm.std_cells.any(axis=1),
        rec.believed,
        rec.kind,
        rec.n_open,
    )


def platform_step(
    firm: FirmAgent,
    state: CustomerState,
    now: int,
    rng: np.random.Generator,
    work: Workspace,
    market: Market,
) -> Contacts:
    """Contacts, record refreshes and offers of one firm for one step."""
    n, C = state.need.shape
    spec = firm.spec.platform
    draws = RuleDraws(rng)
    cu, pu = draws.f32(n)
    cr, pr = draws.f32(n * C)
    cl, pl = draws.f32(n * C)
    F = len(firm.model.firm_list)
    rec = keep_counts(firm, work, market, F)
    assert rec.kind is not None and rec.believed is not None and rec.n_open is not None
    n_cov = int(np.count_nonzero(rec.covered))
    CON, OFF, TAB, _ = work.step_contacts(n, C, F)
    f = firm.index
    contacted, offered, table = CON[f], OFF[f], TAB[f]
    table[:] = contact_table(firm, n_cov, int(rec.n_open[0]), rec.kind)
    offered.fill(False)
    tallies = np.zeros(7, dtype=np.int64)
    fb = LINK["feedback"]
    read_ok, offered_at = platform_kernel(
        rec.kind,
        table,
        cu,
        pu,
        cr,
        pr,
        cl,
        pl,
        draws.jt,
        np.float32(spec.strength),
        np.float32(max(spec.strength, 1e-12)),
        float(firm.defect_rate[fb]),
        firm.link_bands(CONTACT_LINKS),
        firm.has.any(axis=1),
        state.need,
        state.tier,
        state.supplier,
        rec.need,
        rec.tier,
        rec.supplier,
        rec.seen,
        rec.known,
        rec.covered,
        firm.std_cells.any(axis=1),
        rec.believed,
        rec.n_open,
        now,
        work.array("who", (n,), np.int32),
        contacted,
        offered,
        tallies,
    )
    draws.finish()
    n_con = int(tallies[0])
    firm.contacts += n_con
    cost = n_con * spec.cost_per_contact + n_cov * spec.cost_per_record
    firm.contact_cost += cost
    firm.step_cost += cost
    firm.chain_opp[fb] += int(tallies[1])
    firm.chain_def[fb] += int(tallies[2])
    for k, link in enumerate(CONTACT_LINKS):
        firm.chain_opp[link] += int(tallies[3 + 2 * k])
        firm.chain_def[link] += int(tallies[4 + 2 * k])
    return Contacts(
        p=None,
        contacted=contacted,
        offered=offered,
        read_ok=read_ok,
        kind=rec.kind,
        table=table,
        offered_at=offered_at,
    )


# ---------------------------------------------------------------------- kernels
@njit(inline="always")
def _kind_of(i, rec_need, covered, std_cat):  # type: ignore[no-untyped-def]
    """Customer ``i``'s contact kind: 0 not covered, 1 covered, 2 covered with a believed
    latent or active need in a standard category."""
    k2 = np.uint8(0)
    for c in range(rec_need.shape[1]):
        x = rec_need[i, c]
        k2 |= np.uint8(std_cat[c] & ((x == LATENT) | (x == ACTIVE)))
    cov = np.uint8(covered[i])
    return cov + (k2 & cov)


@njit(cache=True, nogil=True)
def contact_kind(
    rec_need: np.ndarray, covered: np.ndarray, std_cat: np.ndarray, kind: np.ndarray
) -> int:
    """Every customer's contact kind into ``kind`` (N,) uint8 (see ``_kind_of``).
    Returns the number of kind 2."""
    n_open = 0
    for i in range(rec_need.shape[0]):
        k = _kind_of(i, rec_need, covered, std_cat)
        kind[i] = k
        n_open += k == 2
    return n_open


@njit(inline="always")
def _update_record(i, c, new_need, new_tier, rec_need, rec_tier, believed):  # type: ignore[no-untyped-def]
    """Write one believed fact and keep the believed counts per cell."""
    believed[c, rec_tier[i, c]] -= rec_need[i, c] >= LATENT
    believed[c, new_tier] += new_need >= LATENT
    rec_need[i, c] = new_need
    rec_tier[i, c] = new_tier


@njit(inline="always")
def _update_kind(i, rec_need, covered, std_cat, kind, n_open):  # type: ignore[no-untyped-def]
    """Recompute one customer's contact kind after its records changed."""
    k = _kind_of(i, rec_need, covered, std_cat)
    n_open[0] += np.int64(k == 2) - np.int64(kind[i] == 2)
    kind[i] = k


@njit(cache=True, nogil=True)
def _record_sales_kernel(
    pos: np.ndarray,  # flat positions sold by the firm
    firm: int,
    need: np.ndarray,
    tier: np.ndarray,
    rec_need: np.ndarray,
    rec_tier: np.ndarray,
    rec_sup: np.ndarray,
    known: np.ndarray,
    covered: np.ndarray,
    std_cat: np.ndarray,
    believed: np.ndarray,
    kind: np.ndarray,
    n_open: np.ndarray,
) -> None:
    """``record_sales``, keeping the believed counts and contact kinds."""
    C = need.shape[1]
    for r in range(pos.size):
        j = pos[r]
        i = j // C
        c = j - i * C
        _update_record(i, c, need[i, c], tier[i, c], rec_need, rec_tier, believed)
        rec_sup[i, c] = firm
        known[i] = True
        _update_kind(i, rec_need, covered, std_cat, kind, n_open)


@njit(cache=True, nogil=True)
def platform_kernel(
    kind: np.ndarray,  # (N,) uint8: 0 uncovered, 1 covered, 2 covered with an open need
    table: np.ndarray,  # (3,) float32 contact probability per kind
    cu: np.ndarray,
    pu: np.ndarray,  # the contact block (N float32), a cursor
    cr: np.ndarray,
    pr: np.ndarray,  # the read block (N * C float32)
    cl: np.ndarray,
    pl: np.ndarray,  # the link block (N * C float32)
    jt: np.ndarray,  # the platform stream's jump table
    strength: np.float32,
    strength_div: np.float32,
    feedback: float,  # the feedback link's defect rate
    link_hi: np.ndarray,  # (2,) float64 upper band edges of the contact links
    sells: np.ndarray,  # (C,) bool: the firm sells something in the category
    need: np.ndarray,  # (N, C) int8 truth
    tier: np.ndarray,
    sup: np.ndarray,
    rec_need: np.ndarray,  # (N, C) int8 records, changed in place
    rec_tier: np.ndarray,
    rec_sup: np.ndarray,
    seen: np.ndarray,  # (N,) int32
    known: np.ndarray,  # (N,) bool
    covered: np.ndarray,  # (N,) bool
    std_cat: np.ndarray,  # (C,) bool: categories in the firm's standard
    believed: np.ndarray,  # (C, T) int64 believed needs per cell, kept up to date
    n_open: np.ndarray,  # (1,) int64 customers of kind 2, kept up to date
    now: int,
    who: np.ndarray,  # (N,) int32 scratch
    contacted: np.ndarray,  # (N,) bool out
    offered: np.ndarray,  # (N, C) bool out (all False on entry)
    tallies: np.ndarray,  # (7,) int64 out, see below
) -> np.ndarray:
    """Contacts, record refreshes and offers of one firm. Returns the flat positions
    whose facts reached the records, and those an offer reached. ``tallies``: contacts, feedback opportunities,
    feedback defects, then opportunities and defects of the two contact links."""
    n, C = need.shape
    # the contact uniforms, generated in order: two per PCG64 output
    n_con = 0
    off = pu[1]
    if off and n:
        x = np.float32(cu[3] >> np.uint64(8)) * np.float32(2.0**-24)
        hit = x < table[kind[0]]
        contacted[0] = hit
        who[0] = 0
        n_con += hit
    hi = cu[0]
    lo = cu[1]
    a_hi, a_lo, k_hi, k_lo = jt[1, 0], jt[1, 1], jt[1, 2], jt[1, 3]
    scale = np.float32(2.0**-24)
    for i in range(off, n, 2):
        hi, lo = _muladd128(a_hi, a_lo, hi, lo, k_hi, k_lo)  # type: ignore[call-arg]
        v = _rotr(hi ^ lo, hi >> np.uint64(58))
        x = np.float32((v & np.uint64(0xFFFFFFFF)) >> np.uint64(8)) * scale
        hit = x < table[kind[i]]
        contacted[i] = hit
        who[n_con] = i
        n_con += hit
        if i + 1 < n:
            x = np.float32(v >> np.uint64(40)) * scale
            hit = x < table[kind[i + 1]]
            contacted[i + 1] = hit
            who[n_con] = i + 1
            n_con += hit
    read_ok = np.empty(n_con * C, dtype=np.int64)
    offered_at = np.empty(n_con * C, dtype=np.int64)
    n_off = 0
    n_ok = 0
    n_correct = 0
    n_lost = 0
    opp0 = 0
    def0 = 0
    opp1 = 0
    def1 = 0
    for r in range(n_con):
        i = np.int64(who[r])  # type: ignore[assignment]
        for c in range(C):
            j = i * C + c
            x = f32_at(cr, pr, jt, j)
            if x < strength:
                n_correct += 1
                if np.float64(x / strength_div) < feedback:
                    n_lost += 1
                else:
                    read_ok[n_ok] = j
                    n_ok += 1
                    _update_record(i, c, need[i, c], tier[i, c], rec_need, rec_tier, believed)
                    rec_sup[i, c] = sup[i, c]
        seen[i] = now
        known[i] = True
        _update_kind(i, rec_need, covered, std_cat, kind, n_open)
        for c in range(C):
            if need[i, c] == ACTIVE and sells[c]:
                ul = np.float64(f32_at(cl, pl, jt, i * C + c))
                opp0 += 1
                if ul < link_hi[0]:
                    def0 += 1
                    continue
                opp1 += 1
                if ul < link_hi[1]:
                    def1 += 1
                    continue
                offered[i, c] = True
                offered_at[n_off] = i * C + c
                n_off += 1
    tallies[0] = n_con
    tallies[1] = n_correct
    tallies[2] = n_lost
    tallies[3] = opp0
    tallies[4] = def0
    tallies[5] = opp1
    tallies[6] = def1
    return read_ok[:n_ok], offered_at[:n_off]  # type: ignore[return-value]
