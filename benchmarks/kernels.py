"""Kernel speed on the Cortex-M4 model: reference vs optimized flavour of the int8 kernels.

    python benchmarks/kernels.py [--board stm32f411ce] [--markdown] [--functions] [--annotate]

Runs four fixed layers through the same harnesses the tests use (tests/harness/), with the
tensors in RAM (the fully connected layer twice: direct, mcu_fully_connected_s8, and by
Winograd's inner-product identity, mcu_fully_connected_wino_s8; the 3x3 convolution twice:
direct, mcu_conv_s8, and by Winograd F(2x2,3x3), mcu_conv_wino_s8; each pair on the same data),
and prints per flavour: kernel cycles (every cycle of the run outside the harness and start-up
code, and outside one-time preparation such as the Winograd filter transform or the pair sums,
printed on its own), MACs per cycle (MACs of the direct form, so the two forms compare), and
the SMLAD share of the kernel's executed instructions and cycles (harness and preparation
left out). --functions adds, per layer, where the optimized flavour's cycles
go (function by function); --annotate prints the hottest function's hot instructions with
execution counts and cycles (perf-annotate style, as `mcusim annotate` does for a program).
Results are deterministic: the simulator's cycle count is a pure
function of the ELF and the inputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "harness"))

from kernel_cases import CASES  # noqa: E402
from kernel_runner import MCU_OK, SimRunner  # noqa: E402

from mcusim.simulator.elf import Elf  # noqa: E402

ARENA = 96 * 1024
HARNESS_FUNCTIONS = {"Reset_Handler", "main", "harness_main", "harness_run", "stop",
                     "Fault_Handler"}
# One-time preparation the harness runs before the kernel (the classic path does it on the
# host and stores the result in flash): not kernel time, reported on its own.
PREPARE_FUNCTIONS = {"mcu_conv_wino_s8_transform", "mcu_fully_connected_wino_s8_prepare"}

LAYERS = {
    "FULLY_CONNECTED 256->64": ("fully_connected",
                                {"n": 1, "depth": 256, "units": 64, "per_channel": False}),
    "FULLY_CONNECTED 256->64, Winograd inner product": ("fully_connected_wino",
                                                        {"n": 1, "depth": 256, "units": 64,
                                                         "per_channel": False}),
    "CONV_2D 3x3 16->16, 32x32 SAME": ("conv",
                                       {"n": 1, "h": 32, "w": 32, "c": 16, "oc": 16, "kh": 3,
                                        "kw": 3, "sh": 1, "sw": 1, "padding": "SAME"}),
    "CONV_2D 3x3 16->16, 32x32 SAME, Winograd F(2x2,3x3)": ("conv_wino",
                                                          {"n": 1, "h": 32, "w": 32, "c": 16,
                                                           "oc": 16, "kh": 3, "kw": 3, "sh": 1,
                                                           "sw": 1, "padding": "SAME"}),
    "DEPTHWISE_CONV_2D 3x3, 32x32x32 SAME": ("depthwise_conv",
                                             {"n": 1, "h": 32, "w": 32, "c": 32, "mult": 1,
                                              "kh": 3, "kw": 3, "sh": 1, "sw": 1,
                                              "padding": "SAME"}),
}


def measure(board: str, annotate: bool = False) -> list[dict[str, object]]:
    rows = []
    for title, (kernel, spec) in LAYERS.items():
        case = CASES[kernel](dict(spec), np.random.default_rng(0))
        outputs = {}
        for flavour in ("ref", "opt"):
            runner = SimRunner(kernel, flavour, board, arena_bytes=ARENA)
            res = runner.run(case.blob)
            assert res.status == MCU_OK, f"{kernel}/{flavour} returned {res.status}"
            got = res.array(case.out_offset, case.expected.shape)
            assert np.array_equal(got, case.expected), f"{kernel}/{flavour} is not bit-exact"
            outputs[flavour] = got
            run = res.run
            harness = sum(s.cycles for f, s in run.functions.items() if f in HARNESS_FUNCTIONS)
            prepare = sum(s.cycles for f, s in run.functions.items() if f in PREPARE_FUNCTIONS)
            cycles = run.cycles - harness - prepare
            insns, smlad, smlad_cycles, dsp_mac = _kernel_mix(run, Elf(runner.elf))
            funcs = sorted(((f, st.cycles) for f, st in run.functions.items()
                            if f not in HARNESS_FUNCTIONS | PREPARE_FUNCTIONS),
                           key=lambda kv: -kv[1])
            if annotate and flavour == "opt":
                _print_hot_loop(title, runner, run, funcs[0][0])
            rows.append({
                "layer": title, "flavour": flavour, "macs": case.macs, "cycles": cycles,
                "functions": funcs, "prepare_cycles": prepare,
                "macs_per_cycle": case.macs / cycles,
                "smlad_insn_share": smlad / insns,
                "smlad_cycle_share": smlad_cycles / cycles,
                "dsp_mac_insn_share": dsp_mac / insns,
            })
    return rows


def _kernel_mix(run: object, elf: object) -> tuple[int, int, int, int]:
    """Over the kernel's instructions only (not the harness, not one-time preparation):
    instructions executed, SMLAD executions and their cycles, and every DSP multiply-accumulate
    (SMLAD: 2 MACs; SMLABB/SMLATT/...: 1 MAC)."""
    excluded = HARNESS_FUNCTIONS | PREPARE_FUNCTIONS
    insns = smlad = smlad_cycles = dsp_mac = 0
    for addr, (count, cyc) in run.insn_counts.items():
        if elf.function_at(addr) in excluded:
            continue
        mnemonic = run.insns[addr].mnemonic
        insns += count
        if mnemonic.startswith("smlad"):
            smlad += count
            smlad_cycles += cyc
        if mnemonic.startswith("smla"):
            dsp_mac += count
    return insns, smlad, smlad_cycles, dsp_mac


def _print_hot_loop(title: str, runner: SimRunner, run: object, function: str) -> None:
    """The instructions of `function` executed at least a fifth as often as its hottest one."""
    from mcusim.present.annotate import annotate
    from mcusim.simulator.elf import Elf

    lines = annotate(run, run, Elf(runner.elf), function)[function]
    top = max(ln.count for ln in lines)
    print(f"== {title}: {function}")
    for ln in lines:
        if ln.count * 5 >= top:
            print(f"{ln.count:>9,} {ln.cycles:>10,}  {ln.cls:10} {ln.text}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="stm32f411ce")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--functions", action="store_true",
                    help="also print the optimized flavour's cycles per function")
    ap.add_argument("--annotate", action="store_true",
                    help="print the optimized flavour's hot instructions per layer")
    args = ap.parse_args(argv)
    rows = measure(args.board, args.annotate)
    if args.markdown:
        print("| layer | flavour | MACs | kernel cycles | MACs/cycle | SMLAD share of instructions "
              "| SMLAD share of cycles | all SMLA* share of instructions |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['layer']} | {r['flavour']} | {r['macs']:,} | {r['cycles']:,} | "
                  f"{r['macs_per_cycle']:.3f} | {r['smlad_insn_share']:.1%} | "
                  f"{r['smlad_cycle_share']:.1%} | {r['dsp_mac_insn_share']:.1%} |")
    else:
        for r in rows:
            print(f"{r['layer']:40} {r['flavour']:3} macs={r['macs']:>9,} cycles={r['cycles']:>10,} "
                  f"macs/cycle={r['macs_per_cycle']:.3f} smlad={r['smlad_insn_share']:.1%} of insns, "
                  f"{r['smlad_cycle_share']:.1%} of cycles; all SMLA* {r['dsp_mac_insn_share']:.1%} of insns")
    for r in rows:
        if r["prepare_cycles"]:
            print(f"\n{r['layer']} ({r['flavour']}): one-time filter preparation on the target "
                  f"{r['prepare_cycles']:,} cycles, not counted (the classic path does it on the "
                  "host)")
    if args.functions:
        if args.markdown:
            print()
            print("| layer | function (opt) | cycles | share of kernel cycles |")
            print("|---|---|---:|---:|")
        for r in rows:
            if r["flavour"] != "opt":
                continue
            for f, c in r["functions"]:
                if c < 0.001 * r["cycles"]:
                    continue
                if args.markdown:
                    print(f"| {r['layer']} | `{f}` | {c:,} | {c / r['cycles']:.1%} |")
                else:
                    print(f"{r['layer']:40} {f:32} {c:>10,} {c / r['cycles']:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
