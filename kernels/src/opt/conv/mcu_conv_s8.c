/*
 * mcu_conv_s8 - optimized flavour (Cortex-M DSP extension).
 * im2col + matrix product, two output pixels at a time. The windows of the two pixels are
 * gathered into two int16 columns (input offset added, padding taps 0, each group of 4 taps
 * reordered (x0, x2, x1, x3) to pair with SXTB16's even/odd weight halves, the two columns
 * interleaved group by group so one pointer walks both). Two windows inside the input are
 * widened together, a run of KW*C bytes per window row.
 * Then every pair of output channels is computed against both columns at once (2x2 register
 * blocking): per 4 taps, the two weight words and the four column words are loaded back to
 * back (post-increment addressing; the loads pipeline: 7 cycles), 2 SXTB16, 2 SXTB16 ROR #8
 * and 8 SMLAD: 19 cycles for 16 MACs, four groups per loop iteration (mcu_conv_k16, inline
 * assembly: the schedule needs all 14 registers). The accumulators start at the bias; each
 * 2x2 block is requantized, clamped and stored right after its loop (mcu_conv_out2x2: SMMLAR
 * per output, mcu_rq2) when every shift is a right shift of 1..23 and the accumulators stay
 * within 2^29 (checked per call); otherwise through mcu_rq (any shift).
 * Scratch: 2 columns x K int16 (+ K bytes of int8 staging when C is not a multiple of 4, KW*C
 * bytes when KW*C is).
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

#define MCU_CONV_CHUNK 32 /* output channels whose requantization constants sit on the stack */

int32_t mcu_conv_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    if (filter_dims->c != input_dims->c)
        return 0; /* grouped: reference kernel, no scratch */
    const int32_t col = mcu_conv_col_len(filter_dims), run = filter_dims->w * filter_dims->c;
    /* int8 staging when C % 4 != 0: a whole window, or one window row when rows are whole
     * groups of 4 taps (mcu_conv_im2col) */
    const int32_t stage = (input_dims->c & 3) ? ((run & 3) ? col : run) : 0;
    return 2 * col * (int32_t)sizeof(int16_t) + stage;
}

/* Geometry of one call, computed once. */
typedef struct {
    const int8_t *in_b; /* the current batch's input */
    int8_t *stage;      /* int8 staging (C % 4 != 0), else NULL */
    int32_t in_h, in_w, ch, k_h, k_w, run, row, k;
    int32_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
    int32_t in_off, off2;
} mcu_conv_geo;

/* n int8 (n % 4 == 0) plus the offset into column groups: group g at dst + 8g, as
 * (x0, x2, x1, x3). 16 bytes per step: four loads back to back (5 cycles), eight SXTAB16,
 * eight single-cycle stores. */
static inline void mcu_conv_widen(const int8_t *src, int16_t *dst, int32_t n, int32_t off2)
{
    const int8_t *end = src + (n & ~15);
    while (src != end) {
        const int32_t a = mcu_read_s8x4(src), b = mcu_read_s8x4(src + 4);
        const int32_t c = mcu_read_s8x4(src + 8), d = mcu_read_s8x4(src + 12);
        src += 16;
        mcu_write_s16x2(dst, __sxtab16(off2, a));
        mcu_write_s16x2(dst + 2, mcu_sxtab16_ror8(off2, a));
        mcu_write_s16x2(dst + 8, __sxtab16(off2, b));
        mcu_write_s16x2(dst + 10, mcu_sxtab16_ror8(off2, b));
        mcu_write_s16x2(dst + 16, __sxtab16(off2, c));
        mcu_write_s16x2(dst + 18, mcu_sxtab16_ror8(off2, c));
        mcu_write_s16x2(dst + 24, __sxtab16(off2, d));
        mcu_write_s16x2(dst + 26, mcu_sxtab16_ror8(off2, d));
        dst += 32;
    }
    for (n &= 15; n > 0; n -= 4, src += 4, dst += 8) {
        const int32_t a = mcu_read_s8x4(src);
        mcu_write_s16x2(dst, __sxtab16(off2, a));
        mcu_write_s16x2(dst + 2, mcu_sxtab16_ror8(off2, a));
    }
}

/* n padding taps (n % 4 == 0): zero after the offset. */
static inline void mcu_conv_zero(int16_t *dst, int32_t n)
{
    for (; n > 0; n -= 4, dst += 8) {
        mcu_write_s16x2(dst, 0);
        mcu_write_s16x2(dst + 2, 0);
    }
}

static void mcu_conv_stage_edge(const mcu_conv_geo *g, int32_t y0, int32_t x0, int8_t zp);

/* Gathers the window of output pixel (oy, ox) into the column at col (= cols + 4 * j): tap k
 * of group g = k / 4 at col[8g + ...]; the k % 4 tail taps in plain order after the groups. */
static void mcu_conv_im2col(const mcu_conv_geo *g, int32_t oy, int32_t ox, int16_t *col)
{
    const int32_t y0 = oy * g->stride_h - g->pad_h, x0 = ox * g->stride_w - g->pad_w;
    const int32_t ch = g->ch, k_w = g->k_w, run = g->run;
    if (!g->stage) { /* C % 4 == 0: every tap is whole groups */
        const int x_inside = g->dil_w == 1 && x0 >= 0 && x0 + k_w <= g->in_w;
        const int8_t *src = g->in_b + y0 * g->row + x0 * ch;
        const int32_t step = g->dil_h * g->row, off2 = g->off2;
        if (x_inside && y0 >= 0 && y0 + (g->k_h - 1) * g->dil_h < g->in_h) {
            for (int32_t ky = g->k_h; ky > 0; --ky, src += step, col += 2 * run)
                mcu_conv_widen(src, col, run, off2); /* interior: one run per window row */
            return;
        }
        for (int32_t ky = 0; ky < g->k_h; ++ky, src += step, col += 2 * run) {
            const int32_t y = y0 + ky * g->dil_h;
            if (y < 0 || y >= g->in_h) {
                mcu_conv_zero(col, run);
            } else if (x_inside) {
                mcu_conv_widen(src, col, run, off2);
            } else {
                for (int32_t kx = 0; kx < k_w; ++kx) {
                    const int32_t x = x0 + kx * g->dil_w;
                    if (x >= 0 && x < g->in_w)
                        mcu_conv_widen(src + kx * g->dil_w * ch, col + 2 * kx * ch, ch, off2);
                    else
                        mcu_conv_zero(col + 2 * kx * ch, ch);
                }
            }
        }
        return;
    }
    const int8_t zp = (int8_t)(-g->in_off);
    if ((run & 3) == 0) { /* C % 4 != 0 but a window row is whole groups (KW*C % 4 == 0) */
        const int x_inside = g->dil_w == 1 && x0 >= 0 && x0 + k_w <= g->in_w;
        for (int32_t ky = 0; ky < g->k_h; ++ky, col += 2 * run) {
            const int32_t y = y0 + ky * g->dil_h;
            if (y < 0 || y >= g->in_h) {
                mcu_conv_zero(col, run);
                continue;
            }
            const int8_t *src = g->in_b + y * g->row;
            if (x_inside) {
                mcu_conv_widen(src + x0 * ch, col, run, g->off2);
                continue;
            }
            int8_t *s = g->stage; /* the row staged tap by tap, the zero point outside */
            for (int32_t kx = 0; kx < k_w; ++kx, s += ch) {
                const int32_t x = x0 + kx * g->dil_w;
                const int inside = x >= 0 && x < g->in_w;
                for (int32_t i = 0; i < ch; ++i)
                    s[i] = inside ? src[x * ch + i] : zp;
            }
            mcu_conv_widen(g->stage, col, run, g->off2);
        }
        return;
    }
    /* else stage the whole window as int8 (padding = the zero point, 0 after the offset) */
    const int32_t k4 = g->k & ~3;
    int8_t *s = g->stage;
    if (g->dil_w == 1 && x0 >= 0 && x0 + k_w <= g->in_w && y0 >= 0 &&
        y0 + (g->k_h - 1) * g->dil_h < g->in_h) {
        /* inside the input: a window row is one run of KW*C bytes */
        const int8_t *src = g->in_b + y0 * g->row + x0 * ch;
        for (int32_t ky = g->k_h; ky > 0; --ky, src += g->dil_h * g->row)
            for (const int8_t *p = src, *end = src + run; p != end;)
                *s++ = *p++;
    } else {
        mcu_conv_stage_edge(g, y0, x0, zp);
    }
    mcu_conv_widen(g->stage, col, k4, g->off2);
    for (int32_t i = 0; i < (g->k & 3); ++i)
        col[2 * k4 + i] = (int16_t)(g->stage[k4 + i] + g->in_off);
}

/* The int8 window of a pixel whose window leaves the input (C % 4 != 0), tap by tap. */
static void mcu_conv_stage_edge(const mcu_conv_geo *g, int32_t y0, int32_t x0, int8_t zp)
{
    const int32_t ch = g->ch, k_w = g->k_w;
    int8_t *s = g->stage;
    for (int32_t ky = 0; ky < g->k_h; ++ky) {
        const int32_t y = y0 + ky * g->dil_h;
        for (int32_t kx = 0; kx < k_w; ++kx, s += ch) {
            const int32_t x = x0 + kx * g->dil_w;
            const int inside = y >= 0 && y < g->in_h && x >= 0 && x < g->in_w;
            const int8_t *src = g->in_b + (inside ? y * g->row + x * ch : 0);
            for (int32_t i = 0; i < ch; ++i) /* not memcpy/memset: C is small here */
                s[i] = inside ? src[i] : zp;
        }
    }
}

/* Both pixels of a pair whose windows lie inside the input in the same rows (KW*C % 4 == 0,
 * dilation.w == 1): per window row, two runs of KW*C bytes (the second d bytes after the
 * first) widened into the interleaved columns, four groups of each per step (two at a time:
 * four loads back to back, eight SXTAB16, eight single-cycle stores). Returns 0 (nothing
 * done) when the pair is not such a pair. */
static int mcu_conv_im2col_pair(const mcu_conv_geo *g, int32_t oy, int32_t ox0, int32_t ox1,
                                int16_t *cols)
{
    const int32_t y0 = oy * g->stride_h - g->pad_h;
    const int32_t x0 = ox0 * g->stride_w - g->pad_w, x1 = ox1 * g->stride_w - g->pad_w;
    if ((g->run & 3) || g->dil_w != 1 || x0 < 0 || x1 < x0 || x1 + g->k_w > g->in_w || y0 < 0 ||
        y0 + (g->k_h - 1) * g->dil_h >= g->in_h)
        return 0;
    const int32_t run = g->run, d = (x1 - x0) * g->ch, step = g->dil_h * g->row;
    const int32_t off2 = g->off2;
    const int8_t *src = g->in_b + y0 * g->row + x0 * g->ch;
    int32_t *dst = (int32_t *)cols; /* group by group: (p0 even, p0 odd, p1 even, p1 odd) */
    for (int32_t ky = g->k_h; ky > 0; --ky, src += step) {
        const int8_t *p = src, *end = src + (run & ~15);
        while (p != end) {
            const int32_t a = mcu_read_s8x4(p), b = mcu_read_s8x4(p + 4);
            const int32_t e = mcu_read_s8x4(p + d), f = mcu_read_s8x4(p + d + 4);
            dst[0] = __sxtab16(off2, a);
            dst[1] = mcu_sxtab16_ror8(off2, a);
            dst[2] = __sxtab16(off2, e);
            dst[3] = mcu_sxtab16_ror8(off2, e);
            dst[4] = __sxtab16(off2, b);
            dst[5] = mcu_sxtab16_ror8(off2, b);
            dst[6] = __sxtab16(off2, f);
            dst[7] = mcu_sxtab16_ror8(off2, f);
            const int32_t a2 = mcu_read_s8x4(p + 8), b2 = mcu_read_s8x4(p + 12);
            const int32_t e2 = mcu_read_s8x4(p + d + 8), f2 = mcu_read_s8x4(p + d + 12);
            p += 16;
            dst[8] = __sxtab16(off2, a2);
            dst[9] = mcu_sxtab16_ror8(off2, a2);
            dst[10] = __sxtab16(off2, e2);
            dst[11] = mcu_sxtab16_ror8(off2, e2);
            dst[12] = __sxtab16(off2, b2);
            dst[13] = mcu_sxtab16_ror8(off2, b2);
            dst[14] = __sxtab16(off2, f2);
            dst[15] = mcu_sxtab16_ror8(off2, f2);
            dst += 16;
        }
        for (int32_t i = run & 15; i > 0; i -= 4, p += 4, dst += 4) {
            const int32_t a = mcu_read_s8x4(p), e = mcu_read_s8x4(p + d);
            dst[0] = __sxtab16(off2, a);
            dst[1] = mcu_sxtab16_ror8(off2, a);
            dst[2] = __sxtab16(off2, e);
            dst[3] = mcu_sxtab16_ror8(off2, e);
        }
    }
    return 1;
}

/* One group of 4 taps for two channels (weights wa at w0, wb at w1) and two pixels (column
 * words at c: even halves at 0 and 4, odd at 2 and 6 int16). */
#define MCU_CONV_2X2(w0, w1, c)                                                               \
    do {                                                                                      \
        int32_t wb_ = mcu_read_s8x4(w1), wa_ = mcu_read_s8x4(w0);                             \
        int32_t x0_ = mcu_read_s16x2(c), x1_ = mcu_read_s16x2((c) + 4);                      \
        int32_t t_ = __sxtb16(wa_);                                                           \
        s00 = __smlad(t_, x0_, s00);                                                          \
        s01 = __smlad(t_, x1_, s01);                                                          \
        t_ = __sxtb16(wb_);                                                                   \
        s10 = __smlad(t_, x0_, s10);                                                          \
        s11 = __smlad(t_, x1_, s11);                                                          \
        x0_ = mcu_read_s16x2((c) + 2);                                                        \
        x1_ = mcu_read_s16x2((c) + 6);                                                       \
        wa_ = mcu_sxtb16_ror8(wa_);                                                           \
        s00 = __smlad(wa_, x0_, s00);                                                         \
        s01 = __smlad(wa_, x1_, s01);                                                         \
        wb_ = mcu_sxtb16_ror8(wb_);                                                           \
        s10 = __smlad(wb_, x0_, s10);                                                         \
        s11 = __smlad(wb_, x1_, s11);                                                         \
    } while (0)

/* The same for one channel. */
#define MCU_CONV_1X2(w0, c)                                                                   \
    do {                                                                                      \
        int32_t wa_ = mcu_read_s8x4(w0);                                                      \
        int32_t x0_ = mcu_read_s16x2(c), x1_ = mcu_read_s16x2((c) + 4);                      \
        int32_t t_ = __sxtb16(wa_);                                                           \
        s00 = __smlad(t_, x0_, s00);                                                          \
        s01 = __smlad(t_, x1_, s01);                                                          \
        x0_ = mcu_read_s16x2((c) + 2);                                                        \
        x1_ = mcu_read_s16x2((c) + 6);                                                       \
        wa_ = mcu_sxtb16_ror8(wa_);                                                           \
        s00 = __smlad(wa_, x0_, s00);                                                         \
        s01 = __smlad(wa_, x1_, s01);                                                         \
    } while (0)

/* The 16-tap steps of the k loop of two channels (weight rows *w and *w + k) against both
 * columns (*c), until *c reaches *end (at least one step). Inline assembly because the
 * schedule that the cost model rewards needs all 14 registers: per group of 4 taps the two
 * weight words and the four column words are loaded back to back (post-increment addressing,
 * no pointer arithmetic; 7 cycles), then 4 SXTB16 and 8 SMLAD: 19 cycles for 16 MACs; the
 * loop end is compared against *end in memory (6 cycles per 4 groups). GCC's best schedule
 * of the same intrinsics needs one more register for the weight pointers, so it loads the
 * odd column words in a second group: 20 cycles, plus 7 per 4 groups of loop overhead. */
static inline __attribute__((always_inline)) void
mcu_conv_k16(int32_t *p00, int32_t *p01, int32_t *p10, int32_t *p11, const int8_t **pw,
             const int16_t **pc, int32_t k, const int16_t *const *end)
{
    int32_t s00 = *p00, s01 = *p01, s10 = *p10, s11 = *p11;
    const int8_t *w = *pw;
    const int16_t *c = *pc;
#if MCU_NN_ASM
    int32_t wa, wb, x0e, x0o, x1e, x1o, t;
#define MCU_CONV_ASM_GROUP                                                                    \
    "ldr %[wb], [%[w], %[k]]\n\t"                                                             \
    "ldr %[wa], [%[w]], #4\n\t"                                                               \
    "ldr %[x0o], [%[c], #4]\n\t"                                                              \
    "ldr %[x1e], [%[c], #8]\n\t"                                                              \
    "ldr %[x1o], [%[c], #12]\n\t"                                                             \
    "ldr %[x0e], [%[c]], #16\n\t"                                                             \
    "sxtb16 %[t], %[wa]\n\t"                                                                  \
    "smlad %[s00], %[t], %[x0e], %[s00]\n\t"                                                  \
    "smlad %[s01], %[t], %[x1e], %[s01]\n\t"                                                  \
    "sxtb16 %[t], %[wb]\n\t"                                                                  \
    "smlad %[s10], %[t], %[x0e], %[s10]\n\t"                                                  \
    "smlad %[s11], %[t], %[x1e], %[s11]\n\t"                                                  \
    "sxtb16 %[wa], %[wa], ror #8\n\t"                                                         \
    "smlad %[s00], %[wa], %[x0o], %[s00]\n\t"                                                 \
    "smlad %[s01], %[wa], %[x1o], %[s01]\n\t"                                                 \
    "sxtb16 %[wb], %[wb], ror #8\n\t"                                                         \
    "smlad %[s10], %[wb], %[x0o], %[s10]\n\t"                                                 \
    "smlad %[s11], %[wb], %[x1o], %[s11]\n\t"
    __asm__ volatile("1:\n\t" MCU_CONV_ASM_GROUP MCU_CONV_ASM_GROUP MCU_CONV_ASM_GROUP
                         MCU_CONV_ASM_GROUP
                     "ldr %[t], %[end]\n\t"
                     "cmp %[c], %[t]\n\t"
                     "bne 1b"
                     : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11),
                       [w] "+r"(w), [c] "+r"(c), [wa] "=&r"(wa), [wb] "=&r"(wb),
                       [x0e] "=&r"(x0e), [x0o] "=&r"(x0o), [x1e] "=&r"(x1e),
                       [x1o] "=&r"(x1o), [t] "=&r"(t)
                     : [k] "r"(k), [end] "m"(*end)
                     : "cc", "memory");
#undef MCU_CONV_ASM_GROUP
#else /* the same with intrinsics: 20 cycles per group, 7 per step of loop overhead */
    const int8_t *w1 = w + k;
    do {
        MCU_CONV_2X2(w, w1, c);
        MCU_CONV_2X2(w + 4, w1 + 4, c + 8);
        MCU_CONV_2X2(w + 8, w1 + 8, c + 16);
        MCU_CONV_2X2(w + 12, w1 + 12, c + 24);
        w += 16;
        w1 += 16;
        c += 32;
    } while (c != *end);
#endif
    *p00 = s00;
    *p01 = s01;
    *p10 = s10;
    *p11 = s11;
    *pw = w;
    *pc = c;
}

/* The k loop of two channels (weight rows w, w + k) against both columns: s00, s01 (first
 * channel, pixels 0 and 1), s10, s11 (second), which hold the bias on entry. 16 taps per
 * step while they last (c16: the end of those steps), then groups of 4, then k % 4. */
#define MCU_CONV_PAIR(w, k, cols, c16)                                                       \
    do {                                                                                      \
        const int8_t *w0 = (w);                                                               \
        const int16_t *c = (cols);                                                            \
        if (c != (c16))                                                                       \
            mcu_conv_k16(&s00, &s01, &s10, &s11, &w0, &c, (k), &(c16));                       \
        const int8_t *w1 = w0 + (k);                                                          \
        if ((k) & 15) {                                                                       \
            for (int32_t i_ = ((k) >> 2) & 3; i_ > 0; --i_) {                                 \
                MCU_CONV_2X2(w0, w1, c);                                                      \
                w0 += 4;                                                                      \
                w1 += 4;                                                                      \
                c += 8;                                                                       \
            }                                                                                 \
            for (int32_t i_ = 0; i_ < ((k) & 3); ++i_) {                                      \
                s00 += w0[i_] * c[i_];                                                        \
                s01 += w0[i_] * c[4 + i_];                                                    \
                s10 += w1[i_] * c[i_];                                                        \
                s11 += w1[i_] * c[4 + i_];                                                    \
            }                                                                                 \
        }                                                                                     \
    } while (0)

/* The same for one channel (an odd channel count's last). */
#define MCU_CONV_SINGLE(w, k, cols)                                                           \
    do {                                                                                      \
        const int8_t *w0 = (w);                                                               \
        const int16_t *c = (cols);                                                            \
        for (int32_t i_ = (k) >> 2; i_ > 0; --i_) {                                           \
            MCU_CONV_1X2(w0, c);                                                              \
            w0 += 4;                                                                          \
            c += 8;                                                                           \
        }                                                                                     \
        for (int32_t i_ = 0; i_ < ((k) & 3); ++i_) {                                          \
            s00 += w0[i_] * c[i_];                                                            \
            s01 += w0[i_] * c[4 + i_];                                                        \
        }                                                                                     \
    } while (0)

/* Requantizes, clamps and stores a 2x2 block: s00, s01 (channel 0, pixels 0 and 1) with q[0],
 * s10, s11 (channel 1) with q[1] (mcu_rq2), lohi = {lo4, hi4} the activation range as four
 * packed bytes; two bytes (channels 0, 1) to o0 and two to o1. Per output LSL, SMMLAR, ADD,
 * ASR, SSAT; the four bytes packed (BFI) and clamped at once (SSUB8/SEL); 2 STRH. About 40
 * cycles where the C output stage took about 100 (GCC spills around the block loop). */
static inline __attribute__((always_inline)) void
mcu_conv_out2x2(int32_t s00, int32_t s01, int32_t s10, int32_t s11, const mcu_rq2 *q,
                const uint32_t *lohi, int8_t *o0, int8_t *o1)
{
#if MCU_NN_ASM
    int32_t m, a, r, t;
#define MCU_CONV_ASM_RQ(s)                                                                    \
    "lsl %[" #s "], %[" #s "], #1\n\t"                                                        \
    "smmlar %[t], %[" #s "], %[m], %[a]\n\t"                                                  \
    "add %[t], %[t], %[" #s "], asr #31\n\t"                                                  \
    "asr %[" #s "], %[t], %[r]\n\t"                                                           \
    "ssat %[" #s "], #8, %[" #s "]\n\t"
    __asm__ volatile("ldr %[m], [%[q]]\n\t"
            "ldr %[a], [%[q], #4]\n\t"
            "ldr %[r], [%[q], #8]\n\t" MCU_CONV_ASM_RQ(s00) MCU_CONV_ASM_RQ(s01)
            "ldr %[m], [%[q], #12]\n\t"
            "ldr %[a], [%[q], #16]\n\t"
            "ldr %[r], [%[q], #20]\n\t" MCU_CONV_ASM_RQ(s10) MCU_CONV_ASM_RQ(s11)
            "bfi %[s00], %[s10], #8, #8\n\t"
            "bfi %[s00], %[s01], #16, #8\n\t"
            "bfi %[s00], %[s11], #24, #8\n\t"
            "ldr %[m], [%[lh]]\n\t"
            "ldr %[a], [%[lh], #4]\n\t"
            "ssub8 %[t], %[s00], %[m]\n\t"
            "sel %[s00], %[s00], %[m]\n\t"
            "ssub8 %[t], %[s00], %[a]\n\t"
            "sel %[s00], %[a], %[s00]\n\t"
            "strh %[s00], [%[o0]]\n\t"
            "lsr %[s00], %[s00], #16\n\t"
            "strh %[s00], [%[o1]]"
            : [s00] "+&r"(s00), [s01] "+&r"(s01), [s10] "+&r"(s10), [s11] "+&r"(s11),
              [m] "=&r"(m), [a] "=&r"(a), [r] "=&r"(r), [t] "=&r"(t)
            : [q] "r"(q), [lh] "r"(lohi), [o0] "r"(o0), [o1] "r"(o1)
            : "cc", "memory");
#undef MCU_CONV_ASM_RQ
#else
    const int32_t lo = (int8_t)lohi[0], hi = (int8_t)lohi[1];
    o0[0] = (int8_t)mcu_rq_clamp(mcu_rq2_apply(s00, &q[0]), lo, hi);
    o0[1] = (int8_t)mcu_rq_clamp(mcu_rq2_apply(s10, &q[1]), lo, hi);
    o1[0] = (int8_t)mcu_rq_clamp(mcu_rq2_apply(s01, &q[0]), lo, hi);
    o1[1] = (int8_t)mcu_rq_clamp(mcu_rq2_apply(s11, &q[1]), lo, hi);
#endif
}

/* Output channels [0, n) of both pixels, requantized with q (mcu_rq2: channels 2i, 2i + 1
 * at q[i * q_step], q[i * q_step + 1]; q_step 0 for per-tensor with q[0] == q[1]) and stored
 * to o0 and o1. The schedulers are off so that
 * the loads of the k loop stay grouped as written (GCC otherwise interleaves them with the
 * SMLADs, and a load after an SMLAD does not pipeline); the k loop keeps 13 values in
 * registers and spills nothing. */
__attribute__((noinline, optimize("no-schedule-insns", "no-schedule-insns2"))) static void
mcu_conv_mac_out(const int8_t *w, int32_t k, const int16_t *cols, int32_t n,
                 const int32_t *bias, const mcu_rq2 *q, int32_t q_step, const uint32_t *lohi,
                 int8_t *o0, int8_t *o1)
{
    static const int32_t no_bias[2] = {0, 0};
    const int32_t bias_step = bias ? 2 : 0;
    const int32_t *b = bias ? bias : no_bias;
    const int16_t *c16 = cols + 2 * (k & ~15); /* end of the 16-tap steps */
    const int8_t *o0_end = o0 + (n & ~1);
    for (; o0 != o0_end; w += 2 * k, o0 += 2, o1 += 2, q += q_step, b += bias_step) {
        int32_t s00 = b[0], s10 = b[1];
        int32_t s01 = s00, s11 = s10;
        MCU_CONV_PAIR(w, k, cols, c16);
        mcu_conv_out2x2(s00, s01, s10, s11, q, lohi, o0, o1);
    }
    if (n & 1) { /* odd channel count: the last channel alone */
        int32_t s00 = b[0], s01 = s00;
        MCU_CONV_SINGLE(w, k, cols);
        const int32_t lo = (int8_t)lohi[0], hi = (int8_t)lohi[1];
        *o0 = (int8_t)mcu_rq_clamp(mcu_rq2_apply(s00, q), lo, hi);
        *o1 = (int8_t)mcu_rq_clamp(mcu_rq2_apply(s01, q), lo, hi);
    }
}

#define MCU_CONV_GCHUNK 16 /* channels per pass of the general path (accumulators on the stack) */

/* Any requantization: the accumulators of channels [0, n) to acc[oc] (first pixel) and
 * acc[MCU_CONV_GCHUNK + oc] (second), for mcu_conv_store. */
__attribute__((noinline, optimize("no-schedule-insns", "no-schedule-insns2"))) static void
mcu_conv_mac(const int8_t *w, int32_t k, const int16_t *cols, int32_t n, const int32_t *bias,
             int32_t *acc)
{
    const int16_t *c16 = cols + 2 * (k & ~15);
    int32_t oc = 0;
    for (; oc + 1 < n; oc += 2, w += 2 * k, acc += 2) {
        int32_t s00 = 0, s10 = 0;
        if (bias) {
            s00 = bias[oc];
            s10 = bias[oc + 1];
        }
        int32_t s01 = s00, s11 = s10;
        MCU_CONV_PAIR(w, k, cols, c16);
        acc[0] = s00;
        acc[1] = s10;
        acc[MCU_CONV_GCHUNK] = s01;
        acc[MCU_CONV_GCHUNK + 1] = s11;
    }
    if (oc < n) {
        int32_t s00 = bias ? bias[oc] : 0, s01 = s00;
        MCU_CONV_SINGLE(w, k, cols);
        acc[0] = s00;
        acc[MCU_CONV_GCHUNK] = s01;
    }
}
#undef MCU_CONV_PAIR
#undef MCU_CONV_SINGLE
#undef MCU_CONV_2X2
#undef MCU_CONV_1X2

/* Requantizes channels [c0, c0 + n) of both pixels (any shift) and stores them. */
static void mcu_conv_store(const int32_t *acc, int32_t c0, int32_t n,
                           const mcu_quant_params *quant, int32_t out_off, int32_t lo,
                           int32_t hi, int8_t *out0, int8_t *out1)
{
    const int32_t per_ch = quant->per_channel ? 1 : 0;
    for (int32_t i = 0; i < n; ++i) {
        mcu_rq q;
        mcu_rq_init(&q, quant->multiplier[(c0 + i) * per_ch], quant->shift[(c0 + i) * per_ch]);
        out0[c0 + i] = mcu_rq_out(acc[i], &q, out_off, lo, hi);
        out1[c0 + i] = mcu_rq_out(acc[MCU_CONV_GCHUNK + i], &q, out_off, lo, hi);
    }
}

/* Both pixels' channels through the general output stage, MCU_CONV_GCHUNK at a time (its
 * accumulators on the stack only while it runs). */
__attribute__((noinline)) static void
mcu_conv_general(const int8_t *filter, int32_t k, const int16_t *cols, int32_t out_c,
                 const int32_t *bias, const mcu_quant_params *quant, int32_t out_off, int32_t lo,
                 int32_t hi, int8_t *out0, int8_t *out1)
{
    int32_t acc[2 * MCU_CONV_GCHUNK];
    for (int32_t c0 = 0; c0 < out_c; c0 += MCU_CONV_GCHUNK) {
        const int32_t n = out_c - c0 < MCU_CONV_GCHUNK ? out_c - c0 : MCU_CONV_GCHUNK;
        mcu_conv_mac(filter + c0 * k, k, cols, n, bias ? bias + c0 : 0, acc);
        mcu_conv_store(acc, c0, n, quant, out_off, lo, hi, out0, out1);
    }
}

/* The mcu_rq2 constants of channels [c0, c0 + 32) (per tensor: rq[0] = rq[1], the pair
 * every block reads). */
static void mcu_conv_rq2(const mcu_quant_params *quant, int32_t c0, int32_t out_c,
                         int32_t out_off, mcu_rq2 *rq)
{
    if (!quant->per_channel) {
        mcu_rq2_init(&rq[0], quant->multiplier[0], quant->shift[0], out_off);
        rq[1] = rq[0];
        return;
    }
    const int32_t n = out_c - c0 < MCU_CONV_CHUNK ? out_c - c0 : MCU_CONV_CHUNK;
    for (int32_t i = 0; i < n; ++i)
        mcu_rq2_init(&rq[i], quant->multiplier[c0 + i], quant->shift[c0 + i], out_off);
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
    const int32_t out_c = filter_dims->n, out_w = output_dims->w;
    const int32_t pixels = output_dims->h * out_w;
    int16_t *cols = (int16_t *)scratch;
    mcu_conv_geo g;
    g.stage = (input_dims->c & 3) ? (int8_t *)(cols + 2 * col) : 0;
    g.in_h = input_dims->h;
    g.in_w = input_dims->w;
    g.ch = input_dims->c;
    g.k_h = filter_dims->h;
    g.k_w = filter_dims->w;
    g.run = g.k_w * g.ch;
    g.row = g.in_w * g.ch;
    g.k = k;
    g.stride_h = params->stride.h;
    g.stride_w = params->stride.w;
    g.pad_h = params->padding.h;
    g.pad_w = params->padding.w;
    g.dil_h = params->dilation.h;
    g.dil_w = params->dilation.w;
    g.in_off = params->input_offset;
    g.off2 = mcu_dup16(params->input_offset);
    const int32_t out_off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t *shift = quant->shift;
    const int32_t per_ch = quant->per_channel ? 1 : 0;

    /* The fused output stage (mcu_rq2) needs right shifts of 1..23 and |accumulator| <= 2^29:
     * |bias| + K * 128 * 255 bounds it. */
    int fused = 1;
    int32_t max_bias = 0;
    for (int32_t c = 0; c < out_c; ++c) {
        fused &= mcu_rq2_ok(shift[c * per_ch]);
        const int32_t b = bias ? bias[c] : 0;
        if (b > max_bias || -b > max_bias)
            max_bias = b < 0 ? -b : b;
    }
    fused &= max_bias <= MCU_RQ2_MAX_ACC && k <= (MCU_RQ2_MAX_ACC - max_bias) / (128 * 255);
    /* of channels [c0, c0 + 32): once per call if out_c <= 32; sized to the layer (a
     * variable-length array, at least the per-tensor pair) so that few output channels take
     * little stack */
    mcu_rq2 rq[out_c < 2 ? 2 : out_c < MCU_CONV_CHUNK ? out_c : MCU_CONV_CHUNK];
    if (fused)
        mcu_conv_rq2(quant, 0, out_c, out_off, rq);
    uint32_t lohi[2];
    lohi[0] = 0x01010101u * (uint8_t)lo;
    lohi[1] = 0x01010101u * (uint8_t)hi;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        g.in_b = input + b * g.in_h * g.row;
        int8_t *out_b = output + b * pixels * out_c;
        int32_t oy = 0, ox = 0;
        for (int32_t px = 0; px < pixels; px += 2) {
            const int two = px + 1 < pixels;
            if (two && ox + 1 < out_w && mcu_conv_im2col_pair(&g, oy, ox, ox + 1, cols)) {
                ox += 2; /* both windows in one pass (the usual case) */
                if (ox == out_w) {
                    ox = 0;
                    ++oy;
                }
            } else {
                mcu_conv_im2col(&g, oy, ox, cols);
                if (!two) /* the last pixel alone: computed twice, stored once */
                    mcu_conv_im2col(&g, oy, ox, cols + 4);
                for (int32_t j = 0; j <= two; ++j) {
                    if (j)
                        mcu_conv_im2col(&g, oy, ox, cols + 4);
                    if (++ox == out_w) {
                        ox = 0;
                        ++oy;
                    }
                }
            }
            /* a lone last pixel: its twin is the same pixel, stored twice to the same place */
            int8_t *out0 = out_b + px * out_c, *out1 = two ? out0 + out_c : out0;
            if (fused) {
                for (int32_t c0 = 0; c0 < out_c; c0 += MCU_CONV_CHUNK) {
                    if (c0 > 0 || out_c > MCU_CONV_CHUNK)
                        mcu_conv_rq2(quant, c0, out_c, out_off, rq);
                    const int32_t n = out_c - c0 < MCU_CONV_CHUNK ? out_c - c0 : MCU_CONV_CHUNK;
                    mcu_conv_mac_out(filter + c0 * k, k, cols, n, bias ? bias + c0 : 0, rq,
                                     2 * per_ch, lohi, out0 + c0, out1 + c0);
                }
                continue;
            }
            mcu_conv_general(filter, k, cols, out_c, bias, quant, out_off, lo, hi, out0, out1);
        }
    }
    return MCU_OK;
}
#endif
