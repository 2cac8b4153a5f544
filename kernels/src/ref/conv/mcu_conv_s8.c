/*
 * mcu_conv_s8 - reference flavour (portable C).
 * TFLM reference_integer_ops::ConvPerChannel: for every output pixel and channel, the sum over
 * the (dilated) window of filter * (input + input_offset), taps outside the input skipped.
 * Grouped convolution (filter depth C/G) is handled here; the optimized flavour defers to it.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

int32_t mcu_conv_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

mcu_status mcu_conv_s8(const mcu_context *ctx, const mcu_conv_params *params,
                       const mcu_quant_params *quant, const mcu_dims *input_dims,
                       const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                       const int32_t *bias, const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_conv(params, quant, input_dims, input, filter_dims, filter,
                                         output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, out_c = filter_dims->n;
    const int32_t in_off = params->input_offset;
    const int32_t group_c = filter_dims->c; /* input channels per group */
    const int32_t group_o = out_c / (in_c / group_c); /* output channels per group */

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t oc = 0, g0 = 0, go = 0; oc < out_c; ++oc) {
                    const int8_t *w = filter + oc * k_h * k_w * group_c;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t y = y0 + ky * params->dilation.h;
                        if (y < 0 || y >= in_h)
                            continue;
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t x = x0 + kx * params->dilation.w;
                            if (x < 0 || x >= in_w)
                                continue;
                            const int8_t *px = in_b + (y * in_w + x) * in_c + g0;
                            const int8_t *wk = w + (ky * k_w + kx) * group_c;
                            for (int32_t ic = 0; ic < group_c; ++ic)
                                acc += wk[ic] * (px[ic] + in_off);
                        }
                    }
                    if (bias)
                        acc += bias[oc];
                    acc = mcu_requantize(acc, mcu_quant_mult(quant, oc),
                                         mcu_quant_shift(quant, oc));
                    *output++ = mcu_clamp_s8_value(acc + params->output_offset,
                                                   params->activation.min,
                                                   params->activation.max);
                    if (++go == group_o) { /* next group, without a division */
                        go = 0;
                        g0 += group_c;
                    }
                }
            }
        }
    }
    return MCU_OK;
}
