"""A firm's records and the counts kept on them (docs/model.md §2.2, §7.8, §7.11): the
believed counts per cell and each customer's contact kind, kept up to date wherever a
record changes (``update_record``, ``update_kind``); the booking of a firm's own sales
(``record_sales``: a sale shows what was sold, not what was wanted); and a platform
decision taken mid-run (``change_platform``). With ``sim.platform`` and ``sim.reads``,
whose contacts read and refresh records, this is the only module that writes them; both are handed
the firm's ``FirmBook``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.counts import cell_counts
from sim.firms import FirmBook, Records
from sim.jit import kernel
from sim.market import Market
from sim.scenario import Firm
from sim.state import ACTIVE, LATENT, SERVED

#: sales booked per block by ``_record_sales_kernel``: the records a block reads or
#: writes (five cache lines a sale) are loaded first, then booked while still in the
#: first-level cache (docs/performance.md, "Booking the sales")
BOOK_BLOCK = 64


def keep_counts(firm: FirmBook, market: Market) -> Records:
    """The firm's records, with their believed counts per cell and its customers'
    contact kinds counted if they are not kept yet (at set-up, or after a decision
    changed the platform). The kinds are the records' own array: each platform step
    copies them into its row of the step's ``Exposure`` for the choice (a view into
    shared storage would not survive a copy of the model)."""
    rec = firm.records
    assert rec is not None
    if rec.believed is None or rec.kind is None or rec.n_open is None:
        n = rec.covered.size
        rec.n_covered = int(np.count_nonzero(rec.covered))
        rec.believed = cell_counts(rec.tier, rec.need, LATENT, market.n_tiers)
        rec.kind = np.empty(n, dtype=np.uint8)
        n_open = contact_kind(rec.need, rec.covered, firm.std_cat, rec.kind)
        rec.n_open = np.array([n_open], dtype=np.int64)
    return rec


def record_sales(firm: FirmBook, flat_idx: np.ndarray, tiers: np.ndarray, market: Market) -> None:
    """A sale tells the firm what it sold, not what the customer wanted: the buyer's
    record for that category becomes a need served by the firm at the tier sold."""
    rec = keep_counts(firm, market)
    assert rec.kind is not None and rec.believed is not None and rec.n_open is not None
    _record_sales_kernel(
        np.ascontiguousarray(flat_idx, dtype=np.int64),
        np.ascontiguousarray(tiers, dtype=np.int64),
        firm.index,
        rec.need,
        rec.tier,
        rec.supplier,
        rec.known,
        firm.std_cat,
        rec.believed,
        rec.kind,
        rec.n_open,
        BOOK_BLOCK,
    )


@njit(inline="always")
def open_need(i, rec_need, std_cat):  # type: ignore[no-untyped-def]
    """1 if customer ``i``'s records believe a latent or active need in a standard
    category, else 0."""
    k2 = np.uint8(0)
    for c in range(rec_need.shape[1]):
        x = rec_need[i, c]
        k2 |= np.uint8(std_cat[c] & ((x == LATENT) | (x == ACTIVE)))
    return k2


@njit(inline="always")
def kind_of(i, rec_need, covered, std_cat):  # type: ignore[no-untyped-def]
    """Customer ``i``'s contact kind: 0 not covered, 1 covered, 2 covered with a believed
    latent or active need in a standard category."""
    cov = np.uint8(covered[i])
    return cov + (open_need(i, rec_need, std_cat) & cov)


@kernel
def contact_kind(
    rec_need: np.ndarray, covered: np.ndarray, std_cat: np.ndarray, kind: np.ndarray
) -> int:
    """Every customer's contact kind into ``kind`` (N,) uint8 (see ``kind_of``).
    Returns the number of kind 2."""
    n_open = 0
    for i in range(rec_need.shape[0]):
        k = kind_of(i, rec_need, covered, std_cat)
        kind[i] = k
        n_open += k == 2
    return n_open


@njit(inline="always")
def update_record(i, c, new_need, new_tier, rec_need, rec_tier, believed):  # type: ignore[no-untyped-def]
    """Write one believed fact and keep the believed counts per cell (nothing written
    when the record holds the fact already: its cache line stays clean)."""
    if rec_need[i, c] == new_need and rec_tier[i, c] == new_tier:
        return
    believed[c, rec_tier[i, c]] -= rec_need[i, c] >= LATENT
    believed[c, new_tier] += new_need >= LATENT
    rec_need[i, c] = new_need
    rec_tier[i, c] = new_tier


@njit(inline="always")
def update_kind(i, rec_need, std_cat, kind, n_open):  # type: ignore[no-untyped-def]
    """Recompute one customer's contact kind after its records changed (see
    ``kind_of``), without reading the coverage: the kind is 0 exactly when the customer
    is not covered, and the coverage changes only with a recount of the kinds
    (``change_platform``)."""
    cov = np.uint8(kind[i] != 0)
    k = cov + (open_need(i, rec_need, std_cat) & cov)
    n_open[0] += np.int64(k == 2) - np.int64(kind[i] == 2)
    kind[i] = k


@kernel
def _record_sales_kernel(
    pos: np.ndarray,  # flat positions sold by the firm
    sold: np.ndarray,  # the tiers sold
    firm: int,
    rec_need: np.ndarray,
    rec_tier: np.ndarray,
    rec_sup: np.ndarray,
    known: np.ndarray,
    std_cat: np.ndarray,
    believed: np.ndarray,
    kind: np.ndarray,
    n_open: np.ndarray,
    block: int,  # sales per block (``BOOK_BLOCK``)
) -> int:
    """``record_sales``, keeping the believed counts and contact kinds. The sales go by
    blocks: a loop without branches first loads every record the block will read or
    write, so that their cache misses overlap instead of waiting one by one behind the
    booking's branches, then the block is booked, sale by sale in the list's order.
    Returns a sum of the loaded values, which only keeps the loads from being
    compiled away."""
    C = rec_need.shape[1]
    touched = 0
    for b0 in range(0, pos.size, block):
        b1 = min(pos.size, b0 + block)
        for r in range(b0, b1):
            i = pos[r] // C
            touched += rec_need[i, 0] + rec_tier[i, 0] + rec_sup[i, 0]
            touched += known[i] + kind[i]
        for r in range(b0, b1):
            j = pos[r]
            i = j // C
            c = j - i * C
            update_record(i, c, SERVED, sold[r], rec_need, rec_tier, believed)
            rec_sup[i, c] = firm
            known[i] = True
            update_kind(i, rec_need, std_cat, kind, n_open)
    return touched


def change_platform(firm: FirmBook, spec: Firm, segment: np.ndarray, market: Market) -> None:
    """A decision taken mid-run (the model's ``set_platform``): the firm's new settings
    ``spec`` (validated), its customers placed in or out of the platform by their
    set-up coverage draw (``segment``: each customer's), and its kept counts recounted."""
    firm.spec = spec
    rec = firm.records
    assert rec is not None
    rec.covered[:] = firm.std_segments[segment] & (firm.coverage_u < spec.platform.coverage)
    rec.kind = rec.believed = rec.n_open = None
    keep_counts(firm, market)  # recounted
