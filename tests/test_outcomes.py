"""The outcome registry (``sim.outcomes``) against what a run writes, the README's
generated outcome tables, and the consumers that read labels and directions from it."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim import DemandModel, load_scenario
from sim.outcomes import (
    HIGHER,
    LOWER,
    NEITHER,
    OUTCOMES,
    README_PATH,
    SCALAR,
    SCALARS,
    SERIES,
    SERIES_COLUMNS,
    direction,
    find,
    key_outcomes,
    label,
    readme_with_tables,
    settings,
)

# Two small markets between them write every family: two firms, two categories of three
# tiers and every event type (baseline); product generations (norton-bass-check).
RUNS = ("baseline", "norton-bass-check")


@pytest.fixture(scope="module")
def runs() -> list[tuple[dict[str, Any], pd.DataFrame]]:
    out = []
    for name in RUNS:
        model = DemandModel(load_scenario(name, {"run.customers": 300}), rng=5)
        model.run(30)
        out.append((model.summary(), model.datacollector.get_model_vars_dataframe()))
    return out


def _is_scalar(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, str))


# ---------------------------------------------------------------- the declarations


def test_each_outcome_is_declared_once_per_kind_with_its_fields() -> None:
    for table, kind in ((SCALARS, SCALAR), (SERIES_COLUMNS, SERIES)):
        names = [o.name for o in table]
        assert len(names) == len(set(names)), names
        labels = [o.label for o in table]
        assert len(labels) == len(set(labels)), "two outcomes of one kind read the same"
        for o in table:
            assert o.kind == kind and o.direction in (HIGHER, LOWER, NEITHER), o
            assert o.label and o.meaning and "\n" not in o.meaning and "|" not in o.meaning, o
            assert re.fullmatch(r"[a-z_]+(<[a-z]+>[a-z_]*)*", o.name), o.name
            # a placeholder in the label must be one the name fills
            assert set(re.findall(r"<\w+>", o.label)) <= set(re.findall(r"<\w+>", o.name)), o
            assert not (o.setting and o.direction != NEITHER), "a setting is not better or worse"
    assert OUTCOMES == SCALARS + SERIES_COLUMNS


def test_look_up_by_exact_name_before_a_pattern() -> None:
    assert label("share_rival", SERIES) == "market share of rival"
    assert label("demand_core_premium", SERIES) == "demand share of core premium"
    assert label("lag_competitor_launch", SERIES) == "median detection lag of competitor launch"
    assert direction("lag_upmarket", SERIES) == LOWER
    adopters = find("adopters", SERIES)
    assert adopters is not None and not adopters.is_pattern  # not adopters_<category>
    assert find("final_adopters", SERIES) is None and find("market_share", SCALAR) is None
    assert label("not_an_outcome") == "not an outcome" and direction("not_an_outcome") == NEITHER
    assert settings() == {"seed", "steps", "customers"}


def test_churn_is_labelled_as_what_the_model_counts() -> None:
    # sim.demand: a served need (customer, category) of any firm leaving its supplier
    for name, kind in (("churn_total", SCALAR), ("churn", SERIES)):
        o = find(name, kind)
        assert o is not None and o.unit == "needs" and "all firms" in o.label
        assert "customer" not in o.label


# ---------------------------------------------------------------- against a run


def test_every_scalar_a_run_writes_is_registered(runs: list[Any]) -> None:
    for summary, _ts in runs:
        scalars = [k for k, v in summary.items() if _is_scalar(v)]
        assert "churn_total" in scalars and "seed" in scalars
        missing = [k for k in scalars if find(k, SCALAR) is None]
        assert missing == [], f"declare these in sim/outcomes.py: {missing}"
        # what is not a scalar is one of the summary's tables (or its scenario's name)
        others = {k for k, v in summary.items() if not _is_scalar(v)}
        assert others == {"scenario", "launches", "detection", "chain", "planning"}


def test_every_registered_scalar_is_in_a_runs_summary(runs: list[Any]) -> None:
    for summary, _ts in runs:
        for o in SCALARS:
            assert (o.name in summary) != o.derived, o.name
            if o.name in summary:
                assert _is_scalar(summary[o.name]), o.name


def test_every_column_a_run_writes_is_registered(runs: list[Any]) -> None:
    columns = {c for _s, ts in runs for c in ts.columns}
    assert {"share_focal", "share_rival", "adopters_core-2", "lag_complaint"} <= columns
    missing = sorted(c for c in columns if find(c, SERIES) is None)
    assert missing == [], f"declare these in sim/outcomes.py: {missing}"


def test_every_registered_column_is_written_by_a_run(runs: list[Any]) -> None:
    columns = {c for _s, ts in runs for c in ts.columns}
    matched = {o.name for c in columns if (o := find(c, SERIES)) is not None}
    assert matched == {o.name for o in SERIES_COLUMNS}


def test_a_comparison_adds_the_derived_outcomes(runs: list[Any]) -> None:
    from analysis.compare.statistics import with_focal_launch_counts

    summary, _ts = runs[0]
    counted = with_focal_launch_counts(summary, "focal")
    assert {o.name for o in SCALARS if o.derived} == set(counted) - set(summary)


# ---------------------------------------------------------------- the README


def test_readme_outcome_tables_are_generated_and_current() -> None:
    text = README_PATH.read_text(encoding="utf-8")
    assert text == readme_with_tables(text), "run: python -m sim.outcomes"
    for o in OUTCOMES:
        assert f"| `{o.name}` |" in text, o.name


def test_readme_drift_is_caught() -> None:
    text = README_PATH.read_text(encoding="utf-8")
    drifted = text.replace("| `churn_total` | served needs", "| `churn_total` | customers", 1)
    assert drifted != text and readme_with_tables(drifted) == text
    with pytest.raises(ValueError, match="markers"):
        readme_with_tables("no tables here")


def test_the_module_command_rewrites_a_drifted_readme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.outcomes

    text = README_PATH.read_text(encoding="utf-8")
    copy = tmp_path / "README.md"
    copy.write_text(text.replace("| `dpmo` | defects per million", "| `dpmo` | DPMO", 1))
    monkeypatch.setattr(sim.outcomes, "README_PATH", copy)
    assert sim.outcomes.main() == 0
    assert copy.read_text(encoding="utf-8") == text


# ---------------------------------------------------------------- the consumers


def test_compare_reads_labels_order_and_directions_from_the_registry() -> None:
    from analysis.compare.report import reading
    from analysis.compare.statistics import BETTER, KEY_OUTCOMES, outcome_order

    assert list(KEY_OUTCOMES) == list(key_outcomes())
    assert {n: label(n) for n in key_outcomes()} == KEY_OUTCOMES
    assert {o.name: 1 if o.direction == HIGHER else -1 for o in SCALARS if o.better} == BETTER
    assert outcome_order(["zeta", "dpmo", "profit_total"]) == ["profit_total", "dpmo", "zeta"]
    for name in key_outcomes():
        o = find(name)
        if o is None or o.derived:
            continue
        row = {
            "outcome": name,
            "diff_b_minus_a": 1.0,
            "mean_a": 1.0,
            "mean_b": 2.0,
            "paired_lo": 0.5,
            "paired_hi": 1.5,
            "significant": True,
        }
        text = " ".join(reading([row], "A1", "B1", 10))
        assert f"<b>{label(name)}</b> is higher" in text
        expect = {HIGHER: "better for B1", LOWER: "worse for B1"}.get(direction(name))
        if expect:
            assert expect in text, name
        else:
            assert "better for" not in text and "worse for" not in text, name


def test_ema_kinds_follow_the_directions() -> None:
    from ema_workbench import ScalarOutcome

    from analysis.adapters.ema import DEFAULT_OUTCOMES, _outcomes, ema_kind

    kinds = {
        HIGHER: ScalarOutcome.MAXIMIZE,
        LOWER: ScalarOutcome.MINIMIZE,
        NEITHER: ScalarOutcome.INFO,
    }
    for o in SCALARS:
        assert ema_kind(o.name) == kinds[o.direction], o.name
    assert ema_kind("ishigami") == ScalarOutcome.INFO
    made = _outcomes(DEFAULT_OUTCOMES, (), False)
    assert [m.kind for m in made] == [kinds[direction(n)] for n in DEFAULT_OUTCOMES]
    assert {m.kind for m in made} == {ScalarOutcome.MAXIMIZE, ScalarOutcome.MINIMIZE}


def test_sweep_specs_name_only_outcomes_the_model_writes() -> None:
    from analysis.sweeps.spec import SweepSpecError, parse_spec

    base = {
        "sampler": {"method": "lhs", "samples": 4},
        "parameters": {"focal.platform.density": {"range": [0.1, 0.5]}},
    }
    ok = parse_spec(
        {**base, "outcomes": {"analyze": ["dpmo"], "timeseries": ["share_focal", "lag_upmarket"]}}
    )
    assert ok.analyze == ("dpmo",)
    with pytest.raises(SweepSpecError, match=r"outcomes\.analyze\.0 = 'churn'"):
        parse_spec({**base, "outcomes": {"analyze": ["churn"]}})
    with pytest.raises(SweepSpecError, match=r"outcomes\.timeseries\.0 = 'churn_total'"):
        parse_spec({**base, "outcomes": {"timeseries": ["churn_total"]}})
    # another runner's outcomes are its own
    other = {**base, "runner": "analysis.sensitivity.testfunctions:linear_runner"}
    assert parse_spec({**other, "outcomes": {"analyze": ["linear"]}}).analyze == ("linear",)


def test_tables_and_plots_use_the_labels(runs: list[Any]) -> None:
    from analysis.plots import series_titles
    from sim.tables import headline_table

    summary, _ts = runs[0]
    text = headline_table(summary)
    for name in ("profit_total", "churn_total", "market_share_final", "exclusion_defects"):
        assert label(name) in text
    assert series_titles("cum_profit") == ("Cumulative profit", "money")
    assert series_titles("share_rival")[0] == "Market share of rival"
    assert not math.isnan(summary["profit_total"])


def test_counts_are_integers_in_a_run_summary() -> None:
    from sim import DemandModel, load_scenario
    from sim.outcomes import COUNTS, find

    model = DemandModel(load_scenario("baseline", {"run.customers": 300}), rng=3)
    model.run(6)
    summary = model.summary()
    for name in COUNTS:
        assert find(name) is not None, name
        value = summary[name]
        assert value is None or (isinstance(value, int) and not isinstance(value, bool)), (
            name,
            value,
        )
