"""Random numbers by address (docs/model.md §7.2).

Every random number a rule reads is a pure function of (run seed, stream, step,
customer, purpose): the Philox4x64-10 counter-based generator of Salmon et al. (2011,
"Parallel random numbers: as easy as 1, 2, 3"), keyed by (seed, stream) and run on
the counter (customer, step, purpose, block). It is numpy's ``Philox`` bit for bit
(``tests/test_rng.py`` checks it against ``numpy.random.Philox`` for the same key and
counter). Consequences:

- common random numbers hold by construction: a rule reads the number at an address
  whether or not another rule read its own, so changing a platform parameter cannot
  move the customers' demand process, and no rule draws numbers it does not use;
- customer loops may run in any order, or in parallel, with the same numbers.

A draw's address: ``kind`` names the purpose (the state draw of the demand rule, a
platform's read, the choice's pick...), ``sub`` the category or firm it is for. One
Philox call yields four 64-bit words, so the four ``sub`` values 4b..4b+3 of a kind
share a call (block b). The rules draw the blocks a pass will read before it reads
them, two counters a call side by side (``philox2``, ``blocks_into``): the same numbers,
and the two chains of multiplies overlap. Set-up draws (the network, the initial market, coverage) and
the rare firm-level ones (supplier failures, product planning) come from numpy
generators spawned from the same seed by stream name (``Streams``).

The 64×64 → 128-bit multiply is written on 32-bit halves, with no intermediate that
can overflow, so the same functions run compiled (numba) and as plain Python
(``NUMBA_DISABLE_JIT=1``), where they can be stepped through in a debugger.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from sim.jit import kernel

PROCESSES = ("network", "init", "demand", "behaviour", "events", "generations")

# Philox4x64 constants (Random123, and numpy's philox.h)
_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = 0x9E3779B97F4A7C15
_W1 = 0xBB67AE8584CAA73B
ROUNDS = 10
_LO32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_TO_UNIT = 2.0**-53

# draw kinds (the ``purpose`` part of an address); each rule reads its own stream
DEMAND_STATE, DEMAND_SERVED = 0, 1  # demand: a need's state draw; a served need's pair
DEMAND_EVENT = 2  # demand, event engine: a need's block at one of its candidate steps
# platform: a customer's contact; a contacted need's pair; the skip from a candidate
# step of a customer's contact chain to the next (the event engine's homogeneous contacts)
CONTACT, READ_LINK, CONTACT_SKIP = 0, 1, 2
# choice: a customer's neighbour; an active need's block; the week of a step in which
# a firm reaches an active need (steps longer than a week)
NEIGHBOUR, CHOICE, DECISION_WEEK = 0, 1, 2


#: steps are addressed from here, so that the steps before step 0 (the market's
#: history) have addresses of their own and a step's address does not depend on the
#: history's length
STEP_OFFSET = 2**32


def address(step: int) -> int:
    """The address of a step in the streams (non-negative for any step > -2**32)."""
    return int(step) + STEP_OFFSET


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def round_keys(seed: int, stream: str) -> np.ndarray:
    """(ROUNDS, 2) uint64: the Philox key schedule of (seed, stream), computed once."""
    k0, k1 = int(seed) % 2**64, _key(stream)
    return np.array(
        [((k0 + r * _W0) % 2**64, (k1 + r * _W1) % 2**64) for r in range(ROUNDS)],
        dtype=np.uint64,
    )


def mulhilo(a, b):  # type: ignore[no-untyped-def]
    """(high, low) 64-bit words of the 128-bit product a·b of two uint64.

    As plain Python (and under ``NUMBA_DISABLE_JIT=1``) it works on 32-bit halves, with
    no intermediate that can overflow; compiled code gets the overload below, one
    native 64×64 → 128-bit multiply."""
    a_lo = a & _LO32
    a_hi = a >> _S32
    b_lo = b & _LO32
    b_hi = b >> _S32
    ll = a_lo * b_lo
    lh = a_lo * b_hi
    hl = a_hi * b_lo
    hh = a_hi * b_hi
    mid = (ll >> _S32) + (lh & _LO32) + (hl & _LO32)
    hi = hh + (lh >> _S32) + (hl >> _S32) + (mid >> _S32)
    lo = ((mid & _LO32) << _S32) | (ll & _LO32)
    return hi, lo


@intrinsic
def _mulhilo_native(typingctx, a, b):  # type: ignore[no-untyped-def]
    """``mulhilo`` as one LLVM 128-bit multiply (compiled code only)."""
    u64 = types.uint64
    sig = types.UniTuple(u64, 2)(u64, u64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i128 = ir.IntType(128)
        i64 = ir.IntType(64)
        r = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        lo = builder.trunc(r, i64)
        hi = builder.trunc(builder.lshr(r, ir.Constant(i128, 64)), i64)
        return cgutils.pack_array(builder, (hi, lo))

    return sig, codegen


@overload(mulhilo, inline="always")
def _mulhilo_compiled(a, b):  # type: ignore[no-untyped-def]
    def impl(a, b):  # type: ignore[no-untyped-def]
        return _mulhilo_native(np.uint64(a), np.uint64(b))

    return impl


@njit(inline="always")
def _round(x0, x1, x2, x3, k0, k1):  # type: ignore[no-untyped-def]
    """One Philox4x64 round of the words (x0, x1, x2, x3) under round key (k0, k1)."""
    hi0, lo0 = mulhilo(_M0, x0)
    hi1, lo1 = mulhilo(_M1, x2)
    return hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0


@kernel
def philox(rk, c0, c1, c2, c3):  # type: ignore[no-untyped-def]
    """Philox4x64-10 of the counter (c0, c1, c2, c3) under round keys ``rk``: four
    uint64 words."""
    x0, x1, x2, x3 = np.uint64(c0), np.uint64(c1), np.uint64(c2), np.uint64(c3)
    for r in range(ROUNDS):
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, rk[r, 0], rk[r, 1])
    return x0, x1, x2, x3


@njit(inline="always")
def philox2(rk, a0, a1, a2, a3, b0, b1, b2, b3):  # type: ignore[no-untyped-def]
    """``philox`` of two counters, (a0, a1, a2, a3) and (b0, b1, b2, b3), side by side:
    eight uint64 words, the first counter's four then the second's. Each round of one
    waits on its own multiplies; interleaved, the two chains keep the multiplier busy,
    nearly twice the draws a second of one call after another
    (``python -m benchmarks.paired_draws``)."""
    x0, x1, x2, x3 = np.uint64(a0), np.uint64(a1), np.uint64(a2), np.uint64(a3)
    y0, y1, y2, y3 = np.uint64(b0), np.uint64(b1), np.uint64(b2), np.uint64(b3)
    for r in range(ROUNDS):
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, rk[r, 0], rk[r, 1])
        y0, y1, y2, y3 = _round(y0, y1, y2, y3, rk[r, 0], rk[r, 1])
    return x0, x1, x2, x3, y0, y1, y2, y3


@njit(inline="always")
def unit(w):  # type: ignore[no-untyped-def]
    """A uniform in [0, 1) from a 64-bit word (its top 53 bits, as numpy does)."""
    return np.float64(w >> _S11) * _TO_UNIT


@njit(inline="always")
def block(rk, step, i, kind, b):  # type: ignore[no-untyped-def]
    """The four uniforms of block ``b`` of draw ``kind`` for customer ``i`` at ``step``."""
    w0, w1, w2, w3 = philox(rk, i, step, kind, b)
    return unit(w0), unit(w1), unit(w2), unit(w3)


@njit(inline="always")
def blocks_into(rk, step, kind, who, b, out):  # type: ignore[no-untyped-def]
    """The uniforms of ``len(who)`` blocks at one ``step`` and ``kind`` into ``out``
    (4 × len(who) float64): block ``b[r]`` of customer ``who[r]`` at ``out[4r:4r+4]``,
    two blocks a call (``philox2``). A rule draws the blocks of a pass this way before
    it reads them: one call after another, each waits on its own multiplies."""
    m = len(who)
    r = 0
    while r + 1 < m:
        w = philox2(rk, who[r], step, kind, b[r], who[r + 1], step, kind, b[r + 1])
        for k in range(8):
            out[4 * r + k] = unit(w[k])
        r += 2
    if r < m:
        w4 = philox(rk, who[r], step, kind, b[r])
        for k in range(4):
            out[4 * r + k] = unit(w4[k])


@njit(inline="always")
def customer_blocks_into(rk, step, kind, who, nb, out):  # type: ignore[no-untyped-def]
    """``blocks_into`` for blocks 0..nb-1 of each customer of ``who``: block b of
    ``who[r]`` at ``out[4q:4q+4]``, q = r * nb + b (so the customer's draw ``sub`` is at
    ``out[4 r nb + sub]``)."""
    wait_i = -1  # a block waiting for a second one to share a call
    wait_b = 0
    wait_q = 0
    q = 0
    for r in range(len(who)):
        i = who[r]
        for b in range(nb):
            if wait_i < 0:
                wait_i, wait_b, wait_q = i, b, q
            else:
                w = philox2(rk, wait_i, step, kind, wait_b, i, step, kind, b)
                for k in range(4):
                    out[4 * wait_q + k] = unit(w[k])
                    out[4 * q + k] = unit(w[4 + k])
                wait_i = -1
            q += 1
    if wait_i >= 0:
        w4 = philox(rk, wait_i, step, kind, wait_b)
        for k in range(4):
            out[4 * wait_q + k] = unit(w4[k])


@njit(inline="always")
def pair_at(buf, r, sub):  # type: ignore[no-untyped-def]
    """The pair of uniforms of ``sub`` in block ``r`` of a ``blocks_into`` buffer: of
    the block's four, the first two for an even ``sub``, the last two for an odd one.
    Two draws a rule needs together, and two subs (categories) a block."""
    o = 4 * r + 2 * (sub & 1)
    return buf[o], buf[o + 1]


#: a chain's next candidate step when there is none (probability 0, or past int32 steps)
NEVER_STEP = 2**31 - 1


def log_miss(p: float) -> float:
    """log(1 - p), the ``lq`` of ``next_candidate`` (0 where p is 0 or 1, which
    ``next_candidate`` settles without it)."""
    return float(np.log1p(-p)) if 0.0 < p < 1.0 else 0.0


@njit(inline="always")
def next_candidate(t, u, p, lq):  # type: ignore[no-untyped-def]
    """The candidate step after one at step ``t`` on a chain of candidate steps (the
    event engine's calendars): t + G, G geometric on {1, 2, ...} with success
    probability ``p`` per step (``lq``: log(1 - p), for 0 < p < 1), by inversion of
    the uniform ``u`` in [0, 1): G = 1 + floor(log(1 - u) / log(1 - p)), so
    P(G > k) = (1 - p)^k. ``NEVER_STEP`` for p = 0, or past the int32 steps."""
    if p >= 1.0:
        return np.int32(t + 1)
    if p <= 0.0:
        return np.int32(NEVER_STEP)
    x = math.floor(math.log1p(-u) / lq)
    if x >= NEVER_STEP - 1 - t:
        return np.int32(NEVER_STEP)
    return np.int32(t + 1 + np.int64(x))


@njit(inline="always")
def uniform(rk, step, i, kind, sub):  # type: ignore[no-untyped-def]
    """The uniform at address (step, customer ``i``, ``kind``, ``sub``)."""
    w = philox(rk, i, step, kind, sub >> 2)
    s = sub & 3
    return unit(w[0] if s == 0 else w[1] if s == 1 else w[2] if s == 2 else w[3])


@kernel
def uniforms(rk: np.ndarray, step: int, n: int, kind: int, sub: int) -> np.ndarray:
    """The uniforms of customers 0..n-1 at one (step, kind, sub), as an array."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = uniform(rk, step, i, kind, sub)
    return out


@kernel
def uniforms_at(rk: np.ndarray, step: int, who: np.ndarray, kind: int, sub: int) -> np.ndarray:
    """The uniforms of customers ``who`` at one (step, kind, sub): ``uniforms(...)[who]``
    without drawing for the others."""
    out = np.empty(who.size, dtype=np.float64)
    for r in range(who.size):
        out[r] = uniform(rk, step, who[r], kind, sub)
    return out


class Streams:
    """The run's streams: Philox keys for the per-customer rules, numpy generators for
    set-up and firm-level draws, each spawned from the seed by name (not position), so
    adding a firm or a process never moves another's numbers.

    Args:
        seed: the run's seed (a non-negative integer).
        firm_names: firms get ``platform:<name>`` and ``planning:<name>`` streams.
    """

    def __init__(self, seed: int, firm_names: tuple[str, ...] | list[str]) -> None:
        self.seed = int(seed)
        self.root = np.random.SeedSequence(self.seed)
        self._gens: dict[str, np.random.Generator] = {}
        self._keys: dict[str, np.ndarray] = {}
        names = list(PROCESSES)
        for f in firm_names:
            names += [f"platform:{f}", f"planning:{f}"]
        for name in names:
            child = np.random.SeedSequence(self.root.entropy, spawn_key=(_key(name),))
            self._gens[name] = np.random.Generator(np.random.PCG64(child))
            self._keys[name] = round_keys(self.seed, name)

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]

    def key(self, name: str) -> np.ndarray:
        """The Philox round keys of a stream (``"demand"``, ``"platform:<firm>"``...)."""
        return self._keys[name]

    def platform(self, firm: str) -> np.random.Generator:
        return self._gens[f"platform:{firm}"]

    def planning(self, firm: str) -> np.random.Generator:
        return self._gens[f"planning:{firm}"]


def fresh_seed() -> int:
    """A seed from the operating system's entropy, in [0, 2**63)."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)
    return entropy % 2**63
