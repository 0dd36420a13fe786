"""What the model reports (docs/model.md §7.16): the time-series row of every step,
the run's summary, and the strategic-contraction rule read on each row.

Both read an ``Accounts`` record that the model hands them (the opportunity ledger,
the detection tracker, the kept tallies, the firms' books, the running counts): they
never see the model. The row of a step also advances the contraction rule, which is a
measure of that row's alignment-weighted served demand.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from itertools import compress
from typing import Any

import numpy as np

from sim.detection import EV, DetectionTracker
from sim.firms import FirmBook
from sim.ledger import OpportunityLedger
from sim.market import Market
from sim.scenario import CHAIN_LINKS, Scenario
from sim.sixsigma import dpmo, first_pass_yield, rolled_throughput_yield, sigma_measures
from sim.state import SERVED, CustomerState
from sim.workspace import Tally


@dataclass
class RunCounts:
    """The market's running counts the outputs report, from step 0."""

    churn_total: int = 0
    step_churn: int = 0
    complaints_raised: int = 0
    complaints_resolved: int = 0


@dataclass
class Contraction:
    """The strategic-contraction rule's state: the trailing peak of alignment-weighted
    served demand, the current streak below it, and the onset (``None``: none yet)."""

    peak: float = 0.0
    streak: int = 0
    onset: int | None = None
    active: bool = False


def contraction_update(
    cs: Contraction, weighted: float, now: int, drop: float, consecutive: int
) -> None:
    """Strategic contraction: alignment-weighted served demand at least ``drop`` below
    its trailing peak for ``consecutive`` steps; the onset is the streak's first step."""
    cs.peak = max(cs.peak, weighted)
    if weighted < (1.0 - drop) * cs.peak:
        cs.streak += 1
    else:
        cs.streak = 0
    cs.active = cs.streak >= consecutive
    if cs.active and cs.onset is None:
        cs.onset = now - consecutive + 1


@dataclass
class Accounts:
    """Everything the outputs read, as the model hands it over at step ``now``."""

    spec: Scenario
    seed: int
    now: int
    market: Market
    state: CustomerState
    books: list[FirmBook]
    ledger: OpportunityLedger
    tracker: DetectionTracker
    tally: Tally
    counts: RunCounts
    contraction: Contraction
    #: the row of the last step measured (``summary`` reports its final values)
    row: dict[str, float] = field(default_factory=dict)


@functools.cache
def _cell_keys(
    categories: tuple[str, ...], tiers: tuple[tuple[str, ...], ...], n_tiers: int
) -> tuple[tuple[int, str, str], ...]:
    """(position in a flattened (C, ``n_tiers``) table, demand column, product column)
    of each cell of a market, in row order: built once per market layout rather than
    every step."""
    return tuple(
        (c * n_tiers + k, f"demand_{cat}_{tier}", f"product_{cat}_{tier}")
        for c, cat in enumerate(categories)
        for k, tier in enumerate(tiers[c])
    )


#: the time series' column of each event type's median lag, in ``EV`` order
_LAG_KEYS = tuple(f"lag_{name}" for name in EV)


def metric_row(acc: Accounts) -> dict[str, float]:
    """The time-series row of step ``acc.now`` (docs/model.md §7.16); advances the
    contraction rule (call it once a step)."""
    m, f = acc.market, acc.books[0]
    now = acc.now
    led = acc.ledger
    # the small tallies as plain Python numbers, read once: their sums are exact (counts
    # far below 2**53), so the shares are the same floats as numpy's, without a numpy
    # call for each
    d_cells, has = acc.tally.cells.ravel().tolist(), f.has.ravel().tolist()
    per_firm = acc.tally.served.tolist()
    total = sum(d_cells)
    sold = sum(compress(d_cells, has))  # the demand in the cells the firm sells
    alignment = sold / total if total else math.nan
    n_served = max(sum(per_firm), 1)
    focal_served = per_firm[0]
    weighted = focal_served * (alignment if alignment == alignment else 0.0)
    cs = acc.contraction
    rule, clock = acc.spec.contraction, m.clock
    # the rule's grace period (scenario field ``contraction.warmup_weeks``): the
    # trailing peak is tracked from then on
    if now >= clock.steps(rule.warmup_weeks):
        contraction_update(cs, weighted, now, rule.drop, clock.steps(rule.consecutive_weeks, 1))
    mdens = led.effective_total / led.opportunities_total if led.opportunities_total else math.nan
    d_ppm = dpmo(led.defects_total, led.opportunities_total)
    cum_profit = f.revenue - f.contact_cost - f.development_cost
    detected, lags = acc.tracker.row_measures(now)
    row: dict[str, float] = {
        "step": now,
        "opportunities": led.step_opportunities,
        "defects": led.step_defects,
        "exclusion_defects": led.step_exclusion,
        "omission_defects": led.step_omission,
        "marketing_density": mdens,
        "marketing_density_step": (
            1 - led.step_defects / led.step_opportunities if led.step_opportunities else math.nan
        ),
        "dpmo": d_ppm,
        **sigma_measures(led.defects_total, led.opportunities_total),
        "detected_share": detected,
        "detection_lag_median": lags[0],
        "alignment": alignment,
        "market_share": focal_served / n_served,
        "revenue": f.step_revenue,
        "profit": f.step_revenue - f.step_cost,
        "cum_profit": cum_profit,
        "adopters": focal_served,
        "churn": acc.counts.step_churn,
        "served_weighted": weighted,
        "contraction": int(bool(cs.active)),
        "contacts": f.contacts,
    }
    for firm, served in zip(acc.books, per_firm, strict=True):
        row[f"share_{firm.name}"] = served / n_served
    for j, demand_key, product_key in _cell_keys(m.category_names, m.tier_names, m.n_tiers):
        row[demand_key] = d_cells[j] / total if total else 0.0
        row[product_key] = int(has[j])
    # successive generations: the focal firm's customers in each, the series a
    # Norton-Bass fit reads (only where a category supersedes another)
    st = acc.state
    for c in m.generations:
        mine = (st.need[:, c] == SERVED) & (st.supplier[:, c] == 0)
        row[f"adopters_{m.category_names[c]}"] = int(np.count_nonzero(mine))
    for lag_key, lag in zip(_LAG_KEYS, lags[1:], strict=True):
        row[lag_key] = lag if now else math.nan
    return row


def summary(acc: Accounts) -> dict[str, Any]:
    """Run-level outcomes (docs/model.md §7.16) as plain JSON-ready data."""
    f, led, now = acc.books[0], acc.ledger, acc.now
    d_ppm = dpmo(led.defects_total, led.opportunities_total)
    chain: dict[str, dict[str, float]] = {}
    fpys = []
    for i, link in enumerate(CHAIN_LINKS):
        o, dd = int(f.chain_opp[i]), int(f.chain_def[i])
        fpy = first_pass_yield(dd, o)
        fpys.append(fpy)
        lk_dpmo = dpmo(dd, o)
        chain[link] = {
            "opportunities": o,
            "defects": dd,
            "dpmo": lk_dpmo,
            **sigma_measures(dd, o),
            "fpy": fpy,
        }
    launches = [la.as_dict(now) for firm in acc.books for la in firm.launches]
    focal_launches = [la for la in launches if la["firm"] == f.name]
    row = acc.row
    out: dict[str, Any] = {
        "scenario": acc.spec.run.name,
        "seed": acc.seed,
        "steps": now,
        "customers": acc.state.n,
        "marketing_density": (
            led.effective_total / led.opportunities_total if led.opportunities_total else math.nan
        ),
        "dpmo": d_ppm,
        **sigma_measures(led.defects_total, led.opportunities_total),
        "opportunities": led.opportunities_total,
        "defects": led.defects_total,
        "exclusion_defects": led.exclusion_total,
        "omission_defects": led.omission_total,
        "market_share_final": row["market_share"],
        "alignment_final": row["alignment"],
        "adopters_final": row["adopters"],
        "revenue_total": f.revenue,
        "contact_cost_total": f.contact_cost,
        "development_cost_total": f.development_cost,
        "profit_total": f.revenue - f.contact_cost - f.development_cost,
        "contacts_total": f.contacts,
        "churn_total": acc.counts.churn_total,
        "complaints_raised": acc.counts.complaints_raised,
        "complaints_resolved": acc.counts.complaints_resolved,
        "contraction_onset": acc.contraction.onset,
        "contraction": int(acc.contraction.onset is not None),
        "detected_share": row["detected_share"],
        "detection_lag_median": row["detection_lag_median"],
        "launch_count": len(focal_launches),
        "launch_successes": sum(la["outcome"] == "success" for la in focal_launches),
        "launch_failures": sum(la["outcome"] == "failure" for la in focal_launches),
        "launch_successes_all": sum(la["outcome"] == "success" for la in launches),
        "launch_failures_all": sum(la["outcome"] == "failure" for la in launches),
        "rty": rolled_throughput_yield(fpys),
        "launches": launches,
        "detection": acc.tracker.table(now),
        "chain": chain,
        "planning": [dict(e, firm=firm.name) for firm in acc.books for e in firm.planning_events],
    }
    return out
