/*
 * mcu_softmax_s8 - optimized flavour (Cortex-M DSP extension).
 * The reference arithmetic (TFLM's gemmlowp fixed point), with each exp computed once: rows of
 * at most MCU_SOFTMAX_CACHE values keep their exps in a stack array between the sum and the
 * output pass (the reference computes each twice; the exp is most of the cost). An excluded
 * value (d < diff_min) is kept as 0, whose output is -128 as the reference's. Longer rows use
 * the reference kernel's two passes.
 * Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/activation/mcu_softmax_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

#define MCU_SOFTMAX_DIFF_BITS 5  /* Q5.26 input to exp */
#define MCU_SOFTMAX_ACCUM_BITS 12 /* Q12.19 sum of exps */
#define MCU_SOFTMAX_CACHE 16      /* exps kept per row: 64 bytes of stack */

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
    if (mcu_check_unary(params, dims, input, output) != MCU_OK ||
        params->input_left_shift < 0 || params->input_left_shift > 31)
        return MCU_ERR_ARG;
    const int32_t depth = dims->c, rows = dims->n * dims->h * dims->w;
    const int32_t diff_min = params->diff_min;
    const int cache = depth <= MCU_SOFTMAX_CACHE;
    int32_t e[MCU_SOFTMAX_CACHE];
    for (int32_t r = 0; r < rows; ++r, input += depth, output += depth) {
        int32_t max = -128;
        for (int32_t c = 0; c < depth; ++c)
            max = MCU_MAX(max, input[c]);

        int32_t sum = 0; /* Q12.19 */
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = input[c] - max;
            const int32_t ex = diff >= diff_min ? mcu_softmax_exp(params, diff) : 0;
            if (cache)
                e[c] = ex;
            sum += mcu_rdbpot(ex, MCU_SOFTMAX_ACCUM_BITS);
        }

        /* GetReciprocal: sum = 2^bits_over_unit * (1 + x), x in [0, 1). */
        const int32_t headroom = __builtin_clz((uint32_t)sum);
        const int32_t bits_over_unit = MCU_SOFTMAX_ACCUM_BITS - headroom;
        const int32_t x = (int32_t)(((uint32_t)sum << headroom) - (1u << 31));
        const int32_t recip = mcu_one_over_one_plus_x(x);
        const int32_t exponent = bits_over_unit + 31 - 8;

        for (int32_t c = 0; c < depth; ++c) {
            int32_t ex;
            if (cache) {
                ex = e[c];
            } else {
                const int32_t diff = input[c] - max;
                ex = diff >= diff_min ? mcu_softmax_exp(params, diff) : 0;
            }
            const int32_t out = mcu_rdbpot(mcu_srdhm(recip, ex), exponent) - 128;
            output[c] = (int8_t)MCU_CLAMP(out, -128, 127);
        }
    }
    return MCU_OK;
}
#endif
