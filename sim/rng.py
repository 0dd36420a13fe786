"""Named random streams from one root ``SeedSequence`` (DESIGN §4).

Each process gets its own child stream, spawned once from the run's seed by a
fixed key, so adding a firm or changing a platform parameter never moves the
draws of another process. Rules draw fixed-shape blocks (one number per customer
per process per step) for the same reason: two runs with the same seed share their
random inputs (common random numbers).
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np

PROCESSES = ("network", "init", "demand", "behaviour", "events")


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


class Streams:
    """The run's generators, one per named process.

    Args:
        seed: the run's seed (a non-negative integer).
        firm_names: firms get ``platform:<name>`` and ``planning:<name>`` streams.
    """

    def __init__(self, seed: int, firm_names: tuple[str, ...] | list[str]) -> None:
        self.seed = int(seed)
        self.root = np.random.SeedSequence(self.seed)
        self._gens: dict[str, np.random.Generator] = {}
        names = list(PROCESSES)
        for f in firm_names:
            names += [f"platform:{f}", f"planning:{f}"]
        for name in names:
            # A child keyed by the process name, not by its position: streams stay
            # put when processes or firms are added.
            child = np.random.SeedSequence(self.root.entropy, spawn_key=(_key(name),))
            self._gens[name] = np.random.Generator(np.random.PCG64(child))

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]

    def platform(self, firm: str) -> np.random.Generator:
        return self._gens[f"platform:{firm}"]

    def planning(self, firm: str) -> np.random.Generator:
        return self._gens[f"planning:{firm}"]


#: blocks from which ``uniform_f32_at`` draws raw output (below, reading and setting the
#: generator's state costs more than it saves)
_RAW_FROM = 1 << 15


def uniform_f32_at(gen: np.random.Generator, count: int, at: np.ndarray) -> np.ndarray:
    """``gen.random(count, dtype=np.float32)[at]``, leaving ``gen`` where that call would.

    numpy makes a float32 uniform from 32 random bits as ``(bits >> 8) * 2**-24``, and
    PCG64 serves 32-bit requests from the low and then the high half of each 64-bit
    output, keeping a pending high half in its state. Drawing the 64-bit outputs raw
    and converting only the positions read costs about half as much as the block when
    few positions are read (a platform's reads and offers, a choice among active needs),
    and the stream is the same, so the fixed-shape draws keep common random numbers.
    """
    bg = gen.bit_generator
    if count < _RAW_FROM or not isinstance(bg, np.random.PCG64) or sys.byteorder != "little":
        return gen.random(count, dtype=np.float32)[at]
    at = np.asarray(at, dtype=np.intp)
    if count == 0:
        return np.empty(at.shape, dtype=np.float32)
    state = bg.state
    pending = int(state["has_uint32"])
    rest = count - pending
    # the 64-bit outputs viewed as 32-bit halves are in the order numpy serves them
    halves = bg.random_raw((rest + 1) // 2).view(np.uint32)
    if pending:  # position 0 is the pending half, position j > 0 is half j - 1
        first = at == 0
        bits = halves[np.maximum(at - 1, 0)] if halves.size else np.zeros(at.shape, np.uint32)
        bits[first] = state["uinteger"]
    else:
        bits = halves[at]
    after = bg.state
    after["has_uint32"] = rest % 2
    if halves.size:
        after["uinteger"] = int(halves[-1])
    bg.state = after
    bits >>= np.uint32(8)
    out = bits.astype(np.float32)
    out *= np.float32(2.0**-24)
    return out
