/*
 * mcu_mul_s16 - reference flavour (portable C).
 * 16x8 mode (TFLM's int16 MUL, reference_integer_ops MulElementwise / BroadcastMul6DSlow):
 * out = clamp(MBQM((x1 + off1) * (x2 + off2), m, s) + output_offset), offsets 0 (TFLM
 * requires int16 zero points 0, so the product fits int32). Broadcasting by strides.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_mul_s16(const mcu_context *ctx, const mcu_mul_params *params,
                       const mcu_dims *input1_dims, const int16_t *input1,
                       const mcu_dims *input2_dims, const int16_t *input2,
                       const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    mcu_strides s1, s2;
    if (!params || !input1 || !input2 || !output ||
        !mcu_broadcast_strides(input1_dims, output_dims, &s1) ||
        !mcu_broadcast_strides(input2_dims, output_dims, &s2) ||
        !mcu_range16_valid(&params->activation) || params->input1_offset != 0 ||
        params->input2_offset != 0)
        return MCU_ERR_ARG;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w) {
                const int16_t *a = input1 + n * s1.n + h * s1.h + w * s1.w;
                const int16_t *b = input2 + n * s2.n + h * s2.h + w * s2.w;
                for (int32_t c = 0; c < output_dims->c; ++c) {
                    const int32_t prod = a[c * s1.c] * b[c * s2.c];
                    const int32_t v = mcu_requantize(prod, params->output_multiplier,
                                                     params->output_shift) +
                                      params->output_offset;
                    *output++ = (int16_t)MCU_CLAMP(v, params->activation.min,
                                                   params->activation.max);
                }
            }
    return MCU_OK;
}
