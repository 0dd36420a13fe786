"""HTML pages and the report tables every page of the tool shares.

One self-contained page (inline CSS, images embedded as base64 PNG, no scripts) for
run and comparison reports, calibrations and frontiers: ``page`` wraps a body,
``table``, ``card``, ``img`` (captioned in words from ``CAPTIONS``) and ``describe``
build its parts, ``fmt`` and ``amount`` write a number for people, and
``detection_rows`` and ``chain_rows`` lay out the platform's sensitivity and the
value-transfer chain.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.tables import sigma_text

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
tr.sig td { background: #fff8e1; }
.muted { color: #666; font-size: .9em; }
.cards { display: flex; flex-wrap: wrap; gap: .8em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6em .9em; min-width: 12em; }
.card .v { font-size: 1.35em; font-weight: 600; } .card .k { color: #555; font-size: .85em; }
figure { display: inline-block; margin: .5em; } img { max-width: 520px; }
blockquote { border-left: 4px solid #ccc; margin: .6em 0; padding: .2em 1em; color: #333; }
.finding { font-size: 1.1em; }
"""

EVENT_NAMES = {
    "latent_to_active": "latent demand became real",
    "upmarket": "demand moved upmarket",
    "complement": "complement need opened",
    "supplier_failure": "customer's supplier failed",
    "competitor_launch": "competitor launched a product",
    "complaint": "complaint about our product",
}


def fmt(x: Any, digits: int = 4) -> str:
    """A number for people: ``digits`` significant digits, '—' when missing."""
    from sim.tables import fmt_num

    return fmt_num(x, digits)


MINUS = "\u2212"


def amount(x: Any, digits: int = 3) -> str:
    """A number for a client: thousands separators, whole numbers from 100 on, ``digits``
    significant digits below, a true minus sign; '—' when missing."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    if abs(v) < 1e-9:  # rounding noise of a sum, not an amount
        v = 0.0
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.{digits}g}"
    return text.replace("-", MINUS)


def money(x: Any, currency: str) -> str:
    """An amount of money with its unit: '8,192 EUR'."""
    return f"{amount(x)} {currency}".strip()


def signed(text: str) -> str:
    """A difference with its sign: '+3,338' or '−11,174' (zero unsigned)."""
    return text if text.startswith((MINUS, "0", "—")) else "+" + text


def points(share_diff: Any) -> str:
    """A difference of two shares in percentage points: '−23.4 pp'."""
    try:
        v = float(share_diff) * 100.0
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    return signed(f"{v:.1f}".replace("-", MINUS)) + " pp"


def percent(share: Any, digits: int = 1) -> str:
    """A share as a percentage: '38.5%'."""
    try:
        v = float(share) * 100.0
    except (TypeError, ValueError):
        return "—"
    return f"{v:.{digits}f}%".replace("-", MINUS) if math.isfinite(v) else "—"


def horizon(steps: Any, steps_per_year: Any) -> str:
    """A run's horizon in years and weeks: '5 years (260 weeks)'."""
    from sim.calendar import WEEKS_PER_YEAR

    try:
        n, spy = int(steps), int(steps_per_year)
    except (TypeError, ValueError):
        return f"{steps} steps"
    years = n / spy
    y = f"{years:.0f}" if abs(years - round(years)) < 0.05 else f"{years:.1f}"
    weeks = n * WEEKS_PER_YEAR / spy
    return f"{y} year{'' if y == '1' else 's'} ({weeks:,.0f} weeks)"


def esc(text: Any) -> str:
    """Text escaped for HTML (quotes included)."""
    return html.escape(str(text), quote=True)


def img(path: Path, text: str | None = None) -> str:
    """A PNG file embedded as a figure, with its caption (``caption(path)`` if none)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{esc(path.stem)}" src="data:image/png;base64,{data}">'
        f"<figcaption class=muted>{esc(text or caption(path))}</figcaption></figure>"
    )


#: Captions of the plots of runs and comparisons, by file name (without .png).
CAPTIONS: dict[str, str] = {
    "compare_market_share": "The focal firm's market share over time on each side (mean of the "
    "replications, 95% band).",
    "compare_marketing_density": "Marketing density: the share of the needs the firm should "
    "market that it marketed in time, so far.",
    "compare_sigma_level": "Sigma level of the needs marketed so far (headline sigma).",
    "compare_sigma_level_lower": "The sigma level the counts so far support (95% lower bound).",
    "compare_cum_profit": "Profit accumulated since the start on each side.",
    "compare_alignment": "Alignment: the share of demand in cells where the firm sells a product.",
    "diff_cum_profit": "The profit gap building up: cumulative profit of B minus A, paired by seed.",
    "diff_market_share": "The market-share gap: B minus A, paired by seed.",
    "market_share": "Market shares over time: the share of served needs each firm holds.",
    "marketing_density": "Marketing density (the share of the needs the firm should market that "
    "it marketed in time, so far) and the share of the market's changes its records detected.",
    "sigma_level": "Sigma level of the needs marketed so far (headline sigma); dotted: the level "
    "the counts so far support (95% lower bound), shown also while no defect was counted.",
    "cum_profit": "The focal firm's profit accumulated since the start.",
    "alignment": "Alignment: the share of demand in cells where the firm sells a product; "
    "shaded where strategic contraction was flagged.",
    "demand_structure": "Demand per cell (category/tier) over time: thick where the focal firm "
    "sells a product in the cell, dashed where it does not.",
    "fit": "The observed series against the simulation at the best fit (mean and band).",
    "frontier": "Each candidate's cost per year against its sigma level (its lower bound where "
    "no defect was counted), coloured by profit per year; the red line joins the Pareto set.",
    "tornado": "Sensitivity strip: the profit difference B − A with each assumption 20% lower "
    "(blue) and higher (red); the black line is the finding.",
}


def caption(path: Path) -> str:
    """A plot's caption in words (its name in words, for a plot this list does not know)."""
    return CAPTIONS.get(path.stem, path.stem.replace("_", " "))


def table(
    head: Sequence[str], rows: Iterable[Sequence[Any]], classes: Sequence[str] | None = None
) -> str:
    """A table with a header row; ``classes`` gives each row a CSS class."""
    out = ["<table><tr>"]
    out += [f'<th class="{"l" if i == 0 else ""}">{esc(h)}</th>' for i, h in enumerate(head)]
    out.append("</tr>")
    for k, row in enumerate(rows):
        cls = f' class="{classes[k]}"' if classes and classes[k] else ""
        out.append(f"<tr{cls}>")
        out += [f'<td class="{"l" if i == 0 else ""}">{esc(c)}</td>' for i, c in enumerate(row)]
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def page(title: str, body: list[str]) -> str:
    """A whole HTML document of ``body``'s parts, styled by ``CSS``."""
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f'<meta name=viewport content="width=device-width, initial-scale=1"><title>{esc(title)}</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def describe(text: str) -> str:
    """A scenario description as a quote, its first line (the question) in bold."""
    first, _, rest = str(text).strip().partition("\n")
    tail = f"<br>{esc(rest.strip())}" if rest.strip() else ""
    return f"<blockquote><b>{esc(first)}</b>{tail}</blockquote>"


def card(label: str, value: str, sub: str = "") -> str:
    """A headline number: its label, its value and an optional line under it."""
    s = f"<div class=muted>{esc(sub)}</div>" if sub else ""
    return (
        f"<div class=card><div class=k>{esc(label)}</div><div class=v>{esc(value)}</div>{s}</div>"
    )


def load_json(path: Path) -> Any:
    """A JSON file of an output folder, or one line saying why it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"report: {str(path)!r}: cannot be read ({exc.__class__.__name__})"
        ) from None


# --------------------------------------------------------------------------- tables


def detection_rows(detection: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """Rows (event, events, detected share, lag median, lag p90) of a detection table."""
    rows = []
    for event, m in detection.items():
        rows.append(
            [
                f"{event} ({EVENT_NAMES.get(event, event)})",
                amount(m.get("events")),
                fmt(m.get("detected_share"), 3),
                fmt(m.get("lag_median"), 3),
                fmt(m.get("lag_p90"), 3),
            ]
        )
    return rows


def chain_rows(chain: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """Rows (link, opportunities, defects, DPMO, sigma with the level the counts
    support, FPY) of a value-transfer chain table."""
    return [
        [
            link.replace("_", " "),
            amount(m.get("opportunities")),
            amount(m.get("defects")),
            amount(m.get("dpmo")),
            sigma_text(m.get("sigma_level"), m.get("sigma_level_lower")),
            fmt(m.get("fpy"), 4),
        ]
        for link, m in chain.items()
    ]


DET_HEAD = ["event type", "events", "detected within H", "lag median (steps)", "lag p90 (steps)"]


def det_head(weeks_per_step: float | None) -> list[str]:
    """``DET_HEAD`` with the lags in weeks when a step is a week."""
    return (
        [h.replace("(steps)", "(weeks)") for h in DET_HEAD] if weeks_per_step == 1.0 else DET_HEAD
    )


CHAIN_HEAD = ["link", "opportunities", "defects", "DPMO", "sigma (shifted)", "first-pass yield"]


# --------------------------------------------------------------------------- comparison
