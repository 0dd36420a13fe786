"""The trainer's browser dashboard: what an insensitive platform costs.

Two runs of the same scenario on the same market and the same random streams
(the same seed, so common random numbers) step together: side A with a
sensitive marketing platform, side B with an insensitive one. The plots show
the gap opening up as the runs go on.

This module owns three things:

* ``PairedRun`` -- two ``DemandModel`` instances built from one scenario and one
  seed with each side's overrides, stepped together (no Solara here, so tests
  and the benchmark use it directly);
* the figure builders, in ``analysis.dashboard.plots`` (plain matplotlib
  ``Figure`` objects, no pyplot state);
* the Solara page ``Page`` that ``demandsim dashboard`` serves.

The plots read the model's outputs: the DataCollector frame (column names from
the contract), ``summary()`` for launches and contraction onset, and the
scenario. Only the small-population network view looks further, at the model's
network (``model.graph``) and who serves whom (``model.state``), and it quietly
steps aside if those are not there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import solara
from matplotlib.figure import Figure

from analysis.dashboard.network import figure_network
from analysis.dashboard.paired import (
    PairedRun,
    SideSettings,
    default_settings,
    env_customers,
    env_settings,
)
from analysis.dashboard.plots import (
    COLOR_A,
    COLOR_B,
    SideNumbers,
    explanation,
    figure_defects,
    figure_density_sigma,
    figure_detection_lag,
    figure_gap,
    figure_share,
    figure_structure,
    fmt,
    side_numbers,
    to_html,
)
from sim.outcomes import SERIES
from sim.outcomes import label as outcome_label
from sim.scenario import bundled_names

PLAY_INTERVAL_S = 0.5  # seconds per step when playing: a 260-week run plays in about 2 minutes
MAX_STEPS_PER_FRAME = 10
PNG_OPTIONS: dict[str, Any] = {"pil_kwargs": {"compress_level": 1}}  # fast to encode, local network
REBUILD_DELAY_S = 0.3  # wait for a slider drag to settle before rebuilding the runs

# --------------------------------------------------------------------------- Solara page

# Plots take the room that is left and shrink with the window; the numbers and the
# explanation keep a readable width beside them, or go below them on a narrow screen.
PAGE_CSS = """
.dash-main { flex-wrap: wrap; align-items: flex-start; gap: 12px; }
.dash-plots { flex: 1 1 640px; min-width: 0; }
.dash-side { flex: 0 0 300px; }
.plot img { max-width: 100%; height: auto; display: block; }
"""


def _testid(name: str, text: str) -> Any:
    """A span the browser test finds by ``data-testid``."""
    return solara.v.Html(tag="span", attributes={"data-testid": name}, children=[text])


def _text(text: str, tag: str = "div", style: str = "") -> Any:
    return solara.v.Html(tag=tag, children=[text], style_=style)


SLIDERS: tuple[tuple[str, str, float, float, float, str], ...] = (
    ("coverage", "coverage", 0.0, 1.0, 0.05, ".2f"),
    ("density", "density", 0.0, 1.0, 0.01, ".2f"),
    ("strength", "strength", 0.0, 1.0, 0.05, ".2f"),
    ("upmarket_rate", "upmarket /yr", 0.0, 3.0, 0.05, ".2f"),
    ("complement_propensity", "complement", 0.0, 1.0, 0.05, ".2f"),
)


@solara.component
def SideControls(
    title: str, color: str, side: SideSettings, on_side: Callable[[SideSettings], None], key: str
) -> None:
    """The five sliders of one side; each slider has the class ``slider-<side>-<field>``."""
    with solara.Card(
        style={"border-left": f"6px solid {color}", "margin-bottom": "8px", "padding": "8px"}
    ):
        _text(title, style=f"font-weight: 600; color: {color}")
        for field_name, label, lo, hi, step, spec_ in SLIDERS:
            value = getattr(side, field_name)

            def set_value(v: float, name: str = field_name) -> None:
                on_side(dataclasses.replace(side, **{name: round(float(v), 6)}))

            with solara.Div(classes=[f"slider-{key}-{field_name.replace('_', '-')}"]):
                solara.SliderFloat(
                    f"{label} {format(value, spec_)}",
                    value=value,
                    min=lo,
                    max=hi,
                    step=step,
                    on_value=set_value,
                    thumb_label=False,
                )


def _series_label(column: str) -> str:
    """A series' label as ``sim.outcomes`` declares it."""
    return outcome_label(column, SERIES)


@solara.component
def NumberPanel(run: PairedRun, a: SideNumbers, b: SideNumbers) -> None:
    """The current numbers, side by side (the browser test reads them by ``data-testid``)."""
    gap = a.cum_profit - b.cum_profit
    rows = [
        (
            _series_label("marketing_density"),
            "density",
            a.marketing_density,
            b.marketing_density,
            ".3f",
        ),
        (_series_label("sigma_level"), "sigma", a.sigma_level, b.sigma_level, ".2f"),
        (
            _series_label("sigma_level_lower"),
            "sigma-lower",
            a.sigma_level_lower,
            b.sigma_level_lower,
            ".2f",
        ),
        (_series_label("market_share"), "share", a.market_share, b.market_share, ".3f"),
        (_series_label("cum_profit"), "profit", a.cum_profit, b.cum_profit, ",.0f"),
    ]
    # One element carrying every number at once: widgets update one by one, so a reader
    # (the browser test) that waits for this text sees a consistent frame.
    snapshot = "|".join(
        [str(run.steps), fmt(gap, ".6g")]
        + [fmt(v, ".6g") for _, _, va, vb, _ in rows for v in (va, vb)]
    )
    with solara.Card(style={"padding": "8px 12px", "margin-bottom": "8px"}):
        solara.v.Html(
            tag="span",
            attributes={"data-testid": "snapshot"},
            children=[snapshot],
            style_="display: none",
        )
        with solara.Row(style={"align-items": "baseline", "gap": "6px"}):
            _text("Step", "b")
            _testid("step", str(run.steps))
            _text(f"of {run.horizon}", "span")
        with solara.Row(style={"align-items": "baseline", "gap": "6px", "font-size": "1.15em"}):
            _text("Cost of insensitivity:", "b")
            solara.v.Html(
                tag="span",
                attributes={"data-testid": "gap"},
                children=[fmt(gap, ",.0f")],
                style_="color: #4a148c; font-weight: 700",
            )
        cell = "padding: 0 4px; white-space: nowrap"
        with solara.v.SimpleTable(dense=True):
            with solara.v.Html(tag="thead"), solara.v.Html(tag="tr"):
                solara.v.Html(tag="th", children=[""], style_=cell)
                solara.v.Html(tag="th", children=["A"], style_=f"{cell}; color:{COLOR_A}")
                solara.v.Html(tag="th", children=["B"], style_=f"{cell}; color:{COLOR_B}")
            with solara.v.Html(tag="tbody"):
                for title, key, va, vb, spec_ in rows:
                    with solara.v.Html(tag="tr"):
                        solara.v.Html(tag="td", children=[title], style_=cell)
                        with solara.v.Html(tag="td", style_=cell):
                            _testid(f"{key}-a", fmt(va, spec_))
                        with solara.v.Html(tag="td", style_=cell):
                            _testid(f"{key}-b", fmt(vb, spec_))


def all_figures(run: PairedRun) -> list[Figure]:
    """Every plot of the page for the runs' current state, in page order."""
    fa, fb = run.frames()
    labels = (f"A: {run.settings.label_a}", f"B: {run.settings.label_b}")
    figures = [
        figure_gap(fa, fb, run.events(), labels, run.horizon),
        figure_share(fa, fb, labels, run.horizon),
        figure_density_sigma(fa, fb, labels, run.horizon),
        figure_detection_lag(fa, fb, labels),
        figure_structure(fa, fb, run.cells, labels, run.horizon),
        figure_defects(fa, fb, labels),
    ]
    if run.layout is not None:
        net = figure_network(run, run.layout, labels)
        if net is not None:
            figures.append(net)
    from analysis.plots import literal_text

    return [literal_text(f) for f in figures]


@solara.component
def Plots(run: PairedRun, tick: int) -> None:
    """The plots, redrawn whenever the runs step (``tick``) or are rebuilt."""
    deps = [id(run), tick]
    figures = solara.use_memo(lambda: all_figures(run), deps)
    with solara.GridFixed(columns=2):
        for fig in figures:
            with solara.Div(classes=["plot"]):
                solara.FigureMatplotlib(fig, dependencies=deps, format="png", **PNG_OPTIONS)


@solara.component
def Page() -> None:
    """The dashboard: controls on the left, plots in the middle, numbers and explanation on the right."""
    settings = solara.use_reactive(solara.use_memo(env_settings, []))
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    interval = solara.use_reactive(PLAY_INTERVAL_S)
    error = solara.use_reactive("")
    generation = solara.use_reactive(0)
    first = solara.use_memo(lambda: PairedRun(settings.value), [])
    current = solara.use_reactive(first)
    built_for = solara.use_ref((settings.value, 0))
    run = current.value

    async def rebuild() -> None:
        # A slider drag sends many values: wait until they settle, then build the new pair
        # off the event loop (the first build also pays for importing the model).
        key = (settings.value, generation.value)
        if built_for.current == key:
            return
        playing.value = False
        await asyncio.sleep(REBUILD_DELAY_S)
        try:
            new = await asyncio.to_thread(PairedRun, key[0])
        except Exception as exc:  # e.g. a negative seed, or a scenario file that changed
            built_for.current = key
            error.value = f"cannot build the runs: {exc}; still showing the previous runs"
            return
        built_for.current = key
        error.value = ""
        current.value = new
        tick.value = 0

    solara.lab.use_task(  # type: ignore[call-overload]
        rebuild, dependencies=[settings.value, generation.value], prefer_threaded=False
    )

    def do_step(n: int = 1) -> None:
        n = min(n, max(run.horizon - run.steps, 0))
        if n:
            run.step(n)
        tick.value += 1

    async def play_loop() -> None:
        # Keep the pace at one step per interval whatever a frame costs to draw: when drawing
        # falls behind, a frame takes several steps at once. The model steps off the event loop.
        started = time.perf_counter()
        taken = 0
        while playing.value and not run.done:
            due = int((time.perf_counter() - started) / interval.value) + 1 - taken
            n = max(1, min(due, MAX_STEPS_PER_FRAME, run.horizon - run.steps))
            try:
                await asyncio.to_thread(run.step, n)
            except Exception as exc:  # shown on the page instead of ending the loop silently
                error.value = f"step failed: {exc}"
                break
            taken += n
            tick.value += 1
            await asyncio.sleep(max(0.0, started + taken * interval.value - time.perf_counter()))
        playing.value = False

    solara.lab.use_task(  # type: ignore[call-overload]
        play_loop, dependencies=[playing.value, id(run), interval.value], prefer_threaded=False
    )

    def reset() -> None:
        playing.value = False
        generation.value += 1

    def pick_scenario(name: str) -> None:
        playing.value = False
        settings.value = default_settings(name, seed=settings.value.seed, customers=env_customers())

    def set_seed(seed: int) -> None:
        settings.value = dataclasses.replace(settings.value, seed=int(seed))

    def set_side(which: str) -> Callable[[SideSettings], None]:
        def update(side: SideSettings) -> None:
            s = settings.value
            settings.value = (
                dataclasses.replace(s, a=side) if which == "a" else dataclasses.replace(s, b=side)
            )

        return update

    fa, fb = run.frames()
    a_numbers, b_numbers = side_numbers(fa), side_numbers(fb)
    names = bundled_names()
    if settings.value.scenario not in names:
        names = [*names, settings.value.scenario]

    solara.Title("demandsim: what an insensitive platform costs")
    with solara.AppBar():
        _text(f"scenario: {settings.value.scenario}", "span", "font-size: 0.95em; opacity: 0.9")
    with solara.Sidebar():
        with solara.Card(style={"padding": "8px", "margin-bottom": "8px"}):
            solara.Select(
                "scenario", value=settings.value.scenario, values=names, on_value=pick_scenario
            )
            solara.InputInt("seed (both sides)", value=settings.value.seed, on_value=set_seed)
            _text(
                f"{settings.value.customers:,} customers", style="font-size: 0.85em; opacity: 0.8"
            )
            with solara.Row(style={"flex-wrap": "wrap", "gap": "4px", "margin-top": "6px"}):
                solara.Button(
                    "Pause" if playing.value else "Play",
                    on_click=lambda: playing.set(not playing.value),
                    color="primary",
                    disabled=run.done,
                    classes=["btn-play"],
                )
                solara.Button(
                    "Step",
                    on_click=lambda: do_step(1),
                    disabled=playing.value or run.done,
                    classes=["btn-step"],
                )
                solara.Button(
                    "+10",
                    on_click=lambda: do_step(10),
                    disabled=playing.value or run.done,
                    classes=["btn-step10"],
                )
                solara.Button("Reset", on_click=reset, classes=["btn-reset"])
            solara.SliderFloat(
                f"seconds per step {interval.value:.1f}",
                value=interval,
                min=0.1,
                max=2.0,
                step=0.1,
                thumb_label=False,
            )
            if error.value:
                solara.Error(error.value)
        SideControls(f"A: {settings.value.label_a}", COLOR_A, settings.value.a, set_side("a"), "a")
        SideControls(f"B: {settings.value.label_b}", COLOR_B, settings.value.b, set_side("b"), "b")
        pending = built_for.current != (settings.value, generation.value)
        solara.v.Html(
            tag="div",
            attributes={"data-testid": "status"},
            children=[
                "Restarting both runs…"
                if pending
                else "Moving a slider restarts both runs from step 0."
            ],
            style_="font-size: 0.85em; opacity: 0.8; padding: 0 8px",
        )

    solara.Style(PAGE_CSS)
    with solara.Row(classes=["dash-main"]):
        with solara.Div(classes=["dash-plots"]):
            Plots(run, tick.value)
        with solara.Column(gap="0px", classes=["dash-side"]):
            NumberPanel(run, a_numbers, b_numbers)
            with solara.Card("In plain words", style={"padding": "8px 12px"}):
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=to_html(explanation(a_numbers, b_numbers, run.steps)),
                    attributes={"data-testid": "explanation"},
                    style="font-size: 0.92em; line-height: 1.35",
                )
