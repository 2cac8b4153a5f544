"""The SVG scatter plot of a query (hand-written: no plotting dependency)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from ..errors import McusimError
from .constants import BYTE_COLUMNS, CLASSIC_ML, METRICS, OK
from .query import pareto_flags


PATH_COLOURS = {"tinyml": "#1f6fb4", "classic": "#d2452b", "classic-ml": "#2e9e44"}
AXIS_TITLES = {"flash_bytes": "flash (bytes)", "ram_peak_bytes": "peak RAM (bytes)", "latency_ms": "latency (ms)",
               "energy_uj": "energy per inference (µJ)", "cycles": "cycles", "dispatch_share": "dispatch share"}


def _nice(x: float) -> float:
    e = math.floor(math.log10(x)) if x > 0 else 0
    f = x / 10**e
    return (1 if f < 1.5 else 2 if f < 3 else 5 if f < 7 else 10) * 10**e


class _Axis:
    def __init__(self, values: Sequence[float], lo_px: float, hi_px: float, unit: float = 1.0) -> None:
        """``unit``: ticks fall on nice multiples of it (1024 for bytes: 32K, 33K, ...)."""
        vmin, vmax = min(values), max(values)
        self.log = vmin > 0 and vmax / vmin > 20
        self.lo_px, self.hi_px = lo_px, hi_px
        self.lo: float
        self.hi: float
        if self.log:
            self.lo, self.hi = math.floor(math.log10(vmin)), math.ceil(math.log10(vmax))
            if self.hi == self.lo:
                self.hi += 1
        else:
            span = vmax - vmin or abs(vmax) or 1.0
            if span > 2 * unit:
                step = _nice(span / 4 / unit) * unit
            elif unit > 1:  # bytes within 2K: power-of-two steps read as 31.25K, 31.5K, ...
                step = 2.0 ** round(math.log2(span / 4))
            else:
                step = _nice(span / 4)
            self.lo = math.floor((vmin - 0.05 * span) / step) * step
            self.hi = math.ceil((vmax + 0.05 * span) / step) * step
            if vmin >= 0 > self.lo:
                self.lo = 0.0
            self.step = step

    def px(self, v: float) -> float:
        t = ((math.log10(v) if self.log else v) - self.lo) / (self.hi - self.lo)
        return self.lo_px + t * (self.hi_px - self.lo_px)

    def ticks(self) -> list[float]:
        if self.log:
            decades = range(int(self.lo), int(self.hi) + 1)
            mult = (1,) if len(decades) > 4 else (1, 2, 5)
            return [m * 10.0**d for d in decades for m in mult if self.lo <= math.log10(m * 10.0**d) <= self.hi]
        n = round((self.hi - self.lo) / self.step)
        ticks = [self.lo + i * self.step for i in range(n + 1)]
        return ticks[::2] if len(ticks) > 6 else ticks


def _tick_label(v: float, metric: str) -> str:
    if v == 0:
        return "0"
    if metric in BYTE_COLUMNS and abs(v) >= 1024:
        return f"{v / 1024:.4g}K" if abs(v) < 1 << 20 else f"{v / (1 << 20):.4g}M"
    if abs(v) >= 100_000 or abs(v) < 0.001:
        return f"{v:.2g}"
    return f"{v:.4g}"


MARKER_LABELS = {"opt": "mcusim opt kernels", "ref": "mcusim ref kernels", "cmsis-nn": "CMSIS-NN (real)",
                 "library": "classic-ML library"}


def _kind(row: dict[str, Any]) -> str:
    """What ran the cell's kernels: mcusim's opt or ref flavour, real CMSIS-NN, or (classic-ml)
    the code generator library."""
    return "library" if row["path"] == CLASSIC_ML else row["kernels"]


def _marker(kind: str, x: float, y: float, style: str, inner: str) -> str:
    """The point of a cell: circle = mcusim opt, square = mcusim ref, diamond = CMSIS-NN,
    triangle = a classic-ML library."""
    if kind == "opt":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" {style}>{inner}</circle>'
    if kind == "ref":
        return f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" {style}>{inner}</rect>'
    pts = ([(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)] if kind == "cmsis-nn" else
           [(x, y - 6), (x + 5.5, y + 4.5), (x - 5.5, y + 4.5)])
    return f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" {style}>{inner}</polygon>'


def pareto_svg(rows: Sequence[dict[str, Any]], x: str = "latency_ms", y: str = "energy_uj",
               title: str = "mcusim sweep") -> str:
    """One panel per model: each ``ok`` cell a point at (x, y), colour = path, shape = what ran
    the kernels (:func:`_marker`); filled = Pareto-optimal over the Pareto metrics (``row['pareto']``),
    hollow = dominated; the dashed staircase is the front in the two plotted metrics alone,
    its points labelled with their board.
    Log axes where the values span more than 20x."""
    for m in (x, y):
        if m not in METRICS:
            raise McusimError(f"--plot-axes: {m!r} is not a metric; metrics: {', '.join(METRICS)}")
    pts = [r for r in rows if r["status"] == OK and r.get(x) is not None and r.get(y) is not None]
    if not pts:
        raise McusimError("nothing to plot: no finished cell in the selection")
    models: dict[str, list[dict[str, Any]]] = {}
    for r in pts:
        models.setdefault(r.get("label", r["model_name"]), []).append(r)
    pw, ph, ml, mr, mt, mb = 380, 300, 70, 20, 34, 50
    cols = min(3, len(models))
    nrows = math.ceil(len(models) / cols)
    head = 58
    width, height = cols * pw, head + nrows * ph
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
           f'<text x="10" y="38">{escape(AXIS_TITLES.get(y, y))} vs {escape(AXIS_TITLES.get(x, x))}; '
           f'filled: Pareto-optimal (flash, RAM, latency, energy); dashed: front of the two plotted metrics</text>']
    lx = 10
    for path, colour in PATH_COLOURS.items():
        out.append(f'<circle cx="{lx + 5}" cy="50" r="4.5" fill="{colour}"/><text x="{lx + 13}" y="54">{path}</text>')
        lx += 75
    for kind in dict.fromkeys(_kind(r) for r in pts):
        out.append(_marker(kind, lx + 5, 50, 'fill="none" stroke="#333"', "") +
                   f'<text x="{lx + 13}" y="54">{MARKER_LABELS[kind]}</text>')
        lx += 16 + 6 * len(MARKER_LABELS[kind])
    for i, (label, group) in enumerate(sorted(models.items())):
        ox, oy = (i % cols) * pw, head + (i // cols) * ph
        ax = _Axis([float(r[x]) for r in group], ox + ml, ox + pw - mr, 1024.0 if x in BYTE_COLUMNS else 1.0)
        ay = _Axis([float(r[y]) for r in group], oy + ph - mb, oy + mt, 1024.0 if y in BYTE_COLUMNS else 1.0)
        out.append(f'<g><text x="{ox + ml}" y="{oy + 22}" font-size="13" font-weight="bold">{escape(label)}</text>')
        out.append(f'<rect x="{ox + ml}" y="{oy + mt}" width="{pw - ml - mr}" height="{ph - mt - mb}" '
                   f'fill="none" stroke="#999"/>')
        for t in ax.ticks():
            px = ax.px(t)
            out.append(f'<line x1="{px:.1f}" y1="{oy + mt}" x2="{px:.1f}" y2="{oy + ph - mb}" stroke="#eee"/>'
                       f'<text x="{px:.1f}" y="{oy + ph - mb + 14}" text-anchor="middle">{_tick_label(t, x)}</text>')
        for t in ay.ticks():
            py = ay.px(t)
            out.append(f'<line x1="{ox + ml}" y1="{py:.1f}" x2="{ox + pw - mr}" y2="{py:.1f}" stroke="#eee"/>'
                       f'<text x="{ox + ml - 5}" y="{py + 4:.1f}" text-anchor="end">{_tick_label(t, y)}</text>')
        out.append(f'<text x="{ox + (ml + pw - mr) / 2:.1f}" y="{oy + ph - 12}" text-anchor="middle">'
                   f'{escape(AXIS_TITLES.get(x, x))}{" (log)" if ax.log else ""}</text>')
        cy = oy + (mt + ph - mb) / 2
        out.append(f'<text x="{ox + 14}" y="{cy:.1f}" text-anchor="middle" transform="rotate(-90 {ox + 14} {cy:.1f})">'
                   f'{escape(AXIS_TITLES.get(y, y))}{" (log)" if ay.log else ""}</text>')
        xy = [(float(r[x]), float(r[y])) for r in group]
        front = sorted({p for p, ok in zip(xy, pareto_flags(xy)) if ok})
        if len(front) > 1:
            d = f"M{ax.px(front[0][0]):.1f},{ay.px(front[0][1]):.1f}"
            for (x0, y0), (x1, y1) in zip(front, front[1:]):
                d += f" H{ax.px(x1):.1f} V{ay.px(y1):.1f}"
            out.append(f'<path d="{d}" fill="none" stroke="#666" stroke-dasharray="4 3"/>')
        for r in sorted(group, key=lambda r: bool(r.get("pareto"))):
            px, py = ax.px(float(r[x])), ay.px(float(r[y]))
            colour = PATH_COLOURS.get(r["path"], "#555")
            fill = colour if r.get("pareto") else "white"
            tip = escape(f"{r['model_name']} {r['path']}/{r['kernels']} {r['board']}@{r['op_point']}: "
                         f"{AXIS_TITLES.get(x, x)} {r[x]:.4g}, {AXIS_TITLES.get(y, y)} {r[y]:.4g}, "
                         f"flash {r['flash_bytes']}, RAM {r['ram_peak_bytes']}"
                         f"{' (Pareto-optimal)' if r.get('pareto') else ''}")
            out.append(_marker(_kind(r), px, py, f'fill="{fill}" stroke="{colour}" stroke-width="1.6"',
                               f"<title>{tip}</title>"))
            if (float(r[x]), float(r[y])) in front:
                right = px > ox + pw - mr - 80  # near the right edge: label to the left of the point
                anchor = ' text-anchor="end"' if right else ""
                out.append(f'<text x="{px - 7 if right else px + 7:.1f}" y="{py - 6:.1f}" font-size="9" fill="#333"'
                           f'{anchor}>{escape(r["board"])}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


