/*
 * mcu_depthwise_conv_s16 - optimized flavour (Cortex-M DSP extension).
 * 16x8 mode: per output pixel the taps inside the input are found once (no per-tap bounds
 * checks); with depth multiplier 1, four channels at a time: one filter word (SXTB16 and its
 * ROR #8 form give the pairs w0 w2 and w1 w3) and two input words per tap feed four
 * halfword multiply-accumulates (SMLABB / SMLATB / SMLABT / SMLATT) into four int32 sums.
 * Other channels (C % 4, or a depth multiplier above 1) run a scalar loop, also in int32.
 * int32 is exact here: a window sum has at most k_h * k_w products of magnitude at most
 * 128 * 32768 = 2^22, and filters of more than 511 taps (where 2^31 could be reached) go to
 * the reference kernel (mcu_depthwise_conv_s16_ref). The sum is then the reference's int64 sum;
 * the same int64 requantization follows. Cores without the DSP extension use the reference
 * kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/conv/mcu_depthwise_conv_s16.c"
#else
#include "mcu_nn.h"
/* The reference kernel under another name, for the calls this one hands over; out of line, so
 * the run's report sees it run (deploy.REF_HANDOVERS). */
__attribute__((noinline)) mcu_status mcu_depthwise_conv_s16_ref(
    const mcu_context *ctx, const mcu_dw_conv_params *params, const mcu_quant_params *quant,
    const mcu_dims *input_dims, const int16_t *input, const mcu_dims *filter_dims,
    const int8_t *filter, const int64_t *bias, const mcu_dims *output_dims, int16_t *output);
#define mcu_depthwise_conv_s16 mcu_depthwise_conv_s16_ref
#include "../../ref/conv/mcu_depthwise_conv_s16.c"
#undef mcu_depthwise_conv_s16
#include "../../common/mcu_nn_dsp.h"

#define MCU_DW16_MAX_TAPS 511 /* 511 * 2^22 < 2^31 */

/* [lo, hi): the filter indices whose input row / column (start + i * dil) is inside [0, n) */
static inline void mcu_dw16_range(int32_t start, int32_t dil, int32_t k, int32_t n, int32_t *lo,
                                  int32_t *hi)
{
    int32_t a, b;
    if (dil == 1) {
        a = start < 0 ? -start : 0;
        b = n - start;
    } else {
        a = start < 0 ? (-start + dil - 1) / dil : 0;
        b = n - start <= 0 ? 0 : (n - start - 1) / dil + 1;
    }
    if (b > k)
        b = k;
    *lo = a;
    *hi = b > a ? b : a;
}

static inline int16_t mcu_dw16_out(int32_t acc, const mcu_rq64 *r, int32_t offset, int32_t lo,
                                   int32_t hi)
{
    return mcu_clamp_s16_value(mcu_rq64_apply32(acc, r) + offset, lo, hi);
}

mcu_status mcu_depthwise_conv_s16(const mcu_context *ctx, const mcu_dw_conv_params *params,
                                  const mcu_quant_params *quant, const mcu_dims *input_dims,
                                  const int16_t *input, const mcu_dims *filter_dims,
                                  const int8_t *filter, const int64_t *bias,
                                  const mcu_dims *output_dims, int16_t *output)
{
    const mcu_status st = mcu_check_dw_s16(params, quant, input_dims, input, filter_dims, filter,
                                           output_dims, output);
    if (st != MCU_OK)
        return st;
    if (filter_dims->h * filter_dims->w > MCU_DW16_MAX_TAPS)
        return mcu_depthwise_conv_s16_ref(ctx, params, quant, input_dims, input, filter_dims,
                                          filter, bias, output_dims, output);
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_w = filter_dims->w, out_c = filter_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t mult = params->ch_mult, dil_h = params->dilation.h, dil_w = params->dilation.w;
    const int32_t vec_c = mult == 1 ? out_c & ~3 : 0; /* channels of the four-at-a-time loop */
    const int32_t x_step = dil_w * in_c, y_step = dil_h * in_w * in_c, w_row = k_w * out_c;
    const int32_t off = params->output_offset;
    const int32_t act_lo = params->activation.min, act_hi = params->activation.max;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int16_t *in_b = input + b * in_h * in_w * in_c;
        int16_t *out_b = output + b * out_h * out_w * out_c;
        /* channel c of output pixel (oy, ox) reads input channel c / mult */
        for (int32_t c = 0; c < out_c; c += c < vec_c ? 4 : 1) {
            const int vec = c < vec_c;
            mcu_rq64 rq[4]; /* read once per channel group: the constants may sit in flash */
            for (int32_t j = 0; j < (vec ? 4 : 1); ++j)
                rq[j] = mcu_rq64_of(mcu_quant_mult(quant, c + j), mcu_quant_shift(quant, c + j),
                                    bias ? bias[c + j] : 0);
            int16_t *out = out_b + c;
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const int32_t y0 = oy * params->stride.h - params->padding.h;
                int32_t ky_lo, ky_hi;
                mcu_dw16_range(y0, dil_h, filter_dims->h, in_h, &ky_lo, &ky_hi);
                for (int32_t ox = 0; ox < out_w; ++ox, out += out_c) {
                    const int32_t x0 = ox * params->stride.w - params->padding.w;
                    int32_t kx_lo, kx_hi;
                    mcu_dw16_range(x0, dil_w, k_w, in_w, &kx_lo, &kx_hi);
                    const int32_t n_kx = kx_hi - kx_lo;
                    /* the first tap inside the input */
                    const int16_t *xr = in_b + ((y0 + ky_lo * dil_h) * in_w + x0 + kx_lo * dil_w) *
                                                   in_c + c / mult;
                    const int8_t *wr = filter + (ky_lo * k_w + kx_lo) * out_c + c;
                    if (vec) {
                        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                        for (int32_t ky = ky_lo; ky < ky_hi; ++ky, xr += y_step, wr += w_row) {
                            const int16_t *xp = xr;
                            const int8_t *wp = wr;
                            for (int32_t i = 0; i < n_kx; ++i, xp += x_step, wp += out_c) {
                                const int32_t wv = mcu_read_s8x4(wp);
                                const int32_t x01 = mcu_read_s16x2(xp), x23 = mcu_read_s16x2(xp + 2);
                                const int32_t w02 = __sxtb16(wv), w13 = mcu_sxtb16_ror8(wv);
                                a0 = __smlabb(x01, w02, a0);
                                a1 = __smlatb(x01, w13, a1);
                                a2 = __smlabt(x23, w02, a2);
                                a3 = __smlatt(x23, w13, a3);
                            }
                        }
                        out[0] = mcu_dw16_out(a0, &rq[0], off, act_lo, act_hi);
                        out[1] = mcu_dw16_out(a1, &rq[1], off, act_lo, act_hi);
                        out[2] = mcu_dw16_out(a2, &rq[2], off, act_lo, act_hi);
                        out[3] = mcu_dw16_out(a3, &rq[3], off, act_lo, act_hi);
                    } else {
                        int32_t acc = 0;
                        for (int32_t ky = ky_lo; ky < ky_hi; ++ky, xr += y_step, wr += w_row)
                            for (int32_t i = 0; i < n_kx; ++i)
                                acc += (int32_t)wr[i * out_c] * xr[i * x_step];
                        out[0] = mcu_dw16_out(acc, &rq[0], off, act_lo, act_hi);
                    }
                }
            }
        }
    }
    return MCU_OK;
}
#endif
