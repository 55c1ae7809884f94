#!/usr/bin/env python3
"""Draw the stack's CloudWatch dashboard as an SVG mock-up: `docs/dashboard.svg`.

The layout, titles, series and labels come from the dashboard's widget definition in
template.yaml (the `DashboardBody` of the `Dashboard` resource), exactly as CloudWatch lays
them out (a 24-column grid); the curves are illustrative, made up for the picture, and the
picture says so. `--check` fails if the committed picture is not the one the template gives
(`make test` runs it), so the docs never show a dashboard the stack does not create.
"""
import json
import math
import pathlib
import random
import re
import sys
from xml.sax.saxutils import escape

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "dashboard.svg"
COL, ROW, PAD = 50, 34, 6
# Series that are mostly zero on a healthy bridge: drawn low.
RARE = ["error", "throttle", "reject", "dead", "5xx", "4xx", "unreachable", "refused", "reconciliation", "not 2xx"]
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def widgets():
    """The dashboard's widgets, its `${...}` placeholders replaced by what they name."""
    lines = (ROOT / "template.yaml").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if "DashboardBody: !Sub |" in l) + 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = []
    for line in lines[start:]:
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            break
        body.append(line)
    text = "\n".join(body)
    text = re.sub(r'"\$\{([^}]+)\}"', lambda m: json.dumps(m.group(1)), text)
    text = re.sub(r"\$\{([^}]+)\}", "3600", text)
    return json.loads(text)["widgets"]


def label_of(entry, widget):
    """A series' legend: its label, else its last dimension value, else its name."""
    options = entry[-1] if isinstance(entry[-1], dict) else {}
    if options.get("visible") is False:
        return None
    if "expression" in options:
        if options["expression"].startswith("SEARCH("):
            dims = re.search(r"\{[^,]+,([^}]+)\}", options["expression"]).group(1).split(",")
            return "one line per " + [d for d in dims if d != "outcome"][0]
        return options.get("label") or options["expression"]
    if options.get("label"):
        return options["label"]
    names = [e for e in entry if isinstance(e, str)]
    return names[-1] if len(names) > 2 else names[1]


def curve(seed, n=48):
    rnd = random.Random(seed)
    base = rnd.uniform(0.15, 0.7)
    points = []
    for i in range(n):
        v = base + 0.18 * math.sin(i / 5 + seed % 7) + rnd.uniform(-0.08, 0.08)
        points.append(min(0.95, max(0.02, v)))
    return points


def metric_widget(w, out):
    x, y = w["x"] * COL + PAD, w["y"] * ROW + PAD
    width, height = w["width"] * COL - 2 * PAD, w["height"] * ROW - 2 * PAD
    p = w["properties"]
    out.append(f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="4" fill="#fff" stroke="#d5dbdb"/>')
    out.append(f'<text x="{x + 10}" y="{y + 20}" font-size="13" font-weight="bold">{escape(p["title"])}</text>')
    series = [(label_of(e, w), e[-1] if isinstance(e[-1], dict) else {}) for e in p.get("metrics", [])]
    series = [(label, options) for label, options in series if label]
    columns = 2 if w["width"] <= 6 else 3
    legend_rows = math.ceil(len(series) / columns)
    plot_top, plot_bottom = y + 34, y + height - 14 - 14 * legend_rows
    plot_left, plot_right = x + 34, x + width - 10
    out.append(f'<line x1="{plot_left}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" stroke="#aab7b8"/>')
    out.append(f'<text x="{x + 8}" y="{plot_top + 8}" font-size="9" fill="#687078">{escape(p.get("stat", ""))}</text>')
    for i, (label, options) in enumerate(series):
        color = options.get("color", COLORS[i % len(COLORS)])
        rare = any(word in (p["title"] + label).lower() for word in RARE)
        points = [v * (0.12 if rare else 1) for v in curve(hash_of(p["title"] + label))]
        step = (plot_right - plot_left) / (len(points) - 1)
        path = " ".join(
            f"{plot_left + j * step:.1f},{plot_bottom - v * (plot_bottom - plot_top):.1f}"
            for j, v in enumerate(points)
        )
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.4"/>')
        lx = x + 10 + (i % columns) * (width - 20) / columns
        ly = plot_bottom + 14 + (i // columns) * 14
        out.append(f'<rect x="{lx:.1f}" y="{ly - 8}" width="8" height="8" fill="{color}"/>')
        out.append(f'<text x="{lx + 12:.1f}" y="{ly}" font-size="10">{escape(label[:34])}</text>')


def alarm_widget(w, out):
    x, y = w["x"] * COL + PAD, w["y"] * ROW + PAD
    width, height = w["width"] * COL - 2 * PAD, w["height"] * ROW - 2 * PAD
    out.append(f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="4" fill="#fff" stroke="#d5dbdb"/>')
    out.append(f'<text x="{x + 10}" y="{y + 20}" font-size="13" font-weight="bold">{escape(w["properties"]["title"])}</text>')
    alarms = [a.replace(".Arn", "") for a in w["properties"]["alarms"]]
    per_row = 4
    for i, name in enumerate(alarms):
        ax = x + 10 + (i % per_row) * (width - 20) / per_row
        ay = y + 40 + (i // per_row) * 22
        out.append(f'<circle cx="{ax + 6:.1f}" cy="{ay - 4}" r="5" fill="#1d8102"/>')
        out.append(f'<text x="{ax + 16:.1f}" y="{ay}" font-size="11">{escape(name)} · OK</text>')


def hash_of(text):
    return sum((i + 1) * ord(c) for i, c in enumerate(text))


def render():
    ws = widgets()
    width = 24 * COL
    height = max(w["y"] + w["height"] for w in ws) * ROW + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" fill="#16191f">',
        f'<rect width="{width}" height="{height}" fill="#f2f3f3"/>',
    ]
    for w in ws:
        (alarm_widget if w["type"] == "alarm" else metric_widget)(w, out)
    out.append(
        f'<text x="{PAD}" y="{height - 10}" font-size="11" fill="#687078">Mock-up drawn by '
        "scripts/render-dashboard.py from the dashboard's widget definition in template.yaml: "
        "layout, titles and series are the stack's; the curves are illustrative, not data.</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    svg = render()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != svg:
            sys.exit(f"{OUT.relative_to(ROOT)} is not the template's dashboard: run python3 scripts/render-dashboard.py")
        print(f"{OUT.relative_to(ROOT)}: matches the template's dashboard")
        return
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(svg)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
