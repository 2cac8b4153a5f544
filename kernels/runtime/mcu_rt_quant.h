/*
 * mcu_rt_quant.h - TFLM's quantization arithmetic of prepare time, computed exactly with
 * integers: no double, no float, so a Cortex-M4F (single-precision FPU) or an M0+ (no FPU)
 * links no soft-double helpers.
 *
 * TFLM computes a real multiplier like in_scale * filter_scale / out_scale in double and
 * splits it with QuantizeMultiplier (frexp, then round(q * 2^31) half away from zero). Here a
 * positive real is m * 2^e with an integer m (mcu_real); float32 scales convert exactly,
 * products of two float32s are exact in 48 bits (as they are in double), and a division is
 * long division rounded to nearest-even at 53 bits (what a double division returns) or
 * 24 bits (float32). QuantizeMultiplier then rounds that mantissa to 31 bits, half away
 * from zero: the same two roundings TFLM performs, so the same bits.
 * Subnormal float32 scales are not modelled (converted models never have them).
 */
#ifndef MCU_RT_QUANT_H
#define MCU_RT_QUANT_H

#include <stdint.h>

typedef struct {
    uint64_t m;   /* magnitude */
    int32_t e;    /* value = (neg ? -1 : 1) * m * 2^e */
    int32_t neg;
} mcu_real;

enum { MCU_REAL_DOUBLE = 53, MCU_REAL_FLOAT = 24 };

mcu_real mcu_real_from_f32(uint32_t bits);
static inline mcu_real mcu_real_int(int32_t v, int32_t exponent)
{
    mcu_real r = {(uint64_t)(v < 0 ? -(int64_t)v : v), exponent, v < 0};
    return r;
}

/* a * b, exact (each magnitude below 2^32). */
mcu_real mcu_real_mul(mcu_real a, mcu_real b);
/* x rounded to nearest-even at `bits` significant bits (a float32 or double result). */
mcu_real mcu_real_round(mcu_real x, int32_t bits);
/* a / b rounded to nearest-even at `bits` (<= 53) significant bits. b is a float32 or a
 * small integer (b.m < 2^24), a.m < 2^56 (a product of two float32s at most). */
mcu_real mcu_real_div(mcu_real a, mcu_real b, int32_t bits);
/* 1 when the non-negative x is at least v. */
int mcu_real_at_least(mcu_real x, uint32_t v);
/* Round half away from zero to an integer, saturating at +-2^30. */
int32_t mcu_real_to_int(mcu_real x);

/* TFLM QuantizeMultiplier: x = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) (or
 * negative for a negative x); (0, 0) for 0 or a shift below -31. */
void mcu_quantize_multiplier(mcu_real x, int32_t *multiplier, int32_t *shift);

/* 1 for a positive, finite, normal float32. */
static inline int mcu_scale_ok(uint32_t bits)
{
    const uint32_t exponent = (bits >> 23) & 0xFFu;
    return (bits >> 31) == 0 && exponent != 0 && exponent != 0xFFu;
}

#endif /* MCU_RT_QUANT_H */
