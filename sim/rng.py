"""Named random streams from one root ``SeedSequence`` (DESIGN §4).

Each process gets its own child stream, spawned once from the run's seed by a
fixed key, so adding a firm or changing a platform parameter never moves the
draws of another process. Rules draw fixed-shape blocks (one number per customer
per process per step) for the same reason: two runs with the same seed share their
random inputs (common random numbers).
"""

from __future__ import annotations

import hashlib

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
