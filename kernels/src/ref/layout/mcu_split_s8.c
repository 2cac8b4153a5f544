/*
 * mcu_split_s8 - reference flavour (portable C).
 * SPLIT / SPLIT_V along one NHWC axis: per outer index, each output takes the next block of
 * (its extent along the axis x inner) bytes of the input, as TFLM's SplitImpl (memcpy).
 */
#include <string.h>

#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

static int32_t mcu_dim_at(const mcu_dims *d, int32_t axis)
{
    return axis == 0 ? d->n : axis == 1 ? d->h : axis == 2 ? d->w : d->c;
}

mcu_status mcu_split_s8(const mcu_context *ctx, const mcu_split_params *params,
                        const mcu_dims *input_dims, const int8_t *input,
                        const mcu_dims *output_dims, int8_t *const *outputs)
{
    (void)ctx;
    if (!params || !input || !output_dims || !outputs || !mcu_dims_valid(input_dims) ||
        params->num_outputs < 1 || params->axis < 0 || params->axis > 3)
        return MCU_ERR_ARG;
    const int32_t axis = params->axis;
    int32_t total = 0;
    for (int32_t k = 0; k < params->num_outputs; ++k) {
        const mcu_dims *d = &output_dims[k];
        if (!outputs[k] || !mcu_dims_valid(d))
            return MCU_ERR_ARG;
        for (int32_t a = 0; a < 4; ++a)
            if (a != axis && mcu_dim_at(d, a) != mcu_dim_at(input_dims, a))
                return MCU_ERR_ARG;
        total += mcu_dim_at(d, axis);
    }
    if (total != mcu_dim_at(input_dims, axis))
        return MCU_ERR_ARG;
    int32_t outer = 1, inner = 1;
    for (int32_t a = 0; a < axis; ++a)
        outer *= mcu_dim_at(input_dims, a);
    for (int32_t a = axis + 1; a < 4; ++a)
        inner *= mcu_dim_at(input_dims, a);
    for (int32_t o = 0; o < outer; ++o)
        for (int32_t k = 0; k < params->num_outputs; ++k) {
            const int32_t block = mcu_dim_at(&output_dims[k], axis) * inner;
            memcpy(outputs[k] + o * block, input, (size_t)block);
            input += block;
        }
    return MCU_OK;
}
