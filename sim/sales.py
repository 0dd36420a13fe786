"""What a step's sales change beyond the customers who bought (docs/model.md §7.10,
§7.11): the sellers' accounts (revenue and sales counts), their records (a sale shows
the firm what it sold), the adopters of their launches, the complaints raised, and
what the focal firm's sales tell its detection of changes."""

from __future__ import annotations

import numpy as np

from sim.choice import Sales
from sim.detection import EV, DetectionTracker
from sim.firms import FirmBook
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
        wanted, new_c = record_sales(f, s.idx, s.tier, market, state, now)
        count_adopters(f, s.tier, cats, now)
        raised += int(new_c.size)
        if f.index == 0:  # the focal firm
            # a sale shows the firm what it sold: the truth where that is what the
            # customer wanted
            tracker.detect(wanted, now)
            tracker.occur(EV["complaint"], new_c, now)
    return raised
