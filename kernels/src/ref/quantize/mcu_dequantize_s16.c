/*
 * mcu_dequantize_s16 - reference flavour (portable C).
 * DEQUANTIZE int16 -> float32 (TFLM reference_ops::Dequantize, the 16x8 model's float
 * output): scale * (in - zero_point), in single precision.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_dequantize_s16(const mcu_context *ctx, const mcu_dequantize_params *params,
                              const mcu_dims *dims, const int16_t *input, float *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, (const int8_t *)input, output) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i)
        output[i] = params->scale * (float)(input[i] - params->zero_point);
    return MCU_OK;
}
