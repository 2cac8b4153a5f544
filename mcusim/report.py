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
