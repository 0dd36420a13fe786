"""The scenario schema: typed, frozen, validated once at load.

A scenario is a tree of frozen dataclasses. Every leaf field carries a default, a
description and its bounds in the dataclass field metadata (``spec(...)``), so the
same declaration drives validation, ``demandsim scenarios show``, the README table
and the JSON Schema. Nothing is validated again inside the model's hot loop.

Rates named ``*_rate`` are annual hazards; the model turns them into per-step
probabilities with ``run.steps_per_year`` (p = 1 - exp(-rate / steps_per_year)).
Fields named ``*_step`` or ``*_steps`` count steps.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"

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


class ScenarioError(InputError):
    """A scenario (file, override or field) that cannot be used, in one line."""


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
    lifetime_steps: int = spec(
        156, "Steps until a product wears out and must be replaced.", 1, 100000
    )
    failure_rate: float = spec(
        0.15,
        "Annual hazard that a product fails before wear-out (scaled by 1.5 - quality).",
        0.0,
        50.0,
    )
    complement_of: str = spec(
        "", "Name of the category whose product failures open latent needs here ('' = none)."
    )


@dataclass(frozen=True)
class Segment:
    name: str = spec("mainstream", "Segment name.")
    share: float = spec(1.0, "Share of the population in this segment.", 0.0, 1.0)
    tier_mix: tuple[float, ...] = spec(
        None,
        "Starting desired-tier distribution (entry first).",
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
        "Imitation coefficient per step: exposure chance q x share of neighbours served.",
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
    launch_step: int = spec(0, "Step at which the product is on the market.", 0, 1000000)


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


@dataclass(frozen=True)
class Platform:
    coverage: float = spec(
        0.8, "Share of the standard's customers who are in the platform.", 0.0, 1.0
    )
    density: float = spec(
        0.1,
        "Chance per step that a covered customer is contacted and the record refreshed.",
        0.0,
        1.0,
    )
    strength: float = spec(0.8, "Chance that a contact reads a changed fact correctly.", 0.0, 1.0)
    targeting: str = spec(
        "personalized",
        "Who is contacted: random covered customers, or record-driven (believed open needs first).",
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
        0.001, "Cost per step of keeping one covered customer's record.", 0.0, 1e6
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
    persistence_steps: int = spec(
        8, "Steps the believed unmet demand must stay above the threshold.", 1, 10000
    )
    lead_time_steps: int = spec(26, "Development lead time.", 0, 10000)
    development_cost: float = spec(
        200.0, "Cost of one development, spread over the lead time.", 0.0, 1e12
    )
    retire_threshold: float = spec(
        0.0,
        "Retire a product when believed demand for its cell stays below this share (0 = never).",
        0.0,
        1.0,
    )
    evaluation_steps: int = spec(
        26, "Window after a launch over which its adoption is evaluated.", 1, 10000
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
    step: int = spec(0, "Step of the event.", 0, 1000000)
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
class Firm:
    name: str = spec("focal", "Firm name.")
    initial_share: float = spec(
        1.0, "Relative weight of the firm among initial suppliers.", 0.0, 1000.0
    )
    products: tuple[Product, ...] = field(
        default_factory=lambda: (Product(tier="entry"), Product(tier="standard")),
        metadata={"desc": "Portfolio at the start (and scheduled launches via launch_step)."},
    )
    platform: Platform = field(default_factory=Platform, metadata={"desc": "Marketing platform."})
    strategy: Strategy = field(default_factory=Strategy, metadata={"desc": "Product strategy."})
    chain: Chain = field(
        default_factory=Chain, metadata={"desc": "Value-transfer chain defect rates."}
    )
    events: tuple[FirmEvent, ...] = field(
        default_factory=tuple, metadata={"desc": "Scripted launches and supplier failures."}
    )
    complaint_window_steps: int = spec(
        4, "A complaint detected within this many steps is resolved.", 0, 10000
    )
    complaint_duration_steps: int = spec(
        26,
        "Steps an unresolved complaint keeps raising churn and spreading word of mouth.",
        1,
        10000,
    )


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class Run:
    name: str = spec("scenario", "Scenario name.")
    description: str = spec("", "The question this scenario asks, in plain words.")
    customers: int = spec(10000, "Number of customers.", 1, 100_000_000)
    steps: int = spec(260, "Default number of steps.", 1, 1_000_000)
    steps_per_year: int = spec(52, "Steps per year (52: a step is a week).", 1, 100000)
    seed: int = spec(0, "Default seed.", 0, 2**63 - 1)
    detection_horizon_steps: int = spec(
        8,
        "Horizon H: an event counts as detected if the records reflect it within H steps.",
        1,
        100000,
    )


@dataclass(frozen=True)
class Contraction:
    drop: float = spec(
        0.2, "Fall below the trailing peak of alignment-weighted served demand.", 0.0, 1.0
    )
    consecutive_steps: int = spec(
        13, "Consecutive steps below for the contraction flag.", 1, 100000
    )
    warmup_steps: int = spec(13, "Steps before the trailing peak starts to be tracked.", 0, 100000)


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
        return _to_plain(self)


# --------------------------------------------------------------------------- loading


def _to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [_to_plain(v) for v in obj]
    return obj


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _allowed(f: dataclasses.Field[Any], tp: Any) -> str:
    meta = f.metadata
    if meta.get("choices"):
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    base = _base_name(tp)
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        return f"{base} in [{_fmt(lo)}, {_fmt(hi)}]"
    return base


def _fmt(v: float) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def _base_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        (inner, *_) = typing.get_args(tp)
        return f"a list of {_base_name(inner)}"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        tp, str(tp)
    )


def _check_scalar(path: str, value: Any, tp: Any, f: dataclasses.Field[Any]) -> Any:
    meta = f.metadata
    allowed = _allowed(f, tp)
    if tp is bool:
        if not isinstance(value, bool):
            raise ScenarioError(f"{path} = {value!r}: expected true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"{path} = {value!r}: expected {allowed}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"{path} = {value!r}: expected {allowed}")
        value = float(value)
        if value != value:  # NaN
            raise ScenarioError(f"{path} = nan: expected {allowed}")
    elif tp is str:
        if not isinstance(value, str):
            raise ScenarioError(f"{path} = {value!r}: expected {allowed}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ScenarioError(f"{path} = {value!r}: expected {allowed}")
        return value
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ScenarioError(f"{path} = {value!r}: expected {allowed}")
    return value


def _build(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise ScenarioError(f"{path or 'scenario'} = {data!r}: expected a table")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            where = f"{path}.{key}" if path else key
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(fields)}"
            raise ScenarioError(f"{where}: unknown field{hint}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            continue
        kwargs[name] = _convert(f"{path}.{name}" if path else name, data[name], hints[name], f)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - defensive
        raise ScenarioError(f"{path}: {exc}") from None


def _convert(path: str, value: Any, tp: Any, f: dataclasses.Field[Any]) -> Any:
    if dataclasses.is_dataclass(tp):
        return _build(typing.cast(type, tp), value, path)
    origin = typing.get_origin(tp)
    if origin is tuple:
        inner = typing.get_args(tp)[0]
        if not isinstance(value, list | tuple):
            raise ScenarioError(f"{path} = {value!r}: expected {_allowed(f, tp)}")
        out = []
        for i, v in enumerate(value):
            if dataclasses.is_dataclass(inner):
                out.append(_build(typing.cast(type, inner), v, f"{path}.{i}"))
            else:
                out.append(_check_scalar(f"{path}.{i}", v, inner, f))
        return tuple(out)
    if isinstance(tp, types.UnionType):  # pragma: no cover - schema has none
        raise ScenarioError(f"{path}: unsupported type")
    return _check_scalar(path, value, tp, f)


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as TOML would (numbers, booleans, lists, quoted strings);
    anything else is taken as a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _apply_override(raw: dict[str, Any], key: str, value: Any, defaults: dict[str, Any]) -> None:
    if not key or any(not p for p in key.split(".")):
        raise ScenarioError(
            f"--set {key!r}: expected a dotted field name such as focal.platform.density"
        )
    parts = key.split(".")
    node: Any = raw
    dnode: Any = defaults
    for i, part in enumerate(parts[:-1]):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"{where}: index out of range (the list has {len(node)} items)")
            node = node[int(part)]
            dnode = dnode[int(part)] if isinstance(dnode, list) and int(part) < len(dnode) else {}
            continue
        if not isinstance(node, dict):
            raise ScenarioError(f"{where}: is not a table")
        if part not in node:
            if isinstance(dnode, dict) and part in dnode:
                node[part] = _deep_copy(dnode[part])
            else:
                node[part] = {}
        node = node[part]
        dnode = dnode.get(part, {}) if isinstance(dnode, dict) else {}
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ScenarioError(f"{key}: index out of range (the list has {len(node)} items)")
        node[int(last)] = value
    else:
        node[last] = value


def _deep_copy(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _deep_copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_deep_copy(x) for x in v]
    return v


def resolve_path(name_or_path: str | Path) -> Path:
    """A bundled scenario name or a path to a TOML file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists() or "/" in str(name_or_path):
        return p
    return SCENARIO_DIR / f"{name_or_path}.toml"


def bundled_names() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def read_toml(name_or_path: str | Path) -> dict[str, Any]:
    """Read a scenario file into plain data, with a ScenarioError for any failure."""
    path = resolve_path(name_or_path)
    if not path.exists():
        if path.parent == SCENARIO_DIR and "/" not in str(name_or_path):
            raise ScenarioError(
                f"scenario {str(name_or_path)!r}: no such file or bundled scenario; "
                f"bundled: {', '.join(bundled_names())}"
            )
        raise ScenarioError(f"scenario {str(name_or_path)!r}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"scenario {str(path)!r}: cannot be read ({exc.__class__.__name__})"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario {str(path)!r}: malformed TOML ({exc})") from None


def build_scenario(data: dict[str, Any], overrides: dict[str, Any] | None = None) -> Scenario:
    """Validate plain data (plus dotted overrides) into a Scenario."""
    raw = _deep_copy(data)
    defaults = _to_plain(Scenario())
    for key, value in (overrides or {}).items():
        if isinstance(value, str):
            value = parse_value(value) if _looks_typed(value) else value
        _apply_override(raw, key, value, defaults)
    sc = _build(Scenario, raw, "")
    _cross_check(sc)
    return sc


def _looks_typed(text: str) -> bool:
    t = text.strip()
    return bool(t) and (t[0] in "-+.0123456789[\"'{" or t in ("true", "false", "inf", "nan"))


def load_scenario(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a bundled scenario by name, or a TOML file by path, and validate it.

    Args:
        name_or_path: a bundled name (``"baseline"``) or a path to a ``.toml`` file.
        overrides: dotted field names to values, e.g. ``{"focal.platform.density": 0.2}``;
            string values are parsed as TOML values (``"0.2"`` -> 0.2).

    Raises:
        ScenarioError: naming the dotted field, the value and what is allowed.
    """
    return build_scenario(read_toml(name_or_path), overrides)


def _cross_check(sc: Scenario) -> None:
    names = [c.name for c in sc.categories]
    if not names:
        raise ScenarioError("categories = []: expected at least one category")
    if len(set(names)) != len(names):
        raise ScenarioError(f"categories: duplicate names {names}")
    for i, c in enumerate(sc.categories):
        if not c.tiers:
            raise ScenarioError(f"categories.{i}.tiers = []: expected at least one tier")
        if len(c.tiers) > 16:
            raise ScenarioError(f"categories.{i}.tiers: {len(c.tiers)} tiers; at most 16 allowed")
        for fname in ("prices", "qualities"):
            v = getattr(c, fname)
            if len(v) != len(c.tiers):
                raise ScenarioError(
                    f"categories.{i}.{fname} = {list(v)}: expected {len(c.tiers)} values, one per tier"
                )
        if c.complement_of and c.complement_of not in names:
            raise ScenarioError(
                f"categories.{i}.complement_of = {c.complement_of!r}: expected one of {names} or ''"
            )
    if not sc.segments:
        raise ScenarioError("segments = []: expected at least one segment")
    total = sum(s.share for s in sc.segments)
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"segments.*.share sum to {total:g}: expected shares summing to 1")
    max_tiers = max(len(c.tiers) for c in sc.categories)
    for i, s in enumerate(sc.segments):
        if not s.tier_mix or len(s.tier_mix) > max_tiers or sum(s.tier_mix) <= 0:
            raise ScenarioError(
                f"segments.{i}.tier_mix = {list(s.tier_mix)}: expected 1..{max_tiers} non-negative weights, not all 0"
            )
    d = sc.demand
    if d.initial_active + d.initial_served + d.initial_latent > 1 + 1e-9:
        raise ScenarioError(
            "demand.initial_active + initial_served + initial_latent = "
            f"{d.initial_active + d.initial_served + d.initial_latent:g}: expected at most 1"
        )
    if sc.network.kind == "file" and not sc.network.path:
        raise ScenarioError("network.path = '': expected a file path when network.kind = 'file'")
    firm_names = [f.name for f in sc.firms]
    if len(set(firm_names)) != len(firm_names):
        raise ScenarioError(f"firm names {firm_names}: expected unique names")
    if len(firm_names) > 100:
        raise ScenarioError(f"competitors: {len(firm_names) - 1} firms; at most 99 allowed")
    seg_names = [s.name for s in sc.segments]
    for fi, firm in enumerate(sc.firms):
        where = "focal" if fi == 0 else f"competitors.{fi - 1}"
        for pi, p in enumerate(firm.products):
            _check_cell(sc, f"{where}.products.{pi}", p.category, p.tier)
        for ei, e in enumerate(firm.events):
            if e.kind == "launch":
                _check_cell(sc, f"{where}.events.{ei}", e.category, e.tier)
        std = firm.platform.standard
        for seg_name in std.segments:
            if seg_name not in seg_names:
                raise ScenarioError(
                    f"{where}.platform.standard.segments: {seg_name!r}: expected one of {seg_names}"
                )
        for cat_name in std.categories:
            if cat_name not in names:
                raise ScenarioError(
                    f"{where}.platform.standard.categories: {cat_name!r}: expected one of {names}"
                )
        all_tiers = {t for c in sc.categories for t in c.tiers}
        for t in std.tiers:
            if t not in all_tiers:
                raise ScenarioError(
                    f"{where}.platform.standard.tiers: {t!r}: expected one of {sorted(all_tiers)}"
                )
    for side in ("a", "b"):
        text = getattr(sc.compare, side)
        if text:
            try:
                parse_override_list(text)
            except ScenarioError as exc:
                raise ScenarioError(f"compare.{side}: {exc}") from None


def _check_cell(sc: Scenario, where: str, category: str, tier: str) -> None:
    names = [c.name for c in sc.categories]
    if category not in names:
        raise ScenarioError(f"{where}.category = {category!r}: expected one of {names}")
    tiers = sc.categories[names.index(category)].tiers
    if tier not in tiers:
        raise ScenarioError(f"{where}.tier = {tier!r}: expected one of {list(tiers)}")


def parse_override_list(text: str) -> dict[str, Any]:
    """Parse ``"a.b=1; c.d=x"`` (or a sequence of ``key=value``) into overrides."""
    out: dict[str, Any] = {}
    for item in [s.strip() for s in text.replace("\n", ";").split(";")]:
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(
                f"--set {item!r}: expected key=value, e.g. focal.platform.density=0.2"
            )
        out[key.strip()] = parse_value(value.strip())
    return out


def iter_fields(
    cls: type = Scenario, prefix: str = ""
) -> typing.Iterator[tuple[str, Any, Any, str, str]]:
    """Yield (dotted name, type, default, description, allowed) for every leaf field.

    Lists of tables are shown with ``.N.`` in their dotted name.
    """
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        name = f"{prefix}{f.name}"
        default = (
            f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc,operator]
        )
        if dataclasses.is_dataclass(tp):
            yield from iter_fields(typing.cast(type, tp), name + ".")
            continue
        origin = typing.get_origin(tp)
        if origin is tuple:
            inner = typing.get_args(tp)[0]
            if dataclasses.is_dataclass(inner):
                yield from iter_fields(typing.cast(type, inner), name + ".N.")
                continue
        yield name, tp, _to_plain(default), f.metadata.get("desc", ""), _allowed(f, tp)
