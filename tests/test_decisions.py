"""Decisions taken mid-run (``set_platform``, ``start_development``), Mesa's
``running`` flag and seeds drawn from entropy."""

from __future__ import annotations

import pytest

from sim import DemandModel, load_scenario
from sim.scenario import ScenarioError

SMALL = {"run.customers": 400, "run.steps": 6}


def test_running_turns_false_when_the_scenario_steps_are_done() -> None:
    model = DemandModel("baseline", rng=3, overrides=SMALL)
    assert model.running
    model.run_model()  # mesa.Model's own loop: steps while running
    assert model.t == 6 and not model.running


def test_no_seed_draws_fresh_entropy_and_records_it() -> None:
    a = DemandModel("baseline", overrides=SMALL)
    b = DemandModel("baseline", overrides=SMALL)
    assert a.seed != b.seed
    again = DemandModel("baseline", rng=a.seed, overrides=SMALL).run(3)
    a.run(3)
    assert again.summary()["revenue_total"] == a.summary()["revenue_total"]


def test_set_platform_changes_coverage_from_the_next_step() -> None:
    model = DemandModel("baseline", rng=5, overrides=SMALL)
    rec = model.focal.book.records
    before = rec.covered.copy()
    model.set_platform(0, coverage=1.0)
    eligible = model.focal.book.std_segments[model.state.segment]
    assert (rec.covered == eligible).all() and rec.covered.sum() > before.sum()
    assert (rec.covered | ~before).all()  # nobody covered before is dropped
    model.set_platform(0, coverage=0.0, density=0.0)
    assert not rec.covered.any()
    contacts = model.focal.book.contacts
    model.step()
    assert model.focal.book.contacts == contacts  # no platform, no contact


def test_a_later_decision_keeps_an_earlier_one() -> None:
    """Two decisions about different fields: the second does not undo the first."""
    model = DemandModel("baseline", rng=5, overrides=SMALL)
    density = model.focal.book.spec.platform.density
    model.set_platform(0, density=density * 2)
    model.set_platform(0, strength=0.91)
    model.set_platform(1, coverage=0.5)
    p = model.focal.book.spec.platform
    assert (p.density, p.strength) == (density * 2, 0.91)
    assert model.firm_list[1].book.spec.platform.coverage == 0.5
    assert model.focal.book.spec.platform.density == density * 2  # a rival's decision neither


def test_set_platform_refuses_values_outside_the_schema() -> None:
    model = DemandModel("baseline", rng=5, overrides=SMALL)
    with pytest.raises(ScenarioError, match="focal.platform.density"):
        model.set_platform(0, density=1.5)


def test_start_development_launches_after_the_lead_time() -> None:
    sc = load_scenario("baseline", overrides={**SMALL, "focal.strategy.enabled": False})
    model = DemandModel(sc, rng=7)
    cat = sc.categories[0]
    missing = [k for k, has in enumerate(model.focal.book.has[0]) if not has]
    assert missing, "the baseline focal firm leaves a tier of its first category unsold"
    tier = cat.tiers[missing[-1]]
    model.start_development(0, cat.name, tier)
    lead = model.focal.book.spec.strategy.lead_time_weeks
    model.run(lead)
    assert model.focal.book.has[0, missing[-1]]
    launches = [la for la in model.focal.book.launches if la.tier == tier]
    assert [la.step for la in launches] == [lead]
    # the whole development cost, spread over the lead time
    assert model.focal.book.development_cost == pytest.approx(
        model.focal.book.spec.strategy.development_cost
    )
