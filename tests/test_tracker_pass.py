"""The focal standard's filter on each of its paths, and the complaints handled in one
compiled pass, against numpy's selections (docs/performance.md, "The detection
tracker and the complaints")."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim import DemandModel
from sim.complaints import handle_complaints
from sim.detection import in_standard
from sim.state import NO_FIRM, SERVED, satisfaction_of


@pytest.mark.parametrize(
    "std_segments, std_cat",
    [
        ([True, True, True], [False, True, True, True]),  # every segment, not every category
        ([True, True, True], [True, True, True, True]),  # every cell: the list kept whole
        ([False, True, False], [True, True, True, True]),
    ],
)
def test_in_standard_on_each_path_keeps_numpys_selection(
    std_segments: list[bool], std_cat: list[bool]
) -> None:
    rng = np.random.default_rng(6)
    segment = rng.integers(0, 3, size=200).astype(np.int8)
    segs, cats = np.array(std_segments), np.array(std_cat)
    idx = rng.permutation(800)[:300].astype(np.int64)
    cust, cat = np.divmod(idx, 4)
    want = idx[segs[segment[cust]] & cats[cat]]
    got = in_standard(idx, segment, segs, cats)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype
    assert not np.shares_memory(got, idx)  # a list of its own, as numpy's selection is


def _reference(firm, state, quality_table, read_ok, misfit) -> int:  # type: ignore[no-untyped-def]
    """The complaints handled in numpy (the form the compiled pass replaces)."""
    comp = state.complaint.reshape(-1)
    hit = read_ok[comp[read_ok] == firm.index]
    C = state.need.shape[1]
    comp[hit] = NO_FIRM
    served = hit[state.need.reshape(-1)[hit] == SERVED]
    held = state.held.reshape(-1)[served].astype(np.int64)
    sup = state.supplier.reshape(-1)[served].astype(np.int64)
    q = quality_table[sup, served % C, held]
    state.satisfaction.reshape(-1)[served] = satisfaction_of(
        q, held, state.tier.reshape(-1)[served], misfit
    )
    return int(hit.size)


def test_the_complaints_handled_are_numpys_with_repeated_positions() -> None:
    model = DemandModel("baseline", rng=3, overrides={"run.customers": 3000}).run(30)
    st = model.state
    quality = np.stack([f.quality for f in model.books]).astype(np.float64)
    misfit = model.spec.demand.misfit_satisfaction
    rng = np.random.default_rng(8)
    with_complaint = np.flatnonzero(st.complaint.reshape(-1) >= 0)
    assert with_complaint.size > 10
    # about half of the complaints and other positions, some twice, in order
    pick = rng.random(with_complaint.size) < 0.5
    others = rng.integers(0, st.need.size, size=200)
    read_ok = np.sort(np.concatenate([with_complaint[pick], with_complaint[pick][:5], others]))
    for firm in model.books:
        ours, ref = copy.deepcopy(st), copy.deepcopy(st)
        got = handle_complaints(firm, ours, quality, read_ok, misfit)
        want = _reference(firm, ref, quality, read_ok, misfit)
        assert got == want
        for name in ("complaint", "satisfaction"):
            np.testing.assert_array_equal(getattr(ours, name), getattr(ref, name))
    resolved = [
        handle_complaints(f, copy.deepcopy(st), quality, read_ok, misfit) for f in model.books
    ]
    assert sum(resolved) >= pick.sum()  # the comparison bites: complaints were resolved
