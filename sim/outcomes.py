"""Every outcome the model writes, declared once: name, label, unit, direction, kind
and meaning.

In the spirit of the EMA Workbench's outcomes (each with a kind, MINIMIZE, MAXIMIZE
or INFO, that every analysis reads), this is the one place that says what a number
is called for people, what it is measured in and which way is better. Comparisons,
reports, sweeps' default outcomes, the EMA adapter, the dashboard, the command
line's tables and the README's outcome tables all read it; nothing else spells an
outcome's label or direction.

Two kinds: a ``scalar`` is a key of the run's summary (``model.summary()``),
a ``series`` a column of its time series (one row per step). A name may be both
(``dpmo`` is the run's DPMO and the cumulative DPMO of each step), declared once per
kind. Families whose names depend on the scenario (per firm, per cell, per event
type) are declared as patterns: ``share_<firm>`` matches ``share_focal``.

Data only: this module imports nothing of the model (tests check the declarations
against a small run). The README's outcome tables are generated from it::

    python -m sim.outcomes
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SCALAR = "scalar"  # a key of the run's summary
SERIES = "series"  # a column of the time series

HIGHER = "higher"  # higher is better
LOWER = "lower"  # lower is better
NEITHER = "neither"  # a quantity to read, not to push


@dataclass(frozen=True)
class Outcome:
    """One outcome: a summary key or a time-series column (or a family of them).

    Attributes:
        name: the key or column; a pattern when it holds ``<...>`` (``lag_<event>``).
        label: what people read (tables, reports, plots); patterns may use their
            placeholders (``<firm>``), filled from the matched name.
        unit: what the number counts or measures ('' for a pure number).
        direction: ``HIGHER``, ``LOWER`` or ``NEITHER`` (which way is better for the
            focal firm, all else equal).
        kind: ``SCALAR`` (a summary key) or ``SERIES`` (a time-series column).
        meaning: one line for a newcomer.
        key: a headline outcome: a comparison lists it first (in declaration order)
            and its report reads it out.
        setting: a number that describes the run (seed, horizon, population), carried
            beside the outcomes but never analysed by default.
        derived: counted by the comparison from the summary's lists, not by the model.
    """

    name: str
    label: str
    unit: str
    direction: str
    kind: str
    meaning: str
    key: bool = False
    setting: bool = False
    derived: bool = False

    @property
    def is_pattern(self) -> bool:
        return "<" in self.name

    @property
    def better(self) -> int:
        """+1 when higher is better, -1 when lower is, 0 otherwise."""
        return {HIGHER: 1, LOWER: -1}.get(self.direction, 0)


def _scalar(name: str, label: str, unit: str, direction: str, meaning: str, **kw: bool) -> Outcome:
    return Outcome(name, label, unit, direction, SCALAR, meaning, **kw)


def _series(name: str, label: str, unit: str, direction: str, meaning: str, **kw: bool) -> Outcome:
    return Outcome(name, label, unit, direction, SERIES, meaning, **kw)


_MONEY = "money"  # the scenario's run.currency ("money units" by default)

#: The summary's scalars: headline outcomes first, in the order a comparison lists them.
SCALARS: tuple[Outcome, ...] = (
    _scalar("profit_total", "total profit", _MONEY, HIGHER,
            "the focal firm's revenue minus contact, record and development costs over the run",
            key=True),
    _scalar("revenue_total", "total revenue", _MONEY, HIGHER,
            "the focal firm's revenue over the run", key=True),
    _scalar("market_share_final", "final market share", "share", HIGHER,
            "the focal firm's share of served needs at the last step", key=True),
    _scalar("marketing_density", "marketing density", "share", HIGHER,
            "opportunities effectively marketed in time / opportunities, over the run", key=True),
    _scalar("dpmo", "defects per million opportunities", "DPMO", LOWER,
            "defects per million opportunities over the run", key=True),
    _scalar("sigma_level", "sigma level (shifted)", "σ", HIGHER,
            "Φ⁻¹(1 − DPMO/10⁶) + 1.5: 3.4 DPMO is 6σ, 66,807 is 3σ; empty with zero defects "
            "(they estimate no level: read sigma_level_lower)", key=True),
    _scalar("sigma_level_lower", "sigma level supported (95% lower bound)", "σ", HIGHER,
            "one-sided 95% lower bound of the sigma level (Clopper–Pearson on the defect "
            "rate): the level the counts support; 0 defects in 16,130 opportunities support "
            "5.06σ", key=True),
    _scalar("alignment_final", "final alignment of portfolio and demand", "share", HIGHER,
            "share of demand (active and served needs) in cells the focal firm sells, at the "
            "last step", key=True),
    _scalar("contraction_onset", "contraction onset", "step", NEITHER,
            "first step of the first streak of the contraction rule; empty when it never held",
            key=True),
    _scalar("launch_successes", "successful focal launches", "launches", HIGHER,
            "the focal firm's launches that reached their adoption target in time", key=True),
    _scalar("launch_failures", "failed focal launches", "launches", LOWER,
            "the focal firm's launches that missed their adoption target", key=True),
    _scalar("focal_launch_pending", "focal launches still in evaluation at the end", "launches",
            NEITHER, "the focal firm's launches not yet judged when the run ends (a comparison "
            "counts them from the summary's launches)", key=True, derived=True),
    _scalar("adopters_final", "final adopters", "needs", HIGHER,
            "needs the focal firm serves at the last step", key=True),
    _scalar("detected_share", "share of events detected within the horizon", "share", HIGHER,
            "events at least H steps old that the focal records reflected within H", key=True),
    _scalar("detection_lag_median", "median detection lag", "steps", LOWER,
            "Kaplan–Meier median of the steps from an event to the records reflecting it "
            "(undetected events count)", key=True),
    _scalar("rty", "rolled throughput yield", "share", HIGHER,
            "product of the first-pass yields of the value-transfer chain's links", key=True),
    _scalar("launch_successes_all", "successful launches (all firms)", "launches", NEITHER,
            "every firm's launches that reached their adoption target", key=True),
    _scalar("launch_failures_all", "failed launches (all firms)", "launches", NEITHER,
            "every firm's launches that missed their adoption target", key=True),
    _scalar("churn_total", "served needs lost to churn (all firms)", "needs", NEITHER,
            "served needs, of any firm's customers, that left their supplier over the run",
            key=True),
    _scalar("exclusion_defects", "exclusion defects", "needs", LOWER,
            "defects where the customer was not in the focal platform", key=True),
    _scalar("omission_defects", "omission defects", "needs", LOWER,
            "defects where the customer was in the focal platform but not marketed in time",
            key=True),
    _scalar("opportunities", "opportunities", "needs", NEITHER,
            "potential demand in the focal firm's standard judged over the run", key=True),
    _scalar("defects", "defects", "needs", LOWER,
            "opportunities not effectively marketed within the response time", key=True),
    _scalar("contact_cost_total", "total contact and record cost", _MONEY, LOWER,
            "what the focal firm's contacts and records cost over the run"),
    _scalar("development_cost_total", "total development cost", _MONEY, LOWER,
            "what the focal firm's product developments cost over the run"),
    _scalar("contacts_total", "contacts", "contacts", NEITHER,
            "contacts the focal platform made over the run"),
    _scalar("complaints_raised", "complaints raised", "complaints", LOWER,
            "complaints customers raised after a sale"),
    _scalar("complaints_resolved", "complaints resolved", "complaints", NEITHER,
            "complaints resolved when the supplier's records picked them up"),
    _scalar("contraction", "contracted", "0/1", LOWER,
            "1 when the contraction rule held at some step of the run"),
    _scalar("launch_count", "focal launches", "launches", NEITHER,
            "the focal firm's launches, judged or not"),
    _scalar("customers", "customers", "customers", NEITHER,
            "the population the model built", setting=True),
    _scalar("seed", "seed", "", NEITHER, "the run's seed", setting=True),
    _scalar("steps", "steps run", "steps", NEITHER,
            "the horizon (a step is a week by default)", setting=True),
)  # fmt: skip

#: The time series' columns (one row per step; step 0 is the starting market).
SERIES_COLUMNS: tuple[Outcome, ...] = (
    _series("step", "step", "step", NEITHER, "the step the row describes", setting=True),
    _series("opportunities", "opportunities this step", "needs", NEITHER,
            "potential demand in the focal firm's standard judged this step, "
            "`focal.platform.standard.response_weeks` (13 by default) after it arose"),
    _series("defects", "defects this step", "needs", LOWER,
            "opportunities judged this step that were not effectively marketed in time"),
    _series("exclusion_defects", "exclusion defects this step", "needs", LOWER,
            "defects where the customer was not in the focal platform"),
    _series("omission_defects", "omission defects this step", "needs", LOWER,
            "defects where the customer was in the focal platform but not marketed in time"),
    _series("marketing_density", "marketing density", "share", HIGHER,
            "effectively marketed / opportunities, cumulative: 0.25 means three needs in four "
            "were never worked"),
    _series("marketing_density_step", "marketing density this step", "share", HIGHER,
            "1 − defects / opportunities of this step"),
    _series("dpmo", "defects per million opportunities", "DPMO", LOWER,
            "defects per million opportunities, cumulative"),
    _series("sigma_level", "sigma level (shifted)", "σ", HIGHER,
            "Φ⁻¹(1 − DPMO/10⁶) + 1.5, cumulative: 3.4 DPMO is 6σ, 6,210 is 4σ, 66,807 is 3σ; "
            "empty while there is no defect"),
    _series("sigma_level_lower", "sigma level supported (95% lower bound)", "σ", HIGHER,
            "one-sided 95% lower bound of the cumulative sigma level (Clopper–Pearson)"),
    _series("detected_share", "share of events detected within the horizon", "share", HIGHER,
            "events at least H steps old that the focal records reflected within H, cumulative"),
    _series("detection_lag_median", "median detection lag", "steps", LOWER,
            "Kaplan–Meier median lag from an event to the records reflecting it, so far "
            "(undetected events count, so seeing little does not look fast)"),
    _series("alignment", "alignment of portfolio and demand", "share", HIGHER,
            "share of demand (active and served needs) in cells the focal firm sells; falling "
            "alignment is the product structure slipping away from the demand structure"),
    _series("market_share", "market share", "share", HIGHER,
            "the focal firm's share of served needs"),
    _series("revenue", "revenue", _MONEY, HIGHER, "the focal firm's revenue this step"),
    _series("profit", "profit", _MONEY, HIGHER,
            "revenue − contact and record costs − development cost, this step"),
    _series("cum_profit", "cumulative profit", _MONEY, HIGHER, "profit so far"),
    _series("adopters", "adopters", "needs", HIGHER, "needs the focal firm serves"),
    _series("churn", "served needs lost to churn (all firms)", "needs", NEITHER,
            "served needs, of any firm's customers, that left their supplier this step"),
    _series("served_weighted", "alignment-weighted served needs", "needs", HIGHER,
            "focal served needs × alignment: what the contraction rule watches"),
    _series("contraction", "contraction", "0/1", LOWER,
            "1 while the contraction rule holds: alignment-weighted served needs ≥ 20% below "
            "their trailing peak for 13 consecutive weeks (defaults of `contraction.*`)"),
    _series("contacts", "contacts so far", "contacts", NEITHER,
            "contacts the focal platform has made so far"),
    _series("share_<firm>", "market share of <firm>", "share", NEITHER,
            "each firm's share of served needs"),
    _series("demand_<category>_<tier>", "demand share of <category> <tier>", "share", NEITHER,
            "the cell's share of demand (active and served needs); the cells sum to 1"),
    _series("product_<category>_<tier>", "focal firm sells <category> <tier>", "0/1", NEITHER,
            "1 where the focal firm sells the cell: overlay it on the demand shares"),
    _series("adopters_<category>", "adopters of <category>", "needs", NEITHER,
            "the focal firm's served needs in each product generation (categories of a "
            "`supersedes` chain only): the series a Norton–Bass fit reads"),
    _series("lag_<event>", "median detection lag of <event>", "steps", LOWER,
            "Kaplan–Meier median detection lag of one event type, so far (empty at step 0)"),
)  # fmt: skip

OUTCOMES: tuple[Outcome, ...] = SCALARS + SERIES_COLUMNS


# --------------------------------------------------------------------------- look-up


@cache
def _pattern(name: str) -> re.Pattern[str]:
    parts = re.split(r"(<\w+>)", name)
    body = "".join(f"(?P<{p[1:-1]}>.+?)" if p.startswith("<") else re.escape(p) for p in parts if p)
    return re.compile(body + "$")


def find(name: str, kind: str = SCALAR) -> Outcome | None:
    """The declaration of ``name`` of this kind (an exact name before a pattern), or None."""
    table = SCALARS if kind == SCALAR else SERIES_COLUMNS
    for o in table:
        if o.name == name:
            return o
    for o in table:
        if o.is_pattern and _pattern(o.name).match(name):
            return o
    return None


def label(name: str, kind: str = SCALAR) -> str:
    """What people read for ``name``: its label (a pattern's placeholders filled), or the
    name with spaces for one the registry does not know (a foreign runner's outcome)."""
    o = find(name, kind)
    if o is None:
        return name.replace("_", " ")
    if not o.is_pattern:
        return o.label
    m = _pattern(o.name).match(name)
    assert m is not None  # find matched it
    out = o.label
    for k, v in m.groupdict().items():
        out = out.replace(f"<{k}>", v.replace("_", " "))
    return out


def unit(name: str, kind: str = SCALAR) -> str:
    """The unit of ``name`` ('' when unknown or a pure number)."""
    o = find(name, kind)
    return o.unit if o else ""


def direction(name: str, kind: str = SCALAR) -> str:
    """``HIGHER``, ``LOWER`` or ``NEITHER`` (unknown names are ``NEITHER``)."""
    o = find(name, kind)
    return o.direction if o else NEITHER


def key_outcomes() -> tuple[str, ...]:
    """The headline scalar outcomes, in the order a comparison lists them."""
    return tuple(o.name for o in SCALARS if o.key)


#: Scalars that count things (an integer in every run's summary, or missing): tables of
#: runs keep them as integers.
COUNTS = frozenset(
    {
        "contraction_onset",
        "contraction",
        "launch_successes",
        "launch_failures",
        "adopters_final",
        "launch_successes_all",
        "launch_failures_all",
        "churn_total",
        "exclusion_defects",
        "omission_defects",
        "opportunities",
        "defects",
        "contacts_total",
        "complaints_raised",
        "complaints_resolved",
        "launch_count",
        "customers",
        "seed",
        "steps",
    }
)


def settings(kind: str = SCALAR) -> frozenset[str]:
    """Names that describe the run rather than measure it (never analysed by default)."""
    table = SCALARS if kind == SCALAR else SERIES_COLUMNS
    return frozenset(o.name for o in table if o.setting)


# --------------------------------------------------------------------------- README

README_PATH = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- outcomes: generated by `python -m sim.outcomes` from sim/outcomes.py; do not edit by hand -->"
END = "<!-- outcomes: end -->"

_BETTER_WORD = {HIGHER: "higher", LOWER: "lower", NEITHER: ""}


def _row(o: Outcome) -> str:
    # a pattern's placeholders outside code spans would read as HTML tags
    label_ = o.label.replace("<", "&lt;").replace(">", "&gt;")
    return f"| `{o.name}` | {label_} | {o.unit} | {_BETTER_WORD[o.direction]} | {o.meaning} |"


def markdown_tables() -> str:
    """The README's outcome tables: the time series' columns, then the summary's scalars."""
    head = "| name | label | unit | better | meaning |\n| --- | --- | --- | --- | --- |"
    series = "\n".join(_row(o) for o in SERIES_COLUMNS)
    scalars = "\n".join(_row(o) for o in SCALARS)
    return (
        "**Time series** (`timeseries.parquet`, one row per step; `<...>` stands for a firm, "
        "a cell or an event type of the scenario):\n\n"
        f"{head}\n{series}\n\n"
        "**Summary** (`summary.json`: the scalars of a run; `launches`, `detection`, `chain` "
        f"and `planning` are its tables):\n\n{head}\n{scalars}\n"
    )


def readme_with_tables(text: str) -> str:
    """``text`` (the README) with the section between the markers regenerated."""
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"README: the markers {BEGIN!r} and {END!r} are missing")
    return text[: start + len(BEGIN)] + "\n\n" + markdown_tables() + "\n" + text[stop:]


def main() -> int:
    """Regenerate the README's outcome tables in place."""
    text = README_PATH.read_text(encoding="utf-8")
    new = readme_with_tables(text)
    if new != text:
        README_PATH.write_text(new, encoding="utf-8")
        print(f"wrote {README_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
