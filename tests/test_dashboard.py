"""The trainer's dashboard: the paired runner and figures in-process, then the real
server (``demandsim dashboard``) driven in headless Chromium with Playwright.

The browser test needs Debian's Chromium at /usr/bin/chromium (``make browser``
installs it); Playwright's own browser download is not used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.dashboard import app, network, paired, plots
from sim.scenario import build_scenario, bundled_names, load_scenario, read_toml
from tests.helpers import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[1]
DEMANDSIM = Path(sys.executable).parent / "demandsim"
ARTIFACTS = REPO / "test-artifacts"
CUSTOMERS = 1000


# --------------------------------------------------------------------------- in-process


def test_default_pair_differs_only_in_platform_density_and_strength() -> None:
    s = paired.default_settings("baseline")
    sc = load_scenario("baseline")
    assert s.a.density > s.b.density and s.a.strength > s.b.strength
    for name in ("coverage", "upmarket_rate", "complement_propensity"):
        assert getattr(s.a, name) == getattr(s.b, name)
    assert s.a.coverage == sc.focal.platform.coverage
    assert (s.seed, s.customers) == (sc.run.seed, sc.run.customers)


def test_scenario_comparison_of_platforms_becomes_the_default_pair(tmp_path: Path) -> None:
    path = tmp_path / "coverage-pair.toml"
    path.write_text(
        "[run]\nname = 'coverage-pair'\n[focal.platform]\ncoverage = 0.5\n"
        "[compare]\na = 'focal.platform.coverage = 0.9'\nb = ''\n"
        "label_a = 'wide platform'\nlabel_b = 'narrow platform'\n"
    )
    s = paired.default_settings(str(path))
    assert (s.label_a, s.label_b) == ("wide platform", "narrow platform")
    assert (s.a.coverage, s.b.coverage) == (0.9, 0.5)
    assert s.a.density == s.b.density  # the comparison changed coverage only
    # a comparison that changes more than the platform keeps the standard pair
    path.write_text(path.read_text().replace("b = ''", "b = 'focal.strategy.enabled = false'"))
    s = paired.default_settings(str(path))
    assert (s.label_a, s.label_b) == ("sensitive platform", "insensitive platform")
    assert (s.a.density, s.b.density) == (0.3, 0.02)


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_scenario_runs_and_draws(name: str) -> None:
    run = paired.PairedRun(paired.default_settings(name, customers=300))
    run.step(3)
    assert run.steps == 3 and all(len(f) == 4 for f in run.frames())
    figures = app.all_figures(run)
    assert len(figures) >= 6
    for fig in figures:
        fig.savefig(io.BytesIO(), format="png")


def test_side_overrides_set_platform_and_keep_segment_ratios() -> None:
    data = read_toml("baseline")
    data["segments"] = [
        {"name": "thrifty", "share": 0.75, "upmarket_rate": 0.2, "complement_propensity": 0.4},
        {"name": "keen", "share": 0.25, "upmarket_rate": 0.6, "complement_propensity": 0.8},
    ]
    sc = build_scenario(data)
    side = paired.SideSettings(
        coverage=0.5, density=0.25, strength=0.9, upmarket_rate=0.6, complement_propensity=0.9
    )
    out = build_scenario(data, paired.side_overrides(sc, side))
    p = out.focal.platform
    assert (p.coverage, p.density, p.strength) == (0.5, 0.25, 0.9)
    ups = [seg.upmarket_rate for seg in out.segments]
    shares = [seg.share for seg in out.segments]
    assert np.average(ups, weights=shares) == pytest.approx(0.6)
    assert ups[1] / ups[0] == pytest.approx(3.0)  # the keen segment stays three times as keen
    comps = [seg.complement_propensity for seg in out.segments]
    assert max(comps) <= 1.0  # scaled up, but a propensity is clipped at 1
    assert comps[0] == pytest.approx(0.4 * 0.9 / 0.5)


def _pair(steps: int, **changes: Any) -> paired.PairedRun:
    settings = dataclasses.replace(
        paired.default_settings("baseline", seed=11, customers=CUSTOMERS), **changes
    )
    run = paired.PairedRun(settings)
    run.step(steps)
    return run


def test_equal_sides_give_identical_runs() -> None:
    """Same scenario, same seed, same settings: the two sides are the same run step for step."""
    base = paired.default_settings("baseline", seed=11, customers=CUSTOMERS)
    run = _pair(26, b=base.a)
    fa, fb = run.frames()
    assert len(fa) == len(fb) == 27  # the initial row and one per step
    pd.testing.assert_frame_equal(fa, fb)


def test_sensitive_side_markets_more_and_notices_sooner() -> None:
    run = _pair(52)
    a, b = (plots.side_numbers(f) for f in run.frames())
    assert run.steps == 52 and not run.done
    assert a.marketing_density > b.marketing_density
    assert a.sigma_level > b.sigma_level
    assert a.lags["upmarket"] < b.lags["upmarket"] or math.isnan(b.lags["upmarket"])


def test_other_seed_gives_other_runs() -> None:
    fa1, _ = _pair(20).frames()
    fa2, _ = _pair(20, seed=12).frames()
    assert not fa1["marketing_density"].iloc[1:].equals(fa2["marketing_density"].iloc[1:])


def test_figures_draw_the_frames() -> None:
    run = _pair(30)
    fa, fb = run.frames()
    labels = ("A", "B")
    gap = plots.figure_gap(fa, fb, run.events(), labels, run.horizon)
    line = gap.axes[0].get_lines()[0]
    expected = fa["cum_profit"].to_numpy() - fb["cum_profit"].to_numpy()
    np.testing.assert_allclose(line.get_ydata(), expected)
    lag = plots.figure_detection_lag(fa, fb, labels)
    heights = [patch.get_height() for patch in lag.axes[0].patches]
    want = [fa[f"lag_{e}"].iloc[-1] for e in plots.EVENT_TYPES] + [
        fb[f"lag_{e}"].iloc[-1] for e in plots.EVENT_TYPES
    ]
    np.testing.assert_allclose(heights, np.nan_to_num(want))
    demand, product, names = plots.structure_matrices(fa, run.cells)
    assert demand.shape == (len(run.cells), len(fa)) and len(names) == len(run.cells)
    np.testing.assert_allclose(demand.sum(axis=0), 1.0, atol=1e-9)  # shares of all demand
    cat, tier = run.cells[0]
    np.testing.assert_array_equal(product[0], fa[f"product_{cat}_{tier}"].to_numpy())
    for fig in (
        plots.figure_share(fa, fb, labels, run.horizon),
        plots.figure_density_sigma(fa, fb, labels, run.horizon),
        plots.figure_structure(fa, fb, run.cells, labels, run.horizon),
        plots.figure_defects(fa, fb, labels),
    ):
        assert fig.axes  # drawn without error, with at least one axis


def test_network_view_only_for_small_populations() -> None:
    small = paired.PairedRun(paired.default_settings("baseline", customers=200))
    assert small.layout is not None and len(small.layout[1]) == 200
    assert network.figure_network(small, small.layout, ("A", "B")) is not None
    large = paired.PairedRun(
        paired.default_settings("baseline", customers=plots.NETWORK_MAX_CUSTOMERS + 1)
    )
    assert large.layout is None


def test_explanation_reads_the_current_numbers() -> None:
    lags = {e: math.nan for e in plots.EVENT_TYPES}
    a = plots.SideNumbers(0.62, 1.8, 1.7, 380_000, 0.55, 5_000.0, 0.9, {**lags, "upmarket": 3.0})
    b = plots.SideNumbers(0.11, math.nan, 4.9, 0.0, 0.31, 3_766.0, 0.8, lags)  # no defect
    text = plots.explanation(a, b, steps=40)
    assert "side A reached **62**" in text and "side B **11**" in text
    assert "**1,234** less" in text
    assert "about **3 weeks**" in text and "**nothing yet**" in text
    # a level with the one its counts support; with no defect the bound alone
    assert "**1.8σ (≥ 1.7σ, 95%)** vs **≥ 4.9σ (95%)**" in text
    html = plots.to_html("a <b> **c**\n\nd")
    assert html == "<p>a &lt;b&gt; <b>c</b></p>\n<p>d</p>"


def test_cli_bad_scenario_is_one_line_exit_2() -> None:
    proc = subprocess.run(
        [str(DEMANDSIM), "dashboard", "no-such-scenario", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no-such-scenario" in lines[0] and "baseline" in lines[0]


def test_cli_port_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [str(DEMANDSIM), "dashboard", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"--port {port}" in lines[0] and "in use" in lines[0]


def test_command_module_stays_light() -> None:
    """``demandsim --help`` imports the command module; Solara and Mesa load only when it runs."""
    code = (
        "import sys, demandsim.dashboard; "
        "heavy = [m for m in ('solara', 'mesa', 'matplotlib', 'sim.model') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_server_environment_fetches_nothing() -> None:
    from demandsim import dashboard as dashboard_cli

    env = dashboard_cli.offline_env({})
    assert env["SOLARA_ASSETS_PROXY"] == "True"  # the front end is served from the installed assets
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")  # never the public CDN
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert (dashboard_cli.assets_dir() / "requirejs@2.3.6" / "require.js").is_file()


# --------------------------------------------------------------------------- real server + browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``demandsim dashboard --port N`` as a real process; yields (url, its log file)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                str(DEMANDSIM),
                "dashboard",
                "baseline",
                "--port",
                str(port),
                "--customers",
                str(CUSTOMERS),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"dashboard exited early:\n{log.read_text()}"
            if _answers(url):
                break
            assert time.monotonic() < deadline, f"dashboard did not answer:\n{log.read_text()}"
            time.sleep(0.3)
        yield url, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def _snapshot(page: Any) -> list[str]:
    return str(page.locator("[data-testid=snapshot]").text_content()).split("|")


def _wait_step(page: Any, step: int) -> list[str]:
    page.wait_for_function(
        "s => { const e = document.querySelector('[data-testid=snapshot]');"
        " return e && e.textContent.split('|')[0] === s; }",
        arg=str(step),
        timeout=60_000,
    )
    return _snapshot(page)


def _plot_sources(page: Any) -> list[str]:
    return [str(img.get_attribute("src")) for img in page.locator(".plot img").all()]


def _settled_sources(page: Any) -> list[str]:
    """The plot images once they stop changing (they arrive after the numbers)."""
    last = _plot_sources(page)
    for _ in range(50):
        page.wait_for_timeout(400)
        now = _plot_sources(page)
        if now == last:
            return now
        last = now
    raise AssertionError("the plots kept changing")


def test_dashboard_in_a_real_browser(server: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    url, log = server
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: run `make browser`"
    outside: list[str] = []

    def only_local(route: Any) -> None:
        req_url = route.request.url
        if req_url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(req_url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.route("**/*", only_local)
            page.goto(url)
            start = _wait_step(page, 0)
            assert "insensitive platform" in page.title()
            assert page.locator(".plot img").count() >= 6
            assert page.locator(".v-select__selection").first.inner_text() == "baseline"
            sources0 = _plot_sources(page)

            # stepping moves the numbers and redraws the plots
            page.click(".btn-step")
            one = _wait_step(page, 1)
            assert one[1:] != start[1:]
            page.wait_for_function(
                "old => [...document.querySelectorAll('.plot img')].some((im, i) => im.src !== old[i])",
                arg=sources0,
                timeout=30_000,
            )
            page.click(".btn-step10")
            _wait_step(page, 11)
            # (opportunities are judged at the response time, 13 steps: go past it)
            page.click(".btn-step10")
            before = _wait_step(page, 21)
            plots_before = _settled_sources(page)

            # side B's density slider: the runs restart, then the same steps give other numbers on B only
            thumb = page.locator(".slider-b-density [role=slider]")
            thumb.focus()
            for _ in range(5):
                thumb.press("ArrowRight")
            page.wait_for_function(
                "() => document.querySelector('.slider-b-density label').textContent.includes('0.07')"
                " && document.querySelector('[data-testid=status]').textContent.startsWith('Moving')",
                timeout=60_000,
            )
            _wait_step(page, 0)
            page.click(".btn-step10")
            _wait_step(page, 10)
            page.click(".btn-step10")
            _wait_step(page, 20)
            page.click(".btn-step")
            after = _wait_step(page, 21)
            plots_after = _settled_sources(page)
            # snapshot: step, gap, then (A, B) pairs of density, sigma, its bound, share, profit
            a_before, b_before = before[2::2], before[3::2]
            a_after, b_after = after[2::2], after[3::2]
            assert a_after == a_before  # side A: same settings, same seed, same numbers
            assert b_after != b_before
            assert float(b_after[0]) > float(b_before[0])  # a denser platform markets more
            assert after[1] != before[1]  # and the cost of insensitivity changes
            assert len(plots_after) == len(plots_before)
            assert plots_after[0] != plots_before[0]  # the profit-gap plot shows it
            assert plots_after[1] != plots_before[1]  # and so does the market share plot

            # play runs on its own; pause stops it
            page.click(".btn-play")
            page.wait_for_function(
                "() => Number(document.querySelector('[data-testid=snapshot]').textContent.split('|')[0]) >= 23",
                timeout=30_000,
            )
            page.click(".btn-play")
            page.wait_for_function(
                "() => !document.querySelector('.btn-step').disabled", timeout=30_000
            )
            paused = _snapshot(page)[0]
            page.wait_for_timeout(1500)
            assert _snapshot(page)[0] == paused

            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "dashboard.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 50_000
        finally:
            browser.close()
    assert outside == [], f"the page tried to reach the network: {outside[:5]}"
    assert "Could not load URL" not in log.read_text()  # every front-end file was installed
