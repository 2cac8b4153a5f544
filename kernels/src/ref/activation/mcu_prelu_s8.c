/*
 * mcu_prelu_s8 - reference flavour (portable C).
 * TFLM reference_ops::BroadcastPrelu4DSlow (int8): positive inputs are rescaled, negative
 * ones multiplied by the (zero-point corrected) alpha and rescaled. alpha broadcasts.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_prelu_s8(const mcu_context *ctx, const mcu_prelu_params *params,
                        const mcu_dims *input_dims, const int8_t *input,
                        const mcu_dims *alpha_dims, const int8_t *alpha,
                        const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    mcu_strides sa;
    if (!params || !input || !alpha || !output || !mcu_dims_valid(input_dims) ||
        !mcu_dims_valid(output_dims) || !mcu_same_dims(input_dims, output_dims) ||
        !mcu_broadcast_strides(alpha_dims, output_dims, &sa))
        return MCU_ERR_ARG;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w) {
                const int8_t *a = alpha + n * sa.n + h * sa.h + w * sa.w;
                for (int32_t c = 0; c < output_dims->c; ++c) {
                    const int32_t x = *input++ + params->input_offset;
                    int32_t y;
                    if (x >= 0) {
                        y = mcu_requantize(x, params->positive_multiplier,
                                           params->positive_shift);
                    } else {
                        const int32_t al = a[c * sa.c] + params->alpha_offset;
                        y = mcu_requantize(x * al, params->negative_multiplier,
                                           params->negative_shift);
                    }
                    *output++ = mcu_clamp_s8_value(y + params->output_offset, -128, 127);
                }
            }
    return MCU_OK;
}
