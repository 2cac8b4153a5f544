/*
 * mcu_conv_s16 - optimized flavour (Cortex-M DSP extension).
 * 16x8 mode as im2col + matrix multiply: two output pixels at a time, each window copied into
 * an int16 column in scratch (zeros where a tap falls outside the input), its entries stored
 * in groups of four as x0 x2 x1 x3, so that one word load gives the pair that SXTB16 pulls
 * out of a filter word (w0 w2), the next the pair of its ROR #8 form (w1 w3). Two output
 * channels times the two columns run together: each filter word and each column word is
 * loaded once for two SMLADs. SMLAD sums in int32, exact while a partial sum cannot overflow:
 * each product is at most 128 * 32768 = 2^22 in magnitude, so blocks of at most
 * MCU_S16_BLOCK (< 512) products are summed in int32 and merged into int64, giving the
 * reference's int64 window sum exactly; the same int64 requantization follows.
 * Grouped convolutions go to the reference kernel (mcu_conv_s16_ref). Cores without the DSP
 * extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/conv/mcu_conv_s16.c"
#else
#include "mcu_nn.h"
/* The reference kernel under another name, for the calls this one hands over; out of line, so
 * the run's report sees it run (deploy.REF_HANDOVERS). */
__attribute__((noinline)) mcu_status mcu_conv_s16_ref(
    const mcu_context *ctx, const mcu_conv_params *params, const mcu_quant_params *quant,
    const mcu_dims *input_dims, const int16_t *input, const mcu_dims *filter_dims,
    const int8_t *filter, const int64_t *bias, const mcu_dims *output_dims, int16_t *output);
#define mcu_conv_s16 mcu_conv_s16_ref
#define mcu_conv_s16_get_buffer_size mcu_conv_s16_ref_get_buffer_size
#include "../../ref/conv/mcu_conv_s16.c"
#undef mcu_conv_s16
#undef mcu_conv_s16_get_buffer_size
#include "../../common/mcu_nn_dsp.h"

/* products per int32 partial sum: a multiple of 4 below 512 (511 * 2^22 < 2^31) */
#define MCU_S16_BLOCK 508

static inline int32_t mcu_conv_s16_col_len(const mcu_dims *f)
{
    return (f->h * f->w * f->c + 3) & ~3; /* int16 entries per column, word-aligned columns */
}

int32_t mcu_conv_s16_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    if (filter_dims->c != input_dims->c)
        return 0; /* grouped: reference kernel, no scratch */
    return 2 * mcu_conv_s16_col_len(filter_dims) * (int32_t)sizeof(int16_t);
}

/* n int16 from src to dst, each group of four stored as x0 x2 x1 x3 (n a multiple of 4) */
static void mcu_s16_copy_swizzled(int16_t *dst, const int16_t *src, int32_t n)
{
    for (int32_t i = 0; i < n; i += 4) {
        const int32_t a = mcu_read_s16x2(src + i), b = mcu_read_s16x2(src + i + 2);
        mcu_write_s16x2(dst + i, (int32_t)(((uint32_t)a & 0xFFFFu) | ((uint32_t)b << 16)));
        mcu_write_s16x2(dst + i + 2, (int32_t)(((uint32_t)b & 0xFFFF0000u) | ((uint32_t)a >> 16)));
    }
}

/* n int16 from src to dst in order (word moves: the pointers may be 2-byte aligned only) */
static void mcu_s16_copy(int16_t *dst, const int16_t *src, int32_t n)
{
    int32_t i = 0;
    for (; i + 2 <= n; i += 2)
        mcu_write_s16x2(dst + i, mcu_read_s16x2(src + i));
    if (i < n)
        dst[i] = src[i];
}

/* Geometry of one call, read once (the loops below store through int16 pointers and call
 * memset, after which the compiler would reload it from the parameter structs). */
typedef struct {
    int32_t in_h, in_w, c, k_h, k_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
    int32_t run, len; /* entries per window row; column length (a multiple of 4) */
} mcu_s16_geo;

/* The windows of output pixels px .. px + n - 1 (n = 1 or 2; row-major over out_w) into the
 * columns col, col + g->len, ...: the k window entries, then zeros up to g->len, every group of
 * four swizzled. A window row inside the input (dilation 1 across) is one contiguous run of the
 * input. */
static void mcu_s16_im2col(int16_t *col, int32_t n, const int16_t *in, const mcu_s16_geo *geo,
                           int32_t out_w, int32_t px)
{
    const mcu_s16_geo g = *geo;
    const int direct = (g.c & 3) == 0; /* tap runs are whole groups of four: swizzle as copied */
    int32_t oy = px / out_w, ox = px - oy * out_w;
    for (int32_t j = 0; j < n; ++j, col += g.len) {
        if (j > 0 && ++ox == out_w) {
            ox = 0;
            ++oy;
        }
        const int32_t y0 = oy * g.stride_h - g.pad_h, x0 = ox * g.stride_w - g.pad_w;
        const int whole_row = g.dil_w == 1 && x0 >= 0 && x0 + g.k_w <= g.in_w;
        if (!direct) { /* the last group's padding (the window's last entries overwrite the rest) */
            mcu_write_s16x2(col + g.len - 4, 0);
            mcu_write_s16x2(col + g.len - 2, 0);
        }
        int16_t *dst = col;
        for (int32_t ky = 0, y = y0; ky < g.k_h; ++ky, y += g.dil_h, dst += g.run) {
            if (y < 0 || y >= g.in_h) {
                memset(dst, 0, (size_t)g.run * sizeof(int16_t));
                continue;
            }
            const int16_t *row = in + y * g.in_w * g.c;
            if (whole_row) {
                if (direct)
                    mcu_s16_copy_swizzled(dst, row + x0 * g.c, g.run);
                else
                    mcu_s16_copy(dst, row + x0 * g.c, g.run);
                continue;
            }
            int16_t *d = dst;
            for (int32_t kx = 0, x = x0; kx < g.k_w; ++kx, x += g.dil_w, d += g.c) {
                if (x < 0 || x >= g.in_w)
                    memset(d, 0, (size_t)g.c * sizeof(int16_t));
                else if (direct)
                    mcu_s16_copy_swizzled(d, row + x * g.c, g.c);
                else
                    mcu_s16_copy(d, row + x * g.c, g.c);
            }
        }
        if (!direct)
            mcu_s16_copy_swizzled(col, col, g.len); /* in place: each group read before written */
    }
}

/* The n (1 to 3) filter bytes at w as one word, zeros above (the column is zero there). With
 * at least 4 - n bytes of the same row before w (back), one word load ending at w + n, shifted
 * down; else byte by byte. */
static inline int32_t mcu_s16_tail_word(const int8_t *w, int32_t n, int back)
{
    if (back)
        return (int32_t)((uint32_t)mcu_read_s8x4(w + n - 4) >> (8 * (4 - n)));
    uint32_t v = 0;
    for (int32_t j = 0; j < n; ++j)
        v |= (uint32_t)(uint8_t)w[j] << (8 * j);
    return (int32_t)v;
}

/* a[r * 2 + j] = int32 dot product of filter row r (w0, w1) with column j (c0, c1) over n
 * entries (a multiple of 4) and then tail (< 4) more, the column zero-padded to the group of
 * four. n + tail must stay below 512. */
static inline void mcu_s16_mm_2x2(const int8_t *w0, const int8_t *w1, const int16_t *c0,
                                  const int16_t *c1, int32_t n, int32_t tail, int32_t a[4])
{
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
    for (const int8_t *end = w0 + n; w0 < end; w0 += 4, w1 += 4, c0 += 4, c1 += 4) {
        const int32_t wa = mcu_read_s8x4(w0), wb = mcu_read_s8x4(w1);
        const int32_t x0 = mcu_read_s16x2(c0), x1 = mcu_read_s16x2(c0 + 2);
        const int32_t y0 = mcu_read_s16x2(c1), y1 = mcu_read_s16x2(c1 + 2);
        const int32_t wa02 = __sxtb16(wa), wa13 = mcu_sxtb16_ror8(wa);
        const int32_t wb02 = __sxtb16(wb), wb13 = mcu_sxtb16_ror8(wb);
        a00 = __smlad(x0, wa02, a00);
        a01 = __smlad(y0, wa02, a01);
        a10 = __smlad(x0, wb02, a10);
        a11 = __smlad(y0, wb02, a11);
        a00 = __smlad(x1, wa13, a00);
        a01 = __smlad(y1, wa13, a01);
        a10 = __smlad(x1, wb13, a10);
        a11 = __smlad(y1, wb13, a11);
    }
    if (tail) {
        const int32_t wa = mcu_s16_tail_word(w0, tail, n > 0),
                      wb = mcu_s16_tail_word(w1, tail, n > 0);
        const int32_t x0 = mcu_read_s16x2(c0), x1 = mcu_read_s16x2(c0 + 2);
        const int32_t y0 = mcu_read_s16x2(c1), y1 = mcu_read_s16x2(c1 + 2);
        const int32_t wa02 = __sxtb16(wa), wa13 = mcu_sxtb16_ror8(wa);
        const int32_t wb02 = __sxtb16(wb), wb13 = mcu_sxtb16_ror8(wb);
        a00 = __smlad(x1, wa13, __smlad(x0, wa02, a00));
        a01 = __smlad(y1, wa13, __smlad(y0, wa02, a01));
        a10 = __smlad(x1, wb13, __smlad(x0, wb02, a10));
        a11 = __smlad(y1, wb13, __smlad(y0, wb02, a11));
    }
    a[0] = a00;
    a[1] = a01;
    a[2] = a10;
    a[3] = a11;
}

/* The exact int64 sums of mcu_s16_mm_2x2 for any k: int32 blocks merged in int64. */
static void mcu_s16_mm_2x2_long(const int8_t *w0, const int8_t *w1, const int16_t *c0,
                                const int16_t *c1, int32_t k, int64_t acc[4])
{
    int32_t a[4];
    acc[0] = acc[1] = acc[2] = acc[3] = 0;
    for (int32_t i = 0; i < k; i += MCU_S16_BLOCK) {
        const int32_t left = k - i, n = left > MCU_S16_BLOCK ? MCU_S16_BLOCK : left & ~3;
        mcu_s16_mm_2x2(w0 + i, w1 + i, c0 + i, c1 + i, n, left > MCU_S16_BLOCK ? 0 : left & 3, a);
        for (int32_t j = 0; j < 4; ++j)
            acc[j] += a[j];
    }
}

/* One filter row against two columns (k entries, int32 blocks merged in int64). */
static void mcu_s16_mm_1x2(const int8_t *w, const int16_t *c0, const int16_t *c1, int32_t k,
                           int64_t acc[2])
{
    acc[0] = acc[1] = 0;
    for (int32_t i = 0; i < k; i += MCU_S16_BLOCK) {
        const int32_t left = k - i, n = left > MCU_S16_BLOCK ? MCU_S16_BLOCK : left & ~3;
        const int32_t tail = left > MCU_S16_BLOCK ? 0 : left & 3;
        int32_t a = 0, b = 0, j = i;
        for (; j < i + n; j += 4) {
            const int32_t wv = mcu_read_s8x4(w + j);
            const int32_t w02 = __sxtb16(wv), w13 = mcu_sxtb16_ror8(wv);
            a = __smlad(mcu_read_s16x2(c0 + j), w02, a);
            b = __smlad(mcu_read_s16x2(c1 + j), w02, b);
            a = __smlad(mcu_read_s16x2(c0 + j + 2), w13, a);
            b = __smlad(mcu_read_s16x2(c1 + j + 2), w13, b);
        }
        if (tail) {
            const int32_t wv = mcu_s16_tail_word(w + j, tail, j > 0);
            const int32_t w02 = __sxtb16(wv), w13 = mcu_sxtb16_ror8(wv);
            a = __smlad(mcu_read_s16x2(c0 + j + 2), w13, __smlad(mcu_read_s16x2(c0 + j), w02, a));
            b = __smlad(mcu_read_s16x2(c1 + j + 2), w13, __smlad(mcu_read_s16x2(c1 + j), w02, b));
        }
        acc[0] += a;
        acc[1] += b;
    }
}

/* One filter row against one column (k entries, int32 blocks merged in int64). */
static int64_t mcu_s16_mm_1x1(const int8_t *w, const int16_t *c, int32_t k)
{
    int64_t acc = 0;
    for (int32_t i = 0; i < k; i += MCU_S16_BLOCK) {
        const int32_t left = k - i, n = left > MCU_S16_BLOCK ? MCU_S16_BLOCK : left & ~3;
        const int32_t tail = left > MCU_S16_BLOCK ? 0 : left & 3;
        int32_t a = 0, j = 0;
        for (; j < n; j += 4) {
            const int32_t wv = mcu_read_s8x4(w + i + j);
            a = __smlad(mcu_read_s16x2(c + i + j), __sxtb16(wv), a);
            a = __smlad(mcu_read_s16x2(c + i + j + 2), mcu_sxtb16_ror8(wv), a);
        }
        if (tail) {
            const int32_t wv = mcu_s16_tail_word(w + i + j, tail, i + j > 0);
            a = __smlad(mcu_read_s16x2(c + i + j), __sxtb16(wv), a);
            a = __smlad(mcu_read_s16x2(c + i + j + 2), mcu_sxtb16_ror8(wv), a);
        }
        acc += a;
    }
    return acc;
}

#define MCU_S16_CHUNK 32 /* output channels whose requantization constants sit on the stack */

mcu_status mcu_conv_s16(const mcu_context *ctx, const mcu_conv_params *params,
                        const mcu_quant_params *quant, const mcu_dims *input_dims,
                        const int16_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                        const int64_t *bias, const mcu_dims *output_dims, int16_t *output)
{
    mcu_status st = mcu_check_conv_s16(params, quant, input_dims, input, filter_dims, filter,
                                       output_dims, output);
    if (st != MCU_OK)
        return st;
    if (filter_dims->c != input_dims->c)
        return mcu_conv_s16_ref(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                                output_dims, output);
    void *scratch;
    st = mcu_scratch(ctx, mcu_conv_s16_get_buffer_size(input_dims, filter_dims), &scratch);
    if (st != MCU_OK)
        return st;
    const int32_t col = mcu_conv_s16_col_len(filter_dims);
    const int32_t k = filter_dims->h * filter_dims->w * filter_dims->c;
    const int short_k = k < 512; /* one int32 sum per output */
    const int32_t out_c = filter_dims->n, out_w = output_dims->w;
    const int32_t pixels = output_dims->h * out_w;
    const int32_t off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    int16_t *c0 = (int16_t *)scratch, *c1 = c0 + col;
    const mcu_s16_geo g = {input_dims->h, input_dims->w, input_dims->c, filter_dims->h,
                           filter_dims->w, params->stride.h, params->stride.w, params->padding.h,
                           params->padding.w, params->dilation.h, params->dilation.w,
                           filter_dims->w * input_dims->c, col};
    mcu_rq64 rq[MCU_S16_CHUNK];
    for (int32_t oc0 = 0; oc0 < out_c; oc0 += MCU_S16_CHUNK) {
        const int32_t n_oc = out_c - oc0 < MCU_S16_CHUNK ? out_c - oc0 : MCU_S16_CHUNK;
        for (int32_t j = 0; j < n_oc; ++j)
            rq[j] = mcu_rq64_of(mcu_quant_mult(quant, oc0 + j), mcu_quant_shift(quant, oc0 + j),
                                bias ? bias[oc0 + j] : 0);
        const int8_t *w_chunk = filter + oc0 * k;
        for (int32_t b = 0; b < output_dims->n; ++b) {
            const int16_t *in_b = input + b * input_dims->h * input_dims->w * input_dims->c;
            int16_t *out_b = output + b * pixels * out_c + oc0;
            for (int32_t px = 0; px < pixels; px += 2) {
                const int two = px + 1 < pixels;
                mcu_s16_im2col(c0, two ? 2 : 1, in_b, &g, out_w, px);
                int16_t *o0 = out_b + px * out_c, *o1 = o0 + out_c;
                int32_t j = 0;
                if (two) {
                    for (; j + 2 <= n_oc; j += 2) {
                        const int8_t *w0 = w_chunk + j * k;
                        int32_t y00, y01, y10, y11;
                        if (short_k) {
                            int32_t a[4];
                            mcu_s16_mm_2x2(w0, w0 + k, c0, c1, k & ~3, k & 3, a);
                            y00 = mcu_rq64_apply32(a[0], &rq[j]);
                            y01 = mcu_rq64_apply32(a[1], &rq[j]);
                            y10 = mcu_rq64_apply32(a[2], &rq[j + 1]);
                            y11 = mcu_rq64_apply32(a[3], &rq[j + 1]);
                        } else {
                            int64_t a[4];
                            mcu_s16_mm_2x2_long(w0, w0 + k, c0, c1, k, a);
                            y00 = mcu_rq64_apply(a[0], &rq[j]);
                            y01 = mcu_rq64_apply(a[1], &rq[j]);
                            y10 = mcu_rq64_apply(a[2], &rq[j + 1]);
                            y11 = mcu_rq64_apply(a[3], &rq[j + 1]);
                        }
                        o0[j] = mcu_clamp_s16_value(y00 + off, lo, hi);
                        o1[j] = mcu_clamp_s16_value(y01 + off, lo, hi);
                        o0[j + 1] = mcu_clamp_s16_value(y10 + off, lo, hi);
                        o1[j + 1] = mcu_clamp_s16_value(y11 + off, lo, hi);
                    }
                }
                if (two && j < n_oc) { /* an odd last channel */
                    int64_t a[2];
                    mcu_s16_mm_1x2(w_chunk + j * k, c0, c1, k, a);
                    o0[j] = mcu_clamp_s16_value(mcu_rq64_apply(a[0], &rq[j]) + off, lo, hi);
                    o1[j] = mcu_clamp_s16_value(mcu_rq64_apply(a[1], &rq[j]) + off, lo, hi);
                    ++j;
                }
                for (; j < n_oc; ++j) /* the last pixel of an odd count */
                    o0[j] = mcu_clamp_s16_value(
                        mcu_rq64_apply(mcu_s16_mm_1x1(w_chunk + j * k, c0, k), &rq[j]) + off, lo, hi);
            }
        }
    }
    return MCU_OK;
}
#endif
