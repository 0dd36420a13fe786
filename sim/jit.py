"""The decorator every compiled rule uses, and a numba cache that knows our imports.

numba keeps compiled kernels on disk (``cache=True``) and reuses them while the
*source file of the kernel* is unchanged. A kernel also contains the code it inlines
or calls from other modules (the random-number generator of ``sim.rng``, the need
states of ``sim.state``...), and numba does not look at those files: after editing
``sim/rng.py`` it would go on running the old generator. ``SimCacheLocator`` stamps a
kernel's cache with a hash of its own module and every ``sim`` module that module
imports, transitively, so an edit recompiles exactly the kernels it can affect (and
an edit to one rule's module recompiles that rule alone, which keeps the edit-to-run
loop short). It handles the files of this package only; numba's own locators handle
everything else.

The per-customer rules run their customer loops on all cores (``parallel_kernel``).
A parallel kernel holds its ``prange`` loops and scalar code only: numba turns every
array expression in it (``np.zeros``, ``a += b``) into a parallel loop of its own,
a thread launch each. numba's OpenMP threads would spin between two parallel loops,
burning a core's time while Python runs the firm-level part of a step (four times
the CPU time of a 10k-customer loop, measured): unless the user chose otherwise,
they wait passively (``OMP_WAIT_POLICY``, read when numba starts its threads, which
``threads_for`` sets just before the first parallel kernel runs, not at import). A process whose
models have run a parallel loop must not ``fork`` children that run models (GNU
OpenMP is not fork-safe): start them with ``spawn`` or ``forkserver``, as
``analysis.runs.executors``, Dask and ``mesa.batch_run`` do.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

import numba
from numba import njit
from numba.core.caching import CacheImpl, InTreeCacheLocator

HERE = Path(__file__).resolve().parent

#: a module-level import of this package (``from sim.x import (``... too). Indented
#: imports are left out: under ``if TYPE_CHECKING:`` they do not run, and inside a
#: Python function no kernel can see them; counting them made every rule depend on
#: ``sim.model`` (through the type hints of ``sim.firms``), and so on every other rule
_IMPORT = re.compile(r"^from sim(?:\.(\w+))? import \(?([\w, ]*)", re.MULTILINE)


@cache
def _deps(path: Path) -> frozenset[Path]:
    """``path`` and the modules of this package it imports, transitively."""
    seen = {path}
    todo = [path]
    while todo:
        for mod, names in _IMPORT.findall(todo.pop().read_text(encoding="utf-8")):
            cands = [mod] if mod else [n.strip() for n in names.split(",")]
            for name in cands:
                p = HERE / f"{name}.py"
                if p.exists() and p not in seen:
                    seen.add(p)
                    todo.append(p)
    return frozenset(seen)


class SimCacheLocator(InTreeCacheLocator):
    """numba's in-tree cache, stamped with the hash of a kernel's module and of every
    module of this package it imports."""

    def get_source_stamp(self) -> str:
        h = hashlib.sha256()
        for p in sorted(_deps(Path(self._py_file).resolve())):
            h.update(p.name.encode())
            h.update(p.read_bytes())
        return h.hexdigest()

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> SimCacheLocator | None:
        if Path(py_file).resolve().parent != HERE:
            return None
        return super().from_function(py_func, py_file)  # type: ignore[no-any-return]


if SimCacheLocator not in CacheImpl._locator_classes:
    CacheImpl._locator_classes.insert(0, SimCacheLocator)

#: compile a rule's kernel: cached on disk, without the GIL (models in threads)
kernel = njit(cache=True, nogil=True)

#: a kernel whose ``numba.prange`` loops run on all cores (plain ``range`` under
#: ``NUMBA_DISABLE_JIT=1``). Its loops run over fixed chunks of customers, each writing
#: only its own rows and its own slots of the outputs, so that the results are the same
#: whatever the number of threads (``chunks``)
parallel_kernel = njit(cache=True, nogil=True, parallel=True)

#: customers per chunk of a parallel loop: fixed, so that the chunks, and every result
#: put together from them in chunk order, do not depend on the number of threads
CHUNK = 2048


@njit(inline="always")
def chunks(n: int) -> int:
    """The number of chunks of ``CHUNK`` customers that cover ``n`` customers."""
    return (n + CHUNK - 1) // CHUNK


#: the fewest chunks worth spreading over threads: below, waking the other threads
#: costs more than they take off (10,000 customers, five chunks: 1.6 times the CPU
#: time on two threads, and slower; ``benchmarks/results.md``)
PARALLEL_MIN_CHUNKS = 32


_PASSIVE = False  # whether ``_wait_passively`` has run in this process


def _wait_passively() -> None:
    """Let numba's OpenMP threads sleep between parallel loops, unless the user chose
    otherwise: read once, when the threads start, so set before the first parallel
    kernel (and not at import: importing demandsim changes nothing)."""
    global _PASSIVE
    if not _PASSIVE:
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        _PASSIVE = True


#: whether this Python thread is inside ``threads_for`` of a small market already
_ONE_THREAD = threading.local()


class _OneThread:
    """Numba on one thread inside the block, as many as before after it."""

    def __init__(self) -> None:
        self.before = 1

    def __enter__(self) -> None:
        self.before = numba.get_num_threads()
        numba.set_num_threads(1)
        _ONE_THREAD.on = True

    def __exit__(self, *exc: object) -> None:
        _ONE_THREAD.on = False
        numba.set_num_threads(self.before)


_AS_IT_IS = nullcontext()


def threads_for(n: int) -> AbstractContextManager[None]:
    """Run the parallel kernels called inside on one thread when ``n`` customers make
    fewer than ``PARALLEL_MIN_CHUNKS`` chunks (the numbers are the same either way).
    Nested calls cost nothing: the model wraps a whole step, so that the rules inside
    do not switch numba's thread count back and forth (about 16 µs a switch). A plain
    class, not a generator: the rules call it a dozen times a step."""
    _wait_passively()
    if (n + CHUNK - 1) // CHUNK >= PARALLEL_MIN_CHUNKS or getattr(_ONE_THREAD, "on", False):
        return _AS_IT_IS
    return _OneThread()
