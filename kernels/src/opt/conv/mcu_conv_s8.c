/*
 * mcu_conv_s8 - optimized flavour (Cortex-M DSP extension).
 * im2col + matrix product: the windows of two output pixels are gathered into two int16
 * columns (input offset added, padding taps 0, each group of 4 reordered for SXTB16; the two
 * columns interleaved group by group so one pointer walks both), then
 * every pair of output channels is computed against both columns at once: per 4 taps, two
 * 32-bit weight loads, four SXTB16 and eight SMLAD (2x2 register blocking, each extended
 * weight used twice, each column word used twice).
 * Scratch: 2 columns x K int16 (+ K bytes of int8 staging when C is not a multiple of 4).
 * Grouped convolution, and cores without the DSP extension, use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/conv/mcu_conv_s8.c"
#else
#define mcu_conv_s8 mcu_conv_s8_ref
#define mcu_conv_s8_get_buffer_size mcu_conv_s8_ref_get_buffer_size
#include "../../ref/conv/mcu_conv_s8.c"
#undef mcu_conv_s8
#undef mcu_conv_s8_get_buffer_size
#include "../../common/mcu_nn_dsp.h"

static int32_t mcu_conv_col_len(const mcu_dims *f)
{
    return (f->h * f->w * f->c + 3) & ~3; /* int16 entries per column, 4-aligned */
}

int32_t mcu_conv_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    if (filter_dims->c != input_dims->c)
        return 0; /* grouped: reference kernel, no scratch */
    const int32_t col = mcu_conv_col_len(filter_dims);
    return 2 * col * (int32_t)sizeof(int16_t) + ((input_dims->c & 3) ? col : 0);
}

/* Two output channels (weight rows w, w + k) against the two interleaved columns c:
 * acc = {ch0 px0, ch0 px1, ch1 px0, ch1 px1}. Group g of pixel j is at c[8g + 4j]. */
__attribute__((noinline, optimize("no-schedule-insns"))) static void mcu_conv_2x2(const int8_t *w, int32_t k, const int16_t *c,
                                                   int32_t *acc)
{
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
/* One group of 4 taps: two weight words, four column words, 4 SXTB16, 8 SMLAD, written in
 * an order that keeps at most 12 values live (4 accumulators, 3 pointers, 5 operands). */
#define MCU_CONV_GROUP()                                                                      \
    do {                                                                                      \
        int32_t wv = mcu_read_s8x4(w);                                                        \
        int32_t x0 = mcu_read_s16x2(c), x1 = mcu_read_s16x2(c + 4);                           \
        int32_t we = __sxtb16(wv);                                                            \
        s00 = __smlad(we, x0, s00);                                                           \
        s01 = __smlad(we, x1, s01);                                                           \
        const int32_t y0 = mcu_read_s16x2(c + 2), y1 = mcu_read_s16x2(c + 6);                 \
        we = mcu_sxtb16_ror8(wv);                                                             \
        s00 = __smlad(we, y0, s00);                                                           \
        s01 = __smlad(we, y1, s01);                                                           \
        wv = mcu_read_s8x4(w + k);                                                            \
        w += 4;                                                                               \
        c += 8;                                                                               \
        we = __sxtb16(wv);                                                                    \
        s10 = __smlad(we, x0, s10);                                                           \
        s11 = __smlad(we, x1, s11);                                                           \
        we = mcu_sxtb16_ror8(wv);                                                             \
        s10 = __smlad(we, y0, s10);                                                           \
        s11 = __smlad(we, y1, s11);                                                           \
    } while (0)
    int32_t n = k >> 3; /* two groups per iteration: the loop overhead is paid once per 32 MACs */
    while (n--) {
        MCU_CONV_GROUP();
        MCU_CONV_GROUP();
    }
    if (k & 4)
        MCU_CONV_GROUP();
#undef MCU_CONV_GROUP
    for (int32_t i = 0; i < (k & 3); ++i) {
        s00 += w[i] * c[i];
        s01 += w[i] * c[4 + i];
        s10 += w[k + i] * c[i];
        s11 += w[k + i] * c[4 + i];
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
}

/* One output channel against one (interleaved) column. */
static int32_t mcu_conv_1x1(const int8_t *w, int32_t k, const int16_t *c, int32_t s)
{
    for (int32_t i = 0; i < (k >> 2); ++i, w += 4, c += 8) {
        const int32_t a = mcu_read_s8x4(w);
        s = __smlad(__sxtb16(a), mcu_read_s16x2(c), s);
        s = __smlad(mcu_sxtb16_ror8(a), mcu_read_s16x2(c + 2), s);
    }
    for (int32_t i = 0; i < (k & 3); ++i)
        s += w[i] * c[i];
    return s;
}

/* Gathers the window of output pixel (oy, ox) into column j of the interleaved pair. */
static void mcu_conv_im2col(const mcu_conv_params *p, const mcu_dims *in_d, const int8_t *in_b,
                            const mcu_dims *f_d, int32_t oy, int32_t ox, int16_t *cols,
                            int32_t j, int8_t *stage)
{
    const int32_t ch = in_d->c, k = f_d->h * f_d->w * ch, off2 = mcu_dup16(p->input_offset);
    const int32_t y0 = oy * p->stride.h - p->padding.h, x0 = ox * p->stride.w - p->padding.w;
    int16_t *col = cols + 4 * j;
    int32_t pos = 0;
    for (int32_t ky = 0; ky < f_d->h; ++ky) {
        const int32_t y = y0 + ky * p->dilation.h;
        for (int32_t kx = 0; kx < f_d->w; ++kx, pos += ch) {
            const int32_t x = x0 + kx * p->dilation.w;
            const int inside = y >= 0 && y < in_d->h && x >= 0 && x < in_d->w;
            const int8_t *src = in_b + (y * in_d->w + x) * ch;
            if (stage) { /* C % 4 != 0: stage int8, padding = zero point (becomes 0) */
                for (int32_t i = 0; i < ch; ++i)
                    stage[pos + i] = inside ? src[i] : (int8_t)(-p->input_offset);
            } else if (inside) {
                mcu_s8_to_s16_reordered(src, col + 2 * pos, ch, off2, 8);
            } else {
                for (int32_t g = 0; g < ch; g += 4)
                    memset(col + 2 * (pos + g), 0, 4 * sizeof(int16_t));
            }
        }
    }
    if (stage) {
        mcu_s8_to_s16_reordered(stage, col, k & ~3, off2, 8);
        for (int32_t i = k & ~3; i < k; ++i)
            col[(k & ~3) + i] = (int16_t)(stage[i] + p->input_offset);
    }
}

mcu_status mcu_conv_s8(const mcu_context *ctx, const mcu_conv_params *params,
                       const mcu_quant_params *quant, const mcu_dims *input_dims,
                       const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                       const int32_t *bias, const mcu_dims *output_dims, int8_t *output)
{
    mcu_status st = mcu_check_conv(params, quant, input_dims, input, filter_dims, filter,
                                   output_dims, output);
    if (st != MCU_OK)
        return st;
    if (filter_dims->c != input_dims->c)
        return mcu_conv_s8_ref(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                               output_dims, output);
    void *scratch;
    st = mcu_scratch(ctx, mcu_conv_s8_get_buffer_size(input_dims, filter_dims), &scratch);
    if (st != MCU_OK)
        return st;
    const int32_t col = mcu_conv_col_len(filter_dims);
    const int32_t k = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t out_c = filter_dims->n, pixels = output_dims->h * output_dims->w;
    int16_t *cols = (int16_t *)scratch;
    int8_t *stage = (input_dims->c & 3) ? (int8_t *)(cols + 2 * col) : 0;
    const int32_t *mult = quant->multiplier, *shift = quant->shift;
    const int32_t per_ch = quant->per_channel ? 1 : 0, out_off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + b * input_dims->h * input_dims->w * input_dims->c;
        int32_t oy = 0, ox = 0;
        for (int32_t px = 0; px < pixels; px += 2) {
            const int two = px + 1 < pixels;
            for (int32_t j = 0; j < 1 + two; ++j) {
                mcu_conv_im2col(params, input_dims, in_b, filter_dims, oy, ox, cols, j, stage);
                if (++ox == output_dims->w) {
                    ox = 0;
                    ++oy;
                }
            }
            int8_t *out0 = output + (b * pixels + px) * out_c, *out1 = out0 + out_c;
            const int8_t *w = filter;
            int32_t oc = 0;
            for (; two && oc + 1 < out_c; oc += 2, w += 2 * k) {
                int32_t acc[4];
                acc[0] = acc[1] = bias ? bias[oc] : 0;
                acc[2] = acc[3] = bias ? bias[oc + 1] : 0;
                mcu_conv_2x2(w, k, cols, acc);
                const int32_t m0 = mult[oc * per_ch], s0 = shift[oc * per_ch];
                const int32_t m1 = mult[(oc + 1) * per_ch], s1 = shift[(oc + 1) * per_ch];
                out0[oc] = mcu_output_s8(acc[0], m0, s0, out_off, lo, hi);
                out1[oc] = mcu_output_s8(acc[1], m0, s0, out_off, lo, hi);
                out0[oc + 1] = mcu_output_s8(acc[2], m1, s1, out_off, lo, hi);
                out1[oc + 1] = mcu_output_s8(acc[3], m1, s1, out_off, lo, hi);
            }
            for (; oc < out_c; ++oc, w += k) {
                const int32_t b0 = bias ? bias[oc] : 0;
                const int32_t m0 = mult[oc * per_ch], s0 = shift[oc * per_ch];
                out0[oc] = mcu_output_s8(mcu_conv_1x1(w, k, cols, b0), m0, s0, out_off, lo, hi);
                if (two)
                    out1[oc] = mcu_output_s8(mcu_conv_1x1(w, k, cols + 4, b0), m0, s0, out_off,
                                             lo, hi);
            }
        }
    }
    return MCU_OK;
}
#endif
