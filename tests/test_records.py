"""The booking of a firm's sales into its records (``sim.records``), block by block,
against the rule written out one sale at a time and the counts recounted."""

from __future__ import annotations

import numpy as np
import pytest

from sim.counts import cell_counts
from sim.records import BOOK_BLOCK, _record_sales_kernel, contact_kind
from sim.state import LATENT, SERVED

N, C, T = 3001, 3, 4


def _records(rng: np.random.Generator) -> dict[str, np.ndarray]:
    need = rng.integers(-1, 4, size=(N, C)).astype(np.int8)
    return {
        "need": need,
        "tier": rng.integers(0, T, size=(N, C)).astype(np.int8),
        "sup": rng.integers(-1, 3, size=(N, C)).astype(np.int8),
        "known": rng.random(N) < 0.5,
        "covered": rng.random(N) < 0.7,
    }


def _sales(rng: np.random.Generator, kind: str) -> np.ndarray:
    if kind == "sorted":  # as the choice lists them, some customers in two categories
        return np.sort(rng.choice(N * C, size=700, replace=False)).astype(np.int64)
    # any order, and positions sold twice: the later sale is the one the records keep
    return rng.integers(0, N * C, size=900).astype(np.int64)


@pytest.mark.parametrize("order", ["sorted", "any"])
@pytest.mark.parametrize("block", [1, 3, BOOK_BLOCK, 5000])
def test_sales_booked_by_blocks_are_the_sales_booked_one_by_one(order: str, block: int) -> None:
    rng = np.random.default_rng(11)
    rec = _records(rng)
    pos = _sales(rng, order)
    sold = rng.integers(0, T, size=pos.size).astype(np.int64)
    std_cat = np.array([True, False, True])
    firm = 2

    want = {k: v.copy() for k, v in rec.items()}
    for j, k in zip(pos, sold, strict=True):
        i, c = divmod(int(j), C)
        want["need"][i, c] = SERVED
        want["tier"][i, c] = k
        want["sup"][i, c] = firm
        want["known"][i] = True
    want_kind = np.empty(N, dtype=np.uint8)
    want_open = contact_kind(want["need"], want["covered"], std_cat, want_kind)

    got = {k: v.copy() for k, v in rec.items()}
    believed = cell_counts(got["tier"], got["need"], LATENT, T)
    kind = np.empty(N, dtype=np.uint8)
    n_open = np.array([contact_kind(got["need"], got["covered"], std_cat, kind)])
    _record_sales_kernel(
        pos, sold, firm, got["need"], got["tier"], got["sup"], got["known"], std_cat, believed, kind, n_open, block,
    )  # fmt: skip

    for k in rec:
        assert np.array_equal(got[k], want[k]), k
    assert np.array_equal(believed, cell_counts(want["tier"], want["need"], LATENT, T))
    assert np.array_equal(kind, want_kind)
    assert int(n_open[0]) == want_open
    # the sales changed the records: the comparison is not between two untouched copies
    assert not np.array_equal(want["need"], rec["need"])
