/*
 * mcu_quantize_s8_u8 - reference flavour (portable C).
 * QUANTIZE int8 -> uint8 (TFLM reference_ops::Requantize<int8_t, uint8_t>): the converter's
 * uint8 model output, out = clamp(MBQM(in - zp_in, m, s) + zp_out, activation), the activation
 * range within [0, 255] (QUANTIZE: [0, 255]).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_quantize_s8_u8(const mcu_context *ctx, const mcu_requantize_params *params,
                              const mcu_dims *dims, const int8_t *input, uint8_t *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, input, output) != MCU_OK || params->activation.min < 0 ||
        params->activation.max > 255 || params->activation.min > params->activation.max)
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    /* TFLM's fast path: equal scales (QuantizeMultiplier(1.0) = 2^30, shift 1) and zero points
     * 128 apart, as the converter writes them: the formula reduces to flipping the top bit. */
    if (params->multiplier == (1 << 30) && params->shift == 1 &&
        params->input_zero_point - params->output_zero_point == -128 &&
        params->activation.min == 0 && params->activation.max == 255) {
        for (int32_t i = 0; i < size; ++i)
            output[i] = (uint8_t)(input[i] ^ 0x80);
        return MCU_OK;
    }
    for (int32_t i = 0; i < size; ++i) {
        int32_t v = mcu_requantize(input[i] - params->input_zero_point, params->multiplier,
                                   params->shift) +
                    params->output_zero_point;
        v = v < params->activation.min ? params->activation.min : v;
        output[i] = (uint8_t)(v > params->activation.max ? params->activation.max : v);
    }
    return MCU_OK;
}
