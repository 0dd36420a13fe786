"""Settings and money in a manager's words: what ``calibrate`` and ``frontier`` print
and draw.

A setting is named by what it does ("contacts per customer per week"), with its
config key in parentheses so that it stays traceable to the scenario file; a share
is read as a percentage and a contact rate with the refresh interval it makes
(docs/model.md §7.7 and §7.8 say what each field means). An amount of money is per
year, in the scenario's ``run.currency``, with thousands separators. This is the one
table of those names: both commands (terminal and pages) read it.
"""

from __future__ import annotations

import math
from typing import Any

#: What each setting does, by its key below the firm (``platform.density``), and how
#: its value reads: "share" (a percentage), "rate" (per week, with its interval),
#: "money", "number" or "level" (one of a list).
SETTINGS: dict[str, tuple[str, str]] = {
    "platform.coverage": ("share of customers in the platform", "share"),
    "platform.density": ("contacts per customer per week", "rate"),
    "platform.strength": ("share of reads that are right", "share"),
    "platform.misread_rate": ("share of failed reads that record a wrong value", "share"),
    "platform.targeting": ("who is contacted (at random, or on the records' schedule)", "level"),
    "platform.focus": ("how much more often a believed open need is contacted", "number"),
    "platform.cost_per_contact": ("cost of one contact", "money"),
    "platform.cost_per_record": ("cost of one customer record per week", "money"),
    "chain.needs_identification": ("share of offers lost because the need is misread", "share"),
    "chain.handoff_to_design": ("share of believed needs that do not reach planning", "share"),
    "chain.order_fulfilment": ("share of orders not supplied correctly", "share"),
    "chain.product_communication": ("share of offers the customer does not understand", "share"),
    "chain.channel": ("share of orders the channel fails to sell", "share"),
    "chain.training_promotion": ("share of orders lost to sales staff or promotion", "share"),
    "chain.delivery_installation": ("share of sales whose delivery or installation fails", "share"),
    "chain.use_assistance": ("share of sales whose use assistance fails", "share"),
    "chain.feedback": ("share of findings that never reach the records", "share"),
    "capacity.order_fulfilment": ("orders a year fulfilment handles", "number"),
    "capacity.delivery_installation": ("sales a year delivery handles", "number"),
    "capacity.use_assistance": ("sales a year use assistance handles", "number"),
    "capacity.feedback": ("contacts a year whose findings can be recorded", "number"),
    "wom.q": ("word of mouth: weekly chance of exposure when every neighbour buys", "share"),
    "wom.complaint_penalty": ("appeal lost to a neighbour's unresolved complaint", "number"),
    "run.customers": ("customers in the market", "number"),
}


def _split(key: str) -> tuple[str, str]:
    """(firm part, setting part) of a key: ``competitors.0.platform.density`` ->
    (``competitors.0``, ``platform.density``); ('', key) for a market-wide field."""
    parts = key.split(".")
    if parts[0] == "focal":
        return "focal", ".".join(parts[1:])
    if parts[0] == "competitors" and len(parts) > 2:
        return ".".join(parts[:2]), ".".join(parts[2:])
    return "", key


def setting_words(key: str, base: dict[str, Any] | None = None) -> str:
    """What the setting ``key`` does ("contacts per customer per week"), with the
    competitor's name in front for a competitor's field; the key itself when it has
    no words here."""
    firm, rest = _split(key)
    if rest not in SETTINGS:
        return key
    words = SETTINGS[rest][0]
    if firm.startswith("competitors."):
        index = int(firm.split(".")[1]) if firm.split(".")[1].isdigit() else -1
        rivals = (base or {}).get("competitors", [])
        name = str(rivals[index]["name"]) if 0 <= index < len(rivals) else firm
        return f"{name}: {words}"
    return words


def setting_label(key: str, base: dict[str, Any] | None = None) -> str:
    """``setting_words`` with the config key in parentheses (the key alone when it has
    no words)."""
    words = setting_words(key, base)
    return key if words == key else f"{words} ({key})"


def setting_value(key: str, value: Any, currency: str = "money units") -> str:
    """A setting's value as a manager reads it: 97.6% for a share, 0.143 (one every
    7.0 weeks) for a contact rate."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return "—"
    kind = SETTINGS.get(_split(key)[1], ("", "number"))[1]
    if kind == "share":
        return f"{v:.1%}" if v >= 0.001 else f"{v * 100:.2g}%"
    if kind == "rate":
        return f"{v:.3g} (one every {1 / v:.1f} weeks)" if v > 0 else "0 (never)"
    if kind == "money":
        return f"{v:,.4g} {currency}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def setting_phrase(key: str, value: Any, base: dict[str, Any] | None = None) -> str:
    """ "contacts per customer per week 0.143 (one every 7.0 weeks)
    [focal.platform.density]": the words, the value, the key."""
    currency = str((base or {}).get("run", {}).get("currency", "money units"))
    words = setting_words(key, base)
    shown = setting_value(key, value, currency)
    return f"{key} = {shown}" if words == key else f"{words} {shown} [{key}]"


def money(value: float, currency: str) -> str:
    """An amount with thousands separators and the currency: ``4,044 EUR``."""
    if not math.isfinite(value):
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{text} {currency}"


def per_year(total: float, steps: int, steps_per_year: int) -> float:
    """A total over ``steps`` steps as an amount per year (``run.steps_per_year``)."""
    return float(total) * steps_per_year / steps


def money_per_year(total: float, steps: int, base: dict[str, Any]) -> str:
    """A total over ``steps`` steps of the scenario ``base`` as money per year in its
    currency: ``4,044 money units a year``."""
    run = base["run"]
    value = per_year(total, steps, int(run["steps_per_year"]))
    return f"{money(value, str(run.get('currency', 'money units')))} a year"


def years(steps: int, steps_per_year: int) -> str:
    """A horizon in years (``2 years``, ``1.5 years``)."""
    y = steps / steps_per_year
    return f"{y:.3g} year{'' if y == 1 else 's'}"
