"""The comparison report as a client sees it, in headless Chromium: a screenshot of
the page, and the rendered headline (currency, years, thousands separators), the
decomposition of the profit difference and the sensitivity tornado.

Needs Debian's Chromium at /usr/bin/chromium (Playwright cannot download one here).
The screenshot goes to ``test-artifacts/``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from demandsim.main import cli
from tests.helpers import CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flagship comparison, small: 3,000 customers over three years, in euros."""
    out = tmp_path_factory.mktemp("browser") / "cmp"
    args = ["compare", "baseline", "insensitive-platform", "--reps", "2", "--steps", "156"]
    args += ["--set", "run.customers=3000", "--set", "run.currency=EUR", "--price-reps", "2"]
    result = CliRunner().invoke(cli, [*args, "--jobs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["report", str(out)])
    assert result.exit_code == 0, result.output
    return out / "report.html"


def test_the_report_renders_what_a_client_reads(report: Path) -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(report.as_uri())
            headline = page.locator("p.finding").inner_text()
            cards = page.locator(".card").all_inner_texts()
            parts = page.locator(".decomposition table tr").all_inner_texts()
            decomposition_visible = page.locator(".decomposition table").is_visible()
            tornado = page.locator('img[alt="tornado"]')
            tornado_visible = tornado.is_visible()
            tornado_width = tornado.evaluate("i => i.complete ? i.naturalWidth : 0")
            strip = page.locator("#sensitivity").inner_text()
            order = page.evaluate(
                "['why', 'sensitivity'].map(id => document.getElementById(id).offsetTop)"
            )
            shot = page.screenshot(full_page=True)
        finally:
            browser.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.png").write_bytes(shot)

    # a real picture of the whole page, not a blank one
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(shot)).convert("L")
    width, height = image.size
    assert width == 1200 and height > 2000
    histogram = image.histogram()
    white = sum(histogram[250:])
    assert white < 0.97 * width * height  # text, tables and plots cover the page
    assert len([n for n in histogram if n]) > 50  # greys of text and plots, not one colour

    # the headline: currency, horizon in years, thousands separators
    assert "EUR" in headline and "over 3 years (156 weeks)" in headline
    assert re.search(r"earns \d{1,3}(,\d{3})+ EUR less total profit", headline), headline
    assert "money units" not in headline and "steps" not in headline
    assert any(re.search(r"[−+]\d+\.\d pp", c) for c in cards), cards

    # the decomposition: one row per part and the total, in euros
    assert decomposition_visible
    assert len(parts) == 7  # header, five parts, total
    assert parts[1].startswith("revenue") and parts[-1].startswith("total profit")
    assert all("EUR" in row for row in parts[1:])

    # the tornado: drawn, after the why, and its table names what was varied
    assert tornado_visible and tornado_width > 300
    assert order[0] < order[1]
    assert "price of a contact" in strip and "product prices" in strip
    assert "rerun on the first 2 seeds" in strip
