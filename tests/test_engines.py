"""The compiled engine against the numpy reference: run for run the same numbers.

``DemandModel`` runs the per-customer rules as compiled loops (``sim.compiled``) by
default and as the numpy rules with ``engine="numpy"``. The loops draw numpy's own
random numbers (``sim.pcg``), make numpy's casts and decide on the state before each
rule, so the two must agree exactly: every customer's state, every time-series value,
the summary, and where every random stream is left.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.workloads import workload
from sim import DemandModel
from sim.counts import cell_counts, served_by
from sim.kernels import contact_kind
from sim.pcg import RuleDraws
from sim.scenario import load_scenario
from sim.state import ACTIVE, LATENT, SERVED
from tests.helpers import small

STATE = ("need", "tier", "supplier", "held", "age", "satisfaction", "complaint", "complaint_t")


def _both(scenario, seed: int, steps: int) -> tuple[DemandModel, DemandModel]:  # type: ignore[no-untyped-def]
    ref = DemandModel(scenario, rng=seed, engine="numpy").run(steps)
    fast = DemandModel(scenario, rng=seed, engine="compiled").run(steps)
    return ref, fast


def _assert_same(ref: DemandModel, fast: DemandModel) -> None:
    for name in STATE:
        a, b = getattr(ref.state, name), getattr(fast.state, name)
        assert np.array_equal(a, b), f"state.{name} differs at {np.count_nonzero(a != b)} positions"
    ta = ref.datacollector.get_model_vars_dataframe()
    tb = fast.datacollector.get_model_vars_dataframe()
    assert ta.equals(tb)
    sa = json.dumps(ref.summary(), sort_keys=True, default=str)
    sb = json.dumps(fast.summary(), sort_keys=True, default=str)
    assert sa == sb
    for name in ("demand", "behaviour", *(f"platform:{f.name}" for f in ref.firm_list)):
        key = name if ":" not in name else None
        ga = ref.streams[key] if key else ref.streams.platform(name.split(":", 1)[1])
        gb = fast.streams[key] if key else fast.streams.platform(name.split(":", 1)[1])
        assert ga.bit_generator.state == gb.bit_generator.state, name
    for fa, fb in zip(ref.firm_list, fast.firm_list, strict=True):
        assert fa.records is not None and fb.records is not None
        for name in ("need", "tier", "supplier", "seen", "known"):
            assert np.array_equal(getattr(fa.records, name), getattr(fb.records, name)), name


CASES = [
    ("baseline", {}),
    ("baseline", {"focal.platform.standard.segments": ["mainstream"]}),
    ("baseline", {"focal.platform.standard.tiers": ["entry", "standard"]}),
    ("baseline", {"focal.platform.focus": 2.5}),  # the contact total as a pairwise sum
    ("baseline", {"network.kind": "mean-field"}),
    ("baseline", {"network.kind": "barabasi-albert"}),
    ("complement-wave", {}),
    ("competitor-launch", {}),
    ("new-product-launch", {}),
    ("supplier-failure-windfall", {}),
    ("six-sigma-platform", {}),
    ("upmarket-shift", {}),
]


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_compiled_engine_gives_the_reference_numbers(name: str, overrides: dict) -> None:
    sc = load_scenario(name, overrides={"run.customers": 2500, **overrides})
    ref, fast = _both(sc, seed=11, steps=104)
    _assert_same(ref, fast)


def test_the_benchmark_market_at_an_odd_size() -> None:
    # an odd number of customers leaves a pending 32-bit half between blocks
    ref, fast = _both(workload(4001, steps=60), seed=3, steps=60)
    _assert_same(ref, fast)


def test_large_blocks_agree() -> None:
    # above 2**15 numbers per block the reference draws raw 64-bit words
    ref, fast = _both(small(n=20_001), seed=5, steps=12)
    _assert_same(ref, fast)


def test_kept_counts_match_a_recount() -> None:
    model = DemandModel(workload(3000, steps=60), rng=9).run(60)
    st = model.state
    kept = st._tally  # type: ignore[attr-defined]
    assert np.array_equal(kept.cells, cell_counts(st.tier, st.need, ACTIVE, 4))
    assert np.array_equal(kept.served, served_by(st.need, st.supplier, len(model.firm_list)))
    for firm in model.firm_list:
        rec = firm.records
        assert rec is not None and rec.believed is not None and rec.kind is not None
        assert np.array_equal(rec.believed, cell_counts(rec.tier, rec.need, LATENT, 4))
        kind = np.empty_like(rec.kind)
        n_open = contact_kind(rec.need, rec.covered, firm.std_cells.any(axis=1), kind)
        assert np.array_equal(kind, rec.kind)
        assert rec.n_open is not None and int(rec.n_open[0]) == n_open


def test_counting_passes_match_numpy() -> None:
    rng = np.random.default_rng(0)
    need = rng.integers(0, 4, size=(5001, 3)).astype(np.int8)
    tier = rng.integers(0, 4, size=(5001, 3)).astype(np.int8)
    sup = np.where(need == SERVED, rng.integers(0, 3, size=need.shape), -1).astype(np.int8)
    for lo in (LATENT, ACTIVE):
        want = np.zeros((3, 4), dtype=np.int64)
        np.add.at(
            want, (np.broadcast_to(np.arange(3), need.shape)[need >= lo], tier[need >= lo]), 1
        )
        assert np.array_equal(cell_counts(tier, need, lo, 4), want)
    assert np.array_equal(served_by(need, sup, 3), np.bincount(sup[need == SERVED], minlength=3))


@pytest.mark.parametrize("seed", range(6))
def test_compiled_draws_are_numpys(seed: int) -> None:
    """Blocks of float32 and float64 uniforms, read sparsely by a compiled loop, are
    numpy's numbers, and the generator ends where numpy's draws leave it."""
    from numba import njit

    from sim.pcg import f32_at, f64_at

    @njit
    def read(cur, pos, jt, idx, wide):  # type: ignore[no-untyped-def]
        out = np.empty(idx.size, np.float64)
        for k in range(idx.size):
            out[k] = f64_at(cur, pos, jt, idx[k]) if wide else f32_at(cur, pos, jt, idx[k])
        return out

    rs = np.random.default_rng(seed)
    ref = np.random.Generator(np.random.PCG64(seed))
    gen = np.random.Generator(np.random.PCG64(seed))
    for _ in range(8):
        warm = int(rs.integers(0, 3))  # leaves a pending 32-bit half, or not
        ref.random(warm, dtype=np.float32)
        gen.random(warm, dtype=np.float32)
        blocks = [
            (bool(rs.random() < 0.4), int(rs.choice([0, 1, 2, 7, 5000, 70_001]))) for _ in range(4)
        ]
        draws = RuleDraws(gen)
        cursors = [draws.f64(k) if wide else draws.f32(k) for wide, k in blocks]
        draws.finish()
        for (wide, k), (cur, pos) in zip(blocks, cursors, strict=True):
            want = ref.random(k, dtype=np.float64 if wide else np.float32)
            idx = np.flatnonzero(rs.random(k) < rs.random()).astype(np.int64)
            assert np.array_equal(read(cur, pos, draws.jt, idx, wide), want[idx].astype(np.float64))
        assert gen.bit_generator.state == ref.bit_generator.state
    assert gen.random() == ref.random()


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine"):
        DemandModel(small(n=100), rng=1, engine="fortran")
