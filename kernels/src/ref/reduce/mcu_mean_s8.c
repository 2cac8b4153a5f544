/*
 * mcu_mean_s8 - reference flavour (portable C).
 * MEAN over axes 1 and 2 of an NHWC tensor, TFLM QuantizedMeanOrSum (compute_sum = false),
 * also when input and output share quantization (current TFLM has no separate path for it):
 * the int32 sum of each channel minus zp_in * H*W, requantized with a multiplier into which
 * 1/(H*W) has been folded once per call (one 64-bit division).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

int32_t mcu_mean_s8_get_buffer_size(const mcu_dims *input_dims)
{
    (void)input_dims;
    return 0;
}

mcu_status mcu_mean_s8(const mcu_context *ctx, const mcu_mean_params *params,
                       const mcu_dims *input_dims, const int8_t *input,
                       const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (mcu_check_mean(params, input_dims, input, output_dims, output, 1 << 23) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t count = input_dims->h * input_dims->w, ch = input_dims->c;
    int32_t mult = params->multiplier, shift = params->shift;
    mcu_mean_fold(count, &mult, &shift);
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + b * count * ch;
        for (int32_t c = 0; c < ch; ++c) {
            int32_t sum = 0;
            for (int32_t i = 0; i < count; ++i)
                sum += in_b[i * ch + c];
            sum -= params->input_zero_point * count;
            const int32_t v = mcu_requantize(sum, mult, shift) + params->output_zero_point;
            output[b * ch + c] = mcu_clamp_s8_value(v, -128, 127);
        }
    }
    return MCU_OK;
}
