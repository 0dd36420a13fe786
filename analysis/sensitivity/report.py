"""A sweep's own report: one HTML page beside its analysis files.

``demandsim analyze`` (and a grid or LHS sweep when it finishes) writes
``sweep-report.html`` into the folder it writes to: the sample size, the flagged
indices or main effects, the convergence path of ``--until-ci`` and every plot
the analysis made (the indices over time among them). Images are linked, not
embedded: the page sits beside them.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

#: (file, heading) in the order they appear.
SECTIONS = (
    ("effects-summary.csv", "Main effects: per parameter"),
    ("effects.png", "Main effects"),
    ("interactions.png", "Two-way interactions"),
    ("sensitivity-sobol.csv", "Sobol indices"),
    ("sensitivity-sobol.png", "Sobol indices"),
    ("sensitivity-morris.csv", "Morris elementary effects"),
    ("sensitivity-morris.png", "Morris elementary effects"),
    ("convergence.csv", "Convergence (--until-ci)"),
    ("sensitivity-sobol-time.png", "Sobol indices over time"),
    ("sensitivity-morris-time.png", "Morris indices over time"),
)


def write_report(
    folder: str | Path, manifest: dict[str, Any], out: str | Path | None = None
) -> Path:
    """Write ``sweep-report.html`` from the analysis files present in ``out``."""
    import pandas as pd

    from analysis.sweeps.dryrun import sample_size
    from sim.io import atomic_write_text

    base = Path(out) if out else Path(folder)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Sweep {html.escape(str(manifest.get('spec_path') or folder))}</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}img{max-width:100%}</style></head><body>",
        f"<h1>Sweep {html.escape(str(manifest.get('scenario')))}</h1>",
        f"<p>{html.escape(sample_size(manifest))}; spec {html.escape(str(manifest.get('spec_hash')))}, "
        f"demandsim {html.escape(str(manifest.get('demandsim_version')))}, commit "
        f"{html.escape(str(manifest.get('git_commit')))}.</p>",
    ]
    for name, heading in SECTIONS:
        path = base / name
        if not path.exists():
            continue
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if name.endswith(".png"):
            parts.append(f"<img src='{html.escape(name)}' alt='{html.escape(heading)}'>")
        else:
            table = pd.read_csv(path, keep_default_na=False)
            parts.append(table.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
    parts.append("</body></html>")
    report = base / "sweep-report.html"
    atomic_write_text(report, "\n".join(parts))
    return report
