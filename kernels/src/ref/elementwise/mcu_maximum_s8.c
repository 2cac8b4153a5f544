/*
 * mcu_maximum_s8 - reference flavour (portable C).
 * TFLM int8 MAXIMUM (reference_ops::MaximumMinimumBroadcastSlow): the maximum of the raw int8
 * values, no requantization (TFLM reads no quantization). Broadcasting by strides.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_maximum_s8(const mcu_context *ctx, const mcu_dims *input1_dims,
                        const int8_t *input1, const mcu_dims *input2_dims, const int8_t *input2,
                        const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    mcu_strides s1, s2;
    if (!input1 || !input2 || !output || !mcu_broadcast_strides(input1_dims, output_dims, &s1) ||
        !mcu_broadcast_strides(input2_dims, output_dims, &s2))
        return MCU_ERR_ARG;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w) {
                const int8_t *a = input1 + n * s1.n + h * s1.h + w * s1.w;
                const int8_t *b = input2 + n * s2.n + h * s2.h + w * s2.w;
                for (int32_t c = 0; c < output_dims->c; ++c) {
                    const int8_t x = a[c * s1.c], y = b[c * s2.c];
                    *output++ = x > y ? x : y;
                }
            }
    return MCU_OK;
}
