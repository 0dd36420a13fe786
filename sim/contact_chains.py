"""The event engine's homogeneous contacts (docs/model.md §7.8): each customer's chain
of candidate steps on its firm's ``platform:<firm>`` stream, the next candidate a
geometric skip from the last (``sim.rng.next_candidate``) drawn from the customer's
own contact-skip uniform at the candidate's step; a candidate contacts the customer
if it is covered then (thinning), and every due chain moves on, covered or not. The
chains are kept on the firm's ``Records`` (``chain``, ``chain_p``) and drawn again from
the step of a change when the contact probability changes (the geometric law has no
memory). ``sim.platform`` calls them; personalized platforms keep their schedule.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from sim.firms import Records
from sim.jit import CHUNK, chunks, kernel, parallel_kernel
from sim.rng import CONTACT_SKIP, address, customer_blocks_into, next_candidate, uniform

#: the chain argument of ``sim.platform.platform_kernel`` when contacts are drawn, not
#: chained
NO_CHAIN = np.empty(0, dtype=np.int32)


def contact_chain(rec: Records, p: float, key: np.ndarray, t: int) -> np.ndarray:
    """The records' contact chains (the event engine's homogeneous contacts) for the
    contact probability ``p`` per step: drawn from step ``t`` (each customer's first
    candidate a geometric skip from ``t``, drawn at ``t``'s address) when there are none
    yet or they were drawn for another probability. A platform step passes the step
    before it: the first of the market's history draws them at the history's start, the
    first after a decision (``set_platform``) at the step the decision was taken."""
    if rec.chain is None or rec.chain_p != p:
        if rec.chain is None:
            rec.chain = np.empty(rec.covered.size, dtype=np.int32)
        draw_chains(rec.chain, key, address(t), t, p)
        rec.chain_p = p
    return rec.chain


@parallel_kernel
def draw_chains(chain: np.ndarray, rk: np.ndarray, step_addr: int, t: int, p: float) -> None:
    """Every customer's next candidate step as if step ``t`` (address ``step_addr``)
    were a candidate of each (``next_candidate`` of the customer's skip uniform at
    ``t``), into ``chain`` (N,) int32."""
    n = chain.size
    lq = math.log1p(-p) if 0.0 < p < 1.0 else 0.0
    for k in prange(chunks(n)):
        lo = k * CHUNK
        for i in range(lo, min(lo + CHUNK, n)):
            chain[i] = next_candidate(t, uniform(rk, step_addr, i, CONTACT_SKIP, 0), p, lq)


@kernel
def skip_chunk(
    lo: int,  # the chunk's customers: lo..hi-1
    hi: int,
    kind: np.ndarray,
    chain: np.ndarray,  # (N,) int32 each customer's next candidate step, moved on here
    p: float,  # the contact probability per step
    lq: float,  # log(1 - p)
    rk: np.ndarray,
    step_addr: int,
    now: int,
    who: np.ndarray,  # out: the customers contacted, from slot lo on
    contacted: np.ndarray,  # out
    offered: np.ndarray,  # out: the chunk's rows set to -1 (no offer yet)
) -> int:
    """Who of customers lo..hi-1 is contacted on the contact chains: the customers
    whose candidate step is now, if covered (kind > 0). Every due chain moves on to its
    next candidate, covered or not (thinning), so that a customer's candidates do not
    depend on when it is covered. Returns the number contacted.

    A branch-free pass over the chunk lists the due customers; their skip uniforms
    (at this step's address) are drawn two a call, then each chain moves on."""
    offered[lo:hi] = -1
    contacted[lo:hi] = False
    due = np.empty(hi - lo, np.int32)
    n_due = 0
    for i in range(lo, hi):
        due[n_due] = i
        n_due += chain[i] == now
    u = np.empty(4 * n_due, np.float64)  # the draws (block 0, word 0), two a call
    customer_blocks_into(rk, step_addr, CONTACT_SKIP, due[:n_due], 1, u)
    n_con = 0
    for r in range(n_due):
        i = np.int64(due[r])  # type: ignore[assignment]
        chain[i] = next_candidate(now, u[4 * r], p, lq)
        on = kind[i] > 0
        contacted[i] = on
        who[lo + n_con] = i
        n_con += on
    return n_con
