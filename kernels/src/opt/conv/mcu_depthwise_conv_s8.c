/*
 * mcu_depthwise_conv_s8 - optimized flavour (Cortex-M DSP extension).
 * Depth multiplier 1 (the usual case): four channels per pass. For each in-bounds tap, one
 * 32-bit load of 4 inputs is extended with the offset added (SXTAB16, plain and ROR #8), one
 * load of 4 weights is extended (SXTB16), and SMLABB/SMLATT accumulate the four channels
 * (one channel per product: depthwise has no pairs of taps sharing an output in a register).
 * The in-bounds tap range is computed once per output pixel, so the tap loop has no branch.
 * Depth multiplier > 1, and cores without the DSP extension, use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/conv/mcu_depthwise_conv_s8.c"
#else
#define mcu_depthwise_conv_s8 mcu_depthwise_conv_s8_ref
#define mcu_depthwise_conv_s8_get_buffer_size mcu_depthwise_conv_s8_ref_get_buffer_size
#include "../../ref/conv/mcu_depthwise_conv_s8.c"
#undef mcu_depthwise_conv_s8
#undef mcu_depthwise_conv_s8_get_buffer_size
#include "../../common/mcu_nn_dsp.h"

int32_t mcu_depthwise_conv_s8_get_buffer_size(const mcu_dims *input_dims,
                                              const mcu_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

/* Taps ky in [*k0, *k1) land inside [0, size) from origin o with dilation d. */
static inline void mcu_dw_tap_range(int32_t o, int32_t d, int32_t taps, int32_t size,
                                    int32_t *k0, int32_t *k1)
{
    int32_t a = 0, b = taps;
    while (a < taps && o + a * d < 0)
        ++a;
    while (b > a && o + (b - 1) * d >= size)
        --b;
    *k0 = a;
    *k1 = b;
}

mcu_status mcu_depthwise_conv_s8(const mcu_context *ctx, const mcu_dw_conv_params *params,
                                 const mcu_quant_params *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output)
{
    const mcu_status st = mcu_check_dw(params, quant, input_dims, input, filter_dims, filter,
                                       output_dims, output);
    if (st != MCU_OK)
        return st;
    if (params->ch_mult != 1)
        return mcu_depthwise_conv_s8_ref(ctx, params, quant, input_dims, input, filter_dims,
                                         filter, bias, output_dims, output);
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t k_w = filter_dims->w, ch4 = ch & ~3;
    const int32_t off2 = mcu_dup16(params->input_offset);
    const int32_t row = in_w * ch, tap_y = params->dilation.h * row;
    const int32_t tap_x = params->dilation.w * ch, wrow = k_w * ch;
    const int32_t *mult = quant->multiplier, *shift = quant->shift;
    const int32_t per_ch = quant->per_channel ? 1 : 0, out_off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t in_off = params->input_offset;
#define MCU_DW_OUT(c, acc) \
    mcu_output_s8((acc), mult[(c) * per_ch], shift[(c) * per_ch], out_off, lo, hi)

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_b = input + b * in_h * row;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            int32_t ky0, ky1;
            mcu_dw_tap_range(y0, params->dilation.h, filter_dims->h, in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < output_dims->w; ++ox, output += ch) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                int32_t kx0, kx1;
                mcu_dw_tap_range(x0, params->dilation.w, k_w, in_w, &kx0, &kx1);
                const int8_t *in0 = in_b + (y0 + ky0 * params->dilation.h) * row +
                                    (x0 + kx0 * params->dilation.w) * ch;
                const int8_t *w0 = filter + ky0 * wrow + kx0 * ch;
                const int32_t nky = ky1 - ky0, nkx = kx1 - kx0;
                int32_t c = 0;
                for (; c < ch4; c += 4) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    if (bias) {
                        a0 = bias[c];
                        a1 = bias[c + 1];
                        a2 = bias[c + 2];
                        a3 = bias[c + 3];
                    }
                    const int8_t *in_y = in0 + c, *w_y = w0 + c;
                    for (int32_t i = 0; i < nky; ++i, in_y += tap_y, w_y += wrow) {
                        const int8_t *ip = in_y, *wp = w_y;
                        for (int32_t j = 0; j < nkx; ++j, ip += tap_x, wp += ch) {
                            const int32_t x = mcu_read_s8x4(ip), w = mcu_read_s8x4(wp);
                            const int32_t x02 = __sxtab16(off2, x);
                            const int32_t x13 = mcu_sxtab16_ror8(off2, x);
                            const int32_t w02 = __sxtb16(w), w13 = mcu_sxtb16_ror8(w);
                            a0 = __smlabb(w02, x02, a0);
                            a2 = __smlatt(w02, x02, a2);
                            a1 = __smlabb(w13, x13, a1);
                            a3 = __smlatt(w13, x13, a3);
                        }
                    }
                    output[c] = MCU_DW_OUT(c, a0);
                    output[c + 1] = MCU_DW_OUT(c + 1, a1);
                    output[c + 2] = MCU_DW_OUT(c + 2, a2);
                    output[c + 3] = MCU_DW_OUT(c + 3, a3);
                }
                for (; c < ch; ++c) {
                    int32_t acc = bias ? bias[c] : 0;
                    const int8_t *in_y = in0 + c, *w_y = w0 + c;
                    for (int32_t i = 0; i < nky; ++i, in_y += tap_y, w_y += wrow)
                        for (int32_t j = 0; j < nkx; ++j)
                            acc += w_y[j * ch] * (in_y[j * tap_x] + in_off);
                    output[c] = MCU_DW_OUT(c, acc);
                }
            }
        }
    }
#undef MCU_DW_OUT
    return MCU_OK;
}
#endif
