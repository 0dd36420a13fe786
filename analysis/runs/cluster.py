"""A SLURM cluster of Dask workers (dask-jobqueue), and the check that every worker
runs the same code as the driver.

The recipe (docs/cluster.md): on the cluster's login node, in the project's
environment, on a shared or a scratch file system for ``--out``::

    python -m demandsim.cluster SPEC --out /scratch/me/sweep --jobs 10 --cores 16 \\
        --memory 32GB --walltime 04:00:00 --queue normal --account proj

This submits ``--jobs`` SLURM jobs, each one a Dask worker with ``--cores``
single-threaded processes (a run is the unit of parallelism), waits for the first
workers, checks their versions, and runs the sweep on them through the ordinary
Dask executor: the driver alone writes files, so the workers need no shared file
system, only the same environment. ``--print-script`` shows the job script and
submits nothing. Resuming is the same command again.

Worker check: every worker reports the versions of the packages a run's result
depends on and a hash of the model's source; any difference from the driver
stops the sweep before a run is submitted, in one line naming the worker.
"""

from __future__ import annotations

from typing import Any

from sim.errors import InputError

#: What must match between driver and workers: a run's result depends on these.
CHECKED = (
    "python",
    "demandsim",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "SALib",
    "dask",
    "distributed",
    "code",
)


def worker_versions() -> dict[str, str | None]:
    """This process's versions and model-source hash (runs on each worker)."""
    from analysis.runs.provenance import code_hash, versions

    out = dict(versions())
    out["code"] = code_hash()
    return out


def check_workers(client: Any, reference: dict[str, str | None] | None = None) -> int:
    """Refuse workers whose versions differ from the driver's (or ``reference``).

    Returns:
        The number of workers checked.

    Raises:
        InputError: one line naming the first worker that differs and how.
    """
    want = reference if reference is not None else worker_versions()
    try:
        got: dict[str, dict[str, str | None]] = client.run(worker_versions)
    except Exception as exc:  # a worker that cannot even import this module
        msg = " ".join(f"{exc.__class__.__name__}: {exc}".split())[:120]
        raise InputError(
            f"--scheduler: a worker cannot run demandsim ({msg}); install the same environment"
        ) from None
    for worker, vers in sorted(got.items()):
        diff = [
            f"{k} {vers.get(k)} (driver {want.get(k)})"
            for k in CHECKED
            if vers.get(k) != want.get(k)
        ]
        if diff:
            raise InputError(
                f"worker {worker}: {', '.join(diff[:3])}; use the driver's environment on every worker"
            )
    return len(got)


def slurm_cluster(
    *,
    cores: int,
    memory: str,
    walltime: str,
    queue: str | None = None,
    account: str | None = None,
    extra: tuple[str, ...] = (),
    prologue: tuple[str, ...] = (),
) -> Any:
    """A dask-jobqueue ``SLURMCluster`` of single-threaded worker processes.

    Args:
        cores: CPUs per job (= worker processes per job).
        memory: memory per job, e.g. "32GB" (shared by its processes).
        walltime: per job, "HH:MM:SS".
        queue: the SLURM partition (``-p``).
        account: the SLURM account (``-A``).
        extra: more ``#SBATCH`` directives, e.g. ("--exclusive",).
        prologue: shell lines run before the worker (e.g. "module load python").
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError("the 'dask-jobqueue' package is not installed") from None
    return SLURMCluster(
        cores=cores,
        processes=cores,
        memory=memory,
        walltime=walltime,
        queue=queue,
        account=account,
        job_extra_directives=list(extra),
        job_script_prologue=list(prologue),
    )
