"""What a profit difference is made of, and how it moves under the economic
assumptions a client questions.

The focal firm's total profit is its revenue minus its contact, record and
development costs (docs/model.md §2.2, §7.8, §7.13). ``account_parts`` splits one
run's profit into those parts (development into what was spent on launches that
failed and the rest); ``decompose`` gives each part's share of the paired
difference B − A, and the parts add up to the profit difference.

``accounting_swings`` recomputes the difference with a contact, a record or a
development costing ±20%: none of these prices changes a decision of the model
(a contact's and a record's price are booked in §7.8, a development's in §7.13,
and nothing reads them back), so the recomputation from the runs' own counts is
exact. Product prices do change decisions (price is a term of the customer's
utility, §7.10), so ``price_swings`` reruns the paired seeds with every price
scaled: the same seeds on both sides and at every price level, so the shift is
measured with common random numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analysis.compare.statistics import paired_t_ci

if TYPE_CHECKING:
    from analysis.compare.paired import Comparison
    from sim.scenario import Scenario

#: The parts of total profit: name, label, and +1 for income or -1 for a cost.
PARTS: tuple[tuple[str, str, int], ...] = (
    ("revenue", "revenue", 1),
    ("contact_cost", "contact cost", -1),
    ("record_cost", "record cost", -1),
    ("development_failed", "development of launches that failed", -1),
    ("development_other", "development of launches that succeeded or are still open", -1),
)

#: How far each assumption is moved up and down.
SWING = 0.2


def account_parts(summary: Mapping[str, Any], scenario: Scenario) -> dict[str, float]:
    """One run's profit split into its parts (amounts, costs positive).

    A contact costs ``cost_per_contact`` each; the rest of the contact and record cost
    is the records'. A launch of the focal firm's own development that failed cost a
    whole development (``strategy.development_cost``); the rest of the development
    cost went to launches that succeeded, are still in evaluation or not launched yet.
    """
    focal = scenario.focal
    contact = float(summary["contacts_total"]) * focal.platform.cost_per_contact
    failed = sum(
        1
        for x in summary.get("launches") or []
        if isinstance(x, Mapping)
        and x.get("firm") == focal.name
        and x.get("kind") == "planned"
        and x.get("outcome") == "failure"
    )
    wasted = failed * focal.strategy.development_cost
    return {
        "revenue": float(summary["revenue_total"]),
        "contact_cost": contact,
        "record_cost": float(summary["contact_cost_total"]) - contact,
        "development_failed": wasted,
        "development_other": float(summary["development_cost_total"]) - wasted,
    }


def decompose(
    summaries_a: Sequence[Mapping[str, Any]],
    summaries_b: Sequence[Mapping[str, Any]],
    scenario_a: Scenario,
    scenario_b: Scenario,
) -> dict[str, Any]:
    """The paired profit difference B − A and each part's share of it.

    Returns:
        ``total`` (the profit difference with its paired interval) and ``parts``: per
        part its mean on each side, its effect on the difference (``+1 × ΔB−A`` for
        revenue, ``−1 × ΔB−A`` for a cost) with the effect's paired 95% interval.
        The effects add up to the total.
    """
    pa = [account_parts(s, scenario_a) for s in summaries_a]
    pb = [account_parts(s, scenario_b) for s in summaries_b]
    parts = []
    for name, label, sign in PARTS:
        a = [p[name] for p in pa]
        b = [p[name] for p in pb]
        ci = paired_t_ci([sign * x for x in a], [sign * x for x in b])
        parts.append(
            {
                "part": name,
                "label": label,
                "sign": sign,
                "mean_a": sum(a) / len(a),
                "mean_b": sum(b) / len(b),
                "effect": ci.estimate,
                "lo": ci.lo,
                "hi": ci.hi,
            }
        )
    total = paired_t_ci(
        [float(s["profit_total"]) for s in summaries_a],
        [float(s["profit_total"]) for s in summaries_b],
    )
    return {
        "total": {"diff": total.estimate, "lo": total.lo, "hi": total.hi},
        "parts": parts,
    }


def _effect(decomposition: Mapping[str, Any], *names: str) -> float:
    return sum(float(p["effect"]) for p in decomposition["parts"] if p["part"] in names)


#: The pure-accounting assumptions: name, label, the parts they scale, and the scenario field.
ACCOUNTING: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("contact_cost", "price of a contact", ("contact_cost",), "focal.platform.cost_per_contact"),
    (
        "record_cost",
        "price of keeping a record",
        ("record_cost",),
        "focal.platform.cost_per_record",
    ),
    (
        "development_cost",
        "price of a development",
        ("development_failed", "development_other"),
        "focal.strategy.development_cost",
    ),
)


def accounting_swings(
    decomposition: Mapping[str, Any], swing: float = SWING
) -> list[dict[str, Any]]:
    """The profit difference with each cost price ``1 ± swing`` times its value, on both
    sides, recomputed from the runs' counts (exact: these prices change no decision).

    A cost part scaled by ``s`` changes the difference by ``(s − 1) ×`` its effect: the
    effect of a cost is already ``−ΔB−A`` of the cost.
    """
    base = float(decomposition["total"]["diff"])
    rows = []
    for name, label, parts, field in ACCOUNTING:
        effect = _effect(decomposition, *parts)
        rows.append(
            {
                "name": name,
                "label": label,
                "field": field,
                "method": "recomputed exactly from the runs' counts (this price changes no decision)",
                "low": base - swing * effect,
                "high": base + swing * effect,
            }
        )
    return rows


def scale_prices(data: Any, factor: float) -> Any:
    """A scenario's data with every price (category price lists, product and launch
    prices; -1, 'the default', stays) multiplied by ``factor``."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            if k == "prices" and isinstance(v, list):
                out[k] = [float(x) * factor for x in v]
            elif k == "price" and isinstance(v, int | float) and v >= 0:
                out[k] = float(v) * factor
            else:
                out[k] = scale_prices(v, factor)
        return out
    if isinstance(data, list):
        return [scale_prices(v, factor) for v in data]
    return data


def price_swings(
    comp: Comparison,
    reps: int,
    jobs: Any = 1,
    swing: float = SWING,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The profit difference with every firm's prices ``1 ± swing`` times their value,
    rerun on the comparison's first ``reps`` seeds (both sides, both levels).

    The shift of the difference is measured pair by pair against the same seeds'
    runs at today's prices, and added to the comparison's difference over all its
    replications.

    Returns:
        ``reps``, per level (``low``, ``high``) the difference, the shift with its paired
        95% interval, and ``accounting_only``: what the shift would be if customers did
        not react to prices (``± swing ×`` the revenue difference).
    """
    from analysis.compare.paired import Side, run_pairs
    from sim.scenario import build_scenario

    reps = max(2, min(reps, len(comp.seeds)))
    seeds = comp.seeds[:reps]

    def profit_diffs(
        sa: Sequence[Mapping[str, Any]], sb: Sequence[Mapping[str, Any]]
    ) -> list[float]:
        return [
            float(b["profit_total"]) - float(a["profit_total"]) for a, b in zip(sa, sb, strict=True)
        ]

    now = profit_diffs(comp.summaries_a[:reps], comp.summaries_b[:reps])
    full = paired_t_ci(
        [float(s["profit_total"]) for s in comp.summaries_a],
        [float(s["profit_total"]) for s in comp.summaries_b],
    ).estimate
    revenue = paired_t_ci(
        [float(s["revenue_total"]) for s in comp.summaries_a],
        [float(s["revenue_total"]) for s in comp.summaries_b],
    ).estimate
    out: dict[str, Any] = {"reps": reps, "seeds": seeds, "swing": swing}
    for level, factor in (("low", 1.0 - swing), ("high", 1.0 + swing)):
        a, b = (
            Side(s.label, s.source, build_scenario(scale_prices(s.scenario.to_dict(), factor), {}))
            for s in (comp.a, comp.b)
        )
        ra, rb = run_pairs(a, b, seeds, comp.steps, jobs, progress)
        moved = profit_diffs([s for s, _ in ra], [s for s, _ in rb])
        shift = paired_t_ci(now, moved)
        out[level] = {
            "diff": full + shift.estimate,
            "shift": shift.estimate,
            "shift_lo": shift.lo,
            "shift_hi": shift.hi,
            "accounting_only": (factor - 1.0) * revenue,
        }
    return out


def sensitivity(
    decomposition: Mapping[str, Any], prices: Mapping[str, Any] | None, swing: float = SWING
) -> dict[str, Any]:
    """The tornado's rows: the accounting assumptions and, when they were rerun, prices."""
    rows = accounting_swings(decomposition, swing)
    if prices:
        rows.append(
            {
                "name": "prices",
                "label": "product prices (every firm's)",
                "field": "categories.*.prices and every product's and launch's price",
                "method": (
                    f"rerun on the first {prices['reps']} seeds at both price levels, both sides "
                    "(prices change customers' choices); the shift against the same seeds' runs "
                    "is added to the finding"
                ),
                "low": prices["low"]["diff"],
                "high": prices["high"]["diff"],
                "reps": prices["reps"],
                "low_shift_ci": [prices["low"]["shift_lo"], prices["low"]["shift_hi"]],
                "high_shift_ci": [prices["high"]["shift_lo"], prices["high"]["shift_hi"]],
                "accounting_only": {
                    "low": prices["low"]["accounting_only"],
                    "high": prices["high"]["accounting_only"],
                },
            }
        )
    rows.sort(key=lambda r: -abs(float(r["high"]) - float(r["low"])))
    base = float(decomposition["total"]["diff"])
    return {"swing": swing, "base": base, "rows": rows, "price_reps": (prices or {}).get("reps")}
