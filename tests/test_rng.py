"""Named streams and the sparse fixed-shape draw keep exactly the numbers of the
plain block draw (so common random numbers survive the optimisation)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rng import _RAW_FROM, Streams, uniform_f32_at


@pytest.mark.parametrize(
    "count", [0, 10, _RAW_FROM - 1, _RAW_FROM, _RAW_FROM + 1, 3 * _RAW_FROM + 7]
)
@pytest.mark.parametrize("pending", [False, True])
def test_uniform_f32_at_matches_the_block_draw(count: int, pending: bool) -> None:
    rng = np.random.default_rng(count * 2 + pending)
    for trial in range(5):
        a = np.random.Generator(np.random.PCG64(1000 + trial))
        b = np.random.Generator(np.random.PCG64(1000 + trial))
        if pending:  # an odd float32 draw leaves half of a 64-bit output pending
            a.random(3, dtype=np.float32)
            b.random(3, dtype=np.float32)
        at = (
            rng.integers(0, max(count, 1), size=rng.integers(0, 50))
            if count
            else np.empty(0, np.intp)
        )
        if count and trial == 0:
            at = np.array([0, count - 1, 0, count // 2])  # both ends, repeats, unsorted
        expected = a.random(count, dtype=np.float32)[at]
        got = uniform_f32_at(b, count, at)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)
        # and the generator is left exactly where the block draw leaves it
        assert a.bit_generator.state == b.bit_generator.state
        np.testing.assert_array_equal(a.random(7), b.random(7))


def test_streams_are_named_not_positional() -> None:
    one = Streams(5, ["focal"])
    two = Streams(5, ["focal", "rival"])
    assert one.platform("focal").random() == two.platform("focal").random()
    assert one["demand"].random() == two["demand"].random()
    assert Streams(5, ["focal"])["demand"].random() != Streams(6, ["focal"])["demand"].random()
    assert one["demand"].random() != one["behaviour"].random()
