"""``DemandModel``'s step through Mesa (``DemandModel._wrapped_step``): with only Mesa's
own schedule pending it skips the event list's work, and the model's clock, step
count, schedule and outputs are what Mesa's own step gives."""

from __future__ import annotations

import logging

import mesa
import pandas as pd

from sim import DemandModel

OVERRIDES = {"run.customers": 300, "run.steps": 12}


def _model() -> DemandModel:
    return DemandModel("baseline", rng=7, overrides=OVERRIDES)


def test_same_clock_schedule_and_outputs_as_mesas_step() -> None:
    fast = _model()
    fast_calls: list[int] = []
    fast._advance_time = lambda until: fast_calls.append(1)  # type: ignore[method-assign]
    fast.run(4)
    for _ in range(4):
        fast.step()
    # Mesa's own step: a logger listening at INFO takes the model off the short path
    log = logging.getLogger("MESA.mesa.model")
    level = log.level
    log.setLevel(logging.INFO)
    try:
        calls: list[int] = []
        slow = _model()
        slow._advance_time = lambda until: (  # type: ignore[method-assign]
            calls.append(1),
            mesa.Model._advance_time(slow, until),
        )
        slow.run(8)
    finally:
        log.setLevel(level)
    assert not fast_calls  # the short path: no event list
    assert len(calls) == 8  # the slow model did go through Mesa's event list
    assert (fast.time, fast.steps, fast.t) == (slow.time, slow.steps, slow.t) == (8.0, 8, 8)
    for m in (fast, slow):
        (ev,) = m._event_list._events
        assert ev is m._default_schedule._current_event and ev.time == 9.0
        assert m._default_schedule.execution_count == 8
    pd.testing.assert_frame_equal(
        fast.datacollector.get_model_vars_dataframe(),
        slow.datacollector.get_model_vars_dataframe(),
    )


def test_scheduled_events_run_when_due() -> None:
    m = _model()
    seen: list[tuple[float, int]] = []

    class Probe:
        def __call__(self) -> None:
            seen.append((m.time, m.t))

    probe = Probe()  # Mesa holds a weak reference: keep it alive
    m.schedule_event(probe, at=3.0)
    m.schedule_event(probe, at=5.5)
    m.run(6)
    # Mesa's step runs before an event at the same time (its schedule's priority is high)
    assert seen == [(3.0, 3), (5.5, 5)]
    assert (m.time, m.steps, m.t) == (6.0, 6, 6)
    (ev,) = m._event_list._events
    assert ev.time == 7.0


def test_events_scheduled_during_a_step_run_as_in_mesas_step() -> None:
    seen: dict[str, list[tuple[float, int]]] = {"fast": [], "slow": []}
    models = {}
    log = logging.getLogger("MESA.mesa.model")
    for name in ("fast", "slow"):
        m = _model()
        models[name] = m
        inner = m._user_step

        class Probe:
            def __init__(self, m: DemandModel, out: list[tuple[float, int]]) -> None:
                self.m, self.out = m, out

            def __call__(self) -> None:
                self.out.append((self.m.time, self.m.t))

        probe = Probe(m, seen[name])
        m._probe = probe  # type: ignore[attr-defined]  # Mesa holds a weak reference

        def stepper(m: DemandModel = m, inner=inner, probe: Probe = probe) -> None:  # type: ignore[no-untyped-def]
            inner()
            if m.steps == 2:  # due now, and half a unit on
                m.schedule_event(probe, at=m.time)
                m.schedule_event(probe, at=m.time + 0.5)

        m._user_step = stepper  # type: ignore[method-assign]
        level = log.level
        if name == "slow":
            log.setLevel(logging.INFO)  # Mesa's own step
        try:
            for _ in range(2):
                m.step()
            # the event due at the step's time ran inside that step, the later one not yet
            assert seen[name] == [(2.0, 2)]
            for _ in range(3):
                m.step()
        finally:
            log.setLevel(level)
    assert seen["fast"] == seen["slow"] == [(2.0, 2), (2.5, 2)]
    assert models["fast"].time == models["slow"].time == 5.0
    (ev,) = models["fast"]._event_list._events
    assert ev.time == 6.0
