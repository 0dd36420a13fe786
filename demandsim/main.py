"""The ``demandsim`` command line.

Sub-commands are imported lazily (``LazyGroup``) so that ``demandsim --help``
answers without importing Mesa, numpy or pandas. Every command reports bad input
as one line on stderr and exits 2 (``InputError`` / ``ScenarioError``).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

import click

from sim.errors import InputError

# name -> ("module:attribute", short help shown by --help without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("demandsim.run:run", "Run a scenario and write its time series, summary and plots."),
    "compare": (
        "demandsim.compare:compare",
        "Paired comparison of two scenarios (common random numbers).",
    ),
    "report": (
        "demandsim.compare:report",
        "Write a self-contained HTML report for a run or comparison.",
    ),
    "sweep": (
        "demandsim.sweep:sweep",
        "Run a parameter sweep, locally or on a Dask cluster (resumable).",
    ),
    "analyze": (
        "demandsim.sweep:analyze",
        "Sensitivity indices (Sobol, Morris) of a finished sweep.",
    ),
    "calibrate": (
        "demandsim.calibrate:calibrate",
        "Fit scenario fields to observed adopters or sales (Bass start, then optuna).",
    ),
    "frontier": (
        "demandsim.frontier:frontier",
        "Cheapest platform for each sigma level (multi-objective search, NSGA-II).",
    ),
    "dashboard": ("demandsim.dashboard:dashboard", "Start the browser dashboard for a class."),
    "scenarios": ("demandsim.scenarios:scenarios", "List, show and validate scenarios."),
    "classroom": (
        "demandsim.classroom:classroom",
        "Run the classroom game: teams set their platform round by round.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, _ = COMMANDS[cmd_name]
        module, attr = target.split(":")
        cmd: click.Command = getattr(importlib.import_module(module), attr)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="demandsim")
def cli() -> None:
    """demandsim: how marketing-platform sensitivity and product structure drive
    strategic contraction and new-product failure.

    A SCENARIO argument is a bundled name (see `demandsim scenarios list`) or a
    path to a TOML file.
    """
    from demandsim.errors import BadInput
    from sim.engine import ENGINES

    engine = os.environ.get("DEMANDSIM_ENGINE")
    if engine is not None and engine not in ENGINES:  # before any work starts
        raise BadInput(f"DEMANDSIM_ENGINE={engine!r}: must be one of {', '.join(ENGINES)}")


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: one line and exit 2 for any bad input.

    ``demandsim`` or a command group without a sub-command prints its help as
    usual (exit 0).
    """
    from demandsim.errors import one_line

    try:
        result = cli.main(args=argv, standalone_mode=False)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return result
    except BrokenPipeError:
        _quiet_closed_pipe()
    except SystemExit as exc:
        # click ends a command whose stdout pipe closed with exit 1 and wraps stdout
        if type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):
            _quiet_closed_pipe()
        raise exc
    except click.exceptions.NoArgsIsHelpError as exc:  # click >= 8.2
        click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        sys.exit(0)
    except click.exceptions.Abort:
        click.echo("demandsim: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = f" ({ctx.command_path})" if ctx is not None else ""
        click.echo(one_line(f"demandsim: error{where}: {exc.format_message()}"), err=True)
        sys.exit(2)
    except InputError as exc:
        click.echo(one_line(f"demandsim: error: {exc}"), err=True)
        sys.exit(2)
    except RecursionError:
        click.echo("demandsim: error: input nested too deeply", err=True)
        sys.exit(2)
    except OSError as exc:  # a file or folder given on the command line that cannot be used
        where = f" {exc.filename!r}:" if exc.filename else ""
        reason = exc.strerror or exc.__class__.__name__
        click.echo(one_line(f"demandsim: error:{where} {reason}"), err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("demandsim: interrupted", err=True)
        sys.exit(130)


def _quiet_closed_pipe() -> None:
    """The reader of stdout has gone (``demandsim scenarios list | head -1``): end
    quietly with exit 0, as ``head`` asked for no more."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(
            devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1
        )  # the interpreter's last flush finds no pipe
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
