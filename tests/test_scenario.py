"""The scenario schema: defaults, overrides, and one-line errors naming the field."""

from __future__ import annotations

import pytest

from sim.scenario import Scenario, ScenarioError, iter_fields, load_scenario, parse_override_list


def test_baseline_loads_with_overrides() -> None:
    sc = load_scenario(
        "baseline",
        overrides={"focal.platform.density": "0.2", "competitors.0.platform.strength": 0.5},
    )
    assert isinstance(sc, Scenario)
    assert sc.focal.platform.density == 0.2
    assert sc.competitors[0].platform.strength == 0.5
    with pytest.raises(AttributeError):
        sc.run.customers = 5  # type: ignore[misc]  # frozen


def test_every_field_has_a_description_and_bounds() -> None:
    rows = list(iter_fields())
    assert len(rows) > 80
    for name, tp, _default, desc, allowed in rows:
        assert desc, name
        if tp in (int, float):
            assert " in [" in allowed, name


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"focal.platform.densty": 0.1},
            "focal.platform.densty: unknown field; did you mean 'density'?",
        ),
        (
            {"focal.platform.density": 1.5},
            "focal.platform.density = 1.5: expected a number in [0, 1]",
        ),
        (
            {"focal.platform.density": "high"},
            "focal.platform.density = 'high': expected a number in [0, 1]",
        ),
        ({"run.customers": 2.5}, "run.customers = 2.5: expected an integer in [1, 100000000]"),
        (
            {"focal.platform.targeting": "psychic"},
            "focal.platform.targeting = 'psychic': expected one of 'homogeneous', 'personalized'",
        ),
        ({"competitors.4.name": "x"}, "competitors.4: index out of range"),
        ({"network.kind": "file"}, "network.path = '': expected a file path"),
        ({"segments.0.share": 0.5}, "segments.*.share sum to 0.5"),
        ({"focal.products.0.tier": "luxury"}, "focal.products.0.tier = 'luxury': expected one of"),
        (
            {"focal.strategy.enabled": "yes"},
            "focal.strategy.enabled = 'yes': expected true or false",
        ),
    ],
)
def test_bad_values_name_field_value_and_allowed(overrides: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("baseline", overrides=overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\ncustomers = 3")
    with pytest.raises(ScenarioError, match="malformed TOML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "missing.toml")
    with pytest.raises(ScenarioError, match="no such file or bundled scenario"):
        load_scenario("not-a-scenario")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[focal.platfrom]\ndensity = 0.3\n")
    with pytest.raises(
        ScenarioError, match="focal.platfrom: unknown field; did you mean 'platform'"
    ):
        load_scenario(unknown)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(binary)


def test_override_list_parsing() -> None:
    assert parse_override_list("a.b=1; c.d=x ;e=[1, 2]") == {"a.b": 1, "c.d": "x", "e": [1, 2]}
    with pytest.raises(ScenarioError, match="expected key=value"):
        parse_override_list("nonsense")
