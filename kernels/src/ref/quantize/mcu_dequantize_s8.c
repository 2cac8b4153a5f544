/*
 * mcu_dequantize_s8 - reference flavour (portable C).
 * DEQUANTIZE int8 -> float32 (TFLM reference_ops::Dequantize): scale * (in - zero_point),
 * computed in single precision. The only kernel of the library that uses floating point.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_dequantize_s8(const mcu_context *ctx, const mcu_dequantize_params *params,
                             const mcu_dims *dims, const int8_t *input, float *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, input, output) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i)
        output[i] = params->scale * (float)(input[i] - params->zero_point);
    return MCU_OK;
}
