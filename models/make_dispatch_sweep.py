"""Regenerate models/dispatch_sweep/{ops,tiny}_<k>.tflite: the interpreter-overhead sweep of
docs/scenarios.md (TensorFlow needed only to regenerate; run with the TF venv):

    /opt/tfenv/bin/python models/make_dispatch_sweep.py      # from the repository root

Each model takes a small 1x8x8x8 feature map through the SAME number of layers (12), built
from the first k of a list of distinct layer types, cycling through them; k = 1..11. The op
count and tensor sizes stay roughly constant while the number of distinct op types (what an
interpreter must register, and what its op glue and kernels cost in flash) grows, so the
measured dispatch share shows how interpreter overhead depends on the op mix. The tensors
are deliberately small: this is the regime where the interpreter's per-op cost matters most.
Every model also has the stem CONV_2D, a MEAN (global average pooling) and a FULLY_CONNECTED
head, so the distinct op types are k + 2 (ZeroPadding2D is not in the list: the converter folds
it into the next convolution's padding).
Weights are trained briefly on synthetic data like every bundled model.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models import convert_int8, np, tf  # noqa: E402  (sets determinism first)

OUT = Path(__file__).resolve().parent / "dispatch_sweep"
LAYERS = 12
# Two families: ops_NN on a 1x8x8x8 map, tiny_NN on a 1x2x2x8 map (16x less work per op, so
# the interpreter's fixed per-op cost weighs 16x more).
FAMILIES = {"ops": (8, 8, 8), "tiny": (2, 2, 8)}


def layer_types(k0: tf.Tensor):
    """Shape-preserving layer makers; each returns the converter's op of the same name."""
    L = tf.keras.layers
    return [
        ("CONV_2D", lambda x: L.Conv2D(8, 1, padding="same")(x)),
        ("DEPTHWISE_CONV_2D", lambda x: L.DepthwiseConv2D(3, padding="same")(x)),
        ("MAX_POOL_2D", lambda x: L.MaxPooling2D(3, strides=1, padding="same")(x)),
        ("ADD", lambda x: L.Add()([x, k0])),
        ("LOGISTIC", lambda x: L.Activation("sigmoid")(x)),
        ("AVERAGE_POOL_2D", lambda x: L.AveragePooling2D(3, strides=1, padding="same")(x)),
        ("MUL", lambda x: L.Multiply()([x, k0])),
        ("TANH", lambda x: L.Activation("tanh")(x)),
        ("LEAKY_RELU", lambda x: L.LeakyReLU(negative_slope=0.1)(x)),
        ("HARD_SWISH", lambda x: L.Activation("hard_swish")(x)),
        ("CONCATENATION+CONV_2D", lambda x: L.Conv2D(8, 1)(L.Concatenate()([x, k0]))),
    ]


def build(k: int, shape: tuple[int, int, int]) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(1000 + k)
    inp = tf.keras.Input(shape=shape, batch_size=1)
    x0 = tf.keras.layers.Conv2D(8, 1, padding="same", name="stem")(inp)
    types = layer_types(x0)[:k]
    x = x0
    for i in range(LAYERS):
        x = types[i % k][1](x)
    out = tf.keras.layers.Dense(4)(tf.keras.layers.GlobalAveragePooling2D()(x))
    return tf.keras.Model(inp, out)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for family, shape in FAMILIES.items():
        rng = np.random.default_rng(7)
        x = rng.normal(size=(256, *shape)).astype(np.float32)
        y = np.stack([x[..., :2].mean(axis=(1, 2, 3)), x[..., 2:4].std(axis=(1, 2, 3)),
                      x.max(axis=(1, 2, 3)), x.min(axis=(1, 2, 3))], axis=1).astype(np.float32)
        for k in range(1, len(layer_types(None)) + 1):
            model = build(k, shape)
            model.compile(optimizer="adam", loss="mse")
            model.fit(x, y, epochs=2, batch_size=32, verbose=0)
            data = convert_int8(model, [x[:64]])
            (OUT / f"{family}_{k:02d}.tflite").write_bytes(data)
            print(f"{family}_{k:02d}.tflite {len(data)} bytes")


if __name__ == "__main__":
    main()
