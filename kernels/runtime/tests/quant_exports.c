/*
 * quant_exports.c - entry points over quantize.c for a host-compiled check against
 * mcusim/frontend/quant.py (tests/test_tinyml.py, via ctypes). Scales travel as float32 bit patterns.
 */
#include "mcu_rt_quant.h"

/* QuantizeMultiplier(double(a) * double(b) / double(c)); b = 0 means "no b" (a / c).
 * float32_product: the product is rounded to float32 first (FC per-tensor). */
void qm_double(uint32_t a, uint32_t b, uint32_t c, int float32_product, int32_t *mult, int32_t *shift)
{
    mcu_real num = mcu_real_from_f32(a);
    if (b) {
        num = mcu_real_mul(num, mcu_real_from_f32(b));
        if (float32_product)
            num = mcu_real_round(num, MCU_REAL_FLOAT);
    }
    mcu_quantize_multiplier(mcu_real_div(num, mcu_real_from_f32(c), MCU_REAL_DOUBLE), mult, shift);
}

/* QuantizeMultiplier(float32(float32(a * b) / c)), b = 0: float32(a / c) */
void qm_float(uint32_t a, uint32_t b, uint32_t c, int32_t *mult, int32_t *shift)
{
    mcu_real num = mcu_real_from_f32(a);
    if (b)
        num = mcu_real_round(mcu_real_mul(num, mcu_real_from_f32(b)), MCU_REAL_FLOAT);
    mcu_quantize_multiplier(mcu_real_div(num, mcu_real_from_f32(c), MCU_REAL_FLOAT), mult, shift);
}

/* round(float32(v / scale)), half away from zero */
int32_t round_div(int32_t v, uint32_t scale)
{
    return mcu_real_to_int(mcu_real_div(mcu_real_int(v, 0), mcu_real_from_f32(scale), MCU_REAL_FLOAT));
}

/* QuantizeMultiplier(double(a) * double(b) * 2^e), capped at 2^31 - 1 first if cap */
void qm_scaled_product(uint32_t a, uint32_t b, int32_t e, int cap, int32_t *mult, int32_t *shift)
{
    mcu_real x = mcu_real_mul(mcu_real_from_f32(a), mcu_real_from_f32(b));
    x.e += e;
    if (cap && mcu_real_at_least(x, 0x7FFFFFFFu))
        x = mcu_real_int(0x7FFFFFFF, 0);
    mcu_quantize_multiplier(x, mult, shift);
}
