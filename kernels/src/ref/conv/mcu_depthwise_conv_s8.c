/*
 * mcu_depthwise_conv_s8 - reference flavour (portable C).
 * TFLM reference_integer_ops::DepthwiseConvPerChannel: output channel ic * M + m is the
 * (dilated) window sum of filter * (input channel ic + input_offset).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

int32_t mcu_depthwise_conv_s8_get_buffer_size(const mcu_dims *input_dims,
                                              const mcu_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

mcu_status mcu_depthwise_conv_s8(const mcu_context *ctx, const mcu_dw_conv_params *params,
                                 const mcu_quant_params *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_dw(params, quant, input_dims, input, filter_dims, filter,
                                       output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, out_c = filter_dims->c;
    const int32_t mult = params->ch_mult;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t oc = 0, ic = 0, m = 0; oc < out_c; ++oc) {
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t y = y0 + ky * params->dilation.h;
                        if (y < 0 || y >= in_h)
                            continue;
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t x = x0 + kx * params->dilation.w;
                            if (x < 0 || x >= in_w)
                                continue;
                            const int32_t v = in_b[(y * in_w + x) * in_c + ic];
                            acc += filter[(ky * k_w + kx) * out_c + oc] *
                                   (v + params->input_offset);
                        }
                    }
                    if (bias)
                        acc += bias[oc];
                    acc = mcu_requantize(acc, mcu_quant_mult(quant, oc),
                                         mcu_quant_shift(quant, oc));
                    *output++ = mcu_clamp_s8_value(acc + params->output_offset,
                                                   params->activation.min,
                                                   params->activation.max);
                    if (++m == mult) { /* next input channel, without a division */
                        m = 0;
                        ++ic;
                    }
                }
            }
        }
    }
    return MCU_OK;
}
