"""The command line: ``main(argv) -> exit code`` over functions that return data.

Every domain error is a :class:`mcusim.errors.McusimError`, caught here once and shown as one
line (``error: ...``) with the error's exit code; Ctrl-C exits 130 and leaves no partial file.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__, interrupts
from .errors import McusimError
from .simulator.board import get_board, parse_place


def _int_with_suffix(text: str) -> int:
    t = text.strip().upper().replace("_", "")
    mult = 1
    for suffix, m in (("K", 1024), ("M", 1024 * 1024), ("G", 1024**3)):
        if t.endswith(suffix):
            t, mult = t[:-1], m
            break
    try:
        return int(float(t) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _board(spec: str, place: str | None = None):  # noqa: ANN202 - a Board
    """The board of ``--board`` (a name, NAME@OP or a TOML file) with ``--place`` applied."""
    board = get_board(spec)
    return parse_place(place, board) if place else board


def cmd_boards(args: argparse.Namespace, console: Console) -> int:
    from .api import boards

    t = Table(title="board profiles (mcusim/simulator/boards/*.toml, sources in docs/boards.md)")
    for col in ("board@op", "core", "clock", "WS", "flash", "RAM", "run current", "VDD", "sleep"):
        t.add_column(col, no_wrap=True)
    parts = boards()
    for b in parts:
        for op in b.operating_points:
            t.add_row(
                f"{b.name}@{op.name}", b.core, f"{op.clock_hz / 1e6:g} MHz", str(op.flash_wait_states),
                f"{b.flash_size // 1024} KiB", f"{b.ram_size // 1024} KiB",
                f"{op.run_current_ua / 1000:.2f} mA", f"{op.supply_v:g} V",
                "-" if b.sleep_current_ua is None else f"{b.sleep_current_ua:g} µA",
            )
    console.print(t)
    c = Table(title="flash interface: what instruction fetches and data loads from flash pay "
                    "(wait states per operating point in the table above)")
    for col in ("board", "wait states by operating point", "instruction cache", "flash read", "data cache"):
        c.add_column(col, no_wrap=col != "wait states by operating point")
    for b in parts:
        fi = b.flash_interface
        ws = ", ".join(f"{op.name} {op.flash_wait_states}" for op in b.operating_points)
        icache = (f"{b.icache_lines} x {b.icache_line_bytes} B lines" if b.icache_lines else "none")
        dcache = ("none: every flash read unit a load touches pays the wait states" if not fi.dcache_lines else
                  f"{fi.dcache_lines} x {fi.dcache_line_bytes} B lines, "
                  + (f"{fi.dcache_ways}-way" if fi.dcache_ways else "fully associative") + ", LRU")
        c.add_row(b.name, ws, icache, f"{fi.read_bytes} B", dcache)
    console.print(c)
    r = Table(title="memory regions (--place WHAT=REGION; default placement marked)")
    for col in ("board", "region", "kind", "origin", "size", "wait states", "default placement"):
        r.add_column(col, no_wrap=True)
    for b in parts:
        for reg in b.regions:
            name = "flash" if reg in b.flash_regions else reg.name
            here = [w for w, where in b.placement.items() if name in where]
            aliases = "".join(f", 0x{a:08x}" for a in reg.aliases)
            r.add_row(b.name, reg.name, reg.kind, f"0x{reg.origin:08x}{aliases}", f"{reg.size // 1024} KiB",
                      "per op" if reg.kind == "flash" else str(reg.wait_states), ", ".join(here))
    console.print(r)
    return 0


def cmd_sim(args: argparse.Namespace, console: Console) -> int:
    from .api import sim
    from .present.report import render_sim, write_json

    # Semihosting output goes to the terminal as the firmware writes it (to stderr when
    # stdout carries the JSON report).
    streams = {1: sys.stderr if args.json == "-" else sys.stdout, 2: sys.stderr}

    def on_output(stream: int, data: bytes) -> None:
        out = streams[stream]
        try:
            out.flush()
            out.buffer.write(data)
            out.buffer.flush()
        except (OSError, ValueError, AttributeError):
            streams[stream] = _Discard()  # a closed pipe: keep running, the JSON still has it

    r = sim(args.firmware, board=args.board, window=args.window, max_instructions=args.max_instructions,
            on_output=on_output)
    if args.json:
        write_json(args.json, r.report)
    render_sim(console, r.report)
    return (r.exit_code & 0xFF) if args.exit_code else 0


class _Discard:
    def flush(self) -> None:
        return None

    @property
    def buffer(self) -> "_Discard":
        return self

    def write(self, data: bytes) -> int:
        return len(data)


def cmd_bench(args: argparse.Namespace, console: Console) -> int:
    from dataclasses import asdict

    from .present.report import write_json
    from .simulator.bench import run_bench

    board = get_board(args.board)
    r = run_bench(board, repeat=args.repeat, rounds=args.rounds)
    if args.json:
        write_json(args.json, {"schema": "mcusim.bench/1", "board": board.qualified_name, "core": board.core,
                               "program": "kernels/examples/dsp_dot.c", "repeat": args.repeat, "rounds": args.rounds,
                               **asdict(r)})
    t = Table(title=f"cycle accounting cost on {board.qualified_name} ({r.instructions:,} instructions, kernels/examples/dsp_dot.c)")
    t.add_column("mode")
    t.add_column("MIPS", justify="right")
    t.add_column("vs raw", justify="right")
    t.add_row("raw Unicorn (no hooks)", f"{r.raw_mips:.0f}", "100%")
    t.add_row("mcusim full accounting", f"{r.accounting_mips:.0f}", f"{r.ratio:.0%}")
    t.add_row("minimal native block hook (scale)", f"{r.native_min_mips:.0f}", f"{r.native_min_mips / r.raw_mips:.0%}")
    t.add_row("Python block hook (scale)", f"{r.py_block_mips:.0f}", f"{r.py_block_mips / r.raw_mips:.0%}")
    console.print(t)
    console.print(f"accounting ratio: {r.ratio:.2f} (target >= 0.70)")
    return 0


def _progress(console: Console, what: str):  # noqa: ANN202 - rich status context
    return console.status(what, spinner="dots") if console.is_terminal else _Quiet()


class _Quiet:
    def __enter__(self) -> None:
        return None

    def update(self, status: str) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from .api import run
    from .classicml.model import is_classic_file
    from .present.report import render_run, write_json

    if not is_classic_file(args.model) and args.path is None:
        raise McusimError("run: --path is required for a .tflite model (tflm, tinyml or classic)")
    with _progress(console, f"building and simulating {args.model} ({args.path or 'classic ML'})"):
        r = run(args.model, args.path or "tinyml", board=args.board, kernels=args.kernels, library=args.library,
                inputs=args.input,
                tflm_dir=args.tflm_dir, place=args.place, lut_activations=args.lut_activations,
                winograd=args.winograd, duty=args.duty, battery=args.battery, sleep_current=args.sleep_current,
                cold=args.cold, max_instructions=args.max_instructions, frontend=args.frontend)
    if args.json:
        write_json(args.json, r.report)
    if args.html:
        _write_html(args.html, [r.report], f"{Path(args.model).name}: {r.report['stack']['label']}", r.board, args.model)
    render_run(console, r.report)
    rc = _print_does_not_fit(console, [r.report])
    return 1 if "frontend" in r.report and not r.report["frontend"]["reference_match"] else rc


def cmd_frontend(args: argparse.Namespace, console: Console) -> int:
    from .api import audio_frontend
    from .present.frontend import frontend_html, render_frontend
    from .present.report import write_json, write_text

    with _progress(console, f"building and simulating the front-end of {args.spec}"):
        r = audio_frontend(args.spec, board=args.board, input=args.input, place=args.place,
                           max_instructions=args.max_instructions)
    if args.json:
        write_json(args.json, r.report)
    if args.html:
        write_text(args.html, frontend_html(r.report))
    render_frontend(console, r.report)
    return 0 if r.report["reference_match"] else 1


def _print_does_not_fit(console: Console, reports: list[dict]) -> int:
    """Say which runs do not fit their part (mcusim.oversize); 1 when one does not, else 0."""
    from .analysis.oversize import summary

    lines = [(line[:len(line) - len(line.lstrip())] + f"{r['stack']['label']}: " + line.lstrip()
              if len(reports) > 1 else line) for r in reports for line in summary(r)]
    for line in lines:
        console.print(f"[bold red]{escape(line)}[/]" if not line.startswith(" ") else escape(line), highlight=False)
    return 1 if lines else 0


def _write_html(path: str, runs: list[dict], title: str, board: "Board | None", model: str,  # noqa: F821
                skipped: list[dict] | None = None) -> None:
    """The HTML report, with the budgets of mcusim.toml / pyproject.toml drawn when there are any."""
    from .analysis.budget import load_budget_files, normalise_budgets
    from .present.html import render_html
    from .present.report import write_text

    budgets = normalise_budgets(load_budget_files(Path(model))[0])
    write_text(path, render_html(runs, title, board, budgets, skipped))


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    from .api import compare
    from .present.report import compare_markdown, render_compare, write_json, write_text


    status = _progress(console, f"building and simulating {args.model}")
    with status:
        cmp = compare(args.model, paths=args.paths, kernels=args.kernels, board=args.board,
                      inputs=args.input, tflm_dir=args.tflm_dir, place=args.place,
                      lut_activations=args.lut_activations, winograd=args.winograd, duty=args.duty,
                      battery=args.battery, sleep_current=args.sleep_current, cold=args.cold,
                      max_instructions=args.max_instructions,
                      on_column=lambda col: status.update(f"{col}: building and simulating {args.model}"),
                      against=args.against, frontend=args.frontend)
    rep = cmp.report
    if args.json:
        write_json(args.json, rep)
    if args.markdown:
        write_text(args.markdown, compare_markdown(rep))
    if args.html:
        _write_html(args.html, rep["runs"], f"{Path(args.model).name}: {', '.join(rep['columns'])}", cmp.board,
                    args.model, rep["skipped"])
    render_compare(console, rep)
    _print_does_not_fit(console, rep["runs"])
    return 0


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    from .analysis.budget import check_junit, check_markdown, check_text
    from .api import check
    from .present.report import json_text, write_text

    r = check(args.model, args.path, board=args.board, kernels=args.kernels, max_flash=args.max_flash,
              max_ram=args.max_ram, max_latency_ms=args.max_latency_ms, max_energy_uj=args.max_energy_uj,
              inputs=args.input, tflm_dir=args.tflm_dir, place=args.place,
              max_instructions=args.max_instructions, baseline=args.baseline, max_growth=args.max_growth,
              library=args.library, frontend=args.frontend)
    c = r.result
    assert c is not None
    if args.format == "json":
        text = json_text(r.report)
    elif args.format == "markdown":
        text = check_markdown(c)
    elif args.format == "junit":
        text = check_junit(c)
    else:
        text = ""
        for line in check_text(c):
            console.print(line, highlight=False)
    if text:
        write_text(args.output or "-", text)
    return 0 if c.ok else 1


def cmd_fit(args: argparse.Namespace, console: Console) -> int:
    from .analysis.partfit import anything_fits, render_fit
    from .api import fit
    from .present.report import write_json
    from .sweep import default_workers

    status = _progress(console, f"fit: {args.model}")
    with status:
        rep = fit(args.model, paths=args.paths, kernels=args.kernels, boards=args.boards, tflm_dir=args.tflm_dir,
                  jobs=args.jobs or default_workers(), progress=status.update, inputs=args.input).report
    if args.json:
        write_json(args.json, rep)
    render_fit(console, rep)
    return 0 if anything_fits(rep) else 1


def cmd_annotate(args: argparse.Namespace, console: Console) -> int:
    from .present.annotate import annotate, render, saturation_by_function

    board = get_board(args.board)
    target = Path(args.target)
    if not target.is_file():
        raise McusimError(f"{target}: no such file")
    if target.suffix == ".tflite":
        from .stacks.runner import run_model

        if args.path is None or args.op is None:
            raise McusimError("annotating a model needs --path tinyml|classic and --op N")
        dep = run_model(target, args.path, board, args.kernels, track_saturation=True, tflm_dir=args.tflm_dir)
        res, elf = dep.result, dep.elf
        tags = [v for _, v in res.probes]
        try:
            a = tags.index(0x0B000000 | args.op)
            b = tags.index(0x0E000000 | args.op, a)
        except ValueError:
            raise McusimError(f"op {args.op} did not run on the {args.path} path (folded away or no such op)") from None
        window = res.window(a, b)
        op_type = next((o["type"] for o in dep.report["ops"] if o["index"] == args.op), "?")
        title = f"{target.name} op {args.op} ({op_type}), {args.path}/{args.kernels} on {board.qualified_name}"
        machine = res.machine
    else:
        from .build.toolchain import build_elf
        from .simulator.elf import Elf
        from .simulator.machine import Machine

        elf = Elf(build_elf([target], board).elf) if target.suffix in (".c", ".S", ".s") else Elf(target)
        machine = Machine(elf, board, track_saturation=True)
        res = machine.run(max_instructions=args.max_instructions)
        window = res
        title = f"{target.name} on {board.qualified_name}"
    if args.function and args.function not in window.functions:
        # GCC clones keep the source name before a dot: dot -> dot.constprop.0
        clones = [n for n in window.functions if n.startswith(args.function + ".")]
        if len(clones) == 1:
            args.function = clones[0]
    if args.function and args.function not in window.functions:
        raise McusimError(f"function {args.function!r} did not run in this window; ran: "
                          + ", ".join(sorted(window.functions)[:12]))
    blocks = annotate(window, res, elf, args.function, args.top)
    assert machine is not None
    render(console, title, window, blocks, saturation_by_function(machine.saturations, elf, res))
    return 0


def cmd_sweep(args: argparse.Namespace, console: Console) -> int:
    from .sweep import ResultsDB, default_db, load_spec, make_engine, run_sweep

    spec = load_spec(args.spec)
    engine = make_engine(args.workers, args.scheduler, args.cluster)
    cells = spec.cells()
    db_path = Path(args.db) if args.db else default_db(spec)
    console.print(f"sweep {args.spec}: {len(spec.models)} models x {len(spec.boards)} boards x {len(spec.paths)} paths "
                  f"x {len(spec.kernels)} kernel flavours (a classic ML model: x its libraries) = {len(cells)} cells on "
                  f"{engine.name}; results in {db_path}",
                  highlight=False)

    def line(cell, row, done, total):  # noqa: ANN001, ANN202 - progress callback
        what = (f"flash {row['flash_bytes']:,} B, RAM {row['ram_peak_bytes']:,} B, {row['latency_ms']:.4g} ms, "
                f"{row['verdict']}" if row["status"] == "ok" else row["message"])
        console.print(f"[{done}/{total}] {cell.label()}: {row['status']} ({row['seconds']:.1f} s) {what}",
                      highlight=False, markup=False, soft_wrap=True)

    with ResultsDB(db_path) as db:
        s = run_sweep(spec, db, engine, resume=args.resume, retry_errors=args.retry_errors, on_result=line, cells=cells)
    counts = ", ".join(f"{n} {k}" for k, n in s.counts.items())
    console.print(f"{s.ran} cells in {s.seconds:.1f} s ({s.cells_per_minute:.1f} cells/min): {counts}"
                  + (f"; {s.skipped} already in the database (--resume)" if s.skipped else "")
                  + (f"; {s.replaced} earlier results replaced" if s.replaced else ""), highlight=False)
    return 0


def cmd_query(args: argparse.Namespace, console: Console) -> int:
    from .analysis.budget import normalise_budgets
    from .present.report import write_json, write_text
    from .sweep import (
        ResultsDB,
        cheapest,
        pareto_svg,
        query,
        query_json,
        render_cheapest,
        render_rows,
        to_csv,
    )

    budgets = normalise_budgets({"max_flash": args.max_flash, "max_ram": args.max_ram,
                                 "max_latency_ms": args.max_latency_ms, "max_energy_uj": args.max_energy_uj})
    metrics = [m.strip() for m in args.pareto_metrics.split(",") if m.strip()]
    axes = [m.strip() for m in args.plot_axes.split(",")]
    if len(axes) != 2:
        raise McusimError(f"--plot-axes {args.plot_axes!r}: give two metrics, X,Y")
    with ResultsDB(args.db, create=False) as db:
        rows = query(db, args.where, args.sort, args.desc, budgets, args.fits, args.pareto, metrics)
        answers = cheapest(rows, query(db, args.where, pareto_metrics=metrics)) if args.cheapest else None
    if args.csv:
        write_text(args.csv, to_csv(rows))
    if args.json:
        write_json(args.json, query_json(Path(args.db), rows, answers, metrics))
    if args.plot:
        write_text(args.plot, pareto_svg(rows, axes[0], axes[1], title=f"mcusim sweep: {Path(args.db).name}"))
    if answers is not None:
        render_cheapest(console, answers)
    else:
        render_rows(console, rows, f"{args.db}: {len(rows)} cells; ★ Pareto-optimal: no other cell of the "
                                   f"model is as good on all of {', '.join(metrics)}")
    return 0


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from .frontend.tflite import load_model
    from .stacks import check_kernels, default_kernels

    board = _board(args.board, args.place)
    kernels = args.kernels or default_kernels(args.path, board)
    check_kernels(args.path, kernels)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise McusimError(f"{out} exists and is not empty; choose a new directory")
    graph = load_model(args.model)
    if args.path == "tinyml":
        from .stacks.tflmtables import tree_for
        from .stacks.tinyml import export_tinyml

        export_tinyml(graph, board, kernels, out, Path(args.model).name,
                      tflm_tree=tree_for(graph, args.tflm_dir, Path(args.model)))
    elif args.path == "tflm":
        from .stacks.tflm import export_tflm
        from .stacks.tflmtree import find_tree

        export_tflm(graph, board, find_tree(args.tflm_dir, Path(args.model)), kernels, out, name=Path(args.model).name)
    else:
        from .stacks.classic import export_classic
        from .stacks.tflmtables import tree_for

        tree = tree_for(graph, args.tflm_dir, Path(args.model))
        if kernels == "cmsis-nn":
            from .stacks.tflmtree import find_tree

            tree = find_tree(args.tflm_dir, Path(args.model))
        export_classic(graph, board, kernels, out, tflm_tree=tree)
    console.print(f"wrote {out}/ for {board.qualified_name} ({args.path}, {kernels} kernels): build it with `make -C {out}`")
    return 0


def cmd_ops(args: argparse.Namespace, console: Console) -> int:
    from .api import ops
    from .operators.support import ops_markdown
    from .present.report import write_json, write_text

    r = ops(tflm_dir=args.tflm_dir)
    if args.json:
        write_json(args.json, r.report)
    if args.markdown:
        write_text(args.markdown, ops_markdown(r.report))
    stacks = r.report["stacks"]
    if args.op:
        want = args.op.upper()
        row = next((o for o in r.report["ops"] if o["op"] == want), None)
        if row is None:
            raise McusimError(f"--op {args.op}: not an operator mcusim accepts; it accepts "
                              + ", ".join(o["op"] for o in r.report["ops"]))
        console.print(want, style="bold", highlight=False)
        for st in stacks:
            c = row["stacks"][st]
            if c is None:
                console.print(f"{st}: no TFLM tree", highlight=False)
                continue
            console.print(f"{st}: {c['runs'] if c['supported'] else 'not supported'}", highlight=False, markup=False)
            for lim in c["limits"]:
                console.print(f"    {lim}", highlight=False, markup=False, soft_wrap=True)
    else:
        t = Table(title="operators per stack (yes: runs; (N): cases handled another way, listed with --op OP or "
                        "--markdown; — : not supported)")
        t.add_column("op", no_wrap=True)
        for st in stacks:
            t.add_column(st, no_wrap=True)
        for row in r.report["ops"]:
            cells = []
            for st in stacks:
                c = row["stacks"][st]
                cells.append("no tree" if c is None else "—" if not c["supported"]
                             else "yes" + (f" ({len(c['limits'])})" if c["limits"] else ""))
            t.add_row(row["op"], *cells)
        console.print(t)
    if r.report["tflm_missing"]:
        console.print(f"tflm columns: {r.report['tflm_missing']}", highlight=False, markup=False, soft_wrap=True)
    return 0


KERNEL_CHOICES = ("cmsis-nn", "ref", "opt")
KERNELS_HELP = ("kernel flavour: cmsis-nn (real Arm CMSIS-NN from the TFLM tree; classic: mcusim's opt kernel for each "
                "op it lacks, named in the report), opt/ref (mcusim's own; on tflm, ref is TFLM's reference kernels); "
                "default: opt on tinyml/classic, on tflm cmsis-nn on cores with the DSP extension and ref elsewhere")
TFLM_DIR_HELP = ("TensorFlow Lite Micro tree for the tflm path and the cmsis-nn kernels (default: MCUSIM_TFLM_DIR, "
                 "else tflm_dir in mcusim.toml / [tool.mcusim]; docs/stacks.md)")

PATH_HELP = ("the stack: tflm (real TensorFlow Lite Micro), tinyml (mcusim's interpreter) or classic "
             "(generated C calling kernels)")
INPUT_HELP = ("the input: an .npy array of the input tensor's shape and dtype, or an .npz with one array per input "
              "tensor, keyed arr_0.. in the model's input order (np.savez(a, b)) or by input tensor name "
              "(default: a documented pattern)")
JSON_HELP = "the JSON report (docs/json-schema.md); - for standard output"
MAX_INSN_HELP = "stop with an error after N instructions (a runaway program; default 2G; K/M/G suffixes)"

PLACE_HELP = ("where the firmware puts the stack, arena, data (static data) and weights, e.g. arena=dtcm,stack=sram1 "
              "(regions: `mcusim boards`; defaults in the board file's [placement])")


def build_parser() -> argparse.ArgumentParser:
    from . import __doc__ as package_doc

    p = argparse.ArgumentParser(prog="mcusim", description=package_doc.splitlines()[0] if package_doc else None)
    p.add_argument("--version", action="version", version=f"mcusim {__version__}", help="print mcusim's version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="one of the commands below; `mcusim COMMAND -h` lists its options")

    s = sub.add_parser("sim", help="run a bare-metal Cortex-M ELF (or a one-file C program) and report cycles, memory, energy")
    s.add_argument("firmware", help="an ELF whose vector table is at the start of flash, or a .c/.S file to build first; "
                                    "it stops at bkpt #0, a semihosting exit, newlib's _exit or an endless b .")
    s.add_argument("--board", default="stm32f411ce", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
    s.add_argument("--max-instructions", type=_int_with_suffix, default=2_000_000_000, metavar="N", help=MAX_INSN_HELP)
    s.add_argument("--window", metavar="BEGIN:END",
                   help="measure only between two functions (entry of BEGIN to entry of END; NAME or NAME:NAME: "
                        "entry of NAME to its return) or two probe tags (e.g. 0x1:0x2), summed over every occurrence")
    s.add_argument("--exit-code", action="store_true",
                   help="exit with the firmware's exit code (as QEMU does) instead of 0")
    s.add_argument("--json", metavar="FILE", help=JSON_HELP)
    s.set_defaults(func=cmd_sim)

    for name, helptext in (("run", "build and simulate one deployment path of an int8 .tflite model"),
                           ("compare", "the stacks side by side: real TFLM + CMSIS-NN, generated C on CMSIS-NN, mcusim's own (ratios against the first)")):
        r = sub.add_parser(name, help=helptext)
        r.add_argument("model", help="an int8 .tflite file" + (" or a classic ML model (.skops, .onnx)" if name == "run" else ""))
        r.add_argument("--frontend", metavar="SPEC.toml",
                       help="an audio front-end spec (MFCC / log-mel on CMSIS-DSP, docs/frontend.md): its cost per "
                            "inference is added to the model's (end-to-end latency, energy, flash, RAM)"
                            + ("" if name == "run" else ", the same in every column"))
        if name == "run":
            r.add_argument("--path", choices=("tflm", "tinyml", "classic"), help=PATH_HELP + " (a .tflite model)")
            r.add_argument("--library", choices=("emlearn", "cmsis-dsp", "mcusim"),
                           help="classic ML model (.skops, .onnx): the code generator (default: emlearn for trees "
                                "and forests, cmsis-dsp for SVC and GaussianNB, mcusim for linear models)")
        if name == "compare":
            r.add_argument("--paths", metavar="P[/K],...",
                           help="the columns, e.g. tflm,classic/cmsis-nn,tinyml/opt (default: tflm/cmsis-nn, "
                                "classic/cmsis-nn, tinyml/opt, classic/opt; the first is the ratios' baseline)")
        r.add_argument("--board", default="stm32f411ce", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
        r.add_argument("--place", metavar="WHAT=REGION,...", help=PLACE_HELP)
        r.add_argument("--kernels", choices=KERNEL_CHOICES, default=None, help=KERNELS_HELP)
        r.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP)
        r.add_argument("--input", metavar="X.npy|X.npz", help=INPUT_HELP)
        r.add_argument("--json", metavar="FILE", help=JSON_HELP)
        r.add_argument("--max-instructions", type=_int_with_suffix, default=2_000_000_000, metavar="N",
                       help=MAX_INSN_HELP)
        r.add_argument("--html", metavar="FILE", help="a self-contained HTML report with tables and plots")
        if name == "compare":
            r.add_argument("--markdown", metavar="FILE", help="the headline table as Markdown")
            r.add_argument("--against", action="append", metavar="MODEL[:PATH[/KERNELS]]",
                           help="another model on the same board as further columns (repeatable), e.g. a forest "
                                "(.skops) against an int8 MLP (mlp.tflite:tinyml/opt; default tinyml/opt); a "
                                "classic ML model's :LIBRARY,...")
        r.add_argument("--lut-activations", action="store_true",
                       help="classic path: pointwise activations (and x*sigmoid(x), swish) as 256-entry tables built on the host")
        r.add_argument("--winograd", action="store_true",
                       help="classic path: 3x3 stride-1 convolutions by Winograd F(2x2,3x3) (fewer multiplies, "
                            "filter stored transformed as int16: about 3.6x its flash); fully connected layers by "
                            "Winograd's inner-product identity (4 bytes of pair sums per output row)")
        r.add_argument("--duty", type=float, metavar="INFERENCES_PER_DAY", help="battery life: inferences per day")
        r.add_argument("--battery", type=float, metavar="MAH", help="battery life: capacity in mAh")
        r.add_argument("--sleep-current", type=float, metavar="UA", help="sleep current between inferences (default: the board's)")
        r.add_argument("--cold", action="store_true", help="the part is powered down between inferences: pay the start-up each time")
        r.set_defaults(func=cmd_run if name == "run" else cmd_compare)

    fe = sub.add_parser("frontend", help="one frame of an MFCC / log-mel front-end (CMSIS-DSP) on a board: cycles, "
                                         "real-time factor, flash, RAM, energy, features checked against cmsisdsp")
    fe.add_argument("spec", help="the front-end spec (TOML, docs/frontend.md)")
    fe.add_argument("--board", default="stm32f411ce", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
    fe.add_argument("--place", metavar="WHAT=REGION,...", help=PLACE_HELP)
    fe.add_argument("--input", metavar="X.wav|X.npy", help="the frame: the first frame_length samples of a mono 16-bit "
                                                          ".wav or a 1-D .npy (int16 PCM or float in [-1, 1]); default: a test tone")
    fe.add_argument("--json", metavar="FILE", help="the JSON report (schema mcusim.frontend/1); - for standard output")
    fe.add_argument("--html", metavar="FILE", help="a self-contained HTML page of the report")
    fe.add_argument("--max-instructions", type=_int_with_suffix, default=2_000_000_000, metavar="N", help=MAX_INSN_HELP)
    fe.set_defaults(func=cmd_frontend)

    c = sub.add_parser("check", help="CI gate: exit 0 within budget, 1 over budget, 2 on bad input")
    c.add_argument("model", help="an int8 .tflite file or a classic ML model (.skops, .onnx)")
    c.add_argument("--path", choices=("tflm", "tinyml", "classic"), help=PATH_HELP + " (or path = ... in the budget file)")
    c.add_argument("--library", choices=("emlearn", "cmsis-dsp", "mcusim"), help="classic ML model: the code generator (default: the model's)")
    c.add_argument("--board", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
    c.add_argument("--place", metavar="WHAT=REGION,...", help=PLACE_HELP)
    c.add_argument("--kernels", choices=KERNEL_CHOICES, help=KERNELS_HELP)
    c.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP)
    c.add_argument("--max-flash", metavar="BYTES", help="e.g. 64K")
    c.add_argument("--max-ram", metavar="BYTES", help="peak RAM, e.g. 16K")
    c.add_argument("--max-latency-ms", metavar="MS", help="latency per inference at the board's clock")
    c.add_argument("--max-energy-uj", metavar="UJ", help="energy per inference (run current x supply x time)")
    c.add_argument("--frontend", metavar="SPEC.toml",
                   help="an audio front-end spec (docs/frontend.md): the budgets and the part's verdict apply to "
                        "the model and its front-end together")
    c.add_argument("--input", metavar="X.npy|X.npz", help=INPUT_HELP)
    c.add_argument("--format", choices=("text", "json", "markdown", "junit"), default="text",
                   help="the result's format (json, markdown and junit go to --output, default standard output)")
    c.add_argument("--output", metavar="FILE", help="write the formatted result here instead of stdout")
    c.add_argument("--max-instructions", type=_int_with_suffix, default=2_000_000_000, metavar="N", help=MAX_INSN_HELP)
    c.add_argument("--baseline", metavar="REPORT.json",
                   help="regression gate: compare with this report of the same model, board and stack (run --json, "
                        "check --format json or compare --json, e.g. from the main branch)")
    c.add_argument("--max-growth", metavar="M=N[%],...",
                   help="allowed growth per metric against --baseline: flash, ram, cycles, latency, energy, as a "
                        "percentage or an amount (default: flash=0,ram=0,cycles=0)")
    c.set_defaults(func=cmd_check)

    f = sub.add_parser("fit", help="every board and operating point the model fits (70%% headroom rule), with latency "
                                   "and energy; exit 1 when no part fits")
    f.add_argument("model", help="an int8 .tflite file or a classic ML model (.skops, .onnx)")
    f.add_argument("--paths", metavar="P[/K],...", help="the stacks to try (default: tinyml/opt,classic/opt); a classic "
                                                       "ML model: its libraries, e.g. emlearn,mcusim (default: all)")
    f.add_argument("--kernels", choices=("ref", "opt"), help="flavour of the default stacks (default: opt)")
    f.add_argument("--boards", metavar="B[@OP],...", help="the parts to try (default: every board at every operating point)")
    f.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP)
    f.add_argument("--jobs", type=int, metavar="N", help="simulate on N worker processes (default: the cores)")
    f.add_argument("--input", metavar="X.npy|X.csv",
                   help="a classic ML model: the samples to simulate (samples x features; default: 16 drawn in the "
                        "range of the model's parameters, docs/classic-ml.md)")
    f.add_argument("--json", metavar="FILE", help=JSON_HELP)
    f.set_defaults(func=cmd_fit)

    an = sub.add_parser("annotate", help="disassembly of the hot code with execution counts and cycle shares")
    an.add_argument("target", help="a .tflite model (with --path and --op), or an ELF / one-file C program")
    an.add_argument("--path", choices=("tinyml", "classic"), help="the path to build a model for")
    an.add_argument("--op", type=int, help="operator index in the model")
    an.add_argument("--function", help="annotate this function (default: the hottest ones)")
    an.add_argument("--top", type=int, default=3, help="how many of the hottest functions")
    an.add_argument("--board", default="stm32f411ce", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
    an.add_argument("--kernels", choices=KERNEL_CHOICES, default="opt", help=KERNELS_HELP)
    an.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP)
    an.add_argument("--max-instructions", type=_int_with_suffix, default=2_000_000_000, metavar="N", help=MAX_INSN_HELP)
    an.set_defaults(func=cmd_annotate)

    sw = sub.add_parser("sweep", help="every combination of models x boards x paths x kernels of a spec, into a results database")
    sw.add_argument("spec", metavar="SPEC.toml", help="models (files/globs), boards, paths, kernels, [budgets]")
    sw.add_argument("--db", metavar="FILE", help="SQLite results database (default: mcusim-sweep.db beside the spec)")
    sw.add_argument("--resume", action="store_true", help="skip the cells the database already holds")
    sw.add_argument("--retry-errors", action="store_true", help="with --resume: run the cells that ended in an error again")
    sw.add_argument("--workers", type=int, metavar="N", help="local pool size (default: the cores)")
    sw.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask distributed cluster")
    sw.add_argument("--cluster", metavar="local:N", help="start a local Dask cluster of N worker processes")
    sw.set_defaults(func=cmd_sweep)

    q = sub.add_parser("query", help="a sweep database as a table: sort, filter by budget, cheapest part, Pareto, CSV/JSON/SVG")
    q.add_argument("db", metavar="DB", help="the SQLite results database of `mcusim sweep`")
    q.add_argument("--sort", metavar="FIELD", help="any column: latency_ms, energy_uj, flash_bytes, ram_peak_bytes, ...")
    q.add_argument("--desc", action="store_true", help="sort descending")
    q.add_argument("--where", action="append", default=[], metavar="EXPR",
                   help="FIELD OP VALUE, OP one of = != < <= > >= ~ (glob), e.g. path=classic, 'latency_ms<5', model~kws*")
    q.add_argument("--max-flash", metavar="BYTES", help="only cells whose image is at most this, e.g. 64K")
    q.add_argument("--max-ram", metavar="BYTES", help="only cells whose peak RAM is at most this, e.g. 16K")
    q.add_argument("--max-latency-ms", metavar="MS", help="only cells at most this latency")
    q.add_argument("--max-energy-uj", metavar="UJ", help="only cells at most this energy per inference")
    q.add_argument("--fits", action="store_true", help="only cells that fit with headroom (under 70%% of flash and RAM)")
    q.add_argument("--pareto", action="store_true", help="only the Pareto-optimal cells of each model")
    q.add_argument("--pareto-metrics", default="flash_bytes,ram_peak_bytes,latency_ms,energy_uj", metavar="M,M,...",
                   help="the metrics of the Pareto front (lower is better on each)")
    q.add_argument("--cheapest", action="store_true",
                   help="per model and path, the cheapest board it fits on with headroom and within the spec's budgets")
    q.add_argument("--csv", metavar="FILE", help="the cells as CSV; - for standard output")
    q.add_argument("--json", metavar="FILE", help=JSON_HELP)
    q.add_argument("--plot", metavar="FILE.svg", help="scatter plot per model, Pareto-optimal cells filled")
    q.add_argument("--plot-axes", default="latency_ms,energy_uj", metavar="X,Y", help="e.g. flash_bytes,latency_ms")
    q.set_defaults(func=cmd_query)

    ex = sub.add_parser("export", help="write the generated C project (sources, kernels, startup, linker script, Makefile)")
    ex.add_argument("model", help="an int8 .tflite file")
    ex.add_argument("--path", choices=("classic", "tinyml", "tflm"), default="classic", help=PATH_HELP)
    ex.add_argument("--out", required=True, metavar="DIR", help="a new (or empty) directory for the project")
    ex.add_argument("--board", default="stm32f411ce", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
    ex.add_argument("--place", metavar="WHAT=REGION,...", help=PLACE_HELP)
    ex.add_argument("--kernels", choices=KERNEL_CHOICES, help=KERNELS_HELP)
    ex.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP)
    ex.set_defaults(func=cmd_export)

    b = sub.add_parser("boards", help="list the board profiles")
    b.set_defaults(func=cmd_boards)

    be = sub.add_parser("bench", help="measure what cycle accounting costs against raw Unicorn")
    be.add_argument("--board", default="stm32f411ce", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
    be.add_argument("--repeat", type=int, default=128000, help="dot products of 256 (about 770 instructions each)")
    be.add_argument("--rounds", type=int, default=5, help="timed runs of each mode; the best is reported")
    be.add_argument("--json", metavar="FILE", help=JSON_HELP)
    be.set_defaults(func=cmd_bench)

    o = sub.add_parser("ops", help="the operators each stack and kernel flavour runs, and what each lacks")
    o.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP + "; without one the tflm columns are left empty")
    o.add_argument("--op", metavar="OP", help="what runs this operator on each stack, and its limits (e.g. CONV_2D)")
    o.add_argument("--json", metavar="FILE", help=JSON_HELP)
    o.add_argument("--markdown", metavar="FILE", help="the table and every limit as Markdown (docs/ops.md)")
    o.set_defaults(func=cmd_ops)
    return p


OUTPUT_OPTIONS = ("json", "html", "markdown", "output", "csv", "plot")
"""The options that name a report file (``-``: standard output)."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    # Not a terminal (CI logs, pipes): wide enough that tables do not elide names. With
    # `--json -` (or any other report to -) standard output carries the report alone, so
    # tables go to stderr; `check --format json|markdown|junit` without --output likewise.
    to_stderr = any(getattr(args, o, None) == "-" for o in OUTPUT_OPTIONS) or (
        getattr(args, "format", "text") != "text" and not getattr(args, "output", None))
    out = sys.stderr if to_stderr else sys.stdout
    console = Console(file=out if to_stderr else None, width=None if out.isatty() else 160)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 1000)
    try:
        # Imported here, inside the Ctrl-C handling: report pulls in numpy and Unicorn.
        from .present import report
        from .present.report import check_output_path

        interrupts.raise_if_lost()  # a Ctrl-C during those imports may have been swallowed

        report.COMMAND_LINE = ["mcusim", *argv]
        to_stdout = [o for o in OUTPUT_OPTIONS if getattr(args, o, None) == "-"]
        if len(to_stdout) > 1:
            raise McusimError(f"only one report can go to standard output: --{to_stdout[0]} - and "
                              f"--{to_stdout[1]} - were given")
        for option in OUTPUT_OPTIONS:
            if getattr(args, option, None):
                check_output_path(getattr(args, option))
        return int(args.func(args, console))
    except McusimError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        return e.exit_code
    except KeyboardInterrupt:
        # Exiting anyway: a second Ctrl-C must not interrupt the message with a traceback.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        err.print("interrupted")
        return 130
    except Exception as e:  # noqa: BLE001 - a bug in mcusim: one line, unless debugging
        if os.environ.get("MCUSIM_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {type(e).__name__}: {escape(str(e))} (set MCUSIM_DEBUG=1 for the traceback)",
                  highlight=False, soft_wrap=True)
        return 70
    finally:
        report = sys.modules.get(f"{__package__}.report")
        if report is not None:
            report.COMMAND_LINE = None


if __name__ == "__main__":
    sys.exit(main())
