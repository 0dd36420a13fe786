"""``DemandModel``: the ``mesa.Model`` that wires state, firms and rules in step order
and owns the ``DataCollector`` (docs/model.md §3, §5).

Step order: scripted events; the customers' demand process; every firm's platform
(contacts, record refreshes, offers) and complaint handling; exposure, choice and
sales; opportunity accounting; product planning; outputs. Each rule lives in the
module named after what it does and is handed records (the firms' books, the
customers' state, the step's exposure), never the model; this one only builds the
parts and calls them in order. ``FirmAgent`` is Mesa's view of a firm: it holds the
firm's book and nothing else.
"""

from __future__ import annotations

import heapq
import logging
import math
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim import network, outputs
from sim.choice import choice_step
from sim.complaints import handle_complaints, unresolved_pair
from sim.demand import DemandCalendar, DemandParams, demand_step
from sim.detection import EV, DetectionTracker, in_standard
from sim.engine import resolve as resolve_engine
from sim.events import Events
from sim.firms import FirmBook
from sim.generations import Generations, become_aware, hold_newest, substitute
from sim.jit import threads_for
from sim.ledger import OpportunityLedger
from sim.market import compile_market
from sim.platform import init_records, platform_step, withhold
from sim.records import change_platform, keep_counts
from sim.rng import Streams, fresh_seed
from sim.sales import book_sales
from sim.scenario import Scenario, build_scenario, load_scenario
from sim.state import initial_state
from sim.strategy import plan, start_development
from sim.workspace import Workspace


class FirmAgent(mesa.Agent):
    """One firm as a Mesa agent. Everything the firm knows and owns is its ``book``
    (``sim.firms.FirmBook``): read ``agent.book.revenue``, ``agent.book.records``...
    The rules are handed the book, never the agent (which knows the model, and so the
    truth)."""

    def __init__(self, model: DemandModel, book: FirmBook) -> None:
        super().__init__(model)
        self.book = book

    def step(self) -> None:  # pragma: no cover - the model wires the rules in order
        """Firms do not act on their own: ``DemandModel.step`` calls the rules."""


class RowCollector(mesa.DataCollector):
    """A ``mesa.DataCollector`` whose model reporters are the keys of the model's output
    row. ``collect`` reads the row once instead of calling one reporter and deep-copying
    its value per column (the values are plain numbers): the same table, without data
    collection dominating a step of a small market."""

    def collect(self, model: DemandModel) -> None:  # type: ignore[override]
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        row = model.row
        for var, values in self.model_vars.items():
            values.append(row.get(var, math.nan))


def _reported(model: DemandModel, key: str) -> float:
    """One column of the output row (the reporter ``RowCollector`` stands in for)."""
    return model.row.get(key, math.nan)


#: Mesa's model logger (``mesa.model``), which logs every step at INFO
_MESA_LOG = logging.getLogger("MESA.mesa.model")

#: the kinds of network (mean-field or not) whose kernels this process has loaded
_LOADED: set[bool] = set()


def load_kernels(mean_field: bool) -> None:
    """Load the compiled kernels into this process (from numba's cache, or compiling
    them) while a model is being set up, rather than during its first step: one short
    run of a tiny model, once per process and kind of network (their neighbour arrays
    are typed differently). ``sim.precompile`` fills numba's on-disk cache ahead."""
    if mean_field in _LOADED:
        return
    _LOADED.add(mean_field)
    kind = "mean-field" if mean_field else "watts-strogatz"
    DemandModel("baseline", rng=1, overrides={"run.customers": 64, "network.kind": kind}).run(1)


class DemandModel(mesa.Model):
    """A market of customers whose demand evolves, and firms acting on their platforms.

    Args:
        scenario: a validated ``Scenario``, or a bundled name / TOML path.
        rng: the run's seed (an integer in [0, 2**63)); ``None`` draws fresh entropy
            and records it in ``seed`` (pass ``scenario.run.seed`` for the scenario's own).
        overrides: dotted-field overrides applied when ``scenario`` is a name or path.
        engine: ``"sweep"`` or ``"events"`` (``sim.engine``); ``None``: the default.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path = "baseline",
        rng: int | None = None,
        overrides: dict[str, Any] | None = None,
        engine: str | None = None,
    ) -> None:
        #: the engine of the per-customer rules (``sim.engine``)
        self.engine = resolve_engine(engine)
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario, overrides=overrides)
        elif overrides:
            scenario = build_scenario(scenario.to_dict(), overrides)
        # no seed: fresh entropy, recorded, as numpy and Mesa do (a run can be repeated)
        seed = fresh_seed() if rng is None else int(rng)
        if not 0 <= seed < 2**63:
            raise ValueError(f"{seed=} must be an integer in [0, 2**63)")
        super().__init__(rng=seed)
        self.spec = sc = scenario  # ours; mesa.Model.scenario is Mesa's own record
        self.seed = seed
        self.t = 0
        self.n = n = sc.run.customers
        self.market = m = compile_market(sc)
        self.streams = Streams(seed, [f.name for f in sc.firms])
        #: the firms' books, which the rules are handed (``firm_list``: their agents)
        self.books = [FirmBook(i, spec, m) for i, spec in enumerate(sc.firms)]
        self.firm_list = [FirmAgent(self, b) for b in self.books]
        self.focal = self.firm_list[0]
        self.events = Events.from_firms(self.books, m)
        self.graph = network.build(sc.network, n, self.streams["network"])
        d = sc.demand
        self.state = initial_state(
            n,
            m,
            (d.initial_latent, d.initial_active, d.initial_served),
            np.stack([f.offers for f in self.books]),
            np.array([f.spec.initial_share for f in self.books], dtype=np.float64),
            self._quality_table(),
            sc.demand.misfit_satisfaction,
            self.streams["init"],
        )
        self.generations = Generations.build(sc.categories, m, n)
        self.generations.open_own_markets(self.state, m, self.streams["generations"])
        start = -m.clock.steps(sc.run.warmup_weeks)
        if self.engine == "events" and self.generations.later:
            self.generations.start_chains(
                self.streams.key("generations"), start, m.clock.weeks_per_step
            )
        # the market's history runs from this step to step 0 (scenario field
        # ``run.warmup_weeks``)
        for f in self.books:
            f.coverage_u = self.streams.platform(f.name).random(n)
            phase_u = self.streams.platform(f.name).random(n)
            f.records = init_records(f, self.state, f.coverage_u, phase_u, start)
        self.demand_params = DemandParams.from_scenario(sc, m)
        #: the event engine's calendar of the demand rule (``None`` on the sweep)
        self.calendar = (
            DemandCalendar.start(self.demand_params, m, n, self.streams.key("demand"), start)
            if self.engine == "events"
            else None
        )
        self.horizon = m.clock.steps(sc.run.detection_horizon_weeks, 1)  # H, in steps
        self.ledger = OpportunityLedger(n, m.n_categories)
        #: the output row of the last step measured (``sim.outputs.metric_row``)
        self.row: dict[str, float] = {}
        self._reset_counts()
        self.work = Workspace.for_state(self.state, m.n_tiers, len(self.books))
        for f in self.books:
            keep_counts(f, m)
        load_kernels(self.graph.mean_field)  # part of the set-up, not of the first step
        # the market's history before step 0: the platforms run, so that each record
        # is as old as its platform's contacts make it; nothing is planned or measured
        self._in_history = True
        self.t = start
        with threads_for(n):
            while self.t < 0:
                self._advance()  # not Mesa's step: its step count starts at step 0
        self._in_history = False
        self._start_measuring()
        self.row = outputs.metric_row(self.accounts())
        self.datacollector = RowCollector(
            model_reporters={k: partial(_reported, key=k) for k in self.row}
        )
        self.datacollector.collect(self)

    def accounts(self) -> outputs.Accounts:
        """What the outputs read at this step (a record: the outputs never see the
        model)."""
        return outputs.Accounts(
            spec=self.spec,
            seed=self.seed,
            now=self.t,
            market=self.market,
            state=self.state,
            books=self.books,
            ledger=self.ledger,
            tracker=self.tracker,
            tally=self.work.tally,
            counts=self.counts,
            contraction=self.contraction,
            row=self.row,
        )

    def _start_measuring(self) -> None:
        """Step 0: every count and account starts here (records and the market carry
        their history; opportunities open now stay open)."""
        self.ledger.start_at(0)
        self._reset_counts()
        for f in self.books:
            f.reset_accounts()

    def _reset_counts(self) -> None:
        self.tracker = DetectionTracker(self.n, self.market.n_categories, self.horizon)
        self.contraction = outputs.Contraction()
        self.counts = outputs.RunCounts()

    def _quality_table(self) -> np.ndarray:
        return np.stack([f.quality for f in self.books])

    def _in_focal_standard(self, flat_idx: np.ndarray) -> np.ndarray:
        """The positions among ``flat_idx`` that the focal firm's standard covers."""
        if flat_idx.size == 0:  # most steps of a small market: no numpy calls
            return flat_idx
        f = self.books[0]
        return in_standard(flat_idx, self.state.segment, f.std_segments, f.std_cat)

    # ------------------------------------------------------------------ step
    def _wrapped_step(self) -> None:
        """Mesa's ``model.step()``: advance time by one unit, running the events due.

        When the only event scheduled is Mesa's own next step (its default schedule, one
        unit a step, at ``time + 1``), as in every run of this model, this does what
        Mesa's event list would do (time and step count, ``DemandModel.step``, the next
        step scheduled) without building, pushing and popping an event per step (about
        30 µs, a few per cent of a small market's step: docs/performance.md). Anything
        else scheduled, a logger listening at INFO, or a changed schedule: Mesa's own
        step, unchanged."""
        now: float = self.time + 1  # type: ignore[has-type]
        try:  # Mesa 3.5's own fields; a release without them takes Mesa's step
            gen = self._default_schedule
            ev = gen._current_event
            heap = self._event_list._events
            sch = gen.schedule
            short = (
                gen._active
                and not gen._paused
                and hasattr(gen, "_execution_count")
                and len(heap) == 1
                and heap[0] is ev
                and ev.time == now
                and sch.interval == 1
                and sch.end is None
                and sch.count is None
            )
        except AttributeError:
            short = False
        if not short or _MESA_LOG.isEnabledFor(logging.INFO):
            super()._wrapped_step()
            return
        self.time = now
        self.steps += 1
        self._user_step()
        gen._execution_count += 1
        ev.time = now + 1  # the next step: the only event of the list, so still its head
        if len(heap) > 1:  # the step scheduled something: a heap again, and what is
            # due by ``now`` runs as Mesa's step runs it (from the unit's start)
            heapq.heapify(heap)
            self.time = now - 1
            self._advance_time(now)

    def step(self) -> None:
        """Advance the market by one period."""
        with threads_for(self.n):  # a small market's rules stay on one thread
            self._advance()

    def _advance(self) -> None:
        self.t = now = self.t + 1
        st, m, firms, work, tr = self.state, self.market, self.books, self.work, self.tracker
        counts = self.counts
        for f in firms:
            f.step_revenue = f.step_cost = 0.0
            f.step_sales = 0
        failed_over = self.events.scripted(
            now, firms, st, m, self.streams["events"], tr, self._in_focal_standard, work
        )
        unresolved, at_supplier = unresolved_pair(st, firms, now, work)
        quality, has = work.portfolios(firms)  # portfolios change only at the ends of a step
        d = self.spec.demand
        key = self.streams.key
        events = self.engine == "events"
        ev = demand_step(
            st, m, self.demand_params, has, quality, at_supplier, key("demand"), now, work,
            self.calendar,
        )  # fmt: skip
        # the awareness clocks of the later generations on sale (sim.generations)
        gens = self.generations
        aware_opened = become_aware(gens, st, m, has, self.graph, key("generations"), now, work)
        if aware_opened.size:  # most steps none: ``ev.opened`` concatenates them anyway
            failed_over = np.concatenate([failed_over, aware_opened])
        counts.step_churn = int(ev.churned.size)
        counts.churn_total += counts.step_churn
        tr.occur(EV["latent_to_active"], self._in_focal_standard(ev.activated), now)
        tr.occur(EV["upmarket"], self._in_focal_standard(ev.upmarket), now)
        tr.occur(EV["complement"], self._in_focal_standard(ev.complement), now)
        opened = ev.opened(failed_over)
        self.ledger.open_step(st, firms[0], opened, now)
        exposure = work.exposure(self.n, m.n_categories, len(firms))
        contacts = [
            platform_step(f, st, now, key(f"platform:{f.name}"), exposure, work, m, events)
            for f in firms
        ]
        if self._in_history:
            withhold(exposure, contacts)
        else:
            tr.detect(contacts[0].read_ok, now)
            self.events.detect_launches(st, contacts[0].read_ok, tr, now)
            for f, c in zip(firms, contacts, strict=True):
                counts.complaints_resolved += handle_complaints(
                    f, st, quality, c.read_ok, d.misfit_satisfaction
                )
        sales = choice_step(
            st, m, firms, exposure, self.graph, self.spec.choice, self.spec.wom, unresolved,
            now, key("behaviour"), work, d.misfit_satisfaction, d.complaint_satisfaction,
            self.spec.run.steps_per_year, gens.voice(st, has),
        )  # fmt: skip
        # a ready customer holds the newest generation it is aware of
        sales, moved = hold_newest(
            gens, st, m, work.offers(firms), quality, sales,
            key("generations"), now, work, d.misfit_satisfaction,
        )  # fmt: skip
        counts.complaints_raised += book_sales(firms, sales, st, m, tr, now)
        # customers of a later generation leave the earlier one
        left = [ev.expired, *(s.idx for s in sales), moved, substitute(gens, st, m, work)]
        self.ledger.close_step(
            st, firms[0], contacts[0].offered_at, contacts[0].offered, np.concatenate(left), now
        )
        if self._in_history:  # nothing planned, nothing measured
            return
        for f in firms:  # decided on the books (beliefs), never on the truth
            plan(f, m, now, self.n, self.streams.planning(f.name))
        self.events.register_launches(now, firms, tr)
        self.row = outputs.metric_row(self.accounts())
        self.datacollector.collect(self)
        self.running = self.t < self.spec.run.steps

    def run(self, steps: int) -> DemandModel:
        """Run ``steps`` periods and return the model (for chaining)."""
        if steps < 0:
            raise ValueError(f"{steps=} must be non-negative")
        with threads_for(self.n):  # once for the run: each step's own switch is then free
            for _ in range(int(steps)):
                self.step()
        return self

    def summary(self) -> dict[str, Any]:
        """Run-level outcomes (docs/model.md §7.16) as plain JSON-ready data."""
        return outputs.summary(self.accounts())

    # ------------------------------------------------------------------ decisions
    def set_platform(self, firm: int, **fields: Any) -> None:
        """Change a firm's platform settings from the next step on (a decision taken
        mid-run: a classroom round, a what-if at a given step).

        Args:
            firm: the firm's index (0 is the focal firm).
            **fields: platform fields (``coverage``, ``density``, ``strength``,
                ``targeting``, ``focus``, costs), validated against the schema; the
                fields not given keep their current values, earlier decisions included.

        Coverage is drawn once per customer at set-up, so raising it adds customers to
        the platform and lowering it drops the last ones added; a record kept on a
        customer who leaves the platform stays as it was last seen. The model's
        scenario takes the new settings too, so that a later decision about other
        fields builds on this one.
        """
        where = "focal" if firm == 0 else f"competitors.{firm - 1}"
        self.spec = build_scenario(
            self.spec.to_dict(), {f"{where}.platform.{k}": v for k, v in fields.items()}
        )
        change_platform(self.books[firm], self.spec.firms[firm], self.state.segment, self.market)

    def start_development(self, firm: int, category: str, tier: str) -> None:
        """Start developing a product for a cell now (a decision the firm's planning
        would otherwise take from its beliefs); it launches after the lead time."""
        c, k = self.market.tier_index(category, tier)
        start_development(self.books[firm], self.market, c, k, self.t)
