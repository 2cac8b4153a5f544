"""Every stack on the real models: flash, peak RAM, cycles per model, and mcusim's own `opt`
kernels against real CMSIS-NN per op type. Rewrites the marked section of docs/benchmarks.md.

    python benchmarks/stacks.py                 # ../shared/models and models/, stm32f411ce
    python benchmarks/stacks.py --jobs 2 --board stm32f411ce --models ../shared/models/kws_ref_model.tflite
    python benchmarks/stacks.py --no-write      # print the Markdown only

Everything goes through the Python API (mcusim.api.run, docs/api.md); each run's outputs are checked
bit-exact against the int8 reference before a number is kept.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcusim import api  # noqa: E402
from mcusim.errors import McusimError  # noqa: E402
from mcusim.frontend.tflite import load_model  # noqa: E402

# ../shared/models from the main checkout (/work/main) and from a worktree (/work/wt/<name>)
SHARED_MODELS = next((d for d in (ROOT.parent / "shared" / "models", ROOT.parents[1] / "shared" / "models")
                      if d.is_dir()), ROOT.parent / "shared" / "models")
REPO_MODELS = ROOT / "models"
STACKS = (("tflm", "cmsis-nn"), ("tflm", "ref"), ("classic", "cmsis-nn"), ("classic", "opt"), ("tinyml", "opt"))
BASELINE = ("tflm", "cmsis-nn")
BEGIN, END = "<!-- stacks:begin (python benchmarks/stacks.py) -->", "<!-- stacks:end -->"


def _run(job: tuple[str, str, str, str]) -> dict:
    """The run's report, or {"error": the one-line reason} when the stack cannot build or run it."""
    model, path, kernels, board = job
    t0 = time.time()
    try:
        rep = api.run(model, path, board=board, kernels=kernels).to_dict()
    except McusimError as e:
        rep = {"error": str(e).splitlines()[0]}
    rep["_seconds"] = time.time() - t0
    return rep


def op_kind(graph, index: int) -> str:
    """The op type, refined where kernels take different code paths."""
    op = graph.ops[index]
    t = graph.tensors
    if op.type == "DEPTHWISE_CONV_2D":
        mult = int(op.options.get("depth_multiplier", 1) or 1)
        cin = t[op.inputs[0]].shape[-1]
        cout = t[op.outputs[0]].shape[-1]
        return "DEPTHWISE_CONV_2D (multiplier 1)" if cout == cin and mult <= 1 else "DEPTHWISE_CONV_2D (multiplier > 1)"
    if op.type == "CONV_2D":
        w = t[op.inputs[1]].shape
        return "CONV_2D 1x1" if w[1] == 1 and w[2] == 1 else "CONV_2D"
    return op.type


def markdown(models: list[Path], reports: dict, board: str, command: str) -> str:
    out = [BEGIN, "", f"Measured with `{command}` on {board} (-O2; TFLM 90b983c2, CMSIS-NN 4ab83cc3 from "
           "../shared/third_party; outputs bit-exact with the int8 reference in every cell).", "",
           "### Every stack on the models (../shared/models, then models/)", "",
           "| model | stack | flash (B) | peak RAM (B) | cycles | vs tflm/cmsis-nn | dispatch | fallbacks |",
           "|---|---|---:|---:|---:|---:|---:|---|"]
    for m in models:
        base = reports.get((m.name, *BASELINE))
        base = None if base is None or "error" in base else base
        for stack in STACKS:
            r = reports.get((m.name, *stack))
            if r is None:
                continue
            if "error" in r:
                out.append(f"| {m.stem} | {stack[0]}/{stack[1]} | - | - | - | - | - | does not run: {r['error']} |")
                continue
            ratio = f"{r['cycles'] / base['cycles']:.2f}x" if base else "-"
            fb = ", ".join(f"{f['type']}" for f in r.get("fallbacks", [])) or "-"
            out.append(f"| {m.stem} | {stack[0]}/{stack[1]} | {r['flash_bytes']:,} | {r['ram_peak_bytes']:,} | "
                       f"{r['cycles']:,} | {ratio} | {r['dispatch_share']:.1%} | {fb} |")
    # Per op type: mcusim's opt kernels vs CMSIS-NN, both called from the same generated C.
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    worst: dict[str, tuple[float, str]] = {}
    for m in models:
        a, b = reports.get((m.name, "classic", "opt")), reports.get((m.name, "classic", "cmsis-nn"))
        if a is None or b is None or "error" in a or "error" in b:
            continue
        graph = load_model(m)
        by_b = {o["index"]: o for o in b["ops"]}
        for o in a["ops"]:
            ob = by_b.get(o["index"])
            if ob is None or not ob["cycles"] or ob.get("fallback"):
                continue  # CMSIS-NN lacks the op: both columns would be mcusim's kernel
            kind = op_kind(graph, o["index"])
            s = sums[kind]
            s[0] += o["cycles"]
            s[1] += ob["cycles"]
            s[2] += 1
            r = o["cycles"] / ob["cycles"]
            if r > worst.get(kind, (0.0, ""))[0]:
                worst[kind] = (r, f"{m.stem} op {o['index']}")
    out += ["", "### mcusim's opt kernels against CMSIS-NN, per op type", "",
            "Both columns are the classic path (the same generated C), so the difference is the kernels. "
            "Cycles summed over every layer of that type in the models above; layers CMSIS-NN cannot run "
            "(the fallbacks column above: mcusim's kernel in both columns) are left out.", "",
            "| op type | layers | classic/opt cycles | classic/cmsis-nn cycles | opt / CMSIS-NN | worst layer |",
            "|---|---:|---:|---:|---:|---|"]
    for kind, (co, cc, n) in sorted(sums.items()):
        w = worst[kind]
        out.append(f"| {kind} | {n} | {co:,} | {cc:,} | {co / cc:.2f}x | {w[0]:.2f}x ({w[1]}) |")
    out += ["", END]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", type=Path,
                    default=sorted(SHARED_MODELS.glob("*.tflite")) + sorted(REPO_MODELS.glob("*.tflite")))
    ap.add_argument("--board", default="stm32f411ce")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    jobs = [(str(m), p, k, args.board) for m in args.models for p, k in STACKS]
    reports = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for job, rep in zip(jobs, pool.map(_run, jobs)):
            reports[(Path(job[0]).name, job[1], job[2])] = rep
            what = (f"does not run: {rep['error']}" if "error" in rep else
                    f"{rep['cycles']:,} cycles, {rep['flash_bytes']:,} B flash, {rep['ram_peak_bytes']:,} B RAM")
            print(f"{Path(job[0]).stem} {job[1]}/{job[2]}: {what} ({rep['_seconds']:.0f} s)", flush=True)
    command = "python benchmarks/stacks.py" + ("" if args.board == "stm32f411ce" else f" --board {args.board}")
    text = markdown(args.models, reports, args.board, command)
    print(text)
    if not args.no_write:
        write_section(text, BEGIN, END, "The real stacks and mcusim's own")
    return 0


def write_section(text: str, begin: str, end: str, heading: str) -> None:
    """Put ``text`` (which starts with ``begin`` and ends with ``end``) in docs/benchmarks.md in
    place of the section between those markers, or append it under ``heading``."""
    doc = ROOT / "docs" / "benchmarks.md"
    s = doc.read_text()
    if begin in s:
        s = s[: s.index(begin)] + text + s[s.index(end) + len(end):]
    else:
        s += f"\n## {heading}\n\n" + text + "\n"
    doc.write_text(s)


if __name__ == "__main__":
    sys.exit(main())
