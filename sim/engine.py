"""Which engine runs the per-customer rules (docs/performance.md, "The event-driven
engine").

``"sweep"`` visits every customer every step: each need draws its state number, each
platform tests every covered customer for a contact. ``"events"`` works only where
something happens: a need's candidate steps lie on a calendar of its own (drawn at a
bounding rate and thinned to the hazard of the state it is in then), and a platform's
random contacts are geometric skips. The two are the same model (the same
distributions, the same step order); their numbers differ, run for run.

The event engine is the default. The sweep stays as the reference the event engine
was checked against (tests/data/engine_reference.json was recorded on it) and can be
chosen with the model's ``engine`` argument or the environment variable
``DEMANDSIM_ENGINE`` (for running a whole test suite on it).
"""

from __future__ import annotations

import os

ENGINES = ("sweep", "events")
DEFAULT = "events"


def resolve(engine: str | None) -> str:
    """The engine a model runs: ``engine`` if given, else ``DEMANDSIM_ENGINE``, else the
    default."""
    name = engine if engine is not None else os.environ.get("DEMANDSIM_ENGINE", DEFAULT)
    if name not in ENGINES:
        raise ValueError(f"engine={name!r} must be one of {', '.join(ENGINES)}")
    return name
