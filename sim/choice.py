"""Exposure, choice and the sale (docs/model.md §7.10).

An active customer is exposed this step to: the offers that reached it through
contacts, the firm that serves the neighbour it talked to (word of mouth), and its
incumbent supplier. Word of mouth is the imitation term of the Bass (1969) model:
for a firm with contact probability p and a customer whose neighbours are served by
it in share s, the customer is exposed to it with probability p·pass + q·s — the
word-of-mouth draw is taken among customers the firm did not contact, with
probability q·s/(1-p), so the two sources add exactly as in the discrete Bass
recursion F(n+1) = F(n) + (1-F(n))(p + qF(n)).

Among the offers it is exposed to (and not buying), the customer picks by a
multinomial logit (McFadden 1974) on fit to its desired tier, quality, price times
its segment's price sensitivity, loyalty to the incumbent and negative word of
mouth. The chosen firm's sale links may lose the sale; its after-sale links may
raise a complaint.

The rule is one compiled kernel (``choice_kernel``: the picks in chunks of customers
run in parallel, ``_pick_all``, stage by stage in ``sim.choice_picks``; the sale
links and the sales after them; in ``sim.choice_kernels``) and its wrapper (``choice_step``). What it reads travels as records declared once: the
platforms' ``Exposure`` of the step (``sim.workspace``), the firms' ``ChoiceTables``
(which change only with a portfolio and are rebuilt when one does) and the scenario's
``ChoiceParams``. What the sales change in the firms' records and accounts is booked
by ``sim.sales``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.choice_kernels import ChoiceParams, ChoiceTables, choice_kernel
from sim.firms import AFTER_SALE_LINKS, SALE_LINKS, FirmBook
from sim.jit import threads_for
from sim.market import Market
from sim.network import Graph
from sim.rng import address
from sim.scenario import Choice, WordOfMouth
from sim.state import CustomerState
from sim.workspace import Exposure, Workspace


@dataclass
class Sales:
    """This step's completed sales of one firm, as flat (customer*C + category) positions."""

    idx: np.ndarray
    tier: np.ndarray  # tier sold
    loyal: np.ndarray  # bool: bought from the incumbent supplier


_LINKS = np.array(SALE_LINKS + AFTER_SALE_LINKS, dtype=np.int64)


def _choice_tables(firms: list[FirmBook], work: Workspace, spy: int) -> ChoiceTables:
    """The firms' portfolio and link tables, rebuilt only when a portfolio or a firm's
    settings changed (``spy``: steps per year)."""
    # the settings themselves are part of the key (compared by identity first)
    key = tuple((f.portfolio_version, f.spec) for f in firms)
    got = work.choice_tables
    if got is not None and got[0] == key:
        return got[1]  # type: ignore[no-any-return]
    caps = [
        [c.order_fulfilment, c.delivery_installation, c.use_assistance]
        for c in (f.spec.capacity for f in firms)
    ]
    tables = ChoiceTables(
        offers=np.stack([f.offers for f in firms]).astype(np.int64),
        quality=work.portfolios(firms)[0],
        price=np.stack([f.price for f in firms]).astype(np.float64),
        link_rate=np.stack([f.defect_rate[_LINKS] for f in firms]),
        link_cap=np.array(caps, dtype=np.float64) / spy,
    )
    work.choice_tables = (key, tables)
    return tables


_EMPTY = np.empty(0, dtype=np.int64)


def choice_step(
    state: CustomerState,
    market: Market,
    firms: list[FirmBook],
    exposure: Exposure,
    graph: Graph,
    choice: Choice,
    wom: WordOfMouth,
    unresolved: np.ndarray,
    now: int,
    key: np.ndarray,
    work: Workspace,
    misfit: float,
    complaint_keep: float,
    steps_per_year: int,
    voice: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Sales]:
    """Expose active customers to the offers of the step's ``exposure`` (written by the
    platforms), to their incumbents and to word of mouth; let them choose; pass the
    orders through the sale links (``key``: the Philox round keys of the ``behaviour``
    stream; ``misfit`` and ``complaint_keep``: the satisfaction a misfit tier costs and
    a complaint keeps; ``voice``: the (need, supplier) a neighbour speaks of, the truth
    unless later generations say otherwise, ``sim.generations.Generations.voice``).
    Returns each firm's completed sales, which ``sim.sales`` books."""
    n = state.need.shape[0]
    F = len(firms)
    tb = _choice_tables(firms, work, steps_per_year)
    indptr = _EMPTY if graph.indptr is None else graph.indptr
    indices = _EMPTY if graph.indices is None else graph.indices
    chain = np.zeros((F, 2, 5), dtype=np.int64)
    params = ChoiceParams(
        q=float(market.clock.chance(wom.q)),  # the chance per week, over the step
        q_week=float(wom.q),
        weeks=float(market.clock.weeks_per_step),
        fit=float(choice.fit),
        w_quality=float(choice.quality),
        loyalty=float(choice.loyalty),
        penalty=float(wom.complaint_penalty),
        outside=float(choice.outside_utility),
        misfit=float(misfit),
        complaint_keep=float(complaint_keep),
    )
    with threads_for(n):
        pos, firm_of, tiers, comp, loyal = choice_kernel(
            (state.need, state.tier, state.supplier, state.held, state.age, state.satisfaction),
            (state.complaint, state.complaint_t, state.segment, unresolved),
            (indptr, indices, *(voice or (state.need, state.supplier))),
            key,
            address(now),
            tb,
            exposure,
            market.seg_price_sens,
            params,
            now,
            work.tally.served,
            chain,
        )
    out: list[Sales] = []
    for f, firm in enumerate(firms):
        firm.chain_opp[_LINKS] += chain[f, 0]
        firm.chain_def[_LINKS] += chain[f, 1]
        mine = firm_of == f
        out.append(Sales(pos[mine], tiers[mine], loyal[mine]))
    return out
