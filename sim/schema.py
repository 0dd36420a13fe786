"""The scenario schema: every field of a scenario, declared once.

A scenario is a tree of frozen dataclasses. Every leaf field carries a default, a
description and its bounds in the dataclass field metadata (``spec(...)``), so the
same declaration drives validation (``sim.scenario``), ``demandsim scenarios
show``, the generated field table and the JSON Schema (``sim.schema_doc``).

Every quantity of time is in a unit of the calendar, so the same market runs the same
whether a step is a week or a month (``sim.calendar``): rates named ``*_rate`` are
annual hazards (p = 1 - exp(-rate / steps_per_year) per step); durations and points
in time named ``*_weeks`` / ``*_week`` are in weeks; the platform's density and
cost per record and word of mouth's ``q`` are per week. Only ``run.steps`` counts
steps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

CHAIN_LINKS: tuple[str, ...] = (
    "needs_identification",
    "handoff_to_design",
    "order_fulfilment",
    "product_communication",
    "channel",
    "training_promotion",
    "delivery_installation",
    "use_assistance",
    "feedback",
)


def spec(
    default: Any,
    desc: str,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    factory: Any = None,
) -> Any:
    """Declare a schema field with its default, description and bounds."""
    meta = {"desc": desc, "lo": lo, "hi": hi, "choices": choices}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


#: The largest age a served need can reach, in steps: a need's age is an int16 counter
#: (docs/model.md §2.1), so a product's lifetime in steps may not exceed it. The limit
#: of ``lifetime_weeks`` is this many weeks (a weekly clock); a faster clock allows
#: fewer weeks (``sim.scenario`` checks the lifetime in steps).
AGE_MAX_STEPS = 32767

# --------------------------------------------------------------------------- market


@dataclass(frozen=True)
class Category:
    name: str = spec("core", "Category name, unique in the market.")
    tiers: tuple[str, ...] = spec(
        None, "Ordered tiers, entry first.", factory=lambda: ("entry", "standard", "premium")
    )
    prices: tuple[float, ...] = spec(
        None, "Default price per tier (money units).", 0.0, 1e9, factory=lambda: (1.0, 1.5, 2.2)
    )
    qualities: tuple[float, ...] = spec(
        None, "Default quality per tier, 0..1.", 0.0, 1.0, factory=lambda: (0.6, 0.7, 0.8)
    )
    lifetime_weeks: int = spec(
        156,
        "Weeks until a product wears out and must be replaced. In steps it may be at "
        "most 32767, the range of a need's age counter: 630 years of weekly steps, "
        "fewer weeks when run.steps_per_year is above 52.",
        1,
        AGE_MAX_STEPS,
    )
    failure_rate: float = spec(
        0.15,
        "Annual hazard that a product fails before wear-out (scaled by "
        "demand.failure_quality_offset - quality).",
        0.0,
        50.0,
    )
    complement_of: str = spec(
        "", "Name of the category whose product failures open latent needs here ('' = none)."
    )
    supersedes: str = spec(
        "",
        "Name of the earlier generation this category replaces ('' = none): once a product "
        "here is on the market, customers learn of it (awareness_p, awareness_q); one who "
        "is ready (has bought the earlier generation) and aware holds this one, upgrading "
        "or leapfrogging, and its need there ends (Norton-Bass substitution).",
    )
    own_market: float = spec(
        0.0,
        "For a later generation: the share of all customers in its own new market "
        "(customers outside the earlier generation's market who want only this one; "
        "m2 of Norton-Bass).",
        0.0,
        1.0,
    )
    awareness_p: float = spec(
        0.01,
        "For a later generation: chance per week that a customer not yet aware of it "
        "learns of it by itself (its Bass p, from its launch on).",
        0.0,
        1.0,
    )
    awareness_q: float = spec(
        0.1,
        "For a later generation: chance per week of learning of it, per unit share of "
        "a customer's neighbours aware of it (its Bass q).",
        0.0,
        1.0,
    )


@dataclass(frozen=True)
class Segment:
    name: str = spec("mainstream", "Segment name.")
    share: float = spec(1.0, "Share of the population in this segment.", 0.0, 1.0)
    tier_mix: tuple[float, ...] = spec(
        None,
        "Starting desired-tier distribution (entry first): one weight per tier, summing to 1.",
        0.0,
        1.0,
        factory=lambda: (0.5, 0.35, 0.15),
    )
    upmarket_rate: float = spec(
        0.3,
        "Base annual hazard that a served customer's desired tier moves up one tier.",
        0.0,
        50.0,
    )
    complement_propensity: float = spec(
        0.3,
        "Chance that a product failure opens a latent need in the complement category.",
        0.0,
        1.0,
    )
    price_sensitivity: float = spec(1.0, "Weight of price in the customer's choice.", 0.0, 100.0)


@dataclass(frozen=True)
class Demand:
    emergence_rate: float = spec(
        1.0, "Annual hazard of a need emerging (none -> latent).", 0.0, 1000.0
    )
    activation_rate: float = spec(
        4.0, "Annual hazard of latent demand becoming real (latent -> active).", 0.0, 1000.0
    )
    expiry_rate: float = spec(
        2.0, "Annual hazard that an active, unserved need lapses (active -> none).", 0.0, 1000.0
    )
    initial_active: float = spec(0.1, "Share of needs active at step 0.", 0.0, 1.0)
    initial_served: float = spec(0.5, "Share of needs served at step 0.", 0.0, 1.0)
    initial_latent: float = spec(0.2, "Share of needs latent at step 0.", 0.0, 1.0)
    age_gain: float = spec(
        1.0,
        "How much the upmarket hazard grows per year of consumption (x(1 + gain*years)).",
        0.0,
        100.0,
    )
    satisfaction_gain: float = spec(
        1.0,
        "How much the upmarket hazard grows with satisfaction (x(1 + gain*(s - 0.5))).",
        0.0,
        2.0,
    )
    churn_rate: float = spec(
        0.2, "Annual hazard that a served customer leaves its supplier.", 0.0, 100.0
    )
    complaint_churn: float = spec(
        5.0,
        "Multiplier on the churn hazard while a complaint about the supplier is unresolved.",
        1.0,
        1000.0,
    )
    complement_emergence_rate: float = spec(
        0.0,
        "Annual hazard of a complement need emerging on its own (none -> latent); "
        "complements also open when a product fails.",
        0.0,
        1000.0,
    )
    failure_quality_offset: float = spec(
        1.5,
        "A product fails with the category's hazard times (this offset - its quality): "
        "better products fail less.",
        1.0,
        10.0,
    )
    misfit_satisfaction: float = spec(
        0.2, "Satisfaction lost per tier between the product held and the tier desired.", 0.0, 1.0
    )
    complaint_satisfaction: float = spec(
        0.5, "Share of its satisfaction a customer keeps when it complains.", 0.0, 1.0
    )


@dataclass(frozen=True)
class Network:
    kind: str = spec(
        "watts-strogatz",
        "Social network among customers.",
        choices=("watts-strogatz", "barabasi-albert", "erdos-renyi", "mean-field", "file"),
    )
    degree: int = spec(10, "Mean degree (even for watts-strogatz).", 1, 10000)
    rewire: float = spec(0.1, "Watts-Strogatz rewiring probability.", 0.0, 1.0)
    path: str = spec(
        "", "Edge list (.txt/.csv/.edgelist) or GraphML (.graphml) file, for kind = 'file'."
    )


@dataclass(frozen=True)
class WordOfMouth:
    q: float = spec(
        0.1,
        "Imitation coefficient per week: exposure chance q x share of neighbours served.",
        0.0,
        1.0,
    )
    complaint_penalty: float = spec(
        2.0,
        "Utility lost by a firm when the customer's neighbour has an unresolved complaint about it.",
        0.0,
        100.0,
    )


@dataclass(frozen=True)
class Choice:
    fit: float = spec(
        2.0, "Utility lost per tier between the offer and the desired tier.", 0.0, 100.0
    )
    quality: float = spec(3.0, "Utility per unit of quality.", 0.0, 100.0)
    loyalty: float = spec(1.0, "Utility bonus of the incumbent supplier.", 0.0, 100.0)
    outside_utility: float = spec(
        -1.0,
        "Utility of not buying this step (very negative: an exposed customer always buys).",
        -1000.0,
        1000.0,
    )


@dataclass(frozen=True)
class Product:
    category: str = spec("core", "Category of the product.")
    tier: str = spec("entry", "Tier of the product, one of the category's tiers.")
    price: float = spec(-1.0, "Price (-1 = the category's default for the tier).", -1.0, 1e9)
    quality: float = spec(
        -1.0, "Quality 0..1 (-1 = the category's default for the tier).", -1.0, 1.0
    )
    launch_week: int = spec(0, "Week at which the product is on the market.", 0, 1000000)


# --------------------------------------------------------------------------- firms


@dataclass(frozen=True)
class Standard:
    segments: tuple[str, ...] = spec(
        None, "Segments the firm targets (empty = all).", factory=tuple
    )
    categories: tuple[str, ...] = spec(
        None, "Categories the firm targets (empty = all).", factory=tuple
    )
    tiers: tuple[str, ...] = spec(None, "Tiers the firm targets (empty = all).", factory=tuple)
    response_weeks: int = spec(
        13,
        "Marketing practice: potential demand in the standard should be effectively marketed "
        "within this many weeks of arising (a need met or lapsed sooner without it is no "
        "defect; one not marketed in time is).",
        1,
        100000,
    )


@dataclass(frozen=True)
class Platform:
    coverage: float = spec(
        0.8, "Share of the standard's customers who are in the platform.", 0.0, 1.0
    )
    density: float = spec(
        0.1,
        "Contacts per covered customer per week (a chance when a step is a week; at most one "
        "a step); 1/density is the mean refresh interval in weeks.",
        0.0,
        1.0,
    )
    strength: float = spec(0.8, "Chance that a contact reads a changed fact correctly.", 0.0, 1.0)
    misread_rate: float = spec(
        0.3,
        "Chance that a read that fails records a wrong value (a neighbouring tier, or an "
        "open need that is not there) rather than nothing.",
        0.0,
        1.0,
    )
    targeting: str = spec(
        "personalized",
        "Who is contacted: covered customers at random (homogeneous groups), or on a "
        "schedule the records drive (each record refreshed every 1/density weeks on "
        "average, believed open needs focus times as often: personalized).",
        choices=("homogeneous", "personalized"),
    )
    focus: float = spec(
        4.0,
        "Personalized targeting: contact weight of a believed open need relative to others.",
        1.0,
        1000.0,
    )
    cost_per_contact: float = spec(0.02, "Cost of one contact.", 0.0, 1e6)
    cost_per_record: float = spec(
        0.001, "Cost per week of keeping one covered customer's record.", 0.0, 1e6
    )
    standard: Standard = field(default_factory=Standard, metadata={"desc": "The firm's standard."})


@dataclass(frozen=True)
class Strategy:
    enabled: bool = spec(
        True, "Whether the firm plans products from its beliefs (false = frozen portfolio)."
    )
    threshold: float = spec(
        0.05,
        "Believed unmet demand in a cell, as a share of known records, that triggers development.",
        0.0,
        1.0,
    )
    persistence_weeks: int = spec(
        8, "Weeks the believed unmet demand must stay above the threshold.", 1, 10000
    )
    lead_time_weeks: int = spec(26, "Development lead time in weeks.", 0, 10000)
    development_cost: float = spec(
        200.0, "Cost of one development, spread over the lead time.", 0.0, 1e12
    )
    retire_threshold: float = spec(
        0.0,
        "Retire a product when believed demand for its cell stays below this share (0 = never).",
        0.0,
        1.0,
    )
    evaluation_weeks: int = spec(
        26, "Weeks after a launch over which its adoption is evaluated.", 1, 10000
    )
    launch_target: float = spec(
        0.01,
        "Adopters within the window, as a share of customers, for a launch to count as a success.",
        0.0,
        1.0,
    )


@dataclass(frozen=True)
class FirmEvent:
    kind: str = spec("launch", "Scripted event.", choices=("launch", "supplier_failure"))
    week: int = spec(1, "Week of the event (at least the first step after step 0).", 1, 1000000)
    category: str = spec("core", "Launch: category.")
    tier: str = spec("premium", "Launch: tier.")
    price: float = spec(-1.0, "Launch: price (-1 = default).", -1.0, 1e9)
    quality: float = spec(-1.0, "Launch: quality (-1 = default).", -1.0, 1.0)
    share: float = spec(
        0.5, "Supplier failure: share of the firm's customers whose need turns active.", 0.0, 1.0
    )


@dataclass(frozen=True)
class Chain:
    needs_identification: float = spec(
        0.01, "Defect rate: the need is misread at the contact (no offer).", 0.0, 1.0
    )
    handoff_to_design: float = spec(
        0.02, "Defect rate: a believed need does not reach product planning.", 0.0, 1.0
    )
    order_fulfilment: float = spec(
        0.005, "Defect rate: the order is not supplied correctly (sale lost).", 0.0, 1.0
    )
    product_communication: float = spec(
        0.01, "Defect rate: the offer is not understood (no offer).", 0.0, 1.0
    )
    channel: float = spec(0.005, "Defect rate: the channel fails to sell (sale lost).", 0.0, 1.0)
    training_promotion: float = spec(
        0.005, "Defect rate: sales staff or promotion fail (sale lost).", 0.0, 1.0
    )
    delivery_installation: float = spec(
        0.01, "Defect rate: delivery or installation fails (complaint).", 0.0, 1.0
    )
    use_assistance: float = spec(0.01, "Defect rate: use assistance fails (complaint).", 0.0, 1.0)
    feedback: float = spec(
        0.02, "Defect rate: what a contact saw does not reach the records.", 0.0, 1.0
    )


@dataclass(frozen=True)
class Capacity:
    """What the process links of the chain handle per year before they fail more: above
    capacity the share of the load beyond it fails (0 = unlimited)."""

    order_fulfilment: float = spec(
        0.0, "Orders per year order fulfilment handles (0 = unlimited).", 0.0, 1e12
    )
    delivery_installation: float = spec(
        0.0, "Sales per year delivery and installation handle (0 = unlimited).", 0.0, 1e12
    )
    use_assistance: float = spec(
        0.0, "Sales per year use assistance handles (0 = unlimited).", 0.0, 1e12
    )
    feedback: float = spec(
        0.0, "Contacts per year whose findings the platform can record (0 = unlimited).", 0.0, 1e12
    )


@dataclass(frozen=True)
class Firm:
    name: str = spec("focal", "Firm name.")
    initial_share: float = spec(
        1.0, "Relative weight of the firm among initial suppliers.", 0.0, 1000.0
    )
    products: tuple[Product, ...] = field(
        default_factory=lambda: (Product(tier="entry"), Product(tier="standard")),
        metadata={"desc": "Portfolio at the start (and scheduled launches via launch_week)."},
    )
    platform: Platform = field(default_factory=Platform, metadata={"desc": "Marketing platform."})
    strategy: Strategy = field(default_factory=Strategy, metadata={"desc": "Product strategy."})
    chain: Chain = field(
        default_factory=Chain, metadata={"desc": "Value-transfer chain defect rates."}
    )
    capacity: Capacity = field(
        default_factory=Capacity, metadata={"desc": "Value-transfer chain capacities."}
    )
    events: tuple[FirmEvent, ...] = field(
        default_factory=tuple, metadata={"desc": "Scripted launches and supplier failures."}
    )
    complaint_window_weeks: int = spec(
        4,
        "Weeks within which a complaint is picked up before it escalates (raising churn "
        "and spreading negative word of mouth); late ones are resolved when picked up too.",
        0,
        10000,
    )
    complaint_duration_weeks: int = spec(
        26,
        "Weeks an unresolved complaint keeps raising churn and spreading word of mouth.",
        1,
        10000,
    )


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class Run:
    name: str = spec("scenario", "Scenario name.")
    description: str = spec("", "The question this scenario asks, in plain words.")
    customers: int = spec(10000, "Number of customers.", 1, 100_000_000)
    steps: int = spec(260, "Default number of steps (260 weekly steps: five years).", 1, 1_000_000)
    steps_per_year: int = spec(
        52,
        "Steps per year (52: a step is a week; 12: a month). Every other time field is in "
        "calendar units, so this changes the resolution, not the market.",
        1,
        100000,
    )
    seed: int = spec(0, "Default seed.", 0, 2**63 - 1)
    warmup_weeks: int = spec(
        52,
        "Weeks the market and the platforms run before step 0 (planning paused, nothing "
        "measured), so that records start as stale as each platform's density makes them.",
        0,
        100000,
    )
    currency: str = spec(
        "money units", "Unit of every amount of money (prices, costs, profit), e.g. EUR."
    )
    detection_horizon_weeks: int = spec(
        8,
        "Horizon H: an event counts as detected if the records reflect it within H weeks.",
        1,
        100000,
    )


@dataclass(frozen=True)
class Contraction:
    drop: float = spec(
        0.2, "Fall below the trailing peak of alignment-weighted served demand.", 0.0, 1.0
    )
    consecutive_weeks: int = spec(
        13, "Consecutive weeks below for the contraction flag.", 1, 100000
    )
    warmup_weeks: int = spec(13, "Weeks before the trailing peak starts to be tracked.", 0, 100000)


@dataclass(frozen=True)
class Compare:
    a: str = spec("", "Override set of side A of the scenario's own comparison, 'k=v; k=v'.")
    b: str = spec("", "Override set of side B.")
    label_a: str = spec("A", "Label of side A.")
    label_b: str = spec("B", "Label of side B.")


@dataclass(frozen=True)
class Scenario:
    run: Run = field(default_factory=Run, metadata={"desc": "Run settings."})
    categories: tuple[Category, ...] = field(
        default_factory=lambda: (
            Category(),
            Category(
                name="complement",
                tiers=("entry", "standard", "premium"),
                prices=(0.5, 0.8, 1.2),
                complement_of="core",
            ),
        ),
        metadata={"desc": "Product categories, each with ordered tiers."},
    )
    segments: tuple[Segment, ...] = field(
        default_factory=lambda: (Segment(),), metadata={"desc": "Customer segments."}
    )
    demand: Demand = field(default_factory=Demand, metadata={"desc": "Customer demand process."})
    network: Network = field(default_factory=Network, metadata={"desc": "Word-of-mouth network."})
    wom: WordOfMouth = field(default_factory=WordOfMouth, metadata={"desc": "Word of mouth."})
    choice: Choice = field(default_factory=Choice, metadata={"desc": "Logit choice weights."})
    focal: Firm = field(default_factory=Firm, metadata={"desc": "The focal firm."})
    competitors: tuple[Firm, ...] = field(
        default_factory=lambda: (
            Firm(
                name="rival",
                products=(Product(tier="entry"), Product(tier="standard"), Product(tier="premium")),
                platform=Platform(density=0.05, strength=0.7, targeting="homogeneous"),
            ),
        ),
        metadata={"desc": "Competing firms (same mechanism, own parameters)."},
    )
    contraction: Contraction = field(
        default_factory=Contraction, metadata={"desc": "Contraction rule."}
    )
    compare: Compare = field(
        default_factory=Compare, metadata={"desc": "The scenario's own comparison."}
    )

    # ---- derived helpers (no validation here: the schema is already valid)
    @property
    def firms(self) -> tuple[Firm, ...]:
        """All firms, focal first."""
        return (self.focal, *self.competitors)

    def category_index(self, name: str) -> int:
        return [c.name for c in self.categories].index(name)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (TOML-ready)."""
        return to_plain(self)


def to_plain(obj: Any) -> Any:
    """A dataclass tree as plain dicts and lists (TOML- and JSON-ready)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_plain(v) for v in obj]
    return obj
