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
        Variant("fetch_only", "wait states on instruction fetch only (taken branches missing the I-cache)", False, board),
        Variant("data_no_dcache", "+ data loads from flash, data cache off", True, no_dcache),
        Variant("full", "+ data loads through the ART data cache (the stm32l4r5zi profile)", True, board),
        Variant("no_icache", "full data side, instruction cache off", True, no_icache),
    ]


def run_one(elf: Path, board: Board, data_stalls: bool, expected: list[int]) -> dict:
    t = time.perf_counter()
    m = Machine(elf, board, data_stalls=data_stalls)
    res = m.run()
    wall = time.perf_counter() - t
    values = [v for _, v in res.probes]
    stamps = {v: c for c, v in res.probes if v in (INVOKE_START, INVOKE_END)}
    k = values.index(TAG_RESULTS)
    dwt_invoke = values[k + 2]
    n = values[k + 4]
    words = values[k + 5: k + 5 + (n + 3) // 4]
    out = b"".join(w.to_bytes(4, "little") for w in words)[:n]
    got = [b - 256 if b > 127 else b for b in out]
    if got != expected:
        raise SystemExit(f"{elf.name} on {board.qualified_name}: output differs from the TFLM reference")
    return {
        "invoke_cycles": dwt_invoke,
        "window_cycles": stamps[INVOKE_END] - stamps[INVOKE_START],
        "fetch_stall": res.fetch_stall_cycles,
        "data_stall": res.data_stall_cycles,
        "unresolved": m.unresolved_load_executions,
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calibration", type=Path, default=CALIBRATION)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "fidelity.md")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    results = measure(args.calibration)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
