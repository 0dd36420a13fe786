"""The demand rule's gathering of its chunks' events (``sim.demand_kernels.gather_events``)
against the plain loop it replaced: the same lists and the same counts, whatever the
events (docs/performance.md, "Two threads against one at 1M, part by part").

The compiled version loads every event's tier and supplier before it counts, which is
the same only because a position has at most one event a step; the cases keep that,
as the rule does, with chunks full, empty and in between.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.demand_kernels import (
    E_ACTIVATED,
    E_CHURNED,
    E_EMERGED,
    E_EXPIRED,
    E_FAILED,
    E_FAILED_COMPLEMENT,
    E_UNSERVED,
    E_UP,
    E_WORN,
    _event_lists,
    gather_events,
)
from sim.jit import CHUNK

TYPES = np.array(
    [E_ACTIVATED, E_UP, E_UNSERVED, E_FAILED, E_WORN, E_EMERGED, E_CHURNED, E_EXPIRED,
     E_FAILED_COMPLEMENT], dtype=np.int8,
)  # fmt: skip


def plain(found, tier, sup, ev_pos, ev_type, comp_target, cells, served):  # type: ignore[no-untyped-def]
    """The gathering as one loop, event by event (the code before the loads came first)."""
    C = tier.shape[1]
    m = 0
    for k in range(found.size):
        start = k * CHUNK * C
        for r in range(start, start + found[k]):
            j, e = int(ev_pos[r]), int(ev_type[r])
            ev_pos[m], ev_type[m] = j, e
            m += 1
            i, c = divmod(j, C)
            t = tier[i, c]
            if e == E_ACTIVATED:
                cells[c, t] += 1
            elif e == E_EXPIRED:
                cells[c, t] -= 1
            elif e != E_EMERGED:
                if e in (E_UP, E_UNSERVED):
                    cells[c, t - 1] -= 1
                    cells[c, t] += 1
                if e != E_UP:
                    served[sup[i, c]] -= 1
                if e == E_CHURNED:
                    sup[i, c] = -1
    lists = list(_event_lists(ev_pos, ev_type, m))
    lists[6] = np.array([j // C * C + comp_target[j % C] for j in lists[6]], dtype=np.int64)
    return lists


def case(seed: int, n: int, C: int, rate: float):  # type: ignore[no-untyped-def]
    """A market of ``n`` customers whose chunks record events at a share ``rate`` of
    their positions, each position at most once, in position order within a chunk."""
    rng = np.random.default_rng(seed)
    T, F = 4, 3
    tier = rng.integers(1, T, size=(n, C)).astype(np.int8)  # an upmarket move had a tier below
    sup = rng.integers(0, F, size=(n, C)).astype(np.int8)
    n_chunks = -(-n // CHUNK)
    ev_pos = np.full(n * C, -7, np.int32)
    ev_type = np.zeros(n * C, np.int8)
    found = np.zeros(n_chunks, np.int64)
    for k in range(n_chunks):
        lo, hi = k * CHUNK * C, min((k + 1) * CHUNK, n) * C
        share = rate if k % 3 else (0.0 if k % 2 else 1.0)  # empty and full chunks too
        pos = np.flatnonzero(rng.random(hi - lo) < share) + lo
        found[k] = pos.size
        ev_pos[lo : lo + pos.size] = pos
        ev_type[lo : lo + pos.size] = rng.choice(TYPES, size=pos.size)
    comp_target = np.array([(c + 1) % C for c in range(C)], dtype=np.int64)
    cells = rng.integers(100, 1000, size=(C, T)).astype(np.int64)
    served = rng.integers(1000, 5000, size=F).astype(np.int64)
    return found, tier, sup, ev_pos, ev_type, comp_target, cells, served


@pytest.mark.parametrize(
    ("seed", "n", "C", "rate"),
    [(1, 1, 1, 1.0), (2, 5000, 2, 0.05), (3, 7 * CHUNK + 5, 3, 0.3), (4, 3 * CHUNK, 4, 0.9)],
)
def test_gathering_equals_the_plain_loop(seed: int, n: int, C: int, rate: float) -> None:
    args = case(seed, n, C, rate)
    mine = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    ref = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    got = gather_events(*mine)
    want = plain(*ref)
    assert sum(x.size for x in want) > 0 or args[0].sum() == 0
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    for a, b in zip(mine, ref, strict=True):  # the counts, the suppliers, the lists
        np.testing.assert_array_equal(a, b)
