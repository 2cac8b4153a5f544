/*
 * mcu_nn_math.h - internal arithmetic shared by all kernels (both flavours).
 *
 * Bit-exact with TFLite Micro's int8 arithmetic (tensorflow/lite/kernels/internal/common.h and
 * gemmlowp's fixedpoint.h, default double-rounding build), re-derived here in plain C:
 *   mcu_srdhm       SaturatingRoundingDoublingHighMul (int32)
 *   mcu_rdbpot      RoundingDivideByPOT (round half away from zero)
 *   mcu_requantize  MultiplyByQuantizedMultiplier (the two above, with a pre-left-shift)
 * plus the Q-format fixed-point functions softmax / logistic / tanh need (exp on negative
 * values, 1/(1+x), (1-x)/(1+x)). Everything is integer; no division.
 */
#ifndef MCU_NN_MATH_H
#define MCU_NN_MATH_H

#include <stdint.h>

#include "mcu_nn.h"

#define MCU_MAX(a, b) ((a) > (b) ? (a) : (b))
#define MCU_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MCU_CLAMP(x, lo, hi) MCU_MIN(MCU_MAX((x), (lo)), (hi))

/* round((a * b) / 2^31), ties away from zero, saturating the one overflow (INT32_MIN^2).
 * Adding 2^30 and flooring equals TFLM's "nudge then truncate" for both signs: write
 * |ab| = q*2^31 + r; both give q + [r > 2^30] in magnitude, with the sign of ab. */
static inline int32_t mcu_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    return (int32_t)(((int64_t)a * b + (1LL << 30)) >> 31);
}

/* x / 2^exponent rounded half away from zero; exponent in [0, 31]. */
static inline int32_t mcu_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((1u << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0);
    return (x >> exponent) + (remainder > threshold);
}

/* TFLM MultiplyByQuantizedMultiplier: shift > 0 shifts left first, shift < 0 divides after.
 * The left shift wraps like TFLM's int32 product does on every real target. */
static inline int32_t mcu_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return mcu_rdbpot(mcu_srdhm((int32_t)((uint32_t)x << left), multiplier), right);
}

/* TFLM MultiplyByQuantizedMultiplier for an int64 accumulator (the 16x8 kernels): the
 * multiplier rounded to Q0.15 (0x7FFF at most), then one rounding right shift by 15 - shift. */
static inline int32_t mcu_requantize_s64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int32_t total = 15 - shift;
    return (int32_t)((x * reduced + ((int64_t)1 << (total - 1))) >> total);
}

/* mcu_requantize_s64 of (acc + bias) with the per-channel constants worked out once: the
 * Q0.15 multiplier, the shift and add = bias * reduced + rounding (the products wrap as the
 * reference's int64 arithmetic does, so the result is the same). */
typedef struct {
    int64_t add;
    int32_t reduced, total;
} mcu_rq64;

static inline mcu_rq64 mcu_rq64_of(int32_t multiplier, int32_t shift, int64_t bias)
{
    mcu_rq64 r;
    r.reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
    r.total = 15 - shift;
    r.add = (int64_t)((uint64_t)bias * (uint64_t)(int64_t)r.reduced +
                      ((uint64_t)1 << (r.total - 1)));
    return r;
}

/* for an int32 sum: one 32x32 + 64 multiply-accumulate (SMLAL) */
static inline int32_t mcu_rq64_apply32(int32_t acc, const mcu_rq64 *r)
{
    return (int32_t)((int64_t)((uint64_t)((int64_t)acc * r->reduced) + (uint64_t)r->add) >> r->total);
}

static inline int32_t mcu_rq64_apply(int64_t acc, const mcu_rq64 *r)
{
    return (int32_t)((int64_t)((uint64_t)acc * (uint64_t)(int64_t)r->reduced + (uint64_t)r->add) >>
                     r->total);
}

static inline int16_t mcu_clamp_s16_value(int32_t x, int32_t lo, int32_t hi)
{
    return (int16_t)MCU_CLAMP(x, lo, hi);
}

static inline int8_t mcu_clamp_s8_value(int32_t x, int32_t lo, int32_t hi)
{
    return (int8_t)MCU_CLAMP(x, lo, hi);
}

/* mcu_requantize for the documented multiplier range (>= 0), without branches: with
 * b != INT32_MIN the doubling high multiply cannot saturate, and a right shift of 0 leaves
 * mcu_rdbpot's mask, remainder and threshold at 0, so both shift directions run the same
 * straight-line code. Identical results. */
static inline int32_t mcu_requantize_fast(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift & ~(shift >> 31); /* max(shift, 0) */
    const int32_t right = left - shift;          /* max(-shift, 0) */
    x = (int32_t)((uint32_t)x << left);
    x = (int32_t)(((int64_t)x * multiplier + (1LL << 30)) >> 31);
    const int32_t mask = (int32_t)((1u << right) - 1u);
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)x >> 31);
    return (x >> right) + ((x & mask) > threshold);
}

/* The output stage of the MAC kernels with everything in registers: requantize, add the
 * output offset, clamp. (Kernels pass locals, not struct fields, so that stores through the
 * int8 output pointer do not force the compiler to reload the parameters.) */
static inline int8_t mcu_output_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                   int32_t offset, int32_t lo, int32_t hi)
{
    return mcu_clamp_s8_value(mcu_requantize_fast(acc, multiplier, shift) + offset, lo, hi);
}

/* Quantization of channel c: per-tensor params use entry 0. */
static inline int32_t mcu_quant_mult(const mcu_quant_params *q, int32_t c)
{
    return q->multiplier[q->per_channel ? c : 0];
}
static inline int32_t mcu_quant_shift(const mcu_quant_params *q, int32_t c)
{
    return q->shift[q->per_channel ? c : 0];
}

static inline int mcu_dims_valid(const mcu_dims *d)
{
    return d != 0 && d->n > 0 && d->h > 0 && d->w > 0 && d->c > 0;
}
static inline int32_t mcu_dims_count(const mcu_dims *d)
{
    return d->n * d->h * d->w * d->c;
}
static inline int mcu_range_valid(const mcu_range *r)
{
    return r->min >= -128 && r->max <= 127 && r->min <= r->max;
}

/* ---- gemmlowp-style fixed point on int32 (Qm.(31-m)) ---------------------------------- */

/* SaturatingRoundingMultiplyByPOT with a positive exponent: saturating x * 2^e. */
static inline int32_t mcu_sat_shift_left(int32_t x, int32_t e)
{
    const int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* exp(a) for a in [-1/4, 0), a and result in Q0.31: Taylor series around -1/8. */
static inline int32_t mcu_exp_quarter_q31(int32_t a)
{
    const int32_t exp_minus_1_8 = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;
    const int32_t x = a + (1 << 28); /* a + 1/8 */
    const int32_t x2 = mcu_srdhm(x, x);
    const int32_t x3 = mcu_srdhm(x2, x);
    const int32_t x4 = mcu_srdhm(x2, x2);
    const int32_t x4_over_4 = mcu_rdbpot(x4, 2);
    const int32_t poly = mcu_rdbpot(mcu_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_1_8 + mcu_srdhm(exp_minus_1_8, x + poly);
}

/* exp(a) for a <= 0 given in Q(int_bits).(31-int_bits), int_bits in [1, 5]; result Q0.31.
 * a = (a mod 1/4 - 1/4) + remainder; the remainder's bits select constant factors
 * exp(-2^k) for k = -2 .. 4. */
static inline int32_t mcu_exp_on_negative_values(int32_t a, int32_t int_bits)
{
    static const int32_t factor[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535,   720401,     242};
    const int32_t frac_bits = 31 - int_bits;
    const int32_t one_quarter = 1 << (frac_bits - 2);
    const int32_t mod = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = mcu_exp_quarter_q31(mcu_sat_shift_left(mod, int_bits));
    const int32_t remainder = mod - a;
    for (int32_t k = -2; k <= 4 && k < int_bits; ++k) {
        if (remainder & (1 << (frac_bits + k)))
            result = mcu_srdhm(result, factor[k + 2]);
    }
    return a == 0 ? INT32_MAX : result;
}

/* Newton-Raphson for 1 / half_denominator, result in Q2.29 (gemmlowp's 48/17, 32/17 seed). */
static inline int32_t mcu_newton_reciprocal_q2(int32_t half_denominator)
{
    int32_t x = 1515870810 + mcu_srdhm(half_denominator, -1010580540);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus = (1 << 29) - mcu_srdhm(half_denominator, x);
        x = x + mcu_sat_shift_left(mcu_srdhm(x, one_minus), 2);
    }
    return x;
}

/* RoundingHalfSum(a, 1.0) in Q0.31 with 1.0 represented as INT32_MAX. */
static inline int32_t mcu_half_sum_with_one(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* 1 / (1 + a) for a in [0, 1], Q0.31 in and out. */
static inline int32_t mcu_one_over_one_plus_x(int32_t a)
{
    return mcu_sat_shift_left(mcu_newton_reciprocal_q2(mcu_half_sum_with_one(a)), 1);
}

/* (1 - a) / (1 + a) for a in [0, 1], Q0.31 in and out. */
static inline int32_t mcu_one_minus_x_over_one_plus_x(int32_t a)
{
    return mcu_sat_shift_left(mcu_newton_reciprocal_q2(mcu_half_sum_with_one(a)) - (1 << 29), 2);
}

#endif /* MCU_NN_MATH_H */
