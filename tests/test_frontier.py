"""`demandsim frontier`: the Pareto set of platform cost against sigma level (NSGA-II).

The search runs once per module on a small six-sigma-platform market; the tests
check that its Pareto set is non-dominated, that what it writes is complete, and
that the cheapest 4σ setting it reports reaches 4σ on seeds it never saw.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.fit.frontier import load_frontier_spec, pareto_mask, pooled_sigma, searched_sigma
from analysis.sweeps.spec import run_seed
from demandsim.main import cli
from sim import DemandModel, load_scenario
from tests.helpers import bash, killed_at

ROOT = Path(__file__).resolve().parent.parent

SPEC = """
steps = 52
replications = 2
seed = 3
trials = 10
population = 5
levels = [3, 4]
confidence = 0.975

[set]
"run.customers" = 2000
"run.warmup_weeks" = 13

[parameters]
"focal.platform.density" = { range = [0.05, 0.3] }
"focal.platform.strength" = { range = [0.9, 0.999] }
"""


def dominated(i: int, cost: list[float], sigma: list[float]) -> bool:
    return any(
        cost[j] <= cost[i] and sigma[j] >= sigma[i] and (cost[j] < cost[i] or sigma[j] > sigma[i])
        for j in range(len(cost))
        if j != i
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6)),
        min_size=1,
        max_size=12,
    )
)
def test_pareto_mask_keeps_exactly_the_non_dominated(points: list[tuple[int, int]]) -> None:
    cost = [float(c) for c, _ in points]
    sigma = [float(s) for _, s in points]
    mask = pareto_mask(cost, sigma)
    assert mask == [not dominated(i, cost, sigma) for i in range(len(points))]
    assert any(mask)  # a finite set always has a non-dominated point


@pytest.fixture(scope="module")
def frontier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("frontier")
    (root / "spec.toml").write_text(SPEC)
    out = root / "out"
    result = CliRunner().invoke(
        cli,
        ["frontier", "six-sigma-platform", "--spec", str(root / "spec.toml"), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out


def test_frontier_writes_its_folder(frontier_dir: Path) -> None:
    names = {p.name for p in frontier_dir.iterdir()}
    assert {
        "pareto.csv",
        "pareto.parquet",
        "candidates.csv",
        "cheapest.csv",
        "frontier.png",
        "frontier.html",
        "demandsim.json",
    } <= names
    cands = pd.read_csv(frontier_dir / "candidates.csv")
    assert len(cands) == 10
    assert cands["focal.platform.density"].between(0.05, 0.3).all()
    assert cands["focal.platform.strength"].between(0.9, 0.999).all()
    html = (frontier_dir / "frontier.html").read_text()
    assert "data:image/png;base64," in html and "Cheapest setting per sigma level" in html


def test_pareto_points_are_non_dominated(frontier_dir: Path) -> None:
    cands = pd.read_csv(frontier_dir / "candidates.csv")
    pareto = pd.read_parquet(frontier_dir / "pareto.parquet")
    assert len(pareto) >= 1
    # a candidate without a defect has no point estimate: the search ranks it by the
    # level its counts support
    cands["searched"] = [
        searched_sigma(a, b) for a, b in zip(cands["sigma"], cands["sigma_lower"], strict=True)
    ]
    cost, sigma = list(cands["cost"]), list(cands["searched"])
    for _, row in cands[cands["trial"].isin(pareto["trial"])].iterrows():
        others = cands[cands["trial"] != row["trial"]]
        beats = (
            (others["cost"] <= row["cost"])
            & (others["searched"] >= row["searched"])
            & ((others["cost"] < row["cost"]) | (others["searched"] > row["searched"]))
        )
        assert not beats.any(), row
    # and every candidate left out is dominated by one kept
    off = cands[~cands["trial"].isin(pareto["trial"])]
    for i in off.index:
        assert dominated(int(i), cost, sigma)


def test_cheapest_4_sigma_setting_reaches_4_sigma_on_fresh_seeds(frontier_dir: Path) -> None:
    cheap = pd.read_csv(frontier_dir / "cheapest.csv").set_index("level")
    assert not math.isnan(cheap.loc[4.0, "cost"]), "the search found no 4-sigma setting"
    # it is the cheapest: no candidate whose lower bound reaches 4 costs less
    cands = pd.read_csv(frontier_dir / "candidates.csv")
    assert cands[cands["sigma_lower"] >= 4]["cost"].min() == cheap.loc[4.0, "cost"]
    sc = load_scenario(frontier_dir / "cheapest-4sigma.toml")
    spec_seeds = {run_seed(3, r) for r in range(2)}
    fresh = [1000 + r for r in range(3)]
    assert not spec_seeds & set(fresh)
    summaries = [DemandModel(sc, rng=s).run(52).summary() for s in fresh]
    m = pooled_sigma(summaries, 0.975)
    # the level the fresh counts give (their bound alone when they hold no defect)
    assert searched_sigma(m["sigma"], m["sigma_lower"]) >= 4.0, m
    assert m["defects"] > 0 or math.isnan(m["sigma"])


def test_bundled_frontier_spec_is_valid() -> None:
    spec = load_frontier_spec(ROOT / "analysis" / "specs" / "six-sigma.frontier.toml")
    assert spec.base["run"]["name"] == "six-sigma-platform"
    assert [p.name for p in spec.parameters] == [
        "focal.platform.density",
        "focal.platform.strength",
    ]
    assert spec.confidence == 0.95  # the bundled example judges levels at 95% too


def test_frontier_confidence_defaults_to_the_tools_95_percent_and_can_be_chosen() -> None:
    from analysis.fit.frontier import parse_frontier_spec
    from sim.sixsigma import CONFIDENCE

    params = {"parameters": {"focal.platform.density": {"range": [0.1, 0.2]}}}
    default = parse_frontier_spec(dict(params), scenario="six-sigma-platform")
    chosen = parse_frontier_spec({**params, "confidence": 0.9}, scenario="six-sigma-platform")
    assert default.confidence == CONFIDENCE == 0.95
    assert chosen.confidence == 0.9


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('[parameters]\n"focal.platform.densty" = { range = [0.1, 0.2] }\n', ["densty", "unknown"]),
        ('[parameters]\n"focal.platform.density" = { range = [0.1, 2.0] }\n', ["density", "2.0"]),
        ('[parameters]\n"wom.q" = { range = [0.1, 0.2] }\n', ["wom.q", "platform or chain"]),
        ('trials = 0\n[parameters]\n"focal.chain.channel" = { range = [0, 0.1] }\n', ["trials"]),
        ('colour = 1\n[parameters]\n"focal.chain.channel" = { range = [0, 0.1] }\n', ["colour"]),
    ],
)
def test_bad_frontier_spec_is_one_line_exit_2_nothing_written(
    tmp_path: Path, extra: str, words: list[str]
) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(extra)
    before = set(tmp_path.iterdir())
    result = CliRunner().invoke(
        cli, ["frontier", "six-sigma-platform", "--spec", str(spec), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 200
    for w in words:
        assert w in lines[0]
    assert set(tmp_path.iterdir()) == before


def test_report_on_a_frontier_folder_is_its_page(frontier_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(frontier_dir)])
    assert result.exit_code == 0, result.output
    assert (frontier_dir / "report.html").read_text() == (
        frontier_dir / "frontier.html"
    ).read_text()


def test_a_killed_frontier_continues_where_it_stopped(frontier_dir: Path, tmp_path: Path) -> None:
    # a real interruption: the command runs in its own process and is killed (SIGKILL,
    # no chance to tidy up) once it has finished four of its ten candidates; the same
    # command on the same folder then runs only the rest, and writes what the run
    # that was never stopped (the fixture) wrote
    (tmp_path / "spec.toml").write_text(SPEC)
    out = tmp_path / "out"
    args = ["frontier", "six-sigma-platform", "--spec", str(tmp_path / "spec.toml")]
    args += ["--out", str(out)]
    killed_at(args, "frontier: 4/10")
    assert (out / "study.db").is_file() and not (out / "candidates.csv").exists()
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    done = [ln for ln in result.stderr.splitlines() if ln.startswith("frontier: ")]
    # the kill may land before the fourth candidate was stored: then it runs again
    assert [ln.split()[1] for ln in done][-1] == "10/10"
    assert len(done) in (6, 7), done
    for name in ("candidates.csv", "pareto.csv", "cheapest.csv"):
        assert (out / name).read_bytes() == (frontier_dir / name).read_bytes(), name
    assert (out / "study.db").is_file()  # kept: a rerun with more trials continues


# --------------------------------------------------------------------------- plain words


def _words_frontier(**chosen: float) -> object:
    """A frontier over a hand-made table (no run): the six-sigma spec's scenario at 52
    steps a year over 104 steps (two years), at the default confidence unless chosen."""
    from analysis.fit.frontier import Frontier, cheapest_per_level, parse_frontier_spec

    spec = parse_frontier_spec(
        {
            **chosen,
            "steps": 104,
            "levels": [3, 4, 6],
            "trials": 3,
            "population": 2,
            "set": {"run.currency": "EUR"},
            "parameters": {
                "focal.platform.density": {"range": [0.02, 0.3]},
                "focal.platform.strength": {"range": [0.8, 0.999]},
            },
        },
        scenario="six-sigma-platform",
    )
    rows = [  # trial, density, strength, cost, sigma, sigma_lower, profit, opportunities
        (0, 0.05, 0.9, 10_000.0, 3.5, 3.4, 50_000.0, 3_000.0),
        (1, 0.1, 0.95, 20_000.0, 4.1, 3.98, 70_000.0, 3_600.0),  # estimates 4σ, not shown
        (2, 0.2, 0.99, 40_000.0, 4.6, 4.3, 60_000.0, 4_366.0),
    ]
    cols = ["trial", "focal.platform.density", "focal.platform.strength", "cost", "sigma"]
    table = pd.DataFrame(rows, columns=[*cols, "sigma_lower", "profit", "opportunities"]).assign(
        pareto=True
    )
    return Frontier(spec=spec, table=table, cheapest=cheapest_per_level(table, spec))


def test_frontier_words_name_settings_money_per_year_and_why_a_level_is_not_shown() -> None:
    from analysis.fit.frontier_page import frontier_words

    w = frontier_words(_words_frontier())  # type: ignore[arg-type]
    assert "3 settings tried" in w["intro"] and "2 years" in w["intro"]
    assert "one-sided 95% lower bound" in w["intro"]
    three, four, six = w["levels"]
    # settings by what they do, the key kept; a share as a percentage
    assert "contacts per customer per week 0.05 (one every 20.0 weeks)" in three
    assert "[focal.platform.density]" in three
    assert "share of reads that are right 90.0% [focal.platform.strength]" in three
    # money per year in the scenario's currency (10,000 over two years), separators
    assert "platform cost 5,000 EUR a year" in three and "profit 25,000 EUR a year" in three
    # 4σ is shown by trial 2 only; trial 1 estimates it but cannot show it
    assert "0.2 (one every 5.0 weeks)" in four and "20,000 EUR a year" in four
    assert "estimates 4.10σ, but its 3,600 opportunities support only 3.98σ" in four
    assert "at least 4.30σ at 95%" in four and "at 90%" not in " ".join(w["levels"])
    # 6σ: ln(20) / 3.4e-6 defect-free opportunities against the largest run's
    assert six.startswith("6σ: not shown by any setting")
    assert "about 880,000 opportunities to show 6σ at 95%" in six
    assert "the largest run held 4,366" in six
    # the profit peak: trial 1, and the one setting that shows more earns less
    assert w["profit"].startswith("Most profitable setting: contacts per customer per week 0.1 ")
    assert "profit 35,000 EUR a year" in w["profit"] and "Profit peaks near 4.0σ" in w["profit"]


def test_frontier_words_name_a_chosen_confidence_in_every_bound() -> None:
    from analysis.fit.frontier_page import frontier_words

    w = frontier_words(_words_frontier(confidence=0.9))  # type: ignore[arg-type]
    assert "one-sided 90% lower bound" in w["intro"]
    three, four, six = w["levels"]
    assert "at least 3.40σ at 90%" in three and "at least 4.30σ at 90%" in four
    assert "about 680,000 opportunities to show 6σ at 90%" in six  # ln(10) / 3.4e-6
    assert "95%" not in " ".join([w["intro"], *w["levels"], w["profit"]])


def test_frontier_terminal_page_and_json_speak_plain_words(frontier_dir: Path) -> None:
    html = (frontier_dir / "frontier.html").read_text()
    assert "In plain words" in html and "contacts per customer per week" in html
    assert "a year)" in html and "Most profitable setting" in html
    spec = frontier_dir.parent / "spec.toml"
    argv = ["frontier", "six-sigma-platform", "--spec", str(spec), "--out", str(frontier_dir)]
    # the search is finished: the same command continues it with nothing left to run
    result = CliRunner().invoke(cli, [*argv, "-q"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("What each sigma level costs in six-sigma-platform: 10 settings")
    assert [line.split(":")[0] for line in lines[1:3]] == ["3σ", "4σ"]
    assert "money units a year" in lines[2] and lines[-1].startswith("Most profitable")
    # --json through a real pipe parses and round-trips
    proc = bash(
        f"{sys.executable} -m demandsim {' '.join(argv)} -q --json | "
        f"{sys.executable} -c 'import json,sys; d = json.load(sys.stdin); "
        "assert json.loads(json.dumps(d)) == d; print(json.dumps(d))'; "
        "echo ${PIPESTATUS[0]} ${PIPESTATUS[1]}"
    )
    doc_line, status = proc.stdout.strip().splitlines()
    assert status == "0 0", proc.stderr
    doc = json.loads(doc_line)
    assert doc["kind"] == "frontier" and doc["summary"]["levels"][1].startswith("4σ")
    assert doc["settings"]["focal.platform.strength"] == "share of reads that are right"
    three = doc["cheapest"][0]  # 52 weekly steps: the run is one year
    assert three["cost_per_year"] == pytest.approx(three["cost"]) and three["cost"] > 0
    # a reader that leaves after the first byte: the command still ends with exit 0
    closed = bash(
        f"{sys.executable} -m demandsim {' '.join(argv)} -q --json | head -c 1 >/dev/null; "
        "echo ${PIPESTATUS[0]}"
    )
    assert closed.stdout.strip() == "0" and "Traceback" not in closed.stderr, closed.stderr
