"""Sweeps on a SLURM cluster through dask-jobqueue, and the check that every worker
runs the same code as the driver.

The recipe (docs/cluster.md): on the cluster's login node, in the project's
environment, on a shared or a scratch file system for ``--out``::

    python -m analysis.cluster SPEC --out /scratch/me/sweep --jobs 10 --cores 16 \\
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

import sys
from pathlib import Path
from typing import Any

import click

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
    from analysis.store import code_hash, versions

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

    from analysis.sweep import run_sweep

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


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--jobs", type=click.IntRange(min=1), required=True, help="SLURM jobs to submit.")
@click.option("--cores", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--memory", default="4GB", show_default=True, help="Memory per job.")
@click.option("--walltime", default="01:00:00", show_default=True, help="Per job, HH:MM:SS.")
@click.option("--queue", default=None, help="SLURM partition.")
@click.option("--account", default=None, help="SLURM account.")
@click.option("--sbatch", "extra", multiple=True, help="Another #SBATCH directive.")
@click.option("--prologue", multiple=True, help="A shell line run before each worker.")
@click.option("--print-script", is_flag=True, help="Print the job script; submit nothing.")
def slurm_sweep(
    spec: Path,
    out: Path,
    jobs: int,
    cores: int,
    memory: str,
    walltime: str,
    queue: str | None,
    account: str | None,
    extra: tuple[str, ...],
    prologue: tuple[str, ...],
    print_script: bool,
) -> None:
    """Run the sweep SPEC on a SLURM cluster (dask-jobqueue) into --out DIR."""
    from analysis.sweep import load_spec

    load_spec(spec)  # a bad spec is refused before any job is submitted
    cluster = slurm_cluster(
        cores=cores,
        memory=memory,
        walltime=walltime,
        queue=queue,
        account=account,
        extra=extra,
        prologue=prologue,
    )
    try:
        if print_script:
            click.echo(cluster.job_script())
            return
        res = run_on_cluster(spec, out, cluster, jobs=jobs, progress=sys.stderr)
        click.echo(f"sweep: {res.total} runs ({res.ran} run now, {res.failed} failed)", err=True)
        if res.complete:
            click.echo(str(res.out / "results.parquet"))
        if res.failed:
            sys.exit(1)
    finally:
        cluster.close()


def main(argv: list[str] | None = None) -> None:
    """``python -m analysis.cluster``: one line and exit 2 for any bad input."""
    try:
        slurm_sweep.main(args=argv, standalone_mode=False)
    except click.ClickException as exc:
        click.echo(f"demandsim: error: {exc.format_message()}".replace("\n", " "), err=True)
        sys.exit(2)
    except InputError as exc:
        click.echo(f"demandsim: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
