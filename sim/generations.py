"""Successive product generations (Norton & Bass 1987): a later generation opens a
market among its earlier generation's customers and substitutes for it.

A category that ``supersedes`` another is its later generation. Two rules, both
deterministic (they draw no random number, so they move no stream):

- ``open_later`` (after the demand process): once any firm sells the later
  generation, every customer whose need in the earlier generation is active or
  served (who needs or holds it) has an active need in the later one, at the tier
  it wants in the earlier one, with no incumbent. The later generation's own new
  potential is the need it draws by itself (at set-up, by emergence) among customers
  outside the earlier market.
- ``substitute`` (after the step's sales): a customer served in the later generation
  no longer needs the earlier one: its need there ends (a held product is given up).

Everything else is the model's ordinary machinery: the later generation is adopted
through contacts (innovation) and word of mouth from neighbours served in it
(imitation), and its customers never turn back. docs/model.md §7.17 gives the
reduction to the Norton–Bass curves.
"""

from __future__ import annotations

import numpy as np

from sim.market import Market
from sim.state import ACTIVE, LATENT, NO_FIRM, NONE, SERVED, CustomerState
from sim.workspace import Workspace

_EMPTY = np.empty(0, dtype=np.int64)


def open_later(
    state: CustomerState, market: Market, has_product: np.ndarray, work: Workspace
) -> np.ndarray:
    """Open the later generation's need of its earlier generation's customers and
    needers, once a product of it is on the market.

    Args:
        state: ground truth, changed in place.
        market: the compiled market.
        has_product: (F, C, T) which cells each firm sells now.
        work: the model's workspace (its tally of active or served needs is kept).

    Returns:
        The flat (customer * C + category) positions whose need became active.
    """
    C = market.n_categories
    opened = []
    for c in np.flatnonzero(market.supersedes >= 0):
        if not has_product[:, c, :].any():
            continue
        e = market.supersedes[c]
        need = state.need
        idx = np.flatnonzero(
            ((need[:, e] == ACTIVE) | (need[:, e] == SERVED))
            & ((need[:, c] == NONE) | (need[:, c] == LATENT))
        )
        if idx.size == 0:
            continue
        tier = np.minimum(state.tier[idx, e], market.tier_count[c] - 1).astype(np.int8)
        state.tier[idx, c] = tier
        need[idx, c] = ACTIVE
        # the earlier generation's supplier is no incumbent here: every firm wins the
        # later generation anew
        state.supplier[idx, c] = NO_FIRM
        state.held[idx, c] = -1
        state.age[idx, c] = 0
        np.add.at(work.tally.cells[c], tier, 1)
        opened.append(idx.astype(np.int64) * C + c)
    return np.concatenate(opened) if opened else _EMPTY


def substitute(state: CustomerState, market: Market, work: Workspace) -> np.ndarray:
    """End the earlier-generation need of every customer served in the later one.

    Returns:
        The flat positions of the earlier-generation needs that ended (they close,
        as a lapsed need does).
    """
    C = market.n_categories
    ended = []
    for c in np.flatnonzero(market.supersedes >= 0):
        e = market.supersedes[c]
        need = state.need
        idx = np.flatnonzero((need[:, c] == SERVED) & (need[:, e] != NONE))
        if idx.size == 0:
            continue
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
        ended.append(idx.astype(np.int64) * C + e)
    return np.concatenate(ended) if ended else _EMPTY
