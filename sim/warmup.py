"""Compiling the rules' kernels ahead of the first step.

numba compiles a kernel the first time it is called and keeps the machine code in its
on-disk cache (``cache=True``); a later process loads it from there. ``warm`` fills
the cache once after installing (``make`` runs ``python -m sim.warmup``), and
``load_kernels`` loads the kernels into a process while a model is being set up, so
that neither the compiler nor the loading is timed as part of a step.
"""

from __future__ import annotations

_LOADED: set[bool] = set()


def load_kernels(mean_field: bool) -> None:
    """Load the compiled kernels into this process (from numba's cache, or compiling
    them) while a model is being set up, rather than during its first step: one short
    run of a tiny model, once per process and kind of network."""
    if mean_field in _LOADED:
        return
    _LOADED.add(mean_field)
    from sim.model import DemandModel

    kind = "mean-field" if mean_field else "watts-strogatz"
    DemandModel("baseline", rng=1, overrides={"run.customers": 64, "network.kind": kind}).run(1)


def warm() -> None:
    """Compile the kernels into numba's on-disk cache (``make`` does this once after
    installing, so that the first real run does not wait for the compiler): a short
    run on a small world network and one on mean-field mixing, whose neighbour arrays
    are typed differently."""
    from sim.model import DemandModel

    for kind in ("watts-strogatz", "mean-field"):
        DemandModel("baseline", rng=1, overrides={"run.customers": 200, "network.kind": kind}).run(
            2
        )


if __name__ == "__main__":
    warm()
