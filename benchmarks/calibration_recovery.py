"""Recovery: does calibration find the parameters that made the data?

    python -m benchmarks.calibration_recovery                  # 20 data sets, random (ABC rejection)
    python -m benchmarks.calibration_recovery --sets 20 --sampler tpe

Each data set is one run of the ``bass-check`` reduction (1,000 customers, 40
steps) at a known ``focal.platform.density`` and ``wom.q`` drawn uniformly from
[0.005, 0.05] and [0.1, 0.5], observed as its ``adopters`` series. Each is
calibrated by ``analysis.fit.calibrate.calibrate`` (30 searched and 30 refining
candidates, 3 seeds each; the same as ``demandsim
calibrate``) over density in [0.002, 0.1] and q in [0.02, 0.8]. Printed: per data
set the truth, the 90% intervals and whether they cover it; then the coverage of
each field's interval (target >= 80%), the wall time per data set and per good fit.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

SPEC = {
    "replications": 3,
    "seed": 1,
    "trials": 30,
    "refine": 30,
    "confidence": 0.9,
    "set": {"run.customers": 1000},
    "parameters": {
        "focal.platform.density": {"range": [0.002, 0.1]},
        "wom.q": {"range": [0.02, 0.8]},
    },
}
TARGET = 0.8


def main(argv: list[str] | None = None) -> int:
    from analysis.fit.calibrate import calibrate
    from analysis.fit.calibration_spec import parse_calibration_spec
    from sim import DemandModel, load_scenario

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", type=int, default=20)
    ap.add_argument("--sampler", choices=["tpe", "random"], default="random")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)

    spec = parse_calibration_spec({**SPEC, "sampler": args.sampler}, ".", "bass-check")
    rng = np.random.default_rng(args.seed)
    hits = {"focal.platform.density": 0, "wom.q": 0}
    good_total, t_total = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.sets):
            truth = {
                "focal.platform.density": float(rng.uniform(0.005, 0.05)),
                "wom.q": float(rng.uniform(0.1, 0.5)),
            }
            sc = load_scenario("bass-check", overrides={"run.customers": 1000, **truth})
            ts = DemandModel(sc, rng=10_000 + k).run(40).datacollector.get_model_vars_dataframe()
            obs = ts[["step", "adopters"]].reset_index(drop=True)
            t0 = time.perf_counter()
            cal = calibrate(spec, obs, Path(tmp) / f"study{k}.db")
            dt = time.perf_counter() - t0
            t_total += dt
            good_total += int(cal.trials["good"].sum())
            iv = cal.intervals.set_index("field")
            cells = []
            for field, value in truth.items():
                ok = bool(iv.loc[field, "lo"] <= value <= iv.loc[field, "hi"])
                hits[field] += ok
                cells.append(
                    f"{field.split('.')[-1]} {value:.4f} in [{iv.loc[field, 'lo']:.4f}, "
                    f"{iv.loc[field, 'hi']:.4f}] {'yes' if ok else 'NO'}"
                )
            print(f"set {k:2d}: " + "; ".join(cells) + f" ({dt:.1f} s)", flush=True)
    print()
    worst = 1.0
    for field, h in hits.items():
        cov = h / args.sets
        worst = min(worst, cov)
        print(f"coverage of the 90% interval, {field}: {h}/{args.sets} = {cov:.0%}")
    print(
        f"sampler {args.sampler}: {t_total / args.sets:.1f} s per data set, "
        f"{good_total / args.sets:.1f} good fits per data set, "
        f"{t_total / max(good_total, 1):.2f} s per good fit"
    )
    print(f"target >= {TARGET:.0%}: {'met' if worst >= TARGET else 'NOT met'}")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
