"""Product strategy from beliefs (docs/model.md §7.13).

A firm counts, in its records only, the customers it believes want each cell of
its standard (a latent, active or served need there); in a cell it does not sell,
that is demand it does not meet. That count
reaches product planning through the hand-off link (each believed need is lost
with the link's defect rate). When the believed unmet share of known customers
stays above the threshold for ``persistence_weeks`` consecutive steps, the firm
starts a development; the product launches after the lead time, its cost spread
over it. A product whose cell's believed demand stays below the retirement
threshold is withdrawn. Launches are evaluated against their adoption target.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from sim.counts import cell_counts
from sim.firms import LINK, Development, FirmBook, Launch
from sim.jit import kernel
from sim.market import Market
from sim.state import LATENT


def believed_demand(firm: FirmBook, market: Market, copy: bool = True) -> tuple[np.ndarray, int]:
    """Believed customers per cell (C, T) with a need there (latent, active or served,
    by anyone), and the number of customers the firm knows at all. ``copy=False``: the
    records' own counts where they are kept (to read only)."""
    rec = firm.records
    assert rec is not None
    known = int(np.count_nonzero(rec.known))
    if rec.believed is not None:  # kept up to date as the records change
        return (rec.believed.copy() if copy else rec.believed), known
    # need states are NONE..SERVED, so latent | active | served is need >= LATENT
    return cell_counts(rec.tier, rec.need, LATENT, market.n_tiers), known


def launch_target(firm: FirmBook, n_customers: int) -> int:
    """Adopters a launch needs within its window to count as a success."""
    return max(1, int(round(firm.spec.strategy.launch_target * n_customers)))


def binomials(rng: np.random.Generator, n: list[int], p: float) -> list[int]:
    """``rng.binomial(n, p)`` for a short list ``n`` (a small array's cells in row
    order): the same numbers, and the same stream afterwards, from one scalar draw per
    cell (numpy's array draw calls the same sampler cell by cell, and a cell of 0 draws
    nothing), without the array draw's fixed cost, a large part of a small market's
    planning."""
    return [rng.binomial(k, p) if k else 0 for k in n]


def plan(
    firm: FirmBook, market: Market, now: int, n_customers: int, rng: np.random.Generator
) -> None:
    """One step of product planning for a firm."""
    spec = firm.spec.strategy
    # each step of a development costs its share, the launch step included (a lead
    # time of L steps costs L shares; a lead time of 0 was paid when it started)
    for dev in firm.developing:
        if dev.ready > dev.started:
            firm.development_cost += dev.cost_per_step
            firm.step_cost += dev.cost_per_step
    # developments ready to launch
    for dev in [d for d in firm.developing if d.ready <= now]:
        c, k = dev.cell
        firm.add_product(c, k, -1.0, -1.0, now)
        firm.developing.remove(dev)
        firm.launches.append(
            Launch(
                firm=firm.name,
                category=market.category_names[c],
                tier=market.tier_names[c][k],
                step=now,
                kind="planned",
                window=firm.clock.steps(spec.evaluation_weeks, 1),
                target=launch_target(firm, n_customers),
                cell=(c, k),
            )
        )
    if not spec.enabled:
        return
    wanted, known = believed_demand(firm, market, copy=False)  # read, not changed
    # the hand-off to product planning loses each believed need with its defect rate
    link = LINK["handoff_to_design"]
    counts = wanted.ravel().tolist()
    kept = binomials(rng, counts, 1.0 - firm.defect_rate[link])
    believed = sum(counts)
    firm.chain_opp[link] += believed
    firm.chain_def[link] += believed - sum(kept)
    passed = np.array(kept, dtype=np.int64).reshape(wanted.shape)
    if firm.developing:
        developing = np.zeros(firm.has.shape, dtype=np.bool_)
        for d in firm.developing:
            developing[d.cell] = True
    else:  # most steps: nothing in development (the kernel only reads it)
        developing = _none_developing(firm.has.shape)
    persistence = firm.clock.steps(spec.persistence_weeks, 1)
    start, retire = _streaks(
        passed, known, firm.std_cells, firm.has, developing, float(spec.threshold),
        float(spec.retire_threshold), persistence, firm.above, firm.below,
    )  # fmt: skip
    if not (start.size or retire.size):  # most steps: no numpy rows to loop over
        return
    for c, k in start:
        start_development(firm, market, int(c), int(k), now)
    for c, k in retire:
        if firm.has[c].sum() > 1:
            firm.retire_product(int(c), int(k))
            firm.planning_events.append(
                {
                    "step": now,
                    "event": "retire",
                    "category": market.category_names[c],
                    "tier": market.tier_names[c][k],
                }
            )


@functools.cache
def _none_developing(shape: tuple[int, ...]) -> np.ndarray:
    """No cell in development, (C, T): one array per shape, which nothing writes (a
    writeable array, so that the kernel that reads it keeps its one signature)."""
    return np.zeros(shape, dtype=np.bool_)


@njit(inline="always")
def _streak(hit, streak, c, k, persistence, out, m):  # type: ignore[no-untyped-def]
    """One step of a cell's streak: one longer while ``hit``, else back to 0. A streak
    that reaches ``persistence`` is listed in ``out`` at row ``m`` and starts again;
    returns the rows of ``out`` used."""
    streak[c, k] = streak[c, k] + 1 if hit else 0
    if streak[c, k] < persistence:
        return m
    out[m, 0] = c
    out[m, 1] = k
    streak[c, k] = 0
    return m + 1


@kernel
def _streaks(
    passed: np.ndarray,  # (C, T) int64 believed needs per cell that reached planning
    known: int,  # customers the firm knows
    std_cells: np.ndarray,  # (C, T) bool the firm's standard
    has: np.ndarray,  # (C, T) bool its portfolio
    developing: np.ndarray,  # (C, T) bool cells in development
    threshold: float,
    retire_threshold: float,  # 0: never retire
    persistence: int,  # steps a streak must last
    above: np.ndarray,  # (C, T) int64 streaks of unmet believed demand, in place
    below: np.ndarray,  # (C, T) int64 streaks of low believed demand, in place
) -> tuple[np.ndarray, np.ndarray]:
    """The streaks of the believed shares ``passed / known``: a cell of the standard the
    firm neither sells nor develops, above the threshold; a cell it sells, below the
    retirement threshold. Returns the cells whose streak reached ``persistence`` (to
    develop, to consider retiring), in row order; their streaks start again at 0."""
    C, T = passed.shape
    start = np.empty((C * T, 2), np.int64)
    retire = np.empty((C * T, 2), np.int64)
    m = r = 0
    for c in range(C):
        for k in range(T):
            share = passed[c, k] / max(known, 1)
            unmet = std_cells[c, k] and not has[c, k] and not developing[c, k]
            m = _streak(unmet and share > threshold, above, c, k, persistence, start, m)
            if retire_threshold > 0:
                low = has[c, k] and share < retire_threshold
                r = _streak(low, below, c, k, persistence, retire, r)
    return start[:m], retire[:r]


def start_development(firm: FirmBook, market: Market, c: int, k: int, now: int) -> None:
    """Start developing a product for cell (c, k): it launches after the lead time, its
    cost spread over it (all at once with no lead time)."""
    spec = firm.spec.strategy
    lead = firm.clock.steps(spec.lead_time_weeks)
    firm.developing.append(
        Development(
            cell=(c, k),
            started=now,
            ready=now + lead,
            cost_per_step=spec.development_cost / max(lead, 1),
        )
    )
    if lead == 0:
        firm.development_cost += spec.development_cost
        firm.step_cost += spec.development_cost
    firm.planning_events.append(
        {
            "step": now,
            "event": "development",
            "category": market.category_names[c],
            "tier": market.tier_names[c][k],
        }
    )


def count_adopters(firm: FirmBook, tiers: np.ndarray, cats: np.ndarray, now: int) -> None:
    """Credit this step's sales to the launches still inside their evaluation window."""
    for launch in firm.launches:
        if launch.step <= now < launch.step + launch.window:
            c, k = launch.cell
            launch.adopters += int(((cats == c) & (tiers == k)).sum())
