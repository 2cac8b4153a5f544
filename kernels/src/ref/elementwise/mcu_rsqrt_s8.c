/*
 * mcu_rsqrt_s8 - reference flavour (portable C).
 * TFLM int8 RSQRT (elementwise.cc RsqrtEvalQuantized): v = x - input_zero_point; v == 0 gives
 * 127; otherwise 1/sqrt(v) as a Q31 multiplier and shift (GetInvSqrtQuantizedMultiplierExp:
 * v normalized to [2^27, 2^29), five Newton-Raphson steps in Q3.28 from 1, times sqrt(2)/2),
 * data = MBQM(1, inv, shift + 20), out = clamp(MBQM(data, multiplier, shift - 20) + output zp).
 * A value below the input zero point (a negative number) is an error in TFLM: MCU_ERR_ARG,
 * found before anything is written.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent: a saturating left shift. */
static inline int32_t mcu_sat_pot(int32_t x, int32_t e)
{
    const int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* 1/sqrt(v) for v >= 2: Q31 multiplier, *shift the left shift (<= 0 here). */
static int32_t mcu_inv_sqrt(int32_t v, int32_t *shift)
{
    int32_t s = 11;
    while (v >= (1 << 29)) {
        v /= 4;
        ++s;
    }
    const int32_t pairs = (__builtin_clz((uint32_t)v) - 1) / 2 - 1;
    s -= pairs;
    v <<= 2 * pairs;
    const int32_t half_in = mcu_rdbpot(v >> 1, 1);        /* Q3.28 v / 2 */
    const int32_t half_three = (1 << 28) + (1 << 27);      /* Q3.28 1.5 */
    int32_t x = 1 << 28;                                   /* Q3.28 1 */
    for (int i = 0; i < 5; ++i) {
        const int32_t x3 = mcu_sat_pot(mcu_srdhm(mcu_srdhm(x, x), x), 6); /* Q9 -> Q3 */
        const int32_t d = (int32_t)((uint32_t)mcu_srdhm(half_three, x) -
                                    (uint32_t)mcu_srdhm(half_in, x3));
        x = mcu_sat_pot(d, 3); /* Q6 -> Q3 */
    }
    x = mcu_srdhm(x, 1518500250); /* sqrt(2) / 2 in Q0.31 */
    if (s < 0) {
        x = (int32_t)((uint32_t)x << -s);
        s = 0;
    }
    *shift = -s;
    return x;
}

mcu_status mcu_rsqrt_s8(const mcu_context *ctx, const mcu_rsqrt_params *params,
                        const mcu_dims *dims, const int8_t *input, int8_t *output)
{
    (void)ctx;
    if (!params || !dims || !input || !output || !mcu_dims_valid(dims))
        return MCU_ERR_ARG;
    const int32_t count = mcu_dims_count(dims);
    for (int32_t i = 0; i < count; ++i)
        if (input[i] < params->input_zero_point)
            return MCU_ERR_ARG;
    for (int32_t i = 0; i < count; ++i) {
        const int32_t v = input[i] - params->input_zero_point;
        if (v == 0) {
            output[i] = 127;
            continue;
        }
        int32_t m = INT32_MAX, s = 0;
        if (v > 1)
            m = mcu_inv_sqrt(v, &s);
        const int32_t data = mcu_requantize(1, m, s + 20);
        const int32_t y = mcu_requantize(data, params->multiplier, params->shift - 20) +
                          params->output_zero_point;
        output[i] = mcu_clamp_s8_value(y, -128, 127);
    }
    return MCU_OK;
}
