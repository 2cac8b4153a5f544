/*
 * mcu_gather_s8 - reference flavour (portable C).
 * GATHER as TFLM's loops: per batch and outer position, one inner block (memcpy) per index. Every
 * index is checked before anything is written.
 */
#include <string.h>

#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_gather_s8(const mcu_context *ctx, const mcu_gather_params *params,
                         const int8_t *input, const int32_t *indices, int8_t *output)
{
    (void)ctx;
    if (!params || params->batches < 1 || params->outer < 1 || params->axis_size < 1 ||
        params->inner < 0 || params->num_indices < 0)
        return MCU_ERR_ARG;
    const int32_t count = params->batches * params->num_indices;
    if (count && (!input || !indices || !output))
        return MCU_ERR_ARG;
    for (int32_t k = 0; k < count; ++k)
        if (indices[k] < 0 || indices[k] >= params->axis_size)
            return MCU_ERR_ARG;
    const int32_t inner = params->inner;
    for (int32_t b = 0; b < params->batches; ++b) {
        const int32_t *idx = indices + b * params->num_indices;
        for (int32_t o = 0; o < params->outer; ++o) {
            const int8_t *base = input + (b * params->outer + o) * params->axis_size * inner;
            for (int32_t k = 0; k < params->num_indices; ++k) {
                memcpy(output, base + idx[k] * inner, (size_t)inner);
                output += inner;
            }
        }
    }
    return MCU_OK;
}
