"""Complaints (docs/model.md §7.6, §7.9): an after-sale defect raises a complaint about the firm that
sold; the firm resolves it when its records pick it up (a contact whose read reached
the records), late ones too. A complaint left unresolved past the firm's window
escalates — it raises the customer's churn hazard and spreads negative word of mouth
— and lapses after the firm's complaint duration.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from sim.firms import FirmBook
from sim.jit import CHUNK, chunks, kernel, parallel_kernel
from sim.state import NO_FIRM, SERVED, CustomerState
from sim.state import satisfaction as satisfaction_one
from sim.workspace import Workspace


def unresolved_pair(
    state: CustomerState, firms: list[FirmBook], now: int, work: Workspace
) -> tuple[np.ndarray, np.ndarray]:
    """(unresolved, unresolved and about the current supplier), both (N, C) bool;
    clears complaints that have lapsed."""
    out = work.array("unresolved", state.need.shape, np.bool_)
    at_supplier = work.array("at_supplier", state.need.shape, np.bool_)
    _unresolved_kernel(
        state.complaint,
        state.complaint_t,
        state.supplier,
        np.array([f.clock.steps(f.spec.complaint_window_weeks) for f in firms], dtype=np.int64),
        np.array(
            [f.clock.steps(f.spec.complaint_duration_weeks, 1) for f in firms], dtype=np.int64
        ),
        now,
        out,
        at_supplier,
    )
    return out, at_supplier


def handle_complaints(
    firm: FirmBook,
    state: CustomerState,
    quality_table: np.ndarray,
    read_ok: np.ndarray,
    misfit: float,
) -> int:
    """Resolve the complaints about ``firm`` that its contacts picked up this step (a
    complaint is a fact a successful read reveals: ``read_ok`` holds the flat positions
    whose read reached the records); a served customer's satisfaction returns to what
    its product gives. Returns the number resolved."""
    if read_ok.size == 0:
        return 0
    return int(
        _resolve(
            read_ok, firm.index, state.complaint.reshape(-1), state.need.reshape(-1),
            state.held.reshape(-1), state.supplier.reshape(-1), state.tier.reshape(-1),
            quality_table, misfit, state.satisfaction.reshape(-1),
        )
    )  # fmt: skip


@kernel
def _resolve(
    read_ok: np.ndarray,  # flat positions (customer*C + category) whose read reached the records
    firm: int,
    complaint: np.ndarray,  # (N*C,) int8 firm complained about, -1 none; resolved ones cleared
    need: np.ndarray,  # (N*C,) int8
    held: np.ndarray,  # (N*C,) int8
    supplier: np.ndarray,  # (N*C,) int8
    desired: np.ndarray,  # (N*C,) int8 the tier each customer wants
    quality_table: np.ndarray,  # (F, C, T) float64
    misfit: float,
    satisfaction: np.ndarray,  # (N*C,) float32, the served customers' rewritten
) -> int:
    """``handle_complaints`` in one call: the complaint slots of all the positions are
    loaded first, in a loop without branches (the cache misses overlap), then the few
    about ``firm`` are cleared, in order, and a served customer's satisfaction set to
    what its product gives. Returns the number resolved."""
    n = read_ok.size
    C = quality_table.shape[1]
    about = np.empty(n, dtype=np.int8)
    for r in range(n):
        about[r] = complaint[read_ok[r]]
    hits = 0
    for r in range(n):
        if about[r] == firm:
            hits += 1
            j = read_ok[r]
            complaint[j] = NO_FIRM
            if need[j] == SERVED:
                h = np.int64(held[j])
                q = quality_table[np.int64(supplier[j]), j % C, h]
                satisfaction[j] = satisfaction_one(q, h, desired[j], misfit)
    return hits


@parallel_kernel
def _unresolved_kernel(
    complaint: np.ndarray,  # (N, C) int8 firm complained about, -1 none; expired ones cleared
    complaint_t: np.ndarray,  # (N, C) int32
    supplier: np.ndarray,  # (N, C) int8
    window: np.ndarray,  # (F,) int64 steps a firm has to pick a complaint up
    duration: np.ndarray,  # (F,) int64 steps an escalated complaint lasts
    now: int,
    out: np.ndarray,  # (N, C) bool: unresolved
    at_supplier: np.ndarray,  # (N, C) bool: ... about the current supplier
) -> None:
    """Unresolved complaints and those about the current supplier, in one pass over
    chunks of customers run in parallel; complaints past their window and duration
    are cleared."""
    n = complaint.shape[0]
    for k in prange(chunks(n)):
        lo = k * CHUNK
        _unresolved_chunk(
            lo, min(lo + CHUNK, n), complaint, complaint_t, supplier, window, duration, now,
            out, at_supplier,
        )  # fmt: skip


@kernel
def _unresolved_chunk(
    lo: int,  # the chunk's customers: lo..hi-1
    hi: int,
    complaint: np.ndarray,
    complaint_t: np.ndarray,
    supplier: np.ndarray,
    window: np.ndarray,
    duration: np.ndarray,
    now: int,
    out: np.ndarray,
    at_supplier: np.ndarray,
) -> None:
    """``_unresolved_kernel`` for one chunk of customers (its rows only)."""
    C = complaint.shape[1]
    cf = complaint.reshape(-1)
    tf = complaint_t.reshape(-1)
    sf = supplier.reshape(-1)
    of = out.reshape(-1)
    af = at_supplier.reshape(-1)
    start, end = lo * C, hi * C
    of[start:end] = False  # cleared in one sweep, then the rare complaints set
    af[start:end] = False
    # the chunk's complaints read eight at a time: a word of eight "none" (-1) bytes
    # is all ones, and most words are; then the bytes after the last whole word
    whole = start + (end - start) // 8 * 8
    words = cf[start:whole].view(np.uint64)
    for w in range(words.size + 1):
        if w < words.size:
            if words[w] == _NO_COMPLAINT_8:
                continue
            first, last = start + 8 * w, start + 8 * w + 8
        else:
            first, last = whole, end
        for j in range(first, last):
            f = cf[j]
            if f >= 0:  # rare: complaints are few
                age = now - np.int64(tf[j])
                if age > window[f] + duration[f]:
                    cf[j] = -1
                elif age > window[f]:
                    of[j] = True
                    af[j] = f == sf[j]


#: eight complaint slots that hold no complaint (-1), read as one word
_NO_COMPLAINT_8 = np.uint64(0xFFFFFFFFFFFFFFFF)
