"""Recovery: do the calibration's intervals cover the parameters that made noisy data?

    python -m benchmarks.calibration_recovery                 # 20 sets of 25 and of 10 points
    python -m benchmarks.calibration_recovery --sets 20 --lengths 25 10 --sampler random

Each data set is one run of the ``bass-check`` reduction (500 customers) at a known
``focal.platform.density`` and ``wom.q`` drawn uniformly from [0.005, 0.05] and
[0.1, 0.5], observed as its ``sales`` with multiplicative noise: each period's sales
times exp(s z - s^2/2), z standard normal, the noise level s drawn uniformly from
[0.05, 0.15] per set. Series of 25 periods and of 10 (steps 0 to 9). Each is
calibrated by ``analysis.fit.calibrate.calibrate`` (30 searched and 30 refining
candidates, 3 seeds each; the same as ``demandsim calibrate``) over density in
[0.002, 0.1] and q in [0.02, 0.8].

Three interval rules are measured on the same candidates (the study is read back):

- ``model noise``: the rule before, the range of the candidates within the distance
  at which fresh markets at the best fit fall from its mean (no observation noise);
- ``likelihood``: a Gaussian likelihood with a dispersion parameter (the observation
  noise integrated out), importance-weighted candidates, weighted 90% quantiles
  (``benchmarks.calibration_likelihood``);
- ``ABC + noise``: the range of the candidates within the distance at which fresh
  markets at the best fit, measured with the noise estimated from the data, fall from
  its mean (what ``calibrate`` reports).

Printed: per data set the truth, the reported intervals and whether they cover it;
then per length and rule the coverage of each field and the median width; the
estimated noise against the true one; the wall time. Target: every field's 90%
interval covers the truth in at least 85% of the sets, for each length.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

CUSTOMERS = 500
SPEC = {
    "replications": 3,
    "seed": 1,
    "trials": 30,
    "refine": 30,
    "confidence": 0.9,
    "set": {"run.customers": CUSTOMERS},
    "parameters": {
        "focal.platform.density": {"range": [0.002, 0.1]},
        "wom.q": {"range": [0.02, 0.8]},
    },
}
FIELDS = ("focal.platform.density", "wom.q")
RULES = ("model noise", "likelihood", "ABC + noise")
CHOSEN = "ABC + noise"
TARGET = 0.85


def noisy_sales(truth: dict[str, float], steps: int, noise: float, seed: int) -> Any:
    """One market's sales at ``truth`` over ``steps`` steps, with multiplicative noise."""
    from sim import DemandModel, load_scenario

    sc = load_scenario("bass-check", overrides={"run.customers": CUSTOMERS, **truth})
    ts = DemandModel(sc, rng=seed).run(steps).datacollector.get_model_vars_dataframe()
    sales = np.diff(ts["adopters"].to_numpy(dtype=float), prepend=0.0)
    z = np.random.default_rng([seed, 1]).standard_normal(len(sales))
    obs = ts[["step"]].reset_index(drop=True).copy()
    obs["sales"] = sales * np.exp(noise * z - noise**2 / 2)
    return obs


def rule_intervals(cal: Any, spec: Any, storage: Path, obs: Any) -> dict[str, dict[str, Any]]:
    """Each rule's intervals, from the candidates the calibration kept in ``storage``."""
    import optuna

    from analysis.fit.calibrate import distance, study_name
    from benchmarks.calibration_likelihood import weigh, weighted_interval

    study = optuna.load_study(study_name=study_name(spec, obs), storage=f"sqlite:///{storage}")
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    y = obs[cal.columns].to_numpy(dtype=float).T
    scale = np.maximum(np.nanmax(np.abs(y), axis=1), 1e-9)
    mean_best = np.array([cal.band[c][0] for c in cal.columns])
    eps = np.quantile([distance(f, mean_best, scale) for f in cal.fresh], spec.confidence)
    trials = cal.trials
    out: dict[str, dict[str, Any]] = {}
    for rule, cut in (("model noise", eps), ("ABC + noise", cal.eps)):
        inside = trials[trials["distance"] <= cut]
        if inside.empty:
            inside = trials.nsmallest(1, "distance")
        out[rule] = {f: (inside[f].min(), inside[f].max()) for f in FIELDS}
    post = weigh(done, spec, y, cal.columns, cal.fresh)
    out["likelihood"] = {
        f: weighted_interval(trials[f].to_numpy(dtype=float), post.weights, spec.confidence)
        for f in FIELDS
    }
    return out


def main(argv: list[str] | None = None) -> int:
    from analysis.fit.calibrate import calibrate
    from analysis.fit.calibration_spec import parse_calibration_spec

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", type=int, default=20)
    ap.add_argument("--lengths", type=int, nargs="+", default=[25, 10])
    ap.add_argument("--sampler", choices=["tpe", "random"], default="random")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)

    spec = parse_calibration_spec({**SPEC, "sampler": args.sampler}, ".", "bass-check")
    worst = 1.0
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for length in args.lengths:
            rng = np.random.default_rng([args.seed, length])
            hits = {r: {f: 0 for f in FIELDS} for r in RULES}
            widths: dict[str, dict[str, list[float]]] = {r: {f: [] for f in FIELDS} for r in RULES}
            noise_err, eff, t_total, warned = [], [], 0.0, 0
            for k in range(args.sets):
                truth = {
                    "focal.platform.density": float(rng.uniform(0.005, 0.05)),
                    "wom.q": float(rng.uniform(0.1, 0.5)),
                }
                noise = float(rng.uniform(0.05, 0.15))
                obs = noisy_sales(truth, length - 1, noise, 10_000 + k)
                storage = Path(tmp) / f"study{length}-{k}.db"
                t0 = time.perf_counter()
                cal = calibrate(spec, obs, storage)
                dt = time.perf_counter() - t0
                t_total += dt
                eff.append(cal.accepted)
                warned += cal.warning is not None
                noise_err.append((noise, cal.noise))
                rules = rule_intervals(cal, spec, storage, obs)
                for r in RULES:
                    for f in FIELDS:
                        lo, hi = rules[r][f]
                        hits[r][f] += bool(lo <= truth[f] <= hi)
                        widths[r][f].append(float(hi - lo))
                cells = [
                    f"{f.split('.')[-1]} {truth[f]:.4f} in [{rules[CHOSEN][f][0]:.4f}, "
                    f"{rules[CHOSEN][f][1]:.4f}] "
                    f"{'yes' if rules[CHOSEN][f][0] <= truth[f] <= rules[CHOSEN][f][1] else 'NO'}"
                    for f in FIELDS
                ]
                print(
                    f"{length} points, set {k:2d}: noise {noise:.3f} est. "
                    f"{cal.noise:.3f}; " + "; ".join(cells) + f"; "
                    f"{cal.accepted} good fits ({dt:.1f} s)",
                    flush=True,
                )
            for r in RULES:
                cov = {f: hits[r][f] / args.sets for f in FIELDS}
                if r == CHOSEN:
                    worst = min(worst, *cov.values())
                summary.append(
                    f"| {length} | {r} | "
                    + " | ".join(
                        f"{hits[r][f]}/{args.sets} = {cov[f]:.0%} | {np.median(widths[r][f]):.4f}"
                        for f in FIELDS
                    )
                    + " |"
                )
            true_s, est_s = np.array(noise_err).T
            print(
                f"{length} points: noise estimate - truth: mean {np.mean(est_s - true_s):+.3f}, "
                f"sd {np.std(est_s - true_s):.3f}; good fits median "
                f"{np.median(eff):.0f} (min {np.min(eff):.0f}), {warned} warned; "
                f"{t_total / args.sets:.1f} s per set",
                flush=True,
            )
    print()
    print("| points | rule | density covered | median width | q covered | median width |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    print("\n".join(summary))
    print(f"target >= {TARGET:.0%} for {CHOSEN}: {'met' if worst >= TARGET else 'NOT met'}")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
