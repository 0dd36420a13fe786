"""The scenario's calendar: a scenario speaks in calendar units, the model in steps.

A scenario gives every quantity of time in a unit of the calendar (docs/model.md §7.1), so the
same market runs the same whether a step is a week or a month:

- hazards named ``*_rate`` are per year (``sim.market.per_step`` converts them);
- durations and points in time named ``*_weeks`` / ``*_week`` are in weeks;
- the platform's contact density, the word-of-mouth coefficient and the cost of
  keeping a record are per week.

``run.steps_per_year`` sets the step (52: a week) and ``run.steps`` counts steps. The
functions here are the one place that turns weeks into steps; with 52 steps a year
each is the identity, exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

WEEKS_PER_YEAR = 52


@dataclass(frozen=True)
class Clock:
    """The run's step in calendar terms (``run.steps_per_year`` steps a year)."""

    steps_per_year: int

    @property
    def weeks_per_step(self) -> float:
        """How many weeks one step lasts (1.0 when a step is a week)."""
        return WEEKS_PER_YEAR / self.steps_per_year

    def steps(self, weeks: float, least: int = 0) -> int:
        """A duration (or a point in time) in weeks as a whole number of steps,
        rounded to the nearest step and at least ``least``."""
        return _steps(self.steps_per_year, weeks, least)

    def date(self, week: int) -> int:
        """The step of a date in weeks: week 0 is the set-up (step 0), any later week
        at least the first step after it."""
        return self.steps(week, 1) if week else 0

    def amount(self, per_week: float) -> float:
        """A quantity per week (contacts, money) as the same quantity per step."""
        return per_week * self.weeks_per_step

    def chance(self, per_week: float) -> float:
        """A chance per week as the chance that it happens at least once in a step, as
        if each week of the step drew it independently: 1 - (1 - p)^(weeks per step)."""
        k = self.weeks_per_step
        if k == 1.0 or per_week <= 0.0:
            return per_week
        if per_week >= 1.0:
            return 1.0
        return -math.expm1(k * math.log1p(-per_week))


@lru_cache(maxsize=4096)
def _steps(steps_per_year: int, weeks: float, least: int) -> int:
    """``Clock.steps``, remembered: the rules ask for the same few durations every step."""
    return max(least, round(weeks / (WEEKS_PER_YEAR / steps_per_year)))
