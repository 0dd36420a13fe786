"""The picks of the choice's active needs (docs/model.md §7.9), stage by stage, and
the records they read and fill: the active needs found from the bits of the need
states (``_count_active``, ``_list_active``); in each chunk of customers, the listing
and each customer's neighbour (``_talk``), each need's choice block and what the pick
reads of it (``_gather``), its exposure (in a step longer than a week, in the step's
first week: ``first_week``) and its logit pick (``_choose``). ``sim.choice_kernels``
runs the chunks in parallel and books the sales.
"""

from __future__ import annotations

import math
import sys
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.rng import CHOICE, DECISION_WEEK, NEIGHBOUR, blocks_into, uniform
from sim.state import ACTIVE, SERVED


class ChoiceTables(NamedTuple):
    """The firms' portfolios and sale links as the choice reads them, stacked by firm."""

    offers: np.ndarray  # (F, C, T) int64 each firm's closest tier per desired tier, -1 none
    quality: np.ndarray  # (F, C, T) float64 product quality per cell
    price: np.ndarray  # (F, C, T) float64 product price per cell
    link_rate: np.ndarray  # (F, 5) float64 defect rates of the sale and after-sale links
    link_cap: np.ndarray  # (F, 3) float64 orders per step fulfilment, delivery, use handle (0: all)


class ChoiceParams(NamedTuple):
    """The choice's scalar parameters, as its kernels read them (one record, so that a
    new parameter is one line here and its use)."""

    q: float  # word of mouth's chance over the step
    q_week: float  # word of mouth's chance per week
    weeks: float  # weeks per step
    fit: float  # utility lost per tier of misfit
    w_quality: float  # utility per unit of quality
    loyalty: float  # utility of the incumbent
    penalty: float  # utility lost to a neighbour's unresolved complaint
    outside: float  # utility of buying nothing
    misfit: float  # satisfaction lost per tier of misfit
    complaint_keep: float  # share of satisfaction kept on a complaint


class Scratch(NamedTuple):
    """The pick pass's work arrays, allocated once a step: a chunk uses the slots of
    its own active needs (from its first slot on) and its own row."""

    act: np.ndarray  # (na,) int64 the active needs' flat positions, then their category
    who: np.ndarray  # (na,) int64 their customers (first once each, then one a need)
    zero: np.ndarray  # (na,) int64 zeros: the neighbour's draw is block 0
    draws: np.ndarray  # (4 na,) float64 each need's choice block
    near: np.ndarray  # (4 na,) float64 each customer's neighbour block
    nbr: np.ndarray  # (na,) int64 each customer's slot in the network, then its neighbour
    nb_sup: np.ndarray  # (na,) int8 the firm serving the neighbour's cell, then the
    # firm heard of by word of mouth, -1 none
    nb_bad: np.ndarray  # (na,) int8 the firm of the neighbour's unresolved complaint, -1
    desired: np.ndarray  # (na,) int8 each need's desired tier
    incumbent: np.ndarray  # (na,) int8 its supplier
    segment: np.ndarray  # (na,) int8 its customer's segment
    shown: np.ndarray  # (F na,) int8 the tier each firm's offer shows it, -1 none
    util: np.ndarray  # (chunks, F + 1) float64 the utilities, then cumulative weights
    what: np.ndarray  # (chunks, 2F) int64 the tier each firm shows; its week
    exposed: np.ndarray  # (chunks, F) bool
    base: np.ndarray  # (S, F, C, T, T) float64 ``_base_utility``
    heard: np.ndarray  # (F, 3) float64 word of mouth's bound on a need's uniform, by the
    # firm and its contact kind: q / (1 - the contact probability)


class Picks(NamedTuple):
    """The picks of a step's active needs, each chunk's from its first slot on."""

    pos: np.ndarray  # (na,) int64 flat position
    firm: np.ndarray  # (na,) int64 firm chosen
    tier: np.ndarray  # (na,) int64 tier chosen
    loyal: np.ndarray  # (na,) bool from the incumbent
    u: np.ndarray  # (na,) float64 the uniform of the sale links


#: eight ACTIVE need states as one word, and the low seven bits of each byte
_ACTIVE_8 = np.uint64(0x0101010101010101 * ACTIVE)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)


@njit(inline="always")
def _active_bytes(word):  # type: ignore[no-untyped-def]
    """0x80 in each byte of ``word`` (eight need states) that is ACTIVE, 0 in the others:
    the zero bytes of ``word ^ _ACTIVE_8``, found without a carry between bytes."""
    x = word ^ _ACTIVE_8
    return ~(((x & _LOW7) + _LOW7) | x | _LOW7)


@njit(inline="always")
def _count_active(nf, start, end):  # type: ignore[no-untyped-def]
    """The active needs among flat positions start..end-1 (``start`` a multiple of 8),
    eight a word."""
    whole = start + (end - start) // 8 * 8
    words = nf[start:whole].view(np.uint64)
    na = 0
    for w in range(words.size):
        s = _active_bytes(words[w]) >> np.uint64(7)  # a byte's bit at its bottom
        s += s >> np.uint64(8)  # the bytes' bits added into the lowest byte
        s += s >> np.uint64(16)
        s += s >> np.uint64(32)
        na += np.int64(s & np.uint64(0xFF))
    for j in range(whole, end):
        na += nf[j] == ACTIVE
    return na


#: the byte k (0..7) of a word's lowest 0x80 bit, by the bit's residue: the bit of
#: byte k is 2^(8k+7), and 2^(8k) mod 37 differs for each k (a remainder by a
#: constant, and no product that overflows, which plain Python would warn of). Byte k
#: of a word is the need at position 8w + k on a little-endian machine only (on a
#: big-endian one the bytes are visited one by one)
_BYTE_OF = np.full(37, -1, dtype=np.int64)
_BYTE_OF[[pow(2, 8 * k, 37) for k in range(8)]] = np.arange(8)
_LITTLE_ENDIAN = sys.byteorder == "little"


@njit(inline="always")
def _list_active(nf, start, end, act):  # type: ignore[no-untyped-def]
    """The flat positions of the active needs among start..end-1 (``start`` a
    multiple of 8) into ``act``, in order; returns their number. Eight need states a
    word: a word with none is skipped (most are), and in the others only the active
    bytes are visited, lowest first (the lowest set bit, then that bit cleared)."""
    whole = start + (end - start) // 8 * 8
    words = nf[start:whole].view(np.uint64)
    r = 0
    for w in range(words.size):
        m = _active_bytes(words[w])
        at = start + 8 * w
        if not _LITTLE_ENDIAN:
            for j in range(at, at + 8 if m != np.uint64(0) else at):
                if nf[j] == ACTIVE:
                    act[r] = j
                    r += 1
            continue
        while m != np.uint64(0):
            low = m & (~m + np.uint64(1))
            act[r] = at + _BYTE_OF[np.int64((low >> np.uint64(7)) % np.uint64(37))]
            r += 1
            m ^= low
    for j in range(whole, end):
        if nf[j] == ACTIVE:
            act[r] = j
            r += 1
    return r


@njit(inline="always")
def first_week(exposed, week, incumbent, wom, kind, weekly, q_week, rk, step_addr, i, c, weeks):  # type: ignore[no-untyped-def]
    """A step longer than a week: the customer decides in the first week in which it
    meets a firm, among the firms it meets that week, as it would week by week. It
    meets its incumbent every week. A firm that reaches it by contact (chance
    ``weekly[f, kind[f]]`` a week) or by word of mouth (``q_week``) does so first in
    week w of the step with the chance that w is the first of the step's weeks it
    happens in (a geometric law cut at the step's end). Keeps ``exposed`` only for
    the firms of the first week (``week``: (F,) scratch)."""
    F = exposed.size
    last = math.ceil(weeks) - 1
    first = last
    for f in range(F):
        week[f] = 0
        if exposed[f] and incumbent != f:
            p = q_week if wom == f else weekly[f, kind[f]]
            u = uniform(rk, step_addr, i, DECISION_WEEK, c * F + f)
            if p < 1.0:
                # inverse of P(first <= t) = (1 - (1 - p)^t) / (1 - (1 - p)^weeks)
                lq = math.log1p(-p) if p > 0.0 else -1e-300
                t = math.log1p(u * math.expm1(weeks * lq)) / lq
                week[f] = min(np.int64(t), last)
        if exposed[f]:
            first = min(first, week[f])
    for f in range(F):
        exposed[f] = exposed[f] and week[f] == first


@njit(inline="always")
def _talk(lo, hi, na, at, truth, complaints, network, rk, step_addr, work):  # type: ignore[no-untyped-def]
    """The first stage of a chunk's picks: its active needs listed (customers lo..hi-1,
    into the slots from ``at``), the neighbour each of their customers talks to, and
    what that neighbour's cell holds (``work.nb_sup``, ``work.nb_bad``)."""
    need = truth[0]
    complaint, _, _, unresolved = complaints
    indptr, indices, nb_need, nb_supplier = network
    n, C = need.shape
    mean_field = indptr.size == 0
    end = at + na
    act, who = work.act[at:end], work.who[at:end]
    nb_sup, nb_bad = work.nb_sup[at:end], work.nb_bad[at:end]
    # the active needs' positions, in order
    _list_active(need.reshape(-1), lo * C, hi * C, act)
    # the customers with an active need, once each, and their neighbour's uniform, two
    # Philox counters a call
    m = 0
    last = -1
    for r in range(na):
        i = act[r] // C
        who[m] = i
        m += i != last
        last = i
    near = work.near[4 * at : 4 * end]
    blocks_into(rk, step_addr, NEIGHBOUR, who[:m], work.zero[at : at + m], near)
    # the neighbour each of them talks to: first the slot of its row in the network
    # (a stream through ``indptr``), then the neighbour in that slot, in a loop of
    # nothing but independent loads, whose cache misses (a slot a customer, tens of
    # bytes apart) overlap instead of queueing one by one behind the loop's branches
    nb = work.nbr[at : at + m]
    for q in range(m):
        i = who[q]
        u = near[4 * q]
        if mean_field:
            nb[q] = min(np.int64(u * n), n - 1)
        else:
            start = indptr[i]
            deg = indptr[i + 1] - start
            nb[q] = start + min(np.int64(u * deg), deg - 1) if deg > 0 else -1
    if not mean_field:
        top = indices.size - 1
        for q in range(m):
            kk = nb[q]
            nb[q] = np.int64(indices[min(max(kk, 0), top)]) if kk >= 0 else -1
    # then what the neighbour's cell holds, need by need
    nbr = -1
    m = -1
    last = -1
    for r in range(na):
        j = act[r]
        i = j // C
        c = j - i * C
        if i != last:  # one neighbour per customer and step
            last = i
            m += 1
            nbr = nb[m]
        bb = max(nbr, 0)
        x = nb_need[bb, c]
        y = nb_supplier[bb, c]
        z = unresolved[bb, c]
        w = complaint[bb, c]
        ok = nbr >= 0
        nb_sup[r] = y if (ok and x == SERVED) else -1
        nb_bad[r] = w if (ok and z) else -1


@njit(inline="always")
def _gather(na, at, truth, complaints, rk, step_addr, ex, work):  # type: ignore[no-untyped-def]
    """The second stage: each active need's choice block, and what the picks read of
    it, gathered in a loop of independent loads, whose cache misses overlap (in the
    pick loop its branches would queue them); whether word of mouth is heard."""
    _, tier, sup, _, _, _ = truth
    segment = complaints[2]
    contacted, offered, kinds = ex.contacted, ex.offered, ex.kind
    C = tier.shape[1]
    F = offered.shape[0]
    end = at + na
    act, who, nb_sup = work.act[at:end], work.who[at:end], work.nb_sup[at:end]
    # each active need's choice block, two Philox counters a call (the customer, and
    # the category as the block)
    for r in range(na):
        i = act[r] // C
        who[r] = i
        act[r] = act[r] - i * C  # the category, for the moment
    draws = work.draws[4 * at : 4 * end]
    blocks_into(rk, step_addr, CHOICE, who, act, draws)
    desired_, incumbent_, segment_ = (
        work.desired[at:end],
        work.incumbent[at:end],
        work.segment[at:end],
    )
    shown = work.shown[F * at : F * end]
    bound = work.heard
    for r in range(na):
        i = who[r]
        c = act[r]
        desired_[r] = tier[i, c]
        incumbent_[r] = sup[i, c]
        segment_[r] = segment[i]
        for f in range(F):
            shown[r * F + f] = offered[f, i, c]
        # word of mouth: the firm serving the neighbour, if it did not contact this
        # customer, with probability q / (1 - its contact probability)
        ns_ = nb_sup[r]
        b = max(ns_, 0)
        heard = (ns_ >= 0) & (not contacted[b, i]) & (draws[4 * r] < bound[b, kinds[b, i]])
        nb_sup[r] = ns_ if heard else -1


@njit(inline="always")
def _choose(k, na, at, rk, step_addr, tb, ex, params, picks, work):  # type: ignore[no-untyped-def]
    """The last stage: each active need's exposure and logit pick, from slot ``at``
    on. Returns the number of picks."""
    offers = tb.offers
    kinds, weekly = ex.kind, ex.weekly
    q_week, weeks = params.q_week, params.weeks
    loyalty, penalty, outside = params.loyalty, params.penalty, params.outside
    pos, pick, pick_tier, pick_loyal = picks.pos, picks.firm, picks.tier, picks.loyal
    pick_u = picks.u
    C = offers.shape[1]
    F = offers.shape[0]
    end = at + na
    act, who = work.act[at:end], work.who[at:end]
    nb_sup, nb_bad = work.nb_sup[at:end], work.nb_bad[at:end]
    draws = work.draws[4 * at : 4 * end]
    desired_, incumbent_, segment_ = (
        work.desired[at:end],
        work.incumbent[at:end],
        work.segment[at:end],
    )
    shown = work.shown[F * at : F * end]
    base = work.base
    util, exposed = work.util[k], work.exposed[k]
    what = work.what[k, :F]  # the tier each firm puts before the customer
    week = work.what[k, F:]  # the week of a long step a firm reaches the customer
    n_pick = 0
    for r in range(na):
        i = who[r]
        c = act[r]
        j = i * C + c
        desired = desired_[r]
        incumbent = incumbent_[r]
        wom = nb_sup[r]
        nbad = nb_bad[r]
        uc, us = draws[4 * r + 1], draws[4 * r + 2]
        any_e = False
        for f in range(F):
            # a customer who meets its incumbent or hears of a firm asks for what it
            # wants (the firm's closest tier); a contact brings the tier the firm
            # offered on what its records say
            if (incumbent == f or wom == f) and offers[f, c, desired] >= 0:
                what[f] = offers[f, c, desired]
            else:
                what[f] = shown[r * F + f]
            e = what[f] >= 0
            exposed[f] = e
            any_e |= e
        if not any_e:
            continue
        if weeks > 1.0:
            first_week(
                exposed,
                week,
                incumbent,
                wom,
                kinds[:, i],
                weekly,
                q_week,
                rk,
                step_addr,
                i,
                c,
                weeks,
            )
        top = outside
        bs = base[segment_[r]]
        for f in range(F):
            if exposed[f]:
                v = bs[f, c, what[f], desired]
                v = v + loyalty * (1.0 if incumbent == f else 0.0)
                v = v - penalty * (1.0 if nbad == f else 0.0)
                util[f] = v
                top = max(top, v)
        util[F] = outside
        cum = 0.0
        for f in range(F + 1):
            if f == F or exposed[f]:
                x = util[f] - top
                cum += 1.0 if x == 0.0 else math.exp(x)
            util[f] = cum  # cumulative weights, in place (exp(-inf) = 0 adds nothing)
        kf = 0
        for f in range(F + 1):
            kf += uc > util[f] / cum
        kf = min(kf, F)
        if kf < F:
            pos[at + n_pick] = j
            pick[at + n_pick] = kf
            pick_tier[at + n_pick] = what[kf]
            pick_loyal[at + n_pick] = incumbent == kf
            pick_u[at + n_pick] = us
            n_pick += 1
    return n_pick
