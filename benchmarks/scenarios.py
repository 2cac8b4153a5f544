"""Reproduce every number of docs/scenarios.md: each scenario runs the mcusim CLI (the exact
commands are printed into the document next to their numbers) and collects the JSON reports.

    python benchmarks/scenarios.py            # rewrites docs/scenarios.md (about 10 minutes)
    python benchmarks/scenarios.py --quick    # fewer models in the sweep, to try it out
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcusim.reference import quantize_float  # noqa: E402
from mcusim.reference import run_graph  # noqa: E402
from mcusim.tflite import load_model  # noqa: E402

TMP = Path(tempfile.mkdtemp(prefix="mcusim-scenarios-"))
COMMANDS: list[str] = []


def mcusim(*args: str) -> dict:
    """Run one mcusim command with --json and return the report (the command is recorded)."""
    out = TMP / f"r{len(COMMANDS)}.json"
    cmd = ["mcusim", *args]
    COMMANDS.append(" ".join(cmd))
    proc = subprocess.run([*cmd, "--json", str(out)], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return json.loads(out.read_text())


def kb(n: float) -> str:
    return f"{n / 1024:.1f} KiB"


def pct(x: float) -> str:
    return f"{x:.1%}"


def scenario_footprint() -> str:
    cmp = mcusim("compare", "models/kws_fc.tflite", "--board", "stm32f411ce")
    tiny, classic = cmp["runs"]
    rows = []
    for r in (tiny, classic):
        fb = r["flash_breakdown"]
        model = fb.get("model", 0) + fb.get("weights", 0)
        rows.append(f"| {r['path']} | {r['flash_bytes']:,} ({kb(r['flash_bytes'])}) | {model:,} | "
                    f"{r['flash_bytes'] - model:,} | {r['ram_peak_bytes']:,} ({kb(r['ram_peak_bytes'])}) | "
                    f"{r['ram_breakdown']['arena']:,} | {r['ram_breakdown']['stack']:,} |")
    return "\n".join([
        "## 1. Memory footprint of the 64-32-16 keyword spotter",
        "",
        f"`{COMMANDS[-1]}`",
        "",
        "| path | flash | of which weights/model | code (runtime, kernels, startup, libc) | peak RAM | arena/buffers | stack |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Flash by component, tinyml: {tiny['flash_breakdown']}; classic: {classic['flash_breakdown']}.",
        "",
        "The commonly quoted figures are ~19 KB flash / 14 KB RAM for TFLM and ~7 KB / 6 KB for",
        "CMSIS-NN-style code. The model alone (250x64 + 64x32 + 32x16 int8 weights and int32 biases)",
        f"is {classic['flash_breakdown'].get('weights', 0):,} bytes, so no deployment of *this* model can be",
        "7 KB: the quoted figures are for a smaller network or count code only. Code-only, the classic",
        f"path needs {classic['flash_bytes'] - classic['flash_breakdown'].get('weights', 0):,} bytes and the tinyml",
        f"path {tiny['flash_bytes'] - tiny['flash_breakdown'].get('model', 0):,} bytes. RAM is far below both quoted",
        "figures: the activations of a 250-64-32-16 network are a few hundred bytes; what dominates peak RAM is",
        "the arena layout (the interpreter keeps the tensors of every op plus persistent op data) and the stack.",
        "",
    ])


def scenario_latency() -> str:
    rows = []
    res = {}
    for path in ("tinyml", "classic"):
        for k in ("ref", "opt"):
            r = mcusim("run", "models/anomaly_cnn1d.tflite", "--path", path, "--kernels", k, "--board", "stm32f411ce")
            res[(path, k)] = r
            rows.append(f"| {path} | {k} | {r['cycles']:,} | {r['latency_ms']:.3f} | {r['kernel_cycles']:,} | "
                        f"{r['cycles'] - r['kernel_cycles']:,} | {pct(r['dispatch_share'])} | {r['instructions']:,} |")
    cmds = COMMANDS[-4:]
    t_ref, t_opt = res[("tinyml", "ref")]["cycles"], res[("tinyml", "opt")]["cycles"]
    c_ref, c_opt = res[("classic", "ref")]["cycles"], res[("classic", "opt")]["cycles"]
    gap = t_ref - c_opt
    dispatch_part = t_opt - c_opt
    kernel_part = t_ref - t_opt
    return "\n".join([
        "## 2. Latency of the 1D CNN on STM32F411CE at 100 MHz",
        "",
        *[f"`{c}`  " for c in cmds],
        "",
        "| path | kernels | cycles | latency (ms) | in kernels | outside kernels | dispatch share | instructions |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"From the slowest (tinyml + reference kernels, {t_ref:,} cycles) to the fastest (classic + optimized,",
        f"{c_opt:,} cycles) the gap is {gap:,} cycles. Swapping the kernels inside the interpreter",
        f"(tinyml ref -> opt) accounts for {kernel_part:,} cycles ({kernel_part / gap:.1%} of the gap); removing the",
        f"interpreter with the same optimized kernels (tinyml opt -> classic opt) "
        f"{'saves' if dispatch_part >= 0 else 'adds'} {abs(dispatch_part):,} cycles",
        f"({abs(dispatch_part) / gap:.1%} of the gap). The interpreter's own cycles (outside the kernel library) are",
        f"{res[('tinyml', 'opt')]['cycles'] - res[('tinyml', 'opt')]['kernel_cycles']:,} per inference against",
        f"{res[('classic', 'opt')]['cycles'] - res[('classic', 'opt')]['kernel_cycles']:,} for the generated code; the rest of",
        "any difference between the two paths with the same kernels is where the linker placed the kernels:",
        "the same kernel code at other addresses meets the flash accelerator's cache differently (flash wait",
        "states on taken branches, docs/cost-model.md), which can favour either path by a fraction of a percent.",
        "Kernel quality, not interpretation, decides the latency of a conv model.",
        "",
        "For scale (issue 3): TensorFlow Lite Micro with CMSIS-NN executes about 408,000 instructions inside",
        "Invoke for this architecture and about 1.31 million with its reference kernels; mcusim's",
        f"tinyml path executes {res[('tinyml', 'opt')]['instructions']:,} (opt) and {res[('tinyml', 'ref')]['instructions']:,} (ref).",
        "",
    ])


def scenario_dispatch(quick: bool) -> str:
    files = sorted((ROOT / "models" / "dispatch_sweep").glob("ops_*.tflite")) + \
        sorted((ROOT / "models" / "dispatch_sweep").glob("tiny_*.tflite"))
    if quick:
        files = files[::5]
    rows = []
    shares = []
    per_op = []
    flash = []
    for f in files:
        rel = f.relative_to(ROOT)
        g = load_model(f)
        r_opt = mcusim("run", str(rel), "--path", "tinyml", "--kernels", "opt")
        shares.append(r_opt["dispatch_share"])
        per_op.append((r_opt["cycles"] - r_opt["kernel_cycles"]) / len(r_opt["ops"]))
        flash.append(r_opt["flash_bytes"])
        r_ref = mcusim("run", str(rel), "--path", "tinyml", "--kernels", "ref")
        c_opt = mcusim("run", str(rel), "--path", "classic", "--kernels", "opt")
        rows.append(f"| {f.name} | {len(g.op_types())} | {len(g.ops)} | {r_opt['cycles']:,} | {pct(r_opt['dispatch_share'])} | "
                    f"{pct(r_ref['dispatch_share'])} | {pct(c_opt['dispatch_share'])} | "
                    f"{r_opt['cycles'] / c_opt['cycles']:.2f} | {r_opt['flash_bytes']:,} | {c_opt['flash_bytes']:,} |")
    return "\n".join([
        "## 3. Interpreter overhead as the number of distinct op types grows",
        "",
        "Models: `models/dispatch_sweep/ops_NN.tflite` and `tiny_NN.tflite` (made by `models/make_dispatch_sweep.py`):",
        "a 1x8x8x8 (ops) or 1x2x2x8 (tiny) feature map through 12 layers cycling over the first k of 11 layer",
        "types, plus stem, global pooling and a dense head (distinct op types = k + 2).",
        "Commands, for each file F: `mcusim run F --path tinyml --kernels opt`, `... --kernels ref`,",
        "`mcusim run F --path classic --kernels opt` (all on stm32f411ce).",
        "",
        "| model | distinct op types | ops | tinyml opt cycles | dispatch (tinyml opt) | dispatch (tinyml ref) | dispatch (classic opt) | tinyml/classic cycles | tinyml flash | classic flash |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"**The claim that dispatch can exceed 40% of inference time is not reproduced by mcusim's interpreter.**",
        f"The largest dispatch share measured here is {max(shares):.1%}, on the tiny maps. The interpreter spends",
        f"{min(per_op):,.0f}-{max(per_op):,.0f} cycles per operator outside the kernels (invoke loop, eval call through",
        "the registry's function pointer, op glue fetching tensor pointers, the probe stores), while even a",
        "2x2x8 operator costs the kernels a few thousand cycles (argument checks, per-channel requantization",
        "set-up, im2col, loop prologues). Dispatch would reach 40% only with per-op kernel work below about",
        "1.5x the interpreter's per-op cost: elementwise ops on a handful of values, or an interpreter that does",
        "more per op than this one (TFLM's C++ invoke adds virtual calls, per-op tensor lookups through the",
        "flatbuffer and optional profiling; it is not measured here). The share does not grow with the number",
        "of distinct op types — the registry is searched at start-up, not per invoke — but flash does:",
        f"the tinyml image grows from {flash[0]:,} to {max(flash):,} bytes across the sweep, because every",
        "registered op links its glue and kernels. Variety costs flash, not time.",
        "",
    ])


def scenario_energy() -> str:
    cmp = mcusim("compare", "models/kws_fc.tflite", "--board", "stm32l476rg@8mhz", "--duty", "1000", "--battery", "500")
    cold = mcusim("run", "models/kws_fc.tflite", "--path", "tinyml", "--board", "stm32l476rg@8mhz",
                  "--duty", "1000", "--battery", "500", "--cold")
    rows = []
    for r in cmp["runs"]:
        b = r["battery"]
        rows.append(f"| {r['path']} | {r['cycles']:,} | {r['latency_ms']:.3f} | {r['energy_uj']:.2f} | "
                    f"{r['startup_cycles']:,} ({r['startup_energy_uj']:.2f} µJ) | {b['average_current_ua']:.3f} | {b['battery_days']:,.0f} |")
    b = cold["battery"]
    rows.append(f"| tinyml, woken cold each time | {cold['cycles']:,} | {cold['latency_ms']:.3f} | {cold['energy_uj']:.2f} | "
                f"{cold['startup_cycles']:,} ({cold['startup_energy_uj']:.2f} µJ) | {b['average_current_ua']:.3f} | {b['battery_days']:,.0f} |")
    return "\n".join([
        "## 4. Energy per inference on STM32L476 at 8 MHz, and battery life",
        "",
        *[f"`{c}`  " for c in COMMANDS[-2:]],
        "",
        "1,000 inferences per day from a 500 mAh cell; between inferences the part sleeps at the board's",
        "sleep current (docs/boards.md).",
        "",
        "| path | cycles | latency (ms) | energy / inference (µJ) | start-up | average current (µA) | battery life (days) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "At 1,000 inferences a day the part is asleep more than 99.9% of the time: sleep current, not the",
        "inference, sets the battery life, so the two paths last about as long unless the part is woken cold",
        "and pays the interpreter's start-up (parse, plan, prepare) every time. The day counts are far beyond a",
        "coin cell's shelf life: with the datasheet's Stop 2 current the battery's self-discharge, the",
        "regulator's quiescent current and the sensor front end (none modelled) decide the real lifetime;",
        "what this scenario shows is the relative cost of the paths, and that the cold-start tax of the",
        "interpreter is larger than the inference itself for this model.",
        "",
    ])


def scenario_quantization() -> str:
    held = np.load(ROOT / "models" / "har_cnn_heldout.npz")
    x = held["x"].astype(np.float32)
    float_top = held["float_probs"].argmax(axis=1)
    rows = []
    costs = []
    for name in ("har_cnn_pt", "har_cnn_pc"):
        g = load_model(ROOT / "models" / f"{name}.tflite")
        t = g.input_tensors()[0]
        agree = 0
        for i in range(len(x)):
            q = quantize_float(x[i].reshape(t.shape), t.scale_value(), t.zero_point_value())
            out = run_graph(g, [q])[0]
            agree += int(np.argmax(out) == float_top[i])
        rows.append((name, agree / len(x)))
        for path in ("tinyml", "classic"):
            r = mcusim("run", f"models/{name}.tflite", "--path", path, "--kernels", "opt")
            costs.append((name, path, r["cycles"], r["flash_bytes"]))
    table = [f"| {n} | {a:.0%} |" for n, a in rows]
    cost = [f"| {n} | {p} | {c:,} | {fl:,} |" for n, p, c, fl in costs]
    return "\n".join([
        "## 5. Per-tensor vs per-channel quantization (har_cnn)",
        "",
        "Agreement: top-1 class of the int8 model (mcusim's numpy reference, bit-exact with TFLM) against the",
        "float Keras model on the 100 held-out synthetic windows of `models/har_cnn_heldout.npz`",
        "(`python benchmarks/scenarios.py`).",
        "",
        "| model | top-1 agreement with float |",
        "|---|---|",
        *table,
        "",
        *[f"`{c}`  " for c in COMMANDS[-4:]],
        "",
        "| model | path | cycles | flash |",
        "|---|---|---|---|",
        *cost,
        "",
        "On this synthetic task both quantizations agree with the float model on every held-out window: the",
        "filters' ranges are similar, so one scale per tensor loses little. Per-channel requantization costs",
        "flash (a multiplier and a shift per output channel, plus per-channel scales in the flatbuffer for the",
        "tinyml path) and almost no cycles: the kernels load the channel's multiplier once per output value,",
        "next to the accumulation of k MACs.",
        "",
    ])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    parts = [
        "# TinyML vs classic: the scenarios, measured",
        "",
        "Every number below was produced by the command printed with it (`python benchmarks/scenarios.py`",
        "regenerates this file). Cycle counts come from mcusim's Cortex-M4 cost model (docs/cost-model.md);",
        "energy from the board profiles (docs/boards.md). Outputs of every run are checked against the int8",
        "reference, which is bit-exact with the tflite-micro interpreter.",
        "",
        scenario_footprint(), scenario_latency(), scenario_dispatch(args.quick), scenario_energy(), scenario_quantization(),
    ]
    (ROOT / "docs" / "scenarios.md").write_text("\n".join(parts))
    print("wrote docs/scenarios.md")


if __name__ == "__main__":
    main()
