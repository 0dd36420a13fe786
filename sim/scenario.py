"""Loading scenarios: TOML files and dotted overrides, validated once into the
typed, frozen schema of ``sim.schema``.

Bad input of any kind (an unreadable or malformed file, an unknown field — with
the closest name suggested —, a wrong type, a value out of bounds, a
cross-field inconsistency) raises one ``ScenarioError`` whose one-line message
names the dotted field, the value and what is allowed. Nothing is validated
again inside the model's hot loop.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tomllib
import types
import typing
from importlib.resources import files
from pathlib import Path
from typing import Any

from sim.calendar import WEEKS_PER_YEAR, Clock
from sim.errors import InputError
from sim.schema import (  # noqa: F401  (the schema is part of this module's interface)
    AGE_MAX_STEPS,
    CHAIN_LINKS,
    Category,
    Chain,
    Choice,
    Compare,
    Contraction,
    Demand,
    Firm,
    FirmEvent,
    Network,
    Platform,
    Product,
    Run,
    Scenario,
    Segment,
    Standard,
    Strategy,
    WordOfMouth,
    spec,
    to_plain,
)

#: The bundled scenarios, package data of ``sim`` (a folder in any ordinary install).
SCENARIO_DIR = Path(str(files("sim").joinpath("scenarios")))


class ScenarioError(InputError):
    """A scenario (file, override or field) that cannot be used, in one line."""


# --------------------------------------------------------------------------- loading


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _allowed(f: dataclasses.Field[Any], tp: Any) -> str:
    meta = f.metadata
    if meta.get("choices"):
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    base = _base_name(tp)
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        return f"{base} in [{_fmt(lo)}, {_fmt(hi)}]"
    return base


def _fmt(v: float) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def _base_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        (inner, *_) = typing.get_args(tp)
        return f"a list of {_base_name(inner)}"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        tp, str(tp)
    )


# Deepest nesting of tables and lists a scenario value may have (the schema needs 3).
MAX_DEPTH = 32


def show(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for an error message, elided in the middle beyond ``limit`` chars."""
    text = repr(value) if not isinstance(value, float) or value == value else "nan"
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-half:]} ({len(text):,} chars)"


def check_depth(value: Any, where: str) -> None:
    """Refuse a value nested deeper than ``MAX_DEPTH`` (without recursing)."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(
                f"{where}: nested more than {MAX_DEPTH} levels deep; expected a scenario value"
            )
        if isinstance(v, dict):
            stack.extend((x, depth + 1) for x in v.values())
        elif isinstance(v, list | tuple):
            stack.extend((x, depth + 1) for x in v)


def _check_scalar(path: str, value: Any, tp: Any, f: dataclasses.Field[Any]) -> Any:
    meta = f.metadata
    if tp is bool:
        if not isinstance(value, bool):
            raise ScenarioError(f"{path} = {show(value)}: expected true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"{path} = {show(value)}: expected {_allowed(f, tp)}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"{path} = {show(value)}: expected {_allowed(f, tp)}")
        value = float(value)
        if value != value:  # NaN
            raise ScenarioError(f"{path} = nan: expected {_allowed(f, tp)}")
    elif tp is str:
        if not isinstance(value, str):
            raise ScenarioError(f"{path} = {show(value)}: expected {_allowed(f, tp)}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ScenarioError(f"{path} = {show(value)}: expected {_allowed(f, tp)}")
        return value
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ScenarioError(f"{path} = {show(value)}: expected {_allowed(f, tp)}")
    return value


def _in_weeks(key: str) -> str:
    """The name a field counted in steps has now that times are in weeks."""
    if key == "step":
        return "week"
    if key.endswith("_steps") or key.endswith("_step"):
        return key.rsplit("_", 1)[0] + ("_weeks" if key.endswith("s") else "_week")
    return ""


def _build(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise ScenarioError(f"{path or 'scenario'} = {show(data)}: expected a table")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            where = f"{path}.{key}" if path else key
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(fields)}"
            weeks = _in_weeks(key)
            if weeks in fields:  # a field of the time before times were in weeks
                hint = f"; times are in weeks now: use '{weeks}' (same value at 52 steps a year)"
            raise ScenarioError(f"{show(where, 80)[1:-1]}: unknown field{hint}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            continue
        kwargs[name] = _convert(f"{path}.{name}" if path else name, data[name], hints[name], f)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - defensive
        raise ScenarioError(f"{path}: {exc}") from None


def _convert(path: str, value: Any, tp: Any, f: dataclasses.Field[Any]) -> Any:
    if dataclasses.is_dataclass(tp):
        return _build(typing.cast(type, tp), value, path)
    origin = typing.get_origin(tp)
    if origin is tuple:
        inner = typing.get_args(tp)[0]
        if not isinstance(value, list | tuple):
            raise ScenarioError(f"{path} = {show(value)}: expected {_allowed(f, tp)}")
        out = []
        for i, v in enumerate(value):
            if dataclasses.is_dataclass(inner):
                out.append(_build(typing.cast(type, inner), v, f"{path}.{i}"))
            else:
                out.append(_check_scalar(f"{path}.{i}", v, inner, f))
        return tuple(out)
    if isinstance(tp, types.UnionType):  # pragma: no cover - schema has none
        raise ScenarioError(f"{path}: unsupported type")
    return _check_scalar(path, value, tp, f)


def parse_value(text: str, field: str = "--set value") -> Any:
    """Parse a ``--set`` value as TOML would (numbers, booleans, lists, quoted strings);
    anything else is taken as a bare string."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except ValueError:  # an integer of more digits than Python converts
        raise ScenarioError(
            f"{field} = {show(text, 40)}: a number of {len(text):,} digits; expected a scenario value"
        ) from None
    except RecursionError:
        raise ScenarioError(
            f"{field} = {show(text, 40)}: nested too deeply; expected a scenario value"
        ) from None
    check_depth(value, f"{field} = {show(text, 40)}")
    return value


def _apply_override(raw: dict[str, Any], key: str, value: Any, defaults: dict[str, Any]) -> None:
    if not key or any(not p for p in key.split(".")):
        raise ScenarioError(
            f"--set {show(key)}: expected a dotted field name such as focal.platform.density"
        )
    parts = key.split(".")
    node: Any = raw
    dnode: Any = defaults
    for i, part in enumerate(parts[:-1]):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"{where}: index out of range (the list has {len(node)} items)")
            node = node[int(part)]
            dnode = dnode[int(part)] if isinstance(dnode, list) and int(part) < len(dnode) else {}
            continue
        if not isinstance(node, dict):
            raise ScenarioError(f"{where}: is not a table")
        if part not in node:
            if isinstance(dnode, dict) and part in dnode:
                node[part] = _deep_copy(dnode[part])
            else:
                node[part] = {}
        node = node[part]
        dnode = dnode.get(part, {}) if isinstance(dnode, dict) else {}
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ScenarioError(f"{key}: index out of range (the list has {len(node)} items)")
        node[int(last)] = value
    else:
        node[last] = value


def _deep_copy(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _deep_copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_deep_copy(x) for x in v]
    return v


def resolve_path(name_or_path: str | Path) -> Path:
    """A bundled scenario name or a path to a TOML file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists() or "/" in str(name_or_path):
        return p
    return SCENARIO_DIR / f"{name_or_path}.toml"


def bundled_names() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def read_toml(name_or_path: str | Path) -> dict[str, Any]:
    """Read a scenario file into plain data, with a ScenarioError for any failure."""
    path = resolve_path(name_or_path)
    if not path.exists():
        if path.parent == SCENARIO_DIR and "/" not in str(name_or_path):
            raise ScenarioError(
                f"scenario {show(str(name_or_path))}: no such file or bundled scenario; "
                f"bundled: {', '.join(bundled_names())}"
            )
        raise ScenarioError(f"scenario {show(str(name_or_path))}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"scenario {show(str(path))}: cannot be read ({exc.__class__.__name__})"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario {show(str(path))}: malformed TOML ({exc})") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ScenarioError(
            f"scenario {show(str(path))}: cannot be read ({str(exc)[:80]})"
        ) from None
    except RecursionError:
        raise ScenarioError(
            f"scenario {show(str(path))}: nested more than {MAX_DEPTH} levels deep; "
            "expected a scenario file"
        ) from None
    check_depth(data, f"scenario {show(str(path))}")
    return data


@functools.cache
def _defaults() -> dict[str, Any]:
    """The default scenario as plain data (read, never changed: overrides copy from it)."""
    return typing.cast(dict[str, Any], to_plain(Scenario()))


def build_scenario(data: dict[str, Any], overrides: dict[str, Any] | None = None) -> Scenario:
    """Validate plain data (plus dotted overrides) into a Scenario."""
    check_depth(data, "scenario")
    raw = _deep_copy(data)
    defaults = _defaults() if overrides else {}
    for key, value in (overrides or {}).items():
        if isinstance(value, str):
            value = parse_value(value) if _looks_typed(value) else value
        check_depth(value, f"--set {show(key)}")
        _apply_override(raw, key, value, defaults)
    sc = _build(Scenario, raw, "")
    _cross_check(sc)
    return sc


class ScenarioBuilder:
    """Many scenarios from one base, as a sweep builds them: ``build(overrides)``
    equals ``build_scenario(data, overrides)`` (the same scenario, the same errors),
    but the base is validated once and each build validates again only the tables
    its overrides change (scenarios are frozen, so the others are shared)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.base = build_scenario(data)

    def build(self, overrides: dict[str, Any] | None = None) -> Scenario:
        if not overrides:
            return self.base
        tops = {str(key).split(".")[0] for key in overrides}
        raw = dict(self.data)
        for top in tops:
            if top in raw:
                raw[top] = _deep_copy(raw[top])
        defaults = _defaults()
        for key, value in overrides.items():
            if isinstance(value, str):
                value = parse_value(value) if _looks_typed(value) else value
            check_depth(value, f"--set {show(key)}")
            _apply_override(raw, key, value, defaults)
        try:
            sc = _rebuild(Scenario, self.base, raw, "", [str(k).split(".") for k in overrides])
        except _Unknown:  # a field the schema does not have: the full build names it
            return build_scenario(self.data, overrides)
        _cross_check(sc)
        return typing.cast(Scenario, sc)


class _Unknown(Exception):
    """An override names a field its table does not have."""


def _rebuild(cls: type, obj: Any, raw: dict[str, Any], path: str, keys: list[list[str]]) -> Any:
    """``obj`` (built from the base) with the fields under ``keys`` built again from
    ``raw``, in the order ``_build`` checks them."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    below: dict[str, list[list[str]]] = {}
    for parts in keys:
        below.setdefault(parts[0], []).append(parts[1:])
    if not below.keys() <= fields.keys():
        raise _Unknown
    hints = _hints(cls)
    changed = {}
    for name, f in fields.items():
        if name not in below:
            continue
        where = f"{path}.{name}" if path else name
        tp, value = hints[name], raw[name]
        if dataclasses.is_dataclass(tp) and all(below[name]) and isinstance(value, dict):
            changed[name] = _rebuild(
                typing.cast(type, tp), getattr(obj, name), value, where, below[name]
            )
        else:
            changed[name] = _convert(where, value, tp, f)
    return dataclasses.replace(obj, **changed)


def _looks_typed(text: str) -> bool:
    t = text.strip()
    return bool(t) and (t[0] in "-+.0123456789[\"'{" or t in ("true", "false", "inf", "nan"))


def load_scenario(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a bundled scenario by name, or a TOML file by path, and validate it.

    Args:
        name_or_path: a bundled name (``"baseline"``) or a path to a ``.toml`` file.
        overrides: dotted field names to values, e.g. ``{"focal.platform.density": 0.2}``;
            string values are parsed as TOML values (``"0.2"`` -> 0.2).

    Raises:
        ScenarioError: naming the dotted field, the value and what is allowed.
    """
    return build_scenario(read_toml(name_or_path), overrides)


def _cross_check(sc: Scenario) -> None:
    names = [c.name for c in sc.categories]
    if not names:
        raise ScenarioError("categories = []: expected at least one category")
    if len(set(names)) != len(names):
        raise ScenarioError(f"categories: duplicate names {show(names)}; expected unique names")
    for i, c in enumerate(sc.categories):
        if not c.tiers:
            raise ScenarioError(f"categories.{i}.tiers = []: expected at least one tier")
        if len(c.tiers) > 16:
            raise ScenarioError(f"categories.{i}.tiers: {len(c.tiers)} tiers; at most 16 allowed")
        if len(set(c.tiers)) != len(c.tiers):
            raise ScenarioError(
                f"categories.{i}.tiers = {show(list(c.tiers))}: expected unique tier names"
            )
        for fname in ("prices", "qualities"):
            v = getattr(c, fname)
            if len(v) != len(c.tiers):
                raise ScenarioError(
                    f"categories.{i}.{fname} = {list(v)}: expected {len(c.tiers)} values, one per tier"
                )
        if c.complement_of and c.complement_of not in names:
            raise ScenarioError(
                f"categories.{i}.complement_of = {show(c.complement_of)}: expected one of {names} or ''"
            )
        if c.supersedes and (c.supersedes not in names or c.supersedes == c.name):
            others = [k for k in names if k != c.name]
            raise ScenarioError(
                f"categories.{i}.supersedes = {show(c.supersedes)}: expected one of {others} or ''"
            )
    _check_lifetimes(sc)
    d = sc.demand
    outside = 1.0 - min(d.initial_latent + d.initial_active + d.initial_served, 1.0)
    for i, c in enumerate(sc.categories):
        if c.supersedes and c.own_market > outside + 1e-9:
            raise ScenarioError(
                f"categories.{i}.own_market = {c.own_market:g}: expected at most {outside:g}, "
                "the share of customers outside the earlier generation's market at step 0 "
                "(1 - demand.initial_latent - demand.initial_active - demand.initial_served)"
            )
    earlier = {c.name: c.supersedes for c in sc.categories}
    for i, c in enumerate(sc.categories):
        seen, k = {c.name}, c.supersedes
        while k:  # each generation's earlier one, back to the first
            if k in seen:
                raise ScenarioError(
                    f"categories.{i}.supersedes = {show(c.supersedes)}: the generations form "
                    "a cycle; expected each category to come after the one it supersedes"
                )
            seen.add(k)
            k = earlier[k]
    if not sc.segments:
        raise ScenarioError("segments = []: expected at least one segment")
    total = sum(s.share for s in sc.segments)
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"segments.*.share sum to {total:g}: expected shares summing to 1")
    seg_names = [s.name for s in sc.segments]
    if len(set(seg_names)) != len(seg_names):
        raise ScenarioError(f"segments: duplicate names {show(seg_names)}; expected unique names")
    max_tiers = max(len(c.tiers) for c in sc.categories)
    for i, s in enumerate(sc.segments):
        mix = list(s.tier_mix)
        if len(mix) != max_tiers or abs(sum(mix) - 1.0) > 1e-6:
            raise ScenarioError(
                f"segments.{i}.tier_mix = {show(mix)}: expected {max_tiers} non-negative "
                "weights (one per tier) summing to 1"
            )
    d = sc.demand
    if d.initial_active + d.initial_served + d.initial_latent > 1 + 1e-9:
        raise ScenarioError(
            "demand.initial_active + initial_served + initial_latent = "
            f"{d.initial_active + d.initial_served + d.initial_latent:g}: expected at most 1"
        )
    if sc.network.kind == "file" and not sc.network.path:
        raise ScenarioError("network.path = '': expected a file path when network.kind = 'file'")
    firm_names = [f.name for f in sc.firms]
    if len(set(firm_names)) != len(firm_names):
        raise ScenarioError(f"firm names {show(firm_names)}: expected unique names")
    if len(firm_names) > 100:
        raise ScenarioError(f"competitors: {len(firm_names) - 1} firms; at most 99 allowed")
    for fi, firm in enumerate(sc.firms):
        where = "focal" if fi == 0 else f"competitors.{fi - 1}"
        for pi, p in enumerate(firm.products):
            _check_cell(sc, f"{where}.products.{pi}", p.category, p.tier)
        for ei, e in enumerate(firm.events):
            if e.kind == "launch":
                _check_cell(sc, f"{where}.events.{ei}", e.category, e.tier)
        std = firm.platform.standard
        for seg_name in std.segments:
            if seg_name not in seg_names:
                raise ScenarioError(
                    f"{where}.platform.standard.segments: {show(seg_name)}: expected one of {seg_names}"
                )
        for cat_name in std.categories:
            if cat_name not in names:
                raise ScenarioError(
                    f"{where}.platform.standard.categories: {show(cat_name)}: expected one of {names}"
                )
        all_tiers = {t for c in sc.categories for t in c.tiers}
        for t in std.tiers:
            if t not in all_tiers:
                raise ScenarioError(
                    f"{where}.platform.standard.tiers: {show(t)}: expected one of {sorted(all_tiers)}"
                )
    for side in ("a", "b"):
        text = getattr(sc.compare, side)
        if text:
            try:
                parse_override_list(text)
            except ScenarioError as exc:
                raise ScenarioError(f"compare.{side}: {exc}") from None


def _check_lifetimes(sc: Scenario) -> None:
    """Refuse a lifetime longer in steps than a need's age counter can count
    (``AGE_MAX_STEPS``, docs/model.md §2.1): the schema bounds it in weeks for a
    weekly clock, a faster clock allows fewer weeks."""
    clock = Clock(sc.run.steps_per_year)
    for i, c in enumerate(sc.categories):
        if clock.steps(c.lifetime_weeks, 1) <= AGE_MAX_STEPS:
            continue
        most = AGE_MAX_STEPS * WEEKS_PER_YEAR // sc.run.steps_per_year
        while clock.steps(most + 1, 1) <= AGE_MAX_STEPS:
            most += 1
        while clock.steps(most, 1) > AGE_MAX_STEPS:
            most -= 1
        raise ScenarioError(
            f"categories.{i}.lifetime_weeks = {c.lifetime_weeks}: expected at most {most} "
            f"weeks at run.steps_per_year = {sc.run.steps_per_year} "
            f"({AGE_MAX_STEPS} steps, the range of a need's age counter)"
        )


def _check_cell(sc: Scenario, where: str, category: str, tier: str) -> None:
    names = [c.name for c in sc.categories]
    if category not in names:
        raise ScenarioError(f"{where}.category = {show(category)}: expected one of {names}")
    tiers = sc.categories[names.index(category)].tiers
    if tier not in tiers:
        raise ScenarioError(f"{where}.tier = {show(tier)}: expected one of {list(tiers)}")


def parse_override_list(text: str) -> dict[str, Any]:
    """Parse ``"a.b=1; c.d=x"`` (or a sequence of ``key=value``) into overrides."""
    out: dict[str, Any] = {}
    for item in [s.strip() for s in text.replace("\n", ";").split(";")]:
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(
                f"--set {show(item)}: expected key=value, e.g. focal.platform.density=0.2"
            )
        out[key.strip()] = parse_value(value.strip(), show(key.strip(), 60).strip("'\""))
    return out


def iter_fields(
    cls: type = Scenario, prefix: str = ""
) -> typing.Iterator[tuple[str, Any, Any, str, str]]:
    """Yield (dotted name, type, default, description, allowed) for every leaf field.

    Lists of tables are shown with ``.N.`` in their dotted name.
    """
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        name = f"{prefix}{f.name}"
        default = (
            f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc,operator]
        )
        if dataclasses.is_dataclass(tp):
            yield from iter_fields(typing.cast(type, tp), name + ".")
            continue
        origin = typing.get_origin(tp)
        if origin is tuple:
            inner = typing.get_args(tp)[0]
            if dataclasses.is_dataclass(inner):
                yield from iter_fields(typing.cast(type, inner), name + ".N.")
                continue
        yield name, tp, to_plain(default), f.metadata.get("desc", ""), _allowed(f, tp)
