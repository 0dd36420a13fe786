"""Parallel loops without ``prange``, measured on the platform rule: each parallel loop's
range of chunks a plain kernel (``sim.jit.kernel``, compiled without the GIL) run on
two Python threads over the two halves of the chunks, the serial pieces between the
loops kernels of their own (docs/performance.md, "The edit loop on the event engine").

    python -m benchmarks.thread_halves [--customers 1000000] [--warm 12] [--steps 8]
                                       [--small 2000] [--compile-reps 2] [--skip ...]

``halves_platform`` is ``sim.platform.platform_kernel`` taken apart this way (the
contact pass, the contacts' prefix, the read pass, the gathering), ``halves_chains``
``sim.contact_chains.draw_chains``. In one process, alternating:

- **speed**: the ``baseline`` scenario at ``--customers`` run ``--warm`` steps, then at
  each of ``--steps`` steps every firm's ``platform_kernel`` call replayed on the same
  state by both versions, on one thread and on two (the order alternating between
  steps), every output and written array equal to the first call's: wall and CPU ms
  per call, medians; the halves on two threads by a thread started per call and by a
  persistent worker (``Pair``);
- **small markets**: the same at ``--small`` customers (one chunk: the one-thread path)
  in microseconds per call, each call repeated; then each version called again and
  again on the state its last call left, where nothing is left to contact (what the
  calls from Python cost);
- **what a hand-off costs**: the two-thread runner over an empty kernel, a thread
  started per call against the persistent worker;
- **compile**: each version's first call in a fresh process, on arguments a small
  model handed ``platform_kernel``, in a copy of the tree: with an empty cache (every
  kernel the version calls compiled), and after an edit to ``sim/platform.py`` with
  everything else cached (the edit loop's case: ``benchmarks.edit_loop``), each
  ``--compile-reps`` times, the versions alternating (CPU seconds of the child: the
  compiler runs on one thread, and the machine is shared).

The halves: ``_contacts`` (the contact pass over a range of chunks, returning its
contacts) and ``_reads`` (the read pass over a range of chunks into lists given, or the
lists put together with the tallies, or on one thread both in one call with lists of its
own); two calls from Python on one thread, against one for ``platform_kernel``.

Figures (``nice -n 19 python -m benchmarks.thread_halves --kernels --compile-reps 3``,
2026-12-08 01:23 UTC, load average about 1 on the 2-core machine):

- compile, CPU seconds of the first calls: empty cache ``platform_kernel`` and
  ``draw_chains`` 25.04 23.69 25.81, the halves 17.52 16.12 16.45 (0.66x the
  medians); after editing ``sim/platform.py`` 11.98 13.14 13.76 against 7.90 9.39
  9.44 (0.71x). ``_contact_chunk``, compiled again by both, takes 3.0-4.3 s of it;
  ``platform_kernel``'s own part 8.2-9.2 s against ``_contacts`` 0.9-1.2 and
  ``_reads`` 2.6-2.9 (it optimizes the cached ``read_chunk`` again inside it);
- hand-off of an empty kernel's half to a second thread: 20-28 µs a call with the
  persistent worker, 162-205 µs with a thread started and joined per call;
- 2,000 customers (one thread), µs per call, median of 40: personalized 61.76 ->
  63.54 (1.03x), homogeneous 44.13 -> 47.33 (1.07x);
  called again and again on the state the last call left (``idle_calls``: nothing
  left to contact; ``--skip compile handoff speed``, 01:31 UTC, the replay then
  1.06x and 1.07x) 38.94 -> 35.93 and 13.98 -> 14.13: the two calls from Python
  cost what the one does, the chunk code compiled apart from its loop is slower;
- 1,000,000 customers, ms per call, median of 16 (wall): one thread, personalized
  17.35 -> 18.18 (1.05x), homogeneous 8.24 -> 9.07 (1.10x); two threads (the
  worker), personalized 10.18 -> 9.74 (0.96x), homogeneous 5.08 -> 5.37 (1.06x); with
  a thread started per call 10.72 and 6.12.

Every call's outputs and written arrays were the same in both versions. Slower on
one thread at 1M and at 2,000 customers, equal within noise on two threads at 1M:
left out of ``sim`` (docs/performance.md, "The edit loop on the event engine").
Tried before: the serial pieces as kernels of their own (the contacts' prefix, the
gathering) and one kernel calling all four for the one-thread path compiled slower
than ``platform_kernel`` after the edit (13.66 against 12.66 s of wall time in one
run: that kernel optimizes its callees' code again); the glue in numpy instead (prefix,
allocation, tallies) was 1.55x ``platform_kernel`` per call at 2,000 customers (a
short run, 8 calls).
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

from benchmarks.timing import timed
from sim.contact_chains import skip_chunk
from sim.jit import CHUNK, PARALLEL_MIN_CHUNKS, kernel
from sim.links import overload_rate
from sim.platform import _contact_chunk
from sim.reads import gather_reads, read_chunk
from sim.rng import CONTACT_SKIP, next_candidate, uniform

ROOT = Path(__file__).resolve().parent.parent
#: print each compiled kernel's seconds (with what it compiles inside it)
VERBOSE = False


# ------------------------------------------------------------- the halves' kernels
@kernel
def _contacts(  # type: ignore[no-untyped-def]
    k0, k1, kind, chain, rk, step_addr, now, table, scheduled, p, seen, who, contacted,
    offered, hits,
):  # fmt: skip
    """``platform_kernel``'s contact pass over chunks k0..k1-1: their contacts (``table``,
    ``scheduled``, ``p``: the fields of ``PlatformInputs`` it reads, passed apart: a
    record costs more to pass from Python than its fields)."""
    n = kind.size
    lq = math.log1p(-p) if 0.0 < p < 1.0 else 0.0
    n_con = 0
    for k in range(k0, k1):
        lo, hi = k * CHUNK, min(k * CHUNK + CHUNK, n)
        if p >= 0.0:  # the chains (the event engine's homogeneous contacts)
            got = skip_chunk(lo, hi, kind, chain, p, lq, rk, step_addr, now, who, contacted, offered)  # fmt: skip
        else:
            got = _contact_chunk(lo, hi, kind, table, scheduled, rk, step_addr, seen, now, who, contacted, offered)  # fmt: skip
        hits[k] = got
        n_con += got
    return n_con


#: ``_reads``' modes: the read pass over a range of chunks into the arrays given; the
#: chunks' lists and counts put together; both on this thread, into arrays of its own
READ, GATHER, ALL = 0, 1, 2
#: ``_reads``' arrays when it makes its own (``ALL``)
_NO_LIST = np.empty(0, np.int64)
_NO_COUNTS = np.empty((0, 9), np.int64)
_NO_BELIEVED = np.empty((0, 0, 0), np.int64)


@kernel
def _reads(  # type: ignore[no-untyped-def]
    mode, k0, k1, who, hits, rk, step_addr, inputs, n_con, truth, records, kind, now,
    offered, believed, n_open, tallies, first, read_ok, offered_at, counts, d_believed,
):  # fmt: skip
    """``platform_kernel``'s read pass over chunks k0..k1-1 (``n_con``: the step's
    contacts, the feedback link's load), writing their slots of ``first`` (the
    contacts before each chunk), ``read_ok``, ``offered_at``, ``counts`` and
    ``d_believed``; or the chunks' lists and counts put together (``gather_reads``) and
    the tallies; or both, over all chunks, in arrays of its own (``mode``: ``READ``,
    ``GATHER``, ``ALL``). Returns the lists (empty after ``READ``)."""
    n_chunks = hits.size
    C = truth[0].shape[1]
    if mode == ALL:  # one call from Python rather than a call and five arrays
        first = np.empty(n_chunks + 1, np.int64)
        read_ok = np.empty(n_con * C, np.int64)
        offered_at = np.empty(n_con * C, np.int64)
        counts = np.empty((n_chunks, 9), np.int64)
        d_believed = np.empty((n_chunks, C, believed.shape[1]), np.int64)
    if mode != GATHER:
        fb = overload_rate(inputs.feedback, np.float64(n_con), inputs.feedback_cap)
        at = 0  # the contacts before chunk k
        for k in range(k0):
            at += hits[k]
        if k0 == 0:
            first[0] = 0
        for k in range(k0, k1):
            mine = who[k * CHUNK : k * CHUNK + hits[k]]  # the chunk's contacts
            read_chunk(mine, at * C, rk, step_addr, inputs, fb, truth, records, kind, d_believed[k], now, offered, read_ok, offered_at, counts[k])  # fmt: skip
            at += hits[k]
            first[k + 1] = at
    if mode == READ:
        return read_ok[:0], offered_at[:0]
    n_ok, n_off = gather_reads(first, counts, d_believed, read_ok, offered_at, believed, n_open)
    tallies[0] = n_con
    for r in range(1, 7):  # feedback, then the contact links: ``platform_kernel``'s tallies
        tallies[r] = counts[:, r + 2].sum()
    return read_ok[:n_ok], offered_at[:n_off]


@kernel
def _chains(k0, k1, chain, rk, step_addr, t, p):  # type: ignore[no-untyped-def]
    """``draw_chains`` over chunks k0..k1-1."""
    n = chain.size
    lq = math.log1p(-p) if 0.0 < p < 1.0 else 0.0
    for k in range(k0, k1):
        lo = k * CHUNK
        for i in range(lo, min(lo + CHUNK, n)):
            chain[i] = next_candidate(t, uniform(rk, step_addr, i, CONTACT_SKIP, 0), p, lq)
    return 0


@kernel
def _nothing(k0, k1):  # type: ignore[no-untyped-def]
    return k1 - k0


# ------------------------------------------------------------- running on halves
class Pair:
    """One persistent worker thread: ``run(fn, n_chunks, *args)`` calls ``fn(mid,
    n_chunks, *args)`` there and ``fn(0, mid, *args)`` on the calling thread, and
    returns both results, the first half's first."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = (
            queue.SimpleQueue()
        )
        self.done: queue.SimpleQueue[tuple[Any, BaseException | None]] = queue.SimpleQueue()
        threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        while True:
            fn, args = self.jobs.get()
            try:
                self.done.put((fn(*args), None))
            except BaseException as exc:  # handed back to the caller
                self.done.put((None, exc))

    def run(self, fn: Callable[..., Any], n_chunks: int, *args: Any) -> Any:
        mid = (n_chunks + 1) // 2
        self.jobs.put((fn, (mid, n_chunks, *args)))
        got = fn(0, mid, *args)
        other, exc = self.done.get()
        if exc is not None:
            raise exc
        return got, other


def started(fn: Callable[..., Any], n_chunks: int, *args: Any) -> Any:
    """The same with a thread started and joined per call."""
    mid = (n_chunks + 1) // 2
    other: list[Any] = []
    th = threading.Thread(target=lambda: other.append(fn(mid, n_chunks, *args)))
    th.start()
    got = fn(0, mid, *args)
    th.join()
    return got, other[0]


_PAIR: Pair | None = None


def pair(fn: Callable[..., Any], n_chunks: int, *args: Any) -> Any:
    global _PAIR
    if _PAIR is None:
        _PAIR = Pair()
    return _PAIR.run(fn, n_chunks, *args)


#: how the halves run on two threads (``pair`` or ``started``)
RUNNER: dict[str, Callable[..., Any]] = {"pair": pair, "started": started}


def two_threads(n_chunks: int) -> bool:
    """Whether a loop over ``n_chunks`` chunks runs on two threads: when numba may use
    two (``sim.jit.threads_for`` sets one for a small market) and there are
    ``PARALLEL_MIN_CHUNKS``."""
    return n_chunks >= PARALLEL_MIN_CHUNKS and numba.get_num_threads() >= 2


def on_halves(fn: Callable[..., Any], n_chunks: int, *args: Any, runner: str = "pair") -> Any:
    """``fn`` over chunks 0..n_chunks-1, returning a number: over the two halves on two
    threads when numba may use two and there are ``PARALLEL_MIN_CHUNKS`` chunks (the
    sum of the halves' numbers), else on this thread."""
    if two_threads(n_chunks):
        return sum(RUNNER[runner](fn, n_chunks, *args))
    return fn(0, n_chunks, *args)


def halves_platform(
    kind: np.ndarray,
    chain: np.ndarray,
    rk: np.ndarray,
    step_addr: int,
    now: int,
    inputs: Any,
    truth: tuple[np.ndarray, ...],
    records: tuple[np.ndarray, ...],
    believed: np.ndarray,
    n_open: np.ndarray,
    who: np.ndarray,
    contacted: np.ndarray,
    offered: np.ndarray,
    tallies: np.ndarray,
    runner: str = "pair",
) -> tuple[np.ndarray, np.ndarray]:
    """``sim.platform.platform_kernel``, its two parallel loops on halves."""
    n, C = truth[0].shape
    n_chunks = (n + CHUNK - 1) // CHUNK
    hits = np.empty(n_chunks, np.int64)
    n_con = on_halves(
        _contacts, n_chunks, kind, chain, rk, step_addr, now, inputs.table, inputs.scheduled,
        inputs.skip_p, records[3], who, contacted, offered, hits, runner=runner,
    )  # fmt: skip
    args = (
        who, hits, rk, step_addr, inputs, n_con, truth, records, kind, now, offered, believed,
        n_open, tallies,
    )  # fmt: skip
    if not two_threads(n_chunks):
        return _reads(
            ALL, 0, n_chunks, *args, _NO_LIST, _NO_LIST, _NO_LIST, _NO_COUNTS, _NO_BELIEVED
        )  # type: ignore[no-any-return]
    lists = (
        np.empty(n_chunks + 1, np.int64),
        np.empty(n_con * C, np.int64),
        np.empty(n_con * C, np.int64),
        np.empty((n_chunks, 9), np.int64),  # see ``read_chunk``
        np.empty((n_chunks, C, believed.shape[1]), np.int64),
    )
    RUNNER[runner](lambda k0, k1: _reads(READ, k0, k1, *args, *lists), n_chunks)
    return _reads(GATHER, n_chunks, n_chunks, *args, *lists)  # type: ignore[no-any-return]


def halves_chains(chain: np.ndarray, rk: np.ndarray, step_addr: int, t: int, p: float) -> None:
    """``sim.contact_chains.draw_chains`` on halves."""
    on_halves(_chains, (chain.size + CHUNK - 1) // CHUNK, chain, rk, step_addr, t, p)


# ------------------------------------------------------------- replaying the calls
#: the positions of ``platform_kernel``'s arguments it writes (kind, chain, records, believed,
#: n_open, who, contacted, offered, tallies)
_WRITTEN = (0, 1, 8, 9, 10, 11, 12, 13)


def _arrays(args: tuple[Any, ...]) -> list[np.ndarray]:
    out = [args[i] for i in _WRITTEN] + list(args[7])
    return [a for a in out if a.size]


class Replay:
    """Wraps ``sim.platform.platform_kernel``: each call replayed by every variant on
    the same state, timed, outputs compared with the first variant's."""

    def __init__(self, variants: dict[str, tuple[Callable[..., Any], int]], reps: int = 1):
        self.variants = variants
        self.reps = reps
        self.wall: dict[tuple[str, bool], list[float]] = {}
        self.cpu: dict[tuple[str, bool], list[float]] = {}
        self.calls = 0
        self.last: dict[bool, tuple[Any, ...]] = {}  # each firm kind's last arguments

    def __call__(self, *args: Any) -> Any:
        self.last[args[5].scheduled] = args
        arrays = _arrays(args)
        saved = [a.copy() for a in arrays]
        names = list(self.variants)
        if self.calls % 2:
            names.reverse()
        self.calls += 1
        ref: list[np.ndarray] | None = None
        before = numba.get_num_threads()
        for name in names:
            fn, threads = self.variants[name]
            numba.set_num_threads(threads)
            for _ in range(self.reps):
                for a, s in zip(arrays, saved, strict=True):
                    a[...] = s
                t, c = time.perf_counter(), time.process_time()
                out = fn(*args)
                self.cpu.setdefault((name, args[5].scheduled), []).append(time.process_time() - c)
                self.wall.setdefault((name, args[5].scheduled), []).append(time.perf_counter() - t)
            got = [a.copy() for a in arrays] + list(out)
            if ref is None:
                ref = got
            elif not all(np.array_equal(x, y) for x, y in zip(ref, got, strict=True)):
                bad = [
                    i
                    for i, (x, y) in enumerate(zip(ref, got, strict=True))
                    if not np.array_equal(x, y)
                ]
                raise SystemExit(f"{name} differs from {names[0]} (written arrays, outputs: {bad})")
        numba.set_num_threads(before)
        return out


def _variants(two: bool) -> dict[str, tuple[Callable[..., Any], int]]:
    from sim.platform import platform_kernel

    out: dict[str, tuple[Callable[..., Any], int]] = {
        "prange, 1 thread": (platform_kernel, 1),
        "halves, 1 thread": (halves_platform, 1),
    }
    if two:
        out["prange, 2 threads"] = (platform_kernel, 2)
        out["halves, 2 threads (worker)"] = (halves_platform, 2)
        out["halves, 2 threads (started)"] = (
            lambda *a: halves_platform(*a, runner="started"),
            2,
        )
    return out


def _model(customers: int, warm: int) -> Any:
    from sim import DemandModel

    return DemandModel("baseline", rng=1, overrides={"run.customers": customers}).run(warm)


def replay(customers: int, warm: int, steps: int, two: bool, reps: int, unit: float) -> None:
    """Prints each variant's median wall and CPU per call (``unit``: 1e3 ms, 1e6 µs)."""
    import sim.platform as platform_module

    model = _model(customers, warm)
    bench = Replay(_variants(two), reps)
    kept = platform_module.platform_kernel
    platform_module.platform_kernel = bench  # type: ignore[assignment]
    try:
        model.run(1)  # every variant's first calls (they compile), left out
        bench.wall.clear()
        bench.cpu.clear()
        first = bench.calls
        model.run(steps)
    finally:
        platform_module.platform_kernel = kept  # type: ignore[assignment]
    label = "ms" if unit == 1e3 else "µs"
    print(
        f"{customers:,} customers, {bench.calls - first} calls ({len(model.books)} firms, "
        f"{steps} steps after {warm + 1}): {label} per call, median wall / CPU, and the"
        " wall's ratio to the first line's"
    )
    for scheduled in sorted({s for _, s in bench.wall}, reverse=True):
        print("  personalized (scheduled contacts)" if scheduled else "  homogeneous (chains)")
        base = statistics.median(bench.wall[next(iter(bench.variants)), scheduled])
        for v in bench.variants:
            w = statistics.median(bench.wall[v, scheduled])
            c = statistics.median(bench.cpu[v, scheduled])
            print(f"    {v:28s} {w * unit:8.2f} / {c * unit:8.2f}   {w / base:5.2f}x")
    if not two:
        idle_calls(bench)


def idle_calls(bench: Replay, reps: int = 2000) -> None:
    """Each variant called again and again on the state its last call left, where
    nothing is left to contact: what the calls from Python cost (µs, median)."""
    print("  the last calls again, nothing left to contact: µs per call (median of 2,000)")
    numba.set_num_threads(1)
    for scheduled, args in sorted(bench.last.items(), reverse=True):
        got = []
        for v, (fn, _threads) in bench.variants.items():
            fn(*args)
            got.append(
                f"{v} {statistics.median(timed(lambda fn=fn, args=args: fn(*args), reps)) * 1e6:.2f}"
            )
        print(f"    {'personalized' if scheduled else 'homogeneous'}: {', '.join(got)}")


def hand_off(n_chunks: int, reps: int = 2000) -> None:
    """The two-thread runner over an empty kernel: µs per call."""
    numba.set_num_threads(2)
    _nothing(0, 1)
    for name in ("pair", "started"):
        RUNNER[name](_nothing, n_chunks)
    for name in ("pair", "started", "pair", "started"):
        t = time.perf_counter()
        for _ in range(reps):
            RUNNER[name](_nothing, n_chunks)
        print(f"  {name:8s} {(time.perf_counter() - t) / reps * 1e6:7.1f} µs a call")


# ------------------------------------------------------------- compile times
#: a child's code: the version's first calls on the saved arguments, timed
CHILD = """
import pickle, sys, time
from numba.core import event
_start, _spent = {}, {}
class _Times(event.Listener):
    def on_start(self, ev):
        _start[ev.data['dispatcher'].py_func] = time.process_time()
    def on_end(self, ev):
        f = ev.data['dispatcher'].py_func
        if f.__module__.startswith('sim.'):
            _spent[f.__qualname__] = time.process_time() - _start[f]
event.register('numba:compile', _Times())
import numba, numpy as np
import sim.platform, sim.contact_chains, sim.thread_halves as h
args, chains = pickle.load(open(sys.argv[2], 'rb'))
numba.set_num_threads(1)
if sys.argv[1] == 'prange':
    run, draw = sim.platform.platform_kernel, sim.contact_chains.draw_chains
else:
    run, draw = h.halves_platform, h.halves_chains
t = time.process_time()
run(*args)
draw(*chains)
took = time.process_time() - t
print(' '.join(f'{k}={v:.2f}' for k, v in _spent.items() if v >= 0.05))
print('seconds', took)
"""


def _first_call(where: Path, version: str, saved: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(where))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, version, str(saved)],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    if VERBOSE:
        print(f"    {version}: {out.stdout.splitlines()[0]}", flush=True)
    return float(out.stdout.split()[-1])


def _copy(tmp: Path) -> Path:
    where = Path(tempfile.mkdtemp(dir=tmp))
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "sim", where / "sim", ignore=ignore)
    shutil.copytree(ROOT / "benchmarks", where / "benchmarks", ignore=ignore)
    shutil.copy(Path(__file__), where / "sim" / "thread_halves.py")
    return where


def compile_times(reps: int) -> None:
    """Seconds of each version's first calls in fresh processes (see the module's
    docstring): empty cache, then after editing ``sim/platform.py``."""
    import sim.contact_chains as chains_module
    import sim.platform as platform_module

    got: dict[str, Any] = {}
    kept = platform_module.platform_kernel, chains_module.draw_chains

    def grab(*a: Any) -> Any:
        got["args"] = tuple(x.copy() if isinstance(x, np.ndarray) else x for x in a)
        return kept[0](*a)

    platform_module.platform_kernel = grab  # type: ignore[assignment]
    try:
        model = _model(500, 0)
        model.run(2)
    finally:
        platform_module.platform_kernel = kept[0]  # type: ignore[assignment]
    key = model.streams.key(f"platform:{model.books[-1].name}")
    chain = np.zeros(500, np.int32)
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "args.pickle"
        saved.write_bytes(pickle.dumps((got["args"], (chain, key, 0, 0, 0.1))))
        empty: dict[str, list[float]] = {"prange": [], "halves": []}
        edited: dict[str, list[float]] = {"prange": [], "halves": []}
        for r in range(reps):
            order = ("prange", "halves") if r % 2 == 0 else ("halves", "prange")
            for version in order:  # a fresh copy each: nothing cached
                empty[version].append(_first_call(_copy(Path(tmp)), version, saved))
        where = _copy(Path(tmp))
        for version in ("prange", "halves"):  # every kernel into the copy's cache
            _first_call(where, version, saved)
        for r in range(reps):
            order = ("prange", "halves") if r % 2 == 0 else ("halves", "prange")
            for version in order:  # an edit before each: nothing of it left by the other
                with open(where / "sim" / "platform.py", "a", encoding="utf-8") as fh:
                    fh.write("\n# an edit\n")
                edited[version].append(_first_call(where, version, saved))
    print("compile: seconds of the first calls in a fresh process (each run)")
    for version in ("prange", "halves"):
        print(
            f"  {version:6s} empty cache {' '.join(f'{s:.2f}' for s in empty[version])};"
            f" after editing sim/platform.py {' '.join(f'{s:.2f}' for s in edited[version])}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.thread_halves", description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--warm", type=int, default=12)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--small-steps", type=int, default=40)
    ap.add_argument("--compile-reps", type=int, default=2)
    ap.add_argument(
        "--skip", nargs="*", default=[], choices=["speed", "small", "handoff", "compile"]
    )
    ap.add_argument("--kernels", action="store_true", help="each compiled kernel's seconds")
    a = ap.parse_args(argv)
    global VERBOSE
    VERBOSE = a.kernels
    if "compile" not in a.skip:
        compile_times(a.compile_reps)
    if "handoff" not in a.skip:
        for customers in (a.small, a.customers):
            n_chunks = (customers + CHUNK - 1) // CHUNK
            print(f"hand-off to a second thread, {n_chunks} chunks, an empty kernel:")
            hand_off(n_chunks)
    if "small" not in a.skip:
        replay(a.small, a.warm, a.small_steps, False, 20, 1e6)
    if "speed" not in a.skip:
        replay(a.customers, a.warm, a.steps, True, 1, 1e3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
