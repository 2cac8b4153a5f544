"""The audio front-end's reports in the terminal: one frame (``mcusim frontend``) and the
end-to-end cost per inference of ``run --frontend`` (mcusim.dsp)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ..dsp.spec import frames_text


def _kb(n: float) -> str:
    return f"{n / 1024:.1f} KiB"


def _error(rep: dict[str, Any]) -> str:
    e = rep["error"]
    if e["equal"]:
        return f"bit-exact ({rep['output_format']})"
    unit = f"max {e['max_ulp_error']} ULP" if "max_ulp_error" in e else f"max {e['max_lsb_error']} LSB"
    return f"max |error| {e['max_abs_error']:.3g} ({unit} of {rep['output_format']})"


def render_frontend(console: Console, rep: dict[str, Any]) -> None:
    s = rep["spec"]
    what = (f"{s['kind']} {s['dtype']}: {s['frame_length']}-sample frames every {s['hop_length']} at {s['sample_rate']:,} Hz, "
            f"{s['fft_size']}-point FFT, {s['mel_bands']} mel bands"
            + (f", {s['coefficients']} coefficients" if s["kind"] == "mfcc" else ""))
    t = Table(title=f"{s.get('name', '')}: {what}, {rep['board']} ({rep['core']}, FPU {rep['fpu']})", show_header=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("cycles / frame", f"{rep['cycles_per_frame']:,} ({rep['instructions_per_frame']:,} instructions)")
    t.add_row("latency / frame", f"{rep['latency_ms_per_frame']:.4f} ms at {rep['clock_hz'] / 1e6:g} MHz")
    t.add_row("real-time factor", f"{rep['real_time_factor']:.2%} of the {rep['hop_ms']:g} ms hop")
    t.add_row("energy / frame", f"{rep['energy_uj_per_frame']:.3f} µJ")
    t.add_row("start-up (once)", f"{rep['startup_cycles']:,} cycles (instance init)")
    t.add_row("flash", f"{_kb(rep['flash_bytes'])}: tables {rep['tables_bytes']:,} B, code {rep['code_bytes']:,} B; "
                       + ", ".join(f"{k} {v:,}" for k, v in rep["flash_breakdown"].items()))
    rb = rep["ram_breakdown"]
    t.add_row("RAM peak", f"{_kb(rep['ram_peak_bytes'])}: buffers {rb['buffers']:,}, stack {rb['stack']:,}")
    t.add_row("input", rep["input"])
    shown = ", ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in rep["features"][:10])
    t.add_row("features", f"[{shown}{', ...' if len(rep['features']) > 10 else ''}] ({rep['output_format']})")
    t.add_row("vs cmsisdsp (host)", f"{_error(rep)}; tolerance {rep['tolerance']}: "
                                    + ("[green]within[/]" if rep["reference_match"] else "[bold red]OUTSIDE[/]"))
    console.print(t)
    top = Table(title="hottest functions")
    for col in ("function", "cycles", "share", "component"):
        top.add_column(col, justify="right" if col in ("cycles", "share") else "left")
    for f in rep["functions"][:8]:
        top.add_row(f["name"], f"{f['cycles']:,}", f"{f['cycles'] / rep['cycles_per_frame']:.1%}", f["component"])
    console.print(top)
    console.print(rep["library"], highlight=False, markup=False)


def render_end_to_end(console: Console, rep: dict[str, Any]) -> None:
    """The ``end_to_end`` section of a run report: model, front-end and their sum per inference."""
    e2e, fe = rep["end_to_end"], rep["frontend"]
    s = fe["spec"]
    f = e2e["frontend_per_inference"]
    t = Table(title=f"end to end per inference: {s.get('name', s['kind'])} ({s['kind']} {s['dtype']}, "
                    f"{frames_text(f)} x {fe['cycles_per_frame']:,} cycles) + model")
    for col in ("", "cycles", "latency ms", "energy µJ", "flash B", "RAM B"):
        t.add_column(col, justify="left" if not col else "right")
    for name, row in (("front-end", f), ("model", e2e["model"]), ("total", e2e["total"])):
        t.add_row(name, f"{row['cycles']:,}", f"{row['latency_ms']:.3f}", f"{row['energy_uj']:.2f}",
                  f"{row['flash_bytes']:,}", f"{row['ram_bytes']:,}", style="bold" if name == "total" else None)
    console.print(t)
    console.print(f"front-end: {fe['real_time_factor']:.2%} of each {fe['hop_ms']:g} ms hop; features vs cmsisdsp: "
                  f"{_error(fe)} (tolerance {fe['tolerance']})"
                  + ("" if fe["reference_match"] else ": [bold red]OUTSIDE the tolerance[/]"), highlight=False)
    for n in e2e["notes"]:
        console.print(f"  {n}", highlight=False, markup=False)


def frontend_html(rep: dict[str, Any]) -> str:
    """A self-contained HTML page of one front-end frame's report (``mcusim frontend --html``)."""
    from html import escape

    from .. import __version__
    from .html import STYLE, _table

    s = rep["spec"]
    title = f"{s.get('name', s['kind'])}: {s['kind']} {s['dtype']} on {rep['board']}"
    rb = rep["ram_breakdown"]
    rows = [["cycles / frame", f"{rep['cycles_per_frame']:,}"],
            ["latency / frame", f"{rep['latency_ms_per_frame']:.4f} ms at {rep['clock_hz'] / 1e6:g} MHz"],
            ["real-time factor", f"{rep['real_time_factor']:.2%} of the {rep['hop_ms']:g} ms hop"],
            ["energy / frame", f"{rep['energy_uj_per_frame']:.3f} µJ"],
            ["flash", f"{rep['flash_bytes']:,} B: tables {rep['tables_bytes']:,}, code {rep['code_bytes']:,}"],
            *[[f"flash: {k}", f"{v:,} B"] for k, v in rep["flash_breakdown"].items()],
            ["RAM peak", f"{rep['ram_peak_bytes']:,} B: buffers {rb['buffers']:,}, stack {rb['stack']:,}"],
            ["input", rep["input"]],
            ["vs cmsisdsp (host)", f"{_error(rep)}; tolerance {rep['tolerance']}: "
                                   + ("within" if rep["reference_match"] else "OUTSIDE")]]
    spec_rows = [[k, str(v)] for k, v in s.items()]
    funcs = [[f["name"], f"{f['cycles']:,}", f"{f['cycles'] / rep['cycles_per_frame']:.1%}", f["component"]]
             for f in rep["functions"][:12]]
    return "".join([
        (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
         f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"),
        (f"<p class='meta'>{escape(rep['core'])}, FPU {escape(rep['fpu'])}; {escape(rep['library'])}. Every figure "
         f"is measured by simulating the built firmware (mcusim {__version__}); features checked against the "
         "cmsisdsp Python package on the host.</p>"),
        "<h2>One frame</h2>", _table(["", ""], rows, left_cols=2),
        "<h2>Spec</h2>", _table(["key", "value"], spec_rows, left_cols=2),
        "<h2>Hottest functions</h2>", _table(["function", "cycles", "share", "component"], funcs),
        "</body></html>\n"])
