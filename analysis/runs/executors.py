"""Where runs execute: in this process, local worker processes, an existing Dask
cluster, or any ``concurrent.futures.Executor``.

Every executor takes a list of tasks (dicts with a ``run_id``) and yields each run's
record as soon as it finishes, in whatever order runs finish. They never write
files: the caller does, so a cluster does not need to share a file system with it.
Every task is a pure function call (``analysis.runs.ensemble.run_replication``,
``analysis.sweeps.run.execute_run``), so a run repeated after a lost worker gives the
same record. ``resolve_executor`` turns what a caller passes (nothing, a number of
workers, a ``concurrent.futures.Executor``, a ``distributed.Client``) into one.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from sim.errors import InputError

Task = dict[str, Any]
Record = dict[str, Any]

# Threads per worker process: runs are the unit of parallelism, not BLAS.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class Executor(Protocol):
    description: str
    workers: int

    def run(self, fn: Callable[[Task], Record], tasks: list[Task]) -> Iterator[Record]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _init_worker() -> None:
    import signal

    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")
    # Ctrl-C is the driver's to handle: it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_workers(pool: Any) -> None:
    """Terminate a pool's worker processes now (runs in flight are abandoned)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


#: What the fork server imports for its worker processes: the model and its runners.
PRELOAD = ("analysis.runs.ensemble", "analysis.sweeps.run", "sim.model")


class LocalExecutor:
    """A pool of local worker processes (``forkserver`` on Linux, else ``spawn``).

    The start method is chosen for this pool only; the global default is left alone
    (on Linux the fork server is asked to preload the model, which saves every worker
    process its own import; ``preload`` names other modules instead, for runners
    that do not need the model).
    If a worker process dies (killed, out of memory), the pool is started again for
    the runs that had not finished, up to ``restarts`` times. The worker processes
    are kept from one ``run`` to the next (a sweep hands its runs over in several
    calls), until ``close``.
    """

    def __init__(
        self, workers: int | None = None, restarts: int = 3, preload: list[str] | None = None
    ) -> None:
        self.workers = workers or default_workers()
        if self.workers < 1:
            raise InputError(f"--workers {self.workers}: expected a positive integer")
        self.restarts = restarts
        self._pool: Any = None
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        self._ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            # Import the model once in the fork server, not once per worker process.
            self._ctx.set_forkserver_preload(preload or list(PRELOAD))
        self.description = f"local, {self.workers} worker process{'es' if self.workers > 1 else ''}"

    def run(self, fn: Callable[[Task], Record], tasks: list[Task]) -> Iterator[Record]:
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = {t["run_id"]: t for t in tasks}
        attempts = 0
        while pending:
            broken = False
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=self._ctx, initializer=_init_worker
                )
            pool = self._pool
            try:
                futures = {pool.submit(fn, t): rid for rid, t in pending.items()}
                remaining = set(futures)
                while remaining:
                    done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                    for fut in sorted(done, key=lambda f: futures[f]):
                        try:
                            record = fut.result()
                        except BrokenProcessPool:
                            broken = True
                            continue
                        pending.pop(futures[fut], None)
                        yield record
                    if broken:
                        break
            except BaseException:  # interrupted, or the consumer stopped: stop the workers
                self._pool = None
                _stop_workers(pool)
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            if broken:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                attempts += 1
                if attempts > self.restarts:
                    raise RuntimeError(
                        f"worker processes died {attempts} times; {len(pending)} runs not done "
                        "(run the sweep again to resume)"
                    )

    def close(self) -> None:
        """Stop the worker processes (kept from one ``run`` to the next until then)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class SchedulerLost(RuntimeError):
    """The Dask scheduler went away: the runs not yet finished were not run."""

    def __init__(self, address: str, left: int) -> None:
        super().__init__(
            f"lost the Dask scheduler at {address}; {left} runs not run "
            "(run the same command again to finish them)"
        )
        self.left = left


class DaskExecutor:
    """Runs on an existing Dask cluster (``tcp://host:port``).

    Each run is submitted under its run id as the task key, so the scheduler never
    confuses two runs and never merges them. A worker lost mid-run is handled by the
    scheduler, which runs the task again elsewhere; a task that kills workers
    repeatedly comes back as a failed run.
    """

    def __init__(self, address: str, timeout: float | None = None) -> None:
        try:
            import dask
            from distributed import Client
        except ImportError:  # pragma: no cover - a declared dependency
            raise InputError("--scheduler: the 'distributed' package is not installed") from None
        if timeout is None:  # Dask's own setting (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT)
            timeout = dask.utils.parse_timedelta(
                dask.config.get("distributed.comm.timeouts.connect")
            )
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
            self._owned = True
        except (OSError, TimeoutError, ValueError) as exc:
            msg = " ".join(str(exc).split())[:200]
            raise InputError(f"--scheduler {address!r}: cannot connect ({msg})") from None
        self._describe(address)

    @classmethod
    def from_client(cls, client: Any) -> DaskExecutor:
        """An executor on a caller's ``distributed.Client`` (left open by ``close``)."""
        self = cls.__new__(cls)
        self.client = client
        self._owned = False
        self._describe(str(getattr(client.scheduler, "address", "") or "in-process"))
        return self

    def _describe(self, address: str) -> None:
        info = self.client.scheduler_info()
        self.workers = len(info.get("workers", {}))
        self.address = address
        self.description = f"Dask cluster {address}, {self.workers} workers"

    def run(self, fn: Callable[[Task], Record], tasks: list[Task]) -> Iterator[Record]:
        from concurrent.futures import CancelledError

        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        done = 0
        keys = [f"demandsim-run-{t['run_id']}" for t in tasks]
        futures = self.client.map(fn, tasks, key=keys, pure=False)
        by_key = {f.key: t["run_id"] for f, t in zip(futures, tasks, strict=True)}
        try:
            for fut in as_completed(futures, loop=self.client.loop):
                rid = by_key[fut.key]
                if fut.status != "finished" and fut.status != "error":
                    # cancelled or lost with the scheduler: these runs were not run
                    raise SchedulerLost(self.address, len(futures) - done)
                try:
                    record = fut.result()
                except KilledWorker as exc:  # it killed workers beyond the scheduler's retries
                    line = " ".join(f"{exc.__class__.__name__}: {exc}".split())[:500]
                    record = {
                        "run_id": rid,
                        "status": "error",
                        "error": line,
                        "traceback": None,
                        "outcomes": {},
                        "timeseries": None,
                        "seconds": 0.0,
                    }
                except CancelledError:
                    raise SchedulerLost(self.address, len(futures) - done) from None
                fut.release()
                done += 1
                yield record
        finally:
            with contextlib.suppress(Exception):  # the scheduler may be gone with them
                self.client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        if getattr(self, "_owned", True):
            self.client.close()


class InlineExecutor:
    """Runs every task in this process, one after the other (no pickling, no start-up)."""

    description = "this process"
    workers = 1

    def run(self, fn: Callable[[Task], Record], tasks: list[Task]) -> Iterator[Record]:
        for task in tasks:
            yield fn(task)

    def close(self) -> None:
        """Nothing to release."""


class FuturesExecutor:
    """Any ``concurrent.futures.Executor`` (threads, processes, MPI pools, Dask's
    ``client.get_executor()``): tasks are submitted at once and their records yielded
    as they complete. The executor stays the caller's: ``close`` does not shut it down."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.workers = int(getattr(executor, "_max_workers", 0) or 1)
        self.description = type(executor).__name__

    def run(self, fn: Callable[[Task], Record], tasks: list[Task]) -> Iterator[Record]:
        from concurrent.futures import as_completed

        futures = [self.executor.submit(fn, t) for t in tasks]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        """The executor belongs to the caller."""


def resolve_executor(executor: Any = None) -> tuple[Executor, bool]:
    """The executor behind what a caller passed, and whether the caller must close it.

    Args:
        executor: None or 1 (this process), a number of local worker processes, an
            object with this module's ``run``/``close`` interface, a
            ``concurrent.futures.Executor``, or a ``distributed.Client``.
    """
    from concurrent.futures import Executor as FuturesBase

    if executor is None or (isinstance(executor, int) and executor == 1):
        return InlineExecutor(), True
    if isinstance(executor, int) and not isinstance(executor, bool):
        return LocalExecutor(executor), True
    if hasattr(executor, "run") and hasattr(executor, "close") and hasattr(executor, "workers"):
        return executor, False
    if isinstance(executor, FuturesBase):
        return FuturesExecutor(executor), False
    if hasattr(executor, "get_executor") and hasattr(executor, "scheduler_info"):
        return DaskExecutor.from_client(executor), False
    raise TypeError(
        f"executor {executor!r}: expected None, a number of worker processes, "
        "a concurrent.futures.Executor or a distributed.Client"
    )


def make_executor(
    workers: int | None, scheduler: str | None, preload: list[str] | None = None
) -> Executor:
    """The Dask executor if a scheduler address is given (or in DASK_SCHEDULER_ADDRESS),
    else local worker processes (``preload``: see ``LocalExecutor``)."""
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if address:
        return DaskExecutor(address)
    return LocalExecutor(workers, preload=preload)


@contextlib.contextmanager
def kept_workers(workers: int) -> Iterator[Any]:
    """What to pass as ``executor`` to many small ensembles in a row (a search's
    candidates): ``workers`` local processes kept for the whole block, where a number
    would start a pool per ensemble. One worker: this process (``1``).

    On leaving the block, or on any error or interruption, the workers are stopped.
    """
    if workers <= 1:
        yield 1
        return
    from concurrent.futures import ProcessPoolExecutor

    local = LocalExecutor(workers)  # the same start method and preloaded model
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=local._ctx, initializer=_init_worker)
    try:
        yield pool
    except BaseException:
        _stop_workers(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
