/*
 * mcu_transpose_conv_s8 - reference flavour (portable C).
 * TFLM reference_integer_ops::TransposeConv computes every input pixel times every filter tap
 * into an int32 buffer of the output's size. Here each output value gathers the products that
 * land on it instead: output row oy receives input row iy through tap ky when
 * iy * stride - pad + ky == oy, i.e. ky = oy + pad - iy * stride in [0, KH). The same integer
 * sums (int32 addition is exact and order-free while nothing overflows), no buffer.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

int32_t mcu_transpose_conv_s8_get_buffer_size(const mcu_transpose_conv_params *params,
                                              const mcu_dims *input_dims,
                                              const mcu_dims *filter_dims,
                                              const mcu_dims *output_dims)
{
    (void)params;
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

mcu_status mcu_transpose_conv_s8(const mcu_context *ctx, const mcu_transpose_conv_params *params,
                                 const mcu_quant_params *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_transpose_conv(params, quant, input_dims, input, filter_dims,
                                                   filter, output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, out_c = filter_dims->n;
    const int32_t s_h = params->stride.h, s_w = params->stride.w;
    const int32_t in_off = params->input_offset;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy + params->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox + params->padding.w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int8_t *w = filter + oc * k_h * k_w * in_c;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t dy = y0 - ky;
                        if (dy < 0 || dy % s_h != 0 || dy / s_h >= in_h)
                            continue;
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t dx = x0 - kx;
                            if (dx < 0 || dx % s_w != 0 || dx / s_w >= in_w)
                                continue;
                            const int8_t *px = in_b + ((dy / s_h) * in_w + dx / s_w) * in_c;
                            const int8_t *wk = w + (ky * k_w + kx) * in_c;
                            for (int32_t ic = 0; ic < in_c; ++ic)
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
                }
            }
        }
    }
    return MCU_OK;
}
