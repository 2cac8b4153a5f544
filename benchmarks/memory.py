"""Peak RAM of every stack on every model, and where its bytes go. Rewrites the marked
section of docs/benchmarks.md.

    python benchmarks/memory.py                # ../shared/models and models/, stm32f411ce
    python benchmarks/memory.py --models models/kws_fc.tflite --no-write

Peak RAM is what the report measures: static RAM of the image (.data/.bss/.noinit, the arena
included) + heap + the stack's measured high-water. Each run's outputs are checked bit-exact
against the int8 reference (mcusim.runner.run_model) before a number is kept.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stacks import SHARED_MODELS, write_section  # noqa: E402  (benchmarks/stacks.py, beside this script)

from mcusim.simulator.board import get_board  # noqa: E402
from mcusim.stacks.runner import run_model  # noqa: E402

STACKS = (("tflm", "cmsis-nn"), ("tinyml", "opt"), ("classic", "opt"), ("classic", "cmsis-nn"))
BEGIN, END = "<!-- memory:begin (python benchmarks/memory.py) -->", "<!-- memory:end -->"


def _run(job: tuple[str, str, str, str]) -> dict | str:
    model, path, kernels, board = job
    try:
        rep = run_model(model, path, get_board(board), kernels).report
    except Exception as e:  # noqa: BLE001 - a cell that cannot run says why
        return f"{type(e).__name__}: {e}".splitlines()[0][:80]
    keep = ("ram_peak_bytes", "ram_breakdown", "arena_persistent_bytes", "arena_planned_bytes", "scratch_bytes")
    return {k: rep[k] for k in keep if k in rep}


def markdown(models: list[Path], reports: dict, board: str, command: str) -> str:
    out = [BEGIN, "", f"Measured with `{command}` on {board} (-O2). Peak RAM = static RAM (arena included) + heap "
           "+ measured stack high-water; outputs bit-exact with the int8 reference in every cell. "
           "tinyml's arena = planned head (tensors, scratch) + persistent tail (op data, per-channel "
           "multipliers, nodes, tensor pointers).", "",
           "| model | tflm/cmsis-nn | tinyml/opt | vs TFLM | classic/opt | vs TFLM | classic/cmsis-nn | vs TFLM |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for m in models:
        base = reports.get((m.name, *STACKS[0]))
        cells = []
        for stack in STACKS:
            r = reports.get((m.name, *stack))
            if not isinstance(r, dict):
                cells.append(f"- ({r})" if r else "-")
                if stack != STACKS[0]:
                    cells.append("-")
                continue
            cells.append(f"{r['ram_peak_bytes']:,}")
            if stack != STACKS[0]:
                cells.append(f"{r['ram_peak_bytes'] / base['ram_peak_bytes']:.2f}x" if isinstance(base, dict) else "-")
        out.append(f"| {m.stem} | " + " | ".join(cells) + " |")
    out += ["", "Where the bytes go (static excluding the arena / arena / stack; tinyml's arena as head + tail; "
            "classic's largest kernel scratch):", "",
            "| model | tflm/cmsis-nn | tinyml/opt | classic/opt | classic/cmsis-nn |", "|---|---|---|---|---|"]
    for m in models:
        cells = []
        for stack in STACKS:
            r = reports.get((m.name, *stack))
            if not isinstance(r, dict):
                cells.append("-")
                continue
            b = r["ram_breakdown"]
            arena = f"{b['arena']:,}"
            if "arena_planned_bytes" in r:
                arena += f" ({r['arena_planned_bytes']:,} + {r['arena_persistent_bytes']:,})"
            scratch = f", scratch {r['scratch_bytes']:,}" if "scratch_bytes" in r else ""
            cells.append(f"{b['static']:,} / {arena} / {b['stack']:,}{scratch}")
        out.append(f"| {m.stem} | " + " | ".join(cells) + " |")
    out += ["", END]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", type=Path,
                    default=sorted(SHARED_MODELS.glob("*.tflite")) + sorted((ROOT / "models").glob("*.tflite")))
    ap.add_argument("--board", default="stm32f411ce")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    jobs = [(str(m), p, k, args.board) for m in args.models for p, k in STACKS]
    reports = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for job, rep in zip(jobs, pool.map(_run, jobs)):
            reports[(Path(job[0]).name, job[1], job[2])] = rep
            print(f"{Path(job[0]).stem} {job[1]}/{job[2]}: "
                  f"{rep['ram_peak_bytes']:,} B" if isinstance(rep, dict) else rep, flush=True)
    command = "python benchmarks/memory.py" + ("" if args.board == "stm32f411ce" else f" --board {args.board}")
    text = markdown(args.models, reports, args.board, command)
    print(text)
    if not args.no_write:
        write_section(text, BEGIN, END, "Peak RAM: every stack on every model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
