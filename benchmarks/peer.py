"""The peer: the customer rules of ``sim`` written the way a Mesa user would write them.

One ``mesa.Agent`` per customer, the rules as agent methods, ``shuffle_do`` to
activate them (plain ``do`` for the passes whose order provably does not matter);
firms are agents too and keep their records in dictionaries. It is
written to be fast within that style (plain Python numbers and lists on the agents,
attribute look-ups hoisted out of the loops, Mesa's own ``random`` stream), not
slowed down, so the benchmark compares like with like.

It implements the same rules as the engine, in the same order within a step:

1. every customer's demand evolves (``evolve``: emergence, activation, expiry,
   ageing, failure or wear-out with complement needs, churn raised by unresolved
   complaints, upmarket moves);
2. every firm sets its contact weights from its records (``prepare``);
3. every customer meets the firms (``meet_firms``: contact, record refresh with the
   platform's strength and the feedback link, complaint pick-up, offers through the
   contact links);
4. every customer decides (``choose``: one neighbour for word of mouth, exposure to
   offers, word of mouth and the incumbent, multinomial logit) and then every
   customer commits its purchase (``buy``: the sale and after-sale links, the
   complaint, the seller's record), so that word of mouth reads the market as it
   stood before this step's sales, as in the engine;
5. every firm plans products from its records (``plan``).

As in the engine, the market's history runs ``run.warmup_weeks`` (weekly) steps before step 0:
the platforms keep their records (contacts read and refresh them) but do not act on
the market (no offers, no complaint handling, word of mouth independent of contacts),
and planning is paused; records start empty, a firm knowing its own customers from
what it sold them. A sale records the tier sold; offers follow the records.

What the peer leaves out is bookkeeping the engine does on top (the opportunity
ledger, the detection tracker and its Kaplan–Meier lags, per-link chain counts,
launch evaluation): that only flatters the peer's speed. Scripted events and
networks other than Watts–Strogatz are not implemented; the workloads use neither.
"""

from __future__ import annotations

import math

import mesa
import networkx as nx

from sim.scenario import Firm as FirmSpec
from sim.scenario import Scenario

NONE, LATENT, ACTIVE, SERVED = 0, 1, 2, 3


def _per_step(rate: float, spy: int) -> float:
    return -math.expm1(-rate / spy)


def _offer_table(has: list[list[bool]]) -> list[list[int]]:
    """For each category and desired tier, the closest tier sold (lower on a tie), -1 none."""
    out = []
    for row in has:
        T = len(row)
        best_row = []
        for want in range(T):
            best, best_d = -1, 10**6
            for k in range(T):
                if row[k]:
                    d = abs(k - want) * 2 + (1 if k > want else 0)
                    if d < best_d:
                        best, best_d = k, d
            best_row.append(best)
        out.append(best_row)
    return out


class PeerFirm(mesa.Agent):
    """A firm: portfolio, platform records (a dict per customer) and planning."""

    def __init__(self, model: PeerModel, index: int, spec: FirmSpec) -> None:
        super().__init__(model)
        sc = model.spec
        self.index = index
        self.name = spec.name
        self.spec = spec
        C, T = model.C, model.T
        self.has = [[False] * T for _ in range(C)]
        self.price = [list(row) for row in model.price]
        self.quality = [list(row) for row in model.quality]
        for p in spec.products:
            if p.launch_week != 0:
                raise NotImplementedError("the peer has no scheduled launches")
            c = model.cat_index[p.category]
            k = sc.categories[c].tiers.index(p.tier)
            self._add(c, k, p.price, p.quality)
        if spec.events:
            raise NotImplementedError("the peer has no scripted events")
        pl = spec.platform
        self.density = pl.density
        self.strength = pl.strength
        self.misread = pl.misread_rate
        self.personalized = pl.targeting == "personalized"
        self.focus = pl.focus
        self.cost_per_contact = pl.cost_per_contact
        self.cost_per_record = pl.cost_per_record
        std = pl.standard
        seg_names = [s.name for s in sc.segments]
        self.std_segments = [not std.segments or s in std.segments for s in seg_names]
        self.std_cells = [
            [
                (not std.categories or cat.name in std.categories)
                and k < len(cat.tiers)
                and (not std.tiers or cat.tiers[k] in std.tiers)
                for k in range(T)
            ]
            for cat in sc.categories
        ]
        self.std_cats = [any(row) for row in self.std_cells]
        ch = spec.chain
        self.d_contact = (ch.needs_identification, ch.product_communication)
        self.d_sale = (ch.order_fulfilment, ch.channel, ch.training_promotion)
        self.d_after = (ch.delivery_installation, ch.use_assistance)
        self.d_feedback = ch.feedback
        self.d_handoff = ch.handoff_to_design
        self.complaint_window = spec.complaint_window_weeks
        self.complaint_duration = spec.complaint_duration_weeks
        # records: customer id -> [need list, tier list, supplier list]
        self.records: dict[int, list[list[int]]] = {}
        self.covered: set[int] = set()
        self.seen: dict[int, int] = {}  # customer id -> step of the last contact
        self.scale = 0.0
        self.above = [[0] * T for _ in range(C)]
        self.developing: list[tuple[int, int, int]] = []  # (c, k, ready step)
        self.revenue = 0.0
        self.cost = 0.0
        self.contacts = 0

    def _add(self, c: int, k: int, price: float, quality: float) -> None:
        self.has[c][k] = True
        if price >= 0:
            self.price[c][k] = price
        if quality >= 0:
            self.quality[c][k] = quality
        self.offers = _offer_table(self.has)
        self.sells = [any(row) for row in self.has]

    def wants(self, rec: list[list[int]] | None) -> float:
        """Contact weight of a covered customer: ``focus`` if its record shows an open need."""
        if rec is None:
            return 1.0
        need = rec[0]
        for c, inside in enumerate(self.std_cats):
            if inside and (need[c] == LATENT or need[c] == ACTIVE):
                return self.focus
        return 1.0

    def prepare(self) -> None:
        """Contact probabilities for this step, from the records only."""
        n_cov = len(self.covered)
        self.cost += self.cost_per_record * n_cov
        if not self.personalized or n_cov == 0:
            self.scale = self.density
            return
        records = self.records
        total = 0.0
        for cid in self.covered:
            total += self.wants(records.get(cid))
        self.scale = self.density * n_cov / total

    def contact_p(self, cid: int) -> float:
        if self.personalized:
            return min(self.wants(self.records.get(cid)) * self.scale, 1.0)
        return self.scale

    def contacts_now(self, cid: int, p: float, u: float) -> bool:
        """At random (homogeneous), or once the record is 1/p steps old (personalized)."""
        if p <= 0.0:
            return False
        if self.personalized:
            return (self.model.steps - self.seen[cid]) * p >= 1.0
        return u < p

    def plan(self) -> None:
        """Launch finished developments; start new ones where believed demand for a cell the
        firm does not sell persists."""
        model = self.model
        now = model.steps
        st = self.spec.strategy
        for _ in self.developing:
            if st.lead_time_weeks > 0:
                self.cost += st.development_cost / st.lead_time_weeks
        for dev in [d for d in self.developing if d[2] <= now]:
            self._add(dev[0], dev[1], -1.0, -1.0)
            self.developing.remove(dev)
        if not st.enabled:
            return
        C, T = model.C, model.T
        # believed customers with a need in each cell (latent, active or served by anyone)
        open_c = [[0] * T for _ in range(C)]
        for need, tier, _ in self.records.values():
            for c in range(C):
                if need[c] != NONE:
                    open_c[c][tier[c]] += 1
        known = max(len(self.records), 1)
        p_pass = 1.0 - self.d_handoff
        rng = model.rng
        busy = {(d[0], d[1]) for d in self.developing}
        for c in range(C):
            for k in range(T):
                passed = int(rng.binomial(open_c[c][k], p_pass)) if open_c[c][k] else 0
                if (
                    self.std_cells[c][k]
                    and not self.has[c][k]
                    and (c, k) not in busy
                    and passed / known > st.threshold
                ):
                    self.above[c][k] += 1
                else:
                    self.above[c][k] = 0
                if self.above[c][k] >= st.persistence_weeks:
                    self.developing.append((c, k, now + st.lead_time_weeks))
                    if st.lead_time_weeks == 0:
                        self.cost += st.development_cost
                    self.above[c][k] = 0


class Customer(mesa.Agent):
    """One customer: per category a need state, desired tier, supplier, product held, age,
    satisfaction and open complaint."""

    def __init__(self, model: PeerModel, segment: int) -> None:
        super().__init__(model)
        C = model.C
        self.segment = segment
        self.need = [NONE] * C
        self.tier = [0] * C
        self.supplier = [-1] * C
        self.held = [-1] * C
        self.age = [0] * C
        self.sat = [0.5] * C
        self.complaint = [-1] * C
        self.complaint_t = [0] * C
        self.unresolved = [False] * C
        self.neighbours: list[Customer] = []
        self.offered: list[list[int]] = []  # per firm and category: the tier offered
        self.p_contact: list[float] = []
        self.contacted: list[bool] = []
        self.decision: list[tuple[int, int, int]] = []  # (category, firm, tier)

    # ------------------------------------------------------------------ 1. demand
    def evolve(self) -> None:
        model = self.model
        rand = model.random.random
        firms = model.firm_list
        now = model.steps
        start = list(self.need)
        need, tier, sup, held, age, sat = (
            self.need,
            self.tier,
            self.supplier,
            self.held,
            self.age,
            self.sat,
        )
        comp = self.complaint
        opens = []
        for c in range(model.C):
            # a complaint that its firm failed to pick up in time; it expires later
            f = comp[c]
            self.unresolved[c] = False
            if f >= 0:
                firm = firms[f]
                a = now - self.complaint_t[c]
                if a > firm.complaint_window + firm.complaint_duration:
                    comp[c] = -1
                else:
                    self.unresolved[c] = a > firm.complaint_window
            u = rand()
            s = need[c]
            if s == NONE:
                if u < model.p_emerge[c]:
                    need[c] = LATENT
            elif s == LATENT:
                if u < model.p_activate:
                    need[c] = ACTIVE
            elif s == ACTIVE:
                if u < model.p_expire:
                    need[c] = NONE
                    sup[c] = -1
            else:
                age[c] += 1
                f = sup[c]
                p_fail = model.p_fail[c] * (model.fail_offset - firms[f].quality[c][held[c]])
                if u < p_fail:
                    need[c], held[c], age[c] = ACTIVE, -1, 0
                    target = model.complement_target[c]
                    if target >= 0 and u / p_fail < model.seg_complement[self.segment]:
                        opens.append(target)
                elif age[c] >= model.lifetime[c]:
                    need[c], held[c], age[c] = ACTIVE, -1, 0
                else:
                    p_churn = model.p_churn * (
                        model.complaint_churn if self.unresolved[c] and comp[c] == f else 1.0
                    )
                    if rand() < p_churn:
                        need[c], sup[c], held[c], age[c] = ACTIVE, -1, -1, 0
                    elif tier[c] < model.top[c]:
                        years = 1.0 + model.age_gain * age[c]
                        gain = max(0.0, 1.0 + model.sat_gain * (sat[c] - 0.5))
                        if rand() < -math.expm1(-model.seg_up[self.segment] * years * gain):
                            tier[c] += 1
                            if not firms[f].has[c][tier[c]]:
                                need[c], held[c], age[c] = ACTIVE, -1, 0
        for target in opens:
            if start[target] == NONE:
                need[target] = LATENT

    # ------------------------------------------------------------------ 3. platforms
    def meet_firms(self) -> None:
        model = self.model
        rand = model.random.random
        cid = self.unique_id
        need, C = self.need, model.C
        self.offered = offered = []
        self.p_contact = []
        self.contacted = []
        for firm in model.firm_list:
            row = [-1] * C
            offered.append(row)
            if cid not in firm.covered:
                self.p_contact.append(0.0)
                self.contacted.append(False)
                continue
            p = firm.contact_p(cid)
            hit = firm.contacts_now(cid, p, rand())
            # before step 0 a platform keeps its records but does not act on the market
            history = model.warming
            self.p_contact.append(0.0 if history else p)
            self.contacted.append(hit and not history)
            if not hit:
                continue
            firm.contacts += 1
            firm.cost += firm.cost_per_contact
            firm.seen[cid] = model.steps
            rec = firm.records.get(cid)
            if rec is None:
                rec = firm.records[cid] = [[NONE] * C, [0] * C, [-1] * C]
            for c in range(C):
                # a read: right with the strength; a wrong one is recorded with the
                # misread rate; what is read reaches the records unless feedback fails
                right = rand() < firm.strength
                if not right and rand() >= firm.misread:
                    continue
                if rand() < firm.d_feedback:
                    continue
                if right:
                    rec[0][c], rec[1][c] = need[c], self.tier[c]
                elif need[c] != LATENT and need[c] != ACTIVE:
                    rec[0][c], rec[1][c] = LATENT, self.tier[c]
                else:
                    k, top = self.tier[c], model.top[c]
                    if top > 0:
                        k = k - 1 if (k == top or (k > 0 and rand() < 0.5)) else k + 1
                    rec[0][c], rec[1][c] = need[c], k
                rec[2][c] = self.supplier[c]
                if right and not history and self.complaint[c] == firm.index:
                    self.complaint[c] = -1
                    if need[c] == SERVED:
                        sup, k = self.supplier[c], self.held[c]
                        q = model.firm_list[sup].quality[c][k]
                        self.sat[c] = min(max(q - model.misfit * abs(k - self.tier[c]), 0.0), 1.0)
            for c in range(C):
                # an offer on what the record now says: a believed open need
                if rec[0][c] != LATENT and rec[0][c] != ACTIVE:
                    continue
                k = firm.offers[c][rec[1][c]]
                if k >= 0 and all(rand() >= d for d in firm.d_contact) and not history:
                    row[c] = k

    # ------------------------------------------------------------------ 4. choice
    def choose(self) -> None:
        model = self.model
        rand = model.random.random
        firms = model.firm_list
        cm = model.spec.choice
        q_wom = model.spec.wom.q
        penalty = model.spec.wom.complaint_penalty
        ps = model.seg_price_sens[self.segment]
        self.decision = []
        nbr = self.model.random.choice(self.neighbours) if self.neighbours else None
        for c in range(model.C):
            if self.need[c] != ACTIVE:
                continue
            want = self.tier[c]
            inc = self.supplier[c]
            nb_sup = nb_bad = -1
            if nbr is not None:
                if nbr.need[c] == SERVED:
                    nb_sup = nbr.supplier[c]
                if nbr.unresolved[c]:
                    nb_bad = nbr.complaint[c]
            u_wom = rand()
            weights = []
            offers = []
            for f, firm in enumerate(firms):
                best = firm.offers[c][want]
                by_inc = inc == f and best >= 0
                by_wom = (
                    best >= 0
                    and nb_sup == f
                    and not self.contacted[f]
                    and u_wom < q_wom / max(1.0 - self.p_contact[f], 1e-12)
                )
                # one who meets its incumbent or hears of a firm asks for what it wants;
                # a contact brings the tier the firm offered on its records
                k = best if (by_inc or by_wom) else self.offered[f][c]
                if k < 0:
                    continue
                v = (
                    -cm.fit * abs(k - want)
                    + cm.quality * firm.quality[c][k]
                    - ps * firm.price[c][k]
                    + cm.loyalty * (inc == f)
                    - penalty * (nb_bad == f)
                )
                weights.append(math.exp(v))
                offers.append((f, k))
            if not offers:
                continue
            total = sum(weights) + math.exp(cm.outside_utility)
            u = rand() * total
            for w, (f, k) in zip(weights, offers, strict=True):
                if u < w:
                    self.decision.append((c, f, k))
                    break
                u -= w

    def buy(self) -> None:
        model = self.model
        rand = model.random.random
        now = model.steps
        for c, f, k in self.decision:
            firm = model.firm_list[f]
            if any(rand() < d for d in firm.d_sale):
                continue  # the sale is lost on the way
            complaint = any(rand() < d for d in firm.d_after)
            self.need[c], self.supplier[c], self.held[c], self.age[c] = SERVED, f, k, 0
            sat = min(max(firm.quality[c][k] - model.misfit * abs(k - self.tier[c]), 0.0), 1.0)
            self.sat[c] = sat * model.complaint_keep if complaint else sat
            if complaint:
                self.complaint[c], self.complaint_t[c] = f, now
            firm.revenue += firm.price[c][k]
            rec = firm.records.get(self.unique_id)
            if rec is None:
                rec = firm.records[self.unique_id] = [
                    [NONE] * model.C,
                    [0] * model.C,
                    [-1] * model.C,
                ]
            rec[0][c], rec[1][c], rec[2][c] = SERVED, k, f  # what was sold
        self.decision = []


class PeerModel(mesa.Model):
    """The per-agent peer of ``sim.DemandModel`` for a (Watts–Strogatz) scenario."""

    def __init__(self, spec: Scenario, seed: int = 0) -> None:
        super().__init__(rng=seed)
        if spec.network.kind != "watts-strogatz":
            raise NotImplementedError("the peer builds Watts–Strogatz networks only")
        if spec.run.steps_per_year != 52:  # it reads the scenario's weeks as its steps
            raise NotImplementedError("the peer runs weekly steps only (run.steps_per_year = 52)")
        self.spec = sc = spec
        spy = sc.run.steps_per_year
        self.C = C = len(sc.categories)
        self.T = T = max(len(c.tiers) for c in sc.categories)
        self.cat_index = {c.name: i for i, c in enumerate(sc.categories)}
        self.price = [list(c.prices) + [c.prices[-1]] * (T - len(c.tiers)) for c in sc.categories]
        self.quality = [
            list(c.qualities) + [c.qualities[-1]] * (T - len(c.tiers)) for c in sc.categories
        ]
        self.top = [len(c.tiers) - 1 for c in sc.categories]
        self.lifetime = [c.lifetime_weeks for c in sc.categories]
        self.p_fail = [_per_step(c.failure_rate, spy) for c in sc.categories]
        self.is_complement = [bool(c.complement_of) for c in sc.categories]
        self.complement_target = [-1] * C
        for i, c in enumerate(sc.categories):
            if c.complement_of:
                self.complement_target[self.cat_index[c.complement_of]] = i
        d = sc.demand
        self.p_emerge = [
            _per_step(d.complement_emergence_rate if comp else d.emergence_rate, spy)
            for comp in self.is_complement
        ]
        self.fail_offset = d.failure_quality_offset
        self.misfit = d.misfit_satisfaction
        self.complaint_keep = d.complaint_satisfaction
        self.p_activate = _per_step(d.activation_rate, spy)
        self.p_expire = _per_step(d.expiry_rate, spy)
        self.p_churn = _per_step(d.churn_rate, spy)
        self.complaint_churn = d.complaint_churn
        self.age_gain = d.age_gain / spy
        self.sat_gain = d.satisfaction_gain
        self.seg_up = [s.upmarket_rate / spy for s in sc.segments]
        self.seg_complement = [s.complement_propensity for s in sc.segments]
        self.seg_price_sens = [s.price_sensitivity for s in sc.segments]
        self.firm_list = [PeerFirm(self, i, f) for i, f in enumerate(sc.firms)]
        self._populate()
        # the market's history before step 0: planning paused, nothing measured
        self.warming = True
        for _ in range(sc.run.warmup_weeks):
            self.step()
        self.warming = False
        for firm in self.firm_list:
            firm.revenue = firm.cost = 0.0
            firm.contacts = 0
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "served_share": lambda m: m.share_of(SERVED),
                "active_share": lambda m: m.share_of(ACTIVE),
                "market_share": PeerModel.market_share,
            }
        )
        self.datacollector.collect(self)

    def _populate(self) -> None:
        sc, rand, C = self.spec, self.random.random, self.C
        n = sc.run.customers
        seg_cum = _cumulative([s.share for s in sc.segments])
        d = sc.demand
        weights = [f.initial_share for f in sc.firms]
        customers = []
        for _ in range(n):
            cust = Customer(self, _pick(seg_cum, rand()))
            seg = sc.segments[cust.segment]
            for c, cat in enumerate(sc.categories):
                mix = list(seg.tier_mix[: len(cat.tiers)]) + [0.0] * max(
                    0, len(cat.tiers) - len(seg.tier_mix)
                )
                cust.tier[c] = _pick(_cumulative(mix if sum(mix) > 0 else [1.0]), rand())
                u = rand()
                s = (
                    SERVED
                    if u < d.initial_served
                    else ACTIVE
                    if u < d.initial_served + d.initial_active
                    else LATENT
                    if u < d.initial_served + d.initial_active + d.initial_latent
                    else NONE
                )
                if s == SERVED and self.is_complement[c]:
                    s = NONE
                if s == SERVED:
                    offers = [f.offers[c][cust.tier[c]] for f in self.firm_list]
                    w = [wt if k >= 0 else 0.0 for wt, k in zip(weights, offers, strict=True)]
                    if sum(w) > 0:
                        f = _pick(_cumulative(w), rand())
                        cust.supplier[c], cust.held[c] = f, offers[f]
                        cust.age[c] = int(rand() * self.lifetime[c])
                        q = self.firm_list[f].quality[c][offers[f]]
                        fit = q - self.misfit * abs(offers[f] - cust.tier[c])
                        cust.sat[c] = min(max(fit, 0.0), 1.0)
                    else:
                        s = ACTIVE
                cust.need[c] = s
            customers.append(cust)
        for firm in self.firm_list:
            # no record read yet; the firm knows its own customers from what it sold them
            p = firm.spec.platform
            for cust in customers:
                if firm.std_segments[cust.segment] and rand() < p.coverage:
                    firm.covered.add(cust.unique_id)
                    firm.seen[cust.unique_id] = -int(rand() / p.density) if p.density else 0
                mine = [cust.need[c] == SERVED and cust.supplier[c] == firm.index for c in range(C)]
                if any(mine):
                    firm.records[cust.unique_id] = [
                        [SERVED if m else NONE for m in mine],
                        [cust.held[c] if m else 0 for c, m in enumerate(mine)],
                        [firm.index if m else -1 for m in mine],
                    ]
        net = sc.network
        g = nx.watts_strogatz_graph(n, net.degree, net.rewire, seed=self.random.randrange(2**31))
        for i, cust in enumerate(customers):
            cust.neighbours = [customers[j] for j in g.neighbors(i)]
        self.customers = customers

    def share_of(self, state: int) -> float:
        cs = self.customers
        return sum(c.need.count(state) for c in cs) / (len(cs) * self.C)

    def market_share(self) -> float:
        served = focal = 0
        for cust in self.customers:
            for s, f in zip(cust.need, cust.supplier, strict=True):
                if s == SERVED:
                    served += 1
                    focal += f == 0
        return focal / max(served, 1)

    def step(self) -> None:
        customers = self.agents_by_type[Customer]
        firms = self.agents_by_type[PeerFirm]
        customers.shuffle_do("evolve")
        firms.do("prepare")
        customers.do("meet_firms")  # order-free: each customer touches only its own records
        customers.do("choose")  # order-free: decisions commit in `buy`
        customers.do("buy")
        if self.warming:
            return
        firms.do("plan")
        self.datacollector.collect(self)

    def run(self, steps: int) -> PeerModel:
        for _ in range(steps):
            self.step()
        return self


def _cumulative(w: list[float]) -> list[float]:
    total = sum(w)
    out, acc = [], 0.0
    for x in w:
        acc += x / total
        out.append(acc)
    return out


def _pick(cum: list[float], u: float) -> int:
    for i, x in enumerate(cum):
        if u < x:
            return i
    return len(cum) - 1
