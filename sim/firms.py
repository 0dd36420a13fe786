"""Firms: ``mesa.Agent``s with a portfolio, a marketing platform's records and a
value-transfer chain.

A firm never reads ground truth for its decisions: its records (what it last saw
of each customer, and when) are all its targeting, planning and complaint
handling know (DESIGN §2a). Records change only through its own contacts (read
with the platform's strength, lost to feedback-link defects) and its own sales.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim.market import Market
from sim.scenario import CHAIN_LINKS, Firm

if TYPE_CHECKING:
    from sim.model import DemandModel

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
    seen: np.ndarray  # (N,) int32 step of the last contact (-1 never)
    # kept up to date by ``sim.platform`` as records change, instead of recounted
    # every step (None: to be counted; see ``sim.platform.keep_counts``)
    believed: np.ndarray | None = None  # (C, T) int64 believed needs per cell
    kind: np.ndarray | None = None  # (N,) uint8 0 not covered, 1 covered, 2 ... open need
    n_open: np.ndarray | None = None  # (1,) int64 customers of kind 2


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


class FirmAgent(mesa.Agent):
    """One firm: portfolio, platform records, strategy state and accounts."""

    model: DemandModel

    def __init__(self, model: DemandModel, index: int, spec: Firm, market: Market) -> None:
        super().__init__(model)
        self.index = index
        self.spec = spec
        self.name = spec.name
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
        self.revenue = 0.0
        self.contact_cost = 0.0
        self.development_cost = 0.0
        self.step_revenue = 0.0
        self.step_cost = 0.0
        self.contacts = 0
        self.sales = 0
        self.step_sales = 0
        self.planning_events: list[dict[str, Any]] = []
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
        self.offers = self.offer_tier()
        #: counts portfolio changes (tables derived from prices, qualities and offers
        #: are rebuilt when it moves)
        self.portfolio_version = 0

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

    # ---------------------------------------------------------------- chain
    def link_bands(self, links: tuple[int, ...]) -> np.ndarray:
        """Upper edges of the bands in which one uniform fails each of consecutive links:
        the first link fails below its defect rate, the next in the band of its rate of
        what passed, and so on (float64, so that float32 uniforms compare in float64)."""
        lo = np.float64(0.0)
        survive = 1.0
        out = np.empty(len(links), dtype=np.float64)
        for k, link in enumerate(links):
            d = self.defect_rate[link]
            out[k] = lo = lo + survive * d
            survive *= 1.0 - d
        return out

    def defect_band(self, links: tuple[int, ...]) -> float:
        """Chance that an item fails one of consecutive links: 1 - Π(1 - d)."""
        return float(1.0 - np.prod(1.0 - self.defect_rate[list(links)]))

    def run_links(self, links: tuple[int, ...], u: np.ndarray) -> np.ndarray:
        """Pass items through consecutive chain links with one uniform each.

        The first link fails with its defect rate; an item that passes goes on to
        the next. Counts opportunities and defects per link. Returns the index of
        the failed link for each item (-1: passed all).
        """
        failed = np.full(u.shape, -1, dtype=np.int64)
        edges = self.link_bands(links)  # the same for every item
        alive = np.ones(u.shape, dtype=bool)
        n_alive = int(u.size)
        for k, link in enumerate(links):
            self.chain_opp[link] += n_alive
            if n_alive == 0:
                continue
            hit = alive & (u < edges[k])
            nd = int(np.count_nonzero(hit))
            self.chain_def[link] += nd
            failed[hit] = link
            alive &= ~hit
            n_alive -= nd
        return failed

    def step(self) -> None:  # pragma: no cover - the model wires the rules in order
        """Firms do not act on their own: ``DemandModel.step`` calls the rules."""
