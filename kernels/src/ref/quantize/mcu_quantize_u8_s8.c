/*
 * mcu_quantize_u8_s8 - reference flavour (portable C).
 * QUANTIZE uint8 -> int8 (TFLM reference_ops::Requantize<uint8_t, int8_t>): the converter's
 * uint8 model input, out = clamp(MBQM(in - zp_in, m, s) + zp_out, activation). With equal
 * scales and zero points 128 apart (what the converter writes) this is in ^ 0x80, TFLM's fast
 * path (the general formula gives the same: MBQM by 2^30, shift 1, is the identity).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_quantize_u8_s8(const mcu_context *ctx, const mcu_requantize_params *params,
                              const mcu_dims *dims, const uint8_t *input, int8_t *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, (const int8_t *)input, output) != MCU_OK ||
        !mcu_range_valid(&params->activation))
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    /* TFLM's fast path: equal scales (QuantizeMultiplier(1.0) = 2^30, shift 1) and zero points
     * 128 apart, as the converter writes them: the formula reduces to flipping the top bit. */
    if (params->multiplier == (1 << 30) && params->shift == 1 &&
        params->input_zero_point - params->output_zero_point == 128 &&
        params->activation.min == -128 && params->activation.max == 127) {
        for (int32_t i = 0; i < size; ++i)
            output[i] = (int8_t)(input[i] ^ 0x80);
        return MCU_OK;
    }
    for (int32_t i = 0; i < size; ++i) {
        const int32_t v = mcu_requantize((int32_t)input[i] - params->input_zero_point,
                                         params->multiplier, params->shift) +
                          params->output_zero_point;
        output[i] = mcu_clamp_s8_value(v, params->activation.min, params->activation.max);
    }
    return MCU_OK;
}
