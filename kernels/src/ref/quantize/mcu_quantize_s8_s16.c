/*
 * mcu_quantize_s8_s16 - reference flavour (portable C).
 * QUANTIZE int8 -> int16 (TFLM reference_ops::Requantize<int8_t, int16_t>):
 * out = clamp(MBQM(in - zp_in, m, s) + zp_out, activation), the activation an int16 range.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_quantize_s8_s16(const mcu_context *ctx, const mcu_requantize_params *params,
                               const mcu_dims *dims, const int8_t *input, int16_t *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, input, output) != MCU_OK ||
        !mcu_range16_valid(&params->activation))
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i) {
        const int32_t v = mcu_requantize(input[i] - params->input_zero_point,
                                         params->multiplier, params->shift) +
                          params->output_zero_point;
        output[i] = mcu_clamp_s16_value(v, params->activation.min, params->activation.max);
    }
    return MCU_OK;
}
