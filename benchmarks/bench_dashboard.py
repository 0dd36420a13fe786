"""What one frame of the trainer's dashboard costs, against its play interval.

    python -m benchmarks.bench_dashboard                       # baseline, 10,000 customers
    python -m benchmarks.bench_dashboard --customers 2000 --scenario upmarket-shift

Builds the dashboard's pair of runs (``analysis.dashboard.app.PairedRun``: two
``DemandModel`` instances, same scenario and seed, sensitive vs insensitive
platform), steps both through the scenario's horizon and times every step of
the pair. Every ``--draw-every`` steps it also draws every plot of the page to
PNG, as the page does on each frame. It prints the step and draw times and how
they compare with the play interval (``PLAY_INTERVAL_S``): while playing, the
page advances one step per interval and, if a frame takes longer to draw, takes
several steps in one frame.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None, help="default: the scenario's horizon")
    parser.add_argument(
        "--draw-every", type=int, default=26, help="draw the page's plots every N steps"
    )
    args = parser.parse_args(argv)

    import sim.model  # noqa: F401  (Mesa's import is paid once by the server, not per build)
    from analysis.dashboard import app, paired

    settings = paired.default_settings(args.scenario, seed=args.seed, customers=args.customers)
    t0 = time.perf_counter()
    run = paired.PairedRun(settings)
    build = time.perf_counter() - t0
    steps = args.steps or run.horizon

    step_times: list[float] = []
    draw_times: list[float] = []
    for i in range(1, steps + 1):
        t0 = time.perf_counter()
        run.step()
        step_times.append(time.perf_counter() - t0)
        if i % args.draw_every == 0 or i == steps:
            t0 = time.perf_counter()
            for fig in app.all_figures(run):
                fig.savefig(io.BytesIO(), format="png", **app.PNG_OPTIONS)
            draw_times.append(time.perf_counter() - t0)

    interval = app.PLAY_INTERVAL_S
    ms = 1000.0
    print(
        f"dashboard pair: {settings.scenario}, {settings.customers:,} customers, seed {settings.seed}, {steps} steps"
    )
    print(f"  build both runs          {build * ms:8.1f} ms")
    print(
        f"  one step of both runs    median {statistics.median(step_times) * ms:6.1f} ms"
        f"   p95 {_pct(step_times, 0.95) * ms:6.1f} ms   max {max(step_times) * ms:6.1f} ms"
    )
    print(
        f"  draw all plots (PNG)     median {statistics.median(draw_times) * ms:6.1f} ms"
        f"   max {max(draw_times) * ms:6.1f} ms   ({len(draw_times)} frames)"
    )
    print(f"  play interval            {interval * ms:8.1f} ms per step")
    print(
        f"  step p95 / interval      {_pct(step_times, 0.95) / interval:8.1%}"
        f"   (step + draw median: {(statistics.median(step_times) + statistics.median(draw_times)) * ms:.0f} ms)"
    )


if __name__ == "__main__":
    main()
