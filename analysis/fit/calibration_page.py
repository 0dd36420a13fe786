"""What a calibration writes: the fit plotted against the observed series, its page
(calibration.html) and the tables of candidates and intervals."""

from __future__ import annotations

from pathlib import Path

from analysis.fit.calibrate import Calibration
from sim.scenario import build_scenario


def plot_fit(cal: Calibration, path: Path) -> Path:
    """Observed against simulated (mean at the best fit, with its band), one panel per
    observed column."""
    from matplotlib.figure import Figure

    from analysis.plots import save_figure

    k = len(cal.columns)
    fig = Figure(figsize=(7.0, 3.2 * k))
    steps = cal.observed["step"].to_numpy()
    for i, c in enumerate(cal.columns):
        ax = fig.add_subplot(k, 1, i + 1)
        mean, lo, hi = cal.band[c]
        ax.fill_between(
            steps,
            lo,
            hi,
            color="#1f77b4",
            alpha=0.25,
            label=f"simulated {cal.spec.confidence:.0%} band",
        )
        ax.plot(steps, mean, color="#1f77b4", label="simulated mean (best fit)")
        ax.plot(steps, cal.observed[c], "k.", ms=4, label="observed")
        ax.set_ylabel(c)
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle("Observed against the calibrated model")
    return save_figure(fig, path)


def calibration_html(cal: Calibration, png: Path) -> str:
    """A self-contained HTML page of the calibration."""
    from analysis.html import fmt, img, page, table

    rows = [
        [r["field"], fmt(r["best"]), fmt(r["lo"]), fmt(r["hi"])]
        for r in cal.intervals.to_dict("records")
    ]
    st = cal.start
    curve = "Norton-Bass" if st.get("curve") == "norton-bass" else "Bass"
    ms = st.get("m", [])
    m = " / ".join(fmt(v) for v in ms) if isinstance(ms, list) else fmt(ms)
    if curve == "Norton-Bass":
        m += f" for {', '.join(st['generations'])} (introduced after steps {st['tau']})"
    start = (
        f"<p>Stage 1 ({curve} least squares): p = {fmt(st['p'])}, q = {fmt(st['q'])}, "
        f"m = {m} (RMSE {fmt(st['rmse'])}); first candidate: "
        f"{', '.join(f'{k} = {fmt(v)}' for k, v in st['enqueued'].items()) or 'none'}.</p>"
        if st
        else "<p>Stage 1: no adopters or sales from step 0 to fit a Bass curve to.</p>"
    )
    warning = f"<p><strong>{cal.warning}</strong></p>" if cal.warning else ""
    body = [
        f"<h1>Calibration: {cal.spec.base['run']['name']}</h1>",
        start,
        f"<p>Stage 2 (optuna {cal.spec.sampler}): {len(cal.trials)} candidates on the same "
        f"{cal.spec.replications} seeds; {cal.accepted} good fits (distance ≤ {fmt(cal.eps)}, "
        f"the {cal.spec.confidence:.0%} quantile of the distances of fresh markets at the "
        f"best fit measured with the observation noise the data show, a coefficient of "
        f"variation of {cal.noise:.1%} beyond the model's own). The intervals are the "
        f"ranges of the good fits.</p>",
        warning,
        "<h2>Fitted fields</h2>",
        table(["field", "best", f"{cal.spec.confidence:.0%} low", "high"], rows),
        img(png),
    ]
    return page(f"calibration: {cal.spec.base['run']['name']}", body)


def write_calibration(cal: Calibration, out: Path) -> list[Path]:
    """Write the results into ``out`` (each file atomically): calibrated.toml,
    intervals.csv, trials.csv, start.json, fit.png, calibration.html."""
    import tomli_w

    from sim.io import atomic_write_bytes, atomic_write_json, atomic_write_text

    steps = int(cal.observed["step"].iloc[-1])
    sc = build_scenario(cal.spec.base, {**cal.best, "run.steps": steps})
    data = sc.to_dict()
    paths = [out / n for n in ("calibrated.toml", "intervals.csv", "trials.csv", "start.json")]
    atomic_write_bytes(paths[0], tomli_w.dumps(data).encode())
    atomic_write_text(paths[1], cal.intervals.to_csv(index=False))
    atomic_write_text(paths[2], cal.trials.to_csv(index=False))
    atomic_write_json(
        paths[3], {**cal.start, "eps": cal.eps, "noise": cal.noise, "accepted": cal.accepted}
    )
    png = plot_fit(cal, out / "fit.png")
    atomic_write_text(out / "calibration.html", calibration_html(cal, png))
    return [*paths, png, out / "calibration.html"]
