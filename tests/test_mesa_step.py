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
