"""The HTML report: self-contained, says what was asked and what differs, opens
in a browser with no network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from analysis.compare.report import build_report, reading
from demandsim.main import cli
from tests.helpers import CHROMIUM, CHROMIUM_ARGS

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def comparison_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "cmp"
    args = [
        "compare",
        "new-product-launch",
        "--reps",
        "3",
        "--steps",
        "56",
        "--set",
        "run.customers=1500",
        "--price-reps",
        "2",
    ]
    result = CliRunner().invoke(cli, [*args, "--jobs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["report", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder written by `demandsim run`, then reported on."""
    out = tmp_path_factory.mktemp("report") / "run"
    args = ["run", "upmarket-shift", "--steps", "80", "--seed", "2", "--set", "run.customers=1500"]
    result = CliRunner().invoke(cli, [*args, "--set", "run.currency=EUR", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["report", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _html(d: Path) -> str:
    return (d / "report.html").read_text(encoding="utf-8")


def test_comparison_report_says_what_was_asked_and_what_differs(comparison_dir: Path) -> None:
    html = _html(comparison_dir)
    meta = json.loads((comparison_dir / "comparison.json").read_text())
    assert "Does the same new product succeed or fail" in html  # the scenario's question
    assert "sensitive platform" in html and "insensitive platform" in html
    assert "B − A" in html
    for heading in (
        "What was asked",
        "Headline",
        "Why",
        "Two kinds of sigma",
        "How the finding moves with the economic assumptions",
        "Plots",
        "Sensitivity of the platform",
        "Value-transfer chain",
        "Launches",
        "All outcomes",
    ):
        assert f"{heading}" in html
    n_png = len(list((comparison_dir / "plots").glob("*.png")))
    assert n_png >= 5 and html.count('src="data:image/png;base64,') == n_png
    # the market-share card speaks in percentage points, with each side in percent
    share = next(r for r in meta["outcomes"] if r["outcome"] == "market_share_final")
    assert share["significant"], "the sensitive platform should win share in this scenario"
    pp = f"{share['diff_b_minus_a'] * 100:.1f}".replace("-", "\u2212") + " pp"
    assert f"final market share: B − A</div><div class=v>{pp}</div>" in html
    assert f"{share['mean_a'] * 100:.1f}%" in html
    assert "failed focal launches" in html


def test_comparison_report_states_the_finding_first(comparison_dir: Path) -> None:
    """The strategist reads the finding (money with its unit, share of side A, interval)
    before anything else, the fields that differ, and pending launches where the
    launch numbers are."""
    import html as htmllib

    text = htmllib.unescape(_html(comparison_dir))
    meta = json.loads((comparison_dir / "comparison.json").read_text())
    headline = text.index("<h2>Headline</h2>")
    assert text.index(meta["finding"]) == text.index("<b>", headline) + 3
    assert meta["currency"] == "money units" and "of sensitive platform's total profit" in text
    assert "over 1.1 years (56 weeks)" in meta["finding"]
    for d in meta["differences"]:
        assert f"<code>{d['field']}</code>: {d['a']} → {d['b']}" in text
    assert "focal.platform.density" in {d["field"] for d in meta["differences"]}
    card = text.index("failed focal launches</div>")
    assert "still being judged at the end (not counted)" in text[card : card + 600]


def test_reading_separates_significant_from_undetected() -> None:
    rows = [
        {
            "outcome": "profit_total",
            "diff_b_minus_a": -5.0,
            "mean_a": 10.0,
            "mean_b": 5.0,
            "paired_lo": -6.0,
            "paired_hi": -4.0,
            "significant": True,
            "variance_reduction": 0.8,
        },
        {
            "outcome": "market_share_final",
            "diff_b_minus_a": 0.01,
            "mean_a": 0.5,
            "mean_b": 0.51,
            "paired_lo": -0.01,
            "paired_hi": 0.03,
            "significant": False,
            "variance_reduction": 0.5,
        },
    ]
    text = " ".join(reading(rows, "A1", "B1", 10))
    assert "<b>total profit</b> is lower under B1 than under A1" in text
    assert "worse for B1" in text and "pairing removed 80% of the variance" in text
    assert (
        "No detectable difference" in text
        and "final market share" in text.split("No detectable")[1]
    )


def test_run_report_has_headline_tables_and_plots(run_dir: Path) -> None:
    html = _html(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "Run: upmarket-shift" in html
    assert "If our customers move upmarket fast" in html
    assert "marketing density" in html and "DPMO" in html
    if summary["contraction_onset"] is not None:
        assert f"contracted from week {summary['contraction_onset']} on" in html
    assert "Sensitivity of the platform" in html and "Value-transfer chain" in html
    n_png = len(list(run_dir.rglob("*.png")))
    assert n_png >= 5 and html.count('src="data:image/png;base64,') == n_png


def test_run_report_of_several_replications(tmp_path: Path) -> None:
    out = tmp_path / "reps"
    args = ["run", "upmarket-shift", "--reps", "3", "--steps", "70", "--set", "run.customers=1000"]
    assert CliRunner().invoke(cli, [*args, "--no-plots", "--out", str(out)]).exit_code == 0
    runs = json.loads((out / "summary.json").read_text())["runs"]
    html = build_report(out)
    hit = sum(r["contraction_onset"] is not None for r in runs)
    assert f"Strategic contraction was flagged in {hit} of 3 replications" in html
    assert "means over the replications" in html
    assert html.count('src="data:image/png;base64,') >= 5  # drawn from the time series


def test_run_report_draws_plots_when_the_folder_has_none(run_dir: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("summary.json", "timeseries.parquet", "scenario.toml"):
        (bare / name).write_bytes((run_dir / name).read_bytes())
    html = build_report(bare)
    assert html.count('src="data:image/png;base64,') >= 5
    assert sorted(p.name for p in bare.iterdir()) == [
        "scenario.toml",
        "summary.json",
        "timeseries.parquet",
    ]


@pytest.mark.parametrize("which", ["comparison_dir", "run_dir"])
def test_report_has_no_external_assets(which: str, request: pytest.FixtureRequest) -> None:
    html = _html(request.getfixturevalue(which))
    assert not EXTERNAL.findall(html)
    assert "<script" not in html.lower() and "@import" not in html and "url(" not in html


def test_report_opens_in_headless_chromium_offline(comparison_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page()

            def guard(route, request) -> None:  # type: ignore[no-untyped-def]
                if request.url.startswith(("file://", "data:")):
                    route.continue_()
                else:
                    outside.append(request.url)
                    route.abort()

            page.route("**/*", guard)
            page.goto((comparison_dir / "report.html").as_uri())
            widths = page.evaluate(
                "Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)"
            )
            title = page.title()
            tables = page.evaluate("document.querySelectorAll('table').length")
        finally:
            browser.close()
    assert outside == []
    assert widths and all(w > 100 for w in widths)
    assert title.startswith("Comparison:")
    assert tables >= 4


def test_reading_warns_when_pending_launches_hide_failures() -> None:
    rows = [
        {
            "outcome": "launch_failures",
            "diff_b_minus_a": -0.8,
            "mean_a": 0.9,
            "mean_b": 0.1,
            "paired_lo": -1.0,
            "paired_hi": -0.6,
            "significant": True,
            "variance_reduction": 0.1,
        },
        {
            "outcome": "focal_launch_pending",
            "diff_b_minus_a": 0.9,
            "mean_a": 0.0,
            "mean_b": 0.9,
            "paired_lo": 0.7,
            "paired_hi": 1.1,
            "significant": True,
            "variance_reduction": 0.0,
        },
    ]
    text = " ".join(reading(rows, "A1", "B1", 20))
    assert "still pending at the end" in text
    assert "better for B1" not in text


def test_rows_that_read_backwards_are_explained_from_the_numbers() -> None:
    from analysis.compare.report import backwards

    by_name = {
        "profit_total": {"diff_b_minus_a": -8000.0, "significant": True},
        "alignment_final": {"mean_a": 0.946, "mean_b": 0.947},
        "churn_total": {"mean_a": 8874.0, "mean_b": 8318.0},
    }
    meta = {
        "alignment_low": {"A": {"value": 0.37, "step": 26.0}, "B": {"value": 0.17, "step": 104.0}},
        "churn_rate": {"A": 0.2, "B": 0.2008, "diff": 0.0008, "lo": -0.001, "hi": 0.0026},
    }
    text = " ".join(backwards(meta, by_name, "sensitive", "insensitive"))
    assert "fell to 0.17 at step 104" in text and "no lower than 0.37" in text
    assert "no detectable difference per need" in text
    # the side that earns more has nothing to explain; nor has a significant-less profit
    assert backwards(meta, {**by_name, "profit_total": {"significant": False}}, "a", "b") == []
    lower = {
        **meta,
        "churn_rate": {**meta["churn_rate"], "diff": -0.003, "lo": -0.005, "hi": -0.001},
    }
    assert "lower per need too" in " ".join(backwards(lower, by_name, "a", "b"))


# --------------------------------------------------------------------------- a client's report


def test_the_decomposition_adds_up_to_the_profit_difference(comparison_dir: Path) -> None:
    """Per run, revenue minus the cost parts is the run's profit; over the pairs, the
    parts' effects add up to the profit difference the table shows."""
    from analysis.compare.assumptions import account_parts
    from sim.scenario import load_scenario

    meta = json.loads((comparison_dir / "comparison.json").read_text())
    runs = json.loads((comparison_dir / "summaries.json").read_text())
    for side, toml in (("A", "scenario_a.toml"), ("B", "scenario_b.toml")):
        scenario = load_scenario(str(comparison_dir / toml))
        for s in runs[side]:
            p = account_parts(s, scenario)
            costs = p["contact_cost"] + p["record_cost"]
            costs += p["development_failed"] + p["development_other"]
            assert p["revenue"] - costs == pytest.approx(s["profit_total"], rel=1e-12, abs=1e-9)
            assert p["contact_cost"] == pytest.approx(
                s["contacts_total"] * scenario.focal.platform.cost_per_contact
            )
    accounts = meta["accounts"]
    total = sum(p["effect"] for p in accounts["parts"])
    profit = next(r for r in meta["outcomes"] if r["outcome"] == "profit_total")
    assert total == pytest.approx(profit["diff_b_minus_a"], rel=1e-9, abs=1e-9)
    assert accounts["total"]["diff"] == pytest.approx(profit["diff_b_minus_a"], rel=1e-12)
    # the contact saving of the insensitive platform is a part the report names
    contact = next(p for p in accounts["parts"] if p["part"] == "contact_cost")
    assert contact["effect"] > 0 and contact["lo"] > 0
    html = _html(comparison_dir)
    assert 'class="sig"><td class="l">total profit</td>' in html
    assert f"saves {_money(contact['effect'])} of contact cost" in html


def _money(x: float, currency: str = "money units") -> str:
    from analysis.html import money

    return money(x, currency)


def test_development_wasted_counts_the_focal_firms_failed_planned_launches() -> None:
    from analysis.compare.assumptions import account_parts
    from sim.scenario import load_scenario

    scenario = load_scenario("baseline")
    cost = scenario.focal.strategy.development_cost
    launches = [
        {"firm": "focal", "kind": "planned", "outcome": "failure"},
        {"firm": "focal", "kind": "planned", "outcome": "success"},
        {"firm": "focal", "kind": "launch", "outcome": "failure"},  # scripted: no development
        {"firm": "rival", "kind": "planned", "outcome": "failure"},  # not our money
    ]
    summary = {
        "contacts_total": 100,
        "contact_cost_total": 100 * scenario.focal.platform.cost_per_contact + 7.0,
        "revenue_total": 5000.0,
        "development_cost_total": 2.5 * cost,
        "launches": launches,
    }
    p = account_parts(summary, scenario)
    assert p["development_failed"] == cost
    assert p["development_other"] == pytest.approx(1.5 * cost)
    assert p["record_cost"] == pytest.approx(7.0)


def test_numbers_read_as_a_client_writes_them() -> None:
    from analysis.compare.paired import finding
    from analysis.html import amount, horizon, money, percent, points

    assert points(-0.2337) == "\u221223.4 pp" and points(0.05) == "+5.0 pp"
    assert amount(-11174.4) == "\u221211,174" and amount(3338.2) == "3,338"
    assert amount(0.52345) == "0.523" and amount(4.7e-14) == "0"
    assert money(1234567, "EUR") == "1,234,567 EUR" and percent(0.385) == "38.5%"
    assert horizon(260, 52) == "5 years (260 weeks)" and horizon(56, 52) == "1.1 years (56 weeks)"
    assert horizon(60, 12) == "5 years (260 weeks)"  # monthly steps
    cost = {"worse": "B1", "better": "A1", "loss": 8192.4, "lo": 8113.0, "hi": 8271.0}
    text = finding({**cost, "significant": True}, 21275.0, 260, "EUR", 52, "A1")
    assert text == (
        "B1 earns 8,192 EUR less total profit than A1 over 5 years (260 weeks), 38.5% of "
        "A1's total profit; paired 95% CI 8,113 to 8,271 EUR."
    )


def test_no_card_is_empty_and_every_card_has_a_unit(comparison_dir: Path) -> None:
    html = _html(comparison_dir)
    values = re.findall(r"<div class=card><div class=k>(.*?)</div><div class=v>(.*?)</div>", html)
    assert len(values) >= 6
    unit = re.compile(r"(pp|%|σ|weeks|money units|runs|per run|none)")
    for key, value in values:
        assert value.strip() and value.strip() != "—", key
        assert unit.search(value), (key, value)


def test_a_missing_value_is_said_in_words() -> None:
    from analysis.compare.client import Units, diff_card

    row = {"mean_a": 1.33, "mean_b": None, "diff_b_minus_a": None}
    html = diff_card("detection_lag_median", row, "A1", "B1", Units({"steps_per_year": 52}))
    assert "1.33 weeks → none" in html and "fewer than half" in html
    from analysis.compare.client import contraction_words

    assert contraction_words({"runs": 4, "contracted": 0}, Units({})) == (
        "no contraction in any of 4 runs"
    )


def test_the_strip_recomputes_cost_prices_exactly(comparison_dir: Path) -> None:
    """A contact costing 20% more moves the difference by exactly 0.2 × the contact-cost
    difference (the price changes no decision); the price rows are the finding plus the
    shift their reruns measured."""
    meta = json.loads((comparison_dir / "comparison.json").read_text())
    strip, accounts = meta["sensitivity"], meta["accounts"]
    effect = {p["part"]: p["effect"] for p in accounts["parts"]}
    row = {r["name"]: r for r in strip["rows"]}
    base = strip["base"]
    assert row["contact_cost"]["high"] - base == pytest.approx(0.2 * effect["contact_cost"])
    assert row["contact_cost"]["low"] - base == pytest.approx(-0.2 * effect["contact_cost"])
    assert row["record_cost"]["high"] - base == pytest.approx(0.2 * effect["record_cost"])
    dev = effect["development_failed"] + effect["development_other"]
    assert row["development_cost"]["high"] - base == pytest.approx(0.2 * dev, abs=1e-9)
    prices = row["prices"]
    assert prices["reps"] == 2 and strip["price_reps"] == 2
    lo, hi = prices["high_shift_ci"]
    assert lo <= prices["high"] - base <= hi
    # widest bar first, as a tornado is drawn
    widths = [abs(r["high"] - r["low"]) for r in strip["rows"]]
    assert widths == sorted(widths, reverse=True)
    assert 'alt="tornado"' in _html(comparison_dir)


@pytest.mark.parametrize("field", ["cost_per_contact", "cost_per_record"])
def test_a_cost_price_changes_no_decision(field: str) -> None:
    """What makes the strip's recomputation exact: rerun with the price 20% higher, the
    same seeds give the same counts, and the profit difference moves by 0.2 × that
    cost's difference."""
    from analysis.compare.assumptions import accounting_swings, decompose
    from analysis.compare.paired import resolve_sides, resolved_horizon, run_comparison

    def compare(sets: dict[str, object]) -> tuple[dict[str, object], object]:
        a, b, _ = resolve_sides("new-product-launch", None, {"run.customers": 800, **sets})
        a, b = resolved_horizon(a, b, 30, 0, 2)
        comp = run_comparison(a, b, 2, 30, 0)
        return decompose(comp.summaries_a, comp.summaries_b, a.scenario, b.scenario), comp

    before, comp = compare({})
    price = getattr(comp.a.scenario.focal.platform, field)
    after, comp2 = compare({f"focal.platform.{field}": price * 1.2})
    name = {"cost_per_contact": "contact_cost", "cost_per_record": "record_cost"}[field]
    row = next(r for r in accounting_swings(before) if r["name"] == name)
    assert after["total"]["diff"] == pytest.approx(row["high"], rel=1e-9, abs=1e-9)
    assert [s["contacts_total"] for s in comp2.summaries_b] == [
        s["contacts_total"] for s in comp.summaries_b
    ]
    assert [s["revenue_total"] for s in comp2.summaries_a] == [
        s["revenue_total"] for s in comp.summaries_a
    ]


def test_prices_scale_everywhere_but_the_defaults() -> None:
    from analysis.compare.assumptions import scale_prices

    data = {
        "categories": [{"prices": [1.0, 2.0]}],
        "focal": {"products": [{"price": -1.0}, {"price": 3.0}], "price_sensitivity": 1.0},
    }
    out = scale_prices(data, 1.2)
    assert out["categories"][0]["prices"] == pytest.approx([1.2, 2.4])
    assert out["focal"]["products"][0]["price"] == -1.0
    assert out["focal"]["products"][1]["price"] == pytest.approx(3.6)
    assert out["focal"]["price_sensitivity"] == 1.0


def test_plots_speak_in_time_and_money(comparison_dir: Path) -> None:
    from analysis.plots import series_titles, time_axis

    x, label = time_axis(np.arange(261), 52)
    assert label == "years" and x[-1] == pytest.approx(5.0)
    x, label = time_axis(np.arange(57), 52)
    assert label == "weeks" and x[-1] == 56
    assert series_titles("cum_profit", "EUR")[1] == "EUR"
    html = _html(comparison_dir)
    captions = re.findall(r"<figcaption class=muted>(.*?)</figcaption>", html)
    assert captions and not [c for c in captions if c.endswith(".png")]


def test_run_report_speaks_in_currency_weeks_and_words(run_dir: Path) -> None:
    """The run's report writes numbers as the comparison report does: money in the
    scenario's currency with separators, the horizon in years and weeks, shares in
    percent, sigma with the level its counts support, captions in words."""
    import html as htmllib

    from analysis.html import CAPTIONS, money, percent
    from sim.outcomes import find
    from sim.tables import sigma_text

    text = htmllib.unescape(_html(run_dir))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "1.5 years (80 weeks)" in text and "1,500 customers" in text
    assert "Amounts are in EUR" in text and "money units" not in text
    cards = dict(re.findall(r"<div class=k>(.*?)</div><div class=v>(.*?)</div>", text))
    assert cards["total profit"] == money(summary["profit_total"], "EUR")
    big = [k for k in ("dpmo", "revenue_total", "profit_total") if abs(summary[k]) >= 1000]
    assert big  # separators: every amount of 1,000 or more has one
    assert all(f"{abs(summary[k]):,.0f}" in cards[find(k).label] for k in big)  # type: ignore[union-attr]
    assert cards["total revenue"] == money(summary["revenue_total"], "EUR")
    assert cards["marketing density"] == percent(summary["marketing_density"])
    assert cards["final market share"] == percent(summary["market_share_final"])
    assert cards["sigma level (shifted)"] == sigma_text(
        summary["sigma_level"], summary["sigma_level_lower"]
    )
    assert "≥" in cards["sigma level (shifted)"]
    onset = summary["contraction_onset"]
    assert cards["contraction onset"] == ("none" if onset is None else f"week {onset}")
    assert all(v.strip() for v in cards.values())
    assert "lag median (weeks)" in text
    captions = re.findall(r"<figcaption class=muted>(.*?)</figcaption>", text)
    assert len(captions) == len(list(run_dir.rglob("*.png")))
    assert CAPTIONS["cum_profit"] in captions and CAPTIONS["sigma_level"] in captions
    assert not [c for c in captions if c.endswith(".png") or "_" in c]


def _drawn(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Record every figure analysis.plots saves, by file name, instead of drawing it."""
    import analysis.plots

    figures: dict[str, object] = {}

    def keep(fig: object, path: Path) -> Path:
        figures[path.name] = fig
        return path

    monkeypatch.setattr(analysis.plots, "save_figure", keep)
    return figures


def test_run_plots_have_time_and_money_axes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import pandas as pd

    from analysis.plots import plot_run

    n = 300
    rng = np.random.default_rng(1)
    ts = pd.DataFrame(
        {
            "step": np.arange(n),
            "share_focal": rng.uniform(0.2, 0.4, n),
            "share_rival": rng.uniform(0.2, 0.4, n),
            "marketing_density": rng.uniform(0, 1, n),
            "sigma_level": rng.uniform(1, 3, n),
            "sigma_level_lower": rng.uniform(0.5, 1, n),
            "profit": rng.uniform(100, 200, n),
            "alignment": rng.uniform(0, 1, n),
            "contraction": (np.arange(n) > 200).astype(float),
            "demand_core/entry": rng.uniform(0, 1, n),
        }
    )
    figures = _drawn(monkeypatch)
    plot_run(ts, tmp_path, "EUR", 52)
    assert set(figures) >= {
        "market_share.png",
        "marketing_density.png",
        "sigma_level.png",
        "cum_profit.png",
        "alignment.png",
        "demand_structure.png",
    }
    for name, fig in figures.items():
        ax = fig.axes[0]  # type: ignore[attr-defined]
        assert ax.get_xlabel() == "years", name
        assert ax.get_lines()[0].get_xdata()[-1] == pytest.approx((n - 1) / 52), name
    sigma = figures["sigma_level.png"].axes[0]  # type: ignore[attr-defined]
    assert [t.get_text() for t in sigma.get_legend().get_texts()] == [
        "sigma level (shifted)",
        "sigma level supported (95% lower bound)",
    ]
    profit = figures["cum_profit.png"].axes[0]  # type: ignore[attr-defined]
    assert profit.get_ylabel() == "EUR"
    assert profit.yaxis.get_major_formatter()(12000.0, 0) == "12,000"
    figures.clear()
    plot_run(ts.iloc[:60], tmp_path, "EUR", 52)
    assert {fig.axes[0].get_xlabel() for fig in figures.values()} == {"weeks"}  # type: ignore[attr-defined]
    figures.clear()
    plot_run(ts.iloc[:60], tmp_path, "EUR", 12)  # a monthly calendar: 5 years of months
    assert {fig.axes[0].get_xlabel() for fig in figures.values()} == {"years"}  # type: ignore[attr-defined]


def test_demandsim_run_draws_its_plots_in_the_scenarios_units(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    figures = _drawn(monkeypatch)
    args = ["run", "baseline", "--steps", "30", "--set", "run.customers=300"]
    result = CliRunner().invoke(
        cli, [*args, "--set", "run.currency=CHF", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert figures and {f.axes[0].get_xlabel() for f in figures.values()} == {"weeks"}  # type: ignore[attr-defined]
    assert figures["cum_profit.png"].axes[0].get_ylabel() == "CHF"  # type: ignore[attr-defined]
