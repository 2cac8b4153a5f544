"""Turning measurements into the JSON contract (docs/json-schema.md) and into rich tables.

Functions here build plain dicts; rendering and writing happen at the edge (cli.py).
Files are written atomically (temporary file + rename): an interrupted run never leaves a
half-written report.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..analysis.oversize import summary as does_not_fit
from ..errors import McusimError
from ..fileio import write_atomic
from ..simulator.board import Board
from ..simulator.elf import Elf
from ..simulator.result import RunResult, WindowStats


def memory_figures(elf: Elf) -> dict[str, Any]:
    return {
        "flash_bytes": elf.flash_bytes,
        "flash_sections": {s.name: s.size for s in elf.flash_sections()},
        "ram_static_bytes": elf.static_ram_bytes,
        "ram_sections": {s.name: s.size for s in elf.ram_sections()},
        "ram_reserved": {s.name: s.size for s in elf.reserved_sections()},
    }


def mix_dict(result: WindowStats) -> dict[str, dict[str, float]]:
    total = result.cycles or 1
    rows = sorted(result.instruction_mix.items(), key=lambda kv: -kv[1].cycles)
    return {
        cls: {"count": st.count, "cycles": st.cycles, "cycle_share": st.cycles / total}
        for cls, st in rows
    }


def dsp_mac_share(result: WindowStats) -> float:
    """Share of executed instructions that are DSP multiply-accumulates (SMLAD and family)."""
    st = result.instruction_mix.get("dsp_mac")
    return (st.count / result.instructions) if st and result.instructions else 0.0


def sim_report(firmware: Path, board: Board, elf: Elf, result: RunResult,
               window: WindowStats | None = None, window_spec: str | None = None) -> dict[str, Any]:
    """The JSON object of ``mcusim sim`` (schema ``mcusim.sim/1``). With a ``window`` the
    timing figures (cycles to mix) are the window's, summed over its occurrences."""
    mem = memory_figures(elf)
    w = window if window is not None else result
    total = w.cycles or 1
    funcs = sorted(w.functions.items(), key=lambda kv: -kv[1].cycles)
    rep: dict[str, Any] = {
        "schema": "mcusim.sim/1",
        "firmware": str(firmware),
        "board": board.qualified_name,
        "core": board.core,
        "clock_hz": board.op.clock_hz,
        "cycles": w.cycles,
        "instructions": w.instructions,
        "cpi": w.cycles / w.instructions if w.instructions else 0.0,
        "latency_ms": board.latency_ms(w.cycles),
        "energy_uj": board.energy_uj(w.cycles),
        "taken_branches": w.taken_branches,
        "branch_refill_cycles": w.refill_cycles,
        "wait_state_cycles": w.stall_cycles,
        "exit_code": result.exit_code,
        "stop": result.stop,
        "stdout": result.stdout.decode("utf-8", errors="replace"),
        "stderr": result.stderr.decode("utf-8", errors="replace"),
        "output_truncated": result.output_truncated,
        **mem,
        "ram_peak_bytes": mem["ram_static_bytes"] + result.heap_bytes + result.stack_bytes,
        "ram_breakdown": {"static": mem["ram_static_bytes"], "heap": result.heap_bytes, "stack": result.stack_bytes},
        "heap_top": result.heap_top,
        "functions": [
            {"name": n, "cycles": f.cycles, "instructions": f.instructions, "calls": f.calls, "share": f.cycles / total}
            for n, f in funcs
        ],
        "instruction_mix": mix_dict(w),
        "dsp_mac_share": dsp_mac_share(w),
        "flash_stalls": {
            "fetch": w.fetch_stall_cycles,
            "data": w.data_stall_cycles,
            "unresolved_load_executions": result.machine.unresolved_load_executions if result.machine else 0,
        },
        "probes": [list(p) for p in result.probes],
    }
    if window is not None:
        rep["window"] = {"spec": window_spec, "occurrences": len(window.occurrences), "cycles_each": window.occurrences,
                         "run_cycles": result.cycles, "run_instructions": result.instructions}
    return rep


COMMAND_LINE: list[str] | None = None
"""The command line recorded in JSON reports; ``cli.main`` sets it (None: ``sys.argv``)."""


def provenance() -> dict[str, Any]:
    """What every JSON report file records about its making: the mcusim version and the
    command line (``argv``: ``mcusim`` and its arguments)."""
    from .. import __version__

    argv = COMMAND_LINE if COMMAND_LINE is not None else ["mcusim", *sys.argv[1:]]
    return {"version": __version__, "argv": list(argv)}


def json_text(obj: Any) -> str:
    """``obj`` as the text of a JSON report: stamped with :func:`provenance` under ``mcusim``."""
    if isinstance(obj, dict):
        obj = {**obj, "mcusim": provenance()}
    return json.dumps(obj, indent=2) + "\n"


def write_json(path: Path | str, obj: Any) -> None:
    """The one writer of JSON reports: to ``path`` atomically, or to standard output when
    ``path`` is ``-``; stamped with the mcusim version and command line (:func:`json_text`)."""
    write_text(path, json_text(obj))


def write_text(path: Path | str, text: str) -> None:
    """A report file (JSON, Markdown, JUnit, CSV, SVG, HTML): atomically, or to standard
    output when ``path`` is ``-``."""
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(Path(path), text)


def check_output_path(path: Path | str) -> None:
    """Refuse, before any work, an output path that cannot be written (``-`` is stdout)."""
    if str(path) == "-":
        return
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        raise McusimError(f"{path}: is a directory, not a file to write")
    if not parent.is_dir():
        raise McusimError(f"{path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise McusimError(f"{path}: cannot write in directory {parent} (permission denied)")
    if path.exists() and not path.is_file():
        raise McusimError(f"{path}: exists and is not a regular file")


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
    if "window" in rep:
        win = rep["window"]
        t.add_row("window", f"{win['spec']}: {win['occurrences']:,} time(s); whole run {win['run_cycles']:,} cycles")
    t.add_row("taken branches", f"{rep['taken_branches']:,} (refill {rep['branch_refill_cycles']:,} cycles)")
    t.add_row("flash wait states", f"{rep['wait_state_cycles']:,} cycles")
    rb = rep["ram_breakdown"]
    t.add_row("RAM peak", f"{_kb(rep['ram_peak_bytes'])} = static {rb['static']:,} + heap {rb['heap']:,} + stack {rb['stack']:,}")
    t.add_row("exit code", f"{rep['exit_code']} ({rep['stop']})")
    t.add_row("DSP MAC share", f"{rep['dsp_mac_share']:.1%} of instructions")
    console.print(t)

    f = Table(title="top functions by cycles")
    for col in ("function", "calls", "cycles", "instructions", "share"):
        f.add_column(col, justify="left" if col == "function" else "right", no_wrap=True)
    for row in rep["functions"][:top]:
        f.add_row(row["name"], f"{row['calls']:,}", f"{row['cycles']:,}", f"{row['instructions']:,}", f"{row['share']:.1%}")
    console.print(f)

    m = Table(title="instruction mix")
    for col in ("class", "count", "cycles", "cycle share"):
        m.add_column(col, justify="left" if col == "class" else "right")
    for cls, st in rep["instruction_mix"].items():
        m.add_row(cls, f"{st['count']:,}", f"{st['cycles']:,}", f"{st['cycle_share']:.1%}")
    total = rep["cycles"] or 1
    for label, count, cycles in (("(taken-branch refills)", rep["taken_branches"], rep["branch_refill_cycles"]),
                                 ("(flash wait states)", None, rep["wait_state_cycles"])):
        if cycles:
            m.add_row(label, "" if count is None else f"{count:,}", f"{cycles:,}", f"{cycles / total:.1%}")
    console.print(m)


COMPARED = (
    ("flash_bytes", "flash (B)"),
    ("ram_peak_bytes", "peak RAM (B)"),
    ("cycles", "cycles / inference"),
    ("latency_ms", "latency (ms)"),
    ("energy_uj", "energy (µJ)"),
)


def compare_report(runs: list[dict[str, Any]], skipped: list[dict[str, str]] | None = None,
                   labels: list[str] | None = None) -> dict[str, Any]:
    """Several stacks' reports of one model on one board, and the ratio of each headline
    figure against the first (the baseline: real TFLM + CMSIS-NN by default). ``labels``: the
    columns' names (default ``path/kernels``; models compared with ``--against`` add the file)."""
    from ..stacks import label

    labels = labels or [label(r["path"], r["kernels"]) for r in runs]
    base = runs[0]
    ratios = {lab: {key: (r[key] / base[key] if base[key] else None) for key, _ in COMPARED}
              for lab, r in zip(labels, runs)}
    out = {"schema": "mcusim.compare/2", "baseline": labels[0], "columns": labels, "runs": runs,
           "ratios": ratios, "skipped": list(skipped or [])}
    if all("end_to_end" in r for r in runs):  # compare --frontend: the model's and the front-end's sums
        bt = base["end_to_end"]["total"]
        out["end_to_end_ratios"] = {lab: {key: (r["end_to_end"]["total"][E2E_KEYS[key]] / bt[E2E_KEYS[key]]
                                                if bt[E2E_KEYS[key]] else None) for key, _ in COMPARED}
                                    for lab, r in zip(labels, runs)}
    return out


E2E_KEYS = {"flash_bytes": "flash_bytes", "ram_peak_bytes": "ram_bytes", "cycles": "cycles",
            "latency_ms": "latency_ms", "energy_uj": "energy_uj"}
"""A run report's headline figure -> its name in ``end_to_end.total``."""


def end_to_end_rows(cmp: dict[str, Any]) -> tuple[str, list[tuple[str, list[str]]]]:
    """compare --frontend: a title and (figure, one cell per column) of the model-plus-front-end
    sums, with the ratios against the baseline column; no rows without a front-end."""
    if "end_to_end_ratios" not in cmp:
        return "", []
    from ..dsp.spec import frames_text

    first = cmp["runs"][0]
    spec, per = first["frontend"]["spec"], first["end_to_end"]["frontend_per_inference"]
    title = (f"end to end per inference: model + {spec.get('name', spec['kind'])} front-end ({spec['kind']} "
             f"{spec['dtype']}, {frames_text(per)}: {per['cycles']:,} cycles, the same in every column)")
    rows = []
    for key, name in COMPARED:
        cells = []
        for lab, r in zip(cmp["columns"], cmp["runs"]):
            ratio = cmp["end_to_end_ratios"][lab][key]
            cells.append(_fmt(r["end_to_end"]["total"][E2E_KEYS[key]])
                         + ("" if lab == cmp["baseline"] or ratio is None else f" ({ratio:.2f}x)"))
        rows.append((name, cells))
    return title, rows


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


BATTERY_ROWS = (
    ("average current", lambda b: f"{b['average_current_ua']:.4g} µA"),
    ("battery life", lambda b: f"{b['battery_days']:,.1f} days ({b['battery_days'] / 365.25:.2f} years)"),
    ("cold-start share", lambda b: f"{b.get('cold_start_share', 0.0):.1%} of the charge" if b["cold_start"]
     else "none (start-up once)"),
)
"""The duty-cycle rows of ``run`` and ``compare`` (``--duty``, ``--battery``)."""


OUTPUT_VALUES_SHOWN = 8
"""Values of each output tensor the terminal and HTML reports print (the JSON has them all)."""


REGRESSION_DIFFERENCES_SHOWN = 10
"""A classic regressor's run: how many differing predictions the table prints (largest first)."""


def output_rows(rep: dict[str, Any]) -> list[tuple[str, str]]:
    """One (what, values) pair per output tensor of a run report, in the model's output order:
    ``output 1 'name'``, ``1x3 FLOAT32: [0.25, ...]`` (the first OUTPUT_VALUES_SHOWN values).
    Reports written before ``output_tensors`` existed name only the index."""
    tensors = rep.get("output_tensors") or [None] * len(rep.get("outputs", []))
    rows = []
    for k, (values, t) in enumerate(zip(rep.get("outputs", []), tensors)):
        shown = ", ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in values[:OUTPUT_VALUES_SHOWN])
        more = f", ... ({len(values)} values)" if len(values) > OUTPUT_VALUES_SHOWN else ""
        kind = f"{'x'.join(map(str, t['shape']))} {t['dtype']}: " if t else ""
        name = t["name"] if t and len(t["name"]) <= 40 else (t["name"][:39] + "…" if t else "")
        rows.append((f"output {k}" + (f" {name!r}" if t else ""), f"{kind}[{shown}{more}]"))
    return rows


def render_run(console: Console, rep: dict[str, Any]) -> None:
    t = Table(title=f"{Path(rep.get('model', '')).name}: {rep['path']} path, {rep['kernels']} kernels, "
                    f"{rep['board']} ({rep['core']})", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("cycles / prediction" if "predictions" in rep else "cycles / inference", f"{rep['cycles']:,}")
    t.add_row("latency", f"{rep['latency_ms']:.4f} ms at {rep['clock_hz'] / 1e6:g} MHz")
    t.add_row("energy / prediction" if "predictions" in rep else "energy / inference", f"{rep['energy_uj']:.3f} µJ")
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
    if rep.get("placement"):
        t.add_row("placement", ", ".join(f"{what} in {where}" for what, where in rep["placement"].items()))
    t.add_row("SMLAD-family share", f"{rep['dsp_mac_share']:.1%} of instructions")
    if "battery" in rep:
        b = rep["battery"]
        t.add_row("duty cycle", f"{b['inferences_per_day']:,.10g} inferences a day, {b['battery_mah']:g} mAh, sleep "
                                f"{b['sleep_current_ua']:g} µA" + (", start-up at every wake (--cold)" if b["cold_start"] else ""))
        for name, cell in BATTERY_ROWS:
            t.add_row(name, cell(b))
    if "predictions" in rep:  # a classic ML model (mcusim.classicml): figures per prediction
        pc = rep["prediction_cycles"]
        t.add_row("predictions", f"{rep['predictions']:,} samples, {rep['cycles_total']:,} cycles in all; "
                                 f"per prediction {min(pc):,}..{max(pc):,} cycles")
        t.add_row("vs reference", f"{rep['predictions'] - len(rep['prediction_mismatches'])} of {rep['predictions']} "
                                  f"equal to {rep['reference']}" + (
                                      f" (as float32); max abs error {rep['max_abs_error']:.3g}"
                                      if "max_abs_error" in rep else ""))
    for what, values in output_rows(rep):
        t.add_row(what, values)
    console.print(t)
    if "predictions" in rep:
        shown = rep["prediction_mismatches"]
        if "max_abs_error" in rep:  # a regressor: the largest differences first, the rest counted
            shown = sorted(shown, key=lambda m: -abs(m["mcu"] - m["reference"]))[:REGRESSION_DIFFERENCES_SHOWN]
        for m in shown:
            console.print(f"[bold red]sample {m['sample']}: MCU {m['mcu']}, reference {m['reference']} "
                          f"(features {m['features']})[/]", highlight=False)
        if len(shown) < len(rep["prediction_mismatches"]):
            console.print(f"[bold red]... and {len(rep['prediction_mismatches']) - len(shown)} more samples that "
                          "differ by less (every one in the JSON report's prediction_mismatches)[/]", highlight=False)
        console.print(f"{rep['stack']['label']}: {rep['stack']['description']}", highlight=False, markup=False,
                      soft_wrap=True)
        return
    ops = Table(title="per operator")
    named = any("kernel" in o for o in rep["ops"])
    for col in ("#", "op", "shape", "MACs", "cycles", "MAC/cycle", "share", *(("kernel",) if named else ())):
        ops.add_column(col, justify="left" if col in ("op", "shape", "kernel") else "right", no_wrap=True)
    for o in rep["ops"]:
        ops.add_row(str(o["index"]), o["type"], o["shape"], f"{o['macs']:,}", f"{o['cycles']:,}",
                    f"{o['macs_per_cycle']:.2f}", f"{o['share']:.1%}", *((o.get("kernel", ""),) if named else ()))
    if "between_ops_cycles" in rep:
        b = rep["between_ops_cycles"]
        ops.add_row("", "(between ops: framework)", "", "", f"{b:,}", "", f"{b / rep['cycles']:.1%}" if rep["cycles"] else "",
                    *(("",) if named else ()))
    console.print(ops)
    if "stack" in rep:
        console.print(f"{rep['stack']['label']}: {rep['stack']['description']}", highlight=False, markup=False,
                      soft_wrap=True)
    render_fallbacks(console, rep)
    render_ref_code(console, rep)
    if "end_to_end" in rep:  # run --frontend (mcusim.dsp)
        from .frontend import render_end_to_end

        render_end_to_end(console, rep)


def render_fallbacks(console: Console, rep: dict[str, Any]) -> None:
    """One line per op that a cmsis-nn run could not give to CMSIS-NN."""
    for f in rep.get("fallbacks", []):
        console.print(f"fallback: op {f['index']} ({f['type']}) runs on {f['used']}: {f['reason']}",
                      highlight=False, markup=False, soft_wrap=True)


def ref_code_lines(rep: dict[str, Any]) -> list[str]:
    """One line per reason for the ops that ran reference code although mcusim's optimized
    kernels were linked (``ref_code`` of the op entries; the hand-overs are fallback lines
    already, and a core without the DSP extension is said by the stack's description)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for o in rep["ops"]:
        ref = o.get("ref_code")
        if ref and ref["cause"] != "handover" and not (rep.get("kernels") == "opt" and ref["cause"] == "no-dsp"):
            groups.setdefault(ref["reason"], []).append(o)
    return [f"reference code: op{'s' if len(ops) > 1 else ''} {', '.join(str(o['index']) for o in ops)} "
            f"({', '.join(dict.fromkeys(o['type'] for o in ops))}): {reason}" for reason, ops in groups.items()]


def render_ref_code(console: Console, rep: dict[str, Any]) -> None:
    for line in ref_code_lines(rep):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def render_compare(console: Console, cmp: dict[str, Any]) -> None:
    runs, labels = cmp["runs"], cmp["columns"]
    first = runs[0]
    t = Table(title=f"{Path(first.get('model', '')).name} on {first['board']}: ratios against {cmp['baseline']}")
    t.add_column("")
    for lab in labels:
        t.add_column(lab, justify="right", no_wrap=True)
    for key, name in COMPARED:
        cells = []
        for lab, r in zip(labels, runs):
            ratio = cmp["ratios"][lab][key]
            cells.append(_fmt(r[key]) + ("" if lab == cmp["baseline"] or ratio is None else f" ({ratio:.2f}x)"))
        t.add_row(name, *cells)
    t.add_row("dispatch share", *(f"{r['dispatch_share']:.1%}" for r in runs))
    t.add_row("start-up cycles", *(f"{r['startup_cycles']:,}" for r in runs))
    t.add_row("SMLAD-family share", *(f"{r['dsp_mac_share']:.1%}" for r in runs))
    for c in sorted({c for r in runs for c in r["flash_breakdown"]}):
        t.add_row(f"  flash: {c}", *(_fmt(r["flash_breakdown"].get(c, 0)) for r in runs))
    for c in ("static", "arena", "stack", "heap"):
        if any(r["ram_breakdown"].get(c) for r in runs):
            t.add_row(f"  RAM: {c}", *(_fmt(r["ram_breakdown"].get(c, 0)) for r in runs))
    for what in sorted({w for r in runs for w in r.get("placement", {})}):
        t.add_row(f"  in region: {what}", *(r.get("placement", {}).get(what, "-") for r in runs))
    bat = next((r["battery"] for r in runs if "battery" in r), None)
    if bat:
        t.add_section()
        t.add_row(f"battery: {bat['inferences_per_day']:,.10g}/day, {bat['battery_mah']:g} mAh", *("" for _ in runs))
        for name, cell in (("sleep current", lambda b: f"{b['sleep_current_ua']:g} µA"), *BATTERY_ROWS):
            t.add_row(f"  {name}", *(cell(r["battery"]) if "battery" in r else "-" for r in runs))
    console.print(t)
    title, rows = end_to_end_rows(cmp)
    if rows:
        e = Table(title=title)
        e.add_column("")
        for lab in labels:
            e.add_column(lab, justify="right", no_wrap=True)
        for name, cells in rows:
            e.add_row(name, *cells)
        console.print(e)
    for lab, r in zip(labels, runs):
        console.print(f"  {lab}: {r['stack']['description']}" if "stack" in r else f"  {lab}", highlight=False)
        render_fallbacks(console, r)
        render_ref_code(console, r)
    for s in cmp["skipped"]:
        console.print(f"  {s['column']}: not run: {s['reason']}", highlight=False)
    ops = Table(title="per operator (cycles, glue included)")
    for col in ("#", "op", "shape", "MACs", *labels):
        ops.add_column(col, justify="left" if col in ("op", "shape") else "right", no_wrap=True)
    by_run = [{o["index"]: o for o in r["ops"]} for r in runs]
    for i in sorted({i for b in by_run for i in b}):
        o = next(b[i] for b in by_run if i in b)
        ops.add_row(str(i), o["type"], o["shape"], f"{o['macs']:,}",
                    *(f"{b[i]['cycles']:,}" if i in b else "folded" for b in by_run))
    console.print(ops)
    for what, values in output_rows(runs[0]):
        console.print(f"{what} (every column, checked against the reference): {values}", highlight=False,
                      markup=False, soft_wrap=True)


def compare_markdown(cmp: dict[str, Any]) -> str:
    """The headline table of ``compare`` as Markdown (for a pull request or docs/)."""
    runs, labels = cmp["runs"], cmp["columns"]
    first = runs[0]
    out = [f"{Path(first.get('model', '')).name} on {first['board']} (ratios against {cmp['baseline']})", "",
           "| | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for key, name in COMPARED:
        cells = []
        for lab, r in zip(labels, runs):
            ratio = cmp["ratios"][lab][key]
            cells.append(_fmt(r[key]) + ("" if lab == cmp["baseline"] or ratio is None else f" ({ratio:.2f}x)"))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append("| dispatch share | " + " | ".join(f"{r['dispatch_share']:.1%}" for r in runs) + " |")
    title, rows = end_to_end_rows(cmp)
    if rows:
        out += ["", title[0].upper() + title[1:], "", "| | " + " | ".join(labels) + " |",
                "|---|" + "---:|" * len(labels)]
        out += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
    out.append("")
    for lab, r in zip(labels, runs):
        out.append(f"- `{lab}`: {r['stack']['description']}" if "stack" in r else f"- `{lab}`")
    for s in cmp["skipped"]:
        out.append(f"- `{s['column']}` not run: {s['reason']}")
    for lab, r in zip(labels, runs):
        lines = does_not_fit(r)
        if lines:
            out.append(f"- **`{lab}`: {lines[0]}**: " + "; ".join(x.strip() for x in lines[1:]))
    return "\n".join(out) + "\n"
