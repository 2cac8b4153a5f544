/*
 * mcu_softmax_s16 - reference flavour (portable C).
 * 16x8 mode (TFLM reference_ops::SoftmaxInt16): per row, the difference to the row maximum
 * rescaled so that [-65535, 0] covers [-10, 0], exp from a 513-entry table, the reciprocal
 * of the sum from a second table, output in Q0.15 (scale 1/32768, zero point 0). The tables
 * are the caller's (built on the host as TFLM's LUTPopulate<int16_t> builds them).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

/* TFLM LUTLookup: the top 9 bits index the table, the low 7 interpolate to the next entry. */
static int16_t lookup(int32_t value, const int16_t *lut)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t base = lut[index];
    const int32_t slope = lut[index + 1] - base;
    return (int16_t)(base + ((slope * (value & 0x7F) + 64) >> 7));
}

mcu_status mcu_softmax_s16(const mcu_context *ctx, const mcu_softmax16_params *params,
                           const mcu_dims *dims, const int16_t *input, int16_t *output)
{
    (void)ctx;
    if (!params || !params->exp_lut || !params->one_over_one_plus_x_lut || !input || !output ||
        !mcu_dims_valid(dims))
        return MCU_ERR_ARG;
    const int32_t depth = dims->c;
    const int32_t rows = dims->n * dims->h * dims->w;
    for (int32_t r = 0; r < rows; ++r) {
        const int16_t *x = input + r * depth;
        int16_t *y = output + r * depth;
        int32_t max = -32768;
        for (int32_t c = 0; c < depth; ++c)
            max = MCU_MAX(max, x[c]);
        int32_t sum = 0; /* Q16.15 */
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t scaled = mcu_requantize(x[c] - max, params->input_multiplier,
                                                  params->input_shift);
            y[c] = lookup(MCU_CLAMP(scaled + 32767, -32768, 32767), params->exp_lut);
            sum += y[c];
        }
        const int32_t headroom = __builtin_clz((uint32_t)sum); /* sum >= 1: one term is exp(0) */
        const int32_t shifted = (int32_t)((((int64_t)sum << (headroom - 1)) + (1 << 13)) >> 14);
        const int32_t reciprocal = lookup(MCU_CLAMP(shifted - ((1 << 15) + (1 << 16)), -32768, 32767),
                                          params->one_over_one_plus_x_lut);
        const int32_t right = 31 - headroom;
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t v = (int32_t)(((int64_t)y[c] * reciprocal + ((int64_t)1 << (right - 1))) >> right);
            y[c] = (int16_t)MCU_CLAMP(v, 0, 32767);
        }
    }
    return MCU_OK;
}
