"""What the model reports: the time-series row of every step and the run's summary
(DESIGN §6). Both read the model's measures (the ledger, the detection tracker, the
kept counts, the firms' accounts). The row of a step also advances the contraction
rule, which is a measure of that row's alignment-weighted served demand.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim.detection import EV, EVENT_TYPES
from sim.metrics import contraction_update
from sim.quality import dpmo, first_pass_yield, rolled_throughput_yield, sigma_level
from sim.scenario import CHAIN_LINKS
from sim.state import SERVED

if TYPE_CHECKING:
    from sim.model import DemandModel


def metric_row(model: DemandModel) -> dict[str, float]:
    """The time-series row of the model's current step (DESIGN §6); advances the
    contraction rule (call it once a step)."""
    m, f = model.market, model.focal
    C = m.n_categories
    now = model.t
    led = model.ledger
    cells, per_firm = model.work.tally.cells, model.work.tally.served
    D = cells.astype(np.float64)
    total_d = D.sum()
    alignment = float((D * f.has).sum() / total_d) if total_d else math.nan
    n_served = max(int(per_firm.sum()), 1)
    focal_served = int(per_firm[0])
    weighted = focal_served * (alignment if alignment == alignment else 0.0)
    cs = model.contraction_state
    rule, clock = model.spec.contraction, m.clock
    if now >= clock.steps(rule.warmup_weeks):
        contraction_update(cs, weighted, now, rule.drop, clock.steps(rule.consecutive_weeks, 1))
    mdens = led.effective_total / led.opportunities_total if led.opportunities_total else math.nan
    d_ppm = dpmo(led.defects_total, led.opportunities_total)
    all_k = list(range(len(EVENT_TYPES)))
    cum_profit = f.revenue - f.contact_cost - f.development_cost
    lags = model.tracker.lag_medians([all_k] + [[k] for k in EV.values()], now)
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
        "sigma_level": sigma_level(d_ppm),
        "detected_share": model.tracker.detected_share(all_k, now),
        "detection_lag_median": lags[0],
        "alignment": alignment,
        "market_share": focal_served / n_served,
        "revenue": f.step_revenue,
        "profit": f.step_revenue - f.step_cost,
        "cum_profit": cum_profit,
        "adopters": focal_served,
        "churn": model.step_churn,
        "served_weighted": weighted,
        "contraction": int(bool(cs["active"])),
        "contacts": f.contacts,
    }
    for i, firm in enumerate(model.firm_list):
        row[f"share_{firm.name}"] = per_firm[i] / n_served
    for c in range(C):
        for k in range(int(m.tier_count[c])):
            key = f"{m.category_names[c]}_{m.tier_names[c][k]}"
            row[f"demand_{key}"] = D[c, k] / total_d if total_d else 0.0
            row[f"product_{key}"] = int(f.has[c, k])
    # successive generations: the focal firm's customers in each, the series a
    # Norton-Bass fit reads (only where a category supersedes another)
    st = model.state
    for c in m.generations:
        mine = (st.need[:, c] == SERVED) & (st.supplier[:, c] == 0)
        row[f"adopters_{m.category_names[c]}"] = int(np.count_nonzero(mine))
    for name, lag in zip(EV, lags[1:], strict=True):
        row[f"lag_{name}"] = lag if now else math.nan
    return row


def summary(model: DemandModel) -> dict[str, Any]:
    """Run-level outcomes (DESIGN §6) as plain JSON-ready data."""
    f, led, now = model.focal, model.ledger, model.t
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
            "sigma_level": sigma_level(lk_dpmo),
            "fpy": fpy,
        }
    launches = [la.as_dict(now) for firm in model.firm_list for la in firm.launches]
    focal_launches = [la for la in launches if la["firm"] == f.name]
    row = model._metrics
    out: dict[str, Any] = {
        "scenario": model.spec.run.name,
        "seed": model.seed,
        "steps": now,
        "customers": model.n,
        "marketing_density": (
            led.effective_total / led.opportunities_total if led.opportunities_total else math.nan
        ),
        "dpmo": d_ppm,
        "sigma_level": sigma_level(d_ppm),
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
        "churn_total": model.churn_total,
        "complaints_raised": model.complaints_raised,
        "complaints_resolved": model.complaints_resolved,
        "contraction_onset": model.contraction_state["onset"],
        "contraction": int(model.contraction_state["onset"] is not None),
        "detected_share": row["detected_share"],
        "detection_lag_median": row["detection_lag_median"],
        "launch_count": len(focal_launches),
        "launch_successes": sum(la["outcome"] == "success" for la in focal_launches),
        "launch_failures": sum(la["outcome"] == "failure" for la in focal_launches),
        "launch_successes_all": sum(la["outcome"] == "success" for la in launches),
        "launch_failures_all": sum(la["outcome"] == "failure" for la in launches),
        "rty": rolled_throughput_yield(fpys),
        "launches": launches,
        "detection": model.tracker.table(now),
        "chain": chain,
        "planning": [
            dict(e, firm=firm.name) for firm in model.firm_list for e in firm.planning_events
        ],
    }
    return out


def metric(model: DemandModel, key: str) -> float:
    return model._metrics.get(key, math.nan)


class RowCollector(mesa.DataCollector):
    """A ``mesa.DataCollector`` whose model reporters are the keys of the model's metric
    row. ``collect`` reads the row once instead of calling one reporter and deep-copying
    its value per column (the values are plain numbers): the same table, without data
    collection dominating a step of a small market."""

    def collect(self, model: DemandModel) -> None:  # type: ignore[override]
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        row = model._metrics
        for var, values in self.model_vars.items():
            values.append(row.get(var, math.nan))
