"""Successive product generations: the two-clock rule (Norton & Bass 1987; Jiang &
Jain 2012). A category that ``supersedes`` another is its later generation.

Each customer carries two clocks for a later generation, independent of each other:

- **readiness**: a customer in the earlier generation's market (who needs or holds
  it) becomes ready when it first buys the technology. That is the model's ordinary
  adoption of the earlier generation (contacts: innovation; word of mouth: imitation),
  where a neighbour who moved on to the later generation is ready too and speaks
  for the earlier one (``voice``): for the firm that serves it there where that firm
  sells the earlier generation, else for the firm it left. So every ready customer of
  that market drives imitation, whatever generation and supplier it holds.
- **awareness** (``become_aware``, after the demand process): from the step any firm
  sells the later generation, a customer not yet aware of it becomes aware with
  chance p + q × A, with p and q the category's own ``awareness_p`` and
  ``awareness_q`` and A the share aware among the customer's neighbours (the whole
  population under mean-field mixing). One uniform per customer and step from the
  ``generations`` stream, purpose ``AWARE``, sub the category. On the event engine
  (``sim.engine``) a customer draws only at its candidate steps, a chain of geometric
  skips at the largest chance a step can give (purpose ``AWARE_SKIP``), and becomes
  aware there with its chance over that bound (thinning; ``start_chains``).

A ready customer holds the newest generation it is aware of (``hold_newest``, after
the choice): one who holds the earlier generation and is aware of the later one
upgrades to it from its supplier (Jiang & Jain's switching adopter); one who buys the
earlier generation while aware buys the later one instead (a leapfrogging adopter);
a customer of the later generation's own new market (``own_market``: customers
outside the earlier market who want only the later one) buys it once aware, from a
firm that sells it (each as likely: one uniform, purpose ``OWN``). Where the
supplier does not sell the later generation, its need opens (``become_aware``) and
the ordinary choice decides; buying it there ends the earlier need (``substitute``).

In the mean field, with every exposed customer buying, S1 = m1 F1 (1 - F2) and
S2 = F2 (m2 + m1 F1): the Norton–Bass curves, in overlap too (docs/model.md §7.17).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.choice import Sales
from sim.jit import kernel
from sim.market import Market
from sim.network import Graph
from sim.rng import address, log_miss, next_candidate, uniform, uniforms, uniforms_at
from sim.schema import Category
from sim.state import ACTIVE, LATENT, NO_FIRM, NONE, SERVED, CustomerState, satisfaction_of
from sim.workspace import Workspace

_EMPTY = np.empty(0, dtype=np.int64)
# purposes of the ``generations`` stream: the awareness draw, the own market, and (the
# event engine) the skip from an awareness candidate step to the next
AWARE, OWN, AWARE_SKIP = 0, 1, 2


@dataclass
class Generations:
    """The rule's parameters (per category; read only where ``supersedes`` is set)
    and its own state."""

    later: tuple[int, ...]  # the later generations, each after the one it supersedes
    supersedes: np.ndarray  # (C,) the earlier generation of each category, -1 none
    own_market: np.ndarray  # (C,) share of all customers in the own new market
    p: np.ndarray  # (C,) awareness innovation, per week
    q: np.ndarray  # (C,) awareness imitation, per week
    aware: np.ndarray  # (N, C) bool: aware of the later generation c
    came_from: np.ndarray  # (N, C) int8: the firm left in the earlier market on
    # coming to generation c (its supplier there), -1 none
    #: the event engine's awareness calendar (``start_chains``): each customer's next
    #: candidate step per later generation, and the bound it is drawn at; None on the
    #: sweep, which draws every customer every step
    chain: np.ndarray | None = None  # (N, C) int32
    bound: np.ndarray | None = None  # (C,) float64

    def start_chains(self, key: np.ndarray, start: int, weeks_per_step: float) -> None:
        """The event engine's awareness calendar from step ``start`` (the history's
        first): candidate steps at the bound b = 1 − (1 − min(p + q, 1))^weeks, the
        largest chance a step can give (every neighbour aware), thinned to the
        customer's chance at each candidate (``become_aware``)."""
        n, C = self.aware.shape
        self.bound = np.zeros(C)
        self.chain = np.empty((n, C), dtype=np.int32)
        for c in self.later:
            b = 1.0 - (1.0 - min(self.p[c] + self.q[c], 1.0)) ** weeks_per_step
            self.bound[c] = b
            _first_aware(key, address(start), start, c, b, log_miss(b), self.chain)

    @classmethod
    def build(cls, categories: tuple[Category, ...], market: Market, n: int) -> Generations:
        """The rule for a scenario's categories, with nobody aware yet."""
        later = tuple(c for c in market.generations if market.supersedes[c] >= 0)
        C = market.n_categories
        return cls(
            later=later,
            supersedes=market.supersedes,
            own_market=np.array([c.own_market for c in categories]),
            p=np.array([c.awareness_p for c in categories]),
            q=np.array([c.awareness_q for c in categories]),
            aware=np.zeros((n, C) if later else (0, C), dtype=bool),
            came_from=np.full((n, C) if later else (0, C), NO_FIRM, dtype=np.int8),
        )

    def open_own_markets(
        self, state: CustomerState, market: Market, rng: np.random.Generator
    ) -> None:
        """At set-up: a share ``own_market`` of all customers, drawn among those outside
        the earlier generation's market, wants only the later generation (latent)."""
        need = state.need
        for c in self.later:
            outside = need[:, market.supersedes[c]] == NONE
            chance = self.own_market[c] / max(outside.mean(), 1e-12)
            need[:, c] = np.where(outside & (rng.random(need.shape[0]) < chance), LATENT, NONE)

    def voice(self, state: CustomerState, has_product: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(need, supplier) as a neighbour speaks of them: one who came from an earlier
        generation to a later one it is served in is ready, and speaks for the earlier
        generation too: for its supplier in the later one where that firm sells the
        earlier generation (``has_product``: (F, C, T) the cells on sale), else for
        the firm it left."""
        if not self.later:
            return state.need, state.supplier
        need, sup = state.need.copy(), state.supplier.copy()
        for c in reversed(self.later):  # a third generation speaks for the first too
            e = int(self.supersedes[c])
            w = np.flatnonzero((self.came_from[:, c] >= 0) & (need[:, c] == SERVED))
            firm = sup[w, c]
            sells = has_product[:, e, :].any(axis=1)
            need[w, e] = SERVED
            sup[w, e] = np.where(sells[np.maximum(firm, 0)], firm, self.came_from[w, c])
        return need, sup


def become_aware(
    gens: Generations,
    state: CustomerState,
    market: Market,
    has_product: np.ndarray,
    graph: Graph,
    key: np.ndarray,
    now: int,
    work: Workspace,
) -> np.ndarray:
    """Advance the awareness clocks of the later generations on sale; open the later
    need of aware customers whose earlier supplier does not sell it.

    Args:
        gens: the rule, its ``aware`` flags changed in place.
        state: ground truth, changed in place.
        market: the compiled market.
        has_product: (F, C, T) which cells each firm sells now.
        graph: the word-of-mouth network (its CSR arrays; none under mean-field mixing).
        key: the ``generations`` stream's round keys.
        now: this step.
        work: the model's workspace (its tally of active or served needs is kept).

    Returns:
        The flat (customer * C + category) positions whose need became active.
    """
    n, C = state.need.shape
    weeks = market.clock.weeks_per_step
    opened = []
    for c in gens.later:
        on_sale = bool(has_product[:, c, :].any())
        if gens.chain is not None and gens.bound is not None:
            # the event engine: the customers at a candidate step (every chain moves on,
            # on sale or not, so that it stays on the calendar)
            b = float(gens.bound[c])
            mixing = graph.indptr is None
            _aware_candidates(
                key, address(now), now, c, gens.chain, b, log_miss(b), gens.aware, on_sale,
                float(gens.p[c]), float(gens.q[c]), weeks,
                _NO_EDGES if mixing else graph.indptr, _NO_EDGES if mixing else graph.indices,
                float(gens.aware[:, c].mean()) if mixing else 0.0,
            )  # fmt: skip
        if not on_sale:
            continue
        aware = gens.aware[:, c]
        if gens.chain is None:  # the sweep: every customer draws every step
            if graph.indptr is None:
                share = np.full(n, aware.mean())
            else:
                deg = np.diff(graph.indptr)
                hits = np.bincount(
                    np.repeat(np.arange(n), deg), weights=aware[graph.indices], minlength=n
                )
                share = hits / np.maximum(deg, 1)
            weekly = np.minimum(gens.p[c] + gens.q[c] * share, 1.0)
            chance = 1.0 - (1.0 - weekly) ** weeks
            aware |= uniforms(key, address(now), n, AWARE, c) < chance
        # a supplier that does not sell the later generation cannot upgrade its
        # customer: the customer's need there opens, for any firm to win
        e = market.supersedes[c]
        sells = has_product[:, c, :].any(axis=1)
        need, sup = state.need, state.supplier
        idx = np.flatnonzero(
            aware
            & (need[:, e] == SERVED)
            & ((need[:, c] == NONE) | (need[:, c] == LATENT))
            & ~sells[np.maximum(sup[:, e], 0)]
        )
        if idx.size == 0:
            continue
        tier = np.minimum(state.tier[idx, e], market.tier_count[c] - 1).astype(np.int8)
        state.tier[idx, c] = tier
        need[idx, c] = ACTIVE
        sup[idx, c] = NO_FIRM
        state.held[idx, c] = -1
        state.age[idx, c] = 0
        np.add.at(work.tally.cells[c], tier, 1)
        opened.append(idx.astype(np.int64) * C + c)
    return np.concatenate(opened) if opened else _EMPTY


def hold_newest(
    gens: Generations,
    state: CustomerState,
    market: Market,
    offers: np.ndarray,
    quality: np.ndarray,
    sales: list[Sales],
    key: np.ndarray,
    now: int,
    work: Workspace,
    misfit: float,
) -> tuple[list[Sales], np.ndarray]:
    """Every ready customer aware of a later generation holds it: upgrades (from its
    supplier), leapfrogs (this step's purchase of the earlier generation becomes one
    of the later) and the own market's first purchases.

    Args:
        offers: (F, C, T) each firm's tier for each desired tier, -1 none.
        quality: (F, C, T) each firm's product quality per cell.
        sales: the choice's sales of this step, per firm.
        key: the ``generations`` stream's round keys.
        misfit: satisfaction lost per tier of misfit.

    Returns:
        Each firm's sales of the step (the choice's, leapfrogs turned into sales of the
        later generation, and the rule's own) and the flat positions of the earlier
        needs that ended.
    """
    if not gens.later:
        return sales, _EMPTY
    n, C = state.need.shape
    F = offers.shape[0]
    need, sup = state.need, state.supplier
    extra: list[list[np.ndarray]] = [[] for _ in range(F)]
    ended = []
    for c in gens.later:
        e = market.supersedes[c]
        aware = gens.aware[:, c]
        top = market.tier_count[c] - 1
        # ready and aware: holds the earlier generation from a firm that sells the later
        ups = np.flatnonzero(aware & (need[:, e] == SERVED) & (need[:, c] != SERVED))
        f_up = sup[ups, e].astype(np.int64)
        want_up = np.minimum(state.tier[ups, e], top)
        ok = offers[f_up, c, want_up] >= 0
        ups, f_up, want_up = ups[ok], f_up[ok], want_up[ok]
        # the own new market: ready from the start, buys once aware
        own = np.flatnonzero(
            aware & (need[:, e] == NONE) & ((need[:, c] == LATENT) | (need[:, c] == ACTIVE))
        )
        gens.came_from[ups, c] = f_up
        ended.append(_end(state, work, ups, e) * C + e)
        want_own = state.tier[own, c].astype(np.int64)
        sellers = offers[:, c, :][:, want_own] >= 0  # (F, k)
        count = sellers.sum(axis=0)
        has = count > 0
        own, want_own, sellers, count = own[has], want_own[has], sellers[:, has], count[has]
        u = uniforms_at(key, address(now), own.astype(np.int64), OWN, c)
        rank = np.minimum((u * count).astype(np.int64), count - 1)
        f_own = (np.cumsum(sellers, axis=0) <= rank[None, :]).sum(axis=0)
        idx = np.concatenate([ups, own])
        firm = np.concatenate([f_up, f_own]).astype(np.int64)
        want = np.concatenate([want_up, want_own]).astype(np.int64)
        sold = offers[firm, c, want]
        counted = (need[idx, c] == ACTIVE) | (need[idx, c] == SERVED)
        np.add.at(work.tally.cells[c], want[~counted], 1)
        np.add.at(work.tally.served, firm, 1)
        state.tier[idx, c] = want
        need[idx, c] = SERVED
        sup[idx, c] = firm
        state.held[idx, c] = sold
        state.age[idx, c] = 0
        state.satisfaction[idx, c] = satisfaction_of(quality[firm, c, sold], sold, want, misfit)
        for f in range(F):
            mine = firm == f
            extra[f].append(idx[mine].astype(np.int64) * C + c)
            extra[f].append(sold[mine])
    gone = np.concatenate(ended) if ended else _EMPTY
    out = []
    for f, s in enumerate(sales):
        keep = ~np.isin(s.idx, gone)  # leapfrogs: sold the later generation instead
        pos = np.concatenate([s.idx[keep], *extra[f][0::2]])
        tier = np.concatenate([s.tier[keep], *extra[f][1::2]]).astype(s.tier.dtype)
        loyal = np.concatenate([s.loyal[keep], np.zeros(pos.size - keep.sum(), dtype=bool)])
        out.append(Sales(pos, tier, loyal))
    return out, gone


def _end(state: CustomerState, work: Workspace, idx: np.ndarray, e: int) -> np.ndarray:
    """End the earlier-generation need of customers ``idx`` (a product held is given
    up); returns ``idx`` as int64."""
    need = state.need
    was = need[idx, e]
    counted = (was == ACTIVE) | (was == SERVED)
    np.add.at(work.tally.cells[e], state.tier[idx[counted], e], -1)
    served = was == SERVED
    np.add.at(work.tally.served, state.supplier[idx[served], e], -1)
    need[idx, e] = NONE
    state.supplier[idx, e] = NO_FIRM
    state.held[idx, e] = -1
    state.age[idx, e] = 0
    state.satisfaction[idx, e] = 0.5
    return idx.astype(np.int64)


def substitute(
    gens: Generations, state: CustomerState, market: Market, work: Workspace
) -> np.ndarray:
    """End the earlier-generation need of every customer served in the later one
    through the ordinary choice.

    Returns:
        The flat positions of the earlier-generation needs that ended (they close,
        as a lapsed need does).
    """
    C = market.n_categories
    ended = []
    for c in gens.later:
        e = market.supersedes[c]
        idx = np.flatnonzero((state.need[:, c] == SERVED) & (state.need[:, e] != NONE))
        if idx.size == 0:
            continue
        # ready: it bought the technology (the firm it leaves; its supplier in the
        # later generation where it had none in the earlier one)
        left = state.supplier[idx, e]
        gens.came_from[idx, c] = np.where(left >= 0, left, state.supplier[idx, c])
        ended.append(_end(state, work, idx, e) * C + e)
    return np.concatenate(ended) if ended else _EMPTY


_NO_EDGES = np.empty(0, dtype=np.int64)


@kernel
def _first_aware(rk, step_addr, start, c, b, lq, chain):  # type: ignore[no-untyped-def]
    """Every customer's first awareness candidate of generation ``c`` after ``start``."""
    for i in range(chain.shape[0]):
        chain[i, c] = next_candidate(start, uniform(rk, step_addr, i, AWARE_SKIP, c), b, lq)


@kernel
def _aware_candidates(  # type: ignore[no-untyped-def]
    rk, step_addr, now, c, chain, b, lq, aware, on_sale, p, q, weeks, indptr, indices, mixed
):
    """The event engine's awareness of generation ``c`` at step ``now``: each customer
    at a candidate step moves its chain on (``AWARE_SKIP``) and, if the generation is
    on sale and the customer not yet aware, becomes aware if its ``AWARE`` uniform × b
    falls below its chance this step, 1 − (1 − min(p + q × share, 1))^weeks, share the
    aware among its neighbours (``mixed``: among all customers, under mean-field
    mixing), as the awareness stood before the step."""
    n = chain.shape[0]
    newly = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if chain[i, c] != now:
            continue
        chain[i, c] = next_candidate(now, uniform(rk, step_addr, i, AWARE_SKIP, c), b, lq)
        if not on_sale or aware[i, c]:
            continue
        if indptr.size == 0:
            share = mixed
        else:
            lo, hi = indptr[i], indptr[i + 1]
            hits = 0
            for k in range(lo, hi):
                hits += aware[indices[k], c]
            share = hits / max(hi - lo, 1)
        chance = 1.0 - (1.0 - min(p + q * share, 1.0)) ** weeks
        if uniform(rk, step_addr, i, AWARE, c) * b < chance:
            newly[m] = i
            m += 1
    for r in range(m):
        aware[newly[r], c] = True
