"""The command line: ``main(argv) -> exit code`` over functions that return data.

Every domain error is a :class:`mcusim.errors.McusimError`, caught here once and shown as one
line (``error: ...``) with the error's exit code; Ctrl-C exits 130 and leaves no partial file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import __version__
from .board import all_boards, get_board
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


def cmd_boards(args: argparse.Namespace, console: Console) -> int:
    t = Table(title="board profiles (mcusim/boards/*.toml, sources in docs/boards.md)")
    for col in ("board@op", "core", "clock", "WS", "flash", "RAM", "run current", "VDD", "sleep"):
        t.add_column(col, no_wrap=True)
    for b in all_boards():
        for op in b.operating_points:
            t.add_row(
                f"{b.name}@{op.name}", b.core, f"{op.clock_hz / 1e6:g} MHz", str(op.flash_wait_states),
                f"{b.flash_size // 1024} KiB", f"{b.ram_size // 1024} KiB",
                f"{op.run_current_ua / 1000:.2f} mA", f"{op.supply_v:g} V", f"{b.sleep_current_ua:g} µA",
            )
    console.print(t)
    return 0


def cmd_sim(args: argparse.Namespace, console: Console) -> int:
    from .elf import Elf
    from .machine import Machine
    from .report import render_sim, sim_report, write_json

    board = get_board(args.board)
    path = Path(args.firmware)
    if not path.is_file():
        raise McusimError(f"{path}: no such file")
    if path.suffix in (".c", ".S", ".s"):
        from .toolchain import build_elf

        # A single-file program: build it for the board with mcusim's startup code first.
        elf = Elf(build_elf([path], board).elf)
    else:
        elf = Elf(path)
    result = Machine(elf, board).run(max_instructions=args.max_instructions)
    rep = sim_report(path, board, elf, result)
    if args.json:
        write_json(Path(args.json), rep)
    render_sim(console, rep)
    return 0


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

    board = get_board(args.board)
    with _progress(console, f"building and simulating {args.model} ({args.path}, {args.kernels})"):
        result = run_model(args.model, args.path, board, args.kernels, args.input)
    if args.json:
        write_json(Path(args.json), result.report)
    render_run(console, result.report)
    return 0


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    from .report import compare_report, render_compare, write_json
    from .runner import run_model
    from .tflite import load_model

    board = get_board(args.board)
    graph = load_model(args.model)
    reports = {}
    for path in ("tinyml", "classic"):
        with _progress(console, f"{path}: building and simulating {args.model}"):
            reports[path] = run_model(args.model, path, board, args.kernels, args.input, graph=graph).report
    cmp = compare_report(reports["tinyml"], reports["classic"])
    if args.json:
        write_json(Path(args.json), cmp)
    render_compare(console, cmp)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mcusim", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--version", action="version", version=f"mcusim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sim", help="run a bare-metal Cortex-M ELF (or a one-file C program) and report cycles, memory, energy")
    s.add_argument("firmware", help="an ELF whose vector table is at the start of flash and that stops with bkpt, or a .c/.S file to build first")
    s.add_argument("--board", default="stm32f411ce")
    s.add_argument("--max-instructions", type=_int_with_suffix, default=2_000_000_000)
    s.add_argument("--json", metavar="FILE")
    s.set_defaults(func=cmd_sim)

    for name, helptext in (("run", "build and simulate one deployment path of an int8 .tflite model"),
                           ("compare", "run both paths (tinyml interpreter, classic generated C) side by side")):
        r = sub.add_parser(name, help=helptext)
        r.add_argument("model", help="an int8 .tflite file")
        if name == "run":
            r.add_argument("--path", choices=("tinyml", "classic"), required=True)
        r.add_argument("--board", default="stm32f411ce")
        r.add_argument("--kernels", choices=("ref", "opt"), default="opt")
        r.add_argument("--input", metavar="X.npy", help="int8 array of the input tensor's shape (default: a documented pattern)")
        r.add_argument("--json", metavar="FILE")
        r.set_defaults(func=cmd_run if name == "run" else cmd_compare)

    b = sub.add_parser("boards", help="list the board profiles")
    b.set_defaults(func=cmd_boards)

    be = sub.add_parser("bench", help="measure what cycle accounting costs against raw Unicorn")
    be.add_argument("--board", default="stm32f411ce")
    be.add_argument("--repeat", type=int, default=128000, help="dot products of 256 (about 770 instructions each)")
    be.add_argument("--rounds", type=int, default=3)
    be.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Not a terminal (CI logs, pipes): wide enough that tables do not elide names.
    console = Console(width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 1000)
    try:
        return int(args.func(args, console))
    except McusimError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        return e.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as e:  # noqa: BLE001 - a bug in mcusim: one line, unless debugging
        if os.environ.get("MCUSIM_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {type(e).__name__}: {e} (set MCUSIM_DEBUG=1 for the traceback)",
                  highlight=False, soft_wrap=True)
        return 70


if __name__ == "__main__":
    sys.exit(main())
