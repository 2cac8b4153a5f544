"""Regenerate the single-op int8 test models ``tests/data/op_*.tflite`` (and the README).

TensorFlow is needed ONLY to regenerate these files; the tests use the committed files and
never import TensorFlow.  Use the same separate virtualenv as ``models/make_models.py``:

    python3 -m venv /opt/tfenv
    /opt/tfenv/bin/pip install tensorflow-cpu==2.21.0
    /opt/tfenv/bin/python tests/data/make_op_models.py     # from the repository root

Each case builds a tiny Keras model or ``tf.function`` around one operator (sometimes two or
three when the operator cannot exist alone), gives it deterministic random weights (nonzero
biases, so bias handling is exercised), and converts it with full-integer quantization exactly
like the real models (``Optimize.DEFAULT``, representative dataset, ``TFLITE_BUILTINS_INT8``,
int8 input/output unless the case is about float edges).  The file therefore holds the ops *as
the converter really emits them*.  Each file is then read back: its op list goes into
``tests/data/README.md``, and it is run in TensorFlow Lite Micro (system python's
``tflite_micro``; ``TFLM_PYTHON`` overrides) and compared with TensorFlow Lite's reference
kernels on fixed random inputs.

What the converter does to some ops (TF 2.21; the README records the real outcome per file):
  * fixed-shape RESHAPE / EXPAND_DIMS / SQUEEZE / SHAPE / STRIDED_SLICE / PACK on *constant*
    tensors are constant-folded, so every shape case feeds a *model input* through the op;
    SHAPE + STRIDED_SLICE + PACK survive only with a dynamic (None) batch dimension, which is
    also what Keras 3 ``Flatten`` produces;
  * a standalone SQUEEZE is rewritten to RESHAPE (see op_squeeze);
  * fused activations (relu, relu6) and BatchNorm disappear into CONV_2D / FULLY_CONNECTED;
  * FULLY_CONNECTED weights are per-channel by default (set
    ``_experimental_disable_per_channel_quantization_for_dense_layers`` for per-tensor);
  * a zero bias is dropped from FULLY_CONNECTED (bias input index -1).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

_spec = importlib.util.spec_from_file_location("make_models", REPO / "models" / "make_models.py")
mm = importlib.util.module_from_spec(_spec)
sys.modules["make_models"] = mm
_spec.loader.exec_module(mm)   # sets the TF environment variables, then imports TensorFlow

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

L = tf.keras.layers
CASES = []   # (name, target ops, builder, how)


def case(name, targets, how):
    def deco(fn):
        CASES.append((name, targets, fn, how))
        return fn
    return deco


def randomize(model, rng):
    """Deterministic random weights: kernels ~ N(0, 1/fan_in), biases ~ N(0, 0.2),
    PReLU alphas in [0.05, 0.3]."""
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        new = []
        for w in ws:
            if isinstance(layer, L.PReLU):
                new.append(rng.uniform(0.05, 0.3, size=w.shape))
            elif w.ndim == 1:
                new.append(rng.normal(scale=0.2, size=w.shape))
            else:
                fan_in = int(np.prod(w.shape[:-1])) if not isinstance(layer, L.DepthwiseConv2D) \
                    else int(np.prod(w.shape[:2]))
                new.append(rng.normal(scale=1.0 / np.sqrt(fan_in), size=w.shape))
        layer.set_weights([w.astype(np.float32) for w in new])


def keras(shapes, body, *, batch=1, per_channel=True, per_channel_dense=None, float_io=False,
          ranges=None, seed=0):
    """Functional Keras model around ``body``; random weights; int8 conversion."""
    mm.setup_tf(seed)
    rng = np.random.default_rng(seed)
    ins = [L.Input(s, batch_size=batch) for s in shapes]
    out = body(*ins)
    model = tf.keras.Model(ins, out)
    randomize(model, rng)
    ranges = ranges or [1.0] * len(shapes)
    rep = [rng.normal(scale=r, size=(64,) + tuple(s)).astype(np.float32) for s, r in zip(shapes, ranges)]
    return mm.convert_int8(model, rep, per_channel=per_channel, per_channel_dense=per_channel_dense,
                           float_io=float_io)


def func(shapes, fn, *, batch=1, ranges=None, seed=0, float_io=False):
    """``tf.function`` with an input signature; int8 conversion from its concrete function."""
    mm.setup_tf(seed)
    rng = np.random.default_rng(seed)
    sig = [tf.TensorSpec((batch,) + tuple(s), tf.float32) for s in shapes]
    module = tf.Module()
    module.f = tf.function(fn, input_signature=sig)
    cf = module.f.get_concrete_function()
    ranges = ranges or [1.0] * len(shapes)
    rep = [rng.normal(scale=r, size=(64,) + tuple(1 if d is None else d for d in s)).astype(np.float32)
           for s, r in zip(shapes, ranges)]
    return mm.convert_int8(module, rep, concrete_fn=cf, float_io=float_io)


# ---------------------------------------------------------------- FULLY_CONNECTED
@case("fully_connected_pc", ["FULLY_CONNECTED"], "Dense(8) on 16 features; converter default (per-channel weights)")
def _():
    return keras([(16,)], lambda x: L.Dense(8)(x))


@case("fully_connected_pt_relu", ["FULLY_CONNECTED"],
      "Dense(8, relu) on 16 features; per-tensor weights "
      "(`_experimental_disable_per_channel_quantization_for_dense_layers`); relu fused")
def _():
    return keras([(16,)], lambda x: L.Dense(8, activation="relu")(x), per_channel_dense=False)


@case("fully_connected_nobias", ["FULLY_CONNECTED"], "Dense(8, use_bias=False) on 16 features; per-tensor weights")
def _():
    return keras([(16,)], lambda x: L.Dense(8, use_bias=False)(x), per_channel_dense=False)


@case("fully_connected_3d", ["FULLY_CONNECTED"], "Dense(6) applied to a 4x12 input (rank-3: keep_num_dims)")
def _():
    return keras([(4, 12)], lambda x: L.Dense(6)(x))


# ---------------------------------------------------------------- CONV_2D
@case("conv2d_pc_same_s1", ["CONV_2D"], "Conv2D(4, 3x3, stride 1, SAME) on 8x8x3; per-channel")
def _():
    return keras([(8, 8, 3)], lambda x: L.Conv2D(4, 3, padding="same")(x))


@case("conv2d_pc_same_s2", ["CONV_2D"], "Conv2D(4, 3x3, stride 2, SAME) on 8x8x3 (asymmetric padding); per-channel")
def _():
    return keras([(8, 8, 3)], lambda x: L.Conv2D(4, 3, strides=2, padding="same")(x))


@case("conv2d_pt_valid_s2", ["CONV_2D"], "Conv2D(4, 3x3, stride 2, VALID) on 9x9x3; per-tensor")
def _():
    return keras([(9, 9, 3)], lambda x: L.Conv2D(4, 3, strides=2, padding="valid")(x), per_channel=False)


@case("conv2d_pt_same_s1", ["CONV_2D"], "Conv2D(4, 3x3, stride 1, SAME) on 8x8x3; per-tensor")
def _():
    return keras([(8, 8, 3)], lambda x: L.Conv2D(4, 3, padding="same")(x), per_channel=False)


@case("conv2d_pc_nonsquare", ["CONV_2D"], "Conv2D(8, 5x3, stride (2,1), VALID) on 12x6x2; per-channel")
def _():
    return keras([(12, 6, 2)], lambda x: L.Conv2D(8, (5, 3), strides=(2, 1))(x))


@case("conv2d_dilation", ["CONV_2D"], "Conv2D(4, 3x3, dilation 2, SAME) on 10x10x3; per-channel")
def _():
    return keras([(10, 10, 3)], lambda x: L.Conv2D(4, 3, dilation_rate=2, padding="same")(x))


@case("conv2d_dilation_valid", ["CONV_2D"], "Conv2D(4, 3x3, dilation 2, VALID) on 10x10x3; per-channel")
def _():
    return keras([(10, 10, 3)], lambda x: L.Conv2D(4, 3, dilation_rate=2, padding="valid")(x))


@case("conv2d_relu", ["CONV_2D"], "Conv2D(4, 3x3, SAME, activation=relu) on 8x8x3 (relu fused)")
def _():
    return keras([(8, 8, 3)], lambda x: L.Conv2D(4, 3, padding="same", activation="relu")(x))


@case("conv2d_relu6", ["CONV_2D"], "Conv2D(4, 3x3, SAME) + ReLU(max_value=6) on 8x8x3 (relu6 fused)")
def _():
    return keras([(8, 8, 3)], lambda x: L.ReLU(max_value=6.0)(L.Conv2D(4, 3, padding="same")(x)),
                 ranges=[4.0])


@case("conv1d", ["EXPAND_DIMS", "CONV_2D", "RESHAPE"],
      "Conv1D(8, k3, VALID) on 32x4, dynamic (None) batch as Keras models normally have")
def _():
    return keras([(32, 4)], lambda x: L.Conv1D(8, 3)(x), batch=None)


@case("conv1d_batch1", ["EXPAND_DIMS", "CONV_2D", "RESHAPE"],
      "Conv1D(8, k3, VALID) on 32x4 with a fixed batch of 1 (EXPAND_DIMS becomes RESHAPE)")
def _():
    return keras([(32, 4)], lambda x: L.Conv1D(8, 3)(x))


# ---------------------------------------------------------------- DEPTHWISE_CONV_2D
@case("depthwise_conv2d_m1", ["DEPTHWISE_CONV_2D"], "DepthwiseConv2D(3x3, SAME, multiplier 1) on 8x8x4; per-channel")
def _():
    return keras([(8, 8, 4)], lambda x: L.DepthwiseConv2D(3, padding="same")(x))


@case("depthwise_conv2d_m2", ["DEPTHWISE_CONV_2D"],
      "DepthwiseConv2D(3x3, stride 2, VALID, multiplier 2) on 9x9x3; per-channel")
def _():
    return keras([(9, 9, 3)], lambda x: L.DepthwiseConv2D(3, strides=2, depth_multiplier=2)(x))


@case("depthwise_conv2d_pt_relu", ["DEPTHWISE_CONV_2D"],
      "DepthwiseConv2D(3x3, SAME) + relu on 8x8x4; per-tensor")
def _():
    return keras([(8, 8, 4)], lambda x: L.DepthwiseConv2D(3, padding="same", activation="relu")(x),
                 per_channel=False)


# ---------------------------------------------------------------- pooling
@case("max_pool_2d", ["MAX_POOL_2D"], "MaxPool2D(2x2, stride 2) on 8x8x4")
def _():
    return keras([(8, 8, 4)], lambda x: L.MaxPool2D(2)(x))


@case("max_pool_2d_same", ["MAX_POOL_2D"], "MaxPool2D(3x3, stride 2, SAME) on 7x7x4")
def _():
    return keras([(7, 7, 4)], lambda x: L.MaxPool2D(3, strides=2, padding="same")(x))


@case("average_pool_2d", ["AVERAGE_POOL_2D"], "AveragePooling2D(2x2, stride 2) on 8x8x4")
def _():
    return keras([(8, 8, 4)], lambda x: L.AveragePooling2D(2)(x))


@case("average_pool_2d_same", ["AVERAGE_POOL_2D"],
      "AveragePooling2D(3x3, stride 2, SAME) on 7x7x4 (edge windows average fewer values)")
def _():
    return keras([(7, 7, 4)], lambda x: L.AveragePooling2D(3, strides=2, padding="same")(x))


@case("mean", ["MEAN"], "GlobalAveragePooling2D on 6x6x8")
def _():
    return keras([(6, 6, 8)], lambda x: L.GlobalAveragePooling2D()(x))


# ---------------------------------------------------------------- elementwise binary
@case("add", ["ADD"], "Add of two 4x4x3 inputs with different ranges")
def _():
    return keras([(4, 4, 3), (4, 4, 3)], lambda a, b: L.Add()([a, b]), ranges=[1.0, 3.0])


@case("add_broadcast", ["ADD"], "a + b with a 4x4x3 and b 1x1x3 (both model inputs)")
def _():
    return func([(4, 4, 3), (1, 1, 3)], lambda a, b: a + b, ranges=[1.0, 2.0])


@case("add_const", ["ADD"], "x + constant per-channel vector on 4x4x3")
def _():
    c = tf.constant(np.random.default_rng(7).normal(size=(3,)).astype(np.float32))
    return func([(4, 4, 3)], lambda x: x + c)


@case("mul", ["MUL"], "Multiply of two 4x4x3 inputs")
def _():
    return keras([(4, 4, 3), (4, 4, 3)], lambda a, b: L.Multiply()([a, b]), ranges=[1.0, 2.0])


@case("mul_broadcast", ["MUL"], "a * b with a 4x4x3 and b 1x1x3 (both model inputs)")
def _():
    return func([(4, 4, 3), (1, 1, 3)], lambda a, b: a * b, ranges=[1.0, 2.0])


@case("concatenation", ["CONCATENATION"], "Concatenate on the channel axis: 4x4x3 and 4x4x5 inputs, different ranges")
def _():
    return keras([(4, 4, 3), (4, 4, 5)], lambda a, b: L.Concatenate()([a, b]), ranges=[1.0, 4.0])


@case("pad", ["PAD"], "ZeroPadding2D(((1,2),(2,1))) on 5x5x3")
def _():
    return keras([(5, 5, 3)], lambda x: L.ZeroPadding2D(((1, 2), (2, 1)))(x))


# ---------------------------------------------------------------- activations
@case("softmax", ["SOFTMAX"], "Softmax over 10 logits")
def _():
    return keras([(10,)], lambda x: L.Softmax()(x), ranges=[3.0])


@case("softmax_2d", ["SOFTMAX"], "Softmax over the last axis of 4x10 (beta 1)")
def _():
    return keras([(4, 10)], lambda x: L.Softmax()(x), ranges=[3.0])


@case("logistic", ["LOGISTIC"], "sigmoid on 32 values")
def _():
    return keras([(32,)], lambda x: L.Activation("sigmoid")(x), ranges=[4.0])


@case("tanh", ["TANH"], "tanh on 32 values")
def _():
    return keras([(32,)], lambda x: L.Activation("tanh")(x), ranges=[2.0])


@case("hard_swish", ["HARD_SWISH"], "x * relu6(x + 3) / 6 on 32 values (MobileNetV3 pattern)")
def _():
    return func([(32,)], lambda x: x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0), ranges=[4.0])


@case("leaky_relu", ["LEAKY_RELU"], "LeakyReLU(negative_slope 0.2) on 32 values")
def _():
    return keras([(32,)], lambda x: L.LeakyReLU(negative_slope=0.2)(x))


@case("prelu", ["PRELU"], "PReLU on 4x4x3 with one alpha per channel (shared over H, W)")
def _():
    return keras([(4, 4, 3)], lambda x: L.PReLU(shared_axes=[1, 2])(x))


@case("relu", ["RELU"], "standalone ReLU on 32 values")
def _():
    return keras([(32,)], lambda x: L.ReLU()(x))


@case("relu6", ["RELU6"], "standalone ReLU(max_value=6) on 32 values")
def _():
    return keras([(32,)], lambda x: L.ReLU(max_value=6.0)(x), ranges=[5.0])


# ---------------------------------------------------------------- quantize / dequantize
@case("quantize_dequantize", ["QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"],
      "Dense(8) with float32 model input and output: QUANTIZE float->int8 in, DEQUANTIZE int8->float out")
def _():
    return keras([(16,)], lambda x: L.Dense(8)(x), float_io=True)


@case("requantize", ["LOGISTIC", "QUANTIZE", "CONCATENATION"],
      "int8->int8 QUANTIZE: concatenate sigmoid(a) (fixed output scale 1/256) with b (range ~4), "
      "so the converter must requantize the sigmoid output to the concatenation's scale")
def _():
    return keras([(8,), (8,)], lambda a, b: L.Concatenate()([L.Activation("sigmoid")(a), b]),
                 ranges=[2.0, 4.0])


# ---------------------------------------------------------------- shape ops
@case("reshape", ["RESHAPE"], "Reshape of a 4x6 input to 24 (fixed batch 1)")
def _():
    return keras([(4, 6)], lambda x: L.Reshape((24,))(x))


@case("expand_dims", ["EXPAND_DIMS"], "tf.expand_dims(x, 2) on a 6x4 input, dynamic (None) batch")
def _():
    return func([(6, 4)], lambda x: tf.expand_dims(x, 2), batch=None)


@case("expand_dims_batch1", ["EXPAND_DIMS"],
      "tf.expand_dims(x, 2) on a 6x4 input, fixed batch 1 (the converter turns it into RESHAPE)")
def _():
    return func([(6, 4)], lambda x: tf.expand_dims(x, 2))


@case("squeeze", ["SQUEEZE"],
      "tf.squeeze(x, axis=2) on an input of signature [None, None, 1, 4] (stored shape 1x1x1x4). "
      "With at most one unknown dimension the converter rewrites SQUEEZE to RESHAPE (see op_squeeze_reshape)")
def _():
    return func([(None, 1, 4)], lambda x: tf.squeeze(x, axis=2), batch=None)


@case("squeeze_reshape", ["SQUEEZE"],
      "tf.squeeze(x, axis=2) on a 6x1x4 input, dynamic batch: the converter emits RESHAPE, not SQUEEZE")
def _():
    return func([(6, 1, 4)], lambda x: tf.squeeze(x, axis=2), batch=None)


@case("strided_slice", ["STRIDED_SLICE"], "x[:, 1:7:2, :] on an 8x4 input")
def _():
    return func([(8, 4)], lambda x: x[:, 1:7:2, :])


@case("pack", ["PACK"], "tf.stack([a, b], axis=1) of two 6-vectors (same range)")
def _():
    return func([(6,), (6,)], lambda a, b: tf.stack([a, b], axis=1))


@case("shape_dynamic_batch", ["SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"],
      "tf.reshape(x, [tf.shape(x)[0], 24]) with a dynamic (None) batch on a 4x6 input "
      "(what Keras 3 Flatten emits)")
def _():
    return func([(4, 6)], lambda x: tf.reshape(x, tf.stack([tf.shape(x)[0], 24])), batch=None)


# ---------------------------------------------------------------- main
def main() -> int:
    for old in HERE.glob("op_*.tflite"):
        old.unlink()
    rows, notes, failures = [], [], []
    for name, targets, build, how in CASES:
        data = build()
        path = HERE / f"op_{name}.tflite"
        path.write_bytes(data)
        info = mm.describe_tflite(data)
        chk = mm.check_file(path, info)
        missing = [t for t in targets if t not in info.op_set]
        inp = "; ".join(info.tshape(i) for i in info.inputs)
        outp = "; ".join(info.tshape(i) for i in info.outputs)
        qn = mm.quant_notes(info)
        extra = []
        if missing:
            extra.append(f"converter emitted no {', '.join(missing)}")
        if qn:
            extra.append("; ".join(q.split(":", 1)[1] for q in qn))
        for op in info.ops:
            if op.name == "QUANTIZE":
                a, b = info.tensors[op.inputs[0]], info.tensors[op.outputs[0]]
                extra.append(f"QUANTIZE {a.dtype.lower()}->{b.dtype.lower()}")
            if op.name == "DEQUANTIZE":
                a, b = info.tensors[op.inputs[0]], info.tensors[op.outputs[0]]
                extra.append(f"DEQUANTIZE {a.dtype.lower()}->{b.dtype.lower()}")
        tflm = chk["tflm"] + (f": {chk['error']}" if "error" in chk else f", {chk['match']}")
        rows.append(f"| `op_{name}.tflite` | {', '.join(info.op_names)} | {inp} | {outp} | "
                    f"{info.size:,} | {how}{'. ' + '; '.join(extra) if extra else ''} | {tflm} |")
        if chk["tflm"] != "runs":
            failures.append(f"op_{name}.tflite: {chk.get('error')}")
        if missing:
            notes.append(f"op_{name}.tflite: the TF graph had {', '.join(targets)}; "
                         f"the converter wrote {', '.join(info.op_names)}")
        print(f"op_{name}.tflite ({info.size} B): {', '.join(info.op_names)} | {'; '.join(extra)} | {tflm}",
              flush=True)

    covered = sorted({n for p in HERE.glob("op_*.tflite") for n in mm.describe_tflite(p.read_bytes()).op_set})
    v = mm.versions()
    readme = f"""# Test data: single-op int8 models

Tiny int8 `.tflite` files, one operator (or the few ops the converter emits for one Keras layer)
per file, written by the TensorFlow Lite converter with full-integer quantization.
**Generated by [`make_op_models.py`](make_op_models.py) — do not edit this file by hand**;
the op lists below are read back from the converted files.

Made with TensorFlow {v['tensorflow']} (Keras {v['keras']}, numpy {v['numpy']}, Python {v['python']}).
TensorFlow is needed only to regenerate:

```
python3 -m venv /opt/tfenv && /opt/tfenv/bin/pip install tensorflow-cpu=={v['tensorflow']}
/opt/tfenv/bin/python tests/data/make_op_models.py
```

Weights are deterministic random values (not trained); biases are nonzero.  Calibration data is
normal noise with the stated ranges.  Inputs and outputs are int8 except in
`op_quantize_dequantize.tflite`.

Ops covered: {', '.join(covered)}.

| file | ops (in order, read back) | input | output | bytes | how it was made | TFLite Micro |
|---|---|---|---|---:|---|---|
""" + "\n".join(rows) + f"""

*TFLite Micro*: run in TensorFlow Lite Micro's Python interpreter (system python package
`tflite_micro`) on {mm.CHECK_INPUTS} fixed random inputs (int8 uniform over -128..127, float
N(0,1)) and compared element by element with TensorFlow Lite's reference kernels
(`OpResolverType.BUILTIN_REF`) on the same inputs.  mcusim's target is TFLite Micro's output.

## What the converter did differently from the Keras graph

""" + ("\n".join(f"- {n}" for n in notes) if notes else "- nothing: every target op is present.") + """
- The order of a model's inputs in the file is not always the order of the Keras/TF
  arguments (op_add_broadcast, op_mul_broadcast, op_concatenation have them swapped); the
  table lists them in file order, which is the order `set_input(x, i)` uses.
- FULLY_CONNECTED weights are quantized per-channel by default (one scale per output unit);
  per-tensor needs `_experimental_disable_per_channel_quantization_for_dense_layers = True`
  (or `_experimental_disable_per_channel = True`, which also makes convolutions per-tensor).
- A FULLY_CONNECTED whose bias is all zeros gets no bias tensor (bias input index -1).
- CONCATENATION: the converter gives all inputs and the output one shared scale and zero point;
  where an input cannot have that scale (e.g. a LOGISTIC output, fixed at 1/256), it inserts an
  int8->int8 QUANTIZE (requantize) in front of the concatenation (op_requantize).
- With a fixed batch of 1, EXPAND_DIMS and SQUEEZE of a model input become RESHAPE; with a
  dynamic batch EXPAND_DIMS survives, SQUEEZE only with two unknown dimensions.
- Fused activations (relu, relu6) are options of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED,
  not separate ops; standalone RELU / RELU6 only appear when there is nothing to fuse into.
- Shape ops on constant tensors are folded at conversion time, so each shape case feeds a model
  input through the op; SHAPE, STRIDED_SLICE (on the shape) and PACK survive only with a dynamic
  batch dimension.

## Where TFLite Micro and TFLite disagree (mcusim must follow TFLite Micro)

- FULLY_CONNECTED: TensorFlow Lite's kernel requantizes with *single* rounding
  (`(acc * M + 2^(30-s)) >> (31-s)`), TFLite Micro with the classic *double* rounding
  (`SaturatingRoundingDoublingHighMul` then `RoundingDivideByPOT`), so about one output value in
  a few hundred differs by 1.  A numpy model of TFLite Micro's double rounding matched every
  output checked; CONV_2D and DEPTHWISE_CONV_2D agree between the two.
- RELU6 (standalone, as in op_relu6): TFLite Micro's int8 RELU6 only clamps, in the *input's*
  scale, to [zero_point, quantized 6]; it does not rescale to the output tensor's scale and zero
  point, which the converter sets differently.  Its output is therefore not TFLite's (every value
  differs).  RELU (op_relu) does rescale and agrees.  A relu6 fused into a conv/FC is unaffected.
""" + ("\n## TFLite Micro failures\n\n" + "\n".join(f"- {f}" for f in failures) + "\n" if failures else "")
    (HERE / "README.md").write_text(readme)
    print("wrote tests/data/README.md")
    if notes:
        print("converter rewrites:\n  " + "\n  ".join(notes))
    if failures:
        print("TFLM failures:\n  " + "\n  ".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
