"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, no network) with
the side-by-side tables and plots of ``mcusim compare`` (or one path of ``mcusim run``):
cycles per op for each path, instruction-class mix, flash/RAM breakdown bars, and memory
against the board's limits."""

from __future__ import annotations

from html import escape
from typing import Any

from .board import get_board

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac")
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}td:nth-child(2){text-align:left}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}svg{display:block;margin:0.5em 0}
.legend span{display:inline-block;margin-right:1em}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
"""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}"
    return f"{v:,}" if isinstance(v, int) else escape(str(v))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _legend(names: list[str]) -> str:
    items = "".join(f'<span><i class="sw" style="background:{PALETTE[i % len(PALETTE)]}"></i>{escape(n)}</span>'
                    for i, n in enumerate(names))
    return f'<div class="legend">{items}</div>'


def grouped_bars(title: str, labels: list[str], series: dict[str, list[float]], unit: str) -> str:
    """Vertical grouped bars: one group per label, one bar per series."""
    width, height, left, bottom = 900, 300, 60, 110
    n, k = max(len(labels), 1), max(len(series), 1)
    top = max((max(v) for v in series.values() if v), default=1) or 1
    gw = (width - left - 10) / n
    bw = max(gw / (k + 1), 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#888"/>',
             f'<text x="4" y="14" font-size="12">{escape(unit)} (max {top:,.0f})</text>']
    for si, (name, values) in enumerate(series.items()):
        for li, v in enumerate(values):
            h = (height - bottom - 20) * v / top
            x = left + li * gw + si * bw
            parts.append(f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(name)} {escape(labels[li])}: {v:,.0f}</title></rect>')
    for li, lab in enumerate(labels):
        x = left + li * gw + gw / 2
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 12}" font-size="10" text-anchor="end" '
                     f'transform="rotate(-40 {x:.1f} {height - bottom + 12})">{escape(lab[:22])}</text>')
    parts.append("</svg>")
    return f"<h3>{escape(title)}</h3>{_legend(list(series))}" + "".join(parts)


def stacked_rows(title: str, rows: dict[str, dict[str, float]], limit: dict[str, float] | None = None) -> str:
    """Horizontal stacked bars, one per row; ``limit`` draws each row's capacity as a red line."""
    keys = sorted({k for parts in rows.values() for k in parts})
    width, row_h, left = 900, 28, 110
    height = row_h * len(rows) + 20
    scale_max = max([sum(p.values()) for p in rows.values()] + list((limit or {}).values()) + [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">']
    for ri, (name, values) in enumerate(rows.items()):
        y = 10 + ri * row_h
        parts.append(f'<text x="4" y="{y + 16}" font-size="12">{escape(name)}</text>')
        x = float(left)
        for ki, key in enumerate(keys):
            v = values.get(key, 0)
            w = (width - left - 20) * v / scale_max
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[ki % len(PALETTE)]}">'
                             f'<title>{escape(name)} {escape(key)}: {v:,.0f}</title></rect>')
            x += w
        if limit and name in limit:
            lx = left + (width - left - 20) * limit[name] / scale_max
            parts.append(f'<line x1="{lx:.1f}" y1="{y - 3}" x2="{lx:.1f}" y2="{y + row_h - 5}" stroke="#d00" stroke-width="2">'
                         f'<title>board limit {limit[name]:,.0f}</title></line>')
    parts.append("</svg>")
    return f"<h3>{escape(title)}</h3>{_legend(keys)}" + "".join(parts)


def render_html(runs: list[dict[str, Any]], title: str) -> str:
    """One page for one or more path reports of the same model and board."""
    board = get_board(runs[0]["board"])
    names = [f"{r['path']} ({r['kernels']})" for r in runs]
    summary_rows = []
    for label, key in (("flash (B)", "flash_bytes"), ("peak RAM (B)", "ram_peak_bytes"), ("cycles / inference", "cycles"),
                       ("latency (ms)", "latency_ms"), ("energy (µJ)", "energy_uj"), ("dispatch share", "dispatch_share"),
                       ("start-up cycles", "startup_cycles"), ("SMLAD-family share", "dsp_mac_share")):
        summary_rows.append([label] + [r[key] for r in runs])
    html = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{escape(title)}</h1>",
            f"<p>{escape(board.title)} at {board.op.clock_hz / 1e6:g} MHz: {board.flash_size // 1024} KiB flash, "
            f"{board.ram_size // 1024} KiB RAM. Every figure is measured by simulation (mcusim).</p>",
            "<h2>Summary</h2>", _table([""] + names, summary_rows)]
    # Per op, aligned by op index.
    indices = sorted({o["index"] for r in runs for o in r["ops"]})
    by_run = [{o["index"]: o for o in r["ops"]} for r in runs]
    op_rows = []
    for i in indices:
        first = next(b[i] for b in by_run if i in b)
        op_rows.append([i, first["type"], first["shape"], first["macs"]] +
                       [b[i]["cycles"] if i in b else "folded" for b in by_run])
    html += ["<h2>Per operator</h2>", _table(["#", "op", "shape", "MACs"] + [f"{n} cycles" for n in names], op_rows)]
    html.append(grouped_bars("Cycles per operator", [f"{i} {by_run[0].get(i, {}).get('type', '')}" for i in indices],
                             {n: [b[i]["cycles"] if i in b else 0 for i in indices] for n, b in zip(names, by_run)}, "cycles"))
    html.append(stacked_rows("Instruction-class mix (cycles of one inference)",
                             {n: {c: v["cycles"] for c, v in r["instruction_mix"].items()} for n, r in zip(names, runs)}))
    html.append(stacked_rows("Flash by component (bytes)", {n: r["flash_breakdown"] for n, r in zip(names, runs)}))
    html.append(stacked_rows("RAM by component (bytes)",
                             {n: {k: v for k, v in r["ram_breakdown"].items() if v} for n, r in zip(names, runs)}))
    limits = {}
    use = {}
    for n, r in zip(names, runs):
        limits[f"{n} flash"], limits[f"{n} RAM"] = board.flash_size, board.ram_size
        use[f"{n} flash"] = {"used": r["flash_bytes"]}
        use[f"{n} RAM"] = {"used": r["ram_peak_bytes"]}
    html.append(stacked_rows(f"Memory against the part's limits (red: {board.flash_size // 1024} KiB flash, "
                             f"{board.ram_size // 1024} KiB RAM; 70% is the headroom rule)", use, limits))
    html.append("<h2>Instruction mix</h2>")
    classes = sorted({c for r in runs for c in r["instruction_mix"]})
    html.append(_table(["class"] + names, [[c] + [r["instruction_mix"].get(c, {}).get("cycles", 0) for r in runs] for c in classes]))
    html.append("</body></html>\n")
    return "".join(html)
