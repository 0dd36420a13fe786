"""Random numbers by address: the Philox generator is numpy's, numbers are pure
functions of their address, and streams are named, not positional."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rng import (
    Streams,
    block,
    blocks_into,
    customer_blocks_into,
    pair_at,
    philox,
    philox2,
    round_keys,
    uniform,
    uniforms,
    uniforms_at,
)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 - 1])
@pytest.mark.parametrize("counter", [(1, 0, 0, 0), (7, 260, 2, 1), (2**40, 2**33, 3, 9)])
def test_philox_is_numpys_for_the_same_key_and_counter(seed: int, counter: tuple) -> None:
    rk = round_keys(seed, "demand")
    key = np.array([rk[0, 0], rk[0, 1]], dtype=np.uint64)
    # numpy increments the counter before generating: start it one below
    before = np.array([counter[0] - 1, *counter[1:]], dtype=np.uint64)
    want = np.random.Philox(key=key, counter=before).random_raw(4)
    got = np.array([int(w) for w in philox(rk, *counter)], dtype=np.uint64)
    np.testing.assert_array_equal(got, want)


def test_uniforms_are_numpys_doubles_and_addressed() -> None:
    rk = round_keys(9, "platform:focal")
    key = np.array([rk[0, 0], rk[0, 1]], dtype=np.uint64)
    gen = np.random.Generator(np.random.Philox(key=key, counter=[4, 30, 1, 0]))
    want = gen.random(4)  # numpy's doubles: the top 53 bits of each word
    np.testing.assert_array_equal(np.array(block(rk, 30, 5, 1, 0)), want)
    assert uniform(rk, 30, 5, 1, 2) == want[2]
    # a vector of addresses gives the numbers one address at a time gives
    vec = uniforms(rk, 30, 50, 1, 6)
    assert all(vec[i] == uniform(rk, 30, i, 1, 6) for i in range(50))
    assert 0.3 < vec.mean() < 0.7 and len(set(vec.tolist())) == 50
    # and drawing for some customers only gives theirs
    who = np.array([7, 0, 49, 7, 23], dtype=np.int64)
    np.testing.assert_array_equal(uniforms_at(rk, 30, who, 1, 6), vec[who])


def test_blocks_drawn_two_a_call_are_the_blocks_drawn_one_by_one() -> None:
    rk = round_keys(11, "demand")
    a, b = (3, 260, 1, 0), (2**40, 2**33 + 1, 0, 5)
    assert philox2(rk, *a, *b) == (*philox(rk, *a), *philox(rk, *b))
    # an odd number of blocks leaves one to a call of its own
    who = np.array([4, 4, 9, 17, 2], dtype=np.int64)
    b_of = np.array([0, 1, 0, 2, 1], dtype=np.int64)
    out = np.full(4 * who.size, np.nan)
    blocks_into(rk, 30, 1, who, b_of, out)
    want = np.concatenate(
        [block(rk, 30, int(i), 1, int(b)) for i, b in zip(who, b_of, strict=True)]
    )
    np.testing.assert_array_equal(out, want)
    # every block of each customer, in order; a customer's draw ``sub`` at 4 r nb + sub
    nb = 3
    out = np.full(4 * nb * who.size, np.nan)
    customer_blocks_into(rk, 30, 1, who, nb, out)
    for r, i in enumerate(who):
        for sub in range(4 * nb):
            assert out[4 * nb * r + sub] == uniform(rk, 30, int(i), 1, sub)
    # the pair of ``sub`` is half of its block: subs 2k and 2k + 1 share block k // 2
    assert pair_at(out, 4, 1) == tuple(block(rk, 30, int(who[1]), 1, 1)[2:])
    assert pair_at(out, 4, 2) == tuple(block(rk, 30, int(who[1]), 1, 1)[:2])


def test_streams_are_named_not_positional() -> None:
    one = Streams(5, ["focal"])
    two = Streams(5, ["focal", "rival"])
    assert one.platform("focal").random() == two.platform("focal").random()
    assert one["demand"].random() == two["demand"].random()
    assert Streams(5, ["focal"])["demand"].random() != Streams(6, ["focal"])["demand"].random()
    assert one["demand"].random() != one["behaviour"].random()
    np.testing.assert_array_equal(one.key("platform:focal"), two.key("platform:focal"))
    assert uniform(one.key("demand"), 1, 0, 0, 0) != uniform(one.key("behaviour"), 1, 0, 0, 0)


def test_the_python_multiply_is_the_compiled_one() -> None:
    from numba import njit

    from sim.rng import mulhilo

    compiled = njit(lambda a, b: mulhilo(a, b))
    rs = np.random.default_rng(1)
    words = rs.integers(0, 2**64, size=(200, 2), dtype=np.uint64, endpoint=False)
    for a, b in [*words, (np.uint64(2**64 - 1), np.uint64(2**64 - 1))]:
        want = int(a) * int(b)
        assert tuple(int(x) for x in mulhilo(a, b)) == (want >> 64, want % 2**64)
        assert tuple(int(x) for x in compiled(a, b)) == (want >> 64, want % 2**64)
