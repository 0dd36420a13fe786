"""What a step's sales change beyond the customers who bought: the sellers' records
(a sale shows the firm what it sold), the adopters of their launches, the complaints
raised, and what the focal firm's sales tell its detection of changes."""

from __future__ import annotations

from sim.choice import Sales
from sim.detection import EV, DetectionTracker
from sim.firms import FirmAgent
from sim.market import Market
from sim.platform import record_sales
from sim.state import CustomerState
from sim.strategy import count_adopters
from sim.workspace import Workspace


def book_sales(
    firms: list[FirmAgent],
    sales: list[Sales],
    state: CustomerState,
    market: Market,
    work: Workspace,
    tracker: DetectionTracker,
    now: int,
) -> int:
    """Book each firm's sales of step ``now``; returns the complaints they raised."""
    C = market.n_categories
    raised = 0
    for f, s in zip(firms, sales, strict=True):
        if s.idx.size == 0:
            continue
        record_sales(f, s.idx, s.tier, work, market)
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
