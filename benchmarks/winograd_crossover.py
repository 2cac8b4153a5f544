"""Where the Winograd kernels stop paying: mcu_conv_wino_s8 against mcu_conv_s8 on 3x3 /
stride-1 SAME layers, and mcu_fully_connected_wino_s8 against mcu_fully_connected_s8 (per-channel),
of several sizes (optimized flavours, Cortex-M4 model, same data for both kernels of a row).

    python benchmarks/winograd_crossover.py [--board stm32f411ce]

The Winograd conv computes output tiles of 2x2 four at a time along a row, so on small output
maps most of a block is padding; the inner-product FC runs rows in blocks of 8 and has more
per-call work. The classic path's ``--winograd`` uses each only where these tables say it is
faster (mcusim.winograd.worthwhile, fc_worthwhile). Kernel cycles exclude the harness and the
one-time preparation, as in benchmarks/kernels.py.
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

SKIP = {"Reset_Handler", "main", "harness_main", "harness_run", "stop", "Fault_Handler",
        "mcu_conv_wino_s8_transform", "mcu_fully_connected_wino_s8_prepare"}
# (out_h, out_w, in channels, out channels): SAME padding, so the input has the same size
SHAPES = [(2, 2, 16, 16), (2, 3, 16, 16), (3, 3, 16, 16), (1, 8, 16, 16), (3, 4, 16, 16),
          (2, 4, 32, 32), (4, 4, 8, 8), (4, 4, 32, 32), (5, 5, 32, 32), (6, 6, 3, 16),
          (8, 8, 1, 8), (16, 16, 32, 32)]
# (depth, units) of FULLY_CONNECTED
FC_SHAPES = [(16, 4), (64, 4), (16, 8), (32, 8), (16, 16), (64, 8), (8, 64), (32, 16),
             (64, 16), (128, 8), (64, 32), (250, 64)]


def _kernel_cycles(runner: SimRunner, case: object) -> int:
    res = runner.run(case.blob)
    assert res.status == MCU_OK
    assert np.array_equal(res.array(case.out_offset, case.expected.shape), case.expected)
    run = res.run
    return run.cycles - sum(s.cycles for f, s in run.functions.items() if f in SKIP)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="stm32f411ce")
    args = ap.parse_args(argv)
    runners = {k: SimRunner(k, "opt", args.board, arena_bytes=96 * 1024)
               for k in ("conv", "conv_wino", "fully_connected", "fully_connected_wino")}
    print("| output | C -> O | mcu_conv_s8 cycles | mcu_conv_wino_s8 cycles | Winograd / direct |")
    print("|---|---|---:|---:|---:|")
    for h, w, c, o in SHAPES:
        spec = {"n": 1, "h": h, "w": w, "c": c, "oc": o, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
                "padding": "SAME", "act": "none"}
        cycles = [_kernel_cycles(runners[k], CASES[k](dict(spec), np.random.default_rng(0)))
                  for k in ("conv", "conv_wino")]
        print(f"| {h}x{w} | {c} -> {o} | {cycles[0]:,} | {cycles[1]:,} | {cycles[1] / cycles[0]:.2f} |")
    print()
    print("| FC depth -> units | MACs | mcu_fully_connected_s8 cycles | "
          "mcu_fully_connected_wino_s8 cycles | inner product / direct |")
    print("|---|---:|---:|---:|---:|")
    for depth, units in FC_SHAPES:
        spec = {"n": 1, "depth": depth, "units": units, "per_channel": True}
        cycles = [_kernel_cycles(runners[k], CASES[k](dict(spec), np.random.default_rng(0)))
                  for k in ("fully_connected", "fully_connected_wino")]
        print(f"| {depth} -> {units} | {depth * units:,} | {cycles[0]:,} | {cycles[1]:,} | "
              f"{cycles[1] / cycles[0]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
