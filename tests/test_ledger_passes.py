"""The opportunity ledger's compiled passes against a plain reference: the rule of
docs/model.md §7.12 written as loops that branch, entry by entry, on random slots and
on lists of positions with repeats and out of order (the passes have no branch on what
they load, and an entry must still see what the entries before it wrote)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.ledger import CLOSED, JUDGED, MARKED, _close_kernel, _judge_kernel, _open_kernel
from sim.state import ACTIVE, LATENT, NEVER

N, C, T = 60, 2, 3


def _world(rng: np.random.Generator) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Random needs, tiers, segments, standard, and random ledger slots (any flags)."""
    where = (
        rng.integers(0, 4, (N, C)).astype(np.int8),  # needs: none/latent/active/served
        rng.integers(0, T, (N, C)).astype(np.int8),
        rng.integers(0, 3, N).astype(np.int8),
        rng.random((C, T)) < 0.7,
        rng.random(3) < 0.7,
    )
    open_t = np.where(rng.random((N, C)) < 0.3, NEVER, rng.integers(0, 6, (N, C)))
    flags = rng.integers(0, 8, (N, C)).astype(np.int8)
    return where, open_t.astype(np.int32), flags


def _positions(rng: np.random.Generator, k: int) -> np.ndarray:
    """``k`` positions, repeats and disorder included, part of them in runs."""
    pos = rng.integers(0, N * C, k)
    pos[: k // 2] = np.sort(pos[: k // 2])
    return pos.astype(np.int64)


def _should(where: tuple[np.ndarray, ...], j: int) -> bool:
    need, tier, segment, std, std_seg = where
    i, c = divmod(j, C)
    return bool(need[i, c] in (LATENT, ACTIVE) and std[c, tier[i, c]] and std_seg[segment[i]])


def _open_ref(pos, where, of, fl, now):  # type: ignore[no-untyped-def]
    out, early = [], []
    for j in pos:
        if not _should(where, j):
            continue
        if of[j] != NEVER:
            if not fl[j] & CLOSED:
                continue
            if fl[j] & MARKED and not fl[j] & JUDGED:
                early.append(of[j])
        of[j], fl[j] = now, 0
        out.append(j)
    return out, early


def _judge_ref(pos, t, of, fl, covered, counts):  # type: ignore[no-untyped-def]
    for j in pos:
        if of[j] != t or fl[j] & JUDGED:
            continue
        if fl[j] & MARKED:
            counts[0] += 1
        elif not fl[j] & CLOSED:
            counts[2 if covered[j // C] else 1] += 1
        if fl[j] & CLOSED:
            of[j], fl[j] = NEVER, 0
        else:
            fl[j] |= JUDGED


def _close_ref(offered_at, tiers, pos, where, of, fl, now, response):  # type: ignore[no-untyped-def]
    tf = where[1].reshape(-1)
    for j in offered_at:
        live = of[j] != NEVER and not fl[j] & (CLOSED | JUDGED)
        if live and now - int(of[j]) <= response and tiers[j] == tf[j]:
            fl[j] |= MARKED
    for j in pos:
        if of[j] == NEVER or fl[j] & CLOSED:
            continue
        if not _should(where, j):
            if fl[j] & JUDGED:
                of[j], fl[j] = NEVER, 0
            else:
                fl[j] |= CLOSED


@pytest.mark.parametrize("seed", range(40))
def test_open_matches_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    where, open_t, flags = _world(rng)
    full = seed % 5 == 0
    pos = _positions(rng, int(rng.integers(0, 150)))
    of, fl = open_t.reshape(-1).copy(), flags.reshape(-1).copy()
    want = _open_ref(range(N * C) if full else pos, where, of, fl, 7)
    new, early = _open_kernel(pos, full, where, open_t, flags, 7)
    assert new.tolist() == want[0] and early.tolist() == want[1]
    assert np.array_equal(open_t.reshape(-1), of) and np.array_equal(flags.reshape(-1), fl)


@pytest.mark.parametrize("seed", range(40))
def test_close_and_judge_match_the_reference(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    where, open_t, flags = _world(rng)
    full = seed % 5 == 0
    offered = rng.integers(-1, T, (N, C)).astype(np.int8)
    offered_at, pos = _positions(rng, 120), _positions(rng, 100)
    due, other = _positions(rng, 80), _positions(rng, 50)
    covered = rng.random(N) < 0.5
    of, fl = open_t.reshape(-1).copy(), flags.reshape(-1).copy()
    want = np.zeros(3, dtype=np.int64)
    _close_ref(offered_at, offered.reshape(-1), range(N * C) if full else pos, where, of, fl, 7, 3)
    _judge_ref(due, 4, of, fl, covered, want)
    _judge_ref(other, 5, of, fl, covered, want)
    counts = np.zeros(3, dtype=np.int64)
    _close_kernel(
        offered_at, offered, pos, full, where, open_t, flags, 7, 3, due, 4, covered, counts
    )
    _judge_kernel(other, 5, open_t, flags, covered, counts)
    assert counts.tolist() == want.tolist()
    assert np.array_equal(open_t.reshape(-1), of) and np.array_equal(flags.reshape(-1), fl)
