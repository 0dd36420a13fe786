"""The sweep spec: validation messages, samplers, seeds and run ids."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.sweeps.plan import make_plan, sample
from analysis.sweeps.spec import SweepSpecError, load_spec, parse_spec, run_id, run_seed
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def _spec(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "scenario": "baseline",
        "steps": 26,
        "replications": 3,
        "seed": 4,
        "sampler": {"method": "grid", "points": 3},
        "set": {"run.customers": 500},
        "parameters": {
            "focal.platform.density": {"range": [0.05, 0.25]},
            "focal.platform.targeting": {"levels": ["homogeneous", "personalized"]},
        },
    }
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            data[section] = {**data[section], field: value}
        else:
            data[section] = value
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"sampler__method": "sobel"},
            "sampler.method = 'sobel': expected one of 'grid', 'lhs', 'sobol', 'morris'",
        ),
        (
            {"sampler": {"method": "sobol", "samples": 48}},
            "sampler.samples = 48: expected a power of 2 for method = 'sobol' (e.g. 16, 64, 256)",
        ),
        ({"replications": 0}, "replications = 0: expected an integer in [1, 100000]"),
        ({"steps": "long"}, "steps = 'long': expected an integer in [1, 1000000]"),
        (
            {"parameters": {"focal.platform.density": {"range": [0.0, 2.0]}}},
            "parameters.focal.platform.density.range = [0.0, 2.0]: expected a number in [0, 1]",
        ),
        (
            {"parameters": {"focal.platform.densty": {"range": [0.1, 0.2]}}},
            "parameters.focal.platform.densty: unknown scenario field; did you mean 'focal.platform.density'?",
        ),
        (
            {"parameters": {"focal.platform.density": {"range": [0.3, 0.1]}}},
            "parameters.focal.platform.density.range = [0.3, 0.1]: expected [lo, hi] with finite numbers, lo < hi",
        ),
        (
            {"parameters": {"focal.platform.targeting": {"levels": ["homogeneous", "random"]}}},
            "parameters.focal.platform.targeting.levels.1 = 'random': expected one of 'homogeneous', 'personalized'",
        ),
        (
            {"parameters": {"competitors.3.platform.density": {"range": [0.1, 0.2]}}},
            "parameters.competitors.3.platform.density: competitors.3: index out of range (the list has 1 items)",
        ),
        (
            {"parameters": {"focal.platform.density": {"range": [0.1, 0.2], "levels": [0.1]}}},
            "parameters.focal.platform.density = {'range': [0.1, 0.2], 'levels': [0.1]}: expected exactly one of",
        ),
        (
            {"parameters": {"run.customers": {"range": [100, 200]}}},
            "parameters.run.customers: also fixed in [set]; vary it or fix it, not both",
        ),
        (
            {"outcomes": {"timeseries": ["market share"]}},
            "outcomes.timeseries.0 = 'market share': expected",
        ),
        ({"sampler__colour": "red"}, "sampler.colour: unknown field; allowed: method, samples"),
        (
            {"scenario": "no-such-scenario"},
            "scenario = 'no-such-scenario': no such file or bundled scenario",
        ),
        (
            {"set": {"focal.platform.coverage": 7}},
            "set.focal.platform.coverage = 7.0: expected a number in [0, 1]",
        ),
    ],
)
def test_errors_name_the_field_the_value_and_what_is_allowed(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(SweepSpecError) as info:
        parse_spec(_spec(**changes))
    text = str(info.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_the_cli_reports_a_bad_spec_in_one_line_with_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(
        '[sampler]\nmethod = "grid"\n[parameters]\n"focal.platform.density" = { range = [0.1, 9] }\n'
    )
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "demandsim"),
            "sweep",
            str(spec),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "demandsim: error: parameters.focal.platform.density.range = [0.1, 9]: expected a number in [0, 1]"
    )
    assert not (tmp_path / "o").exists()


def test_grid_plan_pairs_points_by_seed() -> None:
    spec = parse_spec(_spec())
    plan = make_plan(spec)
    assert len(plan.points) == 3 * 2 and len(plan.rows) == 6 * 3 and len(plan.tasks) == 18
    densities = sorted({p["focal.platform.density"] for p in plan.points})
    assert densities == pytest.approx([0.05, 0.15, 0.25])
    # replication r has the same seed at every point
    for _row, rep, rid in plan.rows:
        assert plan.tasks[rid]["seed"] == plan.seeds[rep]
    assert len(set(plan.seeds)) == 3
    # the plan is a pure function of the spec
    again = make_plan(parse_spec(_spec()))
    assert again.rows == plan.rows


def test_run_ids_and_seeds_are_stable_and_sensitive() -> None:
    # recorded once: a change here breaks resuming sweeps started by an older version
    assert run_seed(1, 0) == 6155862913495621337 and run_seed(1, 1) == 5268683013135963732
    # the id of a run of a spec that names the runner as earlier releases did (a spec keeps
    # the name it gives, so its folder's run ids do not change)
    extra = {"timeseries": [], "runner": "analysis.sweep:run_model"}
    params = {"focal.platform.density": 0.1, "focal.platform.targeting": "homogeneous"}
    rid = run_id("abc", params, 42, 52, extra)
    assert rid == "824e8bac0cc3912a"
    assert (
        run_id("abc", dict(reversed(params.items())), 42, 52, extra) == rid
    )  # key order is irrelevant
    assert run_id("abc", params, 43, 52, extra) != rid
    assert run_id("abc", params, 42, 53, extra) != rid
    assert run_id("abd", params, 42, 52, extra) != rid
    assert run_id("abc", {**params, "focal.platform.density": 0.1000001}, 42, 52, extra) != rid


def test_changing_the_base_scenario_changes_every_run_id() -> None:
    a = make_plan(parse_spec(_spec()))
    b = make_plan(parse_spec(_spec(set={"run.customers": 501})))
    assert not set(a.tasks) & set(b.tasks)


@pytest.mark.parametrize(
    ("sampler", "rows"),
    [
        ({"method": "lhs", "samples": 20}, 20),
        ({"method": "sobol", "samples": 16}, 16 * (3 + 2)),
        ({"method": "sobol", "samples": 16, "second_order": True}, 16 * (2 * 3 + 2)),
        ({"method": "morris", "samples": 5, "levels": 4}, 5 * (3 + 1)),
    ],
)
def test_samplers_give_the_documented_number_of_rows_within_bounds(
    sampler: dict[str, Any], rows: int
) -> None:
    params = {
        "focal.platform.density": {"range": [0.05, 0.25]},
        "focal.strategy.lead_time_weeks": {"range": [4, 40]},
        "focal.platform.targeting": {"levels": ["homogeneous", "personalized"]},
    }
    spec = parse_spec(_spec(sampler=sampler, parameters=params))
    x = sample(spec)
    assert x.shape == (rows, 3)
    assert np.array_equal(x, sample(spec))  # seeded: the same matrix every time
    plan = make_plan(spec)
    dens = [p["focal.platform.density"] for p in plan.points]
    lead = [p["focal.strategy.lead_time_weeks"] for p in plan.points]
    assert min(dens) >= 0.05 and max(dens) <= 0.25
    assert all(isinstance(v, int) and 4 <= v <= 40 for v in lead)
    assert {p["focal.platform.targeting"] for p in plan.points} == {"homogeneous", "personalized"}
    other = sample(parse_spec(_spec(sampler=sampler, parameters=params, seed=5)))
    assert not np.array_equal(x, other)


def test_every_run_builds_a_valid_scenario_with_its_values() -> None:
    spec = parse_spec(_spec(sampler={"method": "lhs", "samples": 8}))
    for task in make_plan(spec).tasks.values():
        from sim.scenario import build_scenario

        sc = build_scenario(task["scenario"], task["overrides"])
        assert sc.focal.platform.density == task["overrides"]["focal.platform.density"]
        assert sc.run.customers == 500


def test_bundled_example_specs_are_valid() -> None:
    # *.frontier.toml and *.calibration.toml: checked by test_frontier and test_calibrate
    other = (".frontier.toml", ".calibration.toml")
    specs = sorted(
        p for p in (ROOT / "analysis" / "specs").glob("*.toml") if not p.name.endswith(other)
    )
    assert {p.name for p in specs} >= {"small-grid.toml", "platform-sobol.toml"}
    for path in specs:
        spec = load_spec(path)
        plan = make_plan(spec)
        assert len(plan.rows) == len(plan.points) * spec.replications
        assert load_scenario(spec.scenario).run.name == spec.base["run"]["name"]


def test_a_scenario_path_is_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "mine.toml").write_text('[run]\nname = "mine"\ncustomers = 321\n')
    (tmp_path / "spec.toml").write_text(
        'scenario = "sc/mine.toml"\n[parameters]\n"focal.platform.density" = { levels = [0.1, 0.2] }\n'
    )
    spec = load_spec(tmp_path / "spec.toml")
    assert spec.base["run"]["customers"] == 321 and spec.base["run"]["name"] == "mine"


def test_workers_and_a_scheduler_together_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "demandsim",
            "sweep",
            "small-grid",
            "--out",
            str(out),
            "--workers",
            "2",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and "--workers 2: the sweep runs on the Dask cluster at tcp://127.0.0.1:9" in lines[0]
    )
    assert not out.exists()
