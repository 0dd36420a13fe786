"""``python -m demandsim.cluster``: run a sweep on a SLURM cluster (docs/cluster.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from analysis.runs.cluster import slurm_cluster
from analysis.sweeps.cluster import run_on_cluster
from sim.errors import InputError


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
    from analysis.sweeps.spec import load_spec

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
    """``python -m demandsim.cluster``: one line and exit 2 for any bad input."""
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
