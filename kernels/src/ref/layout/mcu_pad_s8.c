/*
 * mcu_pad_s8 - reference flavour (portable C).
 * PAD / PADV2 on an NHWC tensor: the input is copied into the interior of the output and the
 * border is filled with pad_value (the output zero point for PAD, TFLM semantics).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_pad_s8(const mcu_context *ctx, const mcu_pad_params *params,
                      const mcu_dims *input_dims, const int8_t *input,
                      const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (!params || !input || !output || !mcu_dims_valid(input_dims) ||
        !mcu_dims_valid(output_dims) || params->pad_value < -128 || params->pad_value > 127)
        return MCU_ERR_ARG;
    const mcu_dims *b = &params->before, *a = &params->after;
    if (b->n < 0 || b->h < 0 || b->w < 0 || b->c < 0 || a->n < 0 || a->h < 0 || a->w < 0 ||
        a->c < 0)
        return MCU_ERR_ARG;
    if (output_dims->n != input_dims->n + b->n + a->n ||
        output_dims->h != input_dims->h + b->h + a->h ||
        output_dims->w != input_dims->w + b->w + a->w ||
        output_dims->c != input_dims->c + b->c + a->c)
        return MCU_ERR_ARG;
    const int8_t pad = (int8_t)params->pad_value;
    for (int32_t n = 0; n < output_dims->n; ++n) {
        const int32_t in_n = n - b->n;
        for (int32_t h = 0; h < output_dims->h; ++h) {
            const int32_t in_h = h - b->h;
            for (int32_t w = 0; w < output_dims->w; ++w) {
                const int32_t in_w = w - b->w;
                const int inside = in_n >= 0 && in_n < input_dims->n && in_h >= 0 &&
                                   in_h < input_dims->h && in_w >= 0 && in_w < input_dims->w;
                const int8_t *src =
                    inside ? input + ((in_n * input_dims->h + in_h) * input_dims->w + in_w) *
                                         input_dims->c
                           : input;
                for (int32_t c = 0; c < output_dims->c; ++c) {
                    const int in_c = inside && c >= b->c && c < b->c + input_dims->c;
                    *output++ = in_c ? src[c - b->c] : pad;
                }
            }
        }
    }
    return MCU_OK;
}
