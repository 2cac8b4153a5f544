/*
 * mcu_softmax_s8 - reference flavour (portable C).
 * TFLM int8 softmax (reference_ops::Softmax<int8_t, int8_t>), in gemmlowp fixed point:
 *   d = x - max(row), kept only if d >= diff_min;
 *   e = exp(d * beta * scale) in Q0.31 via exp_on_negative_values on Q5.26;
 *   sum of e rescaled to Q12.19; its reciprocal by Newton-Raphson;
 *   out = RoundingDivideByPOT(recip * e, bits) - 128, clamped (scale 1/256, zp -128).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

#define MCU_SOFTMAX_DIFF_BITS 5  /* Q5.26 input to exp */
#define MCU_SOFTMAX_ACCUM_BITS 12 /* Q12.19 sum of exps */

static inline int32_t mcu_softmax_exp(const mcu_softmax_params *p, int32_t diff)
{
    /* MultiplyByQuantizedMultiplierGreaterThanOne: left shift then doubling high mul. */
    const int32_t scaled = mcu_srdhm((int32_t)((uint32_t)diff << p->input_left_shift),
                                     p->input_multiplier);
    return mcu_exp_on_negative_values(scaled, MCU_SOFTMAX_DIFF_BITS);
}

mcu_status mcu_softmax_s8(const mcu_context *ctx, const mcu_softmax_params *params,
                          const mcu_dims *dims, const int8_t *input, int8_t *output)
{
    (void)ctx;
    if (mcu_check_softmax(params, dims, input, output) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t depth = dims->c, rows = dims->n * dims->h * dims->w;
    for (int32_t r = 0; r < rows; ++r, input += depth, output += depth) {
        int32_t max = -128;
        for (int32_t c = 0; c < depth; ++c)
            max = MCU_MAX(max, input[c]);

        int32_t sum = 0; /* Q12.19 */
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = input[c] - max;
            if (diff >= params->diff_min)
                sum += mcu_rdbpot(mcu_softmax_exp(params, diff), MCU_SOFTMAX_ACCUM_BITS);
        }

        /* GetReciprocal: sum = 2^bits_over_unit * (1 + x), x in [0, 1). */
        const int32_t headroom = __builtin_clz((uint32_t)sum);
        const int32_t bits_over_unit = MCU_SOFTMAX_ACCUM_BITS - headroom;
        const int32_t x = (int32_t)(((uint32_t)sum << headroom) - (1u << 31));
        const int32_t recip = mcu_one_over_one_plus_x(x);
        const int32_t exponent = bits_over_unit + 31 - 8;

        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = input[c] - max;
            int32_t out = -128;
            if (diff >= params->diff_min) {
                const int32_t e = mcu_softmax_exp(params, diff);
                out = mcu_rdbpot(mcu_srdhm(recip, e), exponent) - 128;
                out = MCU_CLAMP(out, -128, 127);
            }
            output[c] = (int8_t)out;
        }
    }
    return MCU_OK;
}
