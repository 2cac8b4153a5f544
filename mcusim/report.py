"""Turning measurements into the JSON contract (docs/json-schema.md) and into rich tables.

Functions here build plain dicts; rendering and writing happen at the edge (cli.py).
Files are written atomically (temporary file + rename): an interrupted run never leaves a
half-written report.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .board import Board
from .elf import Elf
from .errors import McusimError
from .machine import RunResult, WindowStats


def memory_figures(elf: Elf) -> dict[str, Any]:
    return {
        "flash_bytes": elf.flash_bytes,
        "flash_sections": {s.name: s.size for s in elf.flash_sections()},
        "ram_static_bytes": elf.static_ram_bytes,
        "ram_sections": {s.name: s.size for s in elf.ram_sections()},
    }


def mix_dict(result: WindowStats) -> dict[str, dict[str, float]]:
    total = result.cycles or 1
    rows = sorted(result.instruction_mix.items(), key=lambda kv: -kv[1].cycles)
    return {
        cls: {"count": st.count, "cycles": st.cycles, "cycle_share": st.cycles / total}
        for cls, st in rows
    }


def dsp_mac_share(result: RunResult) -> float:
    """Share of executed instructions that are DSP multiply-accumulates (SMLAD and family)."""
    st = result.instruction_mix.get("dsp_mac")
    return (st.count / result.instructions) if st and result.instructions else 0.0


def sim_report(firmware: Path, board: Board, elf: Elf, result: RunResult) -> dict[str, Any]:
    """The JSON object of ``mcusim sim`` (schema ``mcusim.sim/1``)."""
    mem = memory_figures(elf)
    total = result.cycles or 1
    funcs = sorted(result.functions.items(), key=lambda kv: -kv[1].cycles)
    return {
        "schema": "mcusim.sim/1",
        "firmware": str(firmware),
        "board": board.qualified_name,
        "core": board.core,
        "clock_hz": board.op.clock_hz,
        "cycles": result.cycles,
        "instructions": result.instructions,
        "cpi": result.cycles / result.instructions if result.instructions else 0.0,
        "latency_ms": board.latency_ms(result.cycles),
        "energy_uj": board.energy_uj(result.cycles),
        "exit_code": result.exit_code,
        **mem,
        "ram_peak_bytes": mem["ram_static_bytes"] + result.stack_bytes,
        "ram_breakdown": {"static": mem["ram_static_bytes"], "stack": result.stack_bytes, "heap": 0},
        "functions": [
            {"name": n, "cycles": f.cycles, "instructions": f.instructions, "share": f.cycles / total}
            for n, f in funcs
        ],
        "instruction_mix": mix_dict(result),
        "dsp_mac_share": dsp_mac_share(result),
        "probes": [list(p) for p in result.probes],
    }


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory and a rename."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    except OSError as e:
        raise McusimError(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=2) + "\n")


def _kb(n: int) -> str:
    return f"{n:,} B ({n / 1024:.1f} KiB)"


def render_sim(console: Console, rep: dict[str, Any], top: int = 10) -> None:
    t = Table(title=f"{Path(rep['firmware']).name} on {rep['board']} ({rep['core']})", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("cycles", f"{rep['cycles']:,}")
    t.add_row("instructions", f"{rep['instructions']:,} (CPI {rep['cpi']:.2f})")
    t.add_row("latency", f"{rep['latency_ms']:.4f} ms at {rep['clock_hz'] / 1e6:g} MHz")
    t.add_row("energy", f"{rep['energy_uj']:.3f} µJ")
    t.add_row("flash", _kb(rep["flash_bytes"]))
    rb = rep["ram_breakdown"]
    t.add_row("RAM peak", f"{_kb(rep['ram_peak_bytes'])} = static {rb['static']:,} + stack {rb['stack']:,}")
    t.add_row("exit code", str(rep["exit_code"]))
    t.add_row("DSP MAC share", f"{rep['dsp_mac_share']:.1%} of instructions")
    console.print(t)

    f = Table(title=f"top functions by cycles")
    for col in ("function", "cycles", "instructions", "share"):
        f.add_column(col, justify="left" if col == "function" else "right", no_wrap=True)
    for row in rep["functions"][:top]:
        f.add_row(row["name"], f"{row['cycles']:,}", f"{row['instructions']:,}", f"{row['share']:.1%}")
    console.print(f)

    m = Table(title="instruction mix")
    for col in ("class", "count", "cycles", "cycle share"):
        m.add_column(col, justify="left" if col == "class" else "right")
    for cls, st in rep["instruction_mix"].items():
        m.add_row(cls, f"{st['count']:,}", f"{st['cycles']:,}", f"{st['cycle_share']:.1%}")
    console.print(m)


COMPARED = (
    ("flash_bytes", "flash (B)"),
    ("ram_peak_bytes", "peak RAM (B)"),
    ("cycles", "cycles / inference"),
    ("latency_ms", "latency (ms)"),
    ("energy_uj", "energy (µJ)"),
)


def compare_report(tinyml: dict[str, Any], classic: dict[str, Any]) -> dict[str, Any]:
    """Both paths' reports and the classic/tinyml ratio of each headline figure."""
    ratios = {key: (classic[key] / tinyml[key] if tinyml[key] else None) for key, _ in COMPARED}
    return {"schema": "mcusim.compare/1", "runs": [tinyml, classic], "ratio_classic_over_tinyml": ratios}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def render_run(console: Console, rep: dict[str, Any]) -> None:
    t = Table(title=f"{Path(rep.get('model', '')).name}: {rep['path']} path, {rep['kernels']} kernels, "
                    f"{rep['board']} ({rep['core']})", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("cycles / inference", f"{rep['cycles']:,}")
    t.add_row("latency", f"{rep['latency_ms']:.4f} ms at {rep['clock_hz'] / 1e6:g} MHz")
    t.add_row("energy / inference", f"{rep['energy_uj']:.3f} µJ")
    t.add_row("dispatch share", f"{rep['dispatch_share']:.1%} (outside kernel functions)")
    if "dispatch_breakdown" in rep:
        db = rep["dispatch_breakdown"]
        t.add_row("invoke split", f"framework {db['framework']:,}, kernel glue {db['kernel_glue']:,}, "
                                  f"kernels {db['kernels']:,} cycles")
    if rep.get("startup_cycles"):
        t.add_row("start-up (once)", f"{rep['startup_cycles']:,} cycles, {rep['startup_ms']:.4f} ms, {rep['startup_energy_uj']:.3f} µJ")
    if "tflm_arena_size" in rep:
        t.add_row("TFLM arena", f"kTensorArenaSize {rep['tflm_arena_size']:,} B (arena_used_bytes() "
                                f"{rep['tflm_arena_used_bytes']:,})")
    t.add_row("flash", f"{_kb(rep['flash_bytes'])}: " + ", ".join(f"{k} {v:,}" for k, v in rep["flash_breakdown"].items()))
    rb = rep["ram_breakdown"]
    t.add_row("RAM peak", f"{_kb(rep['ram_peak_bytes'])}: static {rb['static']:,}, arena {rb['arena']:,}, stack {rb['stack']:,}")
    t.add_row("SMLAD-family share", f"{rep['dsp_mac_share']:.1%} of instructions")
    console.print(t)
    ops = Table(title="per operator")
    for col in ("#", "op", "shape", "MACs", "cycles", "MAC/cycle", "share"):
        ops.add_column(col, justify="left" if col in ("op", "shape") else "right", no_wrap=True)
    for o in rep["ops"]:
        ops.add_row(str(o["index"]), o["type"], o["shape"], f"{o['macs']:,}", f"{o['cycles']:,}",
                    f"{o['macs_per_cycle']:.2f}", f"{o['share']:.1%}")
    if "between_ops_cycles" in rep:
        b = rep["between_ops_cycles"]
        ops.add_row("", "(between ops: framework)", "", "", f"{b:,}", "", f"{b / rep['cycles']:.1%}" if rep["cycles"] else "")
    console.print(ops)


def render_compare(console: Console, cmp: dict[str, Any]) -> None:
    tiny, classic = cmp["runs"]
    t = Table(title=f"{Path(tiny.get('model', '')).name} on {tiny['board']}: tinyml vs classic "
                    f"({tiny['kernels']}/{classic['kernels']} kernels)")
    for col in ("", "tinyml", "classic", "classic / tinyml"):
        t.add_column(col, justify="left" if not col else "right", no_wrap=True)
    for key, label in COMPARED:
        r = cmp["ratio_classic_over_tinyml"][key]
        t.add_row(label, _fmt(tiny[key]), _fmt(classic[key]), f"{r:.2f}" if r is not None else "-")
    t.add_row("dispatch share", f"{tiny['dispatch_share']:.1%}", f"{classic['dispatch_share']:.1%}", "")
    t.add_row("start-up cycles", f"{tiny['startup_cycles']:,}", f"{classic['startup_cycles']:,}", "")
    t.add_row("SMLAD-family share", f"{tiny['dsp_mac_share']:.1%}", f"{classic['dsp_mac_share']:.1%}", "")
    comps = sorted(set(tiny["flash_breakdown"]) | set(classic["flash_breakdown"]))
    for c in comps:
        t.add_row(f"  flash: {c}", _fmt(tiny["flash_breakdown"].get(c, 0)), _fmt(classic["flash_breakdown"].get(c, 0)), "")
    for c in ("static", "arena", "stack"):
        t.add_row(f"  RAM: {c}", _fmt(tiny["ram_breakdown"][c]), _fmt(classic["ram_breakdown"][c]), "")
    console.print(t)
    ops = Table(title="per operator (cycles, glue included)")
    for col in ("#", "op", "shape", "MACs", "tinyml", "classic", "classic MAC/cycle"):
        ops.add_column(col, justify="left" if col in ("op", "shape") else "right", no_wrap=True)
    by_index = {o["index"]: o for o in classic["ops"]}
    for o in tiny["ops"]:
        c = by_index.get(o["index"])
        ops.add_row(str(o["index"]), o["type"], o["shape"], f"{o['macs']:,}", f"{o['cycles']:,}",
                    f"{c['cycles']:,}" if c else "folded", f"{c['macs_per_cycle']:.2f}" if c else "")
    console.print(ops)
