/*
 * mcu_slice_s8 - reference flavour (portable C).
 * SLICE: the box of output_dims at params->begin, copied row by row (rows along c, memcpy).
 */
#include <string.h>

#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_slice_s8(const mcu_context *ctx, const mcu_slice_params *params,
                        const mcu_dims *input_dims, const int8_t *input,
                        const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (!params || !input || !output || !mcu_dims_valid(input_dims) || !mcu_dims_valid(output_dims))
        return MCU_ERR_ARG;
    const mcu_dims *b = &params->begin, *o = output_dims, *i = input_dims;
    if (b->n < 0 || b->h < 0 || b->w < 0 || b->c < 0 || b->n + o->n > i->n ||
        b->h + o->h > i->h || b->w + o->w > i->w || b->c + o->c > i->c)
        return MCU_ERR_ARG;
    for (int32_t n = 0; n < o->n; ++n)
        for (int32_t h = 0; h < o->h; ++h)
            for (int32_t w = 0; w < o->w; ++w) {
                memcpy(output, input + (((b->n + n) * i->h + b->h + h) * i->w + b->w + w) * i->c + b->c,
                       (size_t)o->c);
                output += o->c;
            }
    return MCU_OK;
}
