"""Activation functions: one int8 input (PRELU: and its alpha), one int8 output of the same shape;
SOFTMAX, LOGISTIC and TANH also in 16x8 mode (int16 in and out)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_activation_tensor, check_pointwise, must, require
from ..stacks.classic.cgen import Step, array_c, dims4, dims_c
from ..stacks.cmsisnn import COMPONENT
from . import OpSpec, Options, Tinyml, Values
from ._common import I8_MAX, I8_MIN, i64, inp, out, to_i8, value
from ._common import i64 as _i64
from ._common import inp as _inp
from ._common import out as _out
from ._common import qparams as _qparams
from ._common import to_i8 as _to_i8
from .arithmetic import check_broadcast


def check_unary(graph: Graph, op: Op) -> None:
    """An op of int8 inputs and output, per-tensor, the output shaped as input 0."""
    o = graph.tensors[op.outputs[0]]
    if must(graph, op, 0).shape != o.shape:
        raise ModelError(f"op {op.index} ({op.type}) input and output shapes differ")
    for pos in range(len(op.inputs)):
        check_activation_tensor(must(graph, op, pos), op, f"input {pos}")
    check_activation_tensor(o, op, "output")


def check_unary16(graph: Graph, op: Op) -> None:
    """:func:`check_unary`, or the 16x8 form: int16 input and output (zero point 0)."""
    if must(graph, op, 0).dtype != "INT16":
        check_unary(graph, op)
        return
    o = graph.tensors[op.outputs[0]]
    if must(graph, op, 0).shape != o.shape:
        raise ModelError(f"op {op.index} ({op.type}) input and output shapes differ")
    check_pointwise(graph, op, int16=True)


def _check_prelu(graph: Graph, op: Op) -> None:
    check_broadcast(graph, op)
    check_activation_tensor(must(graph, op, 0), op, "input")
    require(must(graph, op, 1), op, "alpha", ("INT8",), quantized=True)
    check_activation_tensor(graph.tensors[op.outputs[0]], op, "output")


# --- LEAKY_RELU ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LeakyReluParams:
    """TFLM int8 LEAKY_RELU: separate multipliers for x >= 0 (identity) and x < 0 (alpha)."""

    input_zero_point: int
    output_zero_point: int
    output_multiplier_identity: int
    output_shift_identity: int
    output_multiplier_alpha: int
    output_shift_alpha: int


def prepare_leaky_relu(graph: Graph, op: Op) -> LeakyReluParams:
    """Ratios computed in float32 (in_scale * alpha / out_scale), as TFLM does."""
    x, y = inp(graph, op, 0), out(graph, op)
    sx, so = np.float32(x.scale[0]), np.float32(y.scale[0])
    alpha = np.float32(op.options.get("alpha", 0.0))
    ma, sa = q.quantize_multiplier(float(sx * alpha / so))
    mi, si = q.quantize_multiplier(float(sx / so))
    return LeakyReluParams(int(x.zero_point[0]), int(y.zero_point[0]), mi, si, ma, sa)


def leaky_relu(x: np.ndarray, p: LeakyReluParams) -> np.ndarray:
    """int8 leaky ReLU."""
    v = i64(x) - p.input_zero_point
    pos = q.multiply_by_quantized_multiplier(v, p.output_multiplier_identity, p.output_shift_identity)
    neg = q.multiply_by_quantized_multiplier(v, p.output_multiplier_alpha, p.output_shift_alpha)
    return to_i8(np.clip(np.where(v >= 0, pos, neg) + p.output_zero_point, I8_MIN, I8_MAX))


def _leaky_relu_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return leaky_relu(value(values, graph, op, 0), prepare_leaky_relu(graph, op))


def _leaky_relu_classic(gen: Any, op: Op) -> Any:
    p = prepare_leaky_relu(gen.g, op)
    return gen.unary(op, "mcu_leaky_relu_s8", "mcu_leaky_relu_params",
                     [f".input_zero_point = {p.input_zero_point}", f".output_zero_point = {p.output_zero_point}",
                      f".identity_multiplier = {p.output_multiplier_identity}",
                      f".identity_shift = {p.output_shift_identity}",
                      f".alpha_multiplier = {p.output_multiplier_alpha}",
                      f".alpha_shift = {p.output_shift_alpha}"],
                     [f"alpha {float(op.options.get('alpha', 0.0)):g}"])


LEAKY_RELU = OpSpec(
    "LEAKY_RELU", _leaky_relu_reference,
    options=Options(75, "LeakyReluOptions", (("alpha", 0, "f32", 0.0),)),
    check=check_pointwise,
    classic=_leaky_relu_classic,
    tinyml=Tinyml("mcu_op_leaky_relu", "leaky_relu.c"),
    kernels=("mcu_leaky_relu_s8",),
)


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


# --- SOFTMAX in 16x8 mode -------------------------------------------------------------------
def lut16(transform: Callable[[np.ndarray], np.ndarray], input_scale: float, input_zero_point: int,
          output_scale: float) -> np.ndarray:
    """A 513-entry int16 table of ``transform`` as TFLM's LUTPopulate<int16_t> builds it, in
    float32: 512 samples over the int16 input range, each lowered by half its midpoint
    interpolation error, plus the end point. ``transform`` maps float32 to float32."""
    f = np.float32
    lo, hi = -32768, 32767
    in_min, in_max = f(input_scale) * f(lo - input_zero_point), f(input_scale) * f(hi - input_zero_point)
    out_min, out_max = f(output_scale) * f(lo), f(output_scale) * f(hi)
    step = f((in_max - in_min) / f(512))
    half = f(step / f(2))
    inv = f(f(65536) / f(out_max - out_min))
    i = np.arange(512).astype(np.float32)
    start = (in_min + i * step).astype(np.float32)
    val = transform(start)
    mid = transform((start + half).astype(np.float32))
    nxt = transform((in_min + (i + f(1)) * step).astype(np.float32))
    sample = q.tflite_round((val * inv).astype(np.float32))
    interp = q.tflite_round(((nxt * inv).astype(np.float32) + sample).astype(np.float32) / f(2))
    err = (interp - q.tflite_round((mid * inv).astype(np.float32))).astype(np.float32)
    bias = q.tflite_round((err / f(2)).astype(np.float32))
    table = np.clip(sample - bias, lo, hi).astype(np.int64)
    last = np.clip(q.tflite_round((transform(np.array([in_max], np.float32)) * inv).astype(np.float32)), lo, hi)
    return np.concatenate([table, last.astype(np.int64)])


def lut16_lookup(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """TFLM's LUTLookup: the top 9 bits of an int16 index the table, the low 7 interpolate."""
    x = _i64(x)
    index = 256 + (x >> 7)
    base = table[index]
    slope = table[index + 1] - base
    return q.wrap_int16(base + ((slope * (x & 0x7F) + 64) >> 7))


def _expf(v: np.ndarray) -> np.ndarray:
    return np.exp(v.astype(np.float64)).astype(np.float32)


def _one_over_one_plus(v: np.ndarray) -> np.ndarray:
    return (np.float32(1) / (np.float32(1) + v.astype(np.float32))).astype(np.float32)


@dataclass(frozen=True)
class Softmax16Params:
    """TFLM int16 SOFTMAX: the input difference rescaled so that [-65535, 0] is [-10, 0]."""

    input_multiplier: int
    input_left_shift: int


def prepare_softmax16(graph: Graph, op: Op) -> Softmax16Params:
    x, out = _inp(graph, op, 0), _out(graph, op)
    so, zo = _qparams(out)
    if zo != 0 or abs(so - 1 / 32768) > 0.001 / 32768:
        raise ModelError(f"op {op.index} (SOFTMAX) int16 output must have scale 1/32768 and zero point 0")
    real = float(np.float32(x.scale[0])) * float(np.float32(op.options.get("beta", 1.0))) / (10.0 / 65535.0)
    return Softmax16Params(*q.quantize_multiplier(real))


def softmax16_tables() -> tuple[np.ndarray, np.ndarray]:
    """SoftmaxInt16's two tables: exp over [-10, 0] and 1/(1+x) over [0, 1], both output
    scale 2/65535 (model-independent; mcu_softmax_s16.c holds them as constants)."""
    span = 65535
    return (lut16(_expf, 10.0 / span, 32767, 2.0 / span),
            lut16(_one_over_one_plus, 1.0 / span, -32768, 2.0 / span))


def softmax16(x: np.ndarray, p: Softmax16Params) -> np.ndarray:
    """int16 softmax over the last axis: exp of the rescaled difference to the row max and the
    reciprocal of the sum from 513-entry tables (TFLM's SoftmaxInt16); output scale 1/32768."""
    exp_lut, recip_lut = softmax16_tables()
    xi = _i64(x)
    diff = xi - xi.max(axis=-1, keepdims=True)
    scaled = q.multiply_by_quantized_multiplier(diff, p.input_multiplier, p.input_left_shift)
    exps = lut16_lookup(np.clip(scaled + 32767, -32768, 32767), exp_lut)
    total = exps.sum(axis=-1, keepdims=True)
    headroom = q.count_leading_zeros_u32(total)
    shifted = ((total << (headroom - 1)) + (1 << 13)) >> 14
    recip = lut16_lookup(np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767), recip_lut)
    right = 31 - headroom
    result = (exps * recip + (np.int64(1) << (right - 1))) >> right
    return np.clip(result, 0, 32767).astype(np.int16)


def _softmax_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    if _inp(graph, op, 0).dtype == "INT16":
        return softmax16(value(v, graph, op, 0), prepare_softmax16(graph, op))
    return softmax(value(v, graph, op, 0), prepare_softmax(graph, op))


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


# --- LOGISTIC and TANH in 16x8 mode ----------------------------------------------------------
# TFLite's int16 sigmoid and tanh (also the integer LSTM's gates) interpolate linearly in
# sigmoid_table_uint16, 256 values of sigmoid(i / 24) in 0.16 fixed point (tanh(x) = 2 sigmoid(2x)
# - 1), tuned for the interpolation rather than rounded samples: mcusim reads the table from the
# user's TFLM tree (mcusim/stacks/tflmtables.py), as the C kernels do (mcu_sigmoid_table).
def _sigmoid_table_lookup(abs_x: np.ndarray, frac_bits: int) -> np.ndarray:
    """Linear interpolation in the sigmoid table at abs_x / 2^frac_bits, scaled by 2^frac_bits;
    -1 past the table's end (the caller saturates)."""
    from ..stacks.tflmtables import sigmoid_table

    table = np.array(sigmoid_table() + (65535,), np.int64)
    high = abs_x >> frac_bits
    inside = high < 255
    idx = np.where(inside, high, 0)
    lo, hi = table[idx], table[idx + 1]
    frac = abs_x & ((1 << frac_bits) - 1)
    return np.where(inside, (lo << frac_bits) + frac * (hi - lo), -1)


def _scaled16(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """TFLM's int16 sigmoid/tanh input stage: (x * multiplier + round) >> shift in int32."""
    rounding = (1 << (shift - 1)) if shift > 0 else 0
    return q.wrap_int32(_i64(x) * multiplier + rounding) >> shift


def logistic16(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """int16 logistic (reference_integer_ops::Logistic, int16): the input brought to the
    table's scale by (multiplier, right shift), output Q0.15."""
    v = _scaled16(x, multiplier, shift)
    r = _sigmoid_table_lookup(np.abs(v), 9)
    r = np.where(r < 0, 0x7FFF << 10, r)
    r = np.where(v >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return (r >> 10).astype(np.int16)


def tanh16(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """int16 tanh (reference_integer_ops::Tanh, int16): as :func:`logistic16`, the table
    indexed at twice the resolution, output Q0.15."""
    v = _scaled16(x, multiplier, shift)
    r = _sigmoid_table_lookup(np.abs(v), 8)
    r = np.where(r < 0, 0xFFFF << 8, r)
    r = np.where(v >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return (r >> 8).astype(np.int16)


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLite's CheckedLog2 in float32: (log2 x is within 1e-3 of an integer, that integer)."""
    f = np.float32
    x_log2 = f(np.log(f(x))) * (f(1) / f(np.log(f(2))))
    rounded = f(q.tflite_round(x_log2))
    return bool(abs(f(x_log2 - rounded)) < f(1e-3)), int(rounded)


@dataclass(frozen=True)
class Sigmoid16Params:
    """TFLM int16 LOGISTIC / TANH: ``(x * input_multiplier + round) >> input_shift`` brings the
    input to the table's scale, 3 * 2^12 per unit (TFLM's power-of-two case, multiplier 0 there,
    already turned into the ``3 << left_shift`` its kernel uses)."""

    input_multiplier: int
    input_shift: int


def prepare_sigmoid16(graph: Graph, op: Op) -> Sigmoid16Params:
    """TFLM's int16 prepare (logistic_common.cc, tanh.cc): an input scale of 2^-12 (TANH: or
    2^-11; CheckedLog2, 1e-3 tolerance) is the power-of-two case; any other scale gets
    multiplier = scale * 3 * 4096 doubled (double arithmetic) until above 16383.5 or the shift
    passes 30, truncated. The output scale must be 2^-15 (CheckedLog2), zero points 0."""
    x, y = _inp(graph, op, 0), _out(graph, op)
    where = f"op {op.index} ({op.type})"
    ok, out_log2 = checked_log2(float(y.scale[0]))
    if not ok or out_log2 != -15:
        raise ModelError(f"{where} int16 output must have scale 2^-15 (TFLM), not {float(y.scale[0]):g}")
    pot, log2 = checked_log2(float(x.scale[0]))
    left = 12 + log2
    if pot and (left == 0 or (op.type == "TANH" and left == 1)):
        return Sigmoid16Params(3 << left, 0)
    multiplier, shift = float(np.float32(x.scale[0])) * 4096.0 * 3.0, 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    if multiplier > 32767:
        raise ModelError(f"{where} int16 input scale {float(x.scale[0]):g} is above 32767 / 12288: "
                         "TFLM's int16 kernel needs a multiplier of at most 32767")
    return Sigmoid16Params(int(multiplier), shift)


def _sigmoid16_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    p = prepare_sigmoid16(graph, op)
    kernel = logistic16 if op.type == "LOGISTIC" else tanh16
    return kernel(value(v, graph, op, 0), p.input_multiplier, p.input_shift)


def _sigmoid_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    if _inp(graph, op, 0).dtype == "INT16":
        return _sigmoid16_reference(graph, op, v)
    kernel = logistic if op.type == "LOGISTIC" else tanh
    return kernel(value(v, graph, op, 0), prepare_sigmoid(graph, op))


def _uses_sigmoid_table(graph: Graph, op: Op) -> bool:
    return _inp(graph, op, 0).dtype == "INT16"


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


# --- the classic emitters -----------------------------------------------------------------------
def _softmax16_classic(gen: Any, op: Op) -> Step:
    """16x8 SOFTMAX: mcu_softmax_s16 (its exp and reciprocal tables are the kernel's)."""
    p = prepare_softmax16(gen.g, op)
    out = gen.t[op.outputs[0]]
    depth = out.shape[-1] if out.shape else 1
    return gen.unary(op, "mcu_softmax_s16", "mcu_softmax16_params",
                     [f".input_multiplier = {p.input_multiplier}", f".input_shift = {p.input_left_shift}"],
                     [f"softmax over the last axis ({depth} values per row), int16 (16x8)"],
                     (out.size // depth, 1, 1, depth))


def _softmax_classic(gen: Any, op: Op) -> Step:
    if gen.t[op.inputs[0]].dtype == "INT16":
        return _softmax16_classic(gen, op)
    p = prepare_softmax(gen.g, op)
    out = gen.t[op.outputs[0]]
    depth = out.shape[-1] if out.shape else 1
    return gen.unary(op, "mcu_softmax_s8", "mcu_softmax_params",
                     [f".input_multiplier = {p.input_multiplier}", f".input_left_shift = {p.input_left_shift}",
                      f".diff_min = {p.diff_min}"],
                     [f"softmax over the last axis ({depth} values per row), beta "
                      f"{float(op.options.get('beta', 1.0)):g}"],
                     (out.size // depth, 1, 1, depth))


def _sigmoid_classic(gen: Any, op: Op) -> Step:
    if gen.t[op.inputs[0]].dtype == "INT16":
        p16 = prepare_sigmoid16(gen.g, op)
        kernel = "mcu_logistic_s16" if op.type == "LOGISTIC" else "mcu_tanh_s16"
        return gen.unary(op, kernel, "mcu_sigmoid16_params",
                         [f".input_multiplier = {p16.input_multiplier}", f".input_shift = {p16.input_shift}"],
                         [f"int16 (16x8): (x * {p16.input_multiplier} + round) >> {p16.input_shift}, then "
                          "TFLite's sigmoid table (from the TFLM tree) interpolated"])
    p = prepare_sigmoid(gen.g, op)
    kernel = "mcu_logistic_s8" if op.type == "LOGISTIC" else "mcu_tanh_s8"
    return gen.unary(op, kernel, "mcu_sigmoid_params",
                     [f".input_zero_point = {p.input_zero_point}", f".input_range_radius = {p.input_range_radius}",
                      f".input_multiplier = {p.input_multiplier}", f".input_left_shift = {p.input_left_shift}"],
                     ["input rescaled to Q4.27, gemmlowp fixed-point " + op.type.lower()])


def _hard_swish_classic(gen: Any, op: Op) -> Step:
    p = prepare_hard_swish(gen.g, op)
    return gen.unary(op, "mcu_hard_swish_s8", "mcu_hard_swish_params",
                     [f".input_zero_point = {p.input_zero_point}", f".output_zero_point = {p.output_zero_point}",
                      f".reluish_multiplier = {p.reluish_multiplier_fixedpoint_int16}",
                      f".reluish_exponent = {p.reluish_multiplier_exponent}",
                      f".output_multiplier = {p.output_multiplier_fixedpoint_int16}",
                      f".output_exponent = {p.output_multiplier_exponent}"],
                     ["x * relu6(x + 3) / 6 in TFLM's 16-bit fixed point"])


def _relu_classic(gen: Any, op: Op) -> Step:
    p = prepare_relu(gen.g, op)
    return gen.unary(op, "mcu_quantize_s8", "mcu_requantize_params",
                     [f".input_zero_point = {p.input_zero_point}", f".output_zero_point = {p.output_zero_point}",
                      f".multiplier = {p.output_multiplier}", f".shift = {p.output_shift}",
                      f".activation = {{{p.act_min}, {p.act_max}}}"],
                     [f"rescale to the output scale, then clamp [{p.act_min}, {p.act_max}] (TFLM ReluQuantized)"])


def _relu6_classic(gen: Any, op: Op) -> Step:
    zero, six = prepare_relu6(gen.g, op)
    x = gen.data(op, 0, "input")
    out = gen.t[op.outputs[0]]
    decls = [f"static const mcu_range range = {{{zero}, {six}}};",
             f"static const mcu_dims dims = {{1, 1, 1, {out.size}}};"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = mcu_clamp_s8({ctx}, &range, &dims, {ptr(x)}, {ptr(out.index)});"]

    return Step(op, [x], out.index,
                 [f"clamp to [{zero}, {six}] (0 and 6.0 on the input scale)"],
                 decls, render, "mcu_clamp_s8")


def _prelu_classic(gen: Any, op: Op) -> Step:
    p = prepare_prelu(gen.g, op)
    x, alpha = gen.data(op, 0, "input"), gen.data(op, 1, "alpha")
    out = gen.t[op.outputs[0]]
    where = f"op {op.index} (PRELU)"
    decls = [f"static const mcu_prelu_params params = {{.input_offset = {p.input_offset}, "
             f".alpha_offset = {p.alpha_offset}, .output_offset = {p.output_offset}, "
             f".positive_multiplier = {p.output_multiplier_1}, .positive_shift = {p.output_shift_1}, "
             f".negative_multiplier = {p.output_multiplier_2}, .negative_shift = {p.output_shift_2}}};",
             f"static const mcu_dims in_dims = {dims_c(dims4(gen.t[x].shape, where))}, "
             f"alpha_dims = {dims_c(dims4(gen.t[alpha].shape, where))}, "
             f"out_dims = {dims_c(dims4(out.shape, where))};"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = mcu_prelu_s8({ctx}, &params, &in_dims, {ptr(x)}, &alpha_dims, {ptr(alpha)}, "
                f"&out_dims, {ptr(out.index)});"]

    return Step(op, [x, alpha], out.index,
                 ["x >= 0: x rescaled; x < 0: x * alpha rescaled"],
                 decls, render, "mcu_prelu_s8")


SOFTMAX16_LUTS = ("cmsis_softmax_s16_exp_lut", "cmsis_softmax_s16_one_by_one_lut")
"""weights.c names of arm_softmax_s16's two tables (one copy per image, whatever its SOFTMAXes)."""


def _softmax16_cmsis_nn(gen: Any, op: Op) -> Step:
    """16x8 SOFTMAX: arm_softmax_s16 with the two 513-entry tables TFLM's softmax Prepare builds
    (LUTPopulate<int16_t>: exp over [-10, 0], 1/(1+x) over [0, 1]), generated here by
    softmax16_tables() into weights.c."""
    p = prepare_softmax16(gen.g, op)
    x = gen.data(op, 0, "input")
    out = gen.t[op.outputs[0]]
    depth = out.shape[-1] if out.shape else 1
    rows = out.size // depth
    decl = f"extern const int16_t {SOFTMAX16_LUTS[0]}[513], {SOFTMAX16_LUTS[1]}[513];"
    if all(d != decl for d, _ in gen.extra_weights):
        lines = ["/* arm_softmax_s16's tables (TFLM LUTPopulate<int16_t>, 513 entries, output scale 2/65535): "
                 "exp(x) on [-10, 0], 1/(1+x) on [0, 1] */"]
        for name, table in zip(SOFTMAX16_LUTS, softmax16_tables()):
            lines += [f"const int16_t {name}[513] = {{", *array_c(table, 12), "};"]
        gen.extra_weights.append((decl, lines))
    luts = (f"static const cmsis_nn_softmax_lut_s16 luts = {{.exp_lut = {SOFTMAX16_LUTS[0]}, "
            f".one_by_one_lut = {SOFTMAX16_LUTS[1]}}};")
    extra = [f"softmax over the last axis ({rows} row(s) of {depth}), int16 (16x8), input multiplier "
             f"{p.input_multiplier}, shift {p.input_left_shift}",
             f"CMSIS-NN arm_softmax_s16, its exp and 1/(1+x) tables in weights.c ({2 * 513 * 2} bytes)"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = (mcu_status)arm_softmax_s16({ptr(x)}, {rows}, {depth}, {p.input_multiplier}, "
                f"{p.input_left_shift}, &luts, {ptr(out.index)});"]

    return Step(op, [x], out.index, extra, [luts], render, "arm_softmax_s16", library=COMPONENT)


def _softmax_cmsis_nn(gen: Any, op: Op) -> Any:
    if gen.t[op.inputs[0]].dtype == "INT16":  # arm_softmax_s16
        return _softmax16_cmsis_nn(gen, op)
    p = prepare_softmax(gen.g, op)
    x = gen.data(op, 0, "input")
    out = gen.t[op.outputs[0]]
    depth = out.shape[-1] if out.shape else 1
    rows = out.size // depth
    extra = [f"softmax over the last axis ({rows} row(s) of {depth}), beta {float(op.options.get('beta', 1.0)):g}",
             "CMSIS-NN arm_softmax_s8 (returns nothing)"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"arm_softmax_s8({ptr(x)}, {rows}, {depth}, {p.input_multiplier}, {p.input_left_shift}, "
                f"{p.diff_min}, {ptr(out.index)});", "st = MCU_OK;"]

    return Step(op, [x], out.index, extra, [], render, "arm_softmax_s8", library=COMPONENT)


def _ref(kernel: Callable[..., np.ndarray],
         prepare: Callable[[Graph, Op], Any]) -> Callable[[Graph, Op, Values], np.ndarray]:
    """The reference of a one-input op: ``kernel(x, prepare(graph, op))``."""
    return lambda g, o, v: kernel(value(v, g, o, 0), prepare(g, o))


RELU = OpSpec("RELU", _ref(relu, prepare_relu), check=check_unary, classic=_relu_classic,
              tinyml=Tinyml("mcu_op_relu", "relu.c"), kernels=("mcu_quantize_s8",))
RELU6 = OpSpec("RELU6", lambda g, o, v: relu6(value(v, g, o, 0), *prepare_relu6(g, o)), check=check_unary,
               classic=_relu6_classic, tinyml=Tinyml("mcu_op_relu6", "relu.c"), kernels=("mcu_clamp_s8",))
LOGISTIC = OpSpec("LOGISTIC", _sigmoid_reference, check=check_unary16, classic=_sigmoid_classic,
                  tinyml=Tinyml("mcu_op_logistic", "sigmoid.c"), kernels=("mcu_logistic_s8", "mcu_logistic_s16"),
                  sigmoid_table=_uses_sigmoid_table, int16_paths=("classic", "tinyml"))
TANH = OpSpec("TANH", _sigmoid_reference, check=check_unary16, classic=_sigmoid_classic,
              tinyml=Tinyml("mcu_op_tanh", "sigmoid.c"), kernels=("mcu_tanh_s8", "mcu_tanh_s16"),
              sigmoid_table=_uses_sigmoid_table, int16_paths=("classic", "tinyml"))
HARD_SWISH = OpSpec("HARD_SWISH", _ref(hard_swish, prepare_hard_swish), options=Options(91, "HardSwishOptions"),
                    check=check_unary, classic=_hard_swish_classic,
                    tinyml=Tinyml("mcu_op_hard_swish", "hard_swish.c"), kernels=("mcu_hard_swish_s8",))
PRELU = OpSpec("PRELU", lambda g, o, v: prelu(value(v, g, o, 0), value(v, g, o, 1), prepare_prelu(g, o)),
               min_inputs=2, check=_check_prelu, classic=_prelu_classic,
               tinyml=Tinyml("mcu_op_prelu", "prelu.c"), kernels=("mcu_prelu_s8",))
SOFTMAX = OpSpec("SOFTMAX", _softmax_reference,
                 options=Options(9, "SoftmaxOptions", (("beta", 0, "f32", 0.0),)),
                 check=check_unary16, classic=_softmax_classic, cmsis_nn=_softmax_cmsis_nn,
                 tinyml=Tinyml("mcu_op_softmax", "softmax.c"), kernels=("mcu_softmax_s8", "mcu_softmax_s16"),
                 int16_paths=("classic", "tinyml", "cmsis-nn"))

SPECS = (LEAKY_RELU, RELU, RELU6, LOGISTIC, TANH, HARD_SWISH, PRELU, SOFTMAX)
