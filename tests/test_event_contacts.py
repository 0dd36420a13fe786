"""The event engine's homogeneous contacts (docs/model.md §7.8): each customer's
candidate steps are a chain of geometric skips, thinned by coverage. The gaps follow
the geometric law; the contacts per step are the covered customers times the contact
probability; a change of density moves the rate from the next step on; no chain
points into the past; the numbers do not depend on the threads or on the compiler."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim import DemandModel
from sim.contact_chains import draw_chains, skip_chunk
from sim.jit import CHUNK
from sim.platform import step_density
from sim.rng import NEVER_STEP, address, round_keys
from tests.helpers import script_json, small

#: a z-score (or its chi-square counterpart) beyond this fails a statistical check
Z = 4.0


def _chains(p: float, n: int, steps: int, kind: np.ndarray | None = None) -> np.ndarray:
    """(steps + 1, n) bool: who the chains contact at steps 1..steps (row 0 empty),
    chains drawn at step 0, every chain strictly in the future after each step."""
    rk = round_keys(11, "platform:focal")
    chain = np.empty(n, np.int32)
    draw_chains(chain, rk, address(0), 0, p)
    kind = np.ones(n, np.uint8) if kind is None else kind
    who = np.empty(n, np.int32)
    contacted = np.empty(n, np.bool_)
    offered = np.empty((n, 2), np.int8)
    lq = math.log1p(-p) if 0.0 < p < 1.0 else 0.0
    out = np.zeros((steps + 1, n), np.bool_)
    for now in range(1, steps + 1):
        due = chain == now
        hits = 0
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            got = skip_chunk(lo, hi, kind, chain, p, lq, rk, address(now), now, who, contacted, offered)  # fmt: skip
            assert np.array_equal(who[lo : lo + got], np.flatnonzero(contacted[lo:hi]) + lo)
            hits += got
        assert np.array_equal(contacted, due & (kind > 0))  # the covered due, only
        assert (chain > now).all()  # none in the past, none now
        assert (offered == -1).all()
        out[now] = contacted
        assert hits == contacted.sum()
    return out


def test_gaps_between_contacts_are_geometric() -> None:
    p, n, steps, cut = 0.25, 20_000, 60, 15
    out = _chains(p, n, steps)
    # for each contact at t <= steps - cut, the gap to the next one (or "more than cut"):
    # unbiased, since the contacts up to t say nothing of the skip drawn at t
    seen = np.zeros(cut + 1, np.int64)
    for t in range(1, steps - cut + 1):
        wait = out[t].copy()
        for d in range(1, cut + 1):
            hit = wait & out[t + d]
            seen[d - 1] += np.count_nonzero(hit)
            wait &= ~hit
        seen[cut] += np.count_nonzero(wait)
    total = int(seen.sum())
    assert total >= 100_000
    law = np.array([(1 - p) ** (d - 1) * p for d in range(1, cut + 1)] + [(1 - p) ** cut])
    expected = total * law
    chi2 = float(((seen - expected) ** 2 / expected).sum())
    # the chi-square's tail at the normal's 4 sigma
    assert chi2 < stats.chi2.isf(stats.norm.sf(Z), df=cut), (chi2, seen, expected)
    # and the mean of the gaps seen whole against 1/p's truncated counterpart
    d = np.arange(1, cut + 1)
    mean = (law[:cut] * d).sum() / law[:cut].sum()
    var = (law[:cut] * d**2).sum() / law[:cut].sum() - mean**2
    m = seen[:cut]
    got = (m * d).sum() / m.sum()
    assert abs(got - mean) < Z * math.sqrt(var / m.sum())


@pytest.mark.parametrize("p", [0.02, 0.3])
def test_contacts_per_step_of_the_chains(p: float) -> None:
    n, steps = 20_000, 60
    out = _chains(p, n, steps)
    per_step = out[1:].sum(axis=1)
    # every customer-step is a Bernoulli(p) (a chain of geometric skips from a
    # candidate at step 0 is a Bernoulli process)
    total = per_step.sum()
    cells = n * steps
    assert abs(total - cells * p) < Z * math.sqrt(cells * p * (1 - p))
    # and each step alone
    assert (np.abs(per_step - n * p) < Z * math.sqrt(n * p * (1 - p)) + 1).all()


def test_coverage_thins_the_chains_and_moves_no_one_elses_contacts() -> None:
    n, steps = 5_000, 30
    everyone = _chains(0.2, n, steps)
    kind = (np.arange(n) % 3 != 0).astype(np.uint8)  # a third not covered
    thinned = _chains(0.2, n, steps, kind)
    assert not thinned[:, kind == 0].any()
    assert np.array_equal(thinned[:, kind > 0], everyone[:, kind > 0])


def test_every_step_and_never() -> None:
    assert _chains(1.0, 3_000, 5)[1:].all()
    never = _chains(0.0, 3_000, 5)
    assert not never.any()
    chain = np.empty(10, np.int32)
    draw_chains(chain, round_keys(1, "platform:focal"), address(7), 7, 0.0)
    assert (chain == NEVER_STEP).all()


def _model(n: int, **overrides: object) -> DemandModel:
    sc = small(
        n=n,
        **{
            "focal.platform.targeting": "homogeneous",
            "focal.platform.density": 0.2,
            "run.warmup_weeks": 4,
            **overrides,
        },
    )
    return DemandModel(sc, rng=5, engine="events")


def _steps(model: DemandModel, k: int) -> np.ndarray:
    """(k, F) the contacts of each firm at each of the next k steps, checking that no
    homogeneous firm's chain points into the past after a step."""
    out = np.zeros((k, len(model.books)), np.int64)
    for s in range(k):
        before = [f.contacts for f in model.books]
        model.step()
        for j, f in enumerate(model.books):
            out[s, j] = f.contacts - before[j]
            rec = f.records
            assert rec is not None
            if f.spec.platform.targeting == "homogeneous":
                assert rec.chain is not None and (rec.chain > model.t).all()
            else:
                assert rec.chain is None
    return out


def _within(count: float, cells: float, p: float) -> bool:
    return abs(count - cells * p) < Z * math.sqrt(cells * p * (1 - p))


@pytest.mark.parametrize("steps_per_year", [52, 12])
def test_contacts_per_step_match_the_covered_times_p(steps_per_year: int) -> None:
    model = _model(8_000, **{"run.steps_per_year": steps_per_year})
    steps = 15
    got = _steps(model, steps)
    for j, f in enumerate(model.books):  # the focal firm and the rival, both homogeneous
        p = step_density(f.spec.platform, f.clock)  # the density times the weeks of a step
        assert (p == f.spec.platform.density) == (steps_per_year == 52)
        assert _within(got[:, j].sum(), f.records.n_covered * steps, p)  # type: ignore[union-attr]


def test_a_new_density_moves_the_rate_from_the_next_step() -> None:
    model = _model(8_000)
    _steps(model, 3)
    focal = model.books[0]
    n_cov = focal.records.n_covered  # type: ignore[union-attr]
    model.set_platform(0, density=0.6)
    got = _steps(model, 6)[:, 0]
    assert _within(got[0], n_cov, 0.6)  # at once: chains drawn for 0.2 would give about 0.2
    assert _within(got.sum(), n_cov * 6, 0.6)
    model.set_platform(0, density=0.0)
    assert _steps(model, 2)[:, 0].sum() == 0
    model.set_platform(0, density=0.05, coverage=0.4)
    n_cov = focal.records.n_covered  # type: ignore[union-attr]
    got = _steps(model, 8)[:, 0]
    assert _within(got.sum(), n_cov * 8, 0.05)
    # personalized and back: the schedule, then chains drawn afresh
    model.set_platform(0, targeting="personalized")
    _steps(model, 2)
    model.set_platform(0, targeting="homogeneous", density=0.3)
    got = _steps(model, 4)[:, 0]
    assert _within(got.sum(), n_cov * 4, 0.3)


def test_a_firms_contacts_move_with_nothing_but_its_own_platform() -> None:
    # another firm's platform and the demand process changed: the same focal contacts,
    # step for step (common random numbers by construction)
    base = _model(3_000)
    other = _model(3_000, **{"competitors.0.platform.density": 0.5, "demand.emergence_rate": 2.0})
    n, C, F = base.n, base.market.n_categories, len(base.books)
    differ = 0
    for _ in range(8):
        base.step()
        other.step()
        a, b = base.work.exposure(n, C, F), other.work.exposure(n, C, F)
        assert np.array_equal(a.contacted[0], b.contacted[0])
        differ += not np.array_equal(a.contacted[1], b.contacted[1])
    assert differ > 0  # the rival's own contacts did move


def test_the_sweep_keeps_no_chains() -> None:
    sc = small(n=500, **{"focal.platform.targeting": "homogeneous", "run.warmup_weeks": 2})
    model = DemandModel(sc, rng=5, engine="sweep").run(2)
    assert all(f.records is not None and f.records.chain is None for f in model.books)


SCRIPT = """
import json, sys
import sim.jit
from sim import DemandModel
from tests.helpers import small
sim.jit.PARALLEL_MIN_CHUNKS = 1  # spread every loop over the threads, however small
sc = small(n=int(sys.argv[1]), **{"focal.platform.targeting": "homogeneous",
           "focal.platform.density": 0.3, "run.warmup_weeks": 3})
m = DemandModel(sc, rng=7, engine="events").run(4)
m.set_platform(0, density=0.1)
m.run(4)
ts = m.datacollector.get_model_vars_dataframe()
print(json.dumps({"ts": ts.to_json(), "contacts": [f.contacts for f in m.books],
                  "chain": [f.records.chain.tolist() for f in m.books],
                  "rec": m.focal.book.records.need.tolist()}, default=str))
"""


def _run(n: int, jit: bool = True, threads: int | None = None) -> dict:
    return script_json(SCRIPT, [str(n)], jit, threads)  # type: ignore[no-any-return]


def test_the_same_contacts_on_one_thread_or_two() -> None:
    n = 3 * CHUNK + 100  # every step's chunks shared by the two threads
    one, two = _run(n, threads=1), _run(n, threads=2)
    assert one == two
    assert min(one["contacts"]) > 0


def test_plain_python_gives_the_compiled_contacts() -> None:
    compiled, plain = _run(80), _run(80, jit=False)
    assert plain == compiled
    assert min(compiled["contacts"]) > 0
