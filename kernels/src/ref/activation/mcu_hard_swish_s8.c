/*
 * mcu_hard_swish_s8 - reference flavour (portable C).
 * TFLM reference_ops::HardSwish<int8_t>: x * relu6(x + 3) / 6 in 16-bit fixed point. The
 * input, moved to a "hires" scale (x 128), is (a) rescaled to the output scale and (b) mapped
 * to a "reluish" factor in [0, 1] (3.0 <-> 32768, saturating); the product of the two is shifted
 * to the output. Every int16 step (rounding, saturation, truncation) is reproduced.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

/* gemmlowp SaturatingRoundingDoublingHighMul on int16. */
static inline int16_t mcu_srdhm16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN)
        return INT16_MAX;
    const int32_t ab = (int32_t)a * b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

/* TFLite SaturatingDoublingHighMul on int16: truncating, no rounding nudge. */
static inline int16_t mcu_sdhm16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN)
        return INT16_MAX;
    return (int16_t)(((int32_t)a * b) / (1 << 15));
}

/* x * 2^amount saturated to int16 (amount up to 29: computed in 64 bits). */
static inline int16_t mcu_sat_lshift16(int16_t x, int32_t amount)
{
    const int64_t v = (int64_t)x * ((int64_t)1 << amount);
    return (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
}

mcu_status mcu_hard_swish_s8(const mcu_context *ctx, const mcu_hard_swish_params *params,
                             const mcu_dims *dims, const int8_t *input, int8_t *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, input, output) != MCU_OK ||
        params->output_exponent > 0 || params->output_exponent < -31 ||
        params->reluish_exponent > 30 || params->reluish_exponent < -31)
        return MCU_ERR_ARG;
    const int16_t out_mult = (int16_t)params->output_multiplier;
    const int16_t relu_mult = (int16_t)params->reluish_multiplier;
    const int32_t relu_exp = params->reluish_exponent;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i) {
        const int16_t hires = (int16_t)((input[i] - params->input_zero_point) * 128);
        const int16_t preshift_out = mcu_srdhm16(hires, out_mult);
        int16_t reluish = hires;
        if (relu_exp > 0)
            reluish = mcu_sat_lshift16(reluish, relu_exp - 1);
        reluish = mcu_srdhm16(reluish, relu_mult);
        if (relu_exp > 0)
            reluish = mcu_sat_lshift16(reluish, 1);
        if (relu_exp < 0)
            reluish = (int16_t)mcu_rdbpot(reluish, -relu_exp);
        reluish = (int16_t)((reluish + (1 << 15)) >> 1); /* [-1, 1] -> [0, 1] */
        const int16_t prod = mcu_sdhm16(reluish, preshift_out);
        int16_t out = (int16_t)mcu_rdbpot(prod, -params->output_exponent);
        out = (int16_t)(out + params->output_zero_point);
        output[i] = (int8_t)MCU_CLAMP(out, -128, 127);
    }
    return MCU_OK;
}
