"""The HTML report: self-contained, says what was asked and what differs, opens
in a browser with no network."""

from __future__ import annotations

import json
import re
from pathlib import Path

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
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
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
        assert f"contracted from step {summary['contraction_onset']} on" in html
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
