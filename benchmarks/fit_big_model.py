"""The big model of docs/benchmarks.md's `mcusim fit` table: FULLY_CONNECTED 2048x2048 then
2048x16, 4.2 MB of int8 weights (more flash than any bundled board has), built with
tests/tflite_builder.py.

    python benchmarks/fit_big_model.py big4m.tflite
    /usr/bin/time -v mcusim fit big4m.tflite
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from tflite_builder import ModelBuilder  # noqa: E402


def big_model(n: int = 2048, outputs: int = 16) -> bytes:
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = b.tensor((1, n), scale=0.05, zero_point=0)
    w = b.tensor((n, n), data=rng.integers(-127, 128, (n, n)), scale=0.01, zero_point=0)
    bias = b.tensor((n,), "INT32", data=np.zeros(n, np.int32), scale=0.0005, zero_point=0)
    h = b.tensor((1, n), scale=0.5, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, bias], [h], fused_activation_function="RELU")
    w2 = b.tensor((outputs, n), data=rng.integers(-127, 128, (outputs, n)), scale=0.01, zero_point=0)
    bias2 = b.tensor((outputs,), "INT32", data=np.zeros(outputs, np.int32), scale=0.005, zero_point=0)
    y = b.tensor((1, outputs), scale=0.5, zero_point=0)
    b.op("FULLY_CONNECTED", [h, w2, bias2], [y])
    return b.io([x], [y]).build()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the .tflite file to write")
    Path(ap.parse_args().out).write_bytes(big_model())
