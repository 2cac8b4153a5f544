/*
 * mcu_mean_s16 - reference flavour (portable C).
 * 16x8 mode: mcu_mean_s8's arithmetic (TFLM QuantizedMeanOrSum<int16_t>, its int32 sums and
 * 1/count folded into the multiplier) on int16 input and output, saturated to int16.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_mean_s16(const mcu_context *ctx, const mcu_mean_params *params,
                        const mcu_dims *input_dims, const int16_t *input,
                        const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    /* at most 2^16 values: the int32 sum of int16 values cannot overflow */
    if (mcu_check_mean(params, input_dims, input, output_dims, output, 1 << 16) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t count = input_dims->h * input_dims->w, ch = input_dims->c;
    int32_t mult = params->multiplier, shift = params->shift;
    mcu_mean_fold(count, &mult, &shift);
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int16_t *in_b = input + b * count * ch;
        for (int32_t c = 0; c < ch; ++c) {
            int32_t sum = 0;
            for (int32_t i = 0; i < count; ++i)
                sum += in_b[i * ch + c];
            sum -= params->input_zero_point * count;
            const int32_t v = mcu_requantize(sum, mult, shift) + params->output_zero_point;
            output[b * ch + c] = mcu_clamp_s16_value(v, -32768, 32767);
        }
    }
    return MCU_OK;
}
