"""What a command prints on stdout: its tables, or with ``--json`` one JSON document.

Tables and results go to stdout, progress and messages to stderr, so that
``demandsim run baseline --json | jq .`` and ``demandsim scenarios list | head -1``
read only the result. ``json_option`` is the ``--json`` flag every command shares.
"""

from __future__ import annotations

from typing import Any

import click

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the result as one JSON document on stdout (messages stay on stderr).",
)


def emit_json(obj: Any) -> None:
    """Print ``obj`` as one JSON document on stdout (numpy scalars converted, NaN as null)."""
    from sim.io import to_json

    click.echo(to_json(obj), nl=False)


def records(df: Any) -> list[dict[str, Any]]:
    """A pandas DataFrame as a list of JSON-ready rows."""
    import pandas as pd

    return [
        {str(k): (None if _missing(v, pd) else v) for k, v in row.items()}
        for row in df.to_dict("records")
    ]


def _missing(value: Any, pd: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array is never "missing" as a whole
        return False


def said_written(message: str, as_json: bool) -> None:
    """The line naming what was written: below the tables on stdout, after a blank line;
    on stderr when stdout carries a JSON document."""
    if not as_json:
        click.echo()
    click.echo(message, err=as_json)
