/*
 * mcu_clamp_s8 - reference flavour (portable C).
 * RELU, RELU6, RELU_N1_TO_1 when input and output share their quantization: a clamp.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_clamp_s8(const mcu_context *ctx, const mcu_range *range, const mcu_dims *dims,
                        const int8_t *input, int8_t *output)
{
    (void)ctx;
    if (mcu_check_unary(range, dims, input, output) != MCU_OK || !mcu_range_valid(range))
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i)
        output[i] = mcu_clamp_s8_value(input[i], range->min, range->max);
    return MCU_OK;
}
