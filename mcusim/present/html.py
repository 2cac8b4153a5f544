"""The HTML report of ``mcusim run`` and ``mcusim compare``: one self-contained page (inline CSS
and SVG, no scripts, no network) with every stack side by side.

What a reader sees, top to bottom: the stacks (which are the real TFLM / CMSIS-NN and which are
mcusim's own), latency per inference and the use of the part (70 % headroom line, the part's
size, budgets from ``mcusim.toml``/``pyproject.toml``), the summary table with ratios against
the first stack, battery life (with ``--duty``), flash and RAM by component, cycles and tensor
bytes per operator, and the instruction-class mix. Every plot has a numeric axis with tick
values and its values written on it.

Colours are fixed per name (stack, flash or RAM component, instruction class), never by
position: a component has the same colour in every report, and no legend repeats a colour.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from html import escape
from typing import Any, Sequence

from .. import __version__
from ..analysis.budget import HEADROOM
from ..analysis.oversize import summary as does_not_fit
from ..simulator.board import Board, get_board
from ..stacks import is_real
from .report import output_rows, ref_code_lines

STACK_COLOURS = {
    "tflm/cmsis-nn": "#4e79a7", "tflm/ref": "#a0cbe8", "classic/cmsis-nn": "#59a14f", "classic/opt": "#f28e2b",
    "classic/ref": "#ffbe7d", "tinyml/opt": "#b07aa1", "tinyml/ref": "#d4a6c8",
}
FLASH_COLOURS = {
    "model": "#4e79a7", "weights": "#a0cbe8",  # the model's data: blues
    "cmsis-nn": "#59a14f", "kernels": "#8cd17d", "tflm-kernels": "#499894",  # kernels: greens
    "tflm-framework": "#f28e2b", "runtime": "#ffbe7d", "op_glue": "#b6992d", "harness": "#f1ce63",
    "app": "#d37295", "code": "#fabfd2",  # what runs the model: oranges, yellows, pinks
    "libc": "#79706e", "libgcc": "#bab0ac", "libstdc++": "#9d7660", "startup": "#b07aa1", "other": "#d7b5a6",
}
RAM_COLOURS = {"static": "#79706e", "arena": "#4e79a7", "stack": "#f28e2b", "heap": "#e15759"}
MIX_COLOURS = {
    "alu": "#4e79a7", "mul": "#a0cbe8", "dsp_mac": "#59a14f", "dsp_simd": "#8cd17d", "div": "#499894",
    "load": "#f28e2b", "store": "#ffbe7d", "load_dual": "#b6992d", "store_dual": "#f1ce63",
    "load_multiple": "#d37295", "store_multiple": "#fabfd2", "branch": "#e15759", "table_branch": "#ff9d9a",
    "it": "#bab0ac", "fpu": "#b07aa1", "fpu_mac": "#d4a6c8", "fpu_div": "#9d7660", "fpu_mem": "#d7b5a6",
    "fpu_multiple": "#86bcb6", "system": "#79706e",
}
EXTRA_CYCLES = {"branch refills": "branch_refill_cycles", "flash wait states": "wait_state_cycles"}
EXTRA_CYCLE_COLOURS = {"branch refills": "#e7e1ef", "flash wait states": "#333333"}
EXTRA_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                 "#bcbd22", "#7f7f7f")
"""For a name no map knows (a new component): picked by a hash of the name, so it is stable too."""

PART_COLOUR, HEADROOM_COLOUR, BUDGET_COLOUR = "#c00000", "#e08000", "#7030a0"

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em 2em;color:#222;max-width:1200px}
h1{font-size:1.45em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.15em}
h3{font-size:1em;margin:1.2em 0 .3em}.meta{color:#555;margin-top:0}.note{color:#555;font-size:.9em}.dnf{color:#a00;border-left:3px solid #a00;padding-left:.6em}
.wide{overflow-x:auto}table{border-collapse:collapse;margin:.6em 0;font-variant-numeric:tabular-nums;font-size:.92em}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;vertical-align:top}td{white-space:nowrap}
code{white-space:nowrap;font-size:.92em}
th{background:#f5f5f5;font-weight:600}td.l,th.l{text-align:left}
.tag{display:inline-block;white-space:nowrap;font-size:.78em;font-weight:500;border-radius:3px;padding:0 4px;margin-top:2px}
.sub{color:#666;font-size:.85em}.real{background:#e3f1e0;color:#215a1c}.own{background:#eee;color:#555}
.legend{font-size:.88em;margin:.2em 0}.legend span{display:inline-block;margin-right:1.1em;white-space:nowrap}
.sw{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px;border-radius:2px}
svg{display:block;margin:.3em 0 .8em;font-family:inherit}svg text{font-size:11px;fill:#222}
svg .tick{fill:#666}svg .halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}svg .grid{stroke:#e6e6e6}svg .axis{stroke:#999}
"""


# --- numbers -----------------------------------------------------------------------------------

def _int(v: float) -> str:
    return f"{v:,.0f}"


def _g(v: float) -> str:
    """Four significant digits, thousands separated: 0.6708, 84.98, 3,365."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _pct(f: float) -> str:
    return f"{f * 100:.1f}%"


def _size(n: float) -> str:
    """Bytes as people read a part's size: 512 KiB, 1.5 MiB."""
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:g} MiB"
    if n >= 1024:
        return f"{n / 1024:.4g} KiB"
    return f"{n:.0f} B"


def _num(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


@dataclass
class Axis:
    """A numeric axis from 0: ``scale`` divides values into the tick unit (1024 for KiB)."""

    title: str
    scale: float = 1.0
    suffix: str = ""

    def ticks(self, vmax: float) -> list[float]:
        """Round tick values (in value units) from 0 past ``vmax``: steps of 1, 2, 2.5 or 5 x 10^k."""
        top = max(vmax / self.scale, 1e-9)
        raw = top / 5
        mag = 10 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * 0.999)
        n = max(1, math.ceil(top / step - 1e-9))
        return [i * step * self.scale for i in range(n + 1)]

    def label(self, v: float) -> str:
        return "0" if v == 0 else f"{v / self.scale:,.10g}{self.suffix}"


def bytes_axis(vmax: float) -> Axis:
    if vmax >= 2 * 1024 * 1024:
        return Axis("MiB", 1024 * 1024, " MiB")
    if vmax >= 2 * 1024:
        return Axis("KiB", 1024, " KiB")
    return Axis("bytes", 1, " B")


def count_axis(title: str, vmax: float) -> Axis:
    if vmax >= 1e6:
        return Axis(title, 1e6, "M")
    if vmax >= 2e3:
        return Axis(title, 1e3, "k")
    return Axis(title)


# --- colours -----------------------------------------------------------------------------------

def colours(names: list[str], fixed: dict[str, str]) -> dict[str, str]:
    """Each name's colour: from ``fixed`` when known, else chosen by a hash of the name among
    colours not yet used, so the names of one legend never share a colour."""
    out = {n: fixed[n] for n in names if n in fixed}
    used = set(out.values())
    spare = [*EXTRA_COLOURS, *(f"hsl({k * 47 % 360},55%,{(45, 62, 32)[k % 3]}%)" for k in range(len(names)))]
    for n in names:
        if n in out:
            continue
        i = zlib.crc32(n.encode()) % len(EXTRA_COLOURS)
        pick = next(c for c in spare[i:] + spare[:i] if c not in used)
        out[n] = pick
        used.add(pick)
    return out


def _ink(colour: str) -> str:
    """Dark text on a light fill, white on a dark one."""
    if not colour.startswith("#"):
        return "#111"
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"


def legend(cols: dict[str, str], extra: str = "") -> str:
    items = "".join(f'<span><i class="sw" style="background:{c}"></i>{escape(n)}</span>' for n, c in cols.items())
    return f'<div class="legend">{items}{extra}</div>'


def _text_width(s: str, px: float = 11) -> float:
    """About how wide ``s`` sets in the sans-serif of the page (capitals are wider)."""
    return sum(0.7 if c.isupper() else 0.3 if c in " .,:;'|()-ilfjtI1" else 0.58 for c in s) * px


# --- horizontal bar charts ---------------------------------------------------------------------

@dataclass
class Row:
    label: str
    segments: list[tuple[str, float, str]] = field(default_factory=list)
    """(name, value, colour), stacked left to right."""
    end: str = ""
    """Text after the bar (its total)."""
    heading: bool = False
    """A group title without a bar."""
    gap: bool = False
    """Extra space above the row (a new group)."""


@dataclass
class Marker:
    value: float
    label: str
    colour: str
    dash: str = ""
    rows: tuple[int, int] | None = None
    """First and last row the line spans (None: all); the label goes on the first, a heading."""


def hbars(title: str, rows: list[Row], axis: Axis, markers: Sequence[Marker] = (), segment_labels: Any = None,
          bar: int = 16, pitch: int = 22, width: int = 1100, key: str = "") -> str:
    """Horizontal (stacked) bars with a numeric axis, gridlines and tick values; each segment
    wide enough carries ``segment_labels(row, name, value)``; ``markers`` are vertical lines
    (limits, budgets) with their labels; ``key``: a legend (HTML) between title and plot."""
    left = min(320, max(90, max((_text_width(r.label) for r in rows if not r.heading), default=0) + 14))
    right = min(330, max((_text_width(r.end) for r in rows), default=0) + 12)
    top_markers = sorted((m for m in markers if m.rows is None), key=lambda m: m.value)
    vmax = max([sum(v for _, v, _ in r.segments) for r in rows] + [m.value for m in markers] + [0])
    ticks = axis.ticks(vmax or 1)
    span = ticks[-1] or 1
    plot_w = width - left - right
    label_lines = _marker_line_numbers(top_markers, lambda v: plot_w * v / span)
    top = 8 + 14 * (max(label_lines, default=-1) + 1)
    ys, y = [], top
    for r in rows:
        y += 8 if r.gap else 0
        ys.append(y)
        y += pitch
    plot_bottom = y
    height = plot_bottom + 34

    def x(v: float) -> float:
        return left + plot_w * v / span

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" role="img" '
           f'aria-label="{escape(title)}">']
    for t in ticks:
        out.append(f'<line class="grid" x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{plot_bottom}"/>'
                   f'<text class="tick" x="{x(t):.1f}" y="{plot_bottom + 14}" text-anchor="middle">{escape(axis.label(t))}</text>')
    out.append(f'<line class="axis" x1="{left}" y1="{plot_bottom}" x2="{x(span):.1f}" y2="{plot_bottom}"/>'
               f'<line class="axis" x1="{left}" y1="{top - 4}" x2="{left}" y2="{plot_bottom}"/>'
               f'<text class="tick" x="{left + plot_w / 2:.0f}" y="{plot_bottom + 29}" text-anchor="middle">{escape(axis.title)}</text>')
    ends: list[str] = []
    for r, y0 in zip(rows, ys):
        if r.heading:  # from the left edge: it may reach into the plot, where its row has no bar
            out.append(f'<text x="4" y="{y0 + bar - 4}" font-weight="600">{escape(r.label)}</text>')
        else:
            out.append(f'<text x="{left - 8}" y="{y0 + bar - 4}" text-anchor="end">{escape(r.label)}</text>')
        pos = 0.0
        for name, v, colour in r.segments:
            if v <= 0:
                continue
            x0, w = x(pos), x(pos + v) - x(pos)
            out.append(f'<rect x="{x0:.1f}" y="{y0}" width="{max(w, 0.5):.1f}" height="{bar}" fill="{colour}">'
                       f'<title>{escape(r.label)}: {escape(name)} {_num(v)}</title></rect>')
            text = segment_labels(r, name, v) if segment_labels else ""
            if text and _text_width(text) + 6 < w:
                out.append(f'<text x="{x0 + w / 2:.1f}" y="{y0 + bar - 4}" text-anchor="middle" '
                           f'style="fill:{_ink(colour)}">{escape(text)}</text>')
            pos += v
        if r.end:  # after the marker lines, over them
            ends.append(f'<text class="halo" x="{x(pos) + 5:.1f}" y="{y0 + bar - 4}">{escape(r.end)}</text>')
    for m, line in zip(top_markers, label_lines):
        out.append(_marker(m, x(m.value), top - 4, plot_bottom, 8 + 14 * line + 9))
    for m in markers:
        if m.rows is not None:
            a, b = m.rows
            out.append(_marker(m, x(m.value), ys[a] - 3, ys[b] + bar + 3, ys[a] + bar - 4, beside=True))
    out += ends
    out.append("</svg>")
    return f"<h3>{escape(title)}</h3>{key}" + "".join(out)


def _marker_line_numbers(markers: list[Marker], px: Any) -> list[int]:
    """Label line of each top marker (sorted by value): the next line down when it would overlap a
    label to its left."""
    lines: list[int] = []
    ends: dict[int, float] = {}
    for m in markers:
        start = px(m.value) - _text_width(m.label) / 2
        line = next(i for i in range(len(markers) + 1) if ends.get(i, -1e9) < start - 6)
        ends[line] = start + _text_width(m.label)
        lines.append(line)
    return lines


def _marker(m: Marker, x: float, y0: float, y1: float, label_y: float, beside: bool = False) -> str:
    x = round(x)  # a 2-pixel line on whole pixels: crisp, in its own colour
    dash = f' stroke-dasharray="{m.dash}"' if m.dash else ""
    anchor = 'x="{:.1f}"'.format(x + 4) if beside else f'x="{x:.1f}" text-anchor="middle"'
    return (f'<g class="marker"><line x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y1:.1f}" stroke="{m.colour}" '
            f'stroke-width="2"{dash}/><text class="halo" {anchor} y="{label_y:.1f}" style="fill:{m.colour}">'
            f'{escape(m.label)}</text></g>')


# --- the page ----------------------------------------------------------------------------------

def stack_label(r: dict[str, Any]) -> str:
    return f"{r['path']}/{r['kernels']}"


def stack_tag(r: dict[str, Any]) -> str:
    """What is real in a stack, in a few words: the column's subtitle."""
    path, kernels = r["path"], r["kernels"]
    if path == "tflm":
        text = "real TFLM + real CMSIS-NN" if kernels == "cmsis-nn" else "real TFLM, its reference kernels"
    elif kernels == "cmsis-nn":
        text = "real CMSIS-NN, mcusim's generated C"
    else:
        text = "mcusim's own"
    return f'<span class="tag {"real" if is_real(path, kernels) else "own"}">{escape(text)}</span>'


def _table(headers: list[str], rows: list[list[Any]], left_cols: int = 1) -> str:
    """``headers`` are HTML; cells are values (formatted and escaped) or :class:`Raw` HTML; the first
    ``left_cols`` columns are text, aligned left, the others numbers."""
    head = "".join(f'<th class="l">{h}</th>' if i < left_cols else f"<th>{h}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="l">{_cell(c)}</td>' if i < left_cols else f"<td>{_cell(c)}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f'<div class="wide"><table><tr>{head}</tr>{body}</table></div>'


class Raw(str):
    """Table cell text that is already HTML."""


def _cell(c: Any) -> str:
    return c if isinstance(c, Raw) else escape(_num(c))


def _ratio(v: float, base: float, baseline: bool) -> str:
    return "" if baseline or not base else f" ({v / base:.2f}x)"


def render_html(runs: list[dict[str, Any]], title: str, board: Board | None = None,
                budgets: dict[str, float] | None = None, skipped: list[dict[str, str]] | None = None) -> str:
    """One page for the reports of one model on one board (one per stack, the first the
    baseline of the ratios). ``board``: the part (default: the board the reports name);
    ``budgets``: ``max_flash``, ``max_ram``, ``max_latency_ms`` (as in ``mcusim check``) drawn as lines;
    ``skipped``: columns ``compare`` could not run, with the reason."""
    board = board or get_board(runs[0]["board"])
    budgets = budgets or {}
    names = [stack_label(r) for r in runs]
    scol = colours(names, STACK_COLOURS)
    heads = [Raw(f"{escape(n)}<br>{stack_tag(r)}") for n, r in zip(names, runs)]
    base = runs[0]
    h = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
         f"<style>{STYLE}</style></head><body>",
         f"<h1>{escape(title)}</h1>",
         f"<p class='meta'>{escape(board.title)} as <code>{escape(board.qualified_name)}</code>, running at "
         f"{board.op.clock_hz / 1e6:g} MHz: {_size(board.flash_size)} flash, {_size(board.ram_size)} RAM. "
         f"Every figure is measured by simulating "
         f"the built firmware (mcusim {__version__}); outputs checked against the int8 reference.</p>"]
    h.append(_table(["stack", "what runs on the target"],
                    [[Raw(f'<i class="sw" style="background:{scol[n]}"></i>{escape(n)} {stack_tag(r)}'),
                      r.get("stack", {}).get("description", "")] for n, r in zip(names, runs)], left_cols=2))
    for s in skipped or []:
        h.append(f"<p class='note'>{escape(s['column'])}: not run: {escape(s['reason'])}</p>")
    for n, r in zip(names, runs):
        lines = does_not_fit(r)
        if lines:
            h.append(f"<p class='dnf'><b>{escape(n)}: {escape(lines[0])}</b>"
                     + "".join(f"<br>{escape(x.strip())}" for x in lines[1:]) + "</p>")

    h.append("<h2>At a glance</h2>")
    h.append(_latency_chart(runs, names, scol, budgets))
    h.append(_use_chart(runs, names, scol, board, budgets))

    h.append("<h2>Summary</h2>")
    rows: list[list[Any]] = []
    for label, key, fmt in (("flash", "flash_bytes", lambda v: f"{_int(v)} B"),
                            ("peak RAM", "ram_peak_bytes", lambda v: f"{_int(v)} B"),
                            ("cycles / inference", "cycles", _int),
                            ("latency", "latency_ms", lambda v: f"{_g(v)} ms"),
                            ("energy / inference", "energy_uj", lambda v: f"{_g(v)} µJ")):
        rows.append([label] + [fmt(r[key]) + _ratio(r[key], base[key], i == 0) for i, r in enumerate(runs)])
    rows.append(["flash, % of the part"] + [_pct(r["flash_bytes"] / board.flash_size) for r in runs])
    rows.append(["peak RAM, % of the part"] + [_pct(r["ram_peak_bytes"] / board.ram_size) for r in runs])
    rows.append(["dispatch share"] + [_pct(r["dispatch_share"]) for r in runs])
    rows.append(["start-up (once)"] + [f"{_int(r['startup_cycles'])} cycles" + (f", {_g(r['startup_ms'])} ms"
                                       if r.get("startup_ms") else "") for r in runs])
    rows.append(["SMLAD-family share"] + [_pct(r["dsp_mac_share"]) for r in runs])
    for what in sorted({w for r in runs for w in r.get("placement", {})}):
        rows.append([f"{what} in region"] + [r.get("placement", {}).get(what, "-") for r in runs])
    h.append(_table([""] + heads, rows))
    h.append("<p class='note'>" + ("(0.43x): the ratio to the first column. " if len(runs) > 1 else "")
             + "Dispatch share: cycles outside the kernel functions (interpreter, glue, calls).</p>")

    if "end_to_end" in base:  # run --frontend (mcusim.dsp)
        from ..dsp.spec import frames_text

        e, fe = base["end_to_end"], base["frontend"]
        h.append(f"<h2>End to end per inference: {escape(fe['spec'].get('name', ''))} front-end + model</h2>")
        if len(runs) > 1 and all("end_to_end" in r for r in runs):  # compare --frontend: the sums per column
            h.append(_table([""] + heads, [[label] + [fmt(r["end_to_end"]["total"][key]) + _ratio(
                r["end_to_end"]["total"][key], e["total"][key], i == 0) for i, r in enumerate(runs)]
                for label, key, fmt in (("flash", "flash_bytes", lambda v: f"{_int(v)} B"),
                                        ("peak RAM", "ram_bytes", lambda v: f"{_int(v)} B"),
                                        ("cycles / inference", "cycles", _int),
                                        ("latency", "latency_ms", lambda v: f"{_g(v)} ms"),
                                        ("energy / inference", "energy_uj", lambda v: f"{_g(v)} µJ"))]))
        h.append(_table(["", "cycles", "latency", "energy", "flash", "RAM"], [
            [name, _int(row["cycles"]), f"{_g(row['latency_ms'])} ms", f"{_g(row['energy_uj'])} µJ",
             f"{_int(row['flash_bytes'])} B", f"{_int(row['ram_bytes'])} B"]
            for name, row in ((f"front-end ({frames_text(e['frontend_per_inference'])})",
                               e["frontend_per_inference"]), ("model" if len(runs) == 1 else f"model ({names[0]})",
                                                              e["model"]),
                              ("total" if len(runs) == 1 else f"total ({names[0]})", e["total"]))]))
        h.append(f"<p class='note'>Front-end: {escape(fe['spec']['kind'])} {escape(fe['spec']['dtype'])} on "
                 f"{escape(fe['library'])}, {_int(fe['cycles_per_frame'])} cycles a frame, "
                 f"{_pct(fe['real_time_factor'])} of each {_g(fe['hop_ms'])} ms hop. "
                 + escape("; ".join(e["notes"])) + ".</p>")

    if any("battery" in r for r in runs):
        h.append(_battery(runs, names, heads, scol))

    h.append("<h2>Flash and RAM by component</h2>")
    h.append(_components_chart("Flash by component", runs, names, "flash_breakdown", "flash_bytes", FLASH_COLOURS,
                               board.flash_size, budgets.get("max_flash")))
    h.append(_components_chart("Peak RAM by component", runs, names, "ram_breakdown", "ram_peak_bytes", RAM_COLOURS,
                               board.ram_size, budgets.get("max_ram")))
    comp_rows = [[f"flash: {c}"] + [_int(r["flash_breakdown"][c]) if c in r["flash_breakdown"] else "-" for r in runs]
                 for c in _order({c for r in runs for c in r["flash_breakdown"]}, FLASH_COLOURS)]
    comp_rows += [[f"RAM: {c}"] + [_int(r["ram_breakdown"].get(c, 0)) for r in runs]
                  for c in _order({c for r in runs for c, v in r["ram_breakdown"].items() if v}, RAM_COLOURS)]
    h.append(_table(["bytes"] + heads, comp_rows))

    if output_rows(base):
        h.append("<h2>Outputs</h2>")
        h.append(_table(["output", "shape, type and values"], [list(row) for row in output_rows(base)], left_cols=2))
        h.append("<p class='note'>" + ("The same in every column: " if len(runs) > 1 else "")
                 + "checked element by element against the int8 reference; the JSON report has every value.</p>")

    h.append("<h2>Per operator</h2>")
    h.append(_ops(runs, names, scol))
    h.append("<h2>Instruction mix</h2>")
    h.append(_mix(runs, names))
    fallbacks = [(n, f) for n, r in zip(names, runs) for f in r.get("fallbacks", [])]
    if fallbacks:
        h.append("<h2>Fallbacks</h2><ul>" + "".join(
            f"<li>{escape(n)}: op {f['index']} ({escape(f['type'])}) runs on {escape(str(f['used']))}: "
            f"{escape(str(f['reason']))}</li>" for n, f in fallbacks) + "</ul>")
    ref_code = [(n, line) for n, r in zip(names, runs) for line in ref_code_lines(r)]
    if ref_code:
        h.append("<h2>Reference code under the optimized flavour</h2><ul>" + "".join(
            f"<li>{escape(n)}: {escape(line)}</li>" for n, line in ref_code) + "</ul>")
    h.append("</body></html>\n")
    return "".join(h)


def _order(names: set[str], fixed: dict[str, str]) -> list[str]:
    """Known names in their map's order, then the others alphabetically."""
    return [n for n in fixed if n in names] + sorted(names - set(fixed))


def _latency_chart(runs: list[dict[str, Any]], names: list[str], scol: dict[str, str], budgets: dict[str, float]) -> str:
    base = runs[0]["latency_ms"]
    rows = [Row(n, [("latency", r["latency_ms"], scol[n])],
                f"{_g(r['latency_ms'])} ms{_ratio(r['latency_ms'], base, i == 0)} · {_int(r['cycles'])} cycles · "
                f"{_g(r['energy_uj'])} µJ") for i, (n, r) in enumerate(zip(names, runs))]
    markers = []
    if "max_latency_ms" in budgets:
        markers.append(Marker(budgets["max_latency_ms"], f"budget {budgets['max_latency_ms']:g} ms", BUDGET_COLOUR, "6 3"))
    clock = runs[0].get("clock_hz")
    return hbars(f"Latency per inference{f' at {clock / 1e6:g} MHz' if clock else ''}", rows, Axis("ms"), markers)


def _use_chart(runs: list[dict[str, Any]], names: list[str], scol: dict[str, str], board: Board,
               budgets: dict[str, float]) -> str:
    """Flash and peak RAM as % of the part, with the 70 % headroom rule, the part's size and budgets."""
    rows: list[Row] = []
    markers = [Marker(HEADROOM, f"{HEADROOM:.0%} headroom rule", HEADROOM_COLOUR, "6 3"),
               Marker(1.0, "100% of the part", PART_COLOUR)]
    for what, key, size, budget in (("flash", "flash_bytes", board.flash_size, budgets.get("max_flash")),
                                    ("peak RAM", "ram_peak_bytes", board.ram_size, budgets.get("max_ram"))):
        first = len(rows)
        rows.append(Row(f"{what} ({_size(size)})", heading=True, gap=bool(rows)))
        for n, r in zip(names, runs):
            rows.append(Row(n, [(what, r[key] / size, scol[n])], f"{_pct(r[key] / size)} ({_int(r[key])} B)"))
        if budget:
            markers.append(Marker(budget / size, f"budget {_size(budget)}", BUDGET_COLOUR, "2 2", (first, len(rows) - 1)))
    return hbars("Use of the part", rows, Axis("% of the part", 0.01, "%"), markers)


def _components_chart(title: str, runs: list[dict[str, Any]], names: list[str], key: str, total_key: str,
                      fixed: dict[str, str], part: int, budget: float | None) -> str:
    comps = _order({c for r in runs for c, v in r[key].items() if v}, fixed)
    cols = colours(comps, fixed)
    totals = [sum(r[key].get(c, 0) for c in comps) for r in runs]
    rows = [Row(n, [(c, r[key].get(c, 0), cols[c]) for c in comps],
                f"{_int(r[total_key])} B · {_pct(r[total_key] / part)} of the part")
            for n, r in zip(names, runs)]
    markers = []
    if budget:
        markers.append(Marker(budget, f"budget {_size(budget)}", BUDGET_COLOUR, "2 2"))
    reach = max(totals + [budget or 0, 1])
    note = ""
    if part <= 3 * reach:  # the part's lines fit without squashing the bars
        markers += [Marker(HEADROOM * part, f"{HEADROOM:.0%} of the part", HEADROOM_COLOUR, "6 3"),
                    Marker(part, f"part: {_size(part)}", PART_COLOUR)]
    else:
        note = (f"<p class='note'>The part's {_size(part)} ({HEADROOM:.0%}: {_size(HEADROOM * part)}) is off this "
                f"scale: see Use of the part.</p>")
    axis = bytes_axis(max(totals + [m.value for m in markers] + [1]))
    return hbars(f"{title} ({axis.title}, on the bars)", rows, axis, markers, key=legend(cols),
                 segment_labels=lambda row, c, v: f"{v / axis.scale:.3g}") + note


def _battery(runs: list[dict[str, Any]], names: list[str], heads: list[str], scol: dict[str, str]) -> str:
    bat = [r.get("battery") for r in runs]
    any_b = next(b for b in bat if b)
    cold = any_b["cold_start"]
    out = ["<h2>Battery life</h2>",
           f"<p>{any_b['inferences_per_day']:,.10g} inferences a day on a {any_b['battery_mah']:g} mAh battery, "
           f"sleeping at {any_b['sleep_current_ua']:g} µA in between; "
           + ("the part is powered down between inferences (<code>--cold</code>): every wake pays the start-up."
              if cold else "the part stays powered: the start-up is paid once (<code>--cold</code> pays it at every wake).")
           + " Self-discharge, regulator and sensor currents are not included.</p>"]

    def cells(f: Any) -> list[str]:
        return [f(b) if b else "-" for b in bat]

    rows = [["average current"] + cells(lambda b: f"{_g(b['average_current_ua'])} µA"),
            ["battery life"] + cells(lambda b: f"{b['battery_days']:,.1f} days ({b['battery_days'] / 365.25:.2f} years)"),
            ["active time a day"] + cells(lambda b: f"{_g(b['active_s_per_day'])} s"),
            ["cold-start share of the charge"] + cells(lambda b: _pct(b.get("cold_start_share", 0.0)) if b["cold_start"]
                                                       else "none (warm)")]
    out.append(_table([""] + heads, rows))
    brows = [Row(n, [("battery life", b["battery_days"], scol[n])],
                 f"{b['battery_days']:,.1f} days · {_g(b['average_current_ua'])} µA average")
             for n, b in zip(names, bat) if b]
    out.append(hbars("Battery life", brows, Axis("days")))
    return "".join(out)


def _ops(runs: list[dict[str, Any]], names: list[str], scol: dict[str, str]) -> str:
    by_run = [{o["index"]: o for o in r["ops"]} for r in runs]
    indices = sorted({i for b in by_run for i in b})
    rows = []
    for i in indices:
        o = next(b[i] for b in by_run if i in b)
        rows.append([i, Raw(f'{escape(o["type"])}<br><span class="sub">{escape(o["shape"])}</span>'), _int(o["macs"]),
                     _int(o["weights_bytes"]) if "weights_bytes" in o else "-",
                     _int(o["activation_bytes"]) if "activation_bytes" in o else "-"]
                    + [f"{_int(b[i]['cycles'])} ({_pct(b[i]['share'])})" if i in b and "share" in b[i]
                       else (_int(b[i]["cycles"]) if i in b else "folded") for b in by_run])
    if any("between_ops_cycles" in r for r in runs):
        rows.append(["", Raw('between ops<br><span class="sub">the framework</span>'), "", "", ""]
                    + [_int(r["between_ops_cycles"]) if "between_ops_cycles" in r else "-" for r in runs])
    out = [_table(["#", "op, shape", "MACs", "weights (B)", "activations (B)"] + [escape(n) for n in names], rows,
                  left_cols=2),
           "<p class='note'>Per stack: the op's cycles (its share of the inference), each stack's glue included; "
           "folded: the classic path removed a shape-only op. Weights: the op's constant tensors in the model; "
           "activations: its input and output tensors (what must be in RAM while it runs).</p>"]
    bars: list[Row] = []
    for i in indices:
        o = next(b[i] for b in by_run if i in b)
        first = True
        for n, b in zip(names, by_run):
            if i in b:
                bars.append(Row(f"{i} {o['type']}" if first else "", [(n, b[i]["cycles"], scol[n])],
                                _int(b[i]["cycles"]), gap=first and bool(bars)))
                first = False
    vmax = max((o["cycles"] for b in by_run for o in b.values()), default=1)
    out.append(hbars("Cycles per operator", bars, count_axis("cycles", vmax), bar=12, pitch=15, key=legend(scol)))
    first = {i: next(b[i] for b in by_run if i in b) for i in indices}
    if first and all("weights_bytes" in o for o in first.values()):
        mcol = {"weights": FLASH_COLOURS["weights"], "activations": RAM_COLOURS["arena"]}
        mem = [Row(f"{i} {o['type']}", [("weights", o["weights_bytes"], mcol["weights"]),
                                         ("activations", o["activation_bytes"], mcol["activations"])],
                   f"{_int(o['weights_bytes'])} + {_int(o['activation_bytes'])} B") for i, o in first.items()]
        axis = bytes_axis(max(o["weights_bytes"] + o["activation_bytes"] for o in first.values()))
        out.append(hbars(f"Tensor bytes per operator ({axis.title}, on the bars)", mem, axis, key=legend(mcol),
                         segment_labels=lambda row, c, v: f"{v / axis.scale:.3g}"))
    return "".join(out)


def _mix(runs: list[dict[str, Any]], names: list[str]) -> str:
    """Each class's own cycles, then the taken-branch refills and flash wait states the cost model
    counts apart: together they are the inference's cycles."""
    mixes = [{c: v["cycles"] for c, v in r["instruction_mix"].items()} for r in runs]
    for m, r in zip(mixes, runs):
        for name, key in EXTRA_CYCLES.items():
            if r.get(key):
                m[name] = r[key]
    fixed = {**MIX_COLOURS, **EXTRA_CYCLE_COLOURS}
    classes = _order({c for m in mixes for c in m}, fixed)
    cols = colours(classes, fixed)
    totals = [sum(m.values()) for m in mixes]
    rows = [Row(n, [(c, m.get(c, 0), cols[c]) for c in classes], f"{_int(t)} cycles")
            for n, m, t in zip(names, mixes, totals)]
    chart = hbars("Cycles of one inference by instruction class (share on the bars)", rows,
                  count_axis("cycles", max(totals + [1])), key=legend(cols),
                  segment_labels=lambda row, c, v: f"{v / sum(x for _, x, _ in row.segments):.0%}")
    table = _table(["class"] + [escape(n) for n in names], [[c] + [f"{_int(m[c])} ({_pct(m[c] / t)})" if c in m and t else "-"
                                              for m, t in zip(mixes, totals)] for c in classes])
    note = ("<p class='note'>Each class's own cycles; the pipeline refills of taken branches and the flash wait "
            "states are counted apart (docs/cost-model.md).</p>")
    return chart + table + note

