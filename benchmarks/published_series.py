"""Published diffusion series: do the calibration's intervals hold the published
Bass estimates, and how wide are they against a nonlinear least-squares fit's?

    python -m benchmarks.published_series                        # the bundled series
    python -m benchmarks.published_series --observed FILE.csv    # any series in that format
    python -m benchmarks.published_series --synthetic            # a check with a known truth

A series file is a CSV (``analysis/specs/*.published.csv``) with ``step`` (0 is the
first year on sale) and ``sales`` (new adopters a year), whose header comments give
``# source:`` (where every number comes from), ``# published: p=..., q=..., m=...``
(the published Bass estimates, per year) and ``# form: discrete`` or ``# form:
continuous`` (whether the published p and q are the discrete recursion's, as Bass's
regression, or the continuous closed form's; the output shows it beside each series,
since the discrete fits below do not estimate the continuous p and q). A file without
them, or without at least four years of positive sales, is refused in one line (exit
code 2).

Each series is fitted twice:

- NLS: the Bass (1969) curve, sales in year t = m (F(t+1) - F(t)), by
  ``scipy.optimize.curve_fit``; its 90% intervals are the estimates +- t(0.95, n - 3)
  standard errors (Srinivasan & Mason 1986). F is the discrete form F(t+1) = F(t) +
  (1 - F(t)) (p + q F(t)), whose p and q are the ones Bass (1969) estimated (his
  regression of sales on Y(t-1) and Y(t-1)^2 is this recursion) and the ones the
  model's yearly steps follow; the continuous closed form's p and q differ from them
  by the discretisation, a bias no interval would cover.
- The calibration: the ``bass-check`` reduction with yearly steps
  (``run.steps_per_year = 1``) and 3,000 customers, the sales scaled to customers
  by the NLS market size (3,000 / m), ``focal.platform.density`` and ``wom.q`` fitted
  (``analysis.fit.calibrate``, 40 searched and 60 refining candidates, 3 seeds), and
  mapped back to p and q a year (``analysis.fit.diffusion.model_fields`` inverted).

Printed: per series the published p and q, both fits' 90% intervals, whether the
published values fall inside the calibration's, its width over the NLS width, the
noise it estimated and the good fits its intervals rest on.

No published series is bundled yet: no stored copy of a table of annual sales with its
published estimates could be read digit for digit (benchmarks/published-series.md says
what was looked at); a series is added only with every number's source.
``--synthetic`` runs the same comparison on a series made from the discrete Bass curve
(p = 0.01, q = 0.4, m = 10,000, 14 years, 10% multiplicative noise, published =
truth): it checks the machinery, not the data.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

SPECS = Path(__file__).resolve().parent.parent / "analysis" / "specs"
CUSTOMERS = 3000
WEEKS = 52  # the model's fields are per week; a step here is a year
SPEC = {
    "replications": 3,
    "seed": 1,
    "trials": 40,
    "refine": 60,
    "confidence": 0.9,
    "set": {"run.customers": CUSTOMERS, "run.steps_per_year": 1},
    "parameters": {
        # p a year in [0.0052, 0.1], q a year in [0.05, 0.9]
        "focal.platform.density": {"range": [1e-4, 0.1 / WEEKS]},
        "wom.q": {"range": [1 - 0.95 ** (1 / WEEKS), 1 - 0.1 ** (1 / WEEKS)]},
    },
}


FORMS = ("discrete", "continuous")


def read_series(path: Path) -> tuple[Any, dict[str, float], str]:
    """A series file's data, its published p, q, m and its source line (with the form
    of the published estimates). Raises ``ValueError`` with one line naming the field,
    its value and what is allowed."""
    import pandas as pd

    text = path.read_text()
    header = {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^#\s*(\w+):\s*(.*)$", text, flags=re.MULTILINE)
    }
    if not header.get("source"):
        raise ValueError(
            f"{path.name}: '# source:' is missing or empty; expected where every number comes from"
        )
    form = header.get("form", "")
    if form not in FORMS:
        raise ValueError(f"{path.name}: '# form: {form}': expected one of {', '.join(FORMS)}")
    published = {
        k: float(v)
        for k, v in re.findall(r"(\w+)\s*=\s*([0-9.eE+-]+)", header.get("published", ""))
    }
    for k in "pqm":
        if not published.get(k, 0.0) > 0:
            raise ValueError(
                f"{path.name}: '# published:' {k} = {published.get(k, 'missing')}; "
                "expected p=..., q=..., m=... all above 0"
            )
    data = pd.read_csv(path, comment="#")
    if list(data.columns) != ["step", "sales"]:
        raise ValueError(
            f"{path.name}: columns {', '.join(map(str, data.columns))}; expected step, sales"
        )
    sales = pd.to_numeric(data["sales"], errors="coerce")
    if len(data) < 4 or not (sales > 0).all():
        raise ValueError(
            f"{path.name}: sales: {len(data)} years, lowest {sales.min()}; "
            "expected at least 4 years, all above 0"
        )
    return data, published, f"{header['source']} (published estimates: {form})"


def bass_sales(t: np.ndarray, p: float, q: float, m: float) -> np.ndarray:
    """Sales in year t (from t to t + 1) of the discrete Bass curve."""
    from analysis.fit.diffusion import bass_discrete

    f = bass_discrete(p, q, len(t))
    return m * np.diff(f)


def nls(sales: np.ndarray, level: float = 0.9) -> dict[str, tuple[float, float, float]]:
    """NLS estimates of p, q, m with their ``level`` intervals: name -> (est, lo, hi)."""
    from scipy.optimize import curve_fit
    from scipy.stats import t as student

    t = np.arange(len(sales), dtype=float)
    x0 = (0.01, 0.4, 2.0 * float(np.sum(sales)))
    est, cov = curve_fit(bass_sales, t, sales, p0=x0, bounds=([1e-5, 1e-4, 1.0], [1, 3, 1e12]))
    se = np.sqrt(np.diag(cov))
    k = float(student.ppf((1 + level) / 2, len(sales) - 3))
    return {
        n: (float(e), float(e - k * s), float(e + k * s))
        for n, e, s in zip("pqm", est, se, strict=True)
    }


def per_year(density: float, q_week: float) -> tuple[float, float]:
    """The model's weekly fields as Bass p and q a year (``model_fields`` inverted)."""
    return WEEKS * density, 1 - (1 - q_week) ** WEEKS


def calibrated(sales: np.ndarray, m: float, tmp: Path) -> dict[str, Any]:
    """The calibration's p and q intervals a year, its noise and good fits."""
    import pandas as pd

    from analysis.fit.calibrate import calibrate
    from analysis.fit.calibration_spec import parse_calibration_spec

    spec = parse_calibration_spec(SPEC, ".", "bass-check")
    obs = pd.DataFrame({"step": np.arange(len(sales)), "sales": sales * CUSTOMERS / m})
    cal = calibrate(spec, obs, tmp / "study.db")
    iv = cal.intervals.set_index("field")
    dens, qw = iv.loc["focal.platform.density"], iv.loc["wom.q"]
    p_lo, q_lo = per_year(dens["lo"], qw["lo"])
    p_hi, q_hi = per_year(dens["hi"], qw["hi"])
    p_best, q_best = per_year(dens["best"], qw["best"])
    return {
        "p": (p_best, p_lo, p_hi),
        "q": (q_best, q_lo, q_hi),
        "noise": cal.noise,
        "accepted": cal.accepted,
    }


def synthetic() -> tuple[Any, dict[str, float], str]:
    """A series from the discrete Bass curve with 10% multiplicative noise."""
    import pandas as pd

    truth = {"p": 0.01, "q": 0.4, "m": 10_000.0}
    t = np.arange(14, dtype=float)
    z = np.random.default_rng(1969).standard_normal(len(t))
    sales = bass_sales(t, truth["p"], truth["q"], truth["m"]) * np.exp(0.1 * z - 0.005)
    source = "SYNTHETIC: the discrete Bass curve with 10% noise; published = truth (discrete)"
    return pd.DataFrame({"step": t.astype(int), "sales": sales}), truth, source


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--observed", type=Path, nargs="*", default=None)
    ap.add_argument("--synthetic", action="store_true")
    args = ap.parse_args(argv)

    files = args.observed if args.observed else sorted(SPECS.glob("*.published.csv"))
    try:
        series = [(f.stem, *read_series(f)) for f in files]
    except (OSError, ValueError) as err:
        print(str(err).splitlines()[0], file=sys.stderr)
        return 2
    if args.synthetic:
        series.append(("synthetic-bass", *synthetic()))
    if not series:
        print("no published series bundled (analysis/specs/*.published.csv); see the docstring")
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, data, published, source) in enumerate(series):
            sales = data["sales"].to_numpy(dtype=float)
            fit = nls(sales)
            folder = Path(tmp) / str(k)
            folder.mkdir()
            cal = calibrated(sales, fit["m"][0], folder)
            print(f"{name}: {source}")
            cells = []
            for f in "pq":
                _, lo, hi = cal[f]
                _, n_lo, n_hi = fit[f]
                inside = "yes" if lo <= published[f] <= hi else "no"
                cells.append(
                    f"{published[f]:.4g} | [{lo:.4g}, {hi:.4g}] | {inside} | "
                    f"[{n_lo:.4g}, {n_hi:.4g}] | {(hi - lo) / (n_hi - n_lo):.2f}"
                )
            rows.append(
                f"| {name} | " + " | ".join(cells) + f" | {cal['noise']:.1%} | {cal['accepted']} |"
            )
    print()
    print(
        "| series | published p | calibration 90% | inside | NLS 90% | width / NLS "
        "| published q | calibration 90% | inside | NLS 90% | width / NLS | noise | good fits |"
    )
    print("| --- " + "| ---: " * 12 + "|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
