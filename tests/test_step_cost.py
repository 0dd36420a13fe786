"""The cheaper forms of a step's small-array work give the numbers of the forms they
replace, bit for bit (the goldens of ``test_determinism`` check whole runs; these check
each replacement where it can differ)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import DemandModel
from sim.detection import EV, EVENT_TYPES, DetectionTracker, in_standard
from sim.records import record_sales
from sim.sales import _told
from sim.strategy import binomials


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.97, 1.0])
def test_binomials_are_numpys_array_draw_and_leave_the_stream_where_it_leaves_it(
    p: float,
) -> None:
    # counts small and large: both of numpy's samplers (inversion and BTPE), and zeros
    n = np.random.default_rng(7).integers(0, 3000, size=(40, 3))
    n[::5, 1] = 0
    n[1::7, 2] = np.arange(n[1::7, 2].size)
    ours, numpys = np.random.default_rng(11), np.random.default_rng(11)
    got = binomials(ours, n.ravel().tolist(), p)
    want = numpys.binomial(n, p)
    assert got == want.ravel().tolist()
    assert ours.random() == numpys.random()


@pytest.mark.parametrize("steps", [1, 3, 40])
def test_the_rows_detection_measures_are_those_of_the_trackers_own_statistics(
    steps: int,
) -> None:
    model = DemandModel("baseline", rng=5, overrides={"run.customers": 1500}).run(steps)
    tr, now = model.tracker, model.t
    all_k = list(range(len(EVENT_TYPES)))
    share, lags = tr.row_measures(now)
    # NaN where there is nothing to measure yet, in both
    np.testing.assert_array_equal(lags, tr.lag_medians([all_k] + [[k] for k in EV.values()], now))
    np.testing.assert_array_equal(share, tr.detected_share(all_k, now))
    assert (now >= tr.horizon) == (not math.isnan(share))  # a share once H steps are old
    if steps == 40:  # lags are measured by then: the comparison bites
        assert not all(math.isnan(x) for x in lags)


def _reference_occur(tr: DetectionTracker, kind: int, idx: np.ndarray, now: int) -> None:
    """The tracker's bookkeeping of events in numpy (the form its kernels replace)."""
    pt, ptt = tr.pend_type.reshape(-1), tr.pend_t.reshape(-1)
    old = idx[pt[idx] >= 0]
    np.add.at(tr.cens_lag.a, (pt[old].astype(np.int64), now - ptt[old].astype(np.int64)), 1)
    np.add.at(tr.pending.a, (pt[old].astype(np.int64), ptt[old].astype(np.int64)), -1)
    pt[idx], ptt[idx] = kind, now
    tr.events.a[kind, now] += idx.size
    tr.pending.a[kind, now] += idx.size


def _reference_detect(tr: DetectionTracker, idx: np.ndarray, now: int) -> None:
    pt, ptt = tr.pend_type.reshape(-1), tr.pend_t.reshape(-1)
    hit = idx[pt[idx] >= 0]
    kinds, t_ev = pt[hit].astype(np.int64), ptt[hit].astype(np.int64)
    np.add.at(tr.det_lag.a, (kinds, now - t_ev), 1)
    np.add.at(tr.pending.a, (kinds, t_ev), -1)
    ok = now - t_ev <= tr.horizon
    np.add.at(tr.within.a, (kinds[ok], t_ev[ok]), 1)
    pt[hit] = -1


def test_the_trackers_compiled_bookkeeping_is_numpys_with_overwrites_and_repeats() -> None:
    rng = np.random.default_rng(3)
    ours, ref = DetectionTracker(50, 3, 4), DetectionTracker(50, 3, 4)
    for now in range(1, 120):
        for _ in range(2):
            # positions drawn with repeats, among few, so that events overwrite others
            idx = rng.integers(0, 150, size=int(rng.integers(0, 12)))
            kind = int(rng.integers(0, len(EVENT_TYPES)))
            if rng.random() < 0.5:
                ours.occur(kind, idx, now)
                _reference_occur(ref, kind, idx, now)
            else:
                ours.detect(idx, now)
                _reference_detect(ref, idx, now)
    assert int(ref.cens_lag.a.sum()) > 20 and int(ref.within.a.sum()) > 20
    assert int(ref.det_lag.a[:, 5:].sum()) > 0  # some detected after the horizon
    for name in ("pend_type", "pend_t"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(ref, name))
    for name in ("events", "pending", "within", "det_lag", "cens_lag"):
        a, b = getattr(ours, name).a, getattr(ref, name).a
        np.testing.assert_array_equal(a[:, : b.shape[1]], b)
        assert not a[:, b.shape[1] :].any()


def test_in_standard_keeps_the_positions_of_the_standards_segments_and_categories() -> None:
    rng = np.random.default_rng(4)
    segment = rng.integers(0, 3, size=200).astype(np.int8)
    std_segments, std_cat = np.array([True, False, True]), np.array([False, True, True, True])
    idx = rng.permutation(800)[:300].astype(np.int64)
    cust, cat = np.divmod(idx, 4)
    want = idx[std_segments[segment[cust]] & std_cat[cat]]
    got = in_standard(idx, segment, std_segments, std_cat)
    assert 0 < want.size < idx.size
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype


def test_the_workspaces_offers_follow_every_portfolio_change() -> None:
    model = DemandModel("baseline", rng=2, overrides={"run.customers": 300})
    firms, work = model.books, model.work
    first = work.offers(firms)
    np.testing.assert_array_equal(first, np.stack([f.offers for f in firms]))
    assert work.offers(firms) is first  # kept while no portfolio changes
    c, k = np.argwhere(~firms[1].has)[0]  # a cell the competitor does not sell
    firms[1].add_product(int(c), int(k), -1.0, -1.0, model.t)
    again = work.offers(firms)
    np.testing.assert_array_equal(again, np.stack([f.offers for f in firms]))
    assert not np.array_equal(again, first)
    firms[1].retire_product(int(c), int(k))
    np.testing.assert_array_equal(work.offers(firms), first)


def test_the_sales_that_tell_the_firm_and_raise_complaints_are_numpys_selections() -> None:
    model = DemandModel("baseline", rng=6, overrides={"run.customers": 300}).run(3)
    st, firm, now = model.state, model.books[1], 9
    rng = np.random.default_rng(6)
    n_flat = st.tier.size
    st.complaint[:] = rng.integers(-1, 2, size=st.complaint.shape)
    st.complaint_t[:] = rng.integers(7, 10, size=st.complaint_t.shape)
    idx = rng.permutation(n_flat)[:200].astype(np.int64)
    tier = rng.integers(0, 3, size=idx.size).astype(np.int64)
    desired, complaint = st.tier.reshape(-1), st.complaint.reshape(-1)
    want_w = idx[desired[idx] == tier]
    want_c = idx[complaint[idx] == firm.index]
    want_c = want_c[st.complaint_t.reshape(-1)[want_c] == now]
    wanted, raised = _told(
        idx, tier, desired, complaint, st.complaint_t.reshape(-1), firm.index, now
    )
    record_sales(firm, idx, tier, model.market)
    assert 0 < want_c.size < idx.size and 0 < want_w.size < idx.size
    np.testing.assert_array_equal(wanted, want_w)
    np.testing.assert_array_equal(raised, want_c)
    # and the records show what was sold
    assert firm.records is not None
    C = model.market.n_categories
    np.testing.assert_array_equal(firm.records.tier[idx // C, idx % C], tier)
    np.testing.assert_array_equal(firm.records.supplier[idx // C, idx % C], firm.index)


def test_the_exposure_record_is_kept_while_the_sizes_stay() -> None:
    work = DemandModel("baseline", rng=2, overrides={"run.customers": 300}).work
    first = work.exposure(300, 2, 2)
    assert work.exposure(300, 2, 2) is first
    other = work.exposure(301, 2, 2)
    assert other.contacted.shape == (2, 301) and other.offered.shape == (2, 301, 2)
    assert first.contacted.shape == (2, 300)
