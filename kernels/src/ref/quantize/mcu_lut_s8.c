/*
 * mcu_lut_s8 - reference flavour (portable C).
 * Any int8 -> int8 activation as a 256-entry table built on the host (swish, parametric leaky
 * ReLU, ...): out = table[in + 128].
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_lut_s8(const mcu_context *ctx, const int8_t *table, const mcu_dims *dims,
                      const int8_t *input, int8_t *output)
{
    (void)ctx;
    if (mcu_check_unary(table, dims, input, output) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i)
        output[i] = table[input[i] + 128];
    return MCU_OK;
}
