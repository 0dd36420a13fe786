"""numpy's PCG64 inside compiled loops, with cheap jumps ahead.

A rule's fixed-shape block of uniforms is read only where it is needed (the read
block of a platform at the customers it contacted, the upmarket block at served
needs...). numpy must generate every number of the block; here a compiled loop
generates the outputs it reads and jumps over the rest: PCG64 is a 128-bit linear
congruential generator, so k steps ahead is one multiply-add with (M^k, inc·(M^(k-1)
+ … + 1)), tabulated for k = 1..64. The numbers are numpy's, bit for bit, and the
generator is left exactly where numpy's own draws would leave it (``RuleDraws``).

numpy (``pcg64.h``): the state advances ``s = s·M + inc (mod 2^128)`` and the
output is ``rotr64(hi(s) ^ lo(s), hi(s) >> 58)`` of the advanced state; a float32
uniform takes 32 bits (the low half of an output, then its high half, kept pending
in the generator), ``(bits >> 8) · 2^-24``; a float64 one takes a whole output,
``(out >> 11) · 2^-53``.
"""

from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

MULT = (2549297995355413924 << 64) + 4865540595714422341
MASK = (1 << 128) - 1
JUMPS = 64


@intrinsic
def _muladd128(typingctx, a_hi, a_lo, s_hi, s_lo, c_hi, c_lo):  # type: ignore[no-untyped-def]
    """(a·s + c) mod 2^128 on (hi, lo) uint64 halves."""
    u64 = types.uint64
    sig = types.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i128 = ir.IntType(128)
        i64 = ir.IntType(64)
        sh = ir.Constant(i128, 64)

        def join(hi, lo):  # type: ignore[no-untyped-def]
            return builder.or_(builder.shl(builder.zext(hi, i128), sh), builder.zext(lo, i128))

        a = join(args[0], args[1])
        s = join(args[2], args[3])
        c = join(args[4], args[5])
        r = builder.add(builder.mul(a, s), c)
        lo = builder.trunc(r, i64)
        hi = builder.trunc(builder.lshr(r, sh), i64)
        return cgutils.pack_struct(builder, (hi, lo))

    return sig, codegen


def jump_tables(inc: int) -> np.ndarray:
    """(JUMPS + 1, 4) uint64 rows (A_hi, A_lo, C_hi, C_lo): k steps is s -> A·s + C
    (row 0 is the identity)."""
    out = np.empty((JUMPS + 1, 4), dtype=np.uint64)
    a, c = 1, 0
    for k in range(JUMPS + 1):
        out[k] = (a >> 64, a & (2**64 - 1), c >> 64, c & (2**64 - 1))
        a, c = (a * MULT) & MASK, (c * MULT + inc) & MASK
    return out


@njit(inline="always")
def _rotr(x, r):  # type: ignore[no-untyped-def]
    return (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))


@njit(inline="always")
def output_at(cur, pos, jt, o):  # type: ignore[no-untyped-def]
    """Output ``o`` of a block (0 = its first), asked for in non-decreasing order.

    ``cur`` (uint64[4]): the state (hi, lo) after ``pos[0]`` outputs, then a spare
    word and the block's pending word; ``pos`` (int64[2]): outputs stepped, and the
    block's offset (1 when it starts with a pending half). Asking for the same output
    twice (its two halves) steps by zero: row 0 of the table is the identity. (No
    branch for that case: a branch here made numba's loops ten times slower.)"""
    d = o + 1 - pos[0]
    hi = cur[0]
    lo = cur[1]
    while d > JUMPS:
        hi, lo = _muladd128(jt[JUMPS, 0], jt[JUMPS, 1], hi, lo, jt[JUMPS, 2], jt[JUMPS, 3])
        d -= JUMPS
    hi, lo = _muladd128(jt[d, 0], jt[d, 1], hi, lo, jt[d, 2], jt[d, 3])
    cur[0] = hi
    cur[1] = lo
    pos[0] = o + 1
    return _rotr(hi ^ lo, hi >> np.uint64(58))


@njit(inline="always")
def f32_at(cur, pos, jt, j):  # type: ignore[no-untyped-def]
    """Uniform ``j`` of a float32 block (a cursor from ``RuleDraws.f32``)."""
    off = pos[1]
    if j < off:
        b = cur[3]
    else:
        q = j - off
        v = output_at(cur, pos, jt, q >> 1)
        if q & 1:
            b = v >> np.uint64(32)
        else:
            b = v & np.uint64(0xFFFFFFFF)
    return np.float32(b >> np.uint64(8)) * np.float32(2.0**-24)


@njit(inline="always")
def f64_at(cur, pos, jt, j):  # type: ignore[no-untyped-def]
    """Uniform ``j`` of a float64 block (a cursor from ``RuleDraws.f64``)."""
    return np.float64(output_at(cur, pos, jt, j) >> np.uint64(11)) * (2.0**-53)


# ---------------------------------------------------------------- the Python side
_M64 = (1 << 64) - 1
_TABLES: dict[int, tuple[np.ndarray, list[tuple[int, int]]]] = {}


def _tables(inc: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(jump table for 1..64 steps, (A, C) for 2^k steps) of a stream increment."""
    got = _TABLES.get(inc)
    if got is None:
        pow2 = []
        a, c = MULT, inc
        for _ in range(128):
            pow2.append((a, c))
            a, c = (a * a) & MASK, ((a + 1) * c) & MASK  # twice: A(As + C) + C
        got = (jump_tables(inc), pow2)
        _TABLES[inc] = got
    return got


@functools.lru_cache(maxsize=256)
def _jump(inc: int, n: int) -> tuple[int, int]:
    """(A, C) with s -> A·s + C the jump of ``n`` steps (the same block sizes recur
    every step, so each is composed once)."""
    pow2 = _tables(inc)[1]
    a, c = 1, 0
    k = 0
    while n:
        if n & 1:
            ak, ck = pow2[k]
            a, c = (ak * a) & MASK, (ak * c + ck) & MASK
        n >>= 1
        k += 1
    return a, c


def advance(s: int, inc: int, n: int) -> int:
    """The state ``n`` steps after ``s``."""
    a, c = _jump(inc, n)
    return (a * s + c) & MASK


def output(s: int) -> int:
    """The output of an (advanced) state."""
    hi, lo = s >> 64, s & _M64
    x, r = hi ^ lo, hi >> 58
    return ((x >> r) | (x << ((64 - r) & 63))) & _M64


class RuleDraws:
    """The fixed-shape blocks a rule draws from one numpy ``PCG64`` generator, in
    order, as cursors for compiled loops; ``finish`` leaves the generator where
    numpy's own ``random(count, dtype)`` calls would have."""

    def __init__(self, gen: np.random.Generator) -> None:
        bg = gen.bit_generator
        if not isinstance(bg, np.random.PCG64):
            raise TypeError("compiled draws need numpy's PCG64")
        self.bg = bg
        st = bg.state
        self.s0 = st["state"]["state"]
        self.inc = st["state"]["inc"]
        self.jt = _tables(self.inc)[0]
        self.o = 0  # fresh outputs used so far
        self.pending = bool(st["has_uint32"])
        self.pend_val = int(st["uinteger"])  # the pending word (or the stale one)

    def _cursor(self, o_start: int, off: int, first: int) -> tuple[np.ndarray, np.ndarray]:
        s = advance(self.s0, self.inc, o_start)
        cur = np.array([s >> 64, s & _M64, 0, first], dtype=np.uint64)
        pos = np.array([0, off], dtype=np.int64)
        return cur, pos

    def f32(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """A block of ``count`` float32 uniforms."""
        off = 1 if (self.pending and count > 0) else 0
        cursor = self._cursor(self.o, off, self.pend_val if off else 0)
        fresh = count - off
        n_out = (fresh + 1) // 2
        self.o += n_out
        if off:
            self.pending = False
        if n_out:
            # numpy keeps the high half of its last 32-bit draw: pending if unused
            self.pend_val = output(advance(self.s0, self.inc, self.o)) >> 32
            self.pending = fresh % 2 == 1
        return cursor

    def f64(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """A block of ``count`` float64 uniforms (the pending half stays pending)."""
        cursor = self._cursor(self.o, 0, 0)
        self.o += count
        return cursor

    def finish(self) -> None:
        st = self.bg.state
        st["state"]["state"] = advance(self.s0, self.inc, self.o)
        st["has_uint32"] = int(self.pending)
        st["uinteger"] = self.pend_val
        self.bg.state = st
