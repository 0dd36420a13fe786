"""The market compiled into arrays: categories × tiers, segments, and the
portfolio table of every firm (which cells it sells, at what price and quality).

Cells are (category, tier); tiers are padded to the largest category's count and
``tier_count`` says how many each category really has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.calendar import Clock
from sim.scenario import Scenario


def per_step(annual_rate: float | np.ndarray, steps_per_year: int) -> np.ndarray:
    """Probability per step of an annual hazard: 1 - exp(-rate / steps_per_year)."""
    return -np.expm1(-np.asarray(annual_rate, dtype=np.float64) / steps_per_year)


@dataclass
class Market:
    """Static market tables, derived once from the scenario."""

    clock: Clock  # the run's step in calendar terms
    n_categories: int
    n_tiers: int
    tier_count: np.ndarray  # (C,) int
    category_names: tuple[str, ...]
    tier_names: tuple[tuple[str, ...], ...]
    default_price: np.ndarray  # (C, T)
    default_quality: np.ndarray  # (C, T)
    lifetime: np.ndarray  # (C,) steps (the scenario gives weeks)
    p_fail: np.ndarray  # (C,) per-step base failure probability
    complement_target: (
        np.ndarray
    )  # (C,) index of the complement category opened by a failure here, -1 none
    is_complement: np.ndarray  # (C,) bool
    supersedes: np.ndarray  # (C,) index of the earlier generation a category replaces, -1 none
    generations: tuple[int, ...]  # the categories of product lines, each line earliest first
    # segments
    seg_share: np.ndarray  # (S,)
    seg_tier_mix: np.ndarray  # (S, C, T) initial desired tier distribution per category
    seg_up_rate: np.ndarray  # (S,) per-step base upmarket hazard (rate / steps_per_year)
    seg_complement: np.ndarray  # (S,)
    seg_price_sens: np.ndarray  # (S,)
    seg_names: tuple[str, ...]

    def tier_index(self, category: str, tier: str) -> tuple[int, int]:
        c = self.category_names.index(category)
        return c, self.tier_names[c].index(tier)


def compile_market(sc: Scenario) -> Market:
    """Build the static tables of a (validated) scenario."""
    cats = sc.categories
    C = len(cats)
    T = max(len(c.tiers) for c in cats)
    spy = sc.run.steps_per_year
    clock = Clock(spy)
    price = np.zeros((C, T))
    qual = np.zeros((C, T))
    for ci, c in enumerate(cats):
        k = len(c.tiers)
        price[ci, :k] = c.prices
        qual[ci, :k] = c.qualities
        price[ci, k:] = c.prices[-1]
        qual[ci, k:] = c.qualities[-1]
    names = [c.name for c in cats]
    comp_target = np.full(C, -1, dtype=np.int64)
    is_comp = np.zeros(C, dtype=bool)
    for ci, c in enumerate(cats):
        if c.complement_of:
            comp_target[names.index(c.complement_of)] = ci
            is_comp[ci] = True
    supersedes = np.array(
        [names.index(c.supersedes) if c.supersedes else -1 for c in cats], dtype=np.int64
    )
    S = len(sc.segments)
    mix = np.zeros((S, C, T))
    for si, s in enumerate(sc.segments):
        for ci, c in enumerate(cats):
            k = len(c.tiers)
            w = np.zeros(T)
            w[: min(k, len(s.tier_mix))] = s.tier_mix[:k]
            if w.sum() <= 0:
                w[0] = 1.0
            mix[si, ci] = w / w.sum()
    return Market(
        clock=clock,
        n_categories=C,
        n_tiers=T,
        tier_count=np.array([len(c.tiers) for c in cats], dtype=np.int64),
        category_names=tuple(names),
        tier_names=tuple(tuple(c.tiers) for c in cats),
        default_price=price,
        default_quality=qual,
        lifetime=np.array([clock.steps(c.lifetime_weeks, 1) for c in cats], dtype=np.int64),
        p_fail=per_step(np.array([c.failure_rate for c in cats]), spy),
        complement_target=comp_target,
        is_complement=is_comp,
        supersedes=supersedes,
        generations=_product_lines(supersedes),
        seg_share=np.array([s.share for s in sc.segments]),
        seg_tier_mix=mix,
        seg_up_rate=np.array([s.upmarket_rate for s in sc.segments]) / spy,
        seg_complement=np.array([s.complement_propensity for s in sc.segments]),
        seg_price_sens=np.array([s.price_sensitivity for s in sc.segments]),
        seg_names=tuple(s.name for s in sc.segments),
    )


def _product_lines(supersedes: np.ndarray) -> tuple[int, ...]:
    """The categories that are a generation of a product line (supersede another, or
    are superseded), each line from its earliest generation on."""
    later = {int(c): int(e) for c, e in enumerate(supersedes) if e >= 0}
    chain: list[int] = []
    for c in sorted(set(later.values()) - set(later)):  # each line's first generation
        while True:
            chain.append(c)
            nxt = [k for k, e in later.items() if e == c]
            if not nxt:
                break
            c = nxt[0]
    return tuple(chain)
