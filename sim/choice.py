"""Exposure, choice and the sale (DESIGN §3, "Choice").

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.firms import AFTER_SALE_LINKS, SALE_LINKS, FirmAgent
from sim.market import Market
from sim.network import Graph
from sim.platform import Contacts
from sim.rng import uniform_f32_at
from sim.scenario import Choice, WordOfMouth
from sim.state import ACTIVE, NO_FIRM, SERVED, CustomerState, satisfaction_of


@dataclass
class Sales:
    """This step's completed sales of one firm, as flat (customer*C + category) positions."""

    idx: np.ndarray
    tier: np.ndarray  # tier sold


def choice_step(
    state: CustomerState,
    market: Market,
    firms: list[FirmAgent],
    contacts: list[Contacts],
    graph: Graph,
    choice: Choice,
    wom: WordOfMouth,
    unresolved: np.ndarray,
    now: int,
    rng: np.random.Generator,
) -> list[Sales]:
    """Expose active customers to offers, let them choose, and book the sales."""
    n, C = state.need.shape
    F = len(firms)
    need = state.need.reshape(-1)
    act = np.flatnonzero(need == ACTIVE)
    cust = act // C
    # the same four blocks are drawn every step, in this order; each is cut down to the
    # active needs at once, so that no two full blocks are alive together (memory)
    u_nbr = rng.random((n,))[cust]
    uw = uniform_f32_at(rng, n * C, act)
    u_pick = rng.random((n, C)).reshape(-1)[act]
    u_sale = uniform_f32_at(rng, n * C, act)
    empty = [Sales(np.empty(0, np.int64), np.empty(0, np.int64)) for _ in firms]
    if act.size == 0:
        return empty
    cat = act % C
    desired = state.tier.reshape(-1)[act].astype(np.int64)
    incumbent = state.supplier.reshape(-1)[act].astype(np.int64)

    nbr = graph.sample_neighbours(u_nbr, cust)
    has_nbr = nbr >= 0
    nb = np.where(has_nbr, nbr, 0) * C + cat
    nb_sup = np.where(has_nbr & (need[nb] == SERVED), state.supplier.reshape(-1)[nb], NO_FIRM)
    nb_bad = np.where(
        has_nbr & unresolved.reshape(-1)[nb], state.complaint.reshape(-1)[nb], NO_FIRM
    )

    any_exposed = np.zeros(act.size, dtype=bool)
    # one row per firm (contiguous), one column per active need
    util = np.full((F, act.size), -np.inf)
    offer = np.full((F, act.size), -1, dtype=np.int64)
    seg = state.segment[cust]
    ps = market.seg_price_sens[seg]
    T = market.n_tiers
    cell = cat * T + desired  # (category, desired tier) as a flat index into (C, T) tables
    for f, firm in enumerate(firms):
        fit_quality, price_of = offer_tables(firm, choice)
        ot = firm.offers.reshape(-1)[cell]  # (M,)
        sells = ot >= 0
        by_contact = contacts[f].offered.reshape(-1)[act]
        p_all = contacts[f].p
        assert p_all is not None
        p_c = p_all[cust].astype(np.float64)
        not_contacted = ~contacts[f].contacted[cust]
        by_wom = (nb_sup == f) & not_contacted & (uw < wom.q / np.maximum(1.0 - p_c, 1e-12))
        by_inc = incumbent == f
        e = sells & (by_contact | by_wom | by_inc)
        any_exposed |= e
        v = (
            fit_quality.reshape(-1)[cell]
            - ps * price_of.reshape(-1)[cell]
            + choice.loyalty * by_inc
            - wom.complaint_penalty * (nb_bad == f)
        )
        util[f] = np.where(e, v, -np.inf)
        offer[f] = ot
    rows = np.flatnonzero(any_exposed)
    if rows.size == 0:
        return empty
    util = util[:, rows]
    allu = np.concatenate([util, np.full((1, rows.size), choice.outside_utility)], axis=0)
    # reductions over the few firms (and the outside option), row by row
    top = allu[0].copy()
    for j in range(1, F + 1):
        np.maximum(top, allu[j], out=top)
    allu -= top[None, :]
    w = np.exp(allu)
    cum = np.cumsum(w, axis=0)
    cum /= cum[-1:]
    uc = u_pick[rows]
    pick = np.zeros(rows.size, dtype=np.int64)
    for j in range(F + 1):
        pick += uc > cum[j]
    pick = np.minimum(pick, F)

    out: list[Sales] = []
    for f, firm in enumerate(firms):
        chosen = rows[pick == f]
        if chosen.size == 0:
            out.append(Sales(np.empty(0, np.int64), np.empty(0, np.int64)))
            continue
        pos = act[chosen]
        u = u_sale[chosen].astype(np.float64)
        failed = firm.run_links(SALE_LINKS, u)
        okm = failed < 0
        pos, u = pos[okm], u[okm]
        tiers = offer[f, chosen[okm]]
        # the position of u inside the passing band is again uniform: after-sale links
        b = firm.defect_band(SALE_LINKS)
        v = (u - b) / max(1.0 - b, 1e-12)
        complaint = firm.run_links(AFTER_SALE_LINKS, v) >= 0
        _book(state, firm, pos, tiers, complaint, now)
        out.append(Sales(pos, tiers))
    return out


def offer_tables(firm: FirmAgent, choice: Choice) -> tuple[np.ndarray, np.ndarray]:
    """Per (category, desired tier), (C, T): the fit + quality utility of what the firm
    offers a customer desiring that tier (its closest tier), and that offer's price."""
    C, T = firm.offers.shape
    k_table = np.maximum(firm.offers, 0)
    dist = np.abs(np.arange(T)[None, :] - np.arange(T)[:, None])  # (desired, offered)
    misfit = dist[np.arange(T)[None, :], k_table]
    cats = np.arange(C)[:, None]
    fit_quality = -choice.fit * misfit + choice.quality * firm.quality[cats, k_table]
    return fit_quality, firm.price[cats, k_table]


def _book(
    state: CustomerState,
    firm: FirmAgent,
    pos: np.ndarray,
    tiers: np.ndarray,
    complaint: np.ndarray,
    now: int,
) -> None:
    C = state.need.shape[1]
    cat = pos % C
    need = state.need.reshape(-1)
    need[pos] = SERVED
    state.supplier.reshape(-1)[pos] = firm.index
    state.held.reshape(-1)[pos] = tiers
    state.age.reshape(-1)[pos] = 0
    sat = satisfaction_of(firm.quality[cat, tiers], tiers, state.tier.reshape(-1)[pos])
    sat = np.where(complaint, sat * 0.5, sat)
    state.satisfaction.reshape(-1)[pos] = sat
    cpos = pos[complaint]
    state.complaint.reshape(-1)[cpos] = firm.index
    state.complaint_t.reshape(-1)[cpos] = now
    revenue = float(firm.price[cat, tiers].sum())
    firm.revenue += revenue
    firm.step_revenue += revenue
    firm.sales += pos.size
    firm.step_sales += pos.size
