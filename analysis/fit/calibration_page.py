"""What a calibration writes: the fit plotted against the observed series, its page
(calibration.html) and the tables of candidates and intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.fit.calibrate import Calibration
from sim.scenario import build_scenario


def plot_fit(cal: Calibration, path: Path) -> Path:
    """Observed against simulated (mean at the best fit, with its band), one panel per
    observed column."""
    from matplotlib.figure import Figure

    from analysis.plots import save_figure
    from sim.outcomes import SERIES
    from sim.outcomes import label as outcome_label

    per_year = int(cal.spec.base["run"]["steps_per_year"])
    period = {52: "week", 12: "month", 1: "year"}.get(per_year, f"step (1/{per_year} year)")
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
        ax.set_ylabel(outcome_label(c, SERIES) or c)
        ax.set_xlabel(period)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle("Observed against the calibrated model")
    return save_figure(fig, path)


#: An interval at most this share of its searched range: the data pin the field down.
PINNED = 0.25
#: An interval at least this share of its searched range: the data leave it open.
OPEN = 0.6


def calibration_verdict(cal: Calibration) -> dict[str, Any]:
    """The calibration in plain words: how well the best fit follows each observed
    series (``fit``: the typical relative error, the median over the periods of
    |simulated mean - observed| / observed, and the share of observed points inside
    the simulated band), which fields the data pin down and which they leave open
    (``fields``: the interval's width against the range searched), the warning when the
    intervals rest on too few good fits, and one closing sentence (``verdict``).
    Fields are named by what they do (``analysis.fit.words``)."""
    import numpy as np

    from analysis.fit.words import setting_label, setting_value
    from sim.outcomes import SERIES
    from sim.outcomes import label as outcome_label

    base = cal.spec.base
    level = f"{cal.spec.confidence:.0%}"
    series = {c: (cal.observed[c].to_numpy(dtype=float), *cal.band[c]) for c in cal.columns}
    if "adopters" in series and "sales" not in series:
        # sales are what a manager tracks: those the adopters imply, observed and fitted
        obs, mean = series["adopters"][:2]
        nan = np.full(1, np.nan)
        sales = (np.concatenate([nan, np.diff(obs)]), np.concatenate([nan, np.diff(mean)]))
        series["sales (from adopters)"] = (*sales, None, None)
    fit: list[dict[str, Any]] = []
    for c, (obs, mean, lo, hi) in series.items():
        seen = np.isfinite(obs) & np.isfinite(mean) & (obs > 0)
        rel = float(np.median(np.abs(mean[seen] - obs[seen]) / obs[seen])) if seen.any() else 0.0
        name = outcome_label(c, SERIES)
        called = c if name in (c, "") else f"{name} ({c})"
        text = f"{called}: the best fit is typically {rel:.1%} off the observed value"
        inside = None
        if lo is not None and seen.any():
            inside = float(np.mean((obs[seen] >= lo[seen]) & (obs[seen] <= hi[seen])))
            text += f"; {inside:.0%} of the observed points lie in the model's {level} band"
        fit.append(
            {
                "column": c,
                "name": name or c,
                "typical_relative_error": rel,
                "inside_band": inside,
                "text": text,
            }
        )
    # as close as the model's own noise allows when the data stay inside its band
    bands = [float(f["inside_band"]) for f in fit if f["inside_band"] is not None]
    inside_all = min(bands, default=1.0)
    quality = "closely" if inside_all >= 0.8 else "roughly" if inside_all >= 0.5 else "poorly"
    typical = "; ".join(f"{f['name']} typically {f['typical_relative_error']:.1%} off" for f in fit)
    fields: list[dict[str, Any]] = []
    for p, r in zip(cal.spec.parameters, cal.intervals.to_dict("records"), strict=True):
        label = setting_label(p.name, base)
        if p.kind != "range":
            fields.append(
                {
                    "field": p.name,
                    "share_of_range": None,
                    "pinned": None,
                    "text": (f"{label}: best {r['best']} (a choice: no interval)"),
                }
            )
            continue
        share = (r["hi"] - r["lo"]) / (p.hi - p.lo) if p.hi > p.lo else 0.0
        how = "pinned down" if share <= PINNED else "left open" if share >= OPEN else "loosely set"
        shown = [setting_value(p.name, v) for v in (r["best"], r["lo"], r["hi"])]
        fields.append(
            {
                "field": p.name,
                "share_of_range": share,
                "pinned": how,
                "text": f"{label}: best {shown[0]}, {cal.spec.confidence:.0%} interval "
                f"{shown[1]} to {shown[2]}, {share:.0%} of the range searched: {how} by the "
                "data",
            }
        )

    def named(how: str) -> str:
        return _and([setting_label(f["field"], base) for f in fields if f["pinned"] == how])

    pinned, loose, left = named("pinned down"), named("loosely set"), named("left open")
    verdict = (
        f"Verdict: the best fit follows the data {quality} ({inside_all:.0%} of the observed "
        f"points in the model's {level} band; {typical})"
    )
    parts = [
        f"pin down {pinned}" if pinned else "",
        f"set {loose} only loosely" if loose else "",
        f"leave {left} open (other values fit as well)" if left else "",
    ]
    said = [x for x in parts if x]
    if said:
        verdict += "; the data " + _and(said)
    verdict += "."
    if cal.warning:
        verdict += " Too few good fits for firm intervals: raise trials or refine and run again."
    return {"fit": fit, "fields": fields, "warning": cal.warning, "verdict": verdict}


def _and(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return (
        ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + (items[-1] if items else "")
    )


def calibration_html(cal: Calibration, png: Path) -> str:
    """A self-contained HTML page of the calibration."""
    from analysis.fit.words import setting_label
    from analysis.html import esc, fmt, img, page, table

    rows = [
        [setting_label(r["field"], cal.spec.base), fmt(r["best"]), fmt(r["lo"]), fmt(r["hi"])]
        for r in cal.intervals.to_dict("records")
    ]
    plain = calibration_verdict(cal)
    said = [f["text"] for f in plain["fields"]] + [f["text"] for f in plain["fit"]]
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
        "<h2>In plain words</h2>",
        f"<p><strong>{esc(plain['verdict'])}</strong></p>",
        "<ul class=plain>" + "".join(f"<li>{esc(t)}</li>" for t in said) + "</ul>",
        "<h2>How the fit was found</h2>",
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
