/*
 * mcu_depthwise_conv_s16 - reference flavour (portable C).
 * 16x8 mode (TFLM reference_integer_ops::DepthwiseConvPerChannel for int16 input, int8
 * filter, int64 bias): output channel ic * M + m is the int64 window sum of filter * input
 * channel ic (zero point 0), requantized by the int64 MultiplyByQuantizedMultiplier and
 * clamped to the int16 activation range.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_depthwise_conv_s16(const mcu_context *ctx, const mcu_dw_conv_params *params,
                                  const mcu_quant_params *quant, const mcu_dims *input_dims,
                                  const int16_t *input, const mcu_dims *filter_dims,
                                  const int8_t *filter, const int64_t *bias,
                                  const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_dw_s16(params, quant, input_dims, input, filter_dims, filter,
                                           output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, out_c = filter_dims->c;
    const int32_t mult = params->ch_mult;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int16_t *in_b = input + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t oc = 0, ic = 0, m = 0; oc < out_c; ++oc) {
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t y = y0 + ky * params->dilation.h;
                        if (y < 0 || y >= in_h)
                            continue;
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t x = x0 + kx * params->dilation.w;
                            if (x < 0 || x >= in_w)
                                continue;
                            acc += (int32_t)filter[(ky * k_w + kx) * out_c + oc] *
                                   in_b[(y * in_w + x) * in_c + ic];
                        }
                    }
                    if (bias)
                        acc += bias[oc];
                    const int32_t y = mcu_requantize_s64(acc, mcu_quant_mult(quant, oc),
                                                         mcu_quant_shift(quant, oc));
                    *output++ = mcu_clamp_s16_value(y + params->output_offset,
                                                    params->activation.min, params->activation.max);
                    if (++m == mult) {
                        m = 0;
                        ++ic;
                    }
                }
            }
        }
    }
    return MCU_OK;
}
