"""What a platform's contact reads and offers (docs/model.md §7.8, §7.9), one chunk of
contacted customers at a time (``read_chunk``, called by
``sim.platform.platform_kernel``): each contact reads the customer's needs through the
platform's strength (a failed read records nothing, or with the misread rate something
wrong: ``misread``); what was read reaches the records unless the feedback link fails,
keeping the firm's believed counts and contact kinds up to date; then the firm offers
on what its record says (``believed_offer``). ``gather_reads`` puts the chunks' lists
together in chunk order. ``PlatformInputs`` is the one record of what a platform's
kernels read of the platform, the portfolio and the market.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.jit import kernel
from sim.links import band_edge
from sim.records import update_record
from sim.rng import READ_LINK, customer_blocks_into, pair_at
from sim.state import ACTIVE, LATENT


class PlatformInputs(NamedTuple):
    """What ``platform_kernel`` reads of the firm's platform and portfolio and of the
    market (one record, so that a new parameter is one line here and its use)."""

    table: np.ndarray  # (3,) float64 contact probability per kind
    scheduled: bool  # contacts on the records' schedule (personalized), else at random
    strength: float  # chance a read is correct
    misread_rate: float  # chance that a failed read records a wrong value
    feedback: float  # the feedback link's base defect rate
    feedback_cap: float  # contacts per step the feedback link handles (0 = unlimited)
    link_rate: np.ndarray  # (2,) float64 defect rates of the contact links
    offers: np.ndarray  # (C, T) int64 the firm's closest tier to each desired tier, -1 none
    tier_count: np.ndarray  # (C,) int64
    std_cat: np.ndarray  # (C,) bool: categories in the firm's standard
    skip_p: float  # contacts on the records' chains with this probability (-1: drawn)


@njit(inline="always")
def believed_offer(rec_need, rec_tier, offers_c):  # type: ignore[no-untyped-def]
    """The tier a firm offers on what its record of one need says (-1: no offer): a
    believed open need (latent or active), at the firm's closest tier to the believed
    desired one. Records only: a poor read makes a poor offer."""
    if rec_need != LATENT and rec_need != ACTIVE:
        return -1
    return offers_c[rec_tier]


@njit(inline="always")
def misread(need, tier, top, v):  # type: ignore[no-untyped-def]
    """What a failed read records when it records something wrong (``v`` uniform): an
    open need where there is none, or the need at a neighbouring tier."""
    if need != LATENT and need != ACTIVE:
        return LATENT, tier
    if top == 0:  # a single tier: no neighbour to mistake it for
        return need, tier
    if (v < 0.5 and tier > 0) or tier >= top:
        return need, tier - 1
    return need, tier + 1


@kernel
def gather_reads(
    first: np.ndarray,  # (chunks + 1,) contacts before each chunk
    counts: np.ndarray,  # (chunks, 9) see ``read_chunk``
    d_believed: np.ndarray,  # (chunks, C, T) each chunk's change of the believed counts
    read_ok: np.ndarray,  # the chunks' lists, each from C times its first contact on
    offered_at: np.ndarray,
    believed: np.ndarray,  # (C, T) kept up to date
    n_open: np.ndarray,  # (1,) kept up to date
) -> tuple[int, int]:
    """The chunks' lists moved together in chunk order, and their counts added to the
    kept ones. Returns the lengths of the lists."""
    C = d_believed.shape[1]
    n_ok = 0
    n_off = 0
    for k in range(counts.shape[0]):
        at = first[k] * C  # never before n_ok or n_off: a forward copy is safe
        for r in range(counts[k, 0]):
            read_ok[n_ok + r] = read_ok[at + r]
        for r in range(counts[k, 1]):
            offered_at[n_off + r] = offered_at[at + r]
        n_ok += counts[k, 0]
        n_off += counts[k, 1]
        n_open[0] += counts[k, 2]
        believed += d_believed[k]
    return n_ok, n_off


@kernel
def read_chunk(
    who: np.ndarray,  # the chunk's contacted customers
    at: int,  # the chunk's first slot in ``read_ok`` and ``offered_at``
    rk: np.ndarray,
    step_addr: int,
    inputs: PlatformInputs,
    fb: float,  # the feedback link's defect rate at this step's load
    truth: tuple,
    records: tuple,
    kind: np.ndarray,
    believed: np.ndarray,  # (C, T) int64 out: the chunk's change of the believed counts
    now: int,
    offered: np.ndarray,
    read_ok: np.ndarray,  # out: from slot ``at`` on
    offered_at: np.ndarray,  # out: from slot ``at`` on
    counts: np.ndarray,  # (9,) int64 out: read_ok and offered_at written, change of
    # n_open, feedback opportunities and defects, contact links' opportunities and defects
) -> None:
    """The reads, record refreshes and offers of one chunk's contacts (the arguments are
    ``platform_kernel``'s)."""
    need, tier, sup = truth
    rec_need, rec_tier, rec_sup, seen, known, _ = records
    strength, misread_rate, link_rate = inputs.strength, inputs.misread_rate, inputs.link_rate
    offers, tier_count, std_cat = inputs.offers, inputs.tier_count, inputs.std_cat
    C = need.shape[1]
    lo0 = band_edge(0.0, link_rate[0])  # one uniform through both links
    lo1 = band_edge(lo0, link_rate[1])
    wrong = max(1.0 - strength, 1e-12)  # the widths of the bands a uniform is rescaled to
    passed = max(1.0 - fb, 1e-12)
    n_off = 0
    n_ok = 0
    n_read = 0
    n_lost = 0
    opp0 = 0
    def0 = 0
    opp1 = 0
    def1 = 0
    d_open = 0
    # the chunk's own counts, written out once: counts of neighbouring chunks share
    # cache lines, and threads writing them in turn would pass the lines to and fro
    d_believed = np.zeros_like(believed)
    # the pair of category c is half of block c // 2 (one block for two categories);
    # the chunk's blocks drawn first, two a Philox call
    nb = (C + 1) >> 1
    pairs = np.empty(4 * nb * who.size, np.float64)
    customer_blocks_into(rk, step_addr, READ_LINK, who, nb, pairs)
    for r in range(who.size):
        i = np.int64(who[r])  # type: ignore[assignment]
        for c in range(C):
            x, _ = pair_at(pairs, r * nb + (c >> 1), c)
            # the read: correct below strength; above it, wrong in the misread band
            correct = x < strength
            if correct:
                v = x / strength
            else:
                v = (x - strength) / wrong
                if v >= misread_rate:
                    continue  # nothing recorded
                v = v / misread_rate
            n_read += 1
            if v < fb:  # the finding does not reach the records
                n_lost += 1
                continue
            new_need, new_tier = need[i, c], tier[i, c]
            if correct:
                read_ok[at + n_ok] = i * C + c
                n_ok += 1
                s = sup[i, c]
                if rec_sup[i, c] != s:  # written only if it changes: a clean line stays clean
                    rec_sup[i, c] = s
            else:
                w = (v - fb) / passed  # uniform again, past the feedback band
                new_need, new_tier = misread(new_need, new_tier, tier_count[c] - 1, w)
            update_record(i, c, new_need, new_tier, rec_need, rec_tier, d_believed)
        seen[i] = now
        if not known[i]:
            known[i] = True
        # the offers, and the customer's kind as the reads left it: a contacted customer
        # is covered (kinds 1-2 only are contacted), so ``kind_of`` is 1 + an open need
        # in the standard, without reading the coverage
        k2 = False
        for c in range(C):
            b = rec_need[i, c]
            k2 |= std_cat[c] & ((b == LATENT) | (b == ACTIVE))
            t = believed_offer(b, rec_tier[i, c], offers[c])
            if t < 0:
                continue
            _, ul = pair_at(pairs, r * nb + (c >> 1), c)
            opp0 += 1
            if ul < lo0:
                def0 += 1
                continue
            opp1 += 1
            if ul < lo1:
                def1 += 1
                continue
            offered[i, c] = t
            offered_at[at + n_off] = i * C + c
            n_off += 1
        k = np.uint8(1 + k2)
        was = kind[i]
        if k != was:
            d_open += int(k == 2) - int(was == 2)
            kind[i] = k
    counts[0] = n_ok
    counts[1] = n_off
    counts[2] = d_open
    counts[3] = n_read
    counts[4] = n_lost
    counts[5] = opp0
    counts[6] = def0
    counts[7] = opp1
    counts[8] = def1
    for c in range(C):  # element by element: numba compiles an array-to-slice copy
        for t in range(believed.shape[1]):  # with seconds of error-message formatting
            believed[c, t] = d_believed[c, t]
