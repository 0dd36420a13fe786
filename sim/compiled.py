"""The three per-customer rules on the compiled kernels of ``sim.kernels``.

Same arguments, same draws, same results as ``sim.demand.demand_step``,
``sim.platform.platform_step``, ``sim.choice.choice_step`` and
``sim.platform.record_sales`` (the reference implementations); ``DemandModel`` uses
these unless it is built with ``engine="numpy"``.

What the numpy rules recount every step is kept up to date here where it changes: the
metrics' counts (``Tally``), each firm's believed demand per cell and its customers'
contact kinds (``keep_counts``). The choice's per-firm tables, which change only with a
portfolio, are rebuilt when one does. Work arrays live with the state between steps
(``scratch``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import kernels as K
from sim.choice import Sales, offer_tables
from sim.counts import cell_counts, served_by
from sim.demand import DemandEvents, DemandParams
from sim.firms import AFTER_SALE_LINKS, CONTACT_LINKS, LINK, SALE_LINKS, FirmAgent, Records
from sim.market import Market
from sim.network import Graph
from sim.pcg import RuleDraws
from sim.platform import Contacts, contact_table
from sim.scenario import Choice, WordOfMouth
from sim.state import ACTIVE, LATENT, CustomerState


def scratch(state: CustomerState, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A work array kept with the state between steps (fresh large arrays cost page
    faults every step); one set per model, so models in threads never share one."""
    store: dict[str, np.ndarray] | None = getattr(state, "_scratch", None)
    if store is None:
        store = {}
        state._scratch = store  # type: ignore[attr-defined]
    a = store.get(name)
    if a is None or a.shape != shape or a.dtype != dtype:
        a = np.empty(shape, dtype=dtype)
        store[name] = a
    return a


@dataclass
class Tally:
    """Counts the metrics read every step, kept up to date by the compiled rules where
    needs change instead of recounted over every customer."""

    cells: np.ndarray  # (C, T) int64 active or served needs per (category, desired tier)
    served: np.ndarray  # (F,) int64 served needs per supplier


def tally(state: CustomerState, n_tiers: int, n_firms: int) -> Tally:
    """The state's tally, counted the first time it is asked for."""
    got: Tally | None = getattr(state, "_tally", None)
    if got is None:
        got = Tally(
            cell_counts(state.tier, state.need, ACTIVE, n_tiers),
            served_by(state.need, state.supplier, n_firms),
        )
        state._tally = got  # type: ignore[attr-defined]
    return got


def _truth(state: CustomerState) -> tuple[np.ndarray, ...]:
    """The customer arrays the demand and choice kernels change, as they take them."""
    return state.need, state.tier, state.supplier, state.held, state.age, state.satisfaction


def demand_step(
    state: CustomerState,
    market: Market,
    params: DemandParams,
    has_product: np.ndarray,
    quality_table: np.ndarray,
    unresolved: np.ndarray,
    rng: np.random.Generator,
    behaviour_rng: np.random.Generator,
) -> DemandEvents:
    """``sim.demand.demand_step`` in one compiled pass."""
    n, C = state.need.shape
    tl = tally(state, quality_table.shape[2], quality_table.shape[0])
    dd, bd = RuleDraws(rng), RuleDraws(behaviour_rng)
    c1, p1 = dd.f32(n * C)
    c2, p2 = dd.f32(n * C)
    cc, pc = bd.f32(n * C)
    # emergence, activation and expiry thresholds by (category, need state): float32,
    # as numpy compares float32 uniforms with them; a served need never passes 0
    thr = np.zeros((C, 4), dtype=np.float32)
    thr[:, 0] = params.p_emerge
    thr[:, 1] = np.float32(params.p_activate)
    thr[:, 2] = np.float32(params.p_expire)
    ev = K.demand_kernel(
        _truth(state),
        state.segment,
        unresolved,
        c1,
        p1,
        c2,
        p2,
        dd.jt,
        cc,
        pc,
        bd.jt,
        thr.reshape(-1),
        np.ascontiguousarray(quality_table, dtype=np.float64),
        market.p_fail,
        market.lifetime,
        min(params.p_churn, 1.0),
        min(params.p_churn * params.complaint_churn, 1.0),
        market.seg_up_rate,
        float(params.age_gain_per_step),
        np.float32(params.satisfaction_gain),
        market.tier_count,
        market.complement_target,
        market.seg_complement,
        np.ascontiguousarray(has_product),
        scratch(state, "list_i", (n * C,), np.int32),
        scratch(state, "list_c", (n * C,), np.int8),
        scratch(state, "u", (n * C,), np.float32),
        scratch(state, "ev_pos", (n * C,), np.int32),
        scratch(state, "ev_type", (n * C,), np.int8),
        tl.cells,
        tl.served,
    )
    dd.finish()
    bd.finish()
    return DemandEvents(*ev)


def keep_counts(firm: FirmAgent, state: CustomerState, market: Market) -> Records:
    """Start keeping the firm's believed counts per cell and its customers' contact
    kinds up to date (from here on only the compiled rules may change its records).
    The kinds of all firms are rows of one (F, N) array, read together by the choice."""
    rec = firm.records
    assert rec is not None
    if rec.believed is None or rec.kind is None or rec.n_open is None:
        F = len(firm.model.firm_list)
        rec.believed = cell_counts(rec.tier, rec.need, LATENT, market.n_tiers)
        rec.kind = scratch(state, "kinds", (F, rec.covered.size), np.uint8)[firm.index]
        n_open = K.contact_kind(rec.need, rec.covered, firm.std_cells.any(axis=1), rec.kind)
        rec.n_open = np.array([n_open], dtype=np.int64)
    return rec


def record_sales(firm: FirmAgent, state: CustomerState, flat_idx: np.ndarray, now: int) -> None:
    """``sim.platform.record_sales``, keeping the firm's counts up to date."""
    rec = keep_counts(firm, state, firm.model.market)
    assert rec.kind is not None and rec.believed is not None and rec.n_open is not None
    K.record_sales(
        np.ascontiguousarray(flat_idx, dtype=np.int64),
        firm.index,
        state.need,
        state.tier,
        rec.need,
        rec.tier,
        rec.supplier,
        rec.known,
        rec.covered,
        firm.std_cells.any(axis=1),
        rec.believed,
        rec.kind,
        rec.n_open,
    )


def _contact_arrays(state: CustomerState, F: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This step's (F, N) contacts, (F, N, C) offers and (F, 3) contact probabilities
    per kind of all firms, written by each firm's platform step and read together by
    the choice."""
    n, C = state.need.shape
    contacted = scratch(state, "contacted", (F, n), np.bool_)
    offered = scratch(state, "offered", (F, n, C), np.bool_)
    tables = scratch(state, "tables", (F, 3), np.float32)
    return contacted, offered, tables


def platform_step(
    firm: FirmAgent, state: CustomerState, now: int, rng: np.random.Generator
) -> Contacts:
    """``sim.platform.platform_step`` in one compiled pass."""
    n, C = state.need.shape
    spec = firm.spec.platform
    draws = RuleDraws(rng)
    cu, pu = draws.f32(n)
    cr, pr = draws.f32(n * C)
    cl, pl = draws.f32(n * C)
    rec = keep_counts(firm, state, firm.model.market)
    assert rec.kind is not None and rec.believed is not None and rec.n_open is not None
    n_cov = int(np.count_nonzero(rec.covered))
    CON, OFF, TAB = _contact_arrays(state, len(firm.model.firm_list))
    f = firm.index
    contacted, offered, table = CON[f], OFF[f], TAB[f]
    table[:] = contact_table(firm, n_cov, int(rec.n_open[0]), rec.kind)
    offered.fill(False)
    tallies = np.zeros(7, dtype=np.int64)
    fb = LINK["feedback"]
    read_ok, offered_at = K.platform_kernel(
        rec.kind,
        table,
        cu,
        pu,
        cr,
        pr,
        cl,
        pl,
        draws.jt,
        np.float32(spec.strength),
        np.float32(max(spec.strength, 1e-12)),
        float(firm.defect_rate[fb]),
        firm.link_bands(CONTACT_LINKS),
        firm.has.any(axis=1),
        state.need,
        state.tier,
        state.supplier,
        rec.need,
        rec.tier,
        rec.supplier,
        rec.seen,
        rec.known,
        rec.covered,
        firm.std_cells.any(axis=1),
        rec.believed,
        rec.n_open,
        now,
        scratch(state, "who", (n,), np.int32),
        contacted,
        offered,
        tallies,
    )
    draws.finish()
    n_con = int(tallies[0])
    firm.contacts += n_con
    cost = n_con * spec.cost_per_contact + n_cov * spec.cost_per_record
    firm.contact_cost += cost
    firm.step_cost += cost
    firm.chain_opp[fb] += int(tallies[1])
    firm.chain_def[fb] += int(tallies[2])
    for k, link in enumerate(CONTACT_LINKS):
        firm.chain_opp[link] += int(tallies[3 + 2 * k])
        firm.chain_def[link] += int(tallies[4 + 2 * k])
    return Contacts(
        p=None,
        contacted=contacted,
        offered=offered,
        read_ok=read_ok,
        kind=rec.kind,
        table=table,
        offered_at=offered_at,
    )


@dataclass
class _ChoiceTables:
    offers: np.ndarray  # (F, C, T) int64
    fitq: np.ndarray  # (F, C, T) float64
    price_of: np.ndarray  # (F, C, T) float64
    quality: np.ndarray  # (F, C, T) float64
    sale_hi: np.ndarray  # (F, 3)
    after_hi: np.ndarray  # (F, 2)
    sale_b: np.ndarray  # (F,)


def _choice_tables(firms: list[FirmAgent], choice: Choice) -> _ChoiceTables:
    """The per-firm (category, desired tier) tables of the reference ``choice_step``,
    rebuilt only when a portfolio changed."""
    model = firms[0].model
    key = (id(choice), *(f.portfolio_version for f in firms))
    got = getattr(model, "_choice_tables", None)
    if got is not None and got[0] == key:
        return got[1]  # type: ignore[no-any-return]
    tables = _build_choice_tables(firms, choice)
    model._choice_tables = (key, tables)  # type: ignore[attr-defined]
    return tables


def _build_choice_tables(firms: list[FirmAgent], choice: Choice) -> _ChoiceTables:
    """The per-firm (category, desired tier) tables of the reference ``choice_step``."""
    tables = [offer_tables(firm, choice) for firm in firms]
    return _ChoiceTables(
        offers=np.stack([f.offers for f in firms]).astype(np.int64),
        fitq=np.stack([fq for fq, _ in tables]).astype(np.float64),
        price_of=np.stack([pr for _, pr in tables]).astype(np.float64),
        quality=np.stack([f.quality for f in firms]).astype(np.float64),
        sale_hi=np.stack([f.link_bands(SALE_LINKS) for f in firms]),
        after_hi=np.stack([f.link_bands(AFTER_SALE_LINKS) for f in firms]),
        sale_b=np.array([f.defect_band(SALE_LINKS) for f in firms], dtype=np.float64),
    )


_EMPTY = np.empty(0, dtype=np.int64)


def _stacked(
    state: CustomerState, contacts: list[Contacts]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kinds, tables, contacted, offered) of all firms as (F, ...) arrays: the step's
    own arrays, which this module's ``platform_step`` wrote each firm's row of."""
    store = getattr(state, "_scratch", {})
    whole = tuple(store.get(k) for k in ("kinds", "tables", "contacted", "offered"))
    for c in contacts:
        parts = (c.kind, c.table, c.contacted, c.offered)
        if any(p is None or p.base is not w for p, w in zip(parts, whole, strict=True)):
            raise ValueError("compiled choice_step needs compiled platform_step contacts")
    return whole  # type: ignore[return-value]


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
    """``sim.choice.choice_step`` in one compiled pass (and one over the sales)."""
    n, C = state.need.shape
    F = len(firms)
    draws = RuleDraws(rng)
    cn, pn = draws.f64(n)
    cw, pw = draws.f32(n * C)
    ck, pk = draws.f64(n * C)
    cs, ps = draws.f32(n * C)
    tb = _choice_tables(firms, choice)
    indptr = _EMPTY if graph.indptr is None else graph.indptr
    indices = _EMPTY if graph.indices is None else graph.indices
    chain = np.zeros((F, 2, 5), dtype=np.int64)
    kinds, tables, contacted, offered = _stacked(state, contacts)
    pos, firm_of, tiers, comp = K.choice_kernel(
        _truth(state),
        state.complaint,
        state.complaint_t,
        state.segment,
        unresolved,
        indptr,
        indices,
        cn,
        pn,
        cw,
        pw,
        ck,
        pk,
        cs,
        ps,
        draws.jt,
        tb.offers,
        tb.fitq,
        tb.price_of,
        tb.quality,
        kinds,
        tables,
        contacted,
        offered,
        market.seg_price_sens,
        float(wom.q),
        float(choice.loyalty),
        float(wom.complaint_penalty),
        float(choice.outside_utility),
        tb.sale_hi,
        tb.after_hi,
        tb.sale_b,
        now,
        scratch(state, "list_i", (n * C,), np.int32),
        scratch(state, "list_c", (n * C,), np.int8),
        tally(state, market.n_tiers, F).served,
        chain,
    )
    draws.finish()
    links = SALE_LINKS + AFTER_SALE_LINKS
    out: list[Sales] = []
    for f, firm in enumerate(firms):
        for k, link in enumerate(links):
            firm.chain_opp[link] += int(chain[f, 0, k])
            firm.chain_def[link] += int(chain[f, 1, k])
        mine = firm_of == f
        p_f, t_f = pos[mine], tiers[mine]
        if p_f.size:
            revenue = float(firm.price[p_f % C, t_f].sum())
            firm.revenue += revenue
            firm.step_revenue += revenue
            firm.sales += p_f.size
            firm.step_sales += p_f.size
        out.append(Sales(p_f, t_f))
    return out


_LOADED: set[bool] = set()


def load_kernels(mean_field: bool) -> None:
    """Load the compiled kernels into this process (from numba's cache, or compiling
    them) while a model is being set up, rather than during its first step: one short
    run of a tiny model, once per process and kind of network."""
    if mean_field in _LOADED:
        return
    _LOADED.add(mean_field)
    from sim.model import DemandModel

    kind = "mean-field" if mean_field else "watts-strogatz"
    DemandModel("baseline", rng=1, overrides={"run.customers": 64, "network.kind": kind}).run(1)


def warm() -> None:
    """Compile the kernels into numba's on-disk cache (``make`` does this once after
    installing, so that the first real run does not wait for the compiler): a short
    run on a small world network and one on mean-field mixing, whose neighbour arrays
    are typed differently."""
    from sim.model import DemandModel

    for kind in ("watts-strogatz", "mean-field"):
        DemandModel("baseline", rng=1, overrides={"run.customers": 200, "network.kind": kind}).run(
            2
        )


if __name__ == "__main__":
    warm()
