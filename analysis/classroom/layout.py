"""Shared HTML pieces of the classroom's pages: the page shell and its CSS, escaping
and number formats, messages, the poll that follows a session, inline SVG charts.

Plain HTML, inline CSS and SVG, a few lines of JavaScript: nothing is fetched from
outside, so every page works offline and the debrief is one self-contained file.
"""

from __future__ import annotations

import html
import json
from typing import Any

CSS = """
body{font-family:system-ui,sans-serif;margin:1.2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #ddd}
h3{font-size:1em;margin:.8em 0 .3em}
table{border-collapse:collapse;margin:.4em 0}td,th{padding:.2em .6em;border-bottom:1px solid #eee;
text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.msg{padding:.5em .8em;border-radius:4px;margin:.6em 0}.ok{background:#e6f4e6}.err{background:#fde8e8}
.note{color:#555;font-size:.9em}.muted{color:#888}form.decide label{display:block;margin:.4em 0}
input[type=number]{width:7em}.team{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}.bar-b{fill:#4a7bd0}.bar-t{fill:#d0704a}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em}
code{background:#f4f4f4;padding:0 .2em}td.team-name{text-align:left}
.timer{font-weight:bold}.late{color:#b00}.help{color:#555;font-size:.85em;margin:0 0 .4em 1.5em}
.join{font-family:monospace;font-size:1.4em;letter-spacing:.1em}
.projector{font-size:1.6em}.projector table{font-size:1em}
"""


def esc(x: Any) -> str:
    return html.escape(str(x))


def fmt(x: Any, digits: int = 1, pct: bool = False) -> str:
    """A number for a table; None (not measured yet) as a dash."""
    if x is None:
        return "–"
    if x in ("inf", "-inf"):
        return "∞" if x == "inf" else "−∞"
    if pct:
        return f"{100 * float(x):.{digits}f}%"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{float(x):,.{digits}f}"


def page(title: str, body: str, script: str = "") -> str:
    js = f"<script>{script}</script>" if script else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width'><title>{esc(title)}</title>"
        f"<style>{CSS}</style></head><body>{body}{js}</body></html>"
    )


def message(text: str | None, error: bool = False) -> str:
    if not text:
        return ""
    cls = "err" if error else "ok"
    return f"<div class='msg {cls}' data-testid=message>{esc(text)}</div>"


def poll(
    url: str,
    current: dict[str, Any],
    target: str,
    reload_on: tuple[str, ...] = ("note", "round", "status", "submitted"),
) -> str:
    """Follow the session: every 1.5 s read ``url`` (its state), update the round's timer
    and the count of teams in place, and go to ``target`` (the page's own address, by
    GET: never a form resubmitted) when a field of ``reload_on`` changes. A team page
    reloads on the round and status only, so a draft survives other teams' submits."""
    keys = sorted(reload_on)
    now = {k: current.get(k) for k in keys}
    return (
        f"let DL={json.dumps(current.get('deadline'))},OFF=0;"
        "function tick(){const e=document.getElementById('timer');if(!e)return;"
        "if(DL==null){e.textContent='no deadline set';e.className='timer';return;}"
        "const r=Math.max(0,Math.round(DL-(Date.now()/1000+OFF)));"
        "e.textContent=r>0?Math.floor(r/60)+':'+String(r%60).padStart(2,'0')+' left':'time is up';"
        "e.className=r>60?'timer':'timer late';}tick();setInterval(tick,1000);"
        f"const cur={json.dumps(json.dumps(now, sort_keys=True, separators=(',', ':')))},"
        f"T={json.dumps(target)},K={json.dumps(keys)};"
        f"setInterval(async()=>{{try{{const r=await fetch({json.dumps(url)});"
        "if(!r.ok)return;const s=await r.json();DL=s.deadline;OFF=s.now-Date.now()/1000;tick();"
        "document.querySelectorAll('[data-live=submitted]').forEach(e=>e.textContent=s.submitted.length);"
        "const o={};K.forEach(k=>o[k]=s[k]);const k=JSON.stringify(o);"
        "if(k!==cur&&!document.querySelector('form.decide :focus'))location.replace(T);}catch(e){}},1500);"
    )


def state_key(state: dict[str, Any]) -> dict[str, Any]:
    return {k: state.get(k) for k in ("note", "round", "status", "submitted", "deadline")}


def hidden(**fields: Any) -> str:
    """Hidden inputs (the round a form was shown, its CSRF token)."""
    return "".join(f"<input type=hidden name={k} value='{esc(v)}'>" for k, v in fields.items())


# --------------------------------------------------------------------------- charts


def bars_svg(rows: list[tuple[str, float, float | None]], labels: tuple[str, str]) -> str:
    """Horizontal paired bars per cell: believed (blue) beside true (orange) shares."""
    h, top, w0, w = 26, 4, 130, 300
    height = top + h * len(rows) + 4
    out = [f"<svg width={w0 + w + 60} height={height} role=img>"]
    for i, (name, a, b) in enumerate(rows):
        y = top + i * h
        out.append(f"<text x=0 y={y + 15} font-size=12>{esc(name)}</text>")
        out.append(
            f"<rect class=bar-b x={w0} y={y + 2} width={w * a:.1f} height=10>"
            f"<title>{labels[0]} {100 * a:.1f}%</title></rect>"
        )
        out.append(f"<text x={w0 + w * a + 4:.1f} y={y + 11} font-size=10>{100 * a:.0f}%</text>")
        if b is not None:
            out.append(
                f"<rect class=bar-t x={w0} y={y + 13} width={w * b:.1f} height=10>"
                f"<title>{labels[1]} {100 * b:.1f}%</title></rect>"
            )
            out.append(
                f"<text x={w0 + w * b + 4:.1f} y={y + 22} font-size=10>{100 * b:.0f}%</text>"
            )
    out.append("</svg>")
    legend = f"<span style='background:#4a7bd0'></span>{labels[0]}"
    if any(b is not None for _, _, b in rows):
        legend += f"<span style='background:#d0704a'></span>{labels[1]}"
    return "".join(out) + f"<div class='legend note'>{legend}</div>"


def lines_svg(series: dict[str, list[float]], title: str) -> str:
    """Cumulative profit per team by round, one line each."""
    colours = ["#4a7bd0", "#d0704a", "#4aa05a", "#9a4ad0", "#d0b84a", "#4ac0d0", "#888"]
    pts = [v for s in series.values() for v in s]
    if not pts:
        return ""
    lo, hi = min(pts + [0.0]), max(pts + [0.0])
    hi = hi if hi > lo else lo + 1
    n = max(len(s) for s in series.values())
    W, H, L = 520, 200, 60

    def xy(i: int, v: float) -> str:
        x = L + (W - L - 10) * (i / max(n - 1, 1))
        y = 10 + (H - 30) * (1 - (v - lo) / (hi - lo))
        return f"{x:.1f},{y:.1f}"

    out = [f"<svg width={W} height={H} role=img><title>{esc(title)}</title>"]
    y0 = xy(0, 0.0).split(",")[1]
    out.append(f"<line x1={L} x2={W - 10} y1={y0} y2={y0} stroke=#bbb />")
    out.append(
        f"<text x=0 y=14 font-size=10>{hi:,.0f}</text><text x=0 y={H - 20} font-size=10>{lo:,.0f}</text>"
    )
    out.append(f"<text x={L} y={H - 4} font-size=10>round 0</text>")
    out.append(f"<text x={W - 60} y={H - 4} font-size=10>round {n - 1}</text>")
    for j, (name, s) in enumerate(series.items()):
        c = colours[j % len(colours)]
        p = " ".join(xy(i, v) for i, v in enumerate(s))
        out.append(
            f"<polyline fill=none stroke={c} stroke-width=2 points='{p}'><title>{esc(name)}</title></polyline>"
        )
    out.append("</svg>")
    legend = "".join(
        f"<span style='background:{colours[j % len(colours)]}'></span>{esc(name)}"
        for j, name in enumerate(series)
    )
    return "".join(out) + f"<div class='legend note'>{legend}</div>"
