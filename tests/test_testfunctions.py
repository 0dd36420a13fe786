"""Known answers: SALib's estimators recover the analytic indices of the test functions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from SALib.sample import sobol as sobol_sample

from analysis.sensitivity import testfunctions as tf
from analysis.sensitivity.effects import interactions, main_effects
from analysis.sensitivity.indices import flag_indices, sobol_indices


def test_analytic_ishigami_indices_match_the_published_values() -> None:
    # Ishigami & Homma (1990), a = 7, b = 0.1, as tabulated in Saltelli et al. (2008).
    got = tf.ishigami_indices()
    assert np.allclose(got["S1"], (0.3139, 0.4424, 0.0), atol=5e-5)
    assert np.allclose(got["ST"], (0.5576, 0.4424, 0.2437), atol=5e-5)
    # No interaction of x2: its first-order and total index coincide.
    assert got["S1"][1] == got["ST"][1]


def test_analytic_sobol_g_indices_are_consistent() -> None:
    got = tf.sobol_g_indices([0.0, 1.0, 9.0, 99.0])
    s1, st = np.array(got["S1"]), np.array(got["ST"])
    assert np.all(np.diff(s1) < 0)  # larger a_i, less important
    assert np.all(st >= s1) and s1.sum() < 1.0 < st.sum()  # interactions exist
    # One input alone: everything is first order.
    one = tf.sobol_g_indices([0.5])
    assert one["S1"][0] == pytest.approx(1.0) and one["ST"][0] == pytest.approx(1.0)


def _recover(f, bounds, truth, n: int = 2048, seed: int = 5) -> pd.DataFrame:
    problem = {
        "num_vars": len(bounds),
        "names": [f"x{i}" for i in range(len(bounds))],
        "bounds": bounds,
    }
    x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    table, _ = sobol_indices(problem, f(x), num_resamples=300, seed=seed)
    for key in ("S1", "ST"):
        # The estimate sits within four of its bootstrap standard errors
        # (conf = 1.96 SE) of the analytic value, and the interval is informative.
        se = table[f"{key}_conf"].to_numpy() / 1.96
        err = np.abs(table[key].to_numpy() - np.array(truth[key]))
        assert np.all(err <= 4 * se + 1e-12), (key, table)
        assert np.all(table[f"{key}_conf"] < 0.15)
    return table


def test_sobol_analysis_recovers_ishigami() -> None:
    _recover(tf.ishigami, [[-math.pi, math.pi]] * 3, tf.ishigami_indices())


def test_sobol_analysis_recovers_sobol_g() -> None:
    a = [0.0, 1.0, 9.0]
    _recover(lambda x: tf.sobol_g(x, a), [[0.0, 1.0]] * 3, tf.sobol_g_indices(a))


def test_too_few_runs_are_flagged_not_silent() -> None:
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[-math.pi, math.pi]] * 3}
    x = sobol_sample.sample(problem, 8, calc_second_order=False, seed=1)
    table, _ = sobol_indices(problem, tf.ishigami(x), num_resamples=100, seed=1)
    table.insert(0, "outcome", "ishigami")
    flagged = flag_indices(table, "sobol", 0.1)
    assert flagged["flags"].str.contains("wide").all()  # 8 base samples: nothing is known
    wide = flag_indices(table, "sobol", 100.0)
    assert not wide["flags"].str.contains("wide").any()


def _linear_grid(reps: int) -> tuple[pd.DataFrame, dict]:
    """A full grid of the linear function, as a sweep table and manifest."""
    levels = {"a": [0.0, 0.25, 1.0], "b": [1.0, 2.0], "c": [0.0, 1.0, 2.0, 3.0]}
    coef = (2.0, -3.0, 0.5)
    grid = np.array(np.meshgrid(*levels.values(), indexing="ij")).reshape(3, -1).T
    y = tf.linear(grid, coef, 1.0)
    rows = []
    for i, point in enumerate(grid):
        for rep in range(reps):
            rows.append(
                {"row": i, "rep": rep, "a": point[0], "b": point[1], "c": point[2], "y": y[i]}
            )
    manifest = {
        "method": "grid",
        "rows": len(grid),
        "replications": reps,
        "parameters": ["a", "b", "c"],
    }
    return pd.DataFrame(rows), {"levels": levels, "coef": coef, **manifest}


def test_main_effects_of_a_linear_function_are_exact() -> None:
    df, m = _linear_grid(reps=2)
    table, summary = main_effects(df, m, ["y"])
    for name, c in zip(("a", "b", "c"), m["coef"], strict=True):
        vals = np.array(m["levels"][name])
        t = table[table["parameter"] == name]
        want = tf.linear_main_effect(c, vals, vals.mean())
        assert np.allclose(t["effect"].to_numpy(), want, atol=1e-12)
        assert np.allclose(t["width"].to_numpy(), 0.0, atol=1e-12)  # deterministic: no spread
    # The correlation ratio of an additive function on a full grid is c_i^2 Var x_i / Var y.
    var = {
        n: c**2 * np.var(m["levels"][n]) for n, c in zip(("a", "b", "c"), m["coef"], strict=True)
    }
    total = sum(var.values())
    assert np.allclose(summary["share"].to_numpy(), [var[n] / total for n in "abc"], atol=1e-12)
    cells, pairs = interactions(df, m, ["y"])
    assert np.allclose(cells["interaction"].to_numpy(), 0.0, atol=1e-12)
    assert np.allclose(pairs["share"].to_numpy(), 0.0, atol=1e-20)


def test_a_product_has_an_interaction_and_one_replication_no_interval() -> None:
    df, m = _linear_grid(reps=1)
    df["y"] = df["a"] * df["b"]
    table, summary = main_effects(df, m, ["y"])
    assert summary["flags"].str.startswith("no interval").all()
    assert table["width"].isna().all()
    _, pairs = interactions(df, m, ["y"])
    share = pairs.set_index(["parameter", "other"])["share"]
    assert share[("a", "b")] > 0.001 and share[("a", "c")] < 1e-20
