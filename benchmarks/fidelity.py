"""Simulated against published silicon: writes docs/fidelity.md.

    python benchmarks/fidelity.py [--calibration DIR] [--out docs/fidelity.md]

The calibration set is ../shared/calibration/mlperf-tiny-l4r5 (four MLPerf Tiny v1.0 models,
TFLM + the CMSIS-NN of the OctoML submission, built for the STM32L4R5ZI; README there), each
run on the stm32l4r5zi profile under several flash models, so what each modelled effect
contributes is measured, not assumed. Every run's outputs are checked against the TFLM
reference outputs (models/expected_outputs.json) before its cycles are used.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcusim.board import Board, FlashInterface, get_board  # noqa: E402
from mcusim.machine import Machine  # noqa: E402


def _shared() -> Path:
    """The shared data directory: ../shared beside the clone (CI, /work/main), or one level
    further up from a worktree (/work/wt/NAME)."""
    for cand in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if cand.is_dir():
            return cand
    return ROOT.parent / "shared"


SHARED = _shared()
CALIBRATION = SHARED / "calibration" / "mlperf-tiny-l4r5"
EXPECTED = SHARED / "models" / "expected_outputs.json"
TAG_RESULTS = 0xC0DE0001
INVOKE_START, INVOKE_END = 0x1A7E0000, 0x1A7E0001

# (benchmark, ELF, model key in expected_outputs.json, published latency in ms at 120 MHz).
# MLPerf Tiny v1.0, closed division, OctoML, NUCLEO-L4R5ZI, microTVM + CMSIS-NN: 1 / median
# throughput of closed/OctoML/results/microtvm_cmsis_nn/NUCLEO_L4R5ZI/<bm>/performance/results.txt.
MODELS = (
    ("AD", "ad01_int8_cmsis22.elf", "ad01_int8", 8.605),
    ("KWS", "kws_ref_model_cmsis22.elf", "kws_ref_model", 99.81),
    ("VWW", "vww_96_int8_cmsis22.elf", "vww_96_int8", 301.20),
    ("IC", "pretrainedResnet_quant_cmsis22.elf", "pretrainedResnet_quant", 389.56),
)


@dataclasses.dataclass
class Variant:
    key: str
    what: str
    data_stalls: bool
    board: Board


def variants(board: Board) -> list[Variant]:
    """The flash models compared, from none to the full documented interface."""
    no_ws = dataclasses.replace(board, op=dataclasses.replace(board.op, flash_wait_states=0))
    no_dcache = dataclasses.replace(board, flash_interface=dataclasses.replace(board.flash_interface, dcache_lines=0))
    no_icache = dataclasses.replace(board, icache_lines=0)
    return [
        Variant("zero_ws", "flash at 0 wait states (no flash model)", False, no_ws),
        Variant("fetch_only", "wait states on instruction fetch only (I-cache misses: taken branches, straight-line "
                "streaming)", False, board),
        Variant("data_no_dcache", "+ data loads from flash, data cache off", True, no_dcache),
        Variant("full", "+ data loads through the ART data cache (the stm32l4r5zi profile)", True, board),
        Variant("no_icache", "full data side, instruction cache off (every taken branch into flash pays; "
                "straight-line fetch not charged)", True, no_icache),
    ]


def run_one(elf: Path, board: Board, data_stalls: bool, expected: list[int]) -> dict:
    t = time.perf_counter()
    m = Machine(elf, board, data_stalls=data_stalls, snapshot_probes=True)
    res = m.run()
    wall = time.perf_counter() - t
    values = [v for _, v in res.probes]
    start, end = (m.probe_snapshots[values.index(v)] for v in (INVOKE_START, INVOKE_END))
    per_block = [b.unresolved_loads for b in m._blocks]
    unresolved_invoke = sum(int(e1 - (start.execs[i] if i < len(start.execs) else 0)) * u
                            for i, (e1, u) in enumerate(zip(end.execs, per_block)) if u)
    stamps = {v: c for c, v in res.probes if v in (INVOKE_START, INVOKE_END)}
    k = values.index(TAG_RESULTS)
    dwt_invoke = values[k + 2]
    n = values[k + 4]
    words = values[k + 5: k + 5 + (n + 3) // 4]
    out = b"".join(w.to_bytes(4, "little") for w in words)[:n]
    got = [b - 256 if b > 127 else b for b in out]
    if got != expected:
        raise SystemExit(f"{elf.name} on {board.qualified_name}: output differs from the TFLM reference")
    window = m.window(start, end)
    dstall: dict[str, int] = {}
    for i, blk in enumerate(m._blocks):
        before = int(start.dstall[i]) if i < len(start.dstall) else 0
        d = int(end.dstall[i]) - before if i < len(end.dstall) else 0
        if d:
            f = m.elf.function_at(blk.addr)
            dstall[f] = dstall.get(f, 0) + d
    top = sorted(window.functions.items(), key=lambda kv: -kv[1].cycles)[:3]
    return {
        "top_functions": [(f, st.cycles, dstall.get(f, 0)) for f, st in top],
        "invoke_cycles": dwt_invoke,
        "window_cycles": stamps[INVOKE_END] - stamps[INVOKE_START],
        "fetch_stall": res.fetch_stall_cycles,
        "data_stall": res.data_stall_cycles,
        "unresolved": m.unresolved_load_executions,
        "unresolved_invoke": unresolved_invoke,
        "instructions": res.instructions,
        "wall_s": wall,
    }


def measure(calibration: Path, board_name: str = "stm32l4r5zi") -> dict:
    board = get_board(board_name)
    expected = json.loads(EXPECTED.read_text())["models"]
    results: dict = {"board": board.qualified_name, "clock_hz": board.op.clock_hz, "models": {}}
    for bm, elf_name, key, published_ms in MODELS:
        elf = calibration / elf_name
        row = {"published_ms": published_ms, "runs": {}}
        for v in variants(board):
            r = run_one(elf, v.board, v.data_stalls, expected[key]["output_int8"])
            r["ms"] = r["invoke_cycles"] / board.op.clock_hz * 1e3
            r["ratio"] = r["ms"] / published_ms
            row["runs"][v.key] = r
            print(f"{bm:4} {v.key:15} {r['invoke_cycles']:>12,} cycles {r['ms']:8.2f} ms  ratio {r['ratio']:.3f}"
                  f"  fetch stall {r['fetch_stall']:,} data stall {r['data_stall']:,} unresolved {r['unresolved']}"
                  f"  ({r['wall_s']:.1f} s)", flush=True)
        results["models"][bm] = row
    return results


def render(results: dict, command: str) -> str:
    """docs/fidelity.md from measured results."""
    models = results["models"]
    keys = [v.key for v in variants(get_board("stm32l4r5zi"))]
    what = {v.key: v.what for v in variants(get_board("stm32l4r5zi"))}
    out = [
        "# Fidelity: simulated figures against published silicon",
        "",
        f"Generated by `{command}` (benchmarks/fidelity.py); every number below is measured by that",
        "command, none typed in. Each run's outputs were checked bit for bit against the TFLM",
        "reference outputs before its cycles were used.",
        "",
        "## The comparison",
        "",
        "| | simulated (mcusim) | published (silicon) | how well matched |",
        "|---|---|---|---|",
        f"| board | `{results['board']}` profile | NUCLEO-L4R5ZI | same chip; the profile's figures are cited in docs/boards.md |",
        f"| clock | {results['clock_hz'] / 1e6:.0f} MHz, 5 wait states (RM0432 Range 1 boost) | 120 MHz | same |",
        "| software | TFLM d5d82e25f + CMSIS-NN 51263182 (2022), GCC 12.2 -O2, bare metal | microTVM (TVM e3a6cb6a) AOT + the same CMSIS-NN, Zephyr 2.7.3, GCC 10.3 (not verified) | kernels and models match; the runtime around them, OS and compiler do not |",
        "| what is timed | DWT cycles of one `Invoke()` | 1 / median throughput of the EEMBC runner loop (many inferences, harness included) | not the same window: silicon includes per-inference harness time |",
        "| flash/caches | ART prefetch + I-cache + D-cache modelled on | whether Zephyr 2.7.3 enables PRFTEN/ICEN/DCEN on this board was not verified | assumed on (ST's reset default for ICEN/DCEN on the L4 is on; not verified for Zephyr) |",
        "",
        "Sources of the published latencies: MLPerf Tiny v1.0 closed division, OctoML, `closed/OctoML/results/",
        "microtvm_cmsis_nn/NUCLEO_L4R5ZI/<benchmark>/performance/results.txt` in mlcommons/tiny_results_v1.0",
        "(../shared/calibration/mlperf-tiny-l4r5/README.md has the build and the probe protocol).",
        "",
        "## Result: the stm32l4r5zi profile as shipped",
        "",
        "| model | published ms | simulated ms | simulated / silicon | error | within ±10% |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for bm, row in models.items():
        r = row["runs"]["full"]
        err = (r["ratio"] - 1) * 100
        out.append(f"| {bm} | {row['published_ms']:.2f} | {r['ms']:.2f} | {r['ratio']:.3f} | {err:+.1f}% | "
                   f"{'yes' if abs(err) <= 10 else 'no'} |")
    out += [
        "",
        "## What each modelled effect contributes",
        "",
        "Simulated / silicon latency for each flash model (the same ELF, the same board otherwise):",
        "",
        "| flash model | " + " | ".join(models) + " |",
        "|---|" + "---:|" * len(models),
    ]
    for k in keys:
        out.append(f"| {what[k]} | " + " | ".join(f"{models[bm]['runs'][k]['ratio']:.3f}" for bm in models) + " |")
    out += [
        "",
        "Flash stall cycles of the whole run (start-up, AllocateTensors and Invoke) with the full model",
        "(instruction fetch / data loads), and the executions of loads whose address the load plan",
        "could not rebuild (charged nothing; mcusim/loadplan.py): in the whole run and inside `Invoke()`:",
        "",
        "| model | Invoke cycles | fetch stall | data stall | unresolved load executions (run / Invoke) | instructions (run) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for bm, row in models.items():
        r = row["runs"]["full"]
        out.append(f"| {bm} | {r['invoke_cycles']:,} | {r['fetch_stall']:,} | {r['data_stall']:,} | "
                   f"{r['unresolved']:,} / {r['unresolved_invoke']:,} | {r['instructions']:,} |")
    out += [
        "",
        "Where the time goes inside `Invoke()` (full model): the three functions with the most",
        "cycles, and the data-stall cycles among them:",
        "",
        "| model | function | cycles | share of Invoke | data stall |",
        "|---|---|---:|---:|---:|",
    ]
    for bm, row in models.items():
        r = row["runs"]["full"]
        for f, cyc, ds in r["top_functions"]:
            out.append(f"| {bm} | `{f}` | {cyc:,} | {cyc / r['window_cycles']:.1%} | {ds:,} |")
    off = [(bm, (row["runs"]["full"]["ratio"] - 1) * 100) for bm, row in models.items()
           if abs(row["runs"]["full"]["ratio"] - 1) > 0.10]
    outside = ("Outside ±10%: " + ", ".join(f"{bm} ({e:+.1f}%)" for bm, e in off)
               + "; no factor was added to close the gap.") if off else "All four are within ±10%."
    out += ["", CALIBRATION_NOTES.format(outside=outside)]
    return "\n".join(out) + "\n"


CALIBRATION_NOTES = """## What is calibrated and what is not

- **Nothing is fitted to these four numbers.** The flash model's figures (wait states, read
  width, cache geometry) come from the reference manuals cited in docs/boards.md; where a figure
  could not be checked against a copy of the manual the board file says so. The assumptions the
  manuals do not settle are named there too (a data-cache miss fills one flash read, costs the
  full latency; no data-side prefetch).
- **Cortex-M4 core table**: from the TRM (docs/cost-model.md); exact-cycle snippet tests
  (tests/test_machine.py, zero wait states) pin it and still pass unchanged: no core rule was
  changed for this comparison. The four models here test the memory system on top of it.
- **What the flash model is made of**: instruction side: a direct-mapped model of the ART
  I-cache, the wait states on a taken branch that misses it, and straight-line code streaming
  in at one 64-bit read per 6 cycles (5 WS + 1) when it misses; data side: every 64-bit flash
  read a load needs costs 5 wait states unless the 8-line LRU data cache holds it
  (docs/cost-model.md step 3, docs/boards.md).
- **Not calibrated against silicon**: the Cortex-M7 model (dual issue is an approximation:
  LLVM's scheduling model and public microbenchmarks, docs/cost-model.md), the Cortex-M0+ and
  the Cortex-M33 tables (TRM figures and approximations, no published DWT comparison here), the
  M7 L1 caches and the nRF52840, STM32G0 and STM32F3 flash interfaces (from documents only).
- **Known gaps** between the two sides of the table above: the runtime around the kernels
  (TFLM interpreter vs microTVM AOT), per-inference harness time in the published throughput,
  and the compiler version. In the flash model itself: the ART caches are modelled with
  geometry taken from the STM32L4's RM0351 (not verified in RM0432); the instruction cache is
  direct-mapped where the manual describes LRU; a data-cache miss is assumed to fill one 64-bit
  read. The data cache matters most for KWS (compare the "data cache off" row): its pointwise
  convolutions (`arm_nn_mat_mult_nt_t_s8`) stream four 64-byte weight rows at a time, 256 bytes,
  exactly the 8 lines of 32 bytes of the data cache, so with LRU they hit after the first pass.
  {outside}
- **Loads the plan cannot rebuild** are charged nothing; the table above counts them (a few
  hundred executions inside `Invoke()`).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calibration", type=Path, default=CALIBRATION)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "fidelity.md")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    results = measure(args.calibration)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    args.out.write_text(render(results, "python benchmarks/fidelity.py"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
