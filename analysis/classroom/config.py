"""A classroom session's settings and a team's decision, each checked once.

The trainer sets, per session: the scenario (a bundled name or a TOML path), its
seed and market size, the number of teams, rounds and steps per round, each
team's budget per round, and which platform fields teams may set within what
bounds. A team's decision is its platform (coverage, density, strength, focus,
targeting) and the developments it starts this round; it must lie within the
trainer's bounds and its estimated cost within the round's budget.

Every check raises ``sim.errors.InputError`` with one line naming the field, the
value and what is allowed. Nothing here imports Mesa or the model.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from sim.errors import InputError
from sim.schema import Platform

#: the numeric platform fields a team may set, in the order the pages show them
NUMERIC_FIELDS = ("coverage", "density", "strength", "focus")
FIELD_LABELS = {
    "coverage": "Coverage (share of the standard's customers in the platform)",
    "density": "Density (contacts per covered customer per week)",
    "strength": "Strength (chance a contact reads a changed fact correctly)",
    "focus": "Focus (weight of a believed open need, personalized targeting)",
    "targeting": "Targeting",
}
#: one line per lever, in the words of the concept: what it does and what it costs
FIELD_HELP = {
    "coverage": "How many of your standard's customers your platform keeps records on. "
    "Outside it a need is never seen (missed by exclusion). Each record costs every step.",
    "density": "How often you contact a covered customer. More contacts find changes sooner "
    "(fewer misses by omission) but every contact costs.",
    "strength": "How well a contact reads what changed. A weak read leaves your records wrong "
    "however often you contact.",
    "focus": "With personalized targeting, how much contacts go to customers you believe have "
    "an open need. Sharper focus finds those needs sooner but can miss what you do not yet "
    "believe.",
    "targeting": "Homogeneous: contacts spread over everyone covered. Personalized: contacts "
    "steered by your records (by focus).",
}
TARGETING = ("homogeneous", "personalized")
MAX_TEAMS = 60
MAX_ROUNDS = 52
MAX_STEPS = 260
MAX_CUSTOMERS = 200_000


def schema_bounds(name: str) -> tuple[float, float]:
    """The scenario schema's (lo, hi) of a numeric platform field."""
    f = next(f for f in dataclasses.fields(Platform) if f.name == name)
    return float(f.metadata["lo"]), float(f.metadata["hi"])


def _fmt(x: float) -> str:
    return f"{x:g}"


def _number(field_name: str, value: Any, lo: float, hi: float, integer: bool = False) -> Any:
    """``value`` (text or number) as a float (or int) in [lo, hi], else one-line InputError."""
    text = str(value).strip()
    try:
        x = float(text)
    except ValueError:
        raise InputError(f"{field_name}={text!r}: not a number") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise InputError(f"{field_name}={text}: must be between {_fmt(lo)} and {_fmt(hi)}")
    if integer:
        if x != int(x):
            raise InputError(f"{field_name}={text}: must be a whole number")
        return int(x)
    return x


@dataclass(frozen=True)
class SessionConfig:
    """What the trainer chose for a session (stored as JSON with it)."""

    name: str
    scenario: str = "baseline"
    seed: int = 1
    customers: int = 10_000
    teams: int = 4
    rounds: int = 6
    steps_per_round: int = 13
    budget: float = 1000.0
    #: numeric field -> (lo, hi) a team may choose within
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: targeting choices teams may make
    targeting: tuple[str, ...] = TARGETING
    #: whether teams may start product developments
    development: bool = True
    #: the classroom's premium on a contact, as multiples of the scenario's contact cost:
    #: ``strength_price x strength^2 + focus_price x ln(focus)`` (focus: personalized only).
    #: Calibrated on the lesson plan's class (benchmarks/classroom_prices.py) so that no
    #: setting dominates: reading well and contacting often are alternatives with a price.
    strength_price: float = 1.75
    focus_price: float = 0.4
    #: the scenario as loaded when the session was created (plain data): the models are
    #: built from it, so a scenario file edited or moved later does not change a replay
    scenario_data: dict[str, Any] | None = None

    @property
    def steps(self) -> int:
        return self.rounds * self.steps_per_round

    def overrides(self) -> dict[str, Any]:
        """Scenario overrides every team's model is built with: the market size, the
        run length and no automatic product planning (the teams decide developments)."""
        return {
            "run.customers": self.customers,
            "run.steps": self.steps,
            "focal.strategy.enabled": False,
        }

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["bounds"] = {k: list(v) for k, v in self.bounds.items()}
        d["targeting"] = list(self.targeting)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SessionConfig:
        d = dict(d)
        d["bounds"] = {k: (float(v[0]), float(v[1])) for k, v in d.get("bounds", {}).items()}
        d["targeting"] = tuple(d.get("targeting", TARGETING))
        return cls(**d)


def session_from_form(form: dict[str, Any]) -> SessionConfig:
    """A ``SessionConfig`` from the trainer's form (all values text), checked field by
    field; missing fields take their defaults. Bounds default to the schema's."""
    g = form.get
    name = str(g("name") or "").strip() or "Class session"
    if len(name) > 80:
        raise InputError(f"name: {len(name)} characters, at most 80 allowed")
    scenario = str(g("scenario") or "baseline").strip()
    seed = _number("seed", g("seed") or 1, 0, 2**63 - 1, integer=True)
    customers = _number("customers", g("customers") or 10_000, 50, MAX_CUSTOMERS, integer=True)
    teams = _number("teams", g("teams") or 4, 1, MAX_TEAMS, integer=True)
    rounds = _number("rounds", g("rounds") or 6, 1, MAX_ROUNDS, integer=True)
    steps = _number("steps_per_round", g("steps_per_round") or 13, 1, MAX_STEPS, integer=True)
    if rounds * steps > 5 * MAX_STEPS:
        raise InputError(f"rounds x steps_per_round={rounds * steps}: at most {5 * MAX_STEPS}")
    budget = _number("budget", g("budget") or 1000, 0, 1e12)
    bounds: dict[str, tuple[float, float]] = {}
    for f in NUMERIC_FIELDS:
        s_lo, s_hi = schema_bounds(f)
        lo = _number(f"{f}_min", g(f"{f}_min") or s_lo, s_lo, s_hi)
        hi = _number(f"{f}_max", g(f"{f}_max") or s_hi, s_lo, s_hi)
        if lo > hi:
            raise InputError(
                f"{f}_min={_fmt(lo)} > {f}_max={_fmt(hi)}: the minimum must not exceed the maximum"
            )
        bounds[f] = (lo, hi)
    chosen = form.get("targeting_allowed")
    if chosen is None:
        targeting: tuple[str, ...] = TARGETING
    else:
        items = [chosen] if isinstance(chosen, str) else list(chosen)
        for t in items:
            if t not in TARGETING:
                raise InputError(f"targeting_allowed={t!r}: must be one of {', '.join(TARGETING)}")
        targeting = tuple(t for t in TARGETING if t in items)
        if not targeting:
            raise InputError("targeting_allowed: choose at least one of homogeneous, personalized")
    development = str(g("development") or "yes").lower() in ("yes", "on", "true", "1")
    return SessionConfig(
        name=name,
        scenario=scenario,
        seed=seed,
        customers=customers,
        teams=teams,
        rounds=rounds,
        steps_per_round=steps,
        budget=budget,
        bounds=bounds,
        targeting=targeting,
        development=development,
    )


@dataclass(frozen=True)
class Costs:
    """What a round's decision costs, per unit: the team sees these on its page."""

    eligible: int  # customers in the firm's standard (coverage is a share of them)
    cost_per_contact: float
    cost_per_record: float
    development_cost: float
    steps: int
    lead_time: int = 0  # steps from the start of a development to its launch
    strength_price: float = 0.0  # the classroom's premium on a contact (``contact_premium``)
    focus_price: float = 0.0


def contact_premium(platform: dict[str, Any], costs: Costs) -> float:
    """What the classroom adds to a contact's cost, as a multiple of the scenario's: a
    stronger read costs more (``strength_price x strength^2``), and so does a sharper
    personalized focus (``focus_price x ln(focus)``; nothing at focus 1 or homogeneous)."""
    premium = costs.strength_price * float(platform["strength"]) ** 2
    if platform["targeting"] == "personalized":
        premium += costs.focus_price * math.log(max(float(platform["focus"]), 1.0))
    return premium


def platform_estimate(platform: dict[str, Any], costs: Costs) -> float:
    """Expected platform cost of a round: records kept plus contacts made, each contact
    at the scenario's cost times (1 + the classroom's premium). Personalized targeting
    makes the same expected number of contacts as homogeneous targeting."""
    covered = platform["coverage"] * costs.eligible
    contact = costs.cost_per_contact * (1 + contact_premium(platform, costs))
    per_step = covered * (costs.cost_per_record + platform["density"] * contact)
    return costs.steps * per_step


def check_decision(
    form: dict[str, Any],
    cfg: SessionConfig,
    costs: Costs,
    cells_open: list[str],
) -> dict[str, Any]:
    """A team's decision from its form, within the trainer's bounds and the budget.

    Args:
        form: field -> text (``develop`` may be a list of ``category/tier`` cells).
        cfg: the session.
        costs: the unit costs of the team's firm.
        cells_open: the cells the team may start developing (``category/tier``).

    Returns:
        ``{"platform": {field: value}, "develop": [cells], "estimate": cost}``.
    """
    platform: dict[str, Any] = {}
    for f in NUMERIC_FIELDS:
        lo, hi = cfg.bounds[f]
        if form.get(f) in (None, ""):
            raise InputError(f"{f}: missing, a number between {_fmt(lo)} and {_fmt(hi)}")
        platform[f] = _number(f, form[f], lo, hi)
    t = str(form.get("targeting") or "")
    if t not in cfg.targeting:
        raise InputError(f"targeting={t!r}: must be one of {', '.join(cfg.targeting)}")
    platform["targeting"] = t
    raw = form.get("develop") or []
    develop = [raw] if isinstance(raw, str) else list(raw)
    if develop and not cfg.development:
        raise InputError("develop: developments are not allowed in this session")
    for cell in develop:
        if cell not in cells_open:
            allowed = ", ".join(cells_open) or "none"
            raise InputError(
                f"develop={cell!r}: not a cell you can develop now (allowed: {allowed})"
            )
    if len(set(develop)) != len(develop):
        raise InputError("develop: a cell was chosen twice")
    estimate = platform_estimate(platform, costs) + len(develop) * costs.development_cost
    if estimate > cfg.budget + 1e-9:
        raise InputError(
            f"over budget: estimated cost {estimate:,.1f} (platform "
            f"{platform_estimate(platform, costs):,.1f} + {len(develop)} development(s)) "
            f"> budget {cfg.budget:,.1f}"
        )
    return {"platform": platform, "develop": develop, "estimate": round(estimate, 4)}
