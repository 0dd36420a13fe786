"""Generations (``categories.N.supersedes``, docs/model.md §7.17) with more than one
firm: two firms that both sell both generations, firms of unequal reach, and a later
generation sold only by a firm that does not sell the earlier one.

Each test holds the rule to something that could be false: a closed form where the
firms share the market (the two-clock curves of the whole technology with the
exposure chance of two platforms, split evenly by symmetry), where the later
generation comes from another firm (a recursion of who has switched), the kept
tallies and the sales booked against a recount, and the firm each customer ends up
with."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.fit.diffusion import bass_discrete, norton_bass_discrete
from sim import DemandModel
from sim.counts import cell_counts, served_by
from sim.state import ACTIVE, LATENT, NONE, SERVED
from tests.helpers import NO_DEFECTS

Z = 4.0
D, Q = 0.03, 0.4  # norton-bass-check: focal.platform.density and wom.q, per step
P2, Q2 = 0.03, 0.4  # norton-bass-check: core-2's awareness_p and awareness_q
CORE = {"category": "core", "tier": "standard"}


def core_2(tau2: int) -> dict[str, Any]:
    """core-2 on sale from step tau2 + 1 (Norton–Bass tau2)."""
    return {"category": "core-2", "tier": "standard", "launch_week": tau2 + 1}


def rival(products: list[dict[str, Any]], density: float) -> dict[str, Any]:
    """A second firm with the focal firm's platform in norton-bass-check (homogeneous,
    coverage and strength 1, no defects) and its own density."""
    return {
        "name": "rival",
        "products": products,
        "platform": {
            "coverage": 1.0,
            "density": density,
            "strength": 1.0,
            "targeting": "homogeneous",
        },
        "strategy": {"enabled": False},
        "chain": NO_DEFECTS,
    }


def shares(overrides: dict[str, Any], n: int, reps: int, steps: int, seed: int) -> np.ndarray:
    """Share of customers served in (category, firm) at steps 0 .. steps, per
    replication: shape (reps, 2, 2, steps + 1)."""
    out = []
    for r in range(reps):
        model = DemandModel(
            "norton-bass-check", rng=seed + r, overrides={"run.customers": n, **overrides}
        )
        st = model.state
        path = []
        for k in range(steps + 1):
            if k:
                model.step()
            served = st.need == SERVED
            path.append([[(served[:, c] & (st.supplier[:, c] == f)).mean() for f in (0, 1)]
                         for c in (0, 1)])  # fmt: skip
        out.append(np.moveaxis(np.array(path), 0, -1))
    return np.array(out)


def z_scores(paths: np.ndarray, expected: np.ndarray, n: int, at: np.ndarray) -> np.ndarray:
    """|mean - expected| in standard errors of the mean over replications (at least the
    binomial one), less the O(1/N) gap of a recursion that is not linear, as in
    test_norton_bass."""
    reps = paths.shape[0]
    mean, exp = paths.mean(axis=0)[..., at], expected[..., at]
    binom = np.sqrt(np.clip(exp * (1 - exp), 1.0 / n, None) / (n * reps))
    se = np.maximum(paths.std(axis=0, ddof=1)[..., at] / np.sqrt(reps), binom)
    return np.maximum(np.abs(mean - exp) - 2.0 / n, 0.0) / se


@pytest.mark.slow
def test_two_firms_selling_both_generations_share_the_norton_bass_curves() -> None:
    # Both firms sell core and core-2 and market them alike (density D each). A customer
    # meets a firm by its contact (D each, independently) or, when the neighbour it
    # samples is served by a firm that did not contact it, by word of mouth
    # (q / (1 - D)); so its chance to become ready is 1 - (1 - D)^2 + Q (1 - D) F1:
    # the discrete Bass curve with p1 = 1 - (1 - D)^2 and q1 = Q (1 - D). Awareness of
    # core-2 does not depend on the firms. The technology then follows the Norton–Bass
    # curves with those p1, q1 and the firms, alike, split each generation evenly.
    n, reps, steps, tau2 = 3000, 8, 60, 30
    over = {"competitors": [rival([CORE, core_2(tau2)], D)]}
    paths = shares(over, n, reps, steps, seed=700)
    at = np.arange(0, steps + 1, 3)
    p1, q1 = 1 - (1 - D) ** 2, Q * (1 - D)
    expected = norton_bass_discrete([p1, P2], [q1, Q2], [1.0, 0.0], [0, tau2], steps)
    z = z_scores(paths.sum(axis=2), expected, n, at)
    assert z.max() <= Z, z.round(1)
    # the firms split each generation evenly: focal - rival is 0 within its errors
    diff = paths[:, :, 0] - paths[:, :, 1]
    se = np.maximum(diff.std(axis=0, ddof=1) / np.sqrt(reps), 1.0 / (n * np.sqrt(reps)))
    assert (np.abs(diff.mean(axis=0)) / se)[:, at].max() <= Z
    # both firms took part: each serves a sizeable share of core-2 at the end
    assert paths[:, 1, :, -1].mean(axis=0).min() > 0.4
    # power: the curves of one firm of density D are far away
    one = norton_bass_discrete([D, P2], [Q, Q2], [1.0, 0.0], [0, tau2], steps)
    assert z_scores(paths.sum(axis=2), one, n, at).max() > 3 * Z


def recount(model: DemandModel) -> None:
    """The kept tallies equal a recount, and nobody is served in both generations."""
    st, tally = model.state, model.work.tally
    st.check()
    assert (tally.cells == cell_counts(st.tier, st.need, ACTIVE, tally.cells.shape[1])).all()
    assert (tally.served == served_by(st.need, st.supplier, len(model.books))).all()
    assert not ((st.need[:, 0] == SERVED) & (st.need[:, 1] == SERVED)).any()


def test_upgrades_stay_with_the_supplier_and_the_own_market_splits_evenly() -> None:
    # Generations that overlap, with an own market for core-2 (m1 = 0.6, m2 = 0.3), and
    # firms of unequal reach that both sell both generations. A customer of the earlier
    # market holds core-2, whether it upgrades or leapfrogs, from the firm it first
    # bought the technology from; a customer of the own market buys from either firm,
    # each as likely (docs/model.md §7.17), whatever their marketing.
    n, steps, tau2 = 2000, 45, 4
    over = {
        "demand.initial_active": 0.6,
        "categories.1.own_market": 0.3,
        "wom.q": 0.3 / 0.6,
        "focal.platform.density": 0.05,
        "focal.products": [CORE, core_2(tau2)],
        "competitors": [rival([CORE, core_2(tau2)], 0.01)],
    }
    own_to_rival = own_total = early_to_rival = early_total = 0
    for r in range(3):
        model = DemandModel("norton-bass-check", rng=40 + r, overrides={"run.customers": n, **over})
        st = model.state
        own = (st.need[:, 0] == NONE) & (st.need[:, 1] == LATENT)
        first = np.full(n, -1)  # the firm a customer first bought the technology from
        bought = 0  # purchases seen: a first purchase, and a move to core-2
        for _ in range(steps):
            before = (st.need == SERVED).copy()
            model.step()
            recount(model)
            served = st.need == SERVED
            new = (first < 0) & served.any(axis=1)
            first[new] = np.where(served[new, 1], st.supplier[new, 1], st.supplier[new, 0])
            bought += int((served & ~before).sum())
            moved = served[:, 1] & ~own
            assert (st.supplier[moved, 1] == first[moved]).all()
            assert (st.need[moved, 0] == NONE).all()
            # every purchase is one sale of one firm (a leapfrog is one sale of core-2)
            assert sum(b.sales for b in model.books) == bought
        served_own = own & (st.need[:, 1] == SERVED)
        own_to_rival += int((st.supplier[served_own, 1] == 1).sum())
        own_total += int(served_own.sum())
        early = ~own & (st.need == SERVED).any(axis=1)
        early_to_rival += int((first[early] == 1).sum())
        early_total += int(early.sum())
    assert own_total > 0.9 * 3 * 0.3 * n  # the own market has bought
    half = 0.5 * own_total
    assert abs(own_to_rival - half) <= Z * np.sqrt(own_total * 0.25), (own_to_rival, own_total)
    # power: the earlier market, which the firms win by their reach, is far from even
    assert early_to_rival < half - Z * np.sqrt(early_total * 0.25), (early_to_rival, early_total)


def from_another_firm(
    d1: float, q: float, f2: np.ndarray, tau2: int, d2: float, drive_moved: bool = True
) -> np.ndarray:
    """Shares (ready, switched to core-2) at steps 0 .. len(f2) - 1 where the focal firm
    sells core only (density d1) and the rival core-2 only (density d2, on sale from
    step tau2 + 1), with f2 the awareness curve from launch and q = ``wom.q``.

    Readiness is Bass's: F(t) = F(t-1) + (1 - F(t-1)) (d1 + q R(t-1)), where R, the
    share that drives imitation of core, is every ready customer, F (a customer who
    switched speaks for the firm it left, docs/model.md §7.17), or with ``drive_moved``
    false only those still served in core, F - S (the rule before). An aware customer
    served in core cannot upgrade there: its core-2 need opens (active, no incumbent)
    and it switches when the rival reaches it, by contact (d2) or by word of mouth from
    the rival's core-2 customers (q S). With A(t) = F2(t - tau2) F(t - 1) the share aware
    and ready when the step's need opens, S(t) = S(t-1) + (A(t) - S(t-1)) (d2 + q S(t-1)).
    """
    steps = f2.size - 1
    f, s = np.zeros(steps + 1), np.zeros(steps + 1)
    for t in range(1, steps + 1):
        a = (f2[t - tau2] if t > tau2 else 0.0) * f[t - 1]
        s[t] = s[t - 1] + (a - s[t - 1]) * (d2 + q * s[t - 1])
        drive = f[t - 1] if drive_moved else f[t - 1] - s[t - 1]
        f[t] = f[t - 1] + (1.0 - f[t - 1]) * min(1.0, d1 + q * drive)
    return np.array([f, s])


def test_a_later_generation_from_another_firm_takes_its_customers_by_choice() -> None:
    # The focal firm sells core only; the rival sells core-2 only, from step tau2 + 1,
    # after core has spread: customers switch by choice (from_another_firm), and core
    # keeps the ready who have not switched.
    n, reps, steps, tau2, d2 = 3000, 6, 70, 30, 0.05
    over = {"focal.products": [CORE], "competitors": [rival([core_2(tau2)], d2)]}
    paths = shares(over, n, reps, steps, seed=900)
    # nobody is served by a firm in a generation it does not sell
    assert paths[:, 0, 1].max() == 0.0 and paths[:, 1, 0].max() == 0.0
    f2 = bass_discrete(P2, Q2, steps)
    f, s = from_another_firm(D, Q, f2, tau2, d2)
    assert np.allclose(f, bass_discrete(D, Q, steps))  # readiness is the Bass curve
    tech = paths.sum(axis=2)
    at = np.arange(0, steps + 1, 2)
    z = z_scores(tech, np.array([f - s, s]), n, at)
    assert z.max() <= Z, z.round(1)
    assert tech.mean(axis=0)[1, -1] > 0.95  # the rival took nearly everyone
    # power: a need that opened a step later than awareness is rejected
    f, late = from_another_firm(D, Q, f2, tau2 + 1, d2)
    assert z_scores(tech, np.array([f - late, late]), n, at).max() > 2 * Z


def test_readiness_follows_bass_while_customers_switch_to_another_firm() -> None:
    # Generations that overlap, the later one from another firm: the focal firm sells
    # core only (density 0.01, wom.q 0.3); the rival sells core-2 only from step 2
    # (density 0.1) and awareness is fast (p2 0.2, q2 0.5), so customers switch while
    # core is still spreading. A customer who switched is ready and speaks for the firm
    # it left, so readiness (the share served in either generation) follows the Bass
    # curve with p = 0.01, q = 0.3, and core-2 the recursion of who has switched.
    n, reps, steps, tau2, d1, q, d2 = 3000, 6, 24, 1, 0.01, 0.3, 0.1
    over = {
        "focal.platform.density": d1,
        "wom.q": q,
        "categories.1.awareness_p": 0.2,
        "categories.1.awareness_q": 0.5,
        "focal.products": [CORE],
        "competitors": [rival([core_2(tau2)], d2)],
    }
    paths = shares(over, n, reps, steps, seed=1100)
    tech = paths.sum(axis=2)
    got = np.stack([tech.sum(axis=1), tech[:, 1]], axis=1)  # (ready, core-2)
    f2 = bass_discrete(0.2, 0.5, steps)
    at = np.arange(0, steps + 1, 2)
    expected = from_another_firm(d1, q, f2, tau2, d2)
    assert np.allclose(expected[0], bass_discrete(d1, q, steps))
    z = z_scores(got, expected, n, at)
    assert z.max() <= Z, z.round(1)
    assert expected[1, -1] > 0.5  # most of the market switched within the run
    # power: the rule before, imitation driven only by the customers still in core
    # (0.23 of the market below at the worst step), is rejected (a launch a step later
    # is not a test here: switching waits on readiness, not on awareness)
    before = from_another_firm(d1, q, f2, tau2, d2, drive_moved=False)
    assert z_scores(got, before, n, at).max() > 3 * Z


def test_switching_to_another_firm_keeps_the_counts_and_opens_the_need() -> None:
    # The same market in overlap (core-2 on sale from step 4), step by step: the kept
    # tallies equal a recount; a customer aware of core-2 and served in core at the
    # end of a step has, at the end of the next, an open core-2 need or is served
    # there and has left core; each firm's sales are its customers' purchases.
    n, steps, tau2 = 1500, 40, 3
    over = {
        "run.customers": n,
        "focal.products": [CORE],
        "competitors": [rival([core_2(tau2)], 0.05)],
    }
    model = DemandModel("norton-bass-check", rng=5, overrides=over)
    st, gens = model.state, model.generations
    ever_core = np.zeros(n, dtype=bool)
    waiting = np.empty(0, dtype=np.int64)
    for _ in range(steps):
        model.step()
        recount(model)
        need = st.need
        ever_core |= need[:, 0] == SERVED
        opened = need[waiting, 1] == ACTIVE
        left = (need[waiting, 1] == SERVED) & (need[waiting, 0] == NONE)
        assert (opened | left).all()
        assert (st.supplier[waiting[opened], 1] < 0).all()  # no incumbent
        switched = need[:, 1] == SERVED
        assert (gens.came_from[switched, 1] == 0).all() and (need[switched, 0] == NONE).all()
        # the focal firm sold each customer core once, the rival each one core-2 once
        assert model.books[0].sales == ever_core.sum()
        assert model.books[1].sales == switched.sum()
        waiting = np.flatnonzero(gens.aware[:, 1] & (need[:, 0] == SERVED))
        # no leapfrog to another firm: a customer switches only once served in core
        assert ever_core[switched].all()
    assert switched.mean() > 0.9
