"""Sampling until the indices are known well enough: ``sweep --until-ci``.

A Sobol or Morris sweep is run at its base size N, analysed, and while the widest
bootstrap interval of the indices asked for is over the threshold, run again at
2N in the same folder. SALib's samplers are nested (the scrambled Sobol sequence
of 2N points starts with the N points; Morris trajectories are drawn one after
the other from the seeded generator), so the larger plan holds every run of the
smaller one and only the new half runs. The loop stops by itself: the threshold
is met, the next doubling would spend more than the run budget or would add no
new run (a Morris grid has finitely many points), or runs failed.
The path (N, runs, widest interval) is written to ``convergence.csv``.

The width of an interval is high - low (SALib's ``conf`` is half of it). Sobol
widths are in index units; Morris widths are relative to the largest mu* of the
outcome (``analysis.sensitivity.indices.interval_widths``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from analysis.sweeps.dryrun import check_until_ci, runs_at

#: Base sizes are doubled at most this many times (a guard, not a plan).
MAX_ROUNDS = 20


@dataclasses.dataclass
class Round:
    """One size of the sweep and what its analysis found."""

    samples: int
    runs: int  # distinct runs of the plan at this size
    ran: int  # runs executed in this round (the rest were reused)
    widest: float  # the widest interval of the indices asked for
    where: str  # outcome / parameter / index of the widest interval


@dataclasses.dataclass
class Convergence:
    """What ``run_until_ci`` did and why it stopped."""

    rounds: list[Round]
    reason: str  # "converged" | "budget" | "exhausted" | "failed runs" | "rounds"
    message: str  # one line for the terminal
    table: Any = None  # the last indices table (None when runs failed)
    path_csv: Path | None = None


def widest(table: Any, method: str, keys: tuple[str, ...]) -> tuple[float, str]:
    """The widest interval among ``keys`` and where it is (outcome/parameter/key)."""
    from analysis.sensitivity.indices import interval_widths

    widths = interval_widths(table, method, keys if method == "sobol" else ())
    best, where = -1.0, ""
    for key in widths.columns:
        for i, w in enumerate(widths[key]):
            if w > best:
                best = float(w)
                where = f"{table['outcome'].iloc[i]} / {table['parameter'].iloc[i]} / {key}"
    return best, where


def run_until_ci(
    spec_path: str | Path,
    out: str | Path,
    threshold: float,
    *,
    budget: int | None = None,
    outcomes: list[str] | None = None,
    indices: tuple[str, ...] = ("S1", "ST"),
    sets: dict[str, Any] | None = None,
    conf_level: float = 0.95,
    num_resamples: int = 200,
    seed: int = 1,
    progress: Any = None,
    **sweep_kw: Any,
) -> Convergence:
    """Run the sweep, doubling its base sample, until its indices are narrow enough.

    Args:
        spec_path: a Sobol or Morris sweep spec; its ``samples`` is the first size.
        out: the output folder (one folder for every size).
        threshold: stop once the widest interval is under this.
        budget: never start a round whose plan has more distinct runs than this.
        outcomes: outcomes whose indices must converge (default: the spec's analyze).
        indices: Sobol indices that must converge ("S1", "ST"); Morris: mu*.
        sets: ``--set`` overrides.
        conf_level, num_resamples, seed: of the bootstrap.
        progress: a text stream for one line per round (None: silent).
        **sweep_kw: passed to ``run_sweep`` (workers, scheduler, executor, ...).

    Raises:
        InputError: a spec or threshold ``--until-ci`` cannot work with.
    """
    from analysis.sensitivity.indices import analyze_sweep
    from analysis.sweeps.run import run_sweep
    from analysis.sweeps.spec import load_spec
    from sim.io import atomic_write_text

    spec = load_spec(spec_path, sets)
    check_until_ci(spec, threshold, budget)
    method = spec.method
    n = spec.samples
    rounds: list[Round] = []
    table = None
    reason, message = "rounds", ""
    for _ in range(MAX_ROUNDS):
        res = run_sweep(spec_path, out, sets=sets, samples=n, progress=progress, **sweep_kw)
        if res.failed or not res.complete:
            reason = "failed runs"
            message = (
                f"until-ci: stopped at N = {n}: {res.failed} runs failed; fix the cause and run "
                "again with --retry-failed"
            )
            table = None
            rounds.append(Round(n, res.total, res.ran, float("nan"), ""))
            break
        table, _ = analyze_sweep(
            out,
            method,
            outcomes,
            conf_level=conf_level,
            num_resamples=num_resamples,
            seed=seed,
            max_width=threshold,
        )
        w, where = widest(table, method, indices)
        rounds.append(Round(n, res.total, res.ran, w, where))
        if progress is not None:
            progress.write(
                f"until-ci: N = {n}: {res.total} runs ({res.ran} new), widest interval "
                f"{w:.4f} ({where}), target < {threshold}\n"
            )
        if w < threshold:
            reason = "converged"
            message = (
                f"until-ci: converged at N = {n} ({res.total} runs): widest interval {w:.4f} "
                f"< {threshold}"
            )
            break
        nxt = runs_at(spec, 2 * n)
        if nxt == res.total:
            # A Morris grid has finitely many points: more trajectories only repeat them,
            # and narrower intervals from repeated runs would be no new information.
            reason = "exhausted"
            message = (
                f"until-ci: stopped at N = {n} ({res.total} runs): doubling adds no new run "
                f"(every point of the sampler's grid is run); widest interval {w:.4f} ({where}) "
                f">= {threshold}"
            )
            break
        if budget is not None and nxt > budget:
            reason = "budget"
            message = (
                f"until-ci: stopped at N = {n} ({res.total} runs): doubling needs {nxt} runs, "
                f"over the budget of {budget}; widest interval still {w:.4f} ({where}) "
                f">= {threshold}"
            )
            break
        n *= 2
    else:
        message = f"until-ci: stopped after {MAX_ROUNDS} doublings without reaching {threshold}"
    csv = Path(out) / "convergence.csv"
    lines = ["samples,runs,ran,widest,where"] + [
        f"{r.samples},{r.runs},{r.ran},{r.widest:.6g},{r.where}" for r in rounds
    ]
    atomic_write_text(csv, "\n".join(lines) + "\n")
    return Convergence(rounds, reason, message, table, csv)
