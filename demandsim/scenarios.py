"""``demandsim scenarios list | show | validate``: the scenario library from the shell."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from demandsim.errors import input_errors, parse_sets
from sim.schema import to_plain


def first_line(text: str) -> str:
    """The first line of a description (scenario files put their question there)."""
    stripped = text.strip()
    return stripped.splitlines()[0].strip() if stripped else ""


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return f"[{len(value)} table(s)]"
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def iter_values(
    obj: Any, default: Any, prefix: str = "", pattern: str = ""
) -> Iterator[tuple[str, str, Any, Any, dataclasses.Field[Any]]]:
    """Yield (dotted name, schema name with ``N``, value, default, field) for every leaf
    of a loaded scenario; an empty list of tables is yielded as one leaf."""
    cls = type(obj)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        name, pat = f"{prefix}{f.name}", f"{pattern}{f.name}"
        value, dvalue = getattr(obj, f.name), getattr(default, f.name)
        if dataclasses.is_dataclass(tp):
            yield from iter_values(value, dvalue, name + ".", pat + ".")
            continue
        if typing.get_origin(tp) is tuple:
            inner = typing.get_args(tp)[0]
            if dataclasses.is_dataclass(inner):
                if not value:
                    yield name, pat, [], to_plain(dvalue), f
                for i, item in enumerate(value):
                    ditem = dvalue[i] if i < len(dvalue) else typing.cast(type, inner)()
                    yield from iter_values(item, ditem, f"{name}.{i}.", f"{pat}.N.")
                continue
        yield name, pat, to_plain(value), to_plain(dvalue), f


@click.group("scenarios")
def scenarios() -> None:
    """List, show and validate scenarios (bundled names or TOML files)."""


@scenarios.command("list")
def list_cmd() -> None:
    """Print every bundled scenario with the first line of its description."""
    from sim.scenario import ScenarioError, bundled_names, load_scenario

    names = bundled_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        try:
            text = first_line(load_scenario(name).run.description) or "(no description)"
        except ScenarioError as exc:
            text = f"(invalid: {exc})"
        click.echo(f"{name:<{width}}  {text}")


@scenarios.command("show")
@click.argument("scenario")
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a field (repeatable)."
)
def show(scenario: str, sets: tuple[str, ...]) -> None:
    """Print every field of SCENARIO with its value, default, allowed values and description.

    Fields whose value differs from the default are marked with '*'.
    """
    from sim.scenario import Scenario, iter_fields, load_scenario

    with input_errors():
        sc = load_scenario(scenario, overrides=parse_sets(sets))
    info = {name: (desc, allowed) for name, _tp, _d, desc, allowed in iter_fields()}
    click.echo(f"# {sc.run.name}: {first_line(sc.run.description) or '(no description)'}")
    section = None
    for name, pat, value, default, f in iter_values(sc, Scenario()):
        top = name.split(".")[0]
        if top != section:
            section = top
            click.echo(f"\n[{top}]")
        desc, allowed = info.get(pat, (f.metadata.get("desc", ""), "a list of tables"))
        mark = "*" if value != default else " "
        click.echo(f"{mark} {name} = {_fmt(value)}")
        click.echo(f"      default {_fmt(default)}; {allowed}. {desc}")


@scenarios.command("validate")
@click.argument("file")
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a field (repeatable)."
)
def validate(file: str, sets: tuple[str, ...]) -> None:
    """Load FILE (a path or bundled name) and print OK, or the one-line error (exit 2)."""
    from sim.scenario import ScenarioError, load_scenario, parse_override_list

    with input_errors():
        overrides = parse_sets(sets)
        sc = load_scenario(file, overrides=overrides)
        # `compare FILE` applies the [compare] sets: check them the way it will
        for side in ("a", "b"):
            text = getattr(sc.compare, side)
            if text:
                try:
                    load_scenario(file, overrides={**parse_override_list(text), **overrides})
                except ScenarioError as exc:
                    raise ScenarioError(f"compare.{side}: {exc}") from None
    where = file if Path(file).suffix == ".toml" else f"{file} (bundled)"
    click.echo(f"OK {where}: scenario {sc.run.name!r}")
