"""The numpy int8 reference of every op mcusim runs: the living specification.

Each op has two halves, mirroring TFLM's prepare/eval split:

* ``prepare_<op>(graph, op) -> <Op>Params`` computes on the host, from the tensors'
  quantization, everything the integer kernel needs (multipliers and shifts, offsets,
  activation range, padding). The classic code generator emits exactly these numbers.
* ``<op>(arrays..., params) -> np.ndarray`` is the integer kernel over numpy arrays. Inputs
  are int8 (or int32/float32 where the op says so); results come back in the output
  tensor's dtype.

:func:`run_graph` evaluates a whole :class:`~mcusim.tflite.Graph` op by op and
:func:`trace_graph` returns every tensor it computed, for per-op debugging. Both must agree
bit for bit with the ``tflite-micro`` interpreter (its reference kernels, default
double-rounding build); where TFLM does something surprising, the docstring says so.

The LUT helpers at the end (:func:`swish_lut`, :func:`leaky_relu_lut`, :func:`apply_lut`)
are mcusim's own extension for the classic path's custom activations, not TFLM ops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import operators
from ..errors import McusimError, ModelError
from ..operators import Values
from ..operators._common import (
    I8_MAX,
    I8_MIN,
    Requant,
)
from ..operators._common import activation_range as _activation_range
from ..operators._common import exact_dot as _exact_dot
from ..operators._common import i64 as _i64
from ..operators._common import inp as _inp
from ..operators._common import multipliers as _multipliers
from ..operators._common import optional_input as _optional_input
from ..operators._common import out as _out
from ..operators._common import qparams as _qparams
from ..operators._common import spatial as _spatial
from ..operators._common import to_i8 as _to_i8
from ..operators._common import value as _value
from ..operators._common import windows as _windows
from . import quant as q
from .graph import Graph, Op


@dataclass(frozen=True)
class ConvParams:
    """Convolution geometry and quantization (also used for depthwise)."""

    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_h: int
    pad_w: int
    out_h: int
    out_w: int
    input_offset: int      # -input zero point
    depth_multiplier: int  # depthwise only (1 for CONV_2D)
    requant: Requant


def _conv_requant(graph: Graph, op: Op) -> Requant:
    """Per-channel multipliers: double(in_scale) * double(filter_scale[c]) / double(out_scale)."""
    x, w, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    channels = out.shape[-1]
    scales = [float(s) for s in w.scale] if w.is_per_channel else [float(w.scale[0])] * channels
    real = [float(x.scale[0]) * s / float(out.scale[0]) for s in scales]
    mult, shift = _multipliers(real)
    return Requant(mult, shift, int(out.zero_point[0]), *_activation_range(op, out))


def prepare_conv(graph: Graph, op: Op) -> ConvParams:
    """Host-side parameters of CONV_2D or DEPTHWISE_CONV_2D."""
    x, w, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    if len(x.shape) != 4 or len(w.shape) != 4:
        raise ModelError(f"op {op.index} ({op.type}) needs 4-D input and filter")
    pad_h, pad_w, out_h, out_w = _spatial(op, x.shape, w.shape[1], w.shape[2], out)
    o = op.options
    dm = int(o.get("depth_multiplier", 1) or 1) if op.type == "DEPTHWISE_CONV_2D" else 1
    return ConvParams(o["stride_h"], o["stride_w"], o.get("dilation_h_factor", 1),
                      o.get("dilation_w_factor", 1), pad_h, pad_w, out_h, out_w,
                      -int(x.zero_point[0]), dm, _conv_requant(graph, op))


def conv_2d(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, p: ConvParams) -> np.ndarray:
    """int8 NHWC convolution; weights [OC, KH, KW, IC/groups], bias int32 [OC] or None.

    Padding pixels contribute nothing (not the zero point): TFLM skips them.
    """
    oc, kh, kw, ic_per_group = weights.shape
    groups = x.shape[3] // ic_per_group
    patches = _windows(_i64(x) + p.input_offset, kh, kw, p.stride_h, p.stride_w,
                       p.dilation_h, p.dilation_w, p.pad_h, p.pad_w, p.out_h, p.out_w, 0)
    n = x.shape[0]
    patches = patches.reshape(n, p.out_h, p.out_w, kh, kw, groups, ic_per_group)
    w = _i64(weights).reshape(groups, oc // groups, kh, kw, ic_per_group)
    acc = np.concatenate([_exact_dot(patches[..., g, :], w[g], axes=([3, 4, 5], [1, 2, 3]))
                          for g in range(groups)], axis=-1)
    if bias is not None:
        acc = acc + _i64(bias)
    return p.requant.apply(acc)


def depthwise_conv_2d(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
                      p: ConvParams) -> np.ndarray:
    """int8 NHWC depthwise convolution; weights [1, KH, KW, IC*M], output channel ic*M+m."""
    _, kh, kw, _ = weights.shape
    patches = _windows(_i64(x) + p.input_offset, kh, kw, p.stride_h, p.stride_w,
                       p.dilation_h, p.dilation_w, p.pad_h, p.pad_w, p.out_h, p.out_w, 0)
    patches = np.repeat(patches, p.depth_multiplier, axis=-1)
    acc = np.einsum("nyxhwc,hwc->nyxc", patches, _i64(weights[0]))
    if bias is not None:
        acc = acc + _i64(bias)
    return p.requant.apply(acc)


# --- FULLY_CONNECTED ------------------------------------------------------------------------
@dataclass(frozen=True)
class FullyConnectedParams:
    """Offsets and output stage of FULLY_CONNECTED."""

    input_offset: int
    weights_offset: int
    requant: Requant


def prepare_fully_connected(graph: Graph, op: Op) -> FullyConnectedParams:
    """Per-tensor multiplier: double(float32(in_scale * w_scale)) / double(out_scale), as TFLM
    (float32 product); per-channel weights use the double product per channel."""
    x, w, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    if op.options.get("weights_format", "DEFAULT") != "DEFAULT":
        raise ModelError(f"op {op.index} (FULLY_CONNECTED) uses shuffled weights, which mcusim does not support")
    in_s = float(x.scale[0])
    if w.is_per_channel:
        real = [in_s * float(s) / float(out.scale[0]) for s in w.scale]
    else:
        real = [float(np.float32(x.scale[0]) * np.float32(w.scale[0])) / float(out.scale[0])]
    mult, shift = _multipliers(real)
    requant = Requant(mult, shift, int(out.zero_point[0]), *_activation_range(op, out))
    return FullyConnectedParams(-int(x.zero_point[0]), -int(w.zero_point[0]), requant)


def fully_connected(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
                    p: FullyConnectedParams) -> np.ndarray:
    """int8 matrix-vector product; x flattened to (batches, depth), weights [units, depth].

    Returns int8 (batches, units); the caller reshapes to the output tensor's shape.
    """
    depth = weights.shape[1]
    xs = _i64(x).reshape(-1, depth) + p.input_offset
    acc = _exact_dot(xs, _i64(weights) + p.weights_offset, axes=([1], [1]))
    if bias is not None:
        acc = acc + _i64(bias)
    return p.requant.apply(acc)


# --- pooling --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolParams:
    """Window geometry and activation clamp of MAX_POOL_2D / AVERAGE_POOL_2D."""

    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    out_h: int
    out_w: int
    act_min: int
    act_max: int


def prepare_pool(graph: Graph, op: Op) -> PoolParams:
    """Host-side parameters of a 2-D pooling op."""
    x, out = _inp(graph, op, 0), _out(graph, op)
    o = op.options
    if len(x.shape) != 4:
        raise ModelError(f"op {op.index} ({op.type}) needs a 4-D input")
    fh, fw = o["filter_height"], o["filter_width"]
    if fh <= 0 or fw <= 0:
        raise ModelError(f"op {op.index} ({op.type}) has an empty pooling window")
    pad_h, pad_w, out_h, out_w = _spatial(op, x.shape, fh, fw, out)
    return PoolParams(fh, fw, o["stride_h"], o["stride_w"], pad_h, pad_w, out_h, out_w,
                      *_activation_range(op, out))


def _pool_windows(x: np.ndarray, p: PoolParams, fill: int) -> np.ndarray:
    return _windows(x, p.filter_h, p.filter_w, p.stride_h, p.stride_w, 1, 1,
                    p.pad_h, p.pad_w, p.out_h, p.out_w, fill)


def max_pool_2d(x: np.ndarray, p: PoolParams) -> np.ndarray:
    """Max over the in-image part of each window, then the activation clamp; int8 NHWC."""
    windows = _pool_windows(_i64(x), p, I8_MIN - 1)
    return _to_i8(np.clip(windows.max(axis=(3, 4)), p.act_min, p.act_max))


def average_pool_2d(x: np.ndarray, p: PoolParams) -> np.ndarray:
    """Mean over the in-image pixels of each window (padding not counted), rounded half away
    from zero by integer division, then clamped; int8 NHWC. No zero-point handling: input
    and output share quantization."""
    windows = _pool_windows(_i64(x), p, 0)
    ones = _pool_windows(np.ones((1,) + x.shape[1:3] + (1,), np.int64), p, 0)
    acc = windows.sum(axis=(3, 4))
    count = ones.sum(axis=(3, 4))
    half = count // 2
    avg = np.where(acc > 0, q.c_div(acc + half, count), q.c_div(acc - half, count))
    return _to_i8(np.clip(avg, p.act_min, p.act_max))


# --- elementwise binary ---------------------------------------------------------------------
@dataclass(frozen=True)
class AddParams:
    """TFLM int8 ADD: both inputs scaled to 2^20 times twice the larger input scale."""

    input1_offset: int
    input2_offset: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    output_offset: int
    act_min: int
    act_max: int


def prepare_add(graph: Graph, op: Op) -> AddParams:
    """Host-side parameters of int8 ADD (left shift 20)."""
    a, b, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    (sa, za), (sb, zb), (so, zo) = _qparams(a), _qparams(b), _qparams(out)
    left_shift = 20
    twice_max = 2.0 * max(sa, sb)
    m1, s1 = q.quantize_multiplier(sa / twice_max)
    m2, s2 = q.quantize_multiplier(sb / twice_max)
    mo, so_ = q.quantize_multiplier(twice_max / ((1 << left_shift) * so))
    return AddParams(-za, -zb, left_shift, m1, s1, m2, s2, mo, so_, zo, *_activation_range(op, out))


def add(a: np.ndarray, b: np.ndarray, p: AddParams) -> np.ndarray:
    """int8 ADD with numpy broadcasting; returns int8."""
    x1 = q.wrap_int32((_i64(a) + p.input1_offset) << p.left_shift)
    x2 = q.wrap_int32((_i64(b) + p.input2_offset) << p.left_shift)
    s1 = q.multiply_by_quantized_multiplier_smaller_than_one_exp(x1, p.input1_multiplier, p.input1_shift)
    s2 = q.multiply_by_quantized_multiplier_smaller_than_one_exp(x2, p.input2_multiplier, p.input2_shift)
    raw = q.multiply_by_quantized_multiplier_smaller_than_one_exp(
        q.wrap_int32(s1 + s2), p.output_multiplier, p.output_shift) + p.output_offset
    return _to_i8(np.clip(raw, p.act_min, p.act_max))


@dataclass(frozen=True)
class MulParams:
    """TFLM int8 MUL: one multiplier for in1_scale * in2_scale / out_scale."""

    input1_offset: int
    input2_offset: int
    output_multiplier: int
    output_shift: int
    output_offset: int
    act_min: int
    act_max: int


def prepare_mul(graph: Graph, op: Op) -> MulParams:
    """Host-side parameters of int8 MUL."""
    a, b, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    (sa, za), (sb, zb), (so, zo) = _qparams(a), _qparams(b), _qparams(out)
    m, s = q.quantize_multiplier(sa * sb / so)
    return MulParams(-za, -zb, m, s, zo, *_activation_range(op, out))


def mul(a: np.ndarray, b: np.ndarray, p: MulParams) -> np.ndarray:
    """int8 MUL with numpy broadcasting; returns int8."""
    prod = (_i64(a) + p.input1_offset) * (_i64(b) + p.input2_offset)
    raw = q.multiply_by_quantized_multiplier(prod, p.output_multiplier, p.output_shift) + p.output_offset
    return _to_i8(np.clip(raw, p.act_min, p.act_max))


# --- MEAN -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeanParams:
    """int8 MEAN: reduced axes and the multiplier/shift of in_scale / out_scale."""

    axes: tuple[int, ...]
    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int


def prepare_mean(graph: Graph, op: Op) -> MeanParams:
    """Host-side parameters of MEAN; the axis tensor must be constant."""
    x, axis, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    assert axis.data is not None
    axes: list[int] = []
    for a in axis.data.reshape(-1).tolist():
        a = a + len(x.shape) if a < 0 else a
        if not 0 <= a < len(x.shape):
            raise ModelError(f"op {op.index} (MEAN) reduces axis {a} of a {len(x.shape)}-D tensor")
        if a not in axes:
            axes.append(a)
    (si, zi), (so, zo) = _qparams(x), _qparams(out)
    m, s = q.quantize_multiplier(si / so)
    return MeanParams(tuple(axes), zi, zo, m, s)


def mean(x: np.ndarray, p: MeanParams) -> np.ndarray:
    """int8 mean over ``p.axes`` (keep_dims handled by the caller's reshape).

    TFLM folds 1/count into the multiplier: ``(multiplier << s) / count`` with
    s = min(floor(log2(count)), 32, 31 + shift), shift reduced by s, then requantizes the
    zero-point-corrected int32 sum. It does so even when input and output share
    quantization: older TFLM had a plain truncating ``sum / count`` path for that case, the
    tflite-micro build mcusim is checked against does not (verified by
    tests/test_reference_vs_tflm.py, ``mean_same_*``).
    """
    total = _i64(x).sum(axis=p.axes)
    count = int(np.prod([x.shape[a] for a in p.axes], dtype=np.int64))
    if count == 0:
        return _to_i8(np.zeros_like(total))
    shift = min(count.bit_length() - 1, 32, 31 + p.shift)
    multiplier = (p.multiplier << shift) // count
    shifted = q.wrap_int32(total - p.input_zero_point * count)
    out = q.multiply_by_quantized_multiplier(shifted, multiplier, p.shift - shift) + p.output_zero_point
    return _to_i8(np.clip(out, I8_MIN, I8_MAX))


# --- CONCATENATION / PAD / shape ops --------------------------------------------------------
def concatenation(inputs: list[np.ndarray], axis: int, *, scales: list[float] | None = None,
                  zero_points: list[int] | None = None, output_scale: float = 1.0,
                  output_zero_point: int = 0) -> np.ndarray:
    """Concatenate along ``axis``.

    TFLM's int8 CONCATENATION copies the raw values and ignores differing input scales (the
    converter gives all inputs the output's quantization), so that is the default here. Pass
    ``scales``/``zero_points`` to requantize inputs whose quantization differs from the
    output's, TFLite-style (``round(q_in * s_in/s_out)``); that is mcusim's option, not TFLM's.
    """
    if scales is None or zero_points is None:
        return np.concatenate(inputs, axis=axis)
    parts = []
    for arr, s, z in zip(inputs, scales, zero_points):
        if np.float32(s) == np.float32(output_scale) and z == output_zero_point:
            parts.append(arr)
            continue
        scaled = q.tflite_round((_i64(arr) - z).astype(np.float32) * np.float32(s / output_scale))
        parts.append(_to_i8(np.clip(scaled.astype(np.int64) + output_zero_point, I8_MIN, I8_MAX)))
    return np.concatenate(parts, axis=axis)


def pad(x: np.ndarray, paddings: np.ndarray, pad_value: int) -> np.ndarray:
    """Constant padding; ``paddings`` is [rank, 2] (before, after). TFLM pads int8 PAD with
    the output zero point."""
    widths = [(int(b), int(a)) for b, a in np.asarray(paddings).reshape(-1, 2)]
    return np.pad(x, widths, mode="constant", constant_values=pad_value)


def strided_slice(x: np.ndarray, begin: np.ndarray, end: np.ndarray, strides: np.ndarray,
                  options: dict[str, Any]) -> np.ndarray:
    """TF strided slice with begin/end/shrink masks and the ``offset`` option (TFLM has no
    ellipsis or new-axis support, nor has mcusim)."""
    if options.get("ellipsis_mask", 0) or options.get("new_axis_mask", 0):
        raise ModelError("STRIDED_SLICE with ellipsis_mask or new_axis_mask is not supported")
    begin_mask, end_mask = options.get("begin_mask", 0), options.get("end_mask", 0)
    shrink = options.get("shrink_axis_mask", 0)
    out = x
    keep_shape = []
    for axis, dim in enumerate(x.shape):
        b = int(begin[axis]) if axis < len(begin) else 0
        e = int(end[axis]) if axis < len(end) else dim
        s = int(strides[axis]) if axis < len(strides) else 1
        if s == 0:
            raise ModelError("STRIDED_SLICE with stride 0")
        if options.get("offset", False):
            e = b + e
        start = _slice_start(b, s, dim, bool(begin_mask >> axis & 1))
        if shrink >> axis & 1:
            stop = start + 1
        else:
            stop = _slice_stop(e, s, dim, bool(end_mask >> axis & 1))
            keep_shape.append(axis)
        out = np.take(out, np.arange(start, stop, s if not shrink >> axis & 1 else 1), axis=axis)
    return out.reshape([out.shape[a] for a in keep_shape])


def _slice_start(b: int, stride: int, dim: int, masked: bool) -> int:
    if dim == 0:
        return 0
    if masked:
        return 0 if stride > 0 else dim - 1
    b = b + dim if b < 0 else b
    return min(max(b, 0), dim) if stride > 0 else min(max(b, -1), dim - 1)


def _slice_stop(e: int, stride: int, dim: int, masked: bool) -> int:
    if masked:
        return dim if stride > 0 else -1
    e = e + dim if e < 0 else e
    return min(max(e, 0), dim) if stride > 0 else min(max(e, -1), dim - 1)


# --- activations ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SoftmaxParams:
    """TFLM int8 SOFTMAX: beta * input_scale in Q5.26 and the cut-off for negligible terms."""

    input_multiplier: int
    input_left_shift: int
    diff_min: int


def prepare_softmax(graph: Graph, op: Op) -> SoftmaxParams:
    """Host-side parameters of int8 SOFTMAX; the output must be scale 1/256, zero point -128."""
    x, out = _inp(graph, op, 0), _out(graph, op)
    so, zo = _qparams(out)
    if zo != -128 or np.float32(so) != np.float32(1 / 256):
        raise ModelError(f"op {op.index} (SOFTMAX) int8 output must have scale 1/256 and zero point -128")
    scaled_diff_integer_bits = 5
    m, s = q.preprocess_softmax_scaling(float(op.options.get("beta", 1.0)), float(x.scale[0]),
                                        scaled_diff_integer_bits)
    diff_min = -q.calculate_input_radius(scaled_diff_integer_bits, s)
    return SoftmaxParams(m, s, diff_min)


def softmax(x: np.ndarray, p: SoftmaxParams) -> np.ndarray:
    """int8 softmax over the last axis, gemmlowp fixed point: exp of the Q5.26 scaled
    difference to the row max, Q12.19 sum, Newton-Raphson reciprocal; output scale 1/256."""
    xi = _i64(x)
    diff = xi - xi.max(axis=-1, keepdims=True)
    valid = diff >= p.diff_min
    rescaled = q.multiply_by_quantized_multiplier_greater_than_one(
        np.where(valid, diff, 0), p.input_multiplier, p.input_left_shift)
    exp_q0 = q.exp_on_negative_values(rescaled, 5)
    exp_accum = np.where(valid, q.rescale(exp_q0, 0, 12), 0)
    sum_of_exps = q.wrap_int32(exp_accum.sum(axis=-1, keepdims=True))
    reciprocal, bits_over_unit = q.get_reciprocal(sum_of_exps, 12)
    exponent = bits_over_unit + 31 - 8
    unsat = q.rounding_divide_by_pot(q.saturating_rounding_doubling_high_mul(reciprocal, exp_q0), exponent)
    out = np.clip(unsat - 128, I8_MIN, I8_MAX)
    return _to_i8(np.where(valid, out, I8_MIN))


@dataclass(frozen=True)
class SigmoidParams:
    """TFLM int8 LOGISTIC / TANH: input rescaled into Q4.27 within a saturation radius."""

    input_zero_point: int
    input_range_radius: int
    input_multiplier: int
    input_left_shift: int


def prepare_sigmoid(graph: Graph, op: Op) -> SigmoidParams:
    """LOGISTIC/TANH prepare: frexp(in_scale * 2^27) rounded, *without* QuantizeMultiplier's
    2^31 fix-up (TFLM computes it inline)."""
    x, out = _inp(graph, op, 0), _out(graph, op)
    so, zo = _qparams(out)
    want = (1 / 256, -128) if op.type == "LOGISTIC" else (1 / 128, 0)
    if zo != want[1]:
        raise ModelError(f"op {op.index} ({op.type}) int8 output must have zero point {want[1]}")
    input_integer_bits = 4
    m, s = q.quantize_multiplier_frexp_only(float(x.scale[0]) * float(1 << (31 - input_integer_bits)))
    radius = q.calculate_input_radius(input_integer_bits, s, 31)
    return SigmoidParams(int(x.zero_point[0]), radius, m, s)


def _sigmoid_like(x: np.ndarray, p: SigmoidParams, fn: Callable[[np.ndarray], np.ndarray],
                  out_shift: int, out_zero_point: int) -> np.ndarray:
    inp = _i64(x) - p.input_zero_point
    inside = (inp > -p.input_range_radius) & (inp < p.input_range_radius)
    in_q4 = q.multiply_by_quantized_multiplier(np.where(inside, inp, 0), p.input_multiplier,
                                               p.input_left_shift)
    value = q.rounding_divide_by_pot(fn(in_q4), out_shift) + out_zero_point
    value = np.clip(value, I8_MIN, I8_MAX)
    return _to_i8(np.where(inp <= -p.input_range_radius, I8_MIN,
                           np.where(inp >= p.input_range_radius, I8_MAX, value)))


def logistic(x: np.ndarray, p: SigmoidParams) -> np.ndarray:
    """int8 sigmoid; output scale 1/256, zero point -128."""
    return _sigmoid_like(x, p, lambda v: q.fixed_logistic(v, 4), 31 - 8, -128)


def tanh(x: np.ndarray, p: SigmoidParams) -> np.ndarray:
    """int8 tanh; output scale 1/128, zero point 0."""
    return _sigmoid_like(x, p, lambda v: q.fixed_tanh(v, 4), 31 - 7, 0)


@dataclass(frozen=True)
class HardSwishParams:
    """TFLM int8 HARD_SWISH: 16-bit fixed-point multipliers for the output scale and for the
    'relu-ish' ramp (input rescaled so that 3.0 is 32768)."""

    input_zero_point: int
    output_zero_point: int
    output_multiplier_fixedpoint_int16: int
    output_multiplier_exponent: int
    reluish_multiplier_fixedpoint_int16: int
    reluish_multiplier_exponent: int


def prepare_hard_swish(graph: Graph, op: Op) -> HardSwishParams:
    """The scale ratios are computed in float32, as TFLM does, then widened to double."""
    x, out = _inp(graph, op, 0), _out(graph, op)
    hires_input_scale = np.float32(1.0 / 128.0) * np.float32(x.scale[0])
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    om, oe = q.quantize_multiplier(float(hires_input_scale / np.float32(out.scale[0])))
    rm, re = q.quantize_multiplier(float(hires_input_scale / reluish_scale))
    if oe > 0:
        raise ModelError(f"op {op.index} (HARD_SWISH) output scale is too small for the int8 kernel")
    return HardSwishParams(int(x.zero_point[0]), int(out.zero_point[0]),
                           q.downscale_int32_to_int16_multiplier(om), oe,
                           q.downscale_int32_to_int16_multiplier(rm), re)


def hard_swish(x: np.ndarray, p: HardSwishParams) -> np.ndarray:
    """int8 x * relu6(x + 3) / 6 in TFLM's int16 fixed point."""
    value = q.wrap_int16(_i64(x) - p.input_zero_point)
    hires = q.wrap_int16(value * 128)
    preshift_output = q.saturating_rounding_doubling_high_mul_int16(hires, p.output_multiplier_fixedpoint_int16)
    reluish = hires
    if p.reluish_multiplier_exponent > 0:
        reluish = q.saturating_left_shift_int16(reluish, p.reluish_multiplier_exponent - 1)
    reluish = q.saturating_rounding_doubling_high_mul_int16(reluish, p.reluish_multiplier_fixedpoint_int16)
    if p.reluish_multiplier_exponent > 0:
        reluish = q.saturating_left_shift_int16(reluish, 1)
    if p.reluish_multiplier_exponent < 0:
        reluish = q.rounding_divide_by_pot(reluish, -p.reluish_multiplier_exponent)
    reluish = (reluish + (1 << 15)) >> 1
    preshift = q.saturating_doubling_high_mul_int16(reluish, preshift_output)
    out = q.wrap_int16(q.rounding_divide_by_pot(preshift, -p.output_multiplier_exponent) + p.output_zero_point)
    return _to_i8(np.clip(out, I8_MIN, I8_MAX))


@dataclass(frozen=True)
class PreluParams:
    """TFLM int8 PRELU: in/out multiplier for x >= 0, in*alpha/out multiplier for x < 0."""

    input_offset: int
    alpha_offset: int
    output_offset: int
    output_multiplier_1: int
    output_shift_1: int
    output_multiplier_2: int
    output_shift_2: int


def prepare_prelu(graph: Graph, op: Op) -> PreluParams:
    """Host-side parameters of int8 PRELU (double ratios)."""
    x, alpha, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    (sx, zx), (sa, za), (so, zo) = _qparams(x), _qparams(alpha), _qparams(out)
    m1, s1 = q.quantize_multiplier(sx / so)
    m2, s2 = q.quantize_multiplier(sx * sa / so)
    return PreluParams(-zx, -za, zo, m1, s1, m2, s2)


def prelu(x: np.ndarray, alpha: np.ndarray, p: PreluParams) -> np.ndarray:
    """int8 PReLU; ``alpha`` broadcasts against ``x`` (right-aligned)."""
    v = _i64(x) + p.input_offset
    a = _i64(alpha) + p.alpha_offset
    pos = q.multiply_by_quantized_multiplier(v, p.output_multiplier_1, p.output_shift_1)
    neg = q.multiply_by_quantized_multiplier(v * a, p.output_multiplier_2, p.output_shift_2)
    out = np.where(v >= 0, pos, neg) + p.output_offset
    return _to_i8(np.clip(out, I8_MIN, I8_MAX))


@dataclass(frozen=True)
class ReluParams:
    """TFLM int8 RELU: rescale in->out, clamp at the output's zero."""

    input_zero_point: int
    output_zero_point: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def prepare_relu(graph: Graph, op: Op) -> ReluParams:
    """Host-side parameters of int8 RELU."""
    x, out = _inp(graph, op, 0), _out(graph, op)
    (sx, zx), (so, zo) = _qparams(x), _qparams(out)
    m, s = q.quantize_multiplier(sx / so)
    return ReluParams(zx, zo, m, s, max(I8_MIN, zo), I8_MAX)


def relu(x: np.ndarray, p: ReluParams) -> np.ndarray:
    """int8 ReLU with requantization."""
    v = q.multiply_by_quantized_multiplier(_i64(x) - p.input_zero_point, p.output_multiplier,
                                           p.output_shift) + p.output_zero_point
    return _to_i8(np.clip(v, p.act_min, p.act_max))


def prepare_relu6(graph: Graph, op: Op) -> tuple[int, int]:
    """(zero, six) on the *input* scale; TFLM's int8 RELU6 clamps without requantizing."""
    sx, zx = _qparams(_inp(graph, op, 0))
    six = q.round_half_away(float(np.float32(6.0) / np.float32(sx))) + zx
    return zx, min(max(six, I8_MIN), I8_MAX)


def relu6(x: np.ndarray, zero: int, six: int) -> np.ndarray:
    """int8 ReLU6: clamp to [zero, six] (input and output share quantization)."""
    return _to_i8(np.clip(_i64(x), zero, six))


# --- QUANTIZE / DEQUANTIZE ------------------------------------------------------------------
def quantize_float(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float32 -> int8: round_half_away(x / float32(scale)) + zero point, clamped."""
    scaled = np.asarray(x, np.float32) / np.float32(scale)
    return _to_i8(np.clip(q.tflite_round(scaled).astype(np.int64) + zero_point, I8_MIN, I8_MAX))


@dataclass(frozen=True)
class RequantizeParams:
    """int8 -> int8 QUANTIZE: multiplier of in_scale / out_scale."""

    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int


def prepare_requantize(graph: Graph, op: Op) -> RequantizeParams:
    """Host-side parameters of an int8 -> int8, uint8 -> int8 or int8 -> uint8 QUANTIZE."""
    (si, zi), (so, zo) = _qparams(_inp(graph, op, 0)), _qparams(_out(graph, op))
    m, s = q.quantize_multiplier(si / so)
    return RequantizeParams(zi, zo, m, s)


def requantize(x: np.ndarray, p: RequantizeParams, dtype: type = np.int8) -> np.ndarray:
    """int8 -> int8 rescale (TFLM Requantize), or between int8 and uint8 (``x`` uint8, or
    ``dtype`` np.uint8): the same formula, saturated to the output type."""
    v = q.multiply_by_quantized_multiplier(_i64(x) - p.input_zero_point, p.multiplier, p.shift)
    info = np.iinfo(dtype)
    return np.clip(v + p.output_zero_point, info.min, info.max).astype(dtype)


def dequantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 -> float32: float32(scale) * (x - zero point), in float32."""
    return (np.float32(scale) * (_i64(x) - zero_point).astype(np.float32)).astype(np.float32)


# --- mcusim's LUT extension (classic path custom activations; not TFLM ops) ----------------
def _lut(fn: Callable[[float], float], input_scale: float, input_zero_point: int,
         output_scale: float, output_zero_point: int) -> np.ndarray:
    table = np.empty(256, np.int8)
    for i, qin in enumerate(range(I8_MIN, I8_MAX + 1)):
        real = fn(input_scale * (qin - input_zero_point))
        qout = q.round_half_away(real / output_scale) + output_zero_point
        table[i] = min(max(qout, I8_MIN), I8_MAX)
    return table


def swish_lut(input_scale: float, input_zero_point: int, output_scale: float,
              output_zero_point: int) -> np.ndarray:
    """256-entry int8 table of swish(x) = x * sigmoid(x), indexed by ``q_in + 128``.

    Computed in double from the dequantized input; the output is rounded half away from
    zero and clamped. mcusim's own extension for the classic path, not a TFLM op.
    """
    return _lut(lambda v: v / (1.0 + math.exp(-v)), input_scale, input_zero_point,
                output_scale, output_zero_point)


def leaky_relu_lut(alpha: float, input_scale: float, input_zero_point: int,
                   output_scale: float, output_zero_point: int) -> np.ndarray:
    """256-entry int8 table of a parametric leaky ReLU (``x if x >= 0 else alpha * x``),
    indexed by ``q_in + 128``; mcusim's own extension, not a TFLM op."""
    return _lut(lambda v: v if v >= 0 else alpha * v, input_scale, input_zero_point,
                output_scale, output_zero_point)


def apply_lut(x: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map every int8 value through a 256-entry table; returns int8 of x's shape."""
    table = np.asarray(lut, np.int8)
    return np.asarray(table[_i64(x) + 128], np.int8)


# --- graph evaluation -----------------------------------------------------------------------



def _optional_value(values: Values, graph: Graph, op: Op, pos: int) -> np.ndarray | None:
    t = _optional_input(graph, op, pos)
    return None if t is None else _value(values, graph, op, pos)


def _eval_conv(graph: Graph, op: Op, v: Values) -> np.ndarray:
    p = prepare_conv(graph, op)
    kernel = conv_2d if op.type == "CONV_2D" else depthwise_conv_2d
    return kernel(_value(v, graph, op, 0), _value(v, graph, op, 1), _optional_value(v, graph, op, 2), p)


def _eval_fc(graph: Graph, op: Op, v: Values) -> np.ndarray:
    p = prepare_fully_connected(graph, op)
    return fully_connected(_value(v, graph, op, 0), _value(v, graph, op, 1),
                           _optional_value(v, graph, op, 2), p)


def _eval_pool(graph: Graph, op: Op, v: Values) -> np.ndarray:
    p = prepare_pool(graph, op)
    kernel = max_pool_2d if op.type == "MAX_POOL_2D" else average_pool_2d
    return kernel(_value(v, graph, op, 0), p)


def _eval_concat(graph: Graph, op: Op, v: Values) -> np.ndarray:
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise ModelError(f"op {op.index} (CONCATENATION) with a fused activation is not supported")
    arrays = [_value(v, graph, op, i) for i in range(len(op.inputs))]
    axis = op.options.get("axis", 0)
    return concatenation(arrays, axis + arrays[0].ndim if axis < 0 else axis)


def _eval_pad(graph: Graph, op: Op, v: Values) -> np.ndarray:
    constant = _optional_value(v, graph, op, 2)
    value = int(constant.reshape(-1)[0]) if constant is not None else _out(graph, op).zero_point_value()
    return pad(_value(v, graph, op, 0), _value(v, graph, op, 1), value)


def _eval_quantize(graph: Graph, op: Op, v: Values) -> np.ndarray:
    x = _inp(graph, op, 0)
    if x.dtype == "FLOAT32":
        return quantize_float(_value(v, graph, op, 0), *_qparams(_out(graph, op)))
    return requantize(_value(v, graph, op, 0), prepare_requantize(graph, op), _out(graph, op).numpy_dtype)


def _eval_strided_slice(graph: Graph, op: Op, v: Values) -> np.ndarray:
    ones = np.ones(len(_inp(graph, op, 0).shape), np.int64)
    strides = _optional_value(v, graph, op, 3)
    return strided_slice(_value(v, graph, op, 0), _value(v, graph, op, 1), _value(v, graph, op, 2),
                         ones if strides is None else strides, op.options)


def _eval_pack(graph: Graph, op: Op, v: Values) -> np.ndarray:
    arrays = [_value(v, graph, op, i) for i in range(len(op.inputs))]
    axis = op.options.get("axis", 0)
    return np.stack(arrays, axis=axis + arrays[0].ndim + 1 if axis < 0 else axis)


def _reshape_to_output(graph: Graph, op: Op, v: Values) -> np.ndarray:
    return _value(v, graph, op, 0).reshape(_out(graph, op).shape)


_Handler = Callable[[Graph, Op, Values], np.ndarray]
_HANDLERS: dict[str, _Handler] = {
    "CONV_2D": _eval_conv,
    "DEPTHWISE_CONV_2D": _eval_conv,
    "FULLY_CONNECTED": _eval_fc,
    "MAX_POOL_2D": _eval_pool,
    "AVERAGE_POOL_2D": _eval_pool,
    "MEAN": lambda g, o, v: mean(_value(v, g, o, 0), prepare_mean(g, o)),
    "ADD": lambda g, o, v: add(_value(v, g, o, 0), _value(v, g, o, 1), prepare_add(g, o)),
    "MUL": lambda g, o, v: mul(_value(v, g, o, 0), _value(v, g, o, 1), prepare_mul(g, o)),
    "CONCATENATION": _eval_concat,
    "PAD": _eval_pad,
    "SOFTMAX": lambda g, o, v: softmax(_value(v, g, o, 0), prepare_softmax(g, o)),
    "LOGISTIC": lambda g, o, v: logistic(_value(v, g, o, 0), prepare_sigmoid(g, o)),
    "TANH": lambda g, o, v: tanh(_value(v, g, o, 0), prepare_sigmoid(g, o)),
    "HARD_SWISH": lambda g, o, v: hard_swish(_value(v, g, o, 0), prepare_hard_swish(g, o)),
    "PRELU": lambda g, o, v: prelu(_value(v, g, o, 0), _value(v, g, o, 1), prepare_prelu(g, o)),
    "RELU": lambda g, o, v: relu(_value(v, g, o, 0), prepare_relu(g, o)),
    "RELU6": lambda g, o, v: relu6(_value(v, g, o, 0), *prepare_relu6(g, o)),
    "QUANTIZE": _eval_quantize,
    "DEQUANTIZE": lambda g, o, v: dequantize(_value(v, g, o, 0), *_qparams(_inp(g, o, 0))),
    "RESHAPE": _reshape_to_output,
    "EXPAND_DIMS": _reshape_to_output,
    "SQUEEZE": _reshape_to_output,
    "SHAPE": lambda g, o, v: np.array(_inp(g, o, 0).shape, np.int32),
    "STRIDED_SLICE": _eval_strided_slice,
    "PACK": _eval_pack,
}


def evaluate_op(graph: Graph, op: Op, values: Values) -> np.ndarray | list[np.ndarray]:
    """One operator on ``values`` (tensor index -> value, its inputs present): its output, or
    the list of its outputs for an op with several."""
    spec = operators.get(op.type)
    handler = spec.reference if spec is not None else _HANDLERS.get(op.type)
    if handler is None:
        raise ModelError(f"model uses op {op.type} (op {op.index}), which the reference does not implement")
    return handler(graph, op, values)


def _check_inputs(graph: Graph, inputs: list[np.ndarray]) -> Values:
    if len(inputs) != len(graph.inputs):
        raise McusimError(f"the model takes {len(graph.inputs)} inputs, {len(inputs)} given")
    values: Values = {}
    for given, index in zip(inputs, graph.inputs):
        t = graph.tensors[index]
        arr = np.asarray(given)
        if tuple(arr.shape) != t.shape:
            raise McusimError(f"input {t.name!r} has shape {list(arr.shape)}, the model expects {list(t.shape)}")
        if t.dtype == "INT8":
            if arr.dtype.kind not in "iu" or (arr.size and (arr.min() < I8_MIN or arr.max() > I8_MAX)):
                raise McusimError(f"input {t.name!r} must hold int8 values")
        values[index] = arr.astype(t.numpy_dtype)
    return values


def trace_graph(graph: Graph, inputs: list[np.ndarray]) -> dict[int, np.ndarray]:
    """Evaluate ``graph`` op by op; returns every tensor's value by tensor index (constants,
    inputs and each op's outputs), for per-op comparison against another implementation."""
    values: Values = {t.index: t.data for t in graph.tensors if t.data is not None}
    values.update(_check_inputs(graph, inputs))
    for op in graph.ops:
        result = evaluate_op(graph, op, values)
        results = result if isinstance(result, list) else [result]
        if len(results) != len(op.outputs):
            raise ModelError(f"op {op.index} ({op.type}) produced {len(results)} outputs, the model has {len(op.outputs)}")
        for index, r in zip(op.outputs, results):
            out = graph.tensors[index]
            if r.size != out.size:
                raise ModelError(f"op {op.index} ({op.type}) produced {r.size} values for output "
                                 f"{out.name!r} of shape {list(out.shape)}")
            values[index] = np.asarray(r).reshape(out.shape).astype(out.numpy_dtype)
    return values


def run_graph(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Evaluate ``graph`` on ``inputs`` (one array per graph input, in order); returns the
    graph outputs in order, each in its tensor's dtype and shape."""
    values = trace_graph(graph, inputs)
    missing = [graph.tensors[i].name for i in graph.outputs if i not in values]
    if missing:
        raise ModelError(f"graph outputs {missing} are never produced")
    return [values[i] for i in graph.outputs]
