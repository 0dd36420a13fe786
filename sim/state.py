"""The customers: one struct of arrays, one row per customer (docs/model.md §2.1, §5).

Per customer and category: the need state (none / latent / active / served),
the desired tier, the supplier (for an active need: the incumbent, if any), the
tier held, time in consumption, satisfaction, and an open complaint. Ground truth
lives here; firms only see it through their records (``sim.platform``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from sim.jit import kernel
from sim.market import Market

NONE, LATENT, ACTIVE, SERVED = 0, 1, 2, 3
NEED_STATES = ("none", "latent", "active", "served")
NO_FIRM = -1
#: complaint_t of a customer with no complaint
NEVER = np.iinfo(np.int32).min // 2
#: customers per block where the initial draw builds (firms x customers) temporaries
_BLOCK = 1 << 16


@dataclass
class CustomerState:
    """Ground truth about every customer. Arrays are (N,) or (N, C)."""

    segment: np.ndarray  # (N,) int8
    need: np.ndarray  # (N, C) int8, one of NONE/LATENT/ACTIVE/SERVED
    tier: np.ndarray  # (N, C) int8 desired tier
    supplier: np.ndarray  # (N, C) int8 current (served) or last (active) supplier, -1 none
    held: np.ndarray  # (N, C) int8 tier of the product held, -1 none
    age: np.ndarray  # (N, C) int16 steps in consumption
    satisfaction: np.ndarray  # (N, C) float32 in [0, 1]
    complaint: np.ndarray  # (N, C) int8 firm complained about, -1 none
    complaint_t: np.ndarray  # (N, C) int32 step the complaint was raised

    @property
    def n(self) -> int:
        return int(self.need.shape[0])

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))

    def check(self) -> None:
        """Invariants (used by tests): states valid, served needs have a supplier."""
        assert ((self.need >= NONE) & (self.need <= SERVED)).all()
        served = self.need == SERVED
        assert (self.supplier[served] >= 0).all()
        assert (self.held[served] >= 0).all()


@njit(inline="always")
def satisfaction(quality, held, desired, misfit):  # type: ignore[no-untyped-def]
    """Satisfaction with a product: its quality less ``misfit`` per tier between the
    tier held and the tier desired, within [0, 1] (``demand.misfit_satisfaction``)."""
    s = quality - misfit * abs(np.float64(held) - np.float64(desired))
    return np.float32(min(max(s, 0.0), 1.0))


@kernel
def satisfaction_of(
    quality: np.ndarray, held: np.ndarray, desired: np.ndarray, misfit: float
) -> np.ndarray:
    """``satisfaction`` of each product in arrays of the same shape (float32)."""
    q, h, d = quality.ravel(), held.ravel(), desired.ravel()
    out = np.empty(q.size, dtype=np.float32)
    for k in range(q.size):
        out[k] = satisfaction(q[k], h[k], d[k], misfit)
    return out.reshape(quality.shape)


def initial_state(
    n: int,
    market: Market,
    init_shares: tuple[float, float, float],
    offer_tier: np.ndarray,
    firm_weight: np.ndarray,
    quality_table: np.ndarray,
    misfit: float,
    rng: np.random.Generator,
) -> CustomerState:
    """Draw the starting market.

    Args:
        n: customers.
        market: compiled market.
        init_shares: shares of needs (latent, active, served) at step 0.
        offer_tier: (F, C, T) the tier each firm would sell for each desired tier, -1 none.
        firm_weight: (F,) relative initial shares of the firms.
        quality_table: (F, C, T) quality of each firm's product per cell.
        misfit: satisfaction lost per tier of misfit.
        rng: the ``init`` stream.
    """
    C = market.n_categories
    F = offer_tier.shape[0]
    seg = np.searchsorted(np.cumsum(market.seg_share), rng.random(n), side="right")
    seg = np.minimum(seg, len(market.seg_share) - 1).astype(np.int8)
    # desired tier per category from the segment's mix
    cum = np.cumsum(market.seg_tier_mix, axis=2)  # (S, C, T)
    u = rng.random((n, C))
    tier = np.zeros((n, C), dtype=np.int8)
    for c in range(C):  # one (N,) column at a time: no (N, C, T) temporary
        for k in range(cum.shape[2]):
            tier[:, c] += u[:, c] > cum[seg, c, k]
    tier = np.minimum(tier, market.tier_count[None, :] - 1).astype(np.int8)
    # need state
    lat, act, srv = init_shares
    u = rng.random((n, C))
    need = np.full((n, C), NONE, dtype=np.int8)
    need[u < lat + act + srv] = LATENT
    need[u < act + srv] = ACTIVE
    need[u < srv] = SERVED
    # complement categories start without needs unless opened later
    need[:, market.is_complement] = np.where(
        need[:, market.is_complement] == SERVED, NONE, need[:, market.is_complement]
    )
    # a later generation's market is its earlier generation's market and its own new
    # market, which sim.generations draws
    need[:, market.supersedes >= 0] = NONE
    # initial supplier among firms offering something for the desired tier
    u_sup = rng.random((n, C))
    u_age = rng.random((n, C))
    supplier = np.full((n, C), NO_FIRM, dtype=np.int8)
    held = np.full((n, C), -1, dtype=np.int8)
    # per category and block of customers: the (F, block) temporaries stay small
    for c in range(C):
        for lo in range(0, n, _BLOCK):
            part = slice(lo, min(lo + _BLOCK, n))
            offers = offer_tier[:, c, :][:, tier[part, c]]  # (F, block)
            w = np.where(offers >= 0, firm_weight[:, None], 0.0)
            tot = w.sum(axis=0)
            pick = (u_sup[part, c][None, :] * tot[None, :] > np.cumsum(w, axis=0)).sum(axis=0)
            pick = np.minimum(pick, F - 1)
            can = tot > 0
            need_c = need[part, c]  # views: assignments below write into the state
            served = (need_c == SERVED) & can
            need_c[(need_c == SERVED) & ~can] = ACTIVE
            supplier[part, c][served] = pick[served]
            held[part, c][served] = offers[pick, np.arange(pick.size)][served]
    del u_sup
    # below the lifetime, which the scenario keeps within int16 (docs/model.md §2.1)
    age = (u_age * market.lifetime[None, :]).astype(np.int16)
    del u_age
    age[need != SERVED] = 0
    sat = np.full((n, C), 0.5, dtype=np.float32)
    for c in range(C):
        served = need[:, c] == SERVED
        held_c = np.maximum(held[:, c], 0)
        q = np.where(served, quality_table[np.maximum(supplier[:, c], 0), c, held_c], 0.5)
        fit = satisfaction_of(q.astype(np.float64), held_c, tier[:, c], misfit)
        sat[:, c] = np.where(served, fit, 0.5)
    return CustomerState(
        segment=seg,
        need=need,
        tier=tier,
        supplier=supplier,
        held=held,
        age=age,
        satisfaction=sat,
        complaint=np.full((n, C), NO_FIRM, dtype=np.int8),
        complaint_t=np.full((n, C), NEVER, dtype=np.int32),
    )
