"""Make the larger TRANSPOSE_CONV / BATCH_MATMUL models that mcusim's cycle comparisons use
(``tests/data/bench_*.tflite``), with the real TensorFlow Lite converter.

    /opt/tfenv/bin/python tests/data/make_matmul_models.py     # from the repository root

It reuses the builders of make_op_models.py (random weights, full-integer int8 conversion with
a representative dataset, int8 interface): the single-op files there are a few hundred MACs,
too small to compare kernels; these are tens of thousands.
  * bench_tconv_decoder: 8x8x32 -> Conv2DTranspose(24, 4x4, s2, SAME, relu) ->
    Conv2DTranspose(8, 3x3, s2, SAME) -> 32x32x8 (input channels above 16, so CMSIS-NN's
    wrapper takes its reverse-convolution path);
  * bench_batch_matmul_attn: attention scores Q K^T of two model inputs, 4 heads of 16 x 32
    (tf.matmul(q, k, transpose_b=True): BATCH_MATMUL with adj_y);
  * bench_batch_matmul_const: x (2 x 16 x 64) times a constant 2 x 64 x 32 (a batched
    constant right-hand side stays BATCH_MATMUL; a 2-D one becomes FULLY_CONNECTED).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("make_op_models", HERE / "make_op_models.py")
mo = importlib.util.module_from_spec(_spec)
sys.modules["make_op_models"] = mo
_spec.loader.exec_module(mo)

import tensorflow as tf  # noqa: E402

L = tf.keras.layers

MODELS = {
    "bench_tconv_decoder": lambda: mo.keras(
        [(8, 8, 32)], lambda x: L.Conv2DTranspose(8, 3, strides=2, padding="same")(
            L.Conv2DTranspose(24, 4, strides=2, padding="same", activation="relu")(x))),
    "bench_batch_matmul_attn": lambda: mo.func(
        [(4, 16, 32), (4, 16, 32)], lambda q, k: tf.matmul(q, k, transpose_b=True), ranges=[1.0, 1.5]),
    "bench_batch_matmul_const": lambda: mo.func(
        [(2, 16, 64)], lambda x: tf.matmul(x, mo.const((2, 64, 32), 41, 0.2))),
}


def main() -> int:
    for name, build in MODELS.items():
        data = build()
        (HERE / f"{name}.tflite").write_bytes(data)
        info = mo.mm.describe_tflite(data)
        print(f"{name}.tflite: {info.size} bytes, ops {info.op_names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
