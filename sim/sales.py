"""What a step's sales change beyond the customers who bought (docs/model.md §7.10,
§7.11): the sellers' accounts (revenue and sales counts), their records (a sale shows
the firm what it sold), the adopters of their launches, the complaints raised, and
what the focal firm's sales tell its detection of changes."""

from __future__ import annotations

import numpy as np

from sim.choice import Sales
from sim.detection import EV, DetectionTracker
from sim.firms import FirmBook
from sim.jit import kernel
from sim.market import Market
from sim.records import record_sales
from sim.state import CustomerState
from sim.strategy import count_adopters


def book_revenue(firm: FirmBook, sales: Sales, cats: np.ndarray) -> None:
    """Credit a firm's sales of the step to its accounts (``cats``: the categories
    sold): revenue is the price of each cell sold (docs/model.md §7.10, "Sale links")."""
    revenue = float(firm.price[cats, sales.tier].sum())
    firm.revenue += revenue
    firm.step_revenue += revenue
    firm.sales += sales.idx.size
    firm.step_sales += sales.idx.size


def book_sales(
    firms: list[FirmBook],
    sales: list[Sales],
    state: CustomerState,
    market: Market,
    tracker: DetectionTracker,
    now: int,
) -> int:
    """Book each firm's sales of step ``now``; returns the complaints they raised."""
    C = market.n_categories
    raised = 0
    for f, s in zip(firms, sales, strict=True):
        if s.idx.size == 0:
            continue
        cats = s.idx % C
        book_revenue(f, s, cats)
        record_sales(f, s.idx, s.tier, market)
        count_adopters(f, s.tier, cats, now)
        # what the sales tell beyond the records, read from the truth for the measures
        # (the records themselves hold only what was sold)
        wanted, new_c = _told(
            s.idx, s.tier, state.tier.reshape(-1), state.complaint.reshape(-1),
            state.complaint_t.reshape(-1), f.index, now,
        )  # fmt: skip
        raised += int(new_c.size)
        if f.index == 0:  # the focal firm
            # a sale shows the firm what it sold: the truth where that is what the
            # customer wanted
            tracker.detect(wanted, now)
            tracker.occur(EV["complaint"], new_c, now)
    return raised


@kernel
def _told(
    idx: np.ndarray,  # a firm's sales: flat (customer*C + category) positions
    tier: np.ndarray,  # the tiers sold
    desired: np.ndarray,  # (N*C,) int8 the tier each customer wants
    complaint: np.ndarray,  # (N*C,) int8 the firm complained about, -1 none
    complaint_t: np.ndarray,  # (N*C,) int32 the step the complaint was raised
    firm: int,
    now: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The sales at the tier the customer wants, and those that raised a complaint
    about the firm now, each in the sales' order (one call instead of a numpy call
    for each comparison and selection)."""
    wanted = np.empty(idx.size, dtype=np.bool_)
    raised = np.empty(idx.size, dtype=np.bool_)
    for r in range(idx.size):
        i = idx[r]
        wanted[r] = desired[i] == tier[r]
        raised[r] = complaint[i] == firm and complaint_t[i] == now
    return idx[wanted], idx[raised]
