"""Compiling the rules' kernels into numba's on-disk cache ahead of any run.

numba compiles a kernel the first time it is called and keeps the machine code in its
on-disk cache (``cache=True``); a later process loads it from there.
``python -m sim.precompile`` fills the cache once after installing, so that the first
real run does not wait for the compiler (``sim.model.load_kernels`` then loads the
kernels into each process while its first model is set up). It says on stderr what
it compiles and how long that should take, as ``make demo`` runs it on a fresh clone.
"""

from __future__ import annotations

import sys
import time

from sim.model import DemandModel

#: The networks whose neighbour arrays are typed differently, each compiled once, with
#: the seconds each took on the development machine from an empty cache (an estimate).
KINDS: tuple[tuple[str, float], ...] = (("watts-strogatz", 60.0), ("mean-field", 30.0))
#: Steps of each short run: long enough that no kernel is left to compile in a real run
#: (``benchmarks.run``'s first workload after filling the cache compiles nothing).
STEPS = 60


def compile_kernels(say: bool = False) -> None:
    """Compile the kernels into numba's on-disk cache: a short run on a small world
    network and one on mean-field mixing, whose neighbour arrays are typed
    differently.

    Args:
        say: print each step with its estimate and the time it took on stderr.
    """
    left = sum(seconds for _kind, seconds in KINDS)
    for i, (kind, seconds) in enumerate(KINDS, 1):
        t0 = time.perf_counter()
        if say:
            print(
                f"precompile: [{i}/{len(KINDS)}] the model's kernels on a {kind} network "
                f"(up to about {left:.0f} s left; seconds if already cached)",
                file=sys.stderr,
                flush=True,
            )
        # STEPS reach every rule a run calls, the rarest last: a complaint's resolution
        # by step 10, the detection of the rival's launch at step 41 (seed 1)
        DemandModel("baseline", rng=1, overrides={"run.customers": 200, "network.kind": kind}).run(
            STEPS
        )
        left -= seconds
        if say:
            print(
                f"precompile: [{i}/{len(KINDS)}] done in {time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )


if __name__ == "__main__":
    compile_kernels(say=True)
