/*
 * mcu_transpose_s8 - reference flavour (portable C).
 * TRANSPOSE of an NHWC int8 tensor: the output is walked in order, the input by the strides
 * of the permuted axes (innermost loop: one input stride per byte; rows by memcpy when the
 * innermost axis stays).
 */
#include <string.h>

#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_transpose_s8(const mcu_context *ctx, const mcu_transpose_params *params,
                            const mcu_dims *input_dims, const int8_t *input,
                            const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (!params || !input || !output || !mcu_dims_valid(input_dims) || !mcu_dims_valid(output_dims))
        return MCU_ERR_ARG;
    const int32_t in[4] = {input_dims->n, input_dims->h, input_dims->w, input_dims->c};
    const int32_t out[4] = {output_dims->n, output_dims->h, output_dims->w, output_dims->c};
    const int32_t stride[4] = {in[1] * in[2] * in[3], in[2] * in[3], in[3], 1};
    int32_t seen = 0, s[4];
    for (int32_t a = 0; a < 4; ++a) {
        const int32_t p = params->perm[a];
        if (p < 0 || p > 3 || (seen & (1 << p)) || out[a] != in[p])
            return MCU_ERR_ARG;
        seen |= 1 << p;
        s[a] = stride[p];
    }
    for (int32_t i0 = 0; i0 < out[0]; ++i0)
        for (int32_t i1 = 0; i1 < out[1]; ++i1)
            for (int32_t i2 = 0; i2 < out[2]; ++i2) {
                const int8_t *src = input + i0 * s[0] + i1 * s[1] + i2 * s[2];
                if (s[3] == 1) { /* the innermost axis stays: whole rows */
                    memcpy(output, src, (size_t)out[3]);
                    output += out[3];
                    continue;
                }
                for (int32_t i3 = 0; i3 < out[3]; ++i3)
                    *output++ = src[i3 * s[3]];
            }
    return MCU_OK;
}
