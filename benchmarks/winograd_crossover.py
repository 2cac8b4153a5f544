"""Where Winograd F(2x2,3x3) stops paying: mcu_conv_wino_s8 against mcu_conv_s8 (optimized
flavours, Cortex-M4 model) on 3x3 / stride-1 SAME layers of several sizes, same data.

    python benchmarks/winograd_crossover.py [--board stm32f411ce]

The Winograd kernel computes output tiles of 2x2 four at a time along a row, so on small
output maps most of a block is padding; the classic path's ``--winograd`` uses it only where
this table says it is faster (mcusim.winograd.MIN_OUTPUT). Kernel cycles exclude the harness
and the one-time filter transform, as in benchmarks/kernels.py.
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
        "mcu_conv_wino_s8_transform"}
# (out_h, out_w, in channels, out channels): SAME padding, so the input has the same size
SHAPES = [(2, 2, 16, 16), (2, 3, 16, 16), (3, 3, 16, 16), (1, 8, 16, 16), (3, 4, 16, 16),
          (2, 4, 32, 32), (4, 4, 8, 8), (4, 4, 32, 32), (5, 5, 32, 32), (6, 6, 3, 16),
          (8, 8, 1, 8), (16, 16, 32, 32)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="stm32f411ce")
    args = ap.parse_args(argv)
    runners = {k: SimRunner(k, "opt", args.board, arena_bytes=96 * 1024)
               for k in ("conv", "conv_wino")}
    print("| output | C -> O | mcu_conv_s8 cycles | mcu_conv_wino_s8 cycles | Winograd / direct |")
    print("|---|---|---:|---:|---:|")
    for h, w, c, o in SHAPES:
        spec = {"n": 1, "h": h, "w": w, "c": c, "oc": o, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
                "padding": "SAME", "act": "none"}
        cycles = []
        for kernel, runner in runners.items():
            case = CASES[kernel](dict(spec), np.random.default_rng(0))
            res = runner.run(case.blob)
            assert res.status == MCU_OK
            assert np.array_equal(res.array(case.out_offset, case.expected.shape), case.expected)
            run = res.run
            cycles.append(run.cycles - sum(s.cycles for f, s in run.functions.items() if f in SKIP))
        print(f"| {h}x{w} | {c} -> {o} | {cycles[0]:,} | {cycles[1]:,} | {cycles[1] / cycles[0]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
