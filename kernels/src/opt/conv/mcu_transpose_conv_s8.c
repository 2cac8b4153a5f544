/*
 * mcu_transpose_conv_s8 - optimized flavour (Cortex-M DSP extension).
 * Split by stride phase: output row oy receives filter rows ky = ry + j*stride (ry =
 * (oy + pad) mod stride) from input rows iy = (oy + pad) / stride - j, so all outputs of one
 * phase (ry, rx) are an ordinary correlation of the input with that phase's taps. Per phase, the
 * taps of every output channel are copied once into the scratch as one row of D = taps * C
 * int8 (padded with zeros to a multiple of 4); per output pixel of the phase, the input values
 * its taps read are widened once to int16 with the input offset added (0 where a tap falls
 * outside the input: its products are dropped, as in TFLM's scatter) in the order SMLAD
 * against SXTB16-extended weights wants (x0, x2, x1, x3 per group of 4); then two output
 * channels per pass share each pair of column loads: per 4 values two column words, two
 * weight words, four SXTB16 and four SMLAD. Bias, requantization (mcu_requantize_fast) and
 * the clamp per value. Scratch: one phase's rows (O * D4 bytes) and the column (2 * D4).
 * Without the DSP extension (Cortex-M0+/M3) this file is the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/conv/mcu_transpose_conv_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

/* Taps of a phase along one axis: filter positions r, r + s, ... below k. */
static inline int32_t mcu_tc_taps(int32_t r, int32_t k, int32_t s)
{
    return r < k ? (k - r + s - 1) / s : 0;
}

/* The longest phase row (phase 0 has the most taps), padded to 4. */
static int32_t mcu_tc_depth4(const mcu_transpose_conv_params *p, const mcu_dims *f)
{
    const int32_t d = mcu_tc_taps(0, f->h, p->stride.h) * mcu_tc_taps(0, f->w, p->stride.w) * f->c;
    return (d + 3) & ~3;
}

int32_t mcu_transpose_conv_s8_get_buffer_size(const mcu_transpose_conv_params *params,
                                              const mcu_dims *input_dims,
                                              const mcu_dims *filter_dims,
                                              const mcu_dims *output_dims)
{
    (void)input_dims;
    (void)output_dims;
    if (!params || !mcu_dims_valid(filter_dims) || params->stride.h < 1 || params->stride.w < 1)
        return 0;
    const int32_t d4 = mcu_tc_depth4(params, filter_dims);
    return filter_dims->n * d4 + 2 * d4;
}

/* Two rows w0, w1 of n4 (a multiple of 4) weights against the column x. */
static inline void mcu_tc_dot2(const int8_t *w0, const int8_t *w1, const int16_t *x, int32_t n4,
                               int32_t *s0, int32_t *s1)
{
    int32_t a0 = *s0, a1 = *s1;
    for (int32_t k = n4 >> 2; k > 0; --k) {
        const int32_t x02 = mcu_read_s16x2(x), x13 = mcu_read_s16x2(x + 2);
        const int32_t a = mcu_read_s8x4(w0), b = mcu_read_s8x4(w1);
        x += 4;
        w0 += 4;
        w1 += 4;
        a0 = __smlad(__sxtb16(a), x02, a0);
        a0 = __smlad(mcu_sxtb16_ror8(a), x13, a0);
        a1 = __smlad(__sxtb16(b), x02, a1);
        a1 = __smlad(mcu_sxtb16_ror8(b), x13, a1);
    }
    *s0 = a0;
    *s1 = a1;
}

static inline int32_t mcu_tc_dot1(const int8_t *w, const int16_t *x, int32_t n4, int32_t s)
{
    for (int32_t k = n4 >> 2; k > 0; --k) {
        const int32_t x02 = mcu_read_s16x2(x), x13 = mcu_read_s16x2(x + 2);
        const int32_t a = mcu_read_s8x4(w);
        x += 4;
        w += 4;
        s = __smlad(__sxtb16(a), x02, s);
        s = __smlad(mcu_sxtb16_ror8(a), x13, s);
    }
    return s;
}

mcu_status mcu_transpose_conv_s8(const mcu_context *ctx, const mcu_transpose_conv_params *params,
                                 const mcu_quant_params *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output)
{
    mcu_status st = mcu_check_transpose_conv(params, quant, input_dims, input, filter_dims,
                                             filter, output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t d4max = mcu_tc_depth4(params, filter_dims);
    void *scratch;
    st = mcu_scratch(ctx, filter_dims->n * d4max + 2 * d4max, &scratch);
    if (st != MCU_OK)
        return st;
    int8_t *rows = (int8_t *)scratch;
    int16_t *col = (int16_t *)(rows + filter_dims->n * d4max);
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, out_c = filter_dims->n;
    const int32_t s_h = params->stride.h, s_w = params->stride.w;
    const int32_t p_h = params->padding.h, p_w = params->padding.w;
    const int32_t o_h = output_dims->h, o_w = output_dims->w;
    const int32_t in_off = params->input_offset, out_off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t off2 = mcu_dup16(in_off);
    const int words = (c & 3) == 0; /* segments of whole groups of 4: widened by word */

    for (int32_t ry = 0; ry < s_h; ++ry) {
        const int32_t ny = mcu_tc_taps(ry, k_h, s_h);
        for (int32_t rx = 0; rx < s_w; ++rx) {
            const int32_t nx = mcu_tc_taps(rx, k_w, s_w);
            const int32_t d = ny * nx * c, d4 = (d + 3) & ~3;
            /* this phase's taps of every output channel, rows of d4 */
            for (int32_t oc = 0; oc < out_c; ++oc) {
                int8_t *row = rows + oc * d4;
                for (int32_t j = 0; j < ny; ++j)
                    for (int32_t i = 0; i < nx; ++i, row += c) {
                        const int8_t *w = filter + ((oc * k_h + ry + j * s_h) * k_w + rx + i * s_w) * c;
                        for (int32_t ic = 0; ic < c; ++ic)
                            row[ic] = w[ic];
                    }
                for (int32_t t = d; t < d4; ++t)
                    *row++ = 0;
            }
            for (int32_t t = d; t < d4; ++t)
                col[t] = 0;
            /* the first output row and column of this phase */
            const int32_t oy0 = ((ry - p_h) % s_h + s_h) % s_h;
            const int32_t ox0 = ((rx - p_w) % s_w + s_w) % s_w;
            for (int32_t b = 0; b < output_dims->n; ++b) {
                const int8_t *in_b = input + b * in_h * in_w * c;
                int8_t *out_b = output + b * o_h * o_w * out_c;
                for (int32_t oy = oy0; oy < o_h; oy += s_h) {
                    const int32_t qy = (oy + p_h) / s_h;
                    for (int32_t ox = ox0; ox < o_w; ox += s_w) {
                        const int32_t qx = (ox + p_w) / s_w;
                        /* the column: input values of every tap, offset added, reordered */
                        int32_t t = 0;
                        for (int32_t j = 0; j < ny; ++j) {
                            const int32_t iy = qy - j;
                            for (int32_t i = 0; i < nx; ++i) {
                                const int32_t ix = qx - i;
                                const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                                const int8_t *px = in_b + (iy * in_w + ix) * c;
                                if (words) {
                                    if (inside)
                                        mcu_s8_to_s16_reordered(px, col + t, c, off2, 4);
                                    else
                                        for (int32_t ic = 0; ic < c; ++ic)
                                            col[t + ic] = 0;
                                    t += c;
                                    continue;
                                }
                                for (int32_t ic = 0; ic < c; ++ic, ++t) {
                                    /* (t & ~3) + {0, 2, 1, 3}[t & 3] */
                                    const int32_t at = (t & ~3) | ((t & 1) << 1) | ((t >> 1) & 1);
                                    col[at] = (int16_t)(inside ? px[ic] + in_off : 0);
                                }
                            }
                        }
                        int8_t *out = out_b + (oy * o_w + ox) * out_c;
                        int32_t oc = 0;
                        for (; oc + 1 < out_c; oc += 2) {
                            int32_t s0 = bias ? bias[oc] : 0, s1 = bias ? bias[oc + 1] : 0;
                            mcu_tc_dot2(rows + oc * d4, rows + (oc + 1) * d4, col, d4, &s0, &s1);
                            out[oc] = mcu_output_s8(s0, mcu_quant_mult(quant, oc),
                                                    mcu_quant_shift(quant, oc), out_off, lo, hi);
                            out[oc + 1] = mcu_output_s8(s1, mcu_quant_mult(quant, oc + 1),
                                                        mcu_quant_shift(quant, oc + 1), out_off,
                                                        lo, hi);
                        }
                        if (oc < out_c) {
                            const int32_t s0 = mcu_tc_dot1(rows + oc * d4, col, d4,
                                                           bias ? bias[oc] : 0);
                            out[oc] = mcu_output_s8(s0, mcu_quant_mult(quant, oc),
                                                    mcu_quant_shift(quant, oc), out_off, lo, hi);
                        }
                    }
                }
            }
        }
    }
    return MCU_OK;
}
#endif
