"""What a firm knows and owns (``FirmBook``): its portfolio, its marketing platform's
records, its value-transfer chain, its strategy state and its accounts.

Every rule of ``sim`` is handed a firm's book, never the Mesa agent the model keeps
for the firm (``sim.model``; it only holds the book), so a new firm attribute is one
line here. A firm never reads ground truth for its decisions (docs/model.md §1, "The
central rule"; §2.2): its records (what it last saw of each customer, and when) are all
its targeting, offers and product planning know, and the structure makes that so —
those rules are handed the firm's ``FirmBook``, which has no handle on the market.
Records change only through the
firm's own contacts (read with the platform's strength, sometimes wrongly, lost to
feedback-link defects) and its own sales (which show what was sold, not what the
customer wanted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.market import Market
from sim.scenario import CHAIN_LINKS, Firm

LINK = {name: i for i, name in enumerate(CHAIN_LINKS)}
#: links acting at a contact (a defect means no offer reaches the customer)
CONTACT_LINKS = (LINK["needs_identification"], LINK["product_communication"])
#: links acting when a customer buys (a defect loses the sale)
SALE_LINKS = (LINK["order_fulfilment"], LINK["channel"], LINK["training_promotion"])
#: links acting after a sale (a defect raises a complaint)
AFTER_SALE_LINKS = (LINK["delivery_installation"], LINK["use_assistance"])


@dataclass
class Records:
    """What a firm believes about each customer (N,) / (N, C)."""

    covered: np.ndarray  # (N,) bool: in the platform
    known: np.ndarray  # (N,) bool: any record at all (covered or ever sold to)
    need: np.ndarray  # (N, C) int8 believed need state
    tier: np.ndarray  # (N, C) int8 believed desired tier
    supplier: np.ndarray  # (N, C) int8 believed supplier
    seen: np.ndarray  # (N,) int32 step of the last contact (``state.NEVER``: never)
    # kept up to date by ``sim.platform`` as records change, instead of recounted
    # every step (None: to be counted; see ``sim.records.keep_counts``)
    believed: np.ndarray | None = None  # (C, T) int64 believed needs per cell
    kind: np.ndarray | None = None  # (N,) uint8 0 not covered, 1 covered, 2 ... open need
    n_open: np.ndarray | None = None  # (1,) int64 customers of kind 2
    n_covered: int = -1  # customers in the platform (-1: to be counted)
    # the event engine's homogeneous contacts (``sim.platform``): each customer's next
    # candidate step, and the contact probability per step its chain was drawn with
    # (None: no chain; drawn when a step needs one)
    chain: np.ndarray | None = None  # (N,) int32
    chain_p: float = -1.0


@dataclass
class Launch:
    """A product launch and its evaluation."""

    firm: str
    category: str
    tier: str
    step: int
    kind: str  # "initial-scheduled", "scripted" or "planned"
    window: int
    target: int
    cell: tuple[int, int] = (0, 0)
    adopters: int = 0

    def outcome(self, now: int) -> str:
        if self.adopters >= self.target:
            return "success"
        return "failure" if now >= self.step + self.window else "pending"

    def as_dict(self, now: int) -> dict[str, Any]:
        return {
            "firm": self.firm,
            "category": self.category,
            "tier": self.tier,
            "step": self.step,
            "kind": self.kind,
            "window": self.window,
            "adopters": self.adopters,
            "target": self.target,
            "outcome": self.outcome(now),
        }


@dataclass
class Development:
    cell: tuple[int, int]
    started: int
    ready: int
    cost_per_step: float


class FirmBook:
    """What a firm knows and owns: its portfolio, its platform's records, its strategy
    state and its accounts. It holds no handle on the market's true state (no model,
    no customers), so the rules that decide — targeting, offers, product planning,
    retirement — are handed a book and can read nothing but beliefs."""

    def __init__(self, index: int, spec: Firm, market: Market) -> None:
        self.index = index
        self.spec = spec
        self.name = spec.name
        self.clock = market.clock  # the scenario's weeks in the run's steps
        C, T = market.n_categories, market.n_tiers
        self.has = np.zeros((C, T), dtype=bool)
        self.price = market.default_price.copy()
        self.quality = market.default_quality.copy()
        self.launched_at = np.full((C, T), -1, dtype=np.int64)
        self.records: Records | None = None
        self.coverage_u = np.zeros(0)  # (N,) the set-up draw that places customers in the platform
        self.chain_opp = np.zeros(len(CHAIN_LINKS), dtype=np.int64)
        self.chain_def = np.zeros(len(CHAIN_LINKS), dtype=np.int64)
        d = np.array([getattr(spec.chain, k) for k in CHAIN_LINKS], dtype=np.float64)
        self.defect_rate = d
        self.above = np.zeros((C, T), dtype=np.int64)
        self.below = np.zeros((C, T), dtype=np.int64)
        self.developing: list[Development] = []
        self.launches: list[Launch] = []
        self.planning_events: list[dict[str, Any]] = []
        self.reset_accounts()
        # standard: which segments / cells the firm targets
        std = spec.platform.standard
        self.std_segments = np.array(
            [not std.segments or s in std.segments for s in market.seg_names], dtype=bool
        )
        cell = np.zeros((C, T), dtype=bool)
        for c in range(C):
            if std.categories and market.category_names[c] not in std.categories:
                continue
            for k in range(int(market.tier_count[c])):
                cell[c, k] = not std.tiers or market.tier_names[c][k] in std.tiers
        self.std_cells = cell
        self.std_cat = cell.any(axis=1)  # (C,) categories with a cell in the standard
        self.offers = self.offer_tier()
        #: counts portfolio changes (tables derived from prices, qualities and offers
        #: are rebuilt when it moves)
        self.portfolio_version = 0

    def reset_accounts(self) -> None:
        """Start the accounts and the chain's counts afresh (at step 0)."""
        self.revenue = 0.0
        self.contact_cost = 0.0
        self.development_cost = 0.0
        self.step_revenue = 0.0
        self.step_cost = 0.0
        self.contacts = 0
        self.sales = 0
        self.step_sales = 0
        self.chain_opp[:] = 0
        self.chain_def[:] = 0
        self.planning_events.clear()

    # ---------------------------------------------------------------- portfolio
    def add_product(self, c: int, k: int, price: float, quality: float, now: int) -> None:
        self.has[c, k] = True
        if price >= 0:
            self.price[c, k] = price
        if quality >= 0:
            self.quality[c, k] = quality
        self.launched_at[c, k] = now
        self.offers = self.offer_tier()
        self.portfolio_version += 1

    def retire_product(self, c: int, k: int) -> None:
        self.has[c, k] = False
        self.offers = self.offer_tier()
        self.portfolio_version += 1

    def offer_tier(self) -> np.ndarray:
        """(C, T): the tier this firm offers a customer desiring each tier (-1: none).

        The closest tier it sells; on a tie, the lower (cheaper) one.
        """
        C, T = self.has.shape
        k = np.arange(T)
        dist = np.abs(k[None, :] - k[:, None]) * 2 + (k[None, :] > k[:, None])  # (desired, offered)
        out = np.full((C, T), -1, dtype=np.int64)
        for c in range(C):
            if not self.has[c].any():
                continue
            d = np.where(self.has[c][None, :], dist, 10**6)
            out[c] = d.argmin(axis=1)
        return out
