"""Quantization arithmetic: known values, rounding edges, and property tests against plain
scalar Python transcriptions of the C integer semantics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcusim.frontend import quant as q

INT32 = st.integers(q.INT32_MIN, q.INT32_MAX)


# --- scalar transcriptions of the C semantics (independent of the numpy code) ---------------
def c_trunc_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def to_int32(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def srdhm(a: int, b: int) -> int:
    if a == b == q.INT32_MIN:
        return q.INT32_MAX
    ab = a * b
    nudge = 2**30 if ab >= 0 else 1 - 2**30
    return to_int32(c_trunc_div(ab + nudge, 2**31))


def rdbpot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def mbqm(x: int, multiplier: int, shift: int) -> int:
    left, right = max(shift, 0), max(-shift, 0)
    return rdbpot(srdhm(to_int32(x * (1 << left)), multiplier), right)


# --- QuantizeMultiplier ----------------------------------------------------------------------
@pytest.mark.parametrize("real, expected", [
    (0.0, (0, 0)),
    (0.5, (1 << 30, 0)),
    (1.0, (1 << 30, 1)),
    (0.25, (1 << 30, -1)),
    (0.75, (3 << 29, 0)),
    (2.0**-31, (1 << 30, -30)),
    (2.0**-40, (0, 0)),                 # shift below -31 flushes to zero
    (-0.5, (-(1 << 30), 0)),
    ((1 - 2.0**-33) / 8, (1 << 30, -2)),  # rounds up to 2^31: halved, shift + 1
])
def test_quantize_multiplier_known_values(real: float, expected: tuple[int, int]) -> None:
    assert q.quantize_multiplier(real) == expected


@given(st.floats(min_value=1e-9, max_value=1e4, allow_nan=False))
def test_quantize_multiplier_reconstructs_the_real_value(real: float) -> None:
    multiplier, shift = q.quantize_multiplier(real)
    assert (1 << 30) <= multiplier < (1 << 31)
    assert math.isclose(multiplier * 2.0 ** (shift - 31), real, rel_tol=2.0**-30)


def test_frexp_only_variant_wraps_like_a_cpp_cast() -> None:
    real = (1 - 2.0**-33) * 2**20
    assert q.quantize_multiplier_frexp_only(real) == (q.INT32_MIN, 20)
    assert q.quantize_multiplier_frexp_only(0.75) == (3 << 29, 0)


# --- rounding edges --------------------------------------------------------------------------
def test_srdhm_edges() -> None:
    assert q.saturating_rounding_doubling_high_mul(q.INT32_MIN, q.INT32_MIN) == q.INT32_MAX
    assert q.saturating_rounding_doubling_high_mul(1 << 30, 1 << 30) == 1 << 29
    assert q.saturating_rounding_doubling_high_mul(1 << 30, 1) == 1     # +0.5 rounds up
    assert q.saturating_rounding_doubling_high_mul(-(1 << 30), 1) == 0  # -0.5 rounds up too
    assert q.saturating_rounding_doubling_high_mul(-3 << 30, 1) == -1   # -1.5 -> -1
    assert q.saturating_rounding_doubling_high_mul(q.INT32_MAX, q.INT32_MAX) == q.INT32_MAX - 1


@pytest.mark.parametrize("x, exponent, expected", [
    (5, 1, 3), (-5, 1, -3), (6, 2, 2), (-6, 2, -2), (-5, 2, -1), (7, 0, 7),
    (q.INT32_MAX, 31, 1), (q.INT32_MIN, 31, -1), (-(1 << 30), 31, -1), ((1 << 30) - 1, 31, 0),
])
def test_rounding_divide_by_pot_ties_away_from_zero(x: int, exponent: int, expected: int) -> None:
    assert q.rounding_divide_by_pot(x, exponent) == expected


def test_multiply_by_quantized_multiplier_known_values() -> None:
    one, one_shift = q.quantize_multiplier(1.0)
    xs = np.array([q.INT32_MIN // 2, -1000, -1, 0, 1, 12345, q.INT32_MAX // 2])
    assert np.array_equal(q.multiply_by_quantized_multiplier(xs, one, one_shift), xs)
    half, half_shift = q.quantize_multiplier(0.5)
    assert q.multiply_by_quantized_multiplier(3, half, half_shift) == 2     # 1.5 -> 2
    assert q.multiply_by_quantized_multiplier(-3, half, half_shift) == -1   # -1.5 -> -1 (srdhm)
    # Double rounding differs from single rounding: 0.75 * 2 rounded twice is 2, once would be 2.
    m, s = q.quantize_multiplier(1 / 3)
    assert q.multiply_by_quantized_multiplier(300, m, s) == 100


@settings(max_examples=400)
@given(INT32, INT32)
def test_srdhm_matches_scalar_c_semantics(a: int, b: int) -> None:
    assert int(q.saturating_rounding_doubling_high_mul(a, b)) == srdhm(a, b)


@settings(max_examples=400)
@given(INT32, st.integers(0, 31))
def test_rounding_divide_by_pot_matches_scalar(x: int, exponent: int) -> None:
    assert int(q.rounding_divide_by_pot(x, exponent)) == rdbpot(x, exponent)


@settings(max_examples=400)
@given(st.integers(-(1 << 24), 1 << 24), st.floats(min_value=1e-6, max_value=60.0))
def test_mbqm_matches_scalar_and_is_within_one_of_exact(x: int, real: float) -> None:
    multiplier, shift = q.quantize_multiplier(real)
    if shift > 0 and abs(x) << shift >= 2**31:
        return  # the kernels never shift an accumulator out of int32
    got = int(q.multiply_by_quantized_multiplier(x, multiplier, shift))
    assert got == mbqm(x, multiplier, shift)
    assert abs(got - x * multiplier * 2.0 ** (shift - 31)) <= 1.0


@given(st.lists(INT32, min_size=1, max_size=20), st.floats(min_value=1e-4, max_value=0.99))
def test_requantize_vectorized_per_channel(acc: list[int], real: float) -> None:
    arr = np.array(acc, np.int64).reshape(-1, 1).repeat(3, axis=1)
    pairs = [q.quantize_multiplier(real * k) for k in (0.5, 1.0, 0.25)]
    mult = np.array([m for m, _ in pairs])
    shift = np.array([s for _, s in pairs])
    out = q.requantize(arr, mult, shift, 5)
    for row, x in zip(out, acc):
        for col, (m, s) in enumerate(pairs):
            assert row[col] == min(127, max(-128, mbqm(x, m, s) + 5))


# --- float-side helpers ----------------------------------------------------------------------
def test_tflite_round_is_half_away_from_zero_and_exact() -> None:
    values = np.array([0.5, -0.5, 1.5, -2.5, 2.4999998, 0.49999997, -0.49999997], np.float32)
    assert q.tflite_round(values).tolist() == [1.0, -1.0, 2.0, -3.0, 2.0, 0.0, -0.0]
    assert q.round_half_away(0.49999999999999994) == 0
    assert q.round_half_away(-7.5) == -8


@pytest.mark.parametrize("activation, scale, zp, expected", [
    ("NONE", 0.1, 3, (-128, 127)),
    ("RELU", 0.1, 3, (3, 127)),
    ("RELU", 0.1, -128, (-128, 127)),
    ("RELU6", 0.1, -10, (-10, 50)),
    ("RELU6", 0.01, 0, (0, 127)),
    ("RELU_N1_TO_1", 0.02, 1, (-49, 51)),
])
def test_activation_range(activation: str, scale: float, zp: int, expected: tuple[int, int]) -> None:
    assert q.activation_range(activation, scale, zp) == expected


def test_activation_range_rejects_tanh_fusion() -> None:
    with pytest.raises(ValueError):
        q.activation_range("TANH", 0.1, 0)


def test_input_radius_and_softmax_scaling() -> None:
    assert q.calculate_input_radius(5, 0) == 31 << 26
    assert q.calculate_input_radius(4, 30) == 1   # floor(15 * 2^27 / 2^30)
    m, s = q.preprocess_softmax_scaling(1.0, 1 / 16, 5)
    assert (m, s) == (1 << 30, 23)
    m, s = q.preprocess_softmax_scaling(1e9, 1.0, 5)   # capped at 2^31 - 1
    assert (m, s) == (q.INT32_MAX, 31)


def test_downscale_to_int16_multiplier() -> None:
    assert q.downscale_int32_to_int16_multiplier(1 << 30) == 1 << 14
    assert q.downscale_int32_to_int16_multiplier(q.INT32_MAX) == 32767
    assert q.downscale_int32_to_int16_multiplier((1 << 30) + (1 << 15)) == (1 << 14) + 1


# --- gemmlowp fixed point --------------------------------------------------------------------
def test_count_leading_zeros() -> None:
    values = np.array([0, 1, 2, 3, 1 << 30, q.INT32_MAX, -1, q.INT32_MIN])
    assert q.count_leading_zeros_u32(values).tolist() == [32, 31, 30, 30, 1, 1, 0, 0]


def test_exp_of_zero_is_one_and_monotone() -> None:
    assert q.exp_on_negative_values(0, 5) == q.INT32_MAX
    xs = -np.arange(0, 1 << 31, 1 << 22, dtype=np.int64)
    ys = q.exp_on_negative_values(xs, 5)
    assert np.all(np.diff(ys) <= 0)


@given(st.floats(min_value=-31.9, max_value=0.0))
def test_exp_on_negative_values_is_accurate(x: float) -> None:
    raw = int(x * 2**26)
    got = float(q.exp_on_negative_values(raw, 5)) / 2**31
    assert abs(got - math.exp(raw / 2**26)) < 2e-6


@given(st.floats(min_value=-15.9, max_value=15.9))
def test_logistic_and_tanh_are_accurate(x: float) -> None:
    raw = int(x * 2**27)
    real = raw / 2**27
    assert abs(float(q.fixed_logistic(raw, 4)) / 2**31 - 1 / (1 + math.exp(-real))) < 1e-6
    assert abs(float(q.fixed_tanh(raw, 4)) / 2**31 - math.tanh(real)) < 2e-6


@given(st.integers(1, q.INT32_MAX))
def test_get_reciprocal(x: int) -> None:
    recip, bits = q.get_reciprocal(x, 12)
    # x is Q12.19; 1/x == recip * 2^-(31) / 2^bits
    real = x / 2**19
    assert math.isclose(float(recip) / 2**31 / 2.0 ** int(bits), 1 / real, rel_tol=1e-6)


def test_int16_helpers() -> None:
    assert q.saturating_rounding_doubling_high_mul_int16(-32768, -32768) == 32767
    assert q.saturating_rounding_doubling_high_mul_int16(1 << 14, 1) == 1
    assert q.saturating_doubling_high_mul_int16(1 << 14, 1) == 0
    assert q.saturating_doubling_high_mul_int16(-(1 << 14), 3) == -1
    assert q.saturating_left_shift_int16(20000, 1) == 32767
    assert q.saturating_left_shift_int16(-20000, 1) == -32768
    assert q.wrap_int16(40000) == 40000 - 65536


def test_c_div_truncates_toward_zero() -> None:
    assert q.c_div(np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])).tolist() == [3, -3, -3, 3]


# --- mcusim's LUT extension (classic path custom activations) ------------------------------
def test_swish_lut_entries() -> None:
    from mcusim.frontend.reference import apply_lut, swish_lut

    lut = swish_lut(0.05, -3, 0.03, -40)
    assert lut.shape == (256,) and lut.dtype == np.int8
    for qin in (-128, -3, 0, 57, 127):
        real = 0.05 * (qin + 3)
        expected = q.round_half_away(real / (1 + math.exp(-real)) / 0.03) - 40
        assert lut[qin + 128] == min(127, max(-128, expected))
    x = np.array([[-128, 0], [5, 127]], np.int8)
    assert np.array_equal(apply_lut(x, lut), lut[x.astype(int) + 128])


def test_leaky_relu_lut_is_within_one_of_the_tflm_kernel() -> None:
    from mcusim.frontend.reference import leaky_relu_lut
    from mcusim.operators.activation import LeakyReluParams, leaky_relu

    sx, zx, so, zo, alpha = 0.04, 7, 0.03, -9, 0.2
    mi, si = q.quantize_multiplier(float(np.float32(sx) / np.float32(so)))
    ma, sa = q.quantize_multiplier(float(np.float32(sx) * np.float32(alpha) / np.float32(so)))
    x = np.arange(-128, 128).astype(np.int8)
    kernel = leaky_relu(x, LeakyReluParams(zx, zo, mi, si, ma, sa)).astype(int)
    table = leaky_relu_lut(alpha, sx, zx, so, zo).astype(int)
    assert np.max(np.abs(kernel - table)) <= 1


def test_concatenation_requantize_option() -> None:
    from mcusim.operators.layout import concatenation

    a = np.array([[10, -20]], np.int8)
    b = np.array([[4, 5]], np.int8)
    raw = concatenation([a, b], axis=1)                 # TFLM: raw copy
    assert raw.tolist() == [[10, -20, 4, 5]]
    scaled = concatenation([a, b], axis=1, scales=[0.1, 0.2], zero_points=[0, 1],
                           output_scale=0.1, output_zero_point=0)
    assert scaled.tolist() == [[10, -20, 6, 8]]
