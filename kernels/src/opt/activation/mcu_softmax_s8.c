/*
 * mcu_softmax_s8 - optimized flavour (Cortex-M DSP extension).
 * The reference arithmetic (TFLM's gemmlowp fixed point), with each exp computed once: rows of
 * at most MCU_SOFTMAX_CACHE values keep their exps in a stack array between the sum and the
 * output pass (the reference computes each twice; the exp is most of the cost). An excluded
 * value (d < diff_min) is kept as 0, whose output is -128 as the reference's. Longer rows: the
 * call is handed to the reference kernel (mcu_softmax_s8_ref, named in the run's report).
 * Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/activation/mcu_softmax_s8.c"
#else
#include "mcu_nn.h"
/* The reference kernel under another name, for the calls this one hands over; out of line, so
 * the run's report sees it run (deploy.REF_HANDOVERS). */
__attribute__((noinline)) mcu_status mcu_softmax_s8_ref(const mcu_context *ctx,
                                                        const mcu_softmax_params *params,
                                                        const mcu_dims *dims, const int8_t *input,
                                                        int8_t *output);
#define mcu_softmax_s8 mcu_softmax_s8_ref
#include "../../ref/activation/mcu_softmax_s8.c"
#undef mcu_softmax_s8

#define MCU_SOFTMAX_CACHE 16 /* exps kept per row: 64 bytes of stack */

mcu_status mcu_softmax_s8(const mcu_context *ctx, const mcu_softmax_params *params,
                          const mcu_dims *dims, const int8_t *input, int8_t *output)
{
    if (mcu_check_softmax(params, dims, input, output) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t depth = dims->c, rows = dims->n * dims->h * dims->w;
    if (depth > MCU_SOFTMAX_CACHE)
        return mcu_softmax_s8_ref(ctx, params, dims, input, output);
    const int32_t diff_min = params->diff_min;
    int32_t e[MCU_SOFTMAX_CACHE];
    for (int32_t r = 0; r < rows; ++r, input += depth, output += depth) {
        int32_t max = -128;
        for (int32_t c = 0; c < depth; ++c)
            max = MCU_MAX(max, input[c]);

        int32_t sum = 0; /* Q12.19 */
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = input[c] - max;
            const int32_t ex = diff >= diff_min ? mcu_softmax_exp(params, diff) : 0;
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
            const int32_t out = mcu_rdbpot(mcu_srdhm(recip, e[c]), exponent) - 128;
            output[c] = (int8_t)MCU_CLAMP(out, -128, 127);
        }
    }
    return MCU_OK;
}
#endif
