"""Firms see only what their platform saw (docs/model.md §1, §2.2): the rules are handed
beliefs, records start stale and can be wrong, sales show what was sold, offers follow
the records, the chain breaks under load, and opportunities follow seed 004."""

from __future__ import annotations

import gc
import inspect
import types
from types import SimpleNamespace

import numpy as np

from sim import DemandModel
from sim.calendar import Clock
from sim.firms import FirmBook, Records
from sim.ledger import OpportunityLedger
from sim.model import DemandModel as Model
from sim.model import FirmAgent
from sim.platform import contact_table
from sim.reads import believed_offer
from sim.scenario import Platform
from sim.state import ACTIVE, LATENT, NEVER, NONE, SERVED, CustomerState
from sim.strategy import plan
from tests.helpers import small

INSENSITIVE = {"focal.platform.density": 0.02, "focal.platform.strength": 0.4}


def _first_premium_development(summary: dict) -> int:
    for e in summary["planning"]:
        if e["firm"] == "focal" and e["event"] == "development" and e["tier"] == "premium":
            return int(e["step"])
    return 10**6


def test_an_insensitive_platform_plans_premium_later_and_contracts_more_often() -> None:
    starts, contracted = [], []
    for seed in range(6):
        row = []
        for extra in ({}, INSENSITIVE):
            ov = {"run.customers": 3000, "focal.strategy.enabled": True, **extra}
            s = DemandModel("upmarket-shift", rng=seed, overrides=ov).run(120).summary()
            row.append((_first_premium_development(s), s["contraction_onset"] is not None))
        starts.append(row[1][0] - row[0][0])
        contracted.append((row[0][1], row[1][1]))
    d = np.array(starts, dtype=float)
    # paired by seed: the lag's lower 4-standard-error bound is above zero
    assert d.mean() - 4 * d.std(ddof=1) / np.sqrt(d.size) > 0, d
    # contraction: discordant pairs all on the insensitive side (p <= 1/32 if equal)
    only_insensitive = sum(b and not a for a, b in contracted)
    only_sensitive = sum(a and not b for a, b in contracted)
    assert only_insensitive >= 5 and only_sensitive == 0, contracted


def test_a_firm_without_a_platform_develops_nothing_it_does_not_sell() -> None:
    blind = {"focal.platform.coverage": 0.0, "focal.platform.density": 0.0}
    for seed in (1, 2):
        seeing = DemandModel(small(n=2000), rng=seed).run(60).summary()
        dev = [
            e for e in seeing["planning"] if e["firm"] == "focal" and e["event"] == "development"
        ]
        assert dev, "with its platform the firm does plan (the test has power)"
        s = DemandModel(small(n=2000, **blind), rng=seed).run(60).summary()
        assert not [
            e for e in s["planning"] if e["firm"] == "focal" and e["event"] == "development"
        ]


def test_with_homogeneous_targeting_reading_well_raises_marketing_density() -> None:
    diffs = []
    for seed in range(6):
        md = []
        for strength in (0.2, 1.0):
            ov = {"focal.platform.targeting": "homogeneous", "focal.platform.strength": strength}
            md.append(
                DemandModel(small(n=2000, **ov), rng=seed).run(78).summary()["marketing_density"]
            )
        diffs.append(md[1] - md[0])
    d = np.array(diffs)
    assert d.mean() - 4 * d.std(ddof=1) / np.sqrt(d.size) > 0, d


def _order_link(capacity: float, seed: int) -> tuple[int, int, float]:
    sc = small(n=3000, **{"focal.capacity.order_fulfilment": capacity})
    s = DemandModel(sc, rng=seed).run(52).summary()
    link = s["chain"]["order_fulfilment"]
    return link["opportunities"], link["defects"], sc.focal.chain.order_fulfilment


def test_load_above_capacity_breaks_the_link_and_below_it_does_not() -> None:
    orders, defects, base = _order_link(0.0, 4)  # unlimited: the base rate
    per_year = orders / 52 * 52  # the year's orders in this run
    # far above the load: the base rate, within 4 binomial standard errors
    o, dd, _ = _order_link(100.0 * per_year, 4)
    assert abs(dd / o - base) <= 4 * np.sqrt(base * (1 - base) / o) + 1 / o
    # at half the load about half the orders fail at the link
    o, dd, _ = _order_link(0.5 * per_year, 4)
    assert dd / o > base + 0.2
    assert abs(defects / orders - base) <= 4 * np.sqrt(base * (1 - base) / orders) + 1 / orders


def _reachable(root: object, limit: int = 200_000) -> list[object]:
    """Objects reachable from ``root`` through references (classes, modules and
    functions are the code, not the state, and are not followed)."""
    seen, out, todo = set(), [], [root]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(obj))
        out.append(obj)
        todo.extend(gc.get_referents(obj))
    return out


def test_the_deciding_rules_cannot_reach_the_true_state() -> None:
    model = DemandModel(small(n=500), rng=3).run(5)
    for firm in model.firm_list:
        reach = _reachable(firm.book)
        assert not [o for o in reach if isinstance(o, Model | CustomerState | FirmAgent)]
        assert any(isinstance(o, Records) for o in reach)  # the beliefs are there
    # and they are called with books, records and settings, nothing else
    assert list(inspect.signature(plan).parameters)[0] == "firm"
    assert inspect.signature(plan).parameters["firm"].annotation in ("FirmBook", FirmBook)
    assert list(inspect.signature(contact_table).parameters) == [
        "p",
        "n_cov",
        "n_open",
        "kind",
        "clock",
    ]
    assert list(inspect.signature(believed_offer.py_func).parameters) == [
        "rec_need",
        "rec_tier",
        "offers_c",
    ]
    assert inspect.signature(contact_table).parameters["p"].annotation in ("Platform", Platform)


def test_records_start_as_stale_as_the_density_makes_them() -> None:
    ages = {}
    for density in (0.05, 0.25):
        ov = {"focal.platform.density": density, "focal.platform.coverage": 1.0}
        m = DemandModel(small(n=3000, **ov), rng=5)
        rec = m.focal.book.records
        seen = rec.seen[rec.seen != NEVER]
        ages[density] = float(np.mean(0 - seen))
    # mean age about half the refresh interval (a schedule: ages spread over it)
    assert 0.3 / 0.05 < ages[0.05] < 0.8 / 0.05
    assert 0.3 / 0.25 < ages[0.25] < 0.8 / 0.25


def test_a_sale_records_what_was_sold_not_what_was_wanted() -> None:
    blind = {"focal.platform.coverage": 0.0, "focal.platform.density": 0.0}
    m = DemandModel(small("upmarket-shift", n=3000, **blind), rng=2).run(40)
    st, rec = m.state, m.focal.book.records
    mine = (rec.need == SERVED) & (rec.supplier == 0) & (st.need == SERVED) & (st.supplier == 0)
    assert mine.sum() > 100
    # never read: every record of a customer it serves holds the tier it sold
    np.testing.assert_array_equal(rec.tier[mine], st.held[mine])
    moved = mine & (st.tier != st.held)
    assert moved.sum() > 20  # customers who now want more than they bought


def test_a_failed_read_can_record_what_is_not_there() -> None:
    base = {"focal.platform.coverage": 1.0, "focal.platform.strength": 0.0, "run.warmup_weeks": 0}
    for rate, expect_written in ((0.0, False), (1.0, True)):
        m = DemandModel(small(n=2000, **base, **{"focal.platform.misread_rate": rate}), rng=1)
        m.run(6)
        rec, st = m.focal.book.records, m.state
        read = rec.seen != NEVER
        read &= rec.seen > 0
        ghost = read[:, None] & (st.need == NONE) & (rec.need == LATENT)
        assert (ghost.sum() > 0) == expect_written
        if expect_written:
            wrong_tier = read[:, None] & (st.need == ACTIVE) & (rec.need == ACTIVE)
            wrong_tier &= rec.tier != st.tier
            assert wrong_tier.sum() > 0


def test_a_neglected_platform_stays_low() -> None:
    # (the well-run one: tests/test_scenarios_library.py, six-sigma-platform)
    low = [DemandModel("insensitive-platform", rng=s, overrides={"run.customers": 2000}).run(78)
           for s in (1, 2)]  # fmt: skip
    assert all(m.summary()["sigma_level"] < 1.5 for m in low)


# ------------------------------------------------------------------ the opportunity rule


def _ledger_world(n: int, response: int) -> tuple[SimpleNamespace, SimpleNamespace]:
    state = SimpleNamespace(
        need=np.full((n, 1), NONE, dtype=np.int8),
        tier=np.zeros((n, 1), dtype=np.int8),
        segment=np.zeros(n, dtype=np.int8),
    )
    focal = SimpleNamespace(
        std_cells=np.ones((1, 2), dtype=bool),
        std_segments=np.ones(1, dtype=bool),
        records=SimpleNamespace(covered=np.array([True] * (n - 1) + [False])),
        clock=Clock(52),  # a step is a week
        spec=SimpleNamespace(
            platform=SimpleNamespace(standard=SimpleNamespace(response_weeks=response))
        ),
    )
    return state, focal


def test_the_opportunity_rule_counts_what_marketing_practice_requires() -> None:
    """Five needs open at step 1 (response time 3): A is met at step 2 unmarketed (not
    yet due: not counted); B lapses unmarketed at step 5 (omission); C is offered its
    tier at step 2 (effective); D is offered the wrong tier (omission); E is offered its
    tier only at step 6, too late (an exclusion: E is not in the platform)."""
    state, focal = _ledger_world(5, response=3)
    led = OpportunityLedger(5, 1)
    led.full = False
    offered = np.full((5, 1), -1, dtype=np.int8)
    state.need[:, 0] = ACTIVE
    led.open_step(state, focal, np.arange(5), now=1)  # type: ignore[arg-type]
    closes: dict[int, list[int]] = {2: [0], 5: [1], 3: [2], 6: [3], 7: [4]}
    offers = {2: [(2, 0), (3, 1)], 6: [(4, 0)]}
    total = np.zeros(3, dtype=int)
    for now in range(2, 8):
        offered[:] = -1
        at = []
        for j, t in offers.get(now, []):
            offered[j, 0] = t
            at.append(j)
        for j in closes.get(now, []):
            state.need[j, 0] = SERVED if j != 1 else NONE
        led.close_step(
            state,  # type: ignore[arg-type]
            focal,  # type: ignore[arg-type]
            np.array(at, dtype=np.int64),
            offered,
            np.array(closes.get(now, []), dtype=np.int64),
            now,
        )
        total += (led.step_opportunities, led.step_defects, led.step_exclusion)
    assert led.opportunities_total == 4 and led.effective_total == 1
    assert led.omission_total == 2 and led.exclusion_total == 1
    assert (led.open_t == NEVER).all()
    assert total.tolist() == [4, 3, 1]
