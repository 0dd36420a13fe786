"""``DemandModel``: the ``mesa.Model`` that wires state, firms and rules in step order
and owns the ``DataCollector`` (DESIGN §5, §6).

Step order: scripted events; the customers' demand process; every firm's platform
(contacts, record refreshes, offers, complaint handling); exposure, choice and
sales; opportunity accounting; product planning; metrics. The rules live in their
own modules; this one only calls them in order and measures.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import counts, network
from sim.choice import choice_step
from sim.demand import DemandParams, demand_step
from sim.detection import EV, EVENT_TYPES, DetectionTracker
from sim.firms import FirmAgent, Launch
from sim.market import compile_market
from sim.metrics import OpportunityLedger, contraction_update
from sim.platform import Contacts, init_records, platform_step, record_sales
from sim.quality import dpmo, first_pass_yield, rolled_throughput_yield, sigma_level
from sim.rng import Streams
from sim.scenario import CHAIN_LINKS, Scenario, load_scenario
from sim.state import ACTIVE, NO_FIRM, SERVED, initial_state, satisfaction_of
from sim.strategy import count_adopters, launch_target, plan, start_development


class DemandModel(mesa.Model):
    """A market of customers whose demand evolves, and firms acting on their platforms.

    Args:
        scenario: a validated ``Scenario``, or a bundled name / TOML path.
        rng: the run's seed (an integer in [0, 2**63)); ``None`` draws fresh entropy
            and records it in ``seed`` (pass ``scenario.run.seed`` for the scenario's own).
        overrides: dotted-field overrides applied when ``scenario`` is a name or path.
        engine: ``"compiled"`` (default) runs the per-customer rules as the compiled
            loops of ``sim.compiled``; ``"numpy"`` runs the reference numpy rules. Both
            give the same numbers (the tests compare them run for run).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path = "baseline",
        rng: int | None = None,
        overrides: dict[str, Any] | None = None,
        *,
        engine: str = "compiled",
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine={engine!r}: must be one of {', '.join(ENGINES)}")
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario, overrides=overrides)
        elif overrides:
            from sim.scenario import build_scenario

            scenario = build_scenario(scenario.to_dict(), overrides)
        # no seed: fresh entropy, recorded, as numpy and Mesa do (a run can be repeated)
        seed = fresh_seed() if rng is None else int(rng)
        if not 0 <= seed < 2**63:
            raise ValueError(f"{seed=} must be an integer in [0, 2**63)")
        super().__init__(rng=seed)
        self.spec = scenario  # ours; mesa.Model.scenario is Mesa's own experiment record
        self.seed = seed
        self.engine = engine
        self._demand_step, self._platform_step, self._choice_step, self._record_sales = _rules(
            engine
        )
        self.t = 0
        sc = scenario
        n = sc.run.customers
        self.n = n
        self.market = m = compile_market(sc)
        self.streams = Streams(seed, [f.name for f in sc.firms])
        self.firm_list: list[FirmAgent] = []
        self._scheduled: list[tuple[int, int, Any]] = []  # (step, firm index, event)
        for i, spec in enumerate(sc.firms):
            firm = FirmAgent(self, i, spec, m)
            self.firm_list.append(firm)
            for p in spec.products:
                c, k = m.tier_index(p.category, p.tier)
                if p.launch_step == 0:
                    firm.add_product(c, k, p.price, p.quality, 0)
                else:
                    self._scheduled.append((p.launch_step, i, p))
            for e in spec.events:
                self._scheduled.append((e.step, i, e))
        self.focal = self.firm_list[0]
        self.graph = network.build(sc.network, n, self.streams["network"])
        d = sc.demand
        self.state = initial_state(
            n,
            m,
            (d.initial_latent, d.initial_active, d.initial_served),
            np.stack([f.offers for f in self.firm_list]),
            np.array([f.spec.initial_share for f in self.firm_list], dtype=np.float64),
            self._quality_table(),
            self.streams["init"],
        )
        for f in self.firm_list:
            f.coverage_u = self.streams.platform(f.name).random(n)
            f.records = init_records(f, self.state, f.coverage_u)
        self.demand_params = DemandParams.from_scenario(sc, m)
        self.tracker = DetectionTracker(n, m.n_categories, sc.run.detection_horizon_steps)
        self.ledger = OpportunityLedger(n, m.n_categories)
        # competitors' launches not yet detected: (firm, category, tier, step)
        self._pending_launches: list[tuple[int, int, int, int]] = []
        self.contraction_state = {"peak": 0.0, "streak": 0, "onset": None, "active": False}
        self.churn_total = 0
        self.step_churn = 0
        self.complaints_raised = 0
        self.complaints_resolved = 0
        self._metrics: dict[str, float] = {}
        self._ledger_full = True  # the first opening and closing look at every need
        self._failed_over = np.empty(0, dtype=np.int64)  # supplier failures this step
        if engine == "compiled":
            from sim.compiled import tally

            tally(self.state, m.n_tiers, len(self.firm_list))
        self._compute_metrics()
        self.datacollector = _RowCollector(
            model_reporters={k: partial(_metric, key=k) for k in self._metrics}
        )
        self.datacollector.collect(self)
        if engine == "compiled":  # part of the set-up, not of the first step
            from sim.compiled import load_kernels

            load_kernels(self.graph.mean_field)

    # ------------------------------------------------------------------ helpers
    def _quality_table(self) -> np.ndarray:
        return np.stack([f.quality for f in self.firm_list])

    def _has_table(self) -> np.ndarray:
        return np.stack([f.has for f in self.firm_list])

    def _in_focal_standard(self, flat_idx: np.ndarray) -> np.ndarray:
        C = self.market.n_categories
        f = self.focal
        cust = flat_idx // C
        cat = flat_idx % C
        return flat_idx[f.std_segments[self.state.segment[cust]] & f.std_cells.any(axis=1)[cat]]

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance the market by one period."""
        self.t += 1
        now = self.t
        st, m = self.state, self.market
        for f in self.firm_list:
            f.step_revenue = f.step_cost = 0.0
            f.step_sales = 0
        self._failed_over = np.empty(0, dtype=np.int64)
        self._scripted_events(now)
        unresolved, at_supplier = self._unresolved_pair(now)
        ev = self._demand_step(
            st,
            m,
            self.demand_params,
            self._has_table(),
            self._quality_table(),
            at_supplier,
            self.streams["demand"],
            self.streams["behaviour"],
        )
        self.step_churn = int(ev.churned.size)
        self.churn_total += self.step_churn
        tr = self.tracker
        tr.occur(EV["latent_to_active"], self._in_focal_standard(ev.activated), now)
        tr.occur(EV["upmarket"], self._in_focal_standard(ev.upmarket), now)
        tr.occur(EV["complement"], self._in_focal_standard(ev.complement), now)

        self._ledger_open(
            [ev.activated, ev.failed, ev.worn, ev.churned, ev.upmarket_unserved, self._failed_over]
        )
        contacts = [
            self._platform_step(f, st, now, self.streams.platform(f.name)) for f in self.firm_list
        ]
        tr.detect(contacts[0].read_ok, now)
        self._detect_competitor_launches(contacts[0].read_ok, now)
        for f, c in zip(self.firm_list, contacts, strict=True):
            self._handle_complaints(f, c.read_ok, now)
        C = m.n_categories

        sales = self._choice_step(
            st,
            m,
            self.firm_list,
            contacts,
            self.graph,
            self.spec.choice,
            self.spec.wom,
            unresolved,
            now,
            self.streams["behaviour"],
        )
        for f, s in zip(self.firm_list, sales, strict=True):
            if s.idx.size == 0:
                continue
            self._record_sales(f, st, s.idx, now)
            count_adopters(f, s.tier, s.idx % C, now)
            new_c = s.idx[st.complaint.reshape(-1)[s.idx] == f.index]
            new_c = new_c[st.complaint_t.reshape(-1)[new_c] == now]
            self.complaints_raised += new_c.size
            if f is self.focal:
                tr.detect(s.idx, now)
                tr.occur(EV["complaint"], new_c, now)
        self._ledger_close(contacts[0], [ev.expired, *(s.idx for s in sales)])
        for f in self.firm_list:
            plan(f, m, now, self.n, self.streams.planning(f.name))
        self._after_launches(now)
        self._compute_metrics()
        self.datacollector.collect(self)
        self.running = self.t < self.spec.run.steps

    def run(self, steps: int) -> DemandModel:
        """Run ``steps`` periods and return the model (for chaining)."""
        if steps < 0:
            raise ValueError(f"{steps=} must be non-negative")
        for _ in range(int(steps)):
            self.step()
        return self

    # ------------------------------------------------------------------ decisions
    def set_platform(self, firm: int, **fields: Any) -> None:
        """Change a firm's platform settings from the next step on (a decision taken
        mid-run: a classroom round, a what-if at a given step).

        Args:
            firm: the firm's index (0 is the focal firm).
            **fields: platform fields (``coverage``, ``density``, ``strength``,
                ``targeting``, ``focus``, costs), validated against the schema.

        Coverage is drawn once per customer at set-up, so raising it adds customers to
        the platform and lowering it drops the last ones added; a record kept on a
        customer who leaves the platform stays as it was last seen.
        """
        from sim.scenario import build_scenario

        f = self.firm_list[firm]
        where = "focal" if firm == 0 else f"competitors.{firm - 1}"
        sc = build_scenario(
            self.spec.to_dict(), {f"{where}.platform.{k}": v for k, v in fields.items()}
        )
        f.spec = sc.firms[firm]
        rec = f.records
        assert rec is not None
        rec.covered[:] = f.std_segments[self.state.segment] & (
            f.coverage_u < f.spec.platform.coverage
        )
        rec.known |= rec.covered & (rec.seen >= 0)
        rec.kind = rec.believed = rec.n_open = None  # recounted from the records

    def start_development(self, firm: int, category: str, tier: str) -> None:
        """Start developing a product for a cell now (a decision the firm's planning
        would otherwise take from its beliefs); it launches after the lead time."""
        c, k = self.market.tier_index(category, tier)
        start_development(self.firm_list[firm], self.market, c, k, self.t)

    # ------------------------------------------------------------------ events
    def _scripted_events(self, now: int) -> None:
        due = [e for e in self._scheduled if e[0] == now]
        if not due:
            return
        # fixed-shape draw for supplier failures, only on steps that have one
        st, m = self.state, self.market
        for _step, fi, e in due:
            firm = self.firm_list[fi]
            kind = getattr(e, "kind", "launch")
            if kind == "launch":
                c, k = m.tier_index(e.category, e.tier)
                firm.add_product(c, k, e.price, e.quality, now)
                firm.launches.append(
                    Launch(
                        firm=firm.name,
                        category=e.category,
                        tier=e.tier,
                        step=now,
                        kind="scripted",
                        window=firm.spec.strategy.evaluation_steps,
                        target=launch_target(firm, self.n),
                        cell=(c, k),
                    )
                )
            else:
                u = self.streams["events"].random(self.n)
                hit = (st.need == SERVED) & (st.supplier == fi) & (u[:, None] < e.share)
                idx = np.flatnonzero(hit.reshape(-1))
                st.need.reshape(-1)[idx] = ACTIVE
                st.supplier.reshape(-1)[idx] = NO_FIRM
                st.held.reshape(-1)[idx] = -1
                st.age.reshape(-1)[idx] = 0
                self._failed_over = np.concatenate([self._failed_over, idx])
                if self.engine == "compiled":
                    from sim.compiled import tally

                    tally(st, m.n_tiers, len(self.firm_list)).served[fi] -= idx.size
                if fi != 0:
                    self.tracker.occur(EV["supplier_failure"], self._in_focal_standard(idx), now)
                firm.planning_events.append(
                    {"step": now, "event": "supplier_failure", "customers": int(idx.size)}
                )
        self._scheduled = [e for e in self._scheduled if e[0] != now]

    def _after_launches(self, now: int) -> None:
        """Register this step's competitor launches (scripted or planned) as events for
        the focal platform to detect; called once a step, after planning."""
        for fi, f in enumerate(self.firm_list[1:], start=1):
            for launch in f.launches:
                if launch.step == now:
                    self.tracker.add_events(EV["competitor_launch"], 1, now)
                    self._pending_launches.append((fi, *launch.cell, now))

    def _detect_competitor_launches(self, read_ok: np.ndarray, now: int) -> None:
        pending = self._pending_launches
        if not pending or read_ok.size == 0:
            return
        st = self.state
        C = self.market.n_categories
        sup = st.supplier.reshape(-1)[read_ok]
        held = st.held.reshape(-1)[read_ok]
        cat = read_ok % C
        served = st.need.reshape(-1)[read_ok] == SERVED
        still = []
        for fi, c, k, t in pending:
            if (served & (sup == fi) & (cat == c) & (held == k)).any():
                self.tracker.record_detection(
                    np.array([EV["competitor_launch"]]), np.array([t], dtype=np.int64), now
                )
            else:
                still.append((fi, c, k, t))
        self._pending_launches = still

    # ------------------------------------------------------------------ complaints
    def _windows(self) -> np.ndarray:
        return np.array([f.spec.complaint_window_steps for f in self.firm_list], dtype=np.int64)

    def _unresolved(self, now: int) -> np.ndarray:
        """(N, C): a complaint that its firm failed to pick up within its window.

        Escalated complaints expire after the firm's complaint duration.
        """
        st = self.state
        out = np.zeros(st.complaint.shape, dtype=bool)
        # complaints are rare: work on the positions that hold one
        idx = np.flatnonzero(st.complaint.reshape(-1) >= 0)
        if idx.size == 0:
            return out
        firm = st.complaint.reshape(-1)[idx].astype(np.int64)
        age = now - st.complaint_t.reshape(-1)[idx].astype(np.int64)
        win = self._windows()[firm]
        durations = [f.spec.complaint_duration_steps for f in self.firm_list]
        dur = np.array(durations, dtype=np.int64)[firm]
        expired = age > win + dur
        st.complaint.reshape(-1)[idx[expired]] = NO_FIRM
        out.reshape(-1)[idx[~expired & (age > win)]] = True
        return out

    def _unresolved_pair(self, now: int) -> tuple[np.ndarray, np.ndarray]:
        """(unresolved, unresolved and about the current supplier), both (N, C)."""
        st = self.state
        if self.engine == "numpy":
            unresolved = self._unresolved(now)
            return unresolved, unresolved & (st.complaint == st.supplier)
        from sim.compiled import scratch

        out = scratch(st, "unresolved", st.need.shape, np.bool_)
        at_supplier = scratch(st, "at_supplier", st.need.shape, np.bool_)
        counts.unresolved(
            st.complaint,
            st.complaint_t,
            st.supplier,
            self._windows(),
            np.array([f.spec.complaint_duration_steps for f in self.firm_list], dtype=np.int64),
            now,
            out,
            at_supplier,
        )
        return out, at_supplier

    def _standard(self) -> tuple[np.ndarray, ...]:
        """What the ledger passes need to tell whether the focal firm should market a
        need: the needs, tiers and segments, and the standard's cells and segments."""
        st, f = self.state, self.focal
        return st.need, st.tier, st.segment, f.std_cells, f.std_segments

    def _ledger_open(self, became_active: list[np.ndarray]) -> None:
        """Open an opportunity wherever the focal firm should market and none is open.

        ``became_active``: the needs that became active this step. Once the ledger has
        looked at every need (the first step), only these can open one."""
        if self.engine == "numpy":
            self.ledger.open(self._focal_should_market())
            return
        led = self.ledger
        counts.ledger_open(
            np.concatenate(became_active),
            self._ledger_full,
            self._standard(),
            led.open_m,
            led.effective,
        )

    def _ledger_close(self, focal: Contacts, left: list[np.ndarray]) -> None:
        """Mark the opportunities the focal firm's offers reached with a product at the
        desired tier, then close those that should no longer be open, and count them.

        ``left``: the needs that stopped being active this step (lapsed or sold); an
        opportunity is open only while its need is active, so once the ledger has looked
        at every need, only these can close one."""
        st, f, led = self.state, self.focal, self.ledger
        covered = f.records.covered  # type: ignore[union-attr]
        if self.engine == "numpy":
            C = self.market.n_categories
            # offers that match the desired tier exactly (few: looked up where offered)
            at = np.flatnonzero(focal.offered)
            exact = np.zeros(st.need.shape, dtype=bool)
            exact.reshape(-1)[at[f.has[at % C, st.tier.reshape(-1)[at]]]] = True
            led.mark_effective(exact)
            led.close(self._focal_should_market(), covered)
            return
        offered_at = focal.offered_at
        if offered_at is None:
            offered_at = np.flatnonzero(focal.offered)
        closed = counts.ledger_close(
            offered_at,
            np.concatenate(left),
            self._ledger_full,
            self._standard(),
            f.has,
            covered,
            led.open_m,
            led.effective,
        )
        self._ledger_full = False
        led.count_closed(*(int(x) for x in closed))

    def _handle_complaints(self, firm: FirmAgent, read_ok: np.ndarray, now: int) -> None:
        """A complaint the firm's records pick up is resolved (late ones too)."""
        st = self.state
        comp = st.complaint.reshape(-1)
        hit = read_ok[comp[read_ok] == firm.index]
        if hit.size == 0:
            return
        C = self.market.n_categories
        comp[hit] = NO_FIRM
        self.complaints_resolved += hit.size
        served = hit[st.need.reshape(-1)[hit] == SERVED]
        held = st.held.reshape(-1)[served].astype(np.int64)
        sup = st.supplier.reshape(-1)[served].astype(np.int64)
        q = self._quality_table()[sup, served % C, held]
        st.satisfaction.reshape(-1)[served] = satisfaction_of(q, held, st.tier.reshape(-1)[served])

    # ------------------------------------------------------------------ measuring
    def _focal_should_market(self) -> np.ndarray:
        st, f, m = self.state, self.focal, self.market
        out = st.need == ACTIVE
        # per category through the (T,) table, skipping whatever the standard fully covers
        for c in range(m.n_categories):
            if not f.std_cells[c, : m.tier_count[c]].all():
                out[:, c] &= f.std_cells[c][st.tier[:, c]]
        if not f.std_segments.all():
            out &= f.std_segments[st.segment][:, None]
        return out

    def _compute_metrics(self) -> None:
        st, m, f = self.state, self.market, self.focal
        C, T = m.n_categories, m.n_tiers
        now = self.t
        led = self.ledger
        kept = getattr(st, "_tally", None)
        if kept is not None:  # kept up to date by the compiled rules
            cells, per_firm = kept.cells, kept.served
        else:  # need states are NONE..SERVED, so active | served is need >= ACTIVE
            cells = counts.cell_counts(st.tier, st.need, ACTIVE, T)
            per_firm = counts.served_by(st.need, st.supplier, len(self.firm_list))
        D = cells.astype(np.float64)
        total_d = D.sum()
        alignment = float((D * f.has).sum() / total_d) if total_d else math.nan
        n_served = max(int(per_firm.sum()), 1)
        focal_served = int(per_firm[0])
        weighted = focal_served * (alignment if alignment == alignment else 0.0)
        cs = self.contraction_state
        if now >= self.spec.contraction.warmup_steps:
            contraction_update(cs, weighted, now, self.spec.contraction)
        mdens = (
            led.effective_total / led.opportunities_total if led.opportunities_total else math.nan
        )
        d_ppm = dpmo(led.defects_total, led.opportunities_total)
        all_k = list(range(len(EVENT_TYPES)))
        cum_profit = f.revenue - f.contact_cost - f.development_cost
        lags = self.tracker.lag_medians([all_k] + [[k] for k in EV.values()], now)
        row: dict[str, float] = {
            "step": now,
            "opportunities": led.step_opportunities,
            "defects": led.step_defects,
            "exclusion_defects": led.step_exclusion,
            "omission_defects": led.step_omission,
            "marketing_density": mdens,
            "marketing_density_step": (
                1 - led.step_defects / led.step_opportunities
                if led.step_opportunities
                else math.nan
            ),
            "dpmo": d_ppm,
            "sigma_level": sigma_level(d_ppm),
            "detected_share": self.tracker.detected_share(all_k, now),
            "detection_lag_median": lags[0],
            "alignment": alignment,
            "market_share": focal_served / n_served,
            "revenue": f.step_revenue,
            "profit": f.step_revenue - f.step_cost,
            "cum_profit": cum_profit,
            "adopters": focal_served,
            "churn": self.step_churn,
            "served_weighted": weighted,
            "contraction": int(bool(cs["active"])),
            "contacts": f.contacts,
        }
        for i, firm in enumerate(self.firm_list):
            row[f"share_{firm.name}"] = per_firm[i] / n_served
        for c in range(C):
            for k in range(int(m.tier_count[c])):
                key = f"{m.category_names[c]}_{m.tier_names[c][k]}"
                row[f"demand_{key}"] = D[c, k] / total_d if total_d else 0.0
                row[f"product_{key}"] = int(f.has[c, k])
        for name, lag in zip(EV, lags[1:], strict=True):
            row[f"lag_{name}"] = lag if now else math.nan
        self._metrics = row

    def summary(self) -> dict[str, Any]:
        """Run-level outcomes (DESIGN §6) as plain JSON-ready data."""
        f, led, now = self.focal, self.ledger, self.t
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
        launches = [la.as_dict(now) for firm in self.firm_list for la in firm.launches]
        focal_launches = [la for la in launches if la["firm"] == f.name]
        row = self._metrics
        out: dict[str, Any] = {
            "scenario": self.spec.run.name,
            "seed": self.seed,
            "steps": now,
            "customers": self.n,
            "marketing_density": (
                led.effective_total / led.opportunities_total
                if led.opportunities_total
                else math.nan
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
            "churn_total": self.churn_total,
            "complaints_raised": self.complaints_raised,
            "complaints_resolved": self.complaints_resolved,
            "contraction_onset": self.contraction_state["onset"],
            "contraction": int(self.contraction_state["onset"] is not None),
            "detected_share": row["detected_share"],
            "detection_lag_median": row["detection_lag_median"],
            "launch_count": len(focal_launches),
            "launch_successes": sum(la["outcome"] == "success" for la in focal_launches),
            "launch_failures": sum(la["outcome"] == "failure" for la in focal_launches),
            "launch_successes_all": sum(la["outcome"] == "success" for la in launches),
            "launch_failures_all": sum(la["outcome"] == "failure" for la in launches),
            "rty": rolled_throughput_yield(fpys),
            "launches": launches,
            "detection": self.tracker.table(now),
            "chain": chain,
            "planning": [
                dict(e, firm=firm.name) for firm in self.firm_list for e in firm.planning_events
            ],
        }
        return out


ENGINES = ("compiled", "numpy")


def _rules(engine: str) -> tuple[Any, Any, Any, Any]:
    """(demand_step, platform_step, choice_step, record_sales) of an engine."""
    if engine == "numpy":
        return demand_step, platform_step, choice_step, record_sales
    from sim import compiled

    return compiled.demand_step, compiled.platform_step, compiled.choice_step, compiled.record_sales


def fresh_seed() -> int:
    """A seed from the operating system's entropy, in [0, 2**63)."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)
    return entropy % 2**63


def _metric(model: DemandModel, key: str) -> float:
    return model._metrics.get(key, math.nan)


class _RowCollector(mesa.DataCollector):
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


def run_scenario(
    scenario: Scenario | str, seed: int | None = None, steps: int | None = None
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run one scenario and return (summary, time series); ``seed`` defaults to the
    scenario's ``run.seed``."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    model = DemandModel(sc, rng=sc.run.seed if seed is None else seed)
    model.run(model.spec.run.steps if steps is None else steps)
    return model.summary(), model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
