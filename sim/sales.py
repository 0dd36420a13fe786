"""What a step's sales change beyond the customers who bought (docs/model.md §7.10,
§7.11): the sellers' accounts (revenue and sales counts), their records (a sale shows
the firm what it sold), the adopters of their launches, the complaints raised, and
what the focal firm's sales tell its detection of changes."""

from __future__ import annotations

from sim.choice import Sales
from sim.detection import EV, DetectionTracker
from sim.firms import FirmBook
from sim.market import Market
from sim.records import record_sales
from sim.state import CustomerState
from sim.strategy import count_adopters


def book_revenue(firm: FirmBook, sales: Sales, n_categories: int) -> None:
    """Credit a firm's sales of the step to its accounts: revenue is the price of each
    cell sold (docs/model.md §7.10, "Sale links")."""
    revenue = float(firm.price[sales.idx % n_categories, sales.tier].sum())
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
        book_revenue(f, s, C)
        record_sales(f, s.idx, s.tier, market)
        count_adopters(f, s.tier, s.idx % C, now)
        new_c = s.idx[state.complaint.reshape(-1)[s.idx] == f.index]
        new_c = new_c[state.complaint_t.reshape(-1)[new_c] == now]
        raised += int(new_c.size)
        if f.index == 0:  # the focal firm
            # a sale shows the firm what it sold: the truth where that is what the
            # customer wanted
            tracker.detect(s.idx[state.tier.reshape(-1)[s.idx] == s.tier], now)
            tracker.occur(EV["complaint"], new_c, now)
    return raised
