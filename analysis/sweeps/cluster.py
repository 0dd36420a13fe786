"""A sweep on a Dask cluster the caller made (a SLURM cluster, or a LocalCluster
standing in for one): scale it, wait for workers, check them, run the sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.runs.cluster import check_workers
from sim.errors import InputError


def run_on_cluster(
    spec: str | Path,
    out: str | Path,
    cluster: Any,
    *,
    jobs: int | None = None,
    wait_for: int = 1,
    timeout: float = 600.0,
    **sweep_kw: Any,
) -> Any:
    """Scale ``cluster`` (any Dask cluster: SLURMCluster, or a LocalCluster standing in
    for one), wait for ``wait_for`` workers, check them, and run the sweep on it.

    Returns:
        The ``SweepResult``.
    """
    from distributed import Client

    from analysis.sweeps.run import run_sweep

    if jobs is not None:
        cluster.scale(jobs=jobs)
    with Client(cluster, set_as_default=False) as client:
        try:
            client.wait_for_workers(wait_for, timeout=timeout)
        except TimeoutError:
            raise InputError(
                f"--jobs: no {wait_for} workers after {timeout:.0f} s (are the jobs queued? "
                "see squeue)"
            ) from None
        check_workers(client)
        return run_sweep(spec, out, scheduler=cluster.scheduler_address, **sweep_kw)
