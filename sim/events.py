"""Firm-level events (docs/model.md §7.4): scripted launches and supplier failures from the
scenario, and competitors' launches as events for the focal platform to detect.

A supplier failure turns a share of the failing firm's served customers active (a
switching window for everyone); the share is drawn from the ``events`` stream only
on the steps that have a failure. A competitor's launch is detected when a read of
the focal platform reaches a customer served by that product.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.detection import EV, DetectionTracker
from sim.firms import FirmBook, Launch
from sim.market import Market
from sim.state import ACTIVE, NO_FIRM, SERVED, CustomerState
from sim.strategy import launch_target
from sim.workspace import Workspace


@dataclass
class Events:
    """Scheduled firm events and competitors' launches not yet detected."""

    scheduled: list[tuple[int, int, Any]] = field(default_factory=list)  # (step, firm, event)
    #: competitors' launches not yet detected: (firm, category, tier, step)
    pending_launches: list[tuple[int, int, int, int]] = field(default_factory=list)

    @classmethod
    def from_firms(cls, firms: list[FirmBook], market: Market) -> Events:
        """Put each firm's products on the market (now, or scheduled at their launch
        step) and schedule its scripted events."""
        ev = cls()
        for i, firm in enumerate(firms):
            for p in firm.spec.products:
                c, k = market.tier_index(p.category, p.tier)
                at = market.clock.date(p.launch_week)
                if at == 0:
                    firm.add_product(c, k, p.price, p.quality, 0)
                else:
                    ev.scheduled.append((at, i, p))
            for e in firm.spec.events:
                ev.scheduled.append((market.clock.date(e.week), i, e))
        return ev

    def scripted(
        self,
        now: int,
        firms: list[FirmBook],
        state: CustomerState,
        market: Market,
        rng: np.random.Generator,
        tracker: DetectionTracker,
        focal_standard: Any,
        work: Workspace,
    ) -> np.ndarray:
        """Carry out the events due now. Returns the flat positions that a supplier
        failure turned active."""
        due = [e for e in self.scheduled if e[0] == now]
        failed_over = np.empty(0, dtype=np.int64)
        if not due:
            return failed_over
        n = state.n
        for _step, fi, e in due:
            firm = firms[fi]
            if getattr(e, "kind", "launch") == "launch":
                c, k = market.tier_index(e.category, e.tier)
                firm.add_product(c, k, e.price, e.quality, now)
                firm.launches.append(
                    Launch(
                        firm=firm.name,
                        category=e.category,
                        tier=e.tier,
                        step=now,
                        kind="scripted",
                        window=firm.clock.steps(firm.spec.strategy.evaluation_weeks, 1),
                        target=launch_target(firm, n),
                        cell=(c, k),
                    )
                )
                continue
            u = rng.random(n)  # a fixed-shape draw, only on steps with a failure
            hit = (state.need == SERVED) & (state.supplier == fi) & (u[:, None] < e.share)
            idx = np.flatnonzero(hit.reshape(-1))
            state.need.reshape(-1)[idx] = ACTIVE
            state.supplier.reshape(-1)[idx] = NO_FIRM
            state.held.reshape(-1)[idx] = -1
            state.age.reshape(-1)[idx] = 0
            failed_over = np.concatenate([failed_over, idx])
            work.tally.served[fi] -= idx.size
            if fi != 0:
                tracker.occur(EV["supplier_failure"], focal_standard(idx), now)
            firm.planning_events.append(
                {"step": now, "event": "supplier_failure", "customers": int(idx.size)}
            )
        self.scheduled = [e for e in self.scheduled if e[0] != now]
        return failed_over

    def register_launches(self, now: int, firms: list[FirmBook], tracker: DetectionTracker) -> None:
        """Register this step's competitor launches (scripted or planned) as events for
        the focal platform to detect; called once a step, after planning."""
        for fi, f in enumerate(firms[1:], start=1):
            for launch in f.launches:
                if launch.step == now:
                    tracker.add_events(EV["competitor_launch"], 1, now)
                    self.pending_launches.append((fi, *launch.cell, now))

    def detect_launches(
        self, state: CustomerState, read_ok: np.ndarray, tracker: DetectionTracker, now: int
    ) -> None:
        """A pending launch is detected when a focal read reaches a customer it serves."""
        pending = self.pending_launches
        if not pending or read_ok.size == 0:
            return
        C = state.need.shape[1]
        sup = state.supplier.reshape(-1)[read_ok]
        held = state.held.reshape(-1)[read_ok]
        cat = read_ok % C
        served = state.need.reshape(-1)[read_ok] == SERVED
        still = []
        for fi, c, k, t in pending:
            if (served & (sup == fi) & (cat == c) & (held == k)).any():
                tracker.record_detection(
                    np.array([EV["competitor_launch"]]), np.array([t], dtype=np.int64), now
                )
            else:
                still.append((fi, c, k, t))
        self.pending_launches = still
