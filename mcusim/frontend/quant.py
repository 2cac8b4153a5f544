"""Integer quantization arithmetic, bit-exact with TensorFlow Lite Micro's int8 kernels.

Everything here is written from the arithmetic of the TFLite int8 quantization spec and the
gemmlowp fixed-point conventions TFLM's reference kernels use:

* a real multiplier ``M`` is stored as a Q0.31 ``multiplier`` in [2^30, 2^31) and a power-of-
  two ``shift`` (positive: left), ``M ~= multiplier * 2^(shift - 31)``;
* :func:`multiply_by_quantized_multiplier` is TFLM's default *double-rounding* variant
  (a saturating rounding doubling high multiply, then a rounding right shift). TFLM has a
  single-rounding variant behind ``TFLITE_SINGLE_ROUNDING``, off by default and off in the
  ``tflite-micro`` Python package mcusim is checked against;
* the fixed-point ``exp``, ``logistic``, ``tanh`` and reciprocal used by SOFTMAX, LOGISTIC
  and TANH follow gemmlowp's ``FixedPoint<int32_t, IntegerBits>``: raw int32 values, where
  multiplication is :func:`saturating_rounding_doubling_high_mul` and the integer bits add.

All array functions take and return ``np.int64`` arrays holding int32 values (int64 leaves
room for the intermediate products); scalars are accepted too. Where C++ would wrap an int32
(two's complement), :func:`wrap_int32` does the same.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1

IntArray = Any  # np.ndarray of int64 holding int32 values, or a Python int


def as_i64(x: Any) -> np.ndarray:
    """``x`` as an int64 numpy array (a view when it already is one)."""
    return np.asarray(x, dtype=np.int64)


def wrap_int32(x: Any) -> np.ndarray:
    """Two's-complement wrap of int64 values to the int32 range (what C++ int32 math does)."""
    x = as_i64(x)
    return as_i64(((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31))


def c_div(a: Any, b: Any) -> np.ndarray:
    """Integer division truncating toward zero, like C's ``/`` on ints."""
    a, b = as_i64(a), as_i64(b)
    q = np.abs(a) // np.abs(b)
    return as_i64(np.where((a < 0) != (b < 0), -q, q))


def tflite_round(x: Any) -> np.ndarray:
    """Round half away from zero (``std::round``, TFLite's ``TfLiteRound``), keeping the
    float dtype. Exact: the fractional part of a float is computed without rounding."""
    x = np.asarray(x)
    whole = np.trunc(x)
    rounded: np.ndarray = np.where(np.abs(x - whole) >= 0.5, whole + np.sign(x), whole)
    return rounded.astype(x.dtype)


def round_half_away(x: float) -> int:
    """Round a Python float half away from zero to an int (exactly, like ``std::round``)."""
    whole = math.trunc(x)
    if abs(x - whole) >= 0.5:
        whole += 1 if x > 0 else -1
    return whole


# --- multiplier preparation (host side, in double) ------------------------------------------
def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Split a real multiplier into (Q0.31 multiplier, shift), TFLM's ``QuantizeMultiplier``.

    Returns ``(0, 0)`` for 0. ``frexp`` gives q in [0.5, 1); ``round(q * 2^31)`` can reach
    2^31, in which case it is halved and the shift incremented. Shifts below -31 flush to
    ``(0, 0)``.
    """
    if real_multiplier == 0.0:
        return 0, 0
    q, shift = math.frexp(real_multiplier)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def quantize_multiplier_frexp_only(real_multiplier: float) -> tuple[int, int]:
    """TFLM LOGISTIC/TANH int8 prepare: frexp and round, *without* the 2^31 fix-up.

    A rounded value of exactly 2^31 is cast to int32 in C++ and wraps to -2^31; so here.
    Returns (multiplier, shift).
    """
    q, shift = math.frexp(real_multiplier)
    q_fixed = round_half_away(q * (1 << 31))
    return int(wrap_int32(q_fixed)), shift


def calculate_input_radius(input_integer_bits: int, input_left_shift: int,
                           total_signed_bits: int = 31) -> int:
    """Largest |input difference| that does not saturate after rescaling (TFLM's
    ``CalculateInputRadius``); returns floor((2^ib - 1) * 2^(tsb - ib) / 2^shift)."""
    max_rescaled = (1.0 * ((1 << input_integer_bits) - 1)
                    * float(1 << (total_signed_bits - input_integer_bits))
                    / float(1 << input_left_shift))
    return int(math.floor(max_rescaled))


def preprocess_softmax_scaling(beta: float, input_scale: float,
                               input_integer_bits: int) -> tuple[int, int]:
    """(multiplier, left shift) for beta * input_scale in Q(ib).(31-ib), capped at 2^31 - 1
    (TFLM's ``PreprocessSoftmaxScaling``, double-rounding build)."""
    real = min(beta * input_scale * float(1 << (31 - input_integer_bits)), float((1 << 31) - 1))
    return quantize_multiplier(real)


def downscale_int32_to_int16_multiplier(multiplier: int) -> int:
    """Round a Q0.31 multiplier to Q0.15, saturating at 32767 (TFLM's
    ``DownScaleInt32ToInt16Multiplier``)."""
    rounding_offset = 1 << 15
    if multiplier >= INT32_MAX - rounding_offset:
        return 32767
    return (multiplier + rounding_offset) >> 16


def quantize_value(value: float, scale: float, zero_point: int) -> int:
    """``zero_point + round(value / scale)`` with float32 division, as TFLM's activation-range
    helper computes it; returns the unclamped int."""
    q = np.float32(value) / np.float32(scale)
    return zero_point + round_half_away(float(q))


def activation_range(activation: str, scale: float, zero_point: int,
                     qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """(act_min, act_max) of a fused activation on an int8 output (TFLM's
    ``CalculateActivationRangeQuantized``)."""
    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, quantize_value(0.0, scale, zero_point)), qmax
    if activation == "RELU6":
        return (max(qmin, quantize_value(0.0, scale, zero_point)),
                min(qmax, quantize_value(6.0, scale, zero_point)))
    if activation == "RELU_N1_TO_1":
        return (max(qmin, quantize_value(-1.0, scale, zero_point)),
                min(qmax, quantize_value(1.0, scale, zero_point)))
    raise ValueError(f"fused activation {activation} is not supported on int8 outputs")


# --- integer kernels' arithmetic (vectorized) -----------------------------------------------
def saturating_rounding_doubling_high_mul(a: IntArray, b: IntArray) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` on int32 values: a*b / 2^31 rounded to
    nearest with ties rounded up (toward +inf: the nudge is 2^30 for a non-negative product,
    1 - 2^30 for a negative one, then C division truncates), and INT32_MIN * INT32_MIN
    saturating to INT32_MAX."""
    a, b = as_i64(a), as_i64(b)
    overflow = (a == b) & (a == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = c_div(ab + nudge, 1 << 31)
    return np.where(overflow, INT32_MAX, wrap_int32(high))


def rounding_divide_by_pot(x: IntArray, exponent: IntArray) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT``: x / 2^exponent rounded to nearest, ties away from
    zero (an arithmetic shift, plus one when the dropped bits exceed half, or reach it for
    non-negative x)."""
    x, exponent = as_i64(x), as_i64(exponent)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return as_i64((x >> exponent) + (remainder > threshold))


def multiply_by_quantized_multiplier(x: IntArray, multiplier: IntArray, shift: IntArray) -> np.ndarray:
    """TFLM ``MultiplyByQuantizedMultiplier`` (int32 x, double rounding): x * M * 2^shift.

    A positive shift multiplies x by 2^shift first (wrapping like int32 C++), a negative one
    is a rounding right shift after the high multiply.
    """
    x, shift = as_i64(x), as_i64(shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(wrap_int32(x << left), multiplier), right)


def multiply_by_quantized_multiplier_smaller_than_one_exp(
        x: IntArray, multiplier: IntArray, left_shift: IntArray) -> np.ndarray:
    """TFLM ``MultiplyByQuantizedMultiplierSmallerThanOneExp`` (shift <= 0)."""
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier),
                                  -as_i64(left_shift))


def multiply_by_quantized_multiplier_greater_than_one(
        x: IntArray, multiplier: IntArray, left_shift: IntArray) -> np.ndarray:
    """TFLM ``MultiplyByQuantizedMultiplierGreaterThanOne`` (shift >= 0, no rounding shift)."""
    return saturating_rounding_doubling_high_mul(wrap_int32(as_i64(x) << as_i64(left_shift)),
                                                 multiplier)


def requantize(acc: IntArray, multiplier: IntArray, shift: IntArray, output_zero_point: int,
               act_min: int = -128, act_max: int = 127) -> np.ndarray:
    """Per-tensor or per-channel output stage: MBQM(acc) + zero point, clamped; returns int64.

    ``multiplier`` / ``shift`` broadcast against ``acc`` (per-channel: along the last axis).
    """
    out = multiply_by_quantized_multiplier(acc, multiplier, shift) + output_zero_point
    return as_i64(np.clip(out, act_min, act_max))


def multiply_by_quantized_multiplier_int64(x: IntArray, multiplier: IntArray, shift: IntArray) -> np.ndarray:
    """TFLM ``MultiplyByQuantizedMultiplier`` for an int64 accumulator (the 16x8 kernels): the
    multiplier rounded to Q0.15 (saturating at 0x7FFF), then one rounding right shift by
    15 - shift (ties toward +inf, an arithmetic shift of the sum with half added)."""
    x, multiplier, shift = as_i64(x), as_i64(multiplier), as_i64(shift)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - shift
    return as_i64((x * reduced + (np.int64(1) << (total - 1))) >> total)


def count_leading_zeros_u32(x: IntArray) -> np.ndarray:
    """Leading zero bits of x viewed as uint32 (32 for 0)."""
    x = as_i64(x) & 0xFFFFFFFF
    out = np.full(x.shape, 32, dtype=np.int64)
    nonzero = x != 0
    # float64 represents every uint32 exactly, so frexp's exponent is the bit length.
    bitlen = np.frexp(x[nonzero].astype(np.float64))[1]
    out[nonzero] = 32 - bitlen
    return out


# --- gemmlowp fixed point -------------------------------------------------------------------
def saturating_rounding_multiply_by_pot(x: IntArray, exponent: int) -> np.ndarray:
    """x * 2^exponent: saturating left shift (exponent > 0) or rounding right shift (< 0)."""
    x = as_i64(x)
    if exponent == 0:
        return as_i64(x)
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    out = wrap_int32(x << exponent)
    out = np.where(x > threshold, INT32_MAX, out)
    return np.where(x < -threshold, INT32_MIN, out)


def rescale(x: IntArray, src_integer_bits: int, dst_integer_bits: int) -> np.ndarray:
    """gemmlowp ``Rescale``: change a fixed-point value's integer bits."""
    return saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def rounding_half_sum(a: IntArray, b: IntArray) -> np.ndarray:
    """gemmlowp ``RoundingHalfSum`` for int32: (a + b) / 2 rounded away from zero."""
    s = as_i64(a) + as_i64(b)
    return c_div(s + np.where(s >= 0, 1, -1), 2)


def _fx_mul(a: IntArray, b: IntArray) -> np.ndarray:
    return saturating_rounding_doubling_high_mul(a, b)


def _fx_add(a: IntArray, b: IntArray) -> np.ndarray:
    return wrap_int32(as_i64(a) + as_i64(b))


def _fx_sub(a: IntArray, b: IntArray) -> np.ndarray:
    return wrap_int32(as_i64(a) - as_i64(b))


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: IntArray) -> np.ndarray:
    """exp(a) for a Q0.31 value a in [-1/4, 0): 4th-order Taylor series around -1/8."""
    constant_term = 1895147668          # exp(-1/8) in Q0.31
    constant_1_over_3 = 715827883       # 1/3 in Q0.31
    x = _fx_add(a, 1 << 28)             # a + 1/8
    x2 = _fx_mul(x, x)
    x3 = _fx_mul(x2, x)
    x4 = _fx_mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(_fx_add(_fx_mul(_fx_add(x4_over_4, x3), constant_1_over_3), x2), 1)
    return _fx_add(constant_term, _fx_mul(constant_term, _fx_add(x, poly)))


# exp(-2^k) in Q0.31 for the barrel shifter, k = -2..4.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: IntArray, integer_bits: int) -> np.ndarray:
    """exp(a) for a <= 0 given as Q(integer_bits).(31-integer_bits); returns Q0.31."""
    a = as_i64(a)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = _fx_sub(a & mask, one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0))
    remainder = _fx_sub(a_mod_quarter_minus_one_quarter, a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = np.int64(1) << (fractional_bits + exponent)
            result = np.where((remainder & bit) != 0, _fx_mul(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))   # -32 in Q(integer_bits)
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _newton_reciprocal_half_denominator(half_denominator: np.ndarray) -> np.ndarray:
    """Three Newton-Raphson steps for 1/half_denominator; returns the Q2.29 estimate."""
    constant_48_over_17 = 1515870810      # Q2.29
    constant_neg_32_over_17 = -1010580540  # Q2.29
    one_q2 = 1 << 29
    x = _fx_add(constant_48_over_17, _fx_mul(half_denominator, constant_neg_32_over_17))
    for _ in range(3):
        half_denominator_times_x = _fx_mul(half_denominator, x)
        one_minus = _fx_sub(one_q2, half_denominator_times_x)
        x = _fx_add(x, rescale(_fx_mul(x, one_minus), 4, 2))
    return x


def one_over_one_plus_x_for_x_in_0_1(a: IntArray) -> np.ndarray:
    """1 / (1 + a) for Q0.31 a in [0, 1); returns Q0.31."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = _newton_reciprocal_half_denominator(half_denominator)
    return rescale(x, 1, 0)  # x/2 in Q1.30, read back as Q0.31


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: IntArray) -> np.ndarray:
    """(1 - a) / (1 + a) for Q0.31 a in [0, 1); returns Q0.31."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = _newton_reciprocal_half_denominator(half_denominator)
    return rescale(_fx_sub(x, 1 << 29), 2, 0)


def fixed_logistic(a: IntArray, integer_bits: int) -> np.ndarray:
    """gemmlowp ``logistic`` of a Q(integer_bits) value; returns Q0.31."""
    a = as_i64(a)
    positive = a > 0
    abs_input = np.where(positive, a, wrap_int32(-a))
    result_if_positive = one_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(wrap_int32(-abs_input), integer_bits))
    result_if_negative = _fx_sub(INT32_MAX, result_if_positive)
    result = np.where(positive, result_if_positive, result_if_negative)
    return np.where(a == 0, 1 << 30, result)


def fixed_tanh(a: IntArray, integer_bits: int) -> np.ndarray:
    """gemmlowp ``tanh`` of a Q(integer_bits) value; returns Q0.31."""
    a = as_i64(a)
    negative = a < 0
    n = np.where(negative, a, wrap_int32(-a))
    # -tanh(n) for n <= 0: (1 - exp(2n)) / (1 + exp(2n)); 2n is the same raw value with one
    # more integer bit.
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    result = np.where(negative, wrap_int32(-t), t)
    return np.where(a == 0, 0, result)


def get_reciprocal(x: IntArray, x_integer_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """1/x for positive Q(x_integer_bits) x (TFLM's ``GetReciprocal``).

    Returns (Q0.31 reciprocal of x normalised into [1, 2), num_bits_over_unit).
    """
    x = as_i64(x)
    headroom_plus_one = count_leading_zeros_u32(x)
    num_bits_over_unit = x_integer_bits - headroom_plus_one
    shifted_sum_minus_one = wrap_int32(((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit


# --- 16-bit helpers (HARD_SWISH) ------------------------------------------------------------
INT16_MIN = -(1 << 15)
INT16_MAX = (1 << 15) - 1


def wrap_int16(x: Any) -> np.ndarray:
    """Two's-complement wrap to int16."""
    x = as_i64(x)
    return as_i64(((x + (1 << 15)) & 0xFFFF) - (1 << 15))


def saturating_rounding_doubling_high_mul_int16(a: IntArray, b: IntArray) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` for int16 values."""
    a, b = as_i64(a), as_i64(b)
    overflow = (a == b) & (a == INT16_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    return np.where(overflow, INT16_MAX, wrap_int16(c_div(ab + nudge, 1 << 15)))


def saturating_doubling_high_mul_int16(a: IntArray, b: IntArray) -> np.ndarray:
    """Like the rounding variant but truncating toward zero (Arm's SQDMULH)."""
    a, b = as_i64(a), as_i64(b)
    overflow = (a == b) & (a == INT16_MIN)
    return np.where(overflow, INT16_MAX, wrap_int16(c_div(a * b, 1 << 15)))


def saturating_left_shift_int16(x: IntArray, amount: int) -> np.ndarray:
    """x * 2^amount saturated to int16."""
    return as_i64(np.clip(as_i64(x) * (1 << amount), INT16_MIN, INT16_MAX))
