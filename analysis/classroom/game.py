"""One team's game: its own ``DemandModel`` and what a round's result holds.

Every team plays the focal firm of a model built from the same scenario and the
same seed, so all teams face the same market on the same random inputs (common
random numbers): the differences between teams come from their decisions alone.
A round applies the team's decision (its platform through ``set_platform``, its
developments through ``start_development``) and runs the round's steps.

A round's result has two parts, kept apart on purpose:

* ``team`` — what the team's own platform believes (its records: the demand
  structure and the open needs it believes per cell, the share of the market it
  believes it holds) and what a firm knows of itself (its sales, revenue, costs,
  profit, portfolio). This is all a team page ever shows.
* ``truth`` — the ground truth and the measurements made on it (the true demand
  structure and open needs, market share, sigma level, detection lags, defects of
  exclusion and omission). Only the trainer's pages and the debrief show it.

Only public attributes of the model are read (records, ``state``, ``summary()``,
the firm's accounts), so the engine can change underneath.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from analysis.classroom.config import Costs, SessionConfig, contact_premium

# need states of ``sim.state`` (NONE, LATENT, ACTIVE, SERVED), as the records use them
LATENT, ACTIVE, SERVED = 1, 2, 3


def build_model(cfg: SessionConfig) -> Any:
    """A fresh model of the session's market (Mesa is imported here, not at start-up)."""
    from sim.model import DemandModel
    from sim.scenario import build_scenario, load_scenario

    if cfg.scenario_data is not None:
        sc = build_scenario(cfg.scenario_data)
    else:
        sc = load_scenario(cfg.scenario, overrides=cfg.overrides())
    return DemandModel(sc, rng=cfg.seed)


def with_scenario(cfg: SessionConfig) -> SessionConfig:
    """The session with its scenario loaded once (a bad name or field fails here, at
    creation) and kept as data, overrides applied."""
    from sim.scenario import load_scenario

    sc = load_scenario(cfg.scenario, overrides=cfg.overrides())
    return dataclasses.replace(cfg, scenario_data=sc.to_dict())


def cells(model: Any) -> list[tuple[int, int, str]]:
    """Every (category index, tier index, ``category/tier``) cell of the market."""
    m = model.market
    return [
        (c, k, f"{m.category_names[c]}/{m.tier_names[c][k]}")
        for c in range(m.n_categories)
        for k in range(int(m.tier_count[c]))
    ]


def _per_cell(tier: np.ndarray, mask: np.ndarray, n_tiers: int) -> np.ndarray:
    """(C, T) count of the (customer, category) positions in ``mask`` by tier."""
    C = tier.shape[1]
    out = np.zeros((C, n_tiers), dtype=np.int64)
    for c in range(C):
        out[c] = np.bincount(tier[mask[:, c], c].astype(np.int64), minlength=n_tiers)[:n_tiers]
    return out


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else np.zeros(counts.shape)


def costs(model: Any, cfg: SessionConfig) -> Costs:
    """The unit costs the focal firm's decision is priced with."""
    f = model.firm_list[0].book
    eligible = int(np.count_nonzero(f.std_segments[model.state.segment]))
    p = f.spec.platform
    return Costs(
        eligible=eligible,
        cost_per_contact=float(p.cost_per_contact),
        cost_per_record=float(p.cost_per_record),
        development_cost=float(f.spec.strategy.development_cost),
        steps=cfg.steps_per_round,
        lead_time=int(f.spec.strategy.lead_time_weeks),
        strength_price=cfg.strength_price,
        focus_price=cfg.focus_price,
    )


def platform_now(model: Any) -> dict[str, Any]:
    """The focal firm's current platform settings."""
    p = model.firm_list[0].book.spec.platform
    return {
        "coverage": float(p.coverage),
        "density": float(p.density),
        "strength": float(p.strength),
        "focus": float(p.focus),
        "targeting": str(p.targeting),
    }


def open_cells(model: Any) -> list[str]:
    """Cells of the focal firm's standard it neither sells nor is developing."""
    f = model.firm_list[0].book
    busy = {d.cell for d in f.developing}
    return [
        name
        for c, k, name in cells(model)
        if f.std_cells[c, k] and not f.has[c, k] and (c, k) not in busy
    ]


def accounts(model: Any) -> dict[str, float]:
    f = model.firm_list[0].book
    return {
        "revenue": float(f.revenue),
        "contact_cost": float(f.contact_cost),
        "development_cost": float(f.development_cost),
        "sales": int(f.sales),
        "contacts": int(f.contacts),
    }


def _num(x: Any) -> float | str | None:
    """A JSON-safe number: NaN (not measured yet) becomes None and an infinity the text
    ``"inf"`` or ``"-inf"`` (a sigma level when every opportunity was missed; with no
    defect the level is None and only its lower bound is a number)."""
    x = float(x)
    if math.isnan(x):
        return None
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def snapshot(
    model: Any,
    before: dict[str, float],
    cfg: SessionConfig,
    premium: tuple[float, float] = (0.0, 0.0),
) -> dict[str, Any]:
    """The result of a round just run: ``team`` (beliefs and own accounts) and ``truth``.
    ``premium``: the classroom's charges on contacts (so far, this round), which the
    team's costs and profit include (the model's own accounts do not know them)."""
    f = model.firm_list[0].book
    rec, st, m = f.records, model.state, model.market
    T = int(m.n_tiers)
    known = rec.known[:, None]
    b_demand = _per_cell(rec.tier, known & (rec.need >= ACTIVE), T)
    b_open = _per_cell(rec.tier, known & ((rec.need == LATENT) | (rec.need == ACTIVE)), T)
    t_demand = _per_cell(st.tier, st.need >= ACTIVE, T)
    t_open = _per_cell(st.tier, (st.need == LATENT) | (st.need == ACTIVE), T)
    b_share, t_share = _shares(b_demand), _shares(t_demand)
    developing = {d.cell: int(d.ready) for d in f.developing}
    cell_rows = []
    truth_cells = []
    for c, k, name in cells(model):
        cell_rows.append(
            {
                "cell": name,
                "believed_demand": int(b_demand[c, k]),
                "believed_share": float(b_share[c, k]),
                "believed_open": int(b_open[c, k]),
                "sells": bool(f.has[c, k]),
                "standard": bool(f.std_cells[c, k]),
                "ready": developing.get((c, k)),
            }
        )
        truth_cells.append(
            {
                "cell": name,
                "demand": int(t_demand[c, k]),
                "share": float(t_share[c, k]),
                "open": int(t_open[c, k]),
            }
        )
    b_served = known & (rec.need == SERVED)
    b_own = b_served & (rec.supplier == 0)
    now = accounts(model)
    round_revenue = now["revenue"] - before["revenue"]
    round_cost = (now["contact_cost"] - before["contact_cost"]) + (
        now["development_cost"] - before["development_cost"]
    )
    premium_total, round_premium = premium
    round_cost += round_premium
    s = model.summary()
    launches = [la for la in s["launches"] if la["firm"] == f.name]
    team = {
        "step": int(model.t),
        "revenue": now["revenue"],
        "total_cost": now["contact_cost"] + now["development_cost"] + premium_total,
        "profit": now["revenue"] - now["contact_cost"] - now["development_cost"] - premium_total,
        "round_platform_cost": now["contact_cost"] - before["contact_cost"] + round_premium,
        "round_premium": round_premium,
        "premium": premium_total,
        "round_revenue": round_revenue,
        "round_cost": round_cost,
        "round_profit": round_revenue - round_cost,
        "round_sales": now["sales"] - before["sales"],
        "round_contacts": now["contacts"] - before["contacts"],
        "covered": int(np.count_nonzero(rec.covered)),
        "known": int(np.count_nonzero(rec.known)),
        "believed_share": (
            float(np.count_nonzero(b_own) / np.count_nonzero(b_served)) if b_served.any() else None
        ),
        "cells": cell_rows,
        "platform": platform_now(model),
        "open_cells": open_cells(model),
        "costs": dataclasses.asdict(costs(model, cfg)),
        "launches": [
            {k: la[k] for k in ("category", "tier", "step", "adopters", "target", "outcome")}
            for la in launches
        ],
    }
    detection = {
        name: {k: _num(v) if isinstance(v, float) else v for k, v in row.items()}
        for name, row in s["detection"].items()
    }
    truth = {
        "cells": truth_cells,
        "market_share": _num(s["market_share_final"]),
        "sigma_level": _num(s["sigma_level"]),
        "sigma_level_lower": _num(s["sigma_level_lower"]),
        "dpmo": _num(s["dpmo"]),
        "marketing_density": _num(s["marketing_density"]),
        "alignment": _num(s["alignment_final"]),
        "opportunities": int(s["opportunities"]),
        "defects": int(s["defects"]),
        "exclusion_defects": int(s["exclusion_defects"]),
        "omission_defects": int(s["omission_defects"]),
        "detected_share": _num(s["detected_share"]),
        "detection_lag_median": _num(s["detection_lag_median"]),
        "detection": detection,
        "horizon": int(model.spec.run.detection_horizon_weeks),
        "profit_total": float(s["profit_total"]),
        "contraction_onset": s["contraction_onset"],
    }
    return {"team": team, "truth": truth}


class TeamGame:
    """One team's model and how many rounds it has played."""

    def __init__(self, cfg: SessionConfig) -> None:
        self.cfg = cfg
        self.model = build_model(cfg)
        self.rounds = 0
        self.premium = 0.0  # the classroom's charges on contacts so far

    def costs(self) -> Costs:
        return costs(self.model, self.cfg)

    def play(self, decision: dict[str, Any]) -> dict[str, Any]:
        """Apply a checked decision, run the round's steps, and return its result."""
        model = self.model
        before = accounts(model)
        model.set_platform(0, **decision["platform"])
        for cell in decision.get("develop", []):
            category, tier = cell.split("/", 1)
            model.start_development(0, category, tier)
        model.run(self.cfg.steps_per_round)
        self.rounds += 1
        contacts = accounts(model)["contacts"] - before["contacts"]
        unit = self.costs().cost_per_contact * contact_premium(decision["platform"], self.costs())
        charge = contacts * unit
        self.premium += charge
        return snapshot(model, before, self.cfg, (self.premium, charge))
