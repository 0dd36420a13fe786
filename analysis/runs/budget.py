"""How much work a command asks for, refused before it starts when it is too much.

Work is counted in customer-steps (customers × steps, summed over every run); a run,
calibration, frontier or sweep whose estimate exceeds the budget is refused with
the estimate and the way to allow it (``DEMANDSIM_WORK_BUDGET``), instead of
starting something that would take days.
"""

from __future__ import annotations

import os

from sim.errors import InputError

#: Customer-steps one core simulates per second (the baseline at 3,000 customers,
#: measured on the development machine; a rough guide for the estimate).
RATE = 2.0e6
#: The default budget: about two days on one core.
DEFAULT_BUDGET = 3.5e11
ENV = "DEMANDSIM_WORK_BUDGET"


def budget() -> float:
    """The budget in customer-steps: ``$DEMANDSIM_WORK_BUDGET`` or ``DEFAULT_BUDGET``."""
    raw = os.environ.get(ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_BUDGET
    return value if value > 0 else DEFAULT_BUDGET


def duration(seconds: float) -> str:
    """A duration in the largest unit that keeps it readable (``3.2 days``)."""
    for unit, size in (("years", 31_557_600), ("days", 86_400), ("hours", 3_600)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds / 60:.2g} minutes"


def check_work(what: str, runs: int, steps: int, customers: int) -> None:
    """Refuse work above the budget, before any of it is done.

    Args:
        what: what the runs are, as the user asked for them (``"--reps 10000"``).
        runs: how many model runs.
        steps: steps of each run.
        customers: customers of each run.

    Raises:
        InputError: one line with the estimate and how to allow it.
    """
    work = float(runs) * float(steps) * float(customers)
    if work <= budget():
        return
    raise InputError(
        f"{what}: {_n(runs)} runs × {_n(steps)} steps × {_n(customers)} customers ≈ "
        f"{duration(work / RATE)} on one core, over the {budget():.2g} customer-step "
        f"budget; set {ENV}={work:.2g} to allow it"
    )


def _n(count: int) -> str:
    return f"{count:,}" if count < 10_000_000 else f"{count:.2g}"
