"""The counts the rules keep up to date where needs change agree with a recount, and
the counting passes with numpy; the compiled loops read numpy's own random numbers."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.workloads import workload
from sim import DemandModel
from sim.counts import cell_counts, served_by
from sim.pcg import RuleDraws
from sim.platform import contact_kind
from sim.state import ACTIVE, LATENT, SERVED


def test_kept_counts_match_a_recount() -> None:
    model = DemandModel(workload(3000, steps=60), rng=9).run(60)
    st = model.state
    kept = model.work.tally
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
