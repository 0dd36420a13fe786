"""The counts the rules keep up to date where needs change agree with a recount, and
the counting passes with numpy."""

from __future__ import annotations

import numpy as np

from benchmarks.workloads import workload
from sim import DemandModel
from sim.counts import cell_counts, served_by
from sim.records import contact_kind
from sim.state import ACTIVE, LATENT, SERVED


def test_kept_counts_match_a_recount() -> None:
    model = DemandModel(workload(3000, steps=60), rng=9).run(60)
    st = model.state
    kept = model.work.tally
    assert np.array_equal(kept.cells, cell_counts(st.tier, st.need, ACTIVE, 4))
    assert np.array_equal(kept.served, served_by(st.need, st.supplier, len(model.firm_list)))
    for firm in model.books:
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


def test_active_needs_counted_eight_a_word_are_numpys_count() -> None:
    from sim.choice_picks import _count_active

    rng = np.random.default_rng(3)
    # every byte value, and lengths whose tail is not a whole word
    for size in (0, 1, 7, 8, 9, 64, 1001):
        for states in (np.arange(-128, 128), np.arange(4)):
            nf = rng.choice(states, size).astype(np.int8)
            for start in range(0, size, 8):
                assert _count_active(nf, start, size) == np.count_nonzero(nf[start:] == ACTIVE)


def test_active_needs_listed_by_their_bits_are_numpys_positions() -> None:
    from sim.choice_picks import _list_active

    rng = np.random.default_rng(4)
    # every byte value, words with several active needs, tails not a whole word
    for size in (0, 1, 7, 8, 9, 64, 1001):
        for states in (np.arange(-128, 128), np.arange(4), np.array([ACTIVE, 0])):
            nf = rng.choice(states, size).astype(np.int8)
            for start in range(0, size, 8):
                want = start + np.flatnonzero(nf[start:] == ACTIVE)
                act = np.full(want.size + 1, -7, dtype=np.int64)
                assert _list_active(nf, start, size, act) == want.size
                assert np.array_equal(act[:-1], want) and act[-1] == -7
