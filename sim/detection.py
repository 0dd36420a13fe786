"""Sensitivity: how fast the focal firm's records reflect what changed (docs/model.md §7.14).

Each change in the truth that the focal firm's standard cares about is an event
with a true step; it is detected when the firm's records first reflect it (a
correct, recorded read at a contact, or a sale of its own). Per event type we
report the share detected within the horizon H — over events at least H steps
old — and the detection lag's median and 90th percentile by the Kaplan–Meier
estimator, so events still undetected at the end count as censored rather than
being dropped (dropping them would flatter an insensitive platform). An event
overwritten by a newer change before it was seen counts as missed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.jit import kernel

EVENT_TYPES = (
    "latent_to_active",
    "upmarket",
    "complement",
    "supplier_failure",
    "competitor_launch",
    "complaint",
)
EV = {name: i for i, name in enumerate(EVENT_TYPES)}


class _Grow:
    """An int64 array indexed by step that grows as the run goes on."""

    def __init__(self, rows: int, size: int = 512) -> None:
        self.a = np.zeros((rows, size), dtype=np.int64)

    def ensure(self, n: int) -> None:
        if n >= self.a.shape[1]:
            new = np.zeros((self.a.shape[0], max(n + 1, 2 * self.a.shape[1])), dtype=np.int64)
            new[:, : self.a.shape[1]] = self.a
            self.a = new


class DetectionTracker:
    """Pending events per (customer, category) and lag statistics per event type."""

    def __init__(self, n: int, n_categories: int, horizon: int) -> None:
        self.horizon = horizon
        K = len(EVENT_TYPES)
        self.pend_type = np.full((n, n_categories), -1, dtype=np.int8)
        self.pend_t = np.zeros((n, n_categories), dtype=np.int32)
        self.events = _Grow(K)  # [type, t_event] -> count
        self.pending = _Grow(K)  # [type, t_event] -> still undetected
        self.within = _Grow(K)  # [type, t_event] -> detected within H
        self.det_lag = _Grow(K)  # [type, lag] -> detected with that lag
        self.cens_lag = _Grow(K)  # [type, duration] -> missed (overwritten) after that long
        #: the step of the first event (None: none yet): no event pending is older
        self.first: int | None = None

    # ------------------------------------------------------------ recording
    def occur(self, kind: int, flat_idx: np.ndarray, now: int) -> None:
        """Events of one type happened now at (customer*C + category) positions."""
        if flat_idx.size == 0:
            return
        if self.first is None:
            self.first = now
        for g in (self.events, self.pending):
            g.ensure(now)
        # an event still pending is overwritten: missed, after at most now - first steps
        self.cens_lag.ensure(now - self.first)
        _occur(
            kind, flat_idx, now, self.pend_type.reshape(-1), self.pend_t.reshape(-1),
            self.cens_lag.a, self.pending.a, self.events.a,
        )  # fmt: skip

    def add_events(self, kind: int, count: int, now: int) -> None:
        for g in (self.events, self.pending):
            g.ensure(now)
            g.a[kind, now] += count

    def detect(self, flat_idx: np.ndarray, now: int) -> None:
        """The records now reflect the truth at these positions."""
        if flat_idx.size == 0 or self.first is None:  # nothing pending
            return
        self.det_lag.ensure(now - self.first)
        for g in (self.pending, self.within):
            g.ensure(now)
        _detect(
            flat_idx, now, self.horizon, self.pend_type.reshape(-1), self.pend_t.reshape(-1),
            self.det_lag.a, self.pending.a, self.within.a,
        )  # fmt: skip

    def record_detection(self, kinds: np.ndarray, t_events: np.ndarray, now: int) -> None:
        lags = now - t_events
        self.det_lag.ensure(int(lags.max(initial=0)))
        for g in (self.pending, self.within):
            g.ensure(now)
        _detection_counts(
            kinds, t_events, lags, self.horizon, self.det_lag.a, self.pending.a, self.within.a
        )

    # ------------------------------------------------------------ statistics
    def _km(self, kinds: list[int], now: int) -> tuple[float, float]:
        """Kaplan–Meier median and p90 of the detection lag over the given types."""
        size = now + 2
        for g in (self.det_lag, self.cens_lag, self.pending):
            g.ensure(size)
        det = self.det_lag.a[kinds, :size].sum(axis=0)
        cens = self.cens_lag.a[kinds, :size].sum(axis=0).copy()
        pend = self.pending.a[kinds, : now + 1].sum(axis=0)  # by event step
        # still pending since t_event: censored at duration now - t_event
        cens[now - np.arange(now + 1)] += pend
        total = det.sum() + cens.sum()
        if total == 0:
            return math.nan, math.nan
        at_risk = total - np.concatenate([[0], np.cumsum(det + cens)[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            hazard = np.where(at_risk > 0, det / np.maximum(at_risk, 1), 0.0)
        surv = np.cumprod(1.0 - hazard)
        med = np.flatnonzero(surv <= 0.5)
        p90 = np.flatnonzero(surv <= 0.1)
        return (float(med[0]) if med.size else math.nan, float(p90[0]) if p90.size else math.nan)

    def lag_medians(self, kind_sets: list[list[int]], now: int) -> list[float]:
        """``lag_median`` for several sets of event types in one compiled pass (the time
        series asks for seven every step, over the whole history so far)."""
        size = now + 2
        for g in (self.det_lag, self.cens_lag, self.pending):
            g.ensure(size)
        pick = np.zeros((len(kind_sets), len(EVENT_TYPES)), dtype=np.bool_)
        for i, kinds in enumerate(kind_sets):
            pick[i, kinds] = True
        out = np.empty(len(kind_sets), dtype=np.float64)
        _km_medians(self.det_lag.a, self.cens_lag.a, self.pending.a, pick, now, out)
        return out.tolist()

    def row_measures(self, now: int) -> tuple[float, list[float]]:
        """What the time series reads at step ``now``, in one compiled pass: the
        detected share of all types (``detected_share``) and the median lags of all
        types and of each type in ``EV`` order (``lag_medians``)."""
        for g in (self.det_lag, self.cens_lag, self.pending):
            g.ensure(now + 2)
        for g in (self.events, self.within):
            g.ensure(now)
        out = np.empty(len(_ROW_SETS) + 1, dtype=np.float64)
        _row_measures(
            self.det_lag.a, self.cens_lag.a, self.pending.a, self.events.a, self.within.a,
            _ROW_SETS, now, self.horizon, out,
        )  # fmt: skip
        share, *lags = out.tolist()
        return share, lags

    def detected_share(self, kinds: list[int], now: int) -> float:
        """Share of events at least H steps old that were detected within H."""
        last = now - self.horizon
        if last < 0:
            return math.nan
        self.events.ensure(now)
        self.within.ensure(now)
        ev = self.events.a[kinds, : last + 1].sum()
        if ev == 0:
            return math.nan
        return float(self.within.a[kinds, : last + 1].sum() / ev)

    def lag_median(self, kinds: list[int], now: int) -> float:
        return self._km(kinds, now)[0]

    def table(self, now: int) -> dict[str, dict[str, Any]]:
        """The sensitivity table: per event type, events, detected share, lags."""
        out: dict[str, dict[str, Any]] = {}
        self.events.ensure(now)
        self.within.ensure(now)
        for name, k in EV.items():
            med, p90 = self._km([k], now)
            last = now - self.horizon
            eligible = int(self.events.a[k, : last + 1].sum()) if last >= 0 else 0
            within = int(self.within.a[k, : last + 1].sum()) if last >= 0 else 0
            out[name] = {
                "events": int(self.events.a[k, : now + 1].sum()),
                "eligible": eligible,
                "detected_within_h": within,
                "detected_share": within / eligible if eligible else math.nan,
                "lag_median": med,
                "lag_p90": p90,
            }
        return out


@kernel
def in_standard(
    flat_idx: np.ndarray,  # positions (customer*C + category)
    segment: np.ndarray,  # (N,) each customer's segment
    std_segments: np.ndarray,  # (S,) bool the standard's segments
    std_cat: np.ndarray,  # (C,) bool the categories with a cell in the standard
) -> np.ndarray:
    """The positions among ``flat_idx`` whose customer's segment and category a firm's
    standard covers, in their order (the events the focal platform should detect).
    A standard that covers every cell keeps all the positions; otherwise the
    customers' segments are loaded first, in a loop of their own without branches, so
    that their cache misses overlap (docs/performance.md, "The detection tracker and
    the complaints")."""
    C = std_cat.size
    n = flat_idx.size
    if std_segments.all() and std_cat.all():
        return flat_idx.copy()
    seg = np.empty(n, dtype=segment.dtype)
    for r in range(n):
        seg[r] = segment[flat_idx[r] // C]
    keep = np.empty(n, dtype=np.bool_)
    for r in range(n):
        keep[r] = std_segments[seg[r]] and std_cat[flat_idx[r] % C]
    return flat_idx[keep]


#: the sets of event types whose median lag the time series reports: all, then each
_ROW_SETS = np.vstack(
    [np.ones(len(EVENT_TYPES), dtype=np.bool_), np.eye(len(EVENT_TYPES), dtype=np.bool_)]
)


@kernel
def _row_measures(
    det_lag: np.ndarray,  # (K, >= now + 2) int64 detections by type and lag
    cens_lag: np.ndarray,  # (K, >= now + 2) int64 missed events by type and duration
    pending: np.ndarray,  # (K, >= now + 1) int64 undetected events by type and step
    events: np.ndarray,  # (K, >= now + 1) int64 events by type and step
    within: np.ndarray,  # (K, >= now + 1) int64 detected within the horizon, by step
    pick: np.ndarray,  # (S, K) bool: the types of each set of the median lags
    now: int,
    horizon: int,
    out: np.ndarray,  # (S + 1,) float64 out: the detected share, then the median lags
) -> None:
    """``detected_share`` of all types and ``lag_medians`` of ``pick``'s sets: the
    same integer counts and the same division, in one call."""
    _km_medians(det_lag, cens_lag, pending, pick, now, out[1:])
    out[0] = np.nan
    last = now - horizon
    if last < 0:
        return
    ev = 0
    got = 0
    for k in range(events.shape[0]):
        for t in range(last + 1):
            ev += events[k, t]
            got += within[k, t]
    if ev != 0:
        out[0] = got / ev


@kernel
def _km_medians(
    det_lag: np.ndarray,  # (K, >= now + 2) int64 detections by type and lag
    cens_lag: np.ndarray,  # (K, >= now + 2) int64 missed events by type and duration
    pending: np.ndarray,  # (K, >= now + 1) int64 undetected events by type and step
    pick: np.ndarray,  # (S, K) bool: the types of each set
    now: int,
    out: np.ndarray,  # (S,) float64 out: each set's Kaplan–Meier median lag (NaN: none)
) -> None:
    """The Kaplan–Meier median detection lag of each set of event types: events still
    pending are censored at their age, the survival is the running product of one
    less the hazard of each lag, the median the first lag where it is at most one
    half. The same operations in the same order as the array version of ``_km``."""
    size = now + 2
    det = np.zeros(size, np.int64)
    cens = np.zeros(size, np.int64)
    for s in range(pick.shape[0]):
        det[:] = 0
        cens[:] = 0
        for k in range(pick.shape[1]):
            if pick[s, k]:
                for d in range(size):
                    det[d] += det_lag[k, d]
                    cens[d] += cens_lag[k, d]
                for t in range(now + 1):  # pending since step t: censored at now - t
                    cens[now - t] += pending[k, t]
        total = det.sum() + cens.sum()
        out[s] = np.nan
        if total == 0:
            continue
        gone = 0
        surv = 1.0
        for d in range(size):
            at_risk = total - gone
            hazard = np.float64(det[d]) / np.float64(at_risk) if at_risk > 0 else 0.0
            surv *= 1.0 - hazard
            if surv <= 0.5:
                out[s] = d
                break
            gone += det[d] + cens[d]


@kernel
def _pending_at(
    flat_idx: np.ndarray,  # positions (customer*C + category)
    pend_type: np.ndarray,  # (N*C,) int8 type pending at each position (-1: none)
    pend_t: np.ndarray,  # (N*C,) int32 its step
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What is pending at the positions, as it is now: the types (n,) int8 (-1: none),
    the entries of the pending ones in order (m,) int64, and their steps (m,) int64.

    The random loads are made in loops of their own without branches, so that their
    cache misses overlap: first the type at every position, then, once the few
    pending entries are listed, their steps (docs/performance.md, "The detection
    tracker and the complaints")."""
    n = flat_idx.size
    was = np.empty(n, dtype=np.int8)
    for r in range(n):
        was[r] = pend_type[flat_idx[r]]
    m = 0
    for r in range(n):
        m += was[r] >= 0
    hit = np.empty(m, dtype=np.int64)
    h = 0
    for r in range(n):
        if was[r] >= 0:  # rare: few positions have an event pending
            hit[h] = r
            h += 1
    ts = np.empty(m, dtype=np.int64)
    for h in range(m):
        ts[h] = pend_t[flat_idx[hit[h]]]
    return was, hit, ts


@kernel
def _occur(
    kind: int,
    flat_idx: np.ndarray,  # positions (customer*C + category) of the events
    now: int,
    pend_type: np.ndarray,  # (N*C,) int8 type pending at each position (-1: none)
    pend_t: np.ndarray,  # (N*C,) int32 its step
    cens_lag: np.ndarray,  # (K, steps) int64 [type, duration] -> missed, added to
    pending: np.ndarray,  # (K, steps) int64 [type, t_event] -> undetected
    events: np.ndarray,  # (K, steps) int64 [type, t_event] -> events
) -> None:
    """``DetectionTracker.occur`` in one call: the events pending at the positions
    (as they were before this call) are missed, then the new ones are pending."""
    was, hit, ts = _pending_at(flat_idx, pend_type, pend_t)
    for h in range(hit.size):
        k = was[hit[h]]
        cens_lag[k, now - ts[h]] += 1
        pending[k, ts[h]] -= 1
    for r in range(flat_idx.size):
        pend_type[flat_idx[r]] = kind
        pend_t[flat_idx[r]] = now
    events[kind, now] += flat_idx.size
    pending[kind, now] += flat_idx.size


@kernel
def _detect(
    flat_idx: np.ndarray,  # positions the records now reflect
    now: int,
    horizon: int,
    pend_type: np.ndarray,  # (N*C,) int8 type pending at each position (-1: none)
    pend_t: np.ndarray,  # (N*C,) int32 its step
    det_lag: np.ndarray,  # (K, steps) int64 [type, lag] -> detected, added to
    pending: np.ndarray,  # [type, t_event] -> undetected, taken from
    within: np.ndarray,  # [type, t_event] -> detected within the horizon, added to
) -> None:
    """``DetectionTracker.detect`` in one call: the events pending at the positions (as
    they were before this call) are detected now, and nothing is pending there (a
    position with nothing pending is left as it is)."""
    was, hit, ts = _pending_at(flat_idx, pend_type, pend_t)
    for h in range(hit.size):
        k, t = was[hit[h]], ts[h]
        det_lag[k, now - t] += 1
        pending[k, t] -= 1
        if now - t <= horizon:
            within[k, t] += 1
        pend_type[flat_idx[hit[h]]] = -1


@kernel
def _detection_counts(
    kinds: np.ndarray,  # int64 event types
    t_events: np.ndarray,  # int64 their steps
    lags: np.ndarray,  # int64 steps until detected
    horizon: int,
    det_lag: np.ndarray,  # (K, steps) int64 [type, lag] -> detected, added to
    pending: np.ndarray,  # [type, t_event] -> undetected, taken from
    within: np.ndarray,  # [type, t_event] -> detected within the horizon, added to
) -> None:
    """Count detected events (``np.add.at`` as one loop: the same integer counts,
    without numpy's per-call cost at a few events a step)."""
    for r in range(kinds.size):
        det_lag[kinds[r], lags[r]] += 1
        pending[kinds[r], t_events[r]] -= 1
        if lags[r] <= horizon:
            within[kinds[r], t_events[r]] += 1
