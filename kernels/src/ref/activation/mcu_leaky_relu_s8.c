/*
 * mcu_leaky_relu_s8 - reference flavour (portable C).
 * TFLM reference_ops::QuantizeLeakyRelu: x = in - zp_in is requantized with the identity
 * multiplier when x >= 0 and with the alpha multiplier otherwise.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_leaky_relu_s8(const mcu_context *ctx, const mcu_leaky_relu_params *params,
                             const mcu_dims *dims, const int8_t *input, int8_t *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, input, output) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i) {
        const int32_t x = input[i] - params->input_zero_point;
        const int32_t y = x >= 0 ? mcu_requantize(x, params->identity_multiplier,
                                                  params->identity_shift)
                                 : mcu_requantize(x, params->alpha_multiplier,
                                                  params->alpha_shift);
        output[i] = mcu_clamp_s8_value(y + params->output_zero_point, -128, 127);
    }
    return MCU_OK;
}
