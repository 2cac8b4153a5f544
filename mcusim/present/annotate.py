"""The student view: disassembly of the hot code with, per instruction, its execution count,
class and share of the cycles (in the manner of ``perf annotate``), plus the instructions
that set the APSR Q flag (saturation / SMLAD accumulator overflow) in the run."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..simulator.elf import Elf
from ..simulator.result import RunResult, WindowStats


@dataclass
class AnnotatedLine:
    address: int
    count: int
    cycles: int
    cls: str
    text: str


def annotate(window: WindowStats, result: RunResult, elf: Elf, function: str | None = None,
             top: int = 3) -> dict[str, list[AnnotatedLine]]:
    """Per function (the named one, or the ``top`` hottest of the window), every instruction of
    the function that ran in the window, in address order."""
    funcs = [function] if function else [n for n, _ in sorted(window.functions.items(), key=lambda kv: -kv[1].cycles)[:top]]
    out: dict[str, list[AnnotatedLine]] = {}
    for name in funcs:
        lines = []
        for addr in sorted(window.insn_counts):
            if elf.function_at(addr) != name:
                continue
            count, cycles = window.insn_counts[addr]
            ins = result.insns[addr]
            lines.append(AnnotatedLine(addr, count, cycles, ins.cls, ins.text))
        out[name] = lines
    return out


def saturation_by_function(saturations: dict[int, int], elf: Elf, result: RunResult) -> dict[str, dict[str, int]]:
    """Q-flag setting executions, per function and mnemonic."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for addr, n in saturations.items():
        table[elf.function_at(addr)][result.insns[addr].mnemonic.split(".")[0]] += n
    return {f: dict(m) for f, m in table.items()}


def render(console: Console, title: str, window: WindowStats, blocks: dict[str, list[AnnotatedLine]],
           saturation: dict[str, dict[str, int]]) -> None:
    total = window.cycles or 1
    for name, lines in blocks.items():
        fcyc = sum(ln.cycles for ln in lines)
        t = Table(title=f"{title}: {name} — {fcyc:,} cycles ({fcyc / total:.1%} of the window)",
                  show_lines=False, pad_edge=False)
        for col in ("share", "count", "cycles", "class", "address", "instruction"):
            t.add_column(col, justify="right" if col in ("share", "count", "cycles") else "left", no_wrap=True)
        for ln in lines:
            share = ln.cycles / total
            style = "bold" if share >= 0.02 else ("dim" if ln.count == 0 else None)
            t.add_row(f"{share:.1%}", f"{ln.count:,}", f"{ln.cycles:,}", ln.cls, f"{ln.address:08x}", escape(ln.text), style=style)
        console.print(t)
    if saturation:
        s = Table(title="instructions that set the Q flag (saturation / accumulator overflow), whole run")
        for col in ("function", "instruction", "events"):
            s.add_column(col)
        for func, mn in sorted(saturation.items()):
            for m, n in sorted(mn.items()):
                s.add_row(func, m, f"{n:,}")
        console.print(s)
    else:
        console.print("no instruction set the Q flag in this run (no saturation, no SMLAD overflow)")
