"""The analysis that fits a finished sweep: a library function a notebook can call.

``analyze_folder`` picks by the sweep's design (main effects for a grid or Latin
hypercube, Sobol or Morris indices for those designs, their course over time when the
sweep kept time series) and writes the tables, plots and the sweep's page;
``effects_of_finished`` is what ``demandsim sweep`` ends with. Both return the lines to
show, and print nothing themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: A sweep without ``outcomes.analyze`` ends with the main effects of this many outcomes.
AUTO_OUTCOMES = 6


def effects_of_finished(out: Path) -> list[str]:
    """The main effects a finished grid or LHS sweep ends with (files in the folder);
    other designs keep ``analyze_folder``. Returns the lines to show the user."""
    from analysis.sensitivity.effects import DESIGNS, analyze_effects, describe
    from analysis.sensitivity.indices import SweepFolderError, default_outcomes, load_finished

    try:
        manifest, df = load_finished(out)
        if manifest.get("method") not in DESIGNS:
            return []
        names = default_outcomes(df, manifest)
        said: list[str] = []
        if not manifest.get("analyze") and len(names) > AUTO_OUTCOMES:
            said.append(
                f"sweep: main effects of the first {AUTO_OUTCOMES} of {len(names)} outcomes "
                "(list yours in the spec's outcomes.analyze, or use `demandsim analyze`)"
            )
            names = names[:AUTO_OUTCOMES]
        _table, summary, paths = analyze_effects(out, names)
    except SweepFolderError as exc:
        return [f"sweep: no main effects: {exc}"]
    said.append(describe(summary, manifest))
    said.append("sweep: main effects in " + ", ".join(p.name for p in paths))
    said.append(_report(out, manifest, None))
    return said


def analyze_folder(
    folder: Path,
    method: str | None,
    outcomes: list[str],
    out: Path | None,
    conf_level: float,
    resamples: int,
    seed: int,
    max_width: float | None,
    window: int,
    bins: int,
) -> tuple[list[Path], list[str]]:
    """The analysis that fits the sweep's design (``demandsim analyze``): main effects
    for a grid or Latin hypercube, Sobol or Morris indices (and their course over time
    when the sweep kept time series) for those designs.

    Returns:
        (the written paths, the lines to show the user).

    Raises:
        SweepFolderError: the folder cannot be analysed as asked, in one line.
    """
    from analysis.sensitivity.indices import SweepFolderError, load_finished

    if method is None:
        manifest, _ = load_finished(folder)
        method = {"grid": "effects", "lhs": "effects"}.get(manifest.get("method", ""))
        method = method or str(manifest.get("method"))
    if method == "effects":
        from analysis.sensitivity.effects import MAX_WIDTH, analyze_effects, describe

        manifest, _ = load_finished(folder)
        _t, summary, paths = analyze_effects(
            folder,
            outcomes or None,
            out=out,
            bins=bins,
            conf_level=conf_level,
            max_width=max_width or MAX_WIDTH,
        )
        return list(paths), [describe(summary, manifest), _report(folder, manifest, out)]
    from analysis.sensitivity.indices import MAX_WIDTH as SA_WIDTH
    from analysis.sensitivity.indices import analyze_sweep, write_analysis
    from analysis.sensitivity.indices import describe as sa_describe
    from analysis.sweeps.store import SweepStore

    table, s2 = analyze_sweep(
        folder,
        method,
        outcomes or None,
        conf_level=conf_level,
        num_resamples=resamples,
        seed=seed,
        max_width=max_width or SA_WIDTH,
    )
    paths = write_analysis(folder, method, table, s2, out)
    manifest, _ = load_finished(folder)
    said = [sa_describe(table, method, manifest)]
    if SweepStore(folder).timeseries_path.exists():
        from analysis.sensitivity.overtime import indices_over_time, write_over_time

        try:
            over = indices_over_time(
                folder,
                window=window,
                conf_level=conf_level,
                num_resamples=resamples,
                seed=seed,
                max_width=max_width or SA_WIDTH,
            )
        except SweepFolderError as exc:
            said.append(f"analyze: no indices over time: {exc}")
        else:
            paths += write_over_time(folder, method, over, out)
    said.append(_report(folder, manifest, out))
    return list(paths), said


def report_page(folder: Path) -> str:
    """Write a finished sweep's HTML page; the line that names it."""
    from analysis.sensitivity.indices import load_finished

    return _report(folder, load_finished(folder)[0], None)


def _report(folder: Path, manifest: dict[str, Any], out: Path | None) -> str:
    """Write the sweep's HTML page; the line that names it."""
    from analysis.sensitivity.report import write_report

    return f"report: {write_report(folder, manifest, out)}"
