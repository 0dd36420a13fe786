"""The scenario library: every file validates, documents its question, runs, and
shows the answer to its question in its numbers. Also the generated format
documents (Markdown table, JSON Schema) and the ``scenarios`` commands."""

from __future__ import annotations

import json
import math
import tomllib

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose
from scipy.stats import norm
from scipy.stats import t as student

from demandsim.main import cli
from sim.scenario import (
    SCENARIO_DIR,
    Scenario,
    bundled_names,
    iter_fields,
    load_scenario,
    parse_override_list,
)
from sim.schema_doc import JSON_SCHEMA_PATH, MARKDOWN_PATH, json_schema_text, markdown_table
from sim.sixsigma import sigma_lower

REQUIRED = {
    "baseline",
    "insensitive-platform",
    "low-coverage",
    "upmarket-shift",
    "complement-wave",
    "competitor-launch",
    "supplier-failure-windfall",
    "new-product-launch",
    "six-sigma-platform",
    "bass-check",
}

# ---------------------------------------------------------------- static checks


def test_library_has_every_required_scenario() -> None:
    assert set(bundled_names()) >= REQUIRED


@pytest.mark.parametrize("name", bundled_names())
def test_every_scenario_validates_and_asks_a_question(name: str) -> None:
    sc = load_scenario(name)
    assert sc.run.name == name, "run.name should equal the file name"
    desc = sc.run.description.strip()
    assert len(desc) > 80, "the description should say the question in a paragraph"
    assert "?" in desc.splitlines()[0], "the first line should be the question"
    if sc.compare.a or sc.compare.b:
        for side in (sc.compare.a, sc.compare.b):
            load_scenario(name, overrides=parse_override_list(side))


@pytest.mark.parametrize("name", bundled_names())
def test_every_scenario_matches_the_json_schema(name: str) -> None:
    schema = json.loads(JSON_SCHEMA_PATH.read_text())
    with open(SCENARIO_DIR / f"{name}.toml", "rb") as fh:
        jsonschema.validate(tomllib.load(fh), schema)


def test_json_schema_is_generated_and_current() -> None:
    assert JSON_SCHEMA_PATH.read_text() == json_schema_text(), "run: python -m sim.schema_doc"
    schema = json.loads(json_schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(Scenario().to_dict(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"focal": {"platform": {"density": 1.5}}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"run": {"nmae": "x"}}, schema)


def test_markdown_table_is_generated_and_current() -> None:
    text = markdown_table()
    assert MARKDOWN_PATH.read_text() == text, "run: python -m sim.schema_doc"
    for name, *_ in iter_fields():
        assert f"| `{name}` |" in text


# ---------------------------------------------------------------- scenarios commands


def test_scenarios_list_prints_every_name_with_its_question() -> None:
    result = CliRunner().invoke(cli, ["scenarios", "list"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == bundled_names()
    for ln, name in zip(lines, bundled_names(), strict=True):
        assert "?" in ln, f"{name}: the listed first line should be its question"


def test_scenarios_show_prints_every_field() -> None:
    result = CliRunner().invoke(cli, ["scenarios", "show", "upmarket-shift"])
    assert result.exit_code == 0
    out = result.stdout
    sc = load_scenario("upmarket-shift")
    for name, _tp, _default, desc, _allowed in iter_fields():
        if ".N." in name:
            continue
        assert f" {name} = " in out, name
        assert desc in out
    # a changed field is marked, shows its value and its default
    rate = sc.segments[0].upmarket_rate
    line = next(ln for ln in out.splitlines() if " segments.0.upmarket_rate = " in ln)
    assert line.startswith("*") and str(rate) in line
    assert "* focal.strategy.enabled = false" in out
    result = CliRunner().invoke(
        cli, ["scenarios", "show", "baseline", "--set", "focal.platform.density=0.25"]
    )
    assert "* focal.platform.density = 0.25" in result.stdout


def test_validate_prints_ok_for_every_file() -> None:
    for name in bundled_names():
        result = CliRunner().invoke(
            cli, ["scenarios", "validate", str(SCENARIO_DIR / f"{name}.toml")]
        )
        assert result.exit_code == 0 and result.stdout.startswith("OK "), result.output


# ---------------------------------------------------------------- the questions, in numbers


def _run(name: str, seed: int, steps: int, customers: int, overrides: dict | None = None):
    from sim import run_scenario

    ov = {"run.customers": customers, **(overrides or {})}
    return run_scenario(load_scenario(name, overrides=ov), seed=seed, steps=steps)


def _own_sides(name: str) -> tuple[dict, dict]:
    sc = load_scenario(name)
    return parse_override_list(sc.compare.a), parse_override_list(sc.compare.b)


@pytest.mark.parametrize("name", bundled_names())
def test_every_scenario_runs(name: str) -> None:
    summary, ts = _run(name, seed=3, steps=26, customers=1000)
    assert summary["steps"] == 26 and len(ts) == 27
    assert summary["opportunities"] > 0
    assert 0.0 <= summary["marketing_density"] <= 1.0
    assert np.isfinite(ts["market_share"].to_numpy()[1:]).all()


def test_insensitive_platform_loses_to_baseline_on_every_seed() -> None:
    for seed in (1, 2):
        base, _ = _run("baseline", seed, 104, 3000)
        weak, _ = _run("insensitive-platform", seed, 104, 3000)
        assert weak["marketing_density"] < base["marketing_density"] - 0.05
        assert weak["detected_share"] < base["detected_share"] - 0.1
        assert weak["market_share_final"] < base["market_share_final"] - 0.05
        assert weak["profit_total"] < base["profit_total"]


def test_insensitive_platform_sees_the_upmarket_move_late_contracts_and_launches_wrong() -> None:
    def premium_start(summary: dict) -> int:
        return min(
            e["step"]
            for e in summary["planning"]
            if e["firm"] == "focal" and e["event"] == "development" and e["tier"] == "premium"
        )

    def focal_launches(summary: dict, outcome: str) -> list[dict]:
        return [x for x in summary["launches"] if x["firm"] == "focal" and x["outcome"] == outcome]

    for seed in (1, 2):
        base, _ = _run("baseline", seed, 156, 3000)
        weak, ts = _run("insensitive-platform", seed, 156, 3000)
        # the same demand moves upmarket; the insensitive firm believes it much later
        late = premium_start(weak)
        assert late > premium_start(base) + 26
        # meanwhile it contracts, before its late premium launch; the baseline firm never does
        assert base["contraction_onset"] is None
        onset = weak["contraction_onset"]
        assert onset is not None and onset < late + 26
        assert ts["alignment"].iloc[onset] < ts["alignment"].iloc[14] - 0.05
        # its misreads show complement demand that is not there: it launches one and the
        # launch fails; the baseline firm launches premium only, and it succeeds
        assert not focal_launches(base, "failure")
        assert [x["tier"] for x in focal_launches(base, "success")] == ["premium"]
        failed = focal_launches(weak, "failure")
        assert failed and all(x["category"] == "complement" for x in failed)


def test_low_coverage_turns_defects_into_exclusions() -> None:
    a, b = _own_sides("low-coverage")
    full, _ = _run("low-coverage", 4, 104, 3000, a)
    low, _ = _run("low-coverage", 4, 104, 3000, b)

    def excl_share(s: dict) -> float:
        return s["exclusion_defects"] / s["defects"]

    assert excl_share(low) > excl_share(full) + 0.2
    assert low["marketing_density"] < full["marketing_density"] - 0.05


def test_upmarket_shift_contracts_with_an_onset() -> None:
    sc = load_scenario("upmarket-shift")
    summary, ts = _run("upmarket-shift", 5, 104, 3000)
    onset = summary["contraction_onset"]
    assert onset is not None
    assert sc.contraction.warmup_weeks <= onset <= 90
    assert ts["contraction"].iloc[onset + sc.contraction.consecutive_weeks :].all()
    assert summary["alignment_final"] < 0.5 * ts["alignment"].iloc[1]
    # the same market without drift, or with a portfolio that follows the platform, does not contract
    still, _ = _run("upmarket-shift", 5, 104, 3000, {"segments.0.upmarket_rate": 0.0})
    assert still["contraction_onset"] is None
    adaptive, _ = _run("upmarket-shift", 5, 104, 3000, _own_sides("upmarket-shift")[1])
    assert adaptive["contraction_onset"] is None
    assert adaptive["alignment_final"] > summary["alignment_final"] + 0.3


def test_complement_wave_grows_complement_demand_the_focal_firm_misses() -> None:
    _, ts = _run("complement-wave", 6, 104, 3000)
    comp = ts[[c for c in ts.columns if c.startswith("demand_complement_")]].sum(axis=1)
    assert comp.iloc[-1] > 1.25 * comp.iloc[0]  # (the wave began in the warm-up)
    assert ts["share_focal"].iloc[-1] < ts["share_focal"].iloc[0] - 0.05
    assert ts["share_rival"].iloc[-1] > ts["share_rival"].iloc[0] + 0.05
    assert ts["alignment"].iloc[-1] < ts["alignment"].iloc[0] - 0.1
    # the wave is the failures' doing: with baseline failure rates complement demand stays small
    _, calm = _run("complement-wave", 6, 104, 3000, {"categories.0.failure_rate": 0.15})
    calm_comp = calm[[c for c in calm.columns if c.startswith("demand_complement_")]].sum(axis=1)
    assert comp.iloc[-1] > calm_comp.iloc[-1] + 0.1


def test_competitor_launch_takes_share_and_is_detected() -> None:
    without, with_ = _own_sides("competitor-launch")
    for seed in (7, 8):
        quiet, _ = _run("competitor-launch", seed, 104, 3000, without)
        hit, _ = _run("competitor-launch", seed, 104, 3000, with_)
        assert hit["market_share_final"] < quiet["market_share_final"] - 0.02
        det = hit["detection"]["competitor_launch"]
        assert det["events"] >= 1 and det["detected_share"] > 0
        assert quiet["detection"]["competitor_launch"]["events"] == 0


def test_supplier_failure_windfall_goes_to_the_sensitive_firm() -> None:
    sc = load_scenario("supplier-failure-windfall")
    t = sc.competitors[0].events[0].week
    _, ts = _run("supplier-failure-windfall", 9, t + 27, 3000)
    gain_focal = ts["share_focal"].iloc[t + 26] - ts["share_focal"].iloc[t - 1]
    gain_laggard = ts["share_laggard"].iloc[t + 26] - ts["share_laggard"].iloc[t - 1]
    assert gain_focal > 0.05
    assert gain_focal > gain_laggard + 0.05
    # the rise is the failure's doing: the same seed without the failure gains less
    _, calm = _run("supplier-failure-windfall", 9, t + 27, 3000, {"competitors.0.events": []})
    assert ts["share_focal"].iloc[t + 26] > calm["share_focal"].iloc[t + 26] + 0.05
    assert_allclose(ts["share_focal"].iloc[: t - 1], calm["share_focal"].iloc[: t - 1])


def test_new_product_launch_succeeds_only_on_the_sensitive_platform() -> None:
    a, b = _own_sides("new-product-launch")
    for seed in (10, 11):
        outcomes = []
        for side in (a, b):
            summary, _ = _run("new-product-launch", seed, 60, 3000, side)
            (launch,) = [x for x in summary["launches"] if x["firm"] == "focal"]
            assert launch["step"] == 26
            outcomes.append(launch["outcome"])
        assert outcomes == ["success", "failure"]


def test_six_sigma_platform_misses_nothing_at_a_price() -> None:
    a, _ = _own_sides("six-sigma-platform")
    runs = [_run("six-sigma-platform", seed, 104, 2000)[0] for seed in (12, 13, 14)]
    opportunities = sum(r["opportunities"] for r in runs)
    defects = sum(r["defects"] for r in runs)
    # not one missed opportunity: no run claims a level, each gives the bound its counts
    # support, and the rule of three (DPMO below 3/N at 95%) says the pooled runs show
    # at least 4 sigma (shifted) for sure, not 6: that would take about a million
    assert defects == 0 and all(math.isnan(r["sigma_level"]) for r in runs)
    assert all(r["sigma_level_lower"] == sigma_lower(0, r["opportunities"]) for r in runs)
    assert 3 / opportunities * 1e6 < 6210
    assert 4.0 < sigma_lower(0, opportunities) < 6.0
    # without a contact per customer per step: one every few weeks on average
    contacts_per_step = sum(r["contacts_total"] for r in runs) / (3 * 2000 * 104)
    assert contacts_per_step < 0.35
    usual, _ = _run("six-sigma-platform", 12, 104, 2000, a)
    assert usual["sigma_level"] < 3.0
    assert runs[0]["contact_cost_total"] > 1.5 * usual["contact_cost_total"]


def _bass_curve(p: float, q: float, steps: int) -> np.ndarray:
    f = [0.0]
    for _ in range(steps):
        f.append(f[-1] + (1 - f[-1]) * (p + q * f[-1]))
    return np.array(f)


def test_bass_check_follows_the_bass_recursion() -> None:
    """The adopters' share at every step against the discrete Bass recursion: a
    one-sample t at each step (the replications' own standard error, reps − 1 degrees of
    freedom), Bonferroni over the steps at the family level of |z| = 4 (about 6.3e-5;
    the verdict Holm's procedure gives). A curve with q 20% higher is rejected by the
    same rule (power)."""
    sc = load_scenario("bass-check")
    n, steps, reps = sc.run.customers, 78, 16
    p, q = sc.focal.platform.density, sc.wom.q
    shares = np.array(
        [_run("bass-check", seed, steps, n)[1]["adopters"].to_numpy() / n for seed in range(reps)]
    )
    mean = shares[:, 1:].mean(axis=0)
    se = shares[:, 1:].std(axis=0, ddof=1) / np.sqrt(reps)
    crit = student.isf(2 * norm.sf(4.0) / (2 * steps), reps - 1)

    def worst(curve: np.ndarray) -> float:
        return float(np.max(np.abs(mean - curve[1:]) / se))

    assert worst(_bass_curve(p, q, steps)) < crit
    assert worst(_bass_curve(p, 1.2 * q, steps)) > crit  # the rule would see a wrong q
    assert mean[steps // 2] > 0.3  # the curve actually moved
