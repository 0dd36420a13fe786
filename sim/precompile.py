"""Compiling the rules' kernels into numba's on-disk cache ahead of any run.

numba compiles a kernel the first time it is called and keeps the machine code in its
on-disk cache (``cache=True``); a later process loads it from there.
``python -m sim.precompile`` fills the cache once after installing, so that the first
real run does not wait for the compiler (``sim.model.load_kernels`` then loads the
kernels into each process while its first model is set up).
"""

from __future__ import annotations

from sim.model import DemandModel


def compile_kernels() -> None:
    """Compile the kernels into numba's on-disk cache: a short run on a small world
    network and one on mean-field mixing, whose neighbour arrays are typed
    differently."""
    for kind in ("watts-strogatz", "mean-field"):
        DemandModel("baseline", rng=1, overrides={"run.customers": 200, "network.kind": kind}).run(
            2
        )


if __name__ == "__main__":
    compile_kernels()
