"""Regenerate the converter-made test models ``tests/data/*.tflite``, ``op_models.json`` and
the README.

TensorFlow is needed ONLY to regenerate these files; the tests use the committed files and
never import TensorFlow.  Use the same separate virtualenv as ``models/make_models.py``:

    python3 -m venv /opt/tfenv
    /opt/tfenv/bin/pip install tensorflow-cpu==2.21.0
    /opt/tfenv/bin/python tests/data/make_op_models.py             # from the repository root
    /opt/tfenv/bin/python tests/data/make_op_models.py 'op16x8_*'  # only the matching cases

Each case builds a tiny Keras model or ``tf.function`` around one operator (sometimes two or
three when the operator cannot exist alone), gives it deterministic random weights (nonzero
biases, so bias handling is exercised), and converts it with full-integer quantization exactly
like the real models (``Optimize.DEFAULT``, representative dataset, ``TFLITE_BUILTINS_INT8``,
int8 input/output unless the case is about float edges).  The file therefore holds the ops *as
the converter really emits them*.  File prefixes (GROUPS): ``op_`` int8 single-op models,
``op16x8_`` the same in the converter's 16x8 mode
(``EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8``, int16 input/output),
``net_`` / ``net16x8_`` small models combining ops, ``io_`` float / uint8 / several-input and
several-output interfaces.  Each file is then read back: its op list goes into
``tests/data/README.md`` and ``op_models.json``, and it is run in TensorFlow Lite Micro
(system python's ``tflite_micro``; ``TFLM_PYTHON`` overrides) and compared with TensorFlow
Lite's reference kernels on fixed random inputs.  A case the converter cannot convert is
recorded as refused (no file).

What the converter does to some ops (TF 2.21; the README records the real outcome per file):
  * fixed-shape RESHAPE / EXPAND_DIMS / SQUEEZE / SHAPE / STRIDED_SLICE / PACK on *constant*
    tensors are constant-folded, so every shape case feeds a *model input* through the op;
    SHAPE + STRIDED_SLICE + PACK survive only with a dynamic (None) batch dimension, which is
    also what Keras 3 ``Flatten`` produces;
  * a standalone SQUEEZE is rewritten to RESHAPE (see op_squeeze);
  * fused activations (relu, relu6) and BatchNorm disappear into CONV_2D / FULLY_CONNECTED;
  * FULLY_CONNECTED weights are per-channel by default (set
    ``_experimental_disable_per_channel_quantization_for_dense_layers`` for per-tensor);
  * a zero bias is dropped from FULLY_CONNECTED (bias input index -1);
  * Keras 3's LSTM layer becomes a WHILE loop, not the fused LSTM (see lstm());
  * LayerNormalization keeps a float NEG between DEQUANTIZE and QUANTIZE (net_layernorm).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import inspect
import json
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
from tensorflow.lite.python.convert_phase import ConverterError  # noqa: E402

L = tf.keras.layers
CASES = []   # (name, target ops, builder, how)


def case(name, targets, how, prefix="op_"):
    """Register a builder; its file is ``<prefix><name>.tflite`` (see GROUPS for the prefixes)."""
    def deco(fn):
        CASES.append((prefix + name, targets, fn, how))
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


def converter_setup(io="int8", a16x8=False, extra=None, names=None, rep=None):
    """What ``mm.convert_int8`` does not set itself (it runs this last): the 16x8 op set
    (int16 activations, int8 weights) and uint8 / int16 model interfaces.  ``io="float"`` is
    ``float_io`` there (float32 interface, QUANTIZE/DEQUANTIZE at the edges).

    ``names``: feed the representative samples of a several-input model by signature input
    name.  ``mm.convert_int8`` yields them as a list, which the calibrator takes in the *file's*
    input order; the converter often reverses the inputs (see the README), so a list gives
    each input the other's calibration data (and, with different shapes, fails)."""
    def setup(conv):
        if names and len(names) > 1:
            conv.representative_dataset = lambda: (
                {k: r[i:i + 1] for k, r in zip(names, rep)} for i in range(len(rep[0])))
        if a16x8:
            conv.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        if io in ("uint8", "int16"):
            conv.inference_input_type = conv.inference_output_type = getattr(tf, io)
        if extra:
            extra(conv)
    return setup


def calibration(rng, shapes, ranges, positive):
    """Representative data: N(0, range) per input, or abs(N(0, range)) + 0.05 where ``positive``
    (for RSQRT, which is undefined below zero)."""
    ranges = ranges or [1.0] * len(shapes)
    rep = []
    for s, r in zip(shapes, ranges):
        x = rng.normal(scale=r, size=(64,) + tuple(1 if d is None else d for d in s))
        rep.append((np.abs(x) + 0.05 if positive else x).astype(np.float32))
    return rep


def keras(shapes, body, *, batch=1, per_channel=True, per_channel_dense=None, float_io=False,
          ranges=None, seed=0, io=None, a16x8=False, extra=None, rep_by_position=False):
    """Functional Keras model around ``body``; random weights; int8 (or 16x8) conversion.
    ``io``: int8 (default; int16 with ``a16x8``), float, uint8 or int16 model interface.
    ``rep_by_position``: calibrate several inputs by position (see converter_setup; kept for
    the first files so that they stay byte-identical)."""
    mm.setup_tf(seed)
    rng = np.random.default_rng(seed)
    ins = [L.Input(s, batch_size=batch) for s in shapes]
    out = body(*ins)
    model = tf.keras.Model(ins, out)
    randomize(model, rng)
    rep = calibration(rng, shapes, ranges, False)
    io = io or ("int16" if a16x8 else "float" if float_io else "int8")
    names = None if rep_by_position else [t.name for t in model.inputs]
    return mm.convert_int8(model, rep, per_channel=per_channel, per_channel_dense=per_channel_dense,
                           float_io=io == "float", extra=converter_setup(io, a16x8, extra, names, rep))


def func(shapes, fn, *, batch=1, ranges=None, seed=0, float_io=False, positive=False, io=None,
         a16x8=False, extra=None, rep_by_position=False):
    """``tf.function`` with an input signature; int8 (or 16x8) conversion from its concrete
    function.  ``positive``: calibrate on positive values only."""
    mm.setup_tf(seed)
    rng = np.random.default_rng(seed)
    sig = [tf.TensorSpec((batch,) + tuple(s), tf.float32) for s in shapes]
    module = tf.Module()
    module.f = tf.function(fn, input_signature=sig)
    cf = module.f.get_concrete_function()
    rep = calibration(rng, shapes, ranges, positive)
    io = io or ("int16" if a16x8 else "float" if float_io else "int8")
    names = None if rep_by_position else list(inspect.signature(fn).parameters)
    return mm.convert_int8(module, rep, concrete_fn=cf, float_io=io == "float",
                           extra=converter_setup(io, a16x8, extra, names, rep))


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
    return keras([(4, 4, 3), (4, 4, 3)], lambda a, b: L.Add()([a, b]), ranges=[1.0, 3.0], rep_by_position=True)


@case("add_broadcast", ["ADD"], "a + b with a 4x4x3 and b 1x1x3 (both model inputs)")
def _():
    return func([(4, 4, 3), (1, 1, 3)], lambda a, b: a + b, ranges=[1.0, 2.0], rep_by_position=True)


@case("add_const", ["ADD"], "x + constant per-channel vector on 4x4x3")
def _():
    c = tf.constant(np.random.default_rng(7).normal(size=(3,)).astype(np.float32))
    return func([(4, 4, 3)], lambda x: x + c)


@case("mul", ["MUL"], "Multiply of two 4x4x3 inputs")
def _():
    return keras([(4, 4, 3), (4, 4, 3)], lambda a, b: L.Multiply()([a, b]), ranges=[1.0, 2.0], rep_by_position=True)


@case("mul_broadcast", ["MUL"], "a * b with a 4x4x3 and b 1x1x3 (both model inputs)")
def _():
    return func([(4, 4, 3), (1, 1, 3)], lambda a, b: a * b, ranges=[1.0, 2.0], rep_by_position=True)


@case("concatenation", ["CONCATENATION"], "Concatenate on the channel axis: 4x4x3 and 4x4x5 inputs, different ranges")
def _():
    return keras([(4, 4, 3), (4, 4, 5)], lambda a, b: L.Concatenate()([a, b]), ranges=[1.0, 4.0], rep_by_position=True)


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
                 ranges=[2.0, 4.0], rep_by_position=True)


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
    return func([(6,), (6,)], lambda a, b: tf.stack([a, b], axis=1), rep_by_position=True)


@case("shape_dynamic_batch", ["SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"],
      "tf.reshape(x, [tf.shape(x)[0], 24]) with a dynamic (None) batch on a 4x6 input "
      "(what Keras 3 Flatten emits)")
def _():
    return func([(4, 6)], lambda x: tf.reshape(x, tf.stack([tf.shape(x)[0], 24])), batch=None)


# ---------------------------------------------------------------- more elementwise binary / unary
def const(shape, seed, scale=1.0):
    """A deterministic float32 constant (numpy generator, independent of TensorFlow's state)."""
    return tf.constant(np.random.default_rng(seed).normal(scale=scale, size=shape).astype(np.float32))


@case("sub", ["SUB"], "Subtract of two 4x4x3 inputs with different ranges")
def _():
    return keras([(4, 4, 3), (4, 4, 3)], lambda a, b: L.Subtract()([a, b]), ranges=[1.0, 3.0])


@case("sub_broadcast", ["SUB"], "a - b with a 4x4x3 and b 1x1x3 (both model inputs)")
def _():
    return func([(4, 4, 3), (1, 1, 3)], lambda a, b: a - b, ranges=[1.0, 2.0])


@case("minimum", ["MINIMUM"], "tf.minimum of two 4x4x3 inputs with different ranges")
def _():
    return func([(4, 4, 3), (4, 4, 3)], lambda a, b: tf.minimum(a, b), ranges=[1.0, 2.0])


@case("maximum", ["MAXIMUM"], "tf.maximum of two 4x4x3 inputs with different ranges")
def _():
    return func([(4, 4, 3), (4, 4, 3)], lambda a, b: tf.maximum(a, b), ranges=[1.0, 2.0])


@case("maximum_broadcast", ["MAXIMUM"], "tf.maximum(a, b) with a 4x4x3 and b 1x1x3 (both model inputs)")
def _():
    return func([(4, 4, 3), (1, 1, 3)], lambda a, b: tf.maximum(a, b), ranges=[1.0, 2.0])


@case("squared_difference", ["SQUARED_DIFFERENCE"], "tf.math.squared_difference of two 4x4x3 inputs")
def _():
    return func([(4, 4, 3), (4, 4, 3)], lambda a, b: tf.math.squared_difference(a, b), ranges=[1.0, 2.0])


@case("rsqrt", ["RSQRT"], "tf.math.rsqrt on 32 positive values (calibrated on abs(N(0, 2)) + 0.05)")
def _():
    return func([(32,)], lambda x: tf.math.rsqrt(x), ranges=[2.0], positive=True)


# ---------------------------------------------------------------- data movement
@case("transpose_4d", ["TRANSPOSE"], "tf.transpose(x, [0, 3, 1, 2]) on a 1x2x3x4 input")
def _():
    return func([(2, 3, 4)], lambda x: tf.transpose(x, [0, 3, 1, 2]))


@case("transpose_3d", ["TRANSPOSE"], "tf.transpose(x, [0, 2, 1]) on a 1x4x6 input")
def _():
    return func([(4, 6)], lambda x: tf.transpose(x, [0, 2, 1]))


@case("split", ["SPLIT"], "tf.split(x, 3, axis=1) on a 1x6x4 input: three 1x2x4 model outputs")
def _():
    return func([(6, 4)], lambda x: tf.split(x, 3, axis=1))


@case("split_v", ["SPLIT_V"], "tf.split(x, [1, 2, 3], axis=-1) on a 1x4x6 input: three model outputs")
def _():
    return func([(4, 6)], lambda x: tf.split(x, [1, 2, 3], axis=-1))


@case("slice", ["SLICE"], "tf.slice(x, [0, 1, 2], [1, 3, 2]) on a 1x5x6 input")
def _():
    return func([(5, 6)], lambda x: tf.slice(x, [0, 1, 2], [1, 3, 2]))


@case("gather_axis1", ["GATHER"], "tf.gather(x, [3, 0, 2, 2], axis=1) on a 1x5x4 input (int32 indices, constant)")
def _():
    return func([(5, 4)], lambda x: tf.gather(x, tf.constant([3, 0, 2, 2], tf.int32), axis=1))


@case("gather_axis0", ["GATHER"],
      "tf.gather(tf.reshape(x, [6, 4]), [4, 1, 1, 5], axis=0) on a 1x6x4 input (rows of a 6x4 "
      "table; the RESHAPE drops the batch so axis 0 is not trivial)")
def _():
    return func([(6, 4)], lambda x: tf.gather(tf.reshape(x, [6, 4]), tf.constant([4, 1, 1, 5], tf.int32), axis=0))


# ---------------------------------------------------------------- resize
@case("resize_nearest", ["RESIZE_NEAREST_NEIGHBOR"],
      "tf.compat.v1.image.resize_nearest_neighbor(x, [8, 8]) on 4x4x3 (align_corners and "
      "half_pixel_centers both off; Keras 3 UpSampling2D(2) nearest is not a resize, it becomes TILE)")
def _():
    return func([(4, 4, 3)], lambda x: tf.compat.v1.image.resize_nearest_neighbor(x, [8, 8]))


@case("resize_nearest_half_pixel", ["RESIZE_NEAREST_NEIGHBOR"],
      "tf.image.resize(x, [7, 6], 'nearest') on 4x4x3 (TF2 resize: half_pixel_centers)")
def _():
    return func([(4, 4, 3)], lambda x: tf.image.resize(x, [7, 6], method="nearest"))


@case("resize_nearest_align_corners", ["RESIZE_NEAREST_NEIGHBOR"],
      "tf.compat.v1.image.resize_nearest_neighbor(x, [7, 6], align_corners=True) on 4x4x3")
def _():
    return func([(4, 4, 3)], lambda x: tf.compat.v1.image.resize_nearest_neighbor(x, [7, 6], align_corners=True))


@case("resize_bilinear", ["RESIZE_BILINEAR"], "UpSampling2D(2, interpolation='bilinear') on 4x4x3")
def _():
    return keras([(4, 4, 3)], lambda x: L.UpSampling2D(2, interpolation="bilinear")(x))


@case("resize_bilinear_half_pixel", ["RESIZE_BILINEAR"],
      "tf.image.resize(x, [7, 6], 'bilinear') on 4x4x3 (TF2 resize: half_pixel_centers)")
def _():
    return func([(4, 4, 3)], lambda x: tf.image.resize(x, [7, 6], method="bilinear"))


@case("resize_bilinear_align_corners", ["RESIZE_BILINEAR"],
      "tf.compat.v1.image.resize_bilinear(x, [7, 6], align_corners=True) on 4x4x3")
def _():
    return func([(4, 4, 3)], lambda x: tf.compat.v1.image.resize_bilinear(x, [7, 6], align_corners=True))


@case("resize_bilinear_plain", ["RESIZE_BILINEAR"],
      "tf.compat.v1.image.resize_bilinear(x, [7, 6]) on 4x4x3 (align_corners and half_pixel_centers both off)")
def _():
    return func([(4, 4, 3)], lambda x: tf.compat.v1.image.resize_bilinear(x, [7, 6]))


# ---------------------------------------------------------------- TRANSPOSE_CONV
@case("transpose_conv_same", ["TRANSPOSE_CONV"], "Conv2DTranspose(4, 3x3, stride 2, SAME, bias) on 4x4x3")
def _():
    return keras([(4, 4, 3)], lambda x: L.Conv2DTranspose(4, 3, strides=2, padding="same")(x))


@case("transpose_conv_valid", ["TRANSPOSE_CONV"], "Conv2DTranspose(4, 3x3, stride 2, VALID, bias) on 4x4x3")
def _():
    return keras([(4, 4, 3)], lambda x: L.Conv2DTranspose(4, 3, strides=2, padding="valid")(x))


@case("transpose_conv_nobias", ["TRANSPOSE_CONV"],
      "Conv2DTranspose(4, 3x3, stride 2, SAME, use_bias=False) on 4x4x3")
def _():
    return keras([(4, 4, 3)], lambda x: L.Conv2DTranspose(4, 3, strides=2, padding="same", use_bias=False)(x))


# ---------------------------------------------------------------- BATCH_MATMUL
@case("batch_matmul", ["BATCH_MATMUL"], "tf.matmul(a, b) of two model inputs, 1x4x6 @ 1x6x5")
def _():
    return func([(4, 6), (6, 5)], lambda a, b: tf.matmul(a, b), ranges=[1.0, 2.0])


@case("batch_matmul_adj_x", ["BATCH_MATMUL"],
      "tf.matmul(a, b, transpose_a=True) of two model inputs, 1x6x4 and 1x6x5")
def _():
    return func([(6, 4), (6, 5)], lambda a, b: tf.matmul(a, b, transpose_a=True), ranges=[1.0, 2.0])


@case("batch_matmul_adj_y", ["BATCH_MATMUL"],
      "tf.matmul(a, b, transpose_b=True) of two model inputs, 1x4x6 and 1x5x6 (attention's Q K^T)")
def _():
    return func([(4, 6), (5, 6)], lambda a, b: tf.matmul(a, b, transpose_b=True), ranges=[1.0, 2.0])


@case("batch_matmul_adj_xy", ["BATCH_MATMUL"],
      "tf.matmul(a, b, transpose_a=True, transpose_b=True) of two model inputs, 1x6x4 and 1x5x6")
def _():
    return func([(6, 4), (5, 6)], lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
                ranges=[1.0, 2.0])


@case("batch_matmul_const", ["BATCH_MATMUL"],
      "tf.matmul(x, W) with x a 1x2x4x6 input and W a constant 2x6x5 (batched right-hand side)")
def _():
    w = const((2, 6, 5), 11, 0.4)
    return func([(2, 4, 6)], lambda x: tf.matmul(x, w))


# ---------------------------------------------------------------- UNIDIRECTIONAL_SEQUENCE_LSTM
def lstm(units, features, seed, return_sequences):
    """An LSTM layer the converter fuses into UNIDIRECTIONAL_SEQUENCE_LSTM.

    Keras 3's LSTM layer is converted to a WHILE loop (three subgraphs), and TF 2.21's int8
    quantization of that model crashed (segfault) in our runs.  The converter's fusion pass
    recognises the function Keras 2 (tf_keras) emitted for its LSTM layer: a tf.function with
    ``api_implements="lstm_*"``, ``time_major`` and ``go_backwards`` attributes and the argument
    list ``(inputs, init_h, init_c, kernel, recurrent_kernel, bias)`` returning
    ``(last_output, outputs, h, c, runtime)``.  That function is written here with the same
    gate order (i, f, c, o) and math as a Keras LSTM (sigmoid gates, tanh cell); the converter
    replaces its body by the fused op.  Weights: kernel N(0, 1/features), recurrent kernel
    N(0, 1/units), bias N(0, 0.2) with +1 on the forget gate (Keras' unit_forget_bias)."""
    rng = np.random.default_rng(seed)
    kernel = tf.constant(rng.normal(scale=1 / np.sqrt(features), size=(features, 4 * units)).astype(np.float32))
    rec = tf.constant(rng.normal(scale=1 / np.sqrt(units), size=(units, 4 * units)).astype(np.float32))
    b = rng.normal(scale=0.2, size=(4 * units,))
    b[units:2 * units] += 1.0
    bias = tf.constant(b.astype(np.float32))

    @tf.function(autograph=False, experimental_attributes={
        "api_implements": "lstm_mcusim_test", "time_major": False, "go_backwards": False})
    def standard_lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
        def step(carry, x_t):
            h, c = carry
            z = tf.matmul(x_t, kernel) + tf.matmul(h, recurrent_kernel) + bias
            zi, zf, zc, zo = tf.split(z, 4, axis=1)
            c = tf.sigmoid(zf) * c + tf.sigmoid(zi) * tf.tanh(zc)
            return tf.sigmoid(zo) * tf.tanh(c), c
        hs, cs = tf.scan(step, tf.transpose(inputs, [1, 0, 2]), initializer=(init_h, init_c))
        outputs = tf.transpose(hs, [1, 0, 2])
        return outputs[:, -1], outputs, hs[-1], cs[-1], tf.constant(1.0)

    def layer(x):
        zeros = tf.zeros((x.shape[0], units))
        last, outputs, _, _, _ = standard_lstm(x, zeros, zeros, kernel, rec, bias)
        return outputs if return_sequences else last
    return layer


@case("lstm_sequences", ["UNIDIRECTIONAL_SEQUENCE_LSTM"],
      "LSTM(8, return_sequences=True) on 10 steps x 4 features (Keras-2 LSTM function, see lstm())")
def _():
    return func([(10, 4)], lstm(8, 4, 21, True))


@case("lstm_last", ["UNIDIRECTIONAL_SEQUENCE_LSTM"],
      "LSTM(8, return_sequences=False) on 10 steps x 4 features: the fused op's full sequence, "
      "then the last step sliced off")
def _():
    return func([(10, 4)], lstm(8, 4, 22, False))


# ---------------------------------------------------------------- 16x8: int16 activations, int8 weights
@case("conv2d", ["CONV_2D"], "16x8: Conv2D(4, 3x3, SAME) on 8x8x3; per-channel", prefix="op16x8_")
def _():
    return keras([(8, 8, 3)], lambda x: L.Conv2D(4, 3, padding="same")(x), a16x8=True)


@case("conv2d_s2_relu", ["CONV_2D"], "16x8: Conv2D(4, 3x3, stride 2, VALID, relu) on 9x9x3; per-channel",
      prefix="op16x8_")
def _():
    return keras([(9, 9, 3)], lambda x: L.Conv2D(4, 3, strides=2, activation="relu")(x), a16x8=True)


@case("depthwise_conv2d", ["DEPTHWISE_CONV_2D"], "16x8: DepthwiseConv2D(3x3, SAME, multiplier 1) on 8x8x4",
      prefix="op16x8_")
def _():
    return keras([(8, 8, 4)], lambda x: L.DepthwiseConv2D(3, padding="same")(x), a16x8=True)


@case("fully_connected", ["FULLY_CONNECTED"], "16x8: Dense(8) on 16 features", prefix="op16x8_")
def _():
    return keras([(16,)], lambda x: L.Dense(8)(x), a16x8=True)


@case("fully_connected_pt", ["FULLY_CONNECTED"], "16x8: Dense(8) on 16 features; per-tensor weights",
      prefix="op16x8_")
def _():
    return keras([(16,)], lambda x: L.Dense(8)(x), a16x8=True, per_channel_dense=False)


@case("add", ["ADD"], "16x8: Add of two 4x4x3 inputs with different ranges", prefix="op16x8_")
def _():
    return keras([(4, 4, 3), (4, 4, 3)], lambda a, b: L.Add()([a, b]), ranges=[1.0, 3.0], a16x8=True)


@case("mul", ["MUL"], "16x8: Multiply of two 4x4x3 inputs", prefix="op16x8_")
def _():
    return keras([(4, 4, 3), (4, 4, 3)], lambda a, b: L.Multiply()([a, b]), ranges=[1.0, 2.0], a16x8=True)


@case("softmax", ["SOFTMAX"], "16x8: Softmax over 10 logits", prefix="op16x8_")
def _():
    return keras([(10,)], lambda x: L.Softmax()(x), ranges=[3.0], a16x8=True)


@case("logistic", ["LOGISTIC"], "16x8: sigmoid on 32 values", prefix="op16x8_")
def _():
    return keras([(32,)], lambda x: L.Activation("sigmoid")(x), ranges=[4.0], a16x8=True)


@case("tanh", ["TANH"], "16x8: tanh on 32 values", prefix="op16x8_")
def _():
    return keras([(32,)], lambda x: L.Activation("tanh")(x), ranges=[2.0], a16x8=True)


@case("average_pool_2d", ["AVERAGE_POOL_2D"], "16x8: AveragePooling2D(2x2, stride 2) on 8x8x4", prefix="op16x8_")
def _():
    return keras([(8, 8, 4)], lambda x: L.AveragePooling2D(2)(x), a16x8=True)


@case("max_pool_2d", ["MAX_POOL_2D"], "16x8: MaxPool2D(3x3, stride 2, SAME) on 7x7x4", prefix="op16x8_")
def _():
    return keras([(7, 7, 4)], lambda x: L.MaxPool2D(3, strides=2, padding="same")(x), a16x8=True)


@case("mean", ["MEAN"], "16x8: GlobalAveragePooling2D on 6x6x8", prefix="op16x8_")
def _():
    return keras([(6, 6, 8)], lambda x: L.GlobalAveragePooling2D()(x), a16x8=True)


@case("quantize_dequantize", ["QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"],
      "16x8: Dense(8) with float32 model input and output: QUANTIZE float->int16 in, "
      "DEQUANTIZE int16->float out", prefix="op16x8_")
def _():
    return keras([(16,)], lambda x: L.Dense(8)(x), a16x8=True, io="float")


# ---------------------------------------------------------------- small models
@case("layernorm", ["MEAN", "SQUARED_DIFFERENCE", "RSQRT"],
      "Dense(16) -> LayerNormalization -> Dense(8) on 4 tokens x 12 features (rank 3, normalized "
      "over the last axis; random gamma/beta)", prefix="net_")
def _():
    return keras([(4, 12)], lambda x: L.Dense(8)(L.LayerNormalization()(L.Dense(16)(x))))


@case("layernorm_written_out", ["MEAN", "SUB", "SQUARED_DIFFERENCE", "RSQRT", "MUL", "ADD"],
      "Dense(16) -> layer norm written as (x - mean) * rsqrt(var + 1e-3) * gamma + beta in TF ops "
      "-> Dense(8) on 4 tokens x 12 features (the same math as net_layernorm, without its NEG)",
      prefix="net_")
def _():
    w1, b1, w2, b2 = const((12, 16), 41, 0.3), const((16,), 42, 0.2), const((16, 8), 43, 0.25), const((8,), 44, 0.2)
    gamma, beta = 1.0 + const((16,), 45, 0.2), const((16,), 46, 0.2)

    def body(x):
        h = tf.matmul(x, w1) + b1
        mean = tf.reduce_mean(h, axis=-1, keepdims=True)
        var = tf.reduce_mean(tf.math.squared_difference(h, mean), axis=-1, keepdims=True)
        return tf.matmul((h - mean) * tf.math.rsqrt(var + 1e-3) * gamma + beta, w2) + b2
    return func([(4, 12)], body)


@case("lstm_kws", ["UNIDIRECTIONAL_SEQUENCE_LSTM", "FULLY_CONNECTED", "SOFTMAX"],
      "keyword-style sequence classifier: LSTM(16) over 12 frames x 10 features (Keras-2 LSTM "
      "function, see lstm()), last step -> Dense(6) -> softmax", prefix="net_")
def _():
    layer = lstm(16, 10, 31, False)
    w, b = const((16, 6), 32, 0.25), const((6,), 33, 0.2)
    return func([(12, 10)], lambda x: tf.nn.softmax(tf.matmul(layer(x), w) + b))


@case("tconv_decoder", ["TRANSPOSE_CONV"],
      "small decoder: 4x4x8 -> Conv2DTranspose(8, 3x3, s2, SAME, relu) -> "
      "Conv2DTranspose(4, 3x3, s2, SAME, relu) -> 16x16x4", prefix="net_")
def _():
    return keras([(4, 4, 8)], lambda x: L.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")(
        L.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(x)))


@case("mixed", ["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"],
      "16x8: Conv2D(8, 3x3, relu) -> DepthwiseConv2D(3x3, relu) -> MaxPool2D(2) -> Flatten -> "
      "Dense(5) -> softmax on 10x10x2", prefix="net16x8_")
def _():
    def body(x):
        x = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = L.MaxPool2D(2)(x)
        return L.Softmax()(L.Dense(5)(L.Flatten()(x)))
    return keras([(10, 10, 2)], body, a16x8=True)


# ---------------------------------------------------------------- model interfaces
def small_cnn(x):
    x = L.Conv2D(4, 3, strides=2, padding="same", activation="relu")(x)
    return L.Dense(3)(L.GlobalAveragePooling2D()(x))


@case("float", ["QUANTIZE", "DEQUANTIZE"],
      "Conv2D(4, 3x3, s2, relu) -> GlobalAveragePooling2D -> Dense(3) on 8x8x2, converter default "
      "float32 interface (no inference_input_type)", prefix="io_")
def _():
    return keras([(8, 8, 2)], small_cnn, io="float")


@case("uint8", ["QUANTIZE"],
      "the io_float network with inference_input_type = inference_output_type = tf.uint8", prefix="io_")
def _():
    return keras([(8, 8, 2)], small_cnn, io="uint8")


@case("two_inputs", ["ADD"],
      "two inputs of different shapes: 8x8x2 image -> Conv2D(4, s2, relu) -> GlobalAveragePooling2D, "
      "plus 6 features -> Dense(4); Add -> Dense(3)", prefix="io_")
def _():
    def body(img, feat):
        a = L.GlobalAveragePooling2D()(L.Conv2D(4, 3, strides=2, padding="same", activation="relu")(img))
        return L.Dense(3)(L.Add()([a, L.Dense(4)(feat)]))
    return keras([(8, 8, 2), (6,)], body, ranges=[1.0, 2.0])


@case("two_outputs", ["FULLY_CONNECTED", "SOFTMAX"],
      "two heads: 16 features -> Dense(12, relu) -> [Dense(3) -> softmax, Dense(1)]", prefix="io_")
def _():
    def body(x):
        h = L.Dense(12, activation="relu")(x)
        return [L.Softmax()(L.Dense(3)(h)), L.Dense(1)(h)]
    return keras([(16,)], body)


# ---------------------------------------------------------------- main
GROUPS = [   # file prefix, README section
    ("op_", "int8 single-op models"),
    ("op16x8_", "16x8 single-op models (int16 activations, int8 weights)"),
    ("net_", "small int8 models"),
    ("net16x8_", "small 16x8 model"),
    ("io_", "model interfaces (float, uint8, several inputs or outputs)"),
]
INVENTORY = HERE / "op_models.json"
TABLE_HEAD = """| file | ops (in order, read back) | input | output | bytes | how it was made | TFLite Micro |
|---|---|---|---|---:|---|---|
"""


def group_of(stem: str) -> str:
    return next(title for prefix, title in GROUPS if stem.startswith(prefix))


def make_inputs(info, seed: int) -> list:
    """``mm.make_inputs`` (int8 uniform over -128..127, float N(0,1)) plus int16 and uint8
    inputs, uniform over their full range."""
    rng = np.random.default_rng(seed)
    full = {"INT8": np.int8, "INT16": np.int16, "UINT8": np.uint8}
    arrs = []
    for i in info.inputs:
        t = info.tensors[i]
        if t.dtype in full:
            lim = np.iinfo(full[t.dtype])
            arrs.append(rng.integers(lim.min, lim.max + 1, size=t.shape, dtype=np.int64).astype(full[t.dtype]))
        elif t.dtype == "FLOAT32":
            arrs.append(rng.normal(size=t.shape).astype(np.float32))
        else:
            raise ValueError(f"no input generator for {t.dtype}")
    return arrs


def check(path: Path, info, seed: int = 1234, n_inputs: int = mm.CHECK_INPUTS) -> dict:
    """``mm.check_file`` with int16/uint8 inputs and the counts kept as numbers: run ``path``
    in TFLite Micro and in TFLite's reference kernels on ``n_inputs`` fixed random inputs."""
    data = path.read_bytes()
    res = {"runs": True, "error": None, "inputs": n_inputs, "values": 0, "differ": 0, "max_abs_diff": 0}
    for k in range(n_inputs):
        inputs = make_inputs(info, seed + k)
        ok, got = mm.tflm_run(path, inputs, len(info.outputs))
        if not ok:
            return dict(res, runs=False, error=got)
        try:
            ref = mm.tflite_ref_outputs(data, inputs)
        except (RuntimeError, ValueError) as e:
            return dict(res, error=f"TFLite's reference kernels cannot run it ({str(e).splitlines()[0]})")
        for a, b in zip(ref, got):
            a = np.asarray(a).reshape(-1).astype(np.float64)
            b = np.asarray(b).reshape(-1).astype(np.float64)
            if a.shape != b.shape:
                return dict(res, error=f"output shape {b.shape} vs {a.shape}")
            d = np.abs(a - b)
            res["values"] += d.size
            res["differ"] += int(np.count_nonzero(d))
            res["max_abs_diff"] = max(res["max_abs_diff"], float(d.max()) if d.size else 0.0)
    return res


def tflm_text(c: dict) -> str:
    if not c["runs"]:
        return f"FAILS: {c['error']}"
    if c["error"]:
        return f"runs, {c['error']}"
    if c["differ"] == 0:
        return f"runs, bit-exact ({c['inputs']} inputs)"
    return (f"runs, {c['differ']}/{c['values']} output values differ from TFLite, "
            f"max abs diff {c['max_abs_diff']:g} ({c['inputs']} inputs)")


def op_notes(info) -> list:
    """Tensor types and options worth a line in the README, per op of the file."""
    notes = [q.split(":", 1)[1] for q in mm.quant_notes(info)]
    def dt(i):
        return info.tensors[i].dtype.lower() if i >= 0 else "none"
    for op in info.ops:
        o, ins = op.options, op.inputs
        if op.name == "TRANSPOSE_CONV":   # inputs: output_shape, weights, input, bias
            w = info.tensors[ins[1]]
            notes.append(f"TRANSPOSE_CONV weights {dt(ins[1])} {'per-channel' if w.per_channel else 'per-tensor'}, "
                         f"bias {dt(ins[3]) if len(ins) > 3 else 'none'}, padding "
                         f"{'SAME' if o.get('padding') == 0 else 'VALID'}, stride {o.get('strideH')}x{o.get('strideW')}"
                         + (", relu fused" if o.get("fusedActivationFunction") == 1 else ""))
        elif op.name == "BATCH_MATMUL":
            kinds = ["const" if info.tensors[i].const else "activation" for i in ins[:2]]
            notes.append(f"BATCH_MATMUL {dt(ins[0])} {kinds[0]} x {dt(ins[1])} {kinds[1]}, "
                         f"adj_x={bool(o.get('adjX'))} adj_y={bool(o.get('adjY'))}")
        elif op.name in ("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"):
            notes.append(f"{op.name} align_corners={bool(o.get('alignCorners'))} "
                         f"half_pixel_centers={bool(o.get('halfPixelCenters'))}")
        elif op.name == "UNIDIRECTIONAL_SEQUENCE_LSTM":
            # inputs 1-8 weights, 12-15 gate biases, 18 output (h) state, 19 cell state
            notes.append(f"UNIDIRECTIONAL_SEQUENCE_LSTM weights {dt(ins[1])}, biases {dt(ins[12])}, "
                         f"h state {dt(ins[18])}, cell state {dt(ins[19])} (variable tensors), "
                         f"time_major={bool(o.get('timeMajor'))}, "
                         f"{sum(1 for i in ins if i >= 0)} of {len(ins)} inputs present")
        elif op.name == "GATHER":
            notes.append(f"GATHER axis {o.get('axis')}, indices {dt(ins[1])} "
                         f"{'const' if info.tensors[ins[1]].const else 'activation'}")
    for op in info.ops:
        if op.name in ("QUANTIZE", "DEQUANTIZE"):
            notes.append(f"{op.name} {dt(op.inputs[0])}->{dt(op.outputs[0])}")
    return notes


def build_entry(stem, targets, build, how) -> dict:
    """Convert, write, read back and check one case.  A case the converter cannot convert gets
    an entry without a file (``refused``: the converter's last error line)."""
    path = HERE / f"{stem}.tflite"
    try:
        data = build()
    except (ConverterError, RuntimeError, ValueError) as e:  # conversion / calibration failures
        path.unlink(missing_ok=True)
        last = [ln for ln in str(e).strip().splitlines() if ln.strip()] or [type(e).__name__]
        return {"file": None, "case": stem, "group": group_of(stem), "how": how, "targets": targets,
                "refused": last[-1].strip()}
    path.write_bytes(data)
    info = mm.describe_tflite(data)
    def io(i):
        t = info.tensors[i]
        return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype.lower()}
    return {"file": path.name, "case": stem, "group": group_of(stem), "ops": info.op_names,
            "inputs": [io(i) for i in info.inputs], "outputs": [io(i) for i in info.outputs],
            "bytes": info.size, "how": how, "missing": [t for t in targets if t not in info.op_set],
            "targets": targets, "notes": op_notes(info), "tflm": check(path, info)}


def main(argv) -> int:
    """No arguments: regenerate every file (this script's files of removed cases are deleted;
    other scripts in tests/data keep theirs).  Arguments are glob patterns over file stems
    (``op_sub*``): only those cases are rebuilt, the other rows come from ``op_models.json``."""
    chosen = [c for c in CASES if not argv or any(fnmatch.fnmatch(c[0], a) for a in argv)]
    if argv and not chosen:
        print(f"no case matches {argv}", file=sys.stderr)
        return 2
    old = {e["case"]: e for e in json.loads(INVENTORY.read_text())} if INVENTORY.exists() else {}
    if not argv:   # delete this script's files whose case is gone (never other scripts' files)
        names = {f"{c[0]}.tflite" for c in CASES}
        for f in {e["file"] for e in old.values() if e["file"]} - names:
            (HERE / f).unlink(missing_ok=True)
        old = {}
    for stem, targets, build, how in chosen:
        e = build_entry(stem, targets, build, how)
        old[stem] = e
        if e["file"] is None:
            print(f"{stem}: the converter refused: {e['refused']}", flush=True)
            continue
        print(f"{e['file']} ({e['bytes']} B): {', '.join(e['ops'])} | {'; '.join(e['notes'])} | "
              f"{tflm_text(e['tflm'])}", flush=True)
    entries = [old[c[0]] for c in CASES if c[0] in old]
    INVENTORY.write_text(json.dumps(entries, indent=1) + "\n")
    write_readme(entries)
    return 0


def shapes(ts) -> str:
    return "; ".join("x".join(str(d) for d in t["shape"]) + f" {t['dtype']}" for t in ts)


def write_readme(all_entries) -> None:
    entries = [e for e in all_entries if e["file"]]
    refused = [f"{e['case']} ({e['how']}): {e['refused']}" for e in all_entries if not e["file"]]
    notes = [f"{e['file']}: the TF graph had {', '.join(e['targets'])}; the converter wrote {', '.join(e['ops'])}"
             for e in entries if e["missing"]]
    failures = [f"{e['file']}: {e['tflm']['error']}" for e in entries if not e["tflm"]["runs"]]
    differ = [f"{e['file'].removesuffix('.tflite')} ({e['tflm']['differ']}/{e['tflm']['values']})"
              for e in entries if e["tflm"]["runs"] and e["tflm"]["differ"]]
    # argument names sort in argument order here (a, b; keras_tensor, keras_tensor_1)
    swapped = [e["file"].removesuffix(".tflite") for e in entries
               if [t["name"] for t in e["inputs"]] != sorted(t["name"] for t in e["inputs"])]
    tables = []
    for _, title in GROUPS:
        rows = []
        for e in entries:
            if e["group"] != title:
                continue
            extra = ([f"converter emitted no {', '.join(e['missing'])}"] if e["missing"] else []) + e["notes"]
            rows.append(f"| `{e['file']}` | {', '.join(e['ops'])} | {shapes(e['inputs'])} | {shapes(e['outputs'])} | "
                        f"{e['bytes']:,} | {e['how']}{'. ' + '; '.join(extra) if extra else ''} | "
                        f"{tflm_text(e['tflm'])} |")
        if rows:
            tables.append(f"## {title[0].upper() + title[1:]}\n\n{TABLE_HEAD}" + "\n".join(rows) + "\n")
    covered = sorted({n for e in entries for n in e["ops"]})
    v = mm.versions()
    readme = f"""# Test data: converter-made models

Tiny `.tflite` files written by the TensorFlow Lite converter with full-integer quantization:
int8 models with one operator each (or the few ops the converter emits for one Keras layer),
the same in the converter's 16x8 mode (int16 activations, int8 weights), a few small models
that combine them, and models with float, uint8 or several inputs and outputs.
**Generated by [`make_op_models.py`](make_op_models.py) — do not edit this file by hand**;
the op lists below are read back from the converted files.  The same facts, one record per
file, are in [`op_models.json`](op_models.json) (ops, input/output shapes and types, bytes,
notes, and the TFLite Micro result as numbers).

Made with TensorFlow {v['tensorflow']} (Keras {v['keras']}, numpy {v['numpy']}, Python {v['python']}).
TensorFlow is needed only to regenerate:

```
python3 -m venv /opt/tfenv && /opt/tfenv/bin/pip install tensorflow-cpu=={v['tensorflow']}
/opt/tfenv/bin/python tests/data/make_op_models.py            # every file (about 4 CPU-minutes)
/opt/tfenv/bin/python tests/data/make_op_models.py 'op_sub*'  # only the files matching a pattern
```

Weights are deterministic random values (not trained); biases are nonzero.  Calibration data is
normal noise with the stated ranges.  Inputs and outputs are int8 except where the table says
otherwise (16x8 files: int16; `op_quantize_dequantize`, `op16x8_quantize_dequantize`,
`io_float`: float32; `io_uint8`: uint8).

Ops covered: {', '.join(covered)}.

""" + "\n".join(tables) + f"""
*TFLite Micro*: run in TensorFlow Lite Micro's Python interpreter (system python package
`tflite_micro`) on {mm.CHECK_INPUTS} fixed random inputs (integer inputs uniform over their whole range,
float N(0,1)) and compared element by element with TensorFlow Lite's reference kernels
(`OpResolverType.BUILTIN_REF`) on the same inputs.  mcusim's target is TFLite Micro's output.

## What the converter did differently from the Keras graph

""" + ("\n".join(f"- {n}" for n in notes) if notes else "- nothing: every target op is present.") + """
- The order of a model's inputs in the file is not always the order of the Keras/TF
  arguments; the table lists them in file order, which is the order `set_input(x, i)` uses,
  and `op_models.json` gives each input's tensor name (`serving_default_<argument>:0`).
  Files whose inputs are in the reverse order of the arguments: """ + ", ".join(swapped) + """.
  The calibrator takes a representative sample given as a *list* in
  file order, so the first files (op_add ... op_pack, `rep_by_position=True` in the script)
  were calibrated with each input's ranges given to the other; the later ones feed the samples
  by signature input name (a list fails outright when the shapes differ, e.g. io_two_inputs).
- Keras 3's `LSTM` layer converts to a WHILE loop over three subgraphs, not to
  UNIDIRECTIONAL_SEQUENCE_LSTM, and its int8 conversion crashed the TF 2.21 converter
  (segfault).  The fused op comes from the function Keras 2 emitted for its LSTM
  (`api_implements="lstm_*"`), which the converter still recognises: `lstm()` in the script.
  The int8 fused LSTM keeps int8 weights, int32 gate biases, an int8 output (h) state and an
  int16 cell state (both variable tensors); `return_sequences=False` becomes the full
  sequence plus a STRIDED_SLICE of the last step.
- Keras 3's `LSTM(8, unroll=True)` on 10 steps does convert to int8, as a 41.6 KB graph of
  RESHAPE x10, UNPACK, FULLY_CONNECTED x19, SPLIT x10, LOGISTIC x29, TANH x20, MUL x29, ADD x27
  (measured once, not kept as a file: UNPACK is not among the operators issue 18 adds).
- LayerNormalization (net_layernorm) becomes MEAN, SQUARED_DIFFERENCE, MEAN, ADD (epsilon),
  RSQRT, MUL, ADD ... and a *float* NEG of the mean between a DEQUANTIZE and a QUANTIZE: the
  converter did not quantize NEG, so even this "full-integer" model carries float32
  activations inside.  net_layernorm_written_out has the same math without NEG (SUB instead).
- Keras 3's `UpSampling2D` (nearest) is not a resize: it becomes TILE (which TFLite's reference
  resolver cannot run at that version); the nearest-neighbour files use `tf.image.resize` and
  `tf.compat.v1.image.resize_nearest_neighbor`.  `UpSampling2D(interpolation="bilinear")` is
  RESIZE_BILINEAR with half_pixel_centers.
- 16x8 mode: activations int16 with zero point 0, weights int8, CONV_2D / DEPTHWISE_CONV_2D /
  FULLY_CONNECTED biases int64.
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

- Files whose TFLite Micro output differs from TFLite's anywhere: """ + ", ".join(differ) + """.
  The FULLY_CONNECTED and RELU6 cases are explained below; the differences in the LSTM and
  layer-norm files (off by one) were not analysed.
- FULLY_CONNECTED: TensorFlow Lite's kernel requantizes with *single* rounding
  (`(acc * M + 2^(30-s)) >> (31-s)`), TFLite Micro with the classic *double* rounding
  (`SaturatingRoundingDoublingHighMul` then `RoundingDivideByPOT`), so about one output value in
  a few hundred differs by 1.  A numpy model of TFLite Micro's double rounding matched every
  output checked; CONV_2D and DEPTHWISE_CONV_2D agree between the two.
- RELU6 (standalone, as in op_relu6): TFLite Micro's int8 RELU6 only clamps, in the *input's*
  scale, to [zero_point, quantized 6]; it does not rescale to the output tensor's scale and zero
  point, which the converter sets differently.  Its output is therefore not TFLite's (every value
  differs).  RELU (op_relu) does rescale and agrees.  A relu6 fused into a conv/FC is unaffected.
""" + ("\n## Cases the converter refused (no file written)\n\n" + "\n".join(f"- {r}" for r in refused) + "\n"
       if refused else "") + ("\n## TFLite Micro failures\n\n" + "\n".join(f"- {f}" for f in failures) + "\n" if failures else "")
    (HERE / "README.md").write_text(readme)
    print("wrote tests/data/README.md and tests/data/op_models.json")
    if notes:
        print("converter rewrites:\n  " + "\n  ".join(notes))
    if failures:
        print("TFLM failures:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
