"""The kernels' disk cache is stamped with every module a kernel's module imports, so
an edit to a shared module (the generator, the need states) recompiles the kernels
that use it and an edit to one rule recompiles that rule alone."""

from __future__ import annotations

from pathlib import Path

from sim.jit import HERE, SimCacheLocator, _deps


def _names(path: Path) -> set[str]:
    return {p.name for p in _deps(path)}


def test_a_rule_depends_on_the_modules_it_imports_and_no_other_rule() -> None:
    demand = _names(HERE / "demand.py")
    assert {"demand.py", "rng.py", "state.py", "jit.py"} <= demand
    assert "choice.py" not in demand and "platform.py" not in demand
    assert "rng.py" in _names(HERE / "choice.py")


def test_type_hints_and_local_imports_are_not_dependencies() -> None:
    # the platform names DemandModel under TYPE_CHECKING, and imports build_scenario
    # inside a function: neither can reach a kernel, so an edit to the model (which
    # imports every rule) must not recompile the platform's kernels
    platform = _names(HERE / "platform.py")
    assert "model.py" not in platform and "demand.py" not in platform
    assert "firms.py" in platform  # a module-level import (a parenthesized one below)
    assert "platform.py" in _names(HERE / "model.py")


def test_the_stamp_follows_a_dependency(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from sim.b import x\n")
    (tmp_path / "b.py").write_text("x = 1\n")
    import sim.jit as jit

    saved = jit.HERE
    jit.HERE = tmp_path
    try:
        loc = SimCacheLocator.__new__(SimCacheLocator)
        loc._py_file = str(tmp_path / "a.py")
        before = loc.get_source_stamp()
        jit._deps.cache_clear()
        (tmp_path / "b.py").write_text("x = 2\n")
        assert loc.get_source_stamp() != before
    finally:
        jit.HERE = saved
        jit._deps.cache_clear()
