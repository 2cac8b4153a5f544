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

from . import __version__
from .board import all_boards, get_board, parse_place
from .errors import McusimError


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
    t = Table(title="board profiles (mcusim/boards/*.toml, sources in docs/boards.md)")
    for col in ("board@op", "core", "clock", "WS", "flash", "RAM", "run current", "VDD", "sleep"):
        t.add_column(col, no_wrap=True)
    for b in all_boards():
        for op in b.operating_points:
            t.add_row(
                f"{b.name}@{op.name}", b.core, f"{op.clock_hz / 1e6:g} MHz", str(op.flash_wait_states),
                f"{b.flash_size // 1024} KiB", f"{b.ram_size // 1024} KiB",
                f"{op.run_current_ua / 1000:.2f} mA", f"{op.supply_v:g} V",
                "-" if b.sleep_current_ua is None else f"{b.sleep_current_ua:g} µA",
            )
    console.print(t)
    r = Table(title="memory regions (--place WHAT=REGION; default placement marked)")
    for col in ("board", "region", "kind", "origin", "size", "wait states", "default placement"):
        r.add_column(col, no_wrap=True)
    for b in all_boards():
        for reg in b.regions:
            name = "flash" if reg in b.flash_regions else reg.name
            here = [w for w, where in b.placement.items() if name in where]
            aliases = "".join(f", 0x{a:08x}" for a in reg.aliases)
            r.add_row(b.name, reg.name, reg.kind, f"0x{reg.origin:08x}{aliases}", f"{reg.size // 1024} KiB",
                      "per op" if reg.kind == "flash" else str(reg.wait_states), ", ".join(here))
    console.print(r)
    return 0


def cmd_sim(args: argparse.Namespace, console: Console) -> int:
    from .elf import Elf
    from .machine import Machine, check_vector_table, parse_window
    from .report import render_sim, sim_report, write_json

    board = get_board(args.board)
    path = Path(args.firmware)
    if path.is_dir():
        raise McusimError(f"{path}: is a directory, not a firmware file")
    if not path.is_file():
        raise McusimError(f"{path}: no such file")
    flash = (board.flash_origin, board.flash_origin + board.flash_size)
    if path.suffix in (".c", ".S", ".s"):
        from .toolchain import build_elf

        # A single-file program: build it for the board with mcusim's startup code first.
        elf = Elf(build_elf([path], board).elf, flash=flash)
    else:
        elf = Elf(path, flash=flash)
    check_vector_table(elf, board)
    window = parse_window(args.window, elf) if args.window else None
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

    machine = Machine(elf, board, on_output=on_output, window=window)
    result = machine.run(max_instructions=args.max_instructions)
    rep = sim_report(path, board, elf, result, machine.window_stats, args.window)
    if args.json:
        write_json(Path(args.json), rep)
    render_sim(console, rep)
    return (result.exit_code & 0xFF) if args.exit_code else 0


class _Discard:
    def flush(self) -> None:
        return None

    @property
    def buffer(self) -> "_Discard":
        return self

    def write(self, data: bytes) -> int:
        return len(data)


def cmd_bench(args: argparse.Namespace, console: Console) -> int:
    from .bench import run_bench

    board = get_board(args.board)
    r = run_bench(board, repeat=args.repeat, rounds=args.rounds)
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

    def __exit__(self, *exc: object) -> None:
        return None


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from .report import render_run, write_json
    from .runner import run_model

    from .stacks import check_kernels, default_kernels

    board = _board(args.board, args.place)
    kernels = args.kernels or default_kernels(args.path, board)
    check_kernels(args.path, kernels)
    with _progress(console, f"building and simulating {args.model} ({args.path}, {kernels})"):
        result = run_model(args.model, args.path, board, kernels, args.input, lut_activations=args.lut_activations,
                           winograd=args.winograd, tflm_dir=args.tflm_dir, oversize=True)
    _add_battery(args, board, result.report)
    if args.json:
        write_json(Path(args.json), result.report)
    if args.html:
        _write_html(Path(args.html), [result.report], f"{Path(args.model).name}: {args.path} path")
    render_run(console, result.report)
    return _print_does_not_fit(console, [result.report])


def _print_does_not_fit(console: Console, reports: list[dict]) -> int:
    """Say which runs do not fit their part (mcusim.oversize); 1 when one does not, else 0."""
    from .oversize import summary

    lines = [(line[:len(line) - len(line.lstrip())] + f"{r['stack']['label']}: " + line.lstrip()
              if len(reports) > 1 else line) for r in reports for line in summary(r)]
    for line in lines:
        console.print(f"[bold red]{escape(line)}[/]" if not line.startswith(" ") else escape(line), highlight=False)
    return 1 if lines else 0


def _write_html(path: Path, runs: list[dict], title: str) -> None:
    from .html import render_html
    from .report import write_atomic

    write_atomic(path, render_html(runs, title))


def _add_battery(args: argparse.Namespace, board: "Board", report: dict) -> None:  # noqa: F821
    from .budget import battery

    if args.duty is None and args.battery is None:
        return
    if args.duty is None or args.battery is None:
        raise McusimError("battery life needs both --duty INFERENCES_PER_DAY and --battery MAH")
    report["battery"] = battery(report, board, args.duty, args.battery, args.sleep_current, args.cold)


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    from .report import compare_markdown, compare_report, render_compare, write_atomic, write_json
    from .runner import run_model
    from .stacks import compare_columns, label, needs_tflm_tree
    from .tflite import load_model
    from .tflmtree import TflmTreeMissing, find_tree

    board = _board(args.board, args.place)
    graph = load_model(args.model)
    columns = compare_columns(args.paths, args.kernels, board)
    skipped = []
    if any(needs_tflm_tree(*c) for c in columns):
        try:
            find_tree(args.tflm_dir, Path(args.model))
        except TflmTreeMissing as e:
            if args.paths:
                raise  # asked for by name: an error, not an omission
            skipped = [{"column": label(*c), "reason": str(e)} for c in columns if needs_tflm_tree(*c)]
            columns = [c for c in columns if not needs_tflm_tree(*c)]
    reports = []
    for path, kernels in columns:
        with _progress(console, f"{label(path, kernels)}: building and simulating {args.model}"):
            rep = run_model(args.model, path, board, kernels, args.input, graph=graph,
                            lut_activations=args.lut_activations and path == "classic",
                            winograd=args.winograd and path == "classic", tflm_dir=args.tflm_dir,
                            oversize=True).report
        _add_battery(args, board, rep)
        reports.append(rep)
    cmp = compare_report(reports, skipped)
    if args.json:
        write_json(Path(args.json), cmp)
    if args.markdown:
        write_atomic(Path(args.markdown), compare_markdown(cmp))
    if args.html:
        _write_html(Path(args.html), cmp["runs"], f"{Path(args.model).name}: {', '.join(cmp['columns'])}")
    render_compare(console, cmp)
    _print_does_not_fit(console, reports)
    return 0


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    import json

    from .budget import check, check_json, check_junit, check_markdown, check_text, load_budget_files, normalise_budgets
    from .report import write_atomic
    from .runner import run_model

    raw, sources = load_budget_files(Path(args.model))
    cli = {"max_flash": args.max_flash, "max_ram": args.max_ram,
           "max_latency_ms": args.max_latency_ms, "max_energy_uj": args.max_energy_uj}
    raw.update({k: v for k, v in cli.items() if v is not None})
    budgets = normalise_budgets(raw)
    if args.max_growth and not args.baseline:
        raise McusimError("--max-growth needs --baseline REPORT.json (the report to compare with)")
    if not budgets and not args.baseline:
        raise McusimError("no budget given: use --max-flash/--max-ram/--max-latency-ms/--max-energy-uj "
                          "or [tool.mcusim] in pyproject.toml / mcusim.toml beside the model, or --baseline")
    path = args.path or raw.get("path")
    if path not in ("tflm", "tinyml", "classic"):
        raise McusimError("check needs --path tflm|tinyml|classic (or path = ... in the budget file)")
    board = _board(args.board or raw.get("board") or "stm32f411ce", args.place)
    from .stacks import check_kernels, default_kernels

    kernels = args.kernels or raw.get("kernels") or default_kernels(path, board)
    check_kernels(path, kernels)
    if args.baseline:
        from .baseline import compare as against, load_baseline, parse_growth

        allowances = parse_growth(args.max_growth)
        base = load_baseline(args.baseline, path, kernels, board.qualified_name, args.model)
    result = run_model(args.model, path, board, kernels, args.input, tflm_dir=args.tflm_dir, oversize=True)
    c = check(result.report, budgets, board, sources)
    if args.baseline:
        c.baseline_file = args.baseline
        c.growth, c.op_growth = against(base, result.report, allowances)
    if args.format == "json":
        text = json.dumps(check_json(c), indent=2) + "\n"
    elif args.format == "markdown":
        text = check_markdown(c)
    elif args.format == "junit":
        text = check_junit(c)
    else:
        text = ""
        for line in check_text(c):
            console.print(line, highlight=False)
    if text:
        if args.output:
            write_atomic(Path(args.output), text)
        else:
            sys.stdout.write(text)
    return 0 if c.ok else 1


def cmd_fit(args: argparse.Namespace, console: Console) -> int:
    from .fit import anything_fits, fit, render_fit, resolve_boards
    from .report import write_json
    from .sweep import default_workers

    with _progress(console, f"fit: {args.model}") as status:
        def progress(msg: str) -> None:
            if status is not None:
                status.update(msg)

        rep = fit(args.model, args.paths or (f"tinyml/{args.kernels},classic/{args.kernels}" if args.kernels else None),
                  resolve_boards(args.boards), args.tflm_dir, progress, jobs=args.jobs or default_workers())
    if args.json:
        write_json(Path(args.json), rep)
    render_fit(console, rep)
    return 0 if anything_fits(rep) else 1


def cmd_annotate(args: argparse.Namespace, console: Console) -> int:
    from .annotate import annotate, render, saturation_by_function

    board = get_board(args.board)
    target = Path(args.target)
    if not target.is_file():
        raise McusimError(f"{target}: no such file")
    if target.suffix == ".tflite":
        from .runner import run_model

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
        from .elf import Elf
        from .machine import Machine
        from .toolchain import build_elf

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
                  f"x {len(spec.kernels)} kernel flavours = {len(cells)} cells on {engine.name}; results in {db_path}",
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
    from .budget import normalise_budgets
    from .report import write_atomic, write_json
    from .sweep import (ResultsDB, cheapest, pareto_svg, query, query_json, render_cheapest, render_rows,
                        to_csv)

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
        write_atomic(Path(args.csv), to_csv(rows))
    if args.json:
        write_json(Path(args.json), query_json(Path(args.db), rows, answers, metrics))
    if args.plot:
        write_atomic(Path(args.plot), pareto_svg(rows, axes[0], axes[1], title=f"mcusim sweep: {Path(args.db).name}"))
    if answers is not None:
        render_cheapest(console, answers)
    else:
        render_rows(console, rows, f"{args.db}: {len(rows)} cells; ★ Pareto-optimal: no other cell of the "
                                   f"model is as good on all of {', '.join(metrics)}")
    return 0


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from .stacks import check_kernels, default_kernels
    from .tflite import load_model

    board = _board(args.board, args.place)
    kernels = args.kernels or default_kernels(args.path, board)
    check_kernels(args.path, kernels)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise McusimError(f"{out} exists and is not empty; choose a new directory")
    graph = load_model(args.model)
    if args.path == "tinyml":
        from .tinyml import export_tinyml

        export_tinyml(graph, board, kernels, out, Path(args.model).name)
    elif args.path == "tflm":
        from .tflm import export_tflm
        from .tflmtree import find_tree

        export_tflm(graph, board, find_tree(args.tflm_dir, Path(args.model)), kernels, out, name=Path(args.model).name)
    else:
        from .classic import export_classic

        tree = None
        if kernels == "cmsis-nn":
            from .tflmtree import find_tree

            tree = find_tree(args.tflm_dir, Path(args.model))
        export_classic(graph, board, kernels, out, tflm_tree=tree)
    console.print(f"wrote {out}/ for {board.qualified_name} ({args.path}, {kernels} kernels): build it with `make -C {out}`")
    return 0


KERNEL_CHOICES = ("cmsis-nn", "ref", "opt")
KERNELS_HELP = ("kernel flavour: cmsis-nn (real Arm CMSIS-NN from the TFLM tree; classic: mcusim's opt kernel for each "
                "op it lacks, named in the report), opt/ref (mcusim's own; on tflm, ref is TFLM's reference kernels); "
                "default: opt on tinyml/classic, on tflm cmsis-nn on cores with the DSP extension and ref elsewhere")
TFLM_DIR_HELP = ("TensorFlow Lite Micro tree for the tflm path and the cmsis-nn kernels (default: MCUSIM_TFLM_DIR, "
                 "else tflm_dir in mcusim.toml / [tool.mcusim]; docs/stacks.md)")

PLACE_HELP = ("where the firmware puts the stack, arena, data (static data) and weights, e.g. arena=dtcm,stack=sram1 "
              "(regions: `mcusim boards`; defaults in the board file's [placement])")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mcusim", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--version", action="version", version=f"mcusim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sim", help="run a bare-metal Cortex-M ELF (or a one-file C program) and report cycles, memory, energy")
    s.add_argument("firmware", help="an ELF whose vector table is at the start of flash, or a .c/.S file to build first; "
                                    "it stops at bkpt #0, a semihosting exit, newlib's _exit or an endless b .")
    s.add_argument("--board", default="stm32f411ce", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
    s.add_argument("--max-instructions", type=_int_with_suffix, default=2_000_000_000)
    s.add_argument("--window", metavar="BEGIN:END",
                   help="measure only between two functions (entry of BEGIN to entry of END; NAME or NAME:NAME: "
                        "entry of NAME to its return) or two probe tags (e.g. 0x1:0x2), summed over every occurrence")
    s.add_argument("--exit-code", action="store_true",
                   help="exit with the firmware's exit code (as QEMU does) instead of 0")
    s.add_argument("--json", metavar="FILE", help="the JSON report (docs/json-schema.md); - for standard output")
    s.set_defaults(func=cmd_sim)

    for name, helptext in (("run", "build and simulate one deployment path of an int8 .tflite model"),
                           ("compare", "the stacks side by side: real TFLM + CMSIS-NN, generated C on CMSIS-NN, mcusim's own (ratios against the first)")):
        r = sub.add_parser(name, help=helptext)
        r.add_argument("model", help="an int8 .tflite file")
        if name == "run":
            r.add_argument("--path", choices=("tflm", "tinyml", "classic"), required=True)
        if name == "compare":
            r.add_argument("--paths", metavar="P[/K],...",
                           help="the columns, e.g. tflm,classic/cmsis-nn,tinyml/opt (default: tflm/cmsis-nn, "
                                "classic/cmsis-nn, tinyml/opt, classic/opt; the first is the ratios' baseline)")
        r.add_argument("--board", default="stm32f411ce", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
        r.add_argument("--place", metavar="WHAT=REGION,...", help=PLACE_HELP)
        r.add_argument("--kernels", choices=KERNEL_CHOICES, default=None, help=KERNELS_HELP)
        r.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP)
        r.add_argument("--input", metavar="X.npy", help="int8 array of the input tensor's shape (default: a documented pattern)")
        r.add_argument("--json", metavar="FILE")
        r.add_argument("--html", metavar="FILE", help="a self-contained HTML report with tables and plots")
        if name == "compare":
            r.add_argument("--markdown", metavar="FILE", help="the headline table as Markdown")
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

    c = sub.add_parser("check", help="CI gate: exit 0 within budget, 1 over budget, 2 on bad input")
    c.add_argument("model")
    c.add_argument("--path", choices=("tflm", "tinyml", "classic"))
    c.add_argument("--board", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
    c.add_argument("--place", metavar="WHAT=REGION,...", help=PLACE_HELP)
    c.add_argument("--kernels", choices=KERNEL_CHOICES, help=KERNELS_HELP)
    c.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP)
    c.add_argument("--max-flash", metavar="BYTES", help="e.g. 64K")
    c.add_argument("--max-ram", metavar="BYTES", help="peak RAM, e.g. 16K")
    c.add_argument("--max-latency-ms", metavar="MS")
    c.add_argument("--max-energy-uj", metavar="UJ")
    c.add_argument("--input", metavar="X.npy")
    c.add_argument("--format", choices=("text", "json", "markdown", "junit"), default="text")
    c.add_argument("--output", metavar="FILE", help="write the formatted result here instead of stdout")
    c.add_argument("--baseline", metavar="REPORT.json",
                   help="regression gate: compare with this report of the same model, board and stack (run --json, "
                        "check --format json or compare --json, e.g. from the main branch)")
    c.add_argument("--max-growth", metavar="M=N[%],...",
                   help="allowed growth per metric against --baseline: flash, ram, cycles, latency, energy, as a "
                        "percentage or an amount (default: flash=0,ram=0,cycles=0)")
    c.set_defaults(func=cmd_check)

    f = sub.add_parser("fit", help="every board and operating point the model fits (70%% headroom rule), with latency "
                                   "and energy; exit 1 when no part fits")
    f.add_argument("model", help="an int8 .tflite file")
    f.add_argument("--paths", metavar="P[/K],...", help="the stacks to try (default: tinyml/opt,classic/opt)")
    f.add_argument("--kernels", choices=("ref", "opt"), help="flavour of the default stacks (default: opt)")
    f.add_argument("--boards", metavar="B[@OP],...", help="the parts to try (default: every board at every operating point)")
    f.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP)
    f.add_argument("--jobs", type=int, metavar="N", help="simulate on N worker processes (default: the cores)")
    f.add_argument("--json", metavar="FILE", help="the mcusim.fit/2 report (docs/json-schema.md)")
    f.set_defaults(func=cmd_fit)

    an = sub.add_parser("annotate", help="disassembly of the hot code with execution counts and cycle shares")
    an.add_argument("target", help="a .tflite model (with --path and --op), or an ELF / one-file C program")
    an.add_argument("--path", choices=("tinyml", "classic"))
    an.add_argument("--op", type=int, help="operator index in the model")
    an.add_argument("--function", help="annotate this function (default: the hottest ones)")
    an.add_argument("--top", type=int, default=3, help="how many of the hottest functions")
    an.add_argument("--board", default="stm32f411ce", help="a board name, NAME@OPERATING_POINT, or a board file (path/to/board.toml[@OP])")
    an.add_argument("--kernels", choices=KERNEL_CHOICES, default="opt", help=KERNELS_HELP)
    an.add_argument("--tflm-dir", metavar="DIR", help=TFLM_DIR_HELP)
    an.add_argument("--max-instructions", type=_int_with_suffix, default=2_000_000_000)
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
    q.add_argument("db", metavar="DB")
    q.add_argument("--sort", metavar="FIELD", help="any column: latency_ms, energy_uj, flash_bytes, ram_peak_bytes, ...")
    q.add_argument("--desc", action="store_true", help="sort descending")
    q.add_argument("--where", action="append", default=[], metavar="EXPR",
                   help="FIELD OP VALUE, OP one of = != < <= > >= ~ (glob), e.g. path=classic, 'latency_ms<5', model~kws*")
    q.add_argument("--max-flash", metavar="BYTES")
    q.add_argument("--max-ram", metavar="BYTES")
    q.add_argument("--max-latency-ms", metavar="MS")
    q.add_argument("--max-energy-uj", metavar="UJ")
    q.add_argument("--fits", action="store_true", help="only cells that fit with headroom (under 70%% of flash and RAM)")
    q.add_argument("--pareto", action="store_true", help="only the Pareto-optimal cells of each model")
    q.add_argument("--pareto-metrics", default="flash_bytes,ram_peak_bytes,latency_ms,energy_uj", metavar="M,M,...")
    q.add_argument("--cheapest", action="store_true", help="per model and path, the cheapest board it fits on with headroom")
    q.add_argument("--csv", metavar="FILE")
    q.add_argument("--json", metavar="FILE")
    q.add_argument("--plot", metavar="FILE.svg", help="scatter plot per model, Pareto-optimal cells filled")
    q.add_argument("--plot-axes", default="latency_ms,energy_uj", metavar="X,Y", help="e.g. flash_bytes,latency_ms")
    q.set_defaults(func=cmd_query)

    ex = sub.add_parser("export", help="write the generated C project (sources, kernels, startup, linker script, Makefile)")
    ex.add_argument("model")
    ex.add_argument("--path", choices=("classic", "tinyml", "tflm"), default="classic")
    ex.add_argument("--out", required=True, metavar="DIR")
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
    be.add_argument("--rounds", type=int, default=5)
    be.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Not a terminal (CI logs, pipes): wide enough that tables do not elide names. With
    # `--json -` standard output carries the report alone, so tables go to stderr.
    to_stderr = getattr(args, "json", None) == "-"
    out = sys.stderr if to_stderr else sys.stdout
    console = Console(file=out if to_stderr else None, width=None if out.isatty() else 160)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 1000)
    try:
        from .report import check_output_path

        for option in ("json", "html", "output", "csv", "plot"):
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


if __name__ == "__main__":
    sys.exit(main())
