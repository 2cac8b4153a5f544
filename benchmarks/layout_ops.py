"""Cycles of the data-movement and resize operators per stack, on layers larger than the
single-op test models (which are a few dozen bytes).

    python benchmarks/layout_ops.py [--board stm32f411ce] [--stacks classic/ref,classic/opt,...]

Makes seven one-op int8 models with tests/tflite_builder.py in a temporary directory (no
TensorFlow): TRANSPOSE 1x32x32x16 to NCHW (c moves) and to 1x32x32x16 swapping H and W (c
stays), RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR 1x16x16x16 -> 32x32 (half-pixel centers /
plain), GATHER of 32 rows of a 64x64 table, SLICE of 1x24x24x8 out of 1x32x32x16, SPLIT_V of the
channels 16 -> 8 + 8, and runs each on every stack (mcusim.run: outputs checked bit-exact
against the numpy reference), printing the operator's cycles (its probe window: on tinyml and
tflm that includes the interpreter's call into the op).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tflite_builder import ModelBuilder, single_op_model  # noqa: E402

import mcusim  # noqa: E402

STACKS = ("classic/ref", "classic/opt", "tinyml/opt", "tflm/ref", "tflm/cmsis-nn", "classic/cmsis-nn")
Q = {"in_q": [(0.1, 0)], "out_q": (0.1, 0)}


def _i32(v: list[int]) -> tuple[str, np.ndarray]:
    return ("INT32", np.array(v, np.int32))


def _split() -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 32, 32, 16), scale=0.1)
    parts = [b.tensor((1, 32, 32, 8), scale=0.1) for _ in range(2)]
    sizes = b.tensor((2,), "INT32", data=np.array([8, 8], np.int32))
    axis = b.tensor((), "INT32", data=np.array(3, np.int32))
    b.op("SPLIT_V", [x, sizes, axis], parts, num_splits=2)
    return b.io([x], parts).build()


MODELS = {
    "TRANSPOSE 1x32x32x16 -> NCHW": lambda: single_op_model(
        "TRANSPOSE", [(1, 32, 32, 16)], (1, 16, 32, 32), consts={1: _i32([0, 3, 1, 2])}, **Q),
    "TRANSPOSE 1x32x32x16 H<->W": lambda: single_op_model(
        "TRANSPOSE", [(1, 32, 32, 16)], (1, 32, 32, 16), consts={1: _i32([0, 2, 1, 3])}, **Q),
    "RESIZE_BILINEAR 16x16x16 -> 32x32": lambda: single_op_model(
        "RESIZE_BILINEAR", [(1, 16, 16, 16)], (1, 32, 32, 16), consts={1: _i32([32, 32])},
        half_pixel_centers=True, **Q),
    "RESIZE_NEAREST 16x16x16 -> 32x32": lambda: single_op_model(
        "RESIZE_NEAREST_NEIGHBOR", [(1, 16, 16, 16)], (1, 32, 32, 16), consts={1: _i32([32, 32])}, **Q),
    "GATHER 32 rows of 64x64": lambda: single_op_model(
        "GATHER", [(64, 64)], (32, 64), consts={1: _i32(list(range(63, 0, -2)))}, **Q),
    "SLICE 1x24x24x8 of 1x32x32x16": lambda: single_op_model(
        "SLICE", [(1, 32, 32, 16)], (1, 24, 24, 8), consts={1: _i32([0, 4, 4, 4]), 2: _i32([1, 24, 24, 8])}, **Q),
    "SPLIT_V channels 16 -> 8 + 8": _split,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--board", default="stm32f411ce")
    ap.add_argument("--stacks", default=",".join(STACKS))
    args = ap.parse_args(argv)
    stacks = args.stacks.split(",")
    print("| operator | " + " | ".join(stacks) + " |")
    print("|---|" + "---:|" * len(stacks))
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in MODELS.items():
            path = Path(tmp) / "model.tflite"
            path.write_bytes(make())
            cells = []
            for stack in stacks:
                p, kernels = stack.split("/")
                ops = mcusim.run(path, path=p, board=args.board, kernels=kernels).to_dict()["ops"]
                cells.append(f"{ops[0]['cycles']:,}")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
