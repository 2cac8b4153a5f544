/*
 * mcu_depthwise_conv_s8 - optimized flavour (Cortex-M DSP extension).
 * Depth multiplier 1 (the usual case), four channels per pass. Once per call the weights are
 * sign-extended into scratch, one record per group of 4 channels holding per tap two int16
 * pairs (w0, w2), (w1, w3). Per in-bounds tap: one load of 4 inputs and the two weight words
 * (the three loads pipeline: 4 cycles), two SXTAB16 (inputs plus offset, plain and ROR #8),
 * SMLABB/SMLATT for the four channels (one MAC each: in NHWC no two taps of a channel share a
 * register): 10 cycles per 4 MACs.
 * 3x3 filters (the common case), when every shift is a right shift of 1..23 and |bias| <=
 * 2^29: the records also hold the bias and the requantization constants (mcu_rq2, with
 * doubled weights so the accumulator is already 2x), and one inline-assembly block per group
 * does the 9 taps, the four requantizations and a packed clamp (mcu_dw_group3x3, about 145
 * cycles for 36 MACs). A window that leaves the input runs the same block on a copied window.
 * Other filters, shifts or biases: the same tap loop in C, requantization by mcu_rq.
 * Depth multiplier M > 1 with one input channel (micro_speech's and person_detect's first
 * layer) is an ordinary convolution of 1 input channel into M outputs: the filter is
 * transposed once per call from [KH][KW][M] to [M][KH][KW] in scratch and the layer runs
 * through mcu_conv_s8 (im2col + 2x2-blocked SMLAD). M > 1 with several input channels: per
 * output pixel and input channel, four of its M outputs at a time (one weight word, SXTB16
 * plain and ROR #8, SMLABB/SMLATB against the input value: 8 instructions per 4 MACs), the
 * M % 4 others one by one (mcu_dw_mult).
 * Cores without the DSP extension use the reference kernel.
 * Scratch: the records of one block of 32 channels (34 words per 4 channels for 3x3, plus 32
 * bytes of zero points; else 2 words per tap per 4 channels), rebuilt per block so that wide
 * layers need no more than narrow ones (maps with fewer than 4 pixels per 4 channels keep
 * every channel's records: mcu_dw_block_groups); for M > 1 and C = 1 the transposed filter (rounded up to
 * 4 bytes) plus mcu_conv_s8's scratch; else none.
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

/* channels per pass: accumulators and requantization on the stack */
#define MCU_DW_CHUNK 16
/* groups of 4 channels whose records are in scratch at a time (a multiple of MCU_DW_CHUNK / 4):
 * 32 channels, 1,152 bytes for 3x3 */
#define MCU_DW_BLOCK 8

/* Groups per block: MCU_DW_BLOCK, except on maps of fewer than 4 pixels per group, where
 * rebuilding the records and copying the border windows once per block costs more than the
 * records save (measured: the 3x3x256 layer of vww/person_detect, 1.03x CMSIS-NN blocked);
 * those keep every group's records. */
static int32_t mcu_dw_block_groups(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    const int32_t groups = filter_dims->c >> 2;
    return groups > MCU_DW_BLOCK && input_dims->h * input_dims->w >= 4 * groups ? MCU_DW_BLOCK
                                                                                 : groups;
}

/* Words per group of 4 channels in the scratch: the int16 weight pairs of every tap, and for a
 * 3x3 filter also the bias and the folded requantization constants (see mcu_dw_group3x3). */
#define MCU_DW_REC3X3 34
static int32_t mcu_dw_rec_words(const mcu_dims *f)
{
    return f->h == 3 && f->w == 3 ? MCU_DW_REC3X3 : 2 * f->h * f->w;
}

/* The transposed filter of a multiplier > 1, one input channel layer, 4-byte aligned. */
static int32_t mcu_dw_filter_bytes(const mcu_dims *f)
{
    return (f->h * f->w * f->c + 3) & ~3;
}

/* Scratch: one record per group of 4 channels (multiplier 1); see the file comment for M > 1. */
int32_t mcu_depthwise_conv_s8_get_buffer_size(const mcu_dims *input_dims,
                                              const mcu_dims *filter_dims)
{
    if (filter_dims->c != input_dims->c) { /* depth multiplier > 1 */
        if (input_dims->c != 1)
            return 0;
        const mcu_dims cf = {filter_dims->c, filter_dims->h, filter_dims->w, 1};
        return mcu_dw_filter_bytes(filter_dims) + mcu_conv_s8_get_buffer_size(input_dims, &cf);
    }
    /* the records of one block of channels at a time */
    const int32_t groups = mcu_dw_block_groups(input_dims, filter_dims);
    const int32_t words = mcu_dw_rec_words(filter_dims);
    /* + for a 3x3 filter a row of zero points (mcu_dw_border3x3) */
    return (words + (words == MCU_DW_REC3X3 ? 1 : 0)) * groups * (int32_t)sizeof(int32_t);
}

/* The records of groups [g0, g0 + ng) into rec (see mcu_dw_group3x3 for a folded one). */
static void mcu_dw_records(int32_t *rec, const int8_t *filter, int32_t ch, int32_t taps,
                           int32_t wgroup, int32_t g0, int32_t ng, int folded,
                           const int32_t *bias, const mcu_quant_params *quant, int32_t out_off)
{
    const int32_t per_ch = quant->per_channel ? 1 : 0;
    for (int32_t g = g0; g < g0 + ng; ++g, rec += wgroup) {
        for (int32_t t = 0; t < taps; ++t) {
            const int32_t x = mcu_read_s8x4(filter + t * ch + 4 * g);
            int32_t e = __sxtb16(x), o = mcu_sxtb16_ror8(x);
            if (folded) { /* doubled */
                e = __sadd16(e, e);
                o = __sadd16(o, o);
            }
            rec[2 * t] = e;
            rec[2 * t + 1] = o;
        }
        if (folded) {
            for (int32_t i = 0; i < 4; ++i) {
                const int32_t c = 4 * g + i, r = -quant->shift[per_ch ? c : 0];
                rec[18 + i] = 2 * (bias ? bias[c] : 0);
                rec[22 + i] = quant->multiplier[per_ch ? c : 0];
                rec[26 + i] = (1 << (r - 1)) + (int32_t)((uint32_t)out_off << r);
                rec[30 + i] = r;
            }
        }
    }
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


/* One tap of a 4-channel group: input word at p, weight pairs at q[0], q[1]. The weight
 * loads are split by the input load so that GCC does not fuse them into an LDRD (which does
 * not pipeline: 3 cycles against 2). */
#define MCU_DW_TAP(p, q)                                                                      \
    do {                                                                                      \
        const int32_t w02_ = (q)[0];                                                          \
        int32_t x_ = mcu_read_s8x4(p);                                                        \
        const int32_t w13_ = (q)[1];                                                          \
        const int32_t xo_ = mcu_sxtab16_ror8(off2, x_);                                       \
        x_ = __sxtab16(off2, x_);                                                             \
        a0 = __smlabb(w02_, x_, a0);                                                          \
        a2 = __smlatt(w02_, x_, a2);                                                          \
        a1 = __smlabb(w13_, xo_, a1);                                                         \
        a3 = __smlatt(w13_, xo_, a3);                                                         \
    } while (0)

typedef struct {
    const int8_t *in;     /* the window's first in-bounds tap, channel c0 */
    const int32_t *w;     /* the int16 weight pairs of that tap, first group */
    int32_t nky, nkx;     /* in-bounds taps */
    int32_t tap_x, tap_y; /* input bytes between taps */
    int32_t wrow;         /* weight words between rows of taps */
    int32_t wgroup;       /* weight words between channel groups */
    int32_t off2;
} mcu_dw_win;

/* The accumulators of ng groups of 4 channels of one output pixel (bias included) into acc.
 * The schedulers are off so the three loads of a tap stay together. A window of three taps
 * per row runs each row without a loop. */
__attribute__((noinline, optimize("no-schedule-insns", "no-schedule-insns2"))) static void
mcu_dw_mac(const mcu_dw_win *v, int32_t ng, const int32_t *bias, int32_t *acc)
{
    const int32_t off2 = v->off2, tap_x = v->tap_x, tap_y = v->tap_y;
    const int32_t nky = v->nky, nkx = v->nkx, wrow = v->wrow, wgroup = v->wgroup;
    const int8_t *in = v->in;
    const int32_t *w = v->w;
    for (int32_t g = 0; g < ng; ++g, in += 4, w += wgroup, acc += 4) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        if (bias) {
            a0 = bias[0];
            a1 = bias[1];
            a2 = bias[2];
            a3 = bias[3];
            bias += 4;
        }
        const int8_t *ip = in;
        const int32_t *wp = w;
        if (nkx == 3) {
            for (int32_t i = nky; i > 0; --i) {
                MCU_DW_TAP(ip, wp);
                MCU_DW_TAP(ip + tap_x, wp + 2);
                const int8_t *ip2 = ip + tap_x;
                ip += tap_y;
                MCU_DW_TAP(ip2 + tap_x, wp + 4);
                wp += wrow;
            }
        } else {
            for (int32_t i = nky; i > 0; --i, ip += tap_y, wp += wrow) {
                const int8_t *p = ip;
                const int32_t *q = wp;
                for (int32_t j = nkx; j > 0; --j, p += tap_x, q += 2)
                    MCU_DW_TAP(p, q);
            }
        }
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
    }
}

/* What the 3x3 group kernel reads besides the record: the input bytes between rows of taps
 * and the activation range as four packed bytes. */
typedef struct {
    int32_t tap_y;
    uint32_t lo4, hi4;
} mcu_dw_geo;

/* One group of 4 channels of one output pixel whose 3x3 window lies inside the input, to the
 * 4 output bytes (returned as one little-endian word). rec: the group's record, words
 * [2t, 2t+1] the DOUBLED weight pairs (2w0, 2w2), (2w1, 2w3) of tap t, [18..21] the doubled
 * bias, [22..25] the multipliers m, [26..29] A = 2^(r-1) + output_offset * 2^r and
 * [30..33] the right shifts r (1..23). p: the window's first input byte of the group.
 * The accumulators hold 2x (x: TFLM's accumulator; |x| < 2^30 is checked per call), so that
 * TFLM's SaturatingRoundingDoublingHighMul is one SMMLAR, floor((2x*m + 2^31) / 2^32), and
 * RoundingDivideByPOT plus the offset is (s + A - [x<0]) >> r:
 *   y + output_offset = (SMMLAR(2x, m, A) + (2x >> 31)) >> r.
 * Inline assembly, because the tap sequence needs 13 registers and GCC 12 spills when the
 * requantization follows it (measured: 225 cycles per group in C, about 145 here):
 *   bias: 4 LDR (5 cycles); per tap: LDR w02, LDR x, LDR w13 (pipelined, 4), SXTAB16 x2
 *   (input + offset), SMLABB/SMLATT x4 = 10 cycles, 9 taps; next row: 3 cycles, twice;
 *   per output: 3 LDR (4), SMMLAR, ADD, ASR, SSAT = 8 cycles;
 *   pack with BFI x3, clamp the four bytes at once with SSUB8/SEL against lo4 and hi4 (9). */
static inline __attribute__((always_inline)) uint32_t mcu_dw_group3x3(const int32_t *rec, const int8_t *p,
                                       const mcu_dw_geo *geo, int32_t off2, int32_t tap_x)
{
#if MCU_NN_ASM
    int32_t a0, a1, a2, a3, x, xo, w02, w13;
#define MCU_DW_ASM_TAP(woff, addr)                                                            \
    "ldr %[w02], [%[rec], #" #woff "]\n\t"                                                    \
    "ldr %[x], " addr "\n\t"                                                                  \
    "ldr %[w13], [%[rec], #" #woff " + 4]\n\t"                                                \
    "sxtab16 %[xo], %[off2], %[x], ror #8\n\t"                                                \
    "sxtab16 %[x], %[off2], %[x]\n\t"                                                         \
    "smlabb %[a0], %[w02], %[x], %[a0]\n\t"                                                   \
    "smlatt %[a2], %[w02], %[x], %[a2]\n\t"                                                   \
    "smlabb %[a1], %[w13], %[xo], %[a1]\n\t"                                                  \
    "smlatt %[a3], %[w13], %[xo], %[a3]\n\t"
#define MCU_DW_ASM_ROW                                                                        \
    MCU_DW_ASM_TAP(ROW_W, "[%[p]]")                                                           \
    MCU_DW_ASM_TAP(ROW_W + 8, "[%[p], %[tx]]")                                                \
    MCU_DW_ASM_TAP(ROW_W + 16, "[%[p], %[tx], lsl #1]")
#define MCU_DW_ASM_NEXT_ROW                                                                   \
    "ldr %[x], [%[geo]]\n\t"                                                                  \
    "add %[p], %[p], %[x]\n\t"
#define MCU_DW_ASM_OUT(acc, i)                                                                \
    "ldr %[w02], [%[rec], #88 + 4 * " #i "]\n\t"                                              \
    "ldr %[w13], [%[rec], #104 + 4 * " #i "]\n\t"                                             \
    "ldr %[xo], [%[rec], #120 + 4 * " #i "]\n\t"                                              \
    "smmlar %[w13], %[" #acc "], %[w02], %[w13]\n\t"                                          \
    "add %[w13], %[w13], %[" #acc "], asr #31\n\t"                                            \
    "asr %[" #acc "], %[w13], %[xo]\n\t"                                                      \
    "ssat %[" #acc "], #8, %[" #acc "]\n\t"
    __asm__("ldr %[a0], [%[rec], #72]\n\t"
            "ldr %[a1], [%[rec], #76]\n\t"
            "ldr %[a2], [%[rec], #80]\n\t"
            "ldr %[a3], [%[rec], #84]\n\t"
            ".equ ROW_W, 0\n\t" MCU_DW_ASM_ROW MCU_DW_ASM_NEXT_ROW
            ".equ ROW_W, 24\n\t" MCU_DW_ASM_ROW MCU_DW_ASM_NEXT_ROW
            ".equ ROW_W, 48\n\t" MCU_DW_ASM_ROW
            MCU_DW_ASM_OUT(a0, 0) MCU_DW_ASM_OUT(a1, 1) MCU_DW_ASM_OUT(a2, 2)
            MCU_DW_ASM_OUT(a3, 3)
            "bfi %[a0], %[a1], #8, #8\n\t"
            "bfi %[a0], %[a2], #16, #8\n\t"
            "bfi %[a0], %[a3], #24, #8\n\t"
            "ldr %[w02], [%[geo], #4]\n\t"
            "ldr %[w13], [%[geo], #8]\n\t"
            "ssub8 %[x], %[a0], %[w02]\n\t"
            "sel %[a0], %[a0], %[w02]\n\t"
            "ssub8 %[x], %[a0], %[w13]\n\t"
            "sel %[a0], %[w13], %[a0]"
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [x] "=&r"(x),
              [xo] "=&r"(xo), [w02] "=&r"(w02), [w13] "=&r"(w13), [p] "+&r"(p)
            : [rec] "r"(rec), [geo] "r"(geo), [off2] "r"(off2), [tx] "r"(tap_x)
            : "cc", "memory");
#undef MCU_DW_ASM_TAP
#undef MCU_DW_ASM_ROW
#undef MCU_DW_ASM_NEXT_ROW
#undef MCU_DW_ASM_OUT
#else /* the same with intrinsics (-O0 builds, MCU_NN_NO_ASM) */
    int32_t a0 = rec[18], a1 = rec[19], a2 = rec[20], a3 = rec[21];
    for (int32_t ky = 0; ky < 3; ++ky, p += geo->tap_y) {
        for (int32_t kx = 0; kx < 3; ++kx) {
            const int32_t t = 3 * ky + kx, x = mcu_read_s8x4(p + kx * tap_x);
            const int32_t xe = __sxtab16(off2, x), xo = mcu_sxtab16_ror8(off2, x);
            a0 = __smlabb(rec[2 * t], xe, a0);
            a2 = __smlatt(rec[2 * t], xe, a2);
            a1 = __smlabb(rec[2 * t + 1], xo, a1);
            a3 = __smlatt(rec[2 * t + 1], xo, a3);
        }
    }
    int32_t acc[4] = {a0, a1, a2, a3};
    uint32_t v = 0;
    for (int32_t i = 0; i < 4; ++i) {
        const int32_t y = (mcu_smmlar(acc[i], rec[22 + i], rec[26 + i]) + (acc[i] >> 31)) >>
                          rec[30 + i];
        v |= (uint32_t)(uint8_t)__ssat(y, 8) << (8 * i);
    }
    (void)__ssub8((int32_t)v, (int32_t)geo->lo4);
    v = (uint32_t)__sel((int32_t)v, (int32_t)geo->lo4);
    (void)__ssub8((int32_t)v, (int32_t)geo->hi4);
    a0 = __sel((int32_t)geo->hi4, (int32_t)v);
#endif
    return (uint32_t)a0;
}

/* A run of npx output pixels whose 3x3 windows lie inside the input, ng groups each. */
typedef struct {
    const int32_t *recs; /* the record of the first group */
    int32_t ng, px_step, out_step, off2, tap_x;
    mcu_dw_geo geo;
} mcu_dw_run;

__attribute__((noinline)) static void mcu_dw_run3x3(const mcu_dw_run *r, const int8_t *in,
                                                    int8_t *out, int32_t npx)
{
    const int32_t ng = r->ng, off2 = r->off2, tap_x = r->tap_x;
    for (; npx > 0; --npx, in += r->px_step, out += r->out_step) {
        const int32_t *rec = r->recs;
        const int8_t *p = in;
        int8_t *o = out;
        for (int32_t g = ng; g > 0; --g, rec += MCU_DW_REC3X3, p += 4, o += 4) {
            const uint32_t v = mcu_dw_group3x3(rec, p, &r->geo, off2, tap_x);
            memcpy(o, &v, 4);
        }
    }
}

/* An output pixel of a 3x3 filter whose window leaves the input: 16 channels at a time, the
 * window is copied into a 9 x 16 byte buffer (a tap outside the input reads zp_row, C4 bytes
 * of the input zero point: 0 after the offset, no branch in the copy) and the interior kernel
 * runs on the buffer. y0, x0: the window's origin. */
typedef struct {
    const int8_t *in_b, *zp_row;
    int32_t y0, x0, in_h, in_w, dil_h, dil_w, row, ch;
} mcu_dw_border;

__attribute__((noinline)) static void mcu_dw_border3x3(const mcu_dw_run *r,
                                                       const mcu_dw_border *e, int8_t *out)
{
    const int8_t *src[9];
    int32_t t = 0;
    for (int32_t ky = 0; ky < 3; ++ky) {
        const int32_t y = e->y0 + ky * e->dil_h;
        for (int32_t kx = 0; kx < 3; ++kx, ++t) {
            const int32_t x = e->x0 + kx * e->dil_w;
            src[t] = y >= 0 && y < e->in_h && x >= 0 && x < e->in_w
                         ? e->in_b + y * e->row + x * e->ch
                         : e->zp_row;
        }
    }
    int32_t win[9 * 4]; /* tap t, group g: win[4t + g] */
    mcu_dw_run w = *r;
    w.px_step = 0;
    w.tap_x = 16;
    w.geo.tap_y = 48;
    for (int32_t c0 = 0; c0 < 4 * r->ng; c0 += 16, out += 16) {
        const int32_t n = 4 * r->ng - c0 < 16 ? 4 * r->ng - c0 : 16;
        for (t = 0; t < 9; ++t) {
            const int8_t *p = src[t] + c0;
            int32_t *d = win + 4 * t;
            if (n == 16) {
                const int32_t a = mcu_read_s8x4(p), b = mcu_read_s8x4(p + 4);
                const int32_t c = mcu_read_s8x4(p + 8), f = mcu_read_s8x4(p + 12);
                d[0] = a;
                d[1] = b;
                d[2] = c;
                d[3] = f;
            } else {
                for (int32_t i = 0; i < n; i += 4)
                    d[i >> 2] = mcu_read_s8x4(p + i);
            }
        }
        w.recs = r->recs + (c0 >> 2) * MCU_DW_REC3X3;
        w.ng = n >> 2;
        mcu_dw_run3x3(&w, (const int8_t *)win, out, 1);
    }
}

#undef MCU_DW_TAP

/* Requantizes n accumulators (channel i with rq[i * rq_step]). */
static void mcu_dw_store(const int32_t *acc, int32_t n, const mcu_rq *rq, int32_t rq_step,
                         int fast, int32_t out_off, int32_t lo, int32_t hi, int8_t *out)
{
    if (fast) {
        for (int32_t i = 0; i < n; ++i, rq += rq_step)
            out[i] = (int8_t)mcu_rq_clamp(mcu_rq_right(acc[i], rq) + out_off, lo, hi);
        return;
    }
    for (int32_t i = 0; i < n; ++i, rq += rq_step)
        out[i] = mcu_rq_out(acc[i], rq, out_off, lo, hi);
}

/* One input channel, M outputs: a convolution with the filter transposed to [M][KH][KW][1]. */
static mcu_status mcu_dw_as_conv(const mcu_context *ctx, const mcu_dw_conv_params *params,
                                 const mcu_quant_params *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output)
{
    void *scratch;
    const mcu_status st = mcu_scratch(
        ctx, mcu_depthwise_conv_s8_get_buffer_size(input_dims, filter_dims), &scratch);
    if (st != MCU_OK)
        return st;
    const int32_t m = filter_dims->c, taps = filter_dims->h * filter_dims->w;
    const int32_t fbytes = mcu_dw_filter_bytes(filter_dims);
    int8_t *wt = (int8_t *)scratch;
    for (int32_t t = 0; t < taps; ++t)
        for (int32_t o = 0; o < m; ++o)
            wt[o * taps + t] = filter[t * m + o];
    const mcu_dims cf = {m, filter_dims->h, filter_dims->w, 1};
    mcu_conv_params cp;
    cp.input_offset = params->input_offset;
    cp.output_offset = params->output_offset;
    cp.stride = params->stride;
    cp.padding = params->padding;
    cp.dilation = params->dilation;
    cp.activation = params->activation;
    const mcu_context cctx = {wt + fbytes, ctx->size - fbytes};
    return mcu_conv_s8(&cctx, &cp, quant, input_dims, input, &cf, wt, bias, output_dims, output);
}

/* Multiplier M > 1, C > 1 input channels: per output pixel and input channel, its M outputs
 * four at a time (weights of one tap adjacent in the filter: one word, SXTB16 plain and
 * ROR #8, SMLABB/SMLATB against the input value held in the bottom half), then M % 4 one by
 * one. No scratch. */
static mcu_status mcu_dw_mult(const mcu_dw_conv_params *params, const mcu_quant_params *quant,
                              const mcu_dims *input_dims, const int8_t *input,
                              const mcu_dims *filter_dims, const int8_t *filter,
                              const int32_t *bias, const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, out_c = filter_dims->c;
    const int32_t mult = params->ch_mult, m4 = mult & ~3;
    const int32_t dil_h = params->dilation.h, dil_w = params->dilation.w;
    const int32_t in_off = params->input_offset, out_off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t tap_x = dil_w * ch, tap_y = dil_h * in_w * ch;
    const int32_t wrow = k_w * out_c;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            int32_t ky0, ky1;
            mcu_dw_tap_range(y0, dil_h, k_h, in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                int32_t kx0, kx1;
                mcu_dw_tap_range(x0, dil_w, k_w, in_w, &kx0, &kx1);
                const int32_t nky = ky1 - ky0, nkx = kx1 - kx0;
                const int8_t *in0 =
                    in_b + ((y0 + ky0 * dil_h) * in_w + x0 + kx0 * dil_w) * ch;
                const int8_t *w0 = filter + ky0 * wrow + kx0 * out_c;
                for (int32_t ic = 0; ic < ch; ++ic, in0 += 1, w0 += mult) {
                    int32_t oc = ic * mult, m = 0;
                    for (; m < m4; m += 4, oc += 4) {
                        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                        if (bias) {
                            a0 = bias[oc];
                            a1 = bias[oc + 1];
                            a2 = bias[oc + 2];
                            a3 = bias[oc + 3];
                        }
                        const int8_t *ip = in0, *wp = w0 + m;
                        for (int32_t i = nky; i > 0; --i, ip += tap_y, wp += wrow) {
                            const int8_t *p = ip, *q = wp;
                            for (int32_t j = nkx; j > 0; --j, p += tap_x, q += out_c) {
                                const int32_t x = *p + in_off, w = mcu_read_s8x4(q);
                                const int32_t w02 = __sxtb16(w), w13 = mcu_sxtb16_ror8(w);
                                a0 = __smlabb(w02, x, a0);
                                a2 = __smlatb(w02, x, a2);
                                a1 = __smlabb(w13, x, a1);
                                a3 = __smlatb(w13, x, a3);
                            }
                        }
                        const int32_t acc[4] = {a0, a1, a2, a3};
                        for (int32_t i = 0; i < 4; ++i)
                            output[oc + i] = mcu_output_s8(acc[i], mcu_quant_mult(quant, oc + i),
                                                           mcu_quant_shift(quant, oc + i),
                                                           out_off, lo, hi);
                    }
                    for (; m < mult; ++m, ++oc) {
                        int32_t acc = bias ? bias[oc] : 0;
                        const int8_t *ip = in0, *wp = w0 + m;
                        for (int32_t i = nky; i > 0; --i, ip += tap_y, wp += wrow) {
                            const int8_t *p = ip, *q = wp;
                            for (int32_t j = nkx; j > 0; --j, p += tap_x, q += out_c)
                                acc += (*p + in_off) * *q;
                        }
                        output[oc] = mcu_output_s8(acc, mcu_quant_mult(quant, oc),
                                                   mcu_quant_shift(quant, oc), out_off, lo, hi);
                    }
                }
                output += out_c;
            }
        }
    }
    return MCU_OK;
}

static mcu_status mcu_dw_mult1(const mcu_context *ctx, const mcu_dw_conv_params *params,
                               const mcu_quant_params *quant, const mcu_dims *input_dims,
                               const int8_t *input, const mcu_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias,
                               const mcu_dims *output_dims, int8_t *output);

mcu_status mcu_depthwise_conv_s8(const mcu_context *ctx, const mcu_dw_conv_params *params,
                                 const mcu_quant_params *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output)
{
    mcu_status st = mcu_check_dw(params, quant, input_dims, input, filter_dims, filter,
                                 output_dims, output);
    if (st != MCU_OK)
        return st;
    if (params->ch_mult != 1)
        return input_dims->c == 1 ? mcu_dw_as_conv(ctx, params, quant, input_dims, input,
                                                   filter_dims, filter, bias, output_dims, output)
                                  : mcu_dw_mult(params, quant, input_dims, input, filter_dims,
                                                filter, bias, output_dims, output);
    return mcu_dw_mult1(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                        output_dims, output);
}

/* Multiplier 1 (in its own frame: the multiplier > 1 paths above, which call mcu_conv_s8, do
 * not carry its stack). */
__attribute__((noinline)) static mcu_status
mcu_dw_mult1(const mcu_context *ctx, const mcu_dw_conv_params *params,
             const mcu_quant_params *quant, const mcu_dims *input_dims, const int8_t *input,
             const mcu_dims *filter_dims, const int8_t *filter, const int32_t *bias,
             const mcu_dims *output_dims, int8_t *output)
{
    mcu_status st;
    void *scratch;
    st = mcu_scratch(ctx, mcu_depthwise_conv_s8_get_buffer_size(input_dims, filter_dims),
                     &scratch);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, ch4 = ch & ~3;
    const int32_t taps = k_h * k_w, groups = ch4 >> 2;
    const int32_t row = in_w * ch;
    const int32_t *mult = quant->multiplier, *shift = quant->shift;
    const int32_t per_ch = quant->per_channel ? 1 : 0;
    const int32_t in_off = params->input_offset;

    /* one record per group of 4 channels: tap t at rec[2t], rec[2t + 1]: (w0, w2), (w1, w3) */
    int32_t *w16 = (int32_t *)scratch;
    const int32_t wgroup = mcu_dw_rec_words(filter_dims);
    const int is3x3 = wgroup == MCU_DW_REC3X3;
    const int32_t out_off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    /* The 3x3 kernel's requantization (mcu_dw_group3x3) needs right shifts of 1..23 and
     * |accumulator| < 2^30 (it accumulates twice the sum): |bias| <= 2^29 and 9 taps of at
     * most 128 * 255 leave a wide margin. */
    int folded = is3x3;
    for (int32_t c = 0; c < ch; ++c) {
        const int32_t sh = shift[per_ch ? c : 0], bc = bias ? bias[c] : 0;
        folded &= sh <= -1 && sh >= -23 && bc <= (1 << 29) && bc >= -(1 << 29);
    }
    /* groups per block: the records in scratch are those of one block */
    const int32_t block = mcu_dw_block_groups(input_dims, filter_dims);
    if (folded) /* the zero point row of mcu_dw_border3x3, after one block's records */
        memset(w16 + block * wgroup, (uint8_t)(-in_off), (size_t)(4 * block));

    mcu_dw_win v;
    v.tap_x = params->dilation.w * ch;
    v.tap_y = params->dilation.h * row;
    v.wgroup = wgroup;
    v.wrow = 2 * k_w;
    v.off2 = mcu_dup16(in_off);
    mcu_rq rq[MCU_DW_CHUNK];
    int32_t acc[MCU_DW_CHUNK];
    mcu_dw_run run;
    run.ng = groups;
    run.recs = w16;
    run.px_step = params->stride.w * ch;
    run.out_step = ch;
    run.off2 = v.off2;
    run.tap_x = v.tap_x;
    run.geo.tap_y = v.tap_y;
    run.geo.lo4 = 0x01010101u * (uint8_t)lo;
    run.geo.hi4 = 0x01010101u * (uint8_t)hi;

    mcu_dw_border border;
    border.in_h = in_h;
    border.in_w = in_w;
    border.dil_h = params->dilation.h;
    border.dil_w = params->dilation.w;
    border.row = row;
    border.ch = ch;
    border.zp_row = (const int8_t *)(w16 + block * wgroup);

    const int kernel3x3 = folded && groups > 0; /* every group by mcu_dw_group3x3 */
    if (kernel3x3) {
        /* output pixels [ox_in0, ox_in1) of a row have every tap inside horizontally */
        const int32_t sw = params->stride.w, pw = params->padding.w;
        const int32_t last = in_w - 1 - 2 * params->dilation.w + pw;
        const int32_t out_h = output_dims->h, out_w = output_dims->w;
        int32_t ox_in0 = (pw + sw - 1) / sw, ox_in1 = last < 0 ? 0 : last / sw + 1;
        if (ox_in1 > out_w)
            ox_in1 = out_w;
        if (ox_in0 > ox_in1)
            ox_in0 = ox_in1;
        /* one block of channels at a time: its records in scratch, then every pixel */
        for (int32_t g0 = 0; g0 < groups; g0 += block) {
            const int32_t nb = groups - g0 < block ? groups - g0 : block;
            mcu_dw_records(w16, filter, ch, taps, wgroup, g0, nb, 1, bias, quant, out_off);
            run.ng = nb;
            int8_t *out = output + 4 * g0;
            for (int32_t b = 0; b < output_dims->n; ++b) {
                border.in_b = input + b * in_h * row + 4 * g0;
                for (int32_t oy = 0; oy < out_h; ++oy, out += out_w * ch) {
                    const int32_t y0 = oy * params->stride.h - params->padding.h;
                    const int y_inside = y0 >= 0 && y0 + 2 * params->dilation.h < in_h;
                    const int32_t run0 = y_inside ? ox_in0 : out_w;
                    const int32_t run1 = y_inside ? ox_in1 : out_w;
                    border.y0 = y0;
                    for (int32_t ox = 0; ox < out_w; ++ox) {
                        if (ox == run0 && run1 > run0) {
                            const int32_t x0 = ox * sw - pw;
                            mcu_dw_run3x3(&run, border.in_b + y0 * row + x0 * ch, out + ox * ch,
                                          run1 - ox);
                            ox = run1 - 1;
                            continue;
                        }
                        border.x0 = ox * sw - pw;
                        mcu_dw_border3x3(&run, &border, out + ox * ch);
                    }
                }
            }
        }
        if (ch4 == ch)
            return MCU_OK;
    }

    /* Everything else (and the C % 4 channels after the 3x3 kernel): 16 channels at a time. */
    for (int32_t c0 = kernel3x3 ? ch4 & ~(MCU_DW_CHUNK - 1) : 0; c0 < ch; c0 += MCU_DW_CHUNK) {
        const int32_t n = ch - c0 < MCU_DW_CHUNK ? ch - c0 : MCU_DW_CHUNK;
        const int32_t ng = c0 + n <= ch4 ? n >> 2 : (ch4 - c0) >> 2;
        const int32_t ng_px = kernel3x3 ? 0 : ng; /* groups this pass computes */
        int fast = 1;
        for (int32_t i = 0; i < (per_ch ? n : 1); ++i) {
            mcu_rq_init(&rq[i], mult[per_ch ? c0 + i : 0], shift[per_ch ? c0 + i : 0]);
            fast &= rq[i].rm1 >= 0;
        }
        if (ng_px > 0)
            mcu_dw_records(w16, filter, ch, taps, wgroup, c0 >> 2, ng_px, 0, bias, quant, 0);
        const int32_t *bias_c0 = bias ? bias + c0 : 0;
        const int32_t c_from = 4 * (ng - ng_px); /* 0, or the C % 4 channels */
        int8_t *out = output + c0;
        for (int32_t b = 0; b < output_dims->n; ++b) {
            const int8_t *in_b = input + b * in_h * row;
            for (int32_t oy = 0; oy < output_dims->h; ++oy) {
                const int32_t y0 = oy * params->stride.h - params->padding.h;
                int32_t ky0, ky1;
                mcu_dw_tap_range(y0, params->dilation.h, k_h, in_h, &ky0, &ky1);
                v.nky = ky1 - ky0;
                for (int32_t ox = 0; ox < output_dims->w; ++ox, out += ch) {
                    const int32_t x0 = ox * params->stride.w - params->padding.w;
                    int32_t kx0, kx1;
                    mcu_dw_tap_range(x0, params->dilation.w, k_w, in_w, &kx0, &kx1);
                    v.nkx = kx1 - kx0;
                    const int32_t tap0 = ky0 * k_w + kx0;
                    v.in = in_b + (y0 + ky0 * params->dilation.h) * row +
                           (x0 + kx0 * params->dilation.w) * ch + c0;
                    v.w = w16 + 2 * tap0;
                    if (ng_px > 0) {
                        if (v.nky > 0 && v.nkx > 0) {
                            mcu_dw_mac(&v, ng_px, bias_c0, acc);
                        } else { /* no tap inside: bias only */
                            for (int32_t c = 0; c < 4 * ng_px; ++c)
                                acc[c] = bias_c0 ? bias_c0[c] : 0;
                        }
                    }
                    for (int32_t c = 4 * ng; c < n; ++c) { /* C % 4 channels */
                        int32_t s = bias_c0 ? bias_c0[c] : 0;
                        const int8_t *in_y = v.in + c, *w_y = filter + tap0 * ch + c0 + c;
                        for (int32_t i = 0; i < v.nky; ++i, in_y += v.tap_y, w_y += k_w * ch)
                            for (int32_t j = 0; j < v.nkx; ++j)
                                s += w_y[j * ch] * (in_y[j * v.tap_x] + in_off);
                        acc[c] = s;
                    }
                    mcu_dw_store(acc + c_from, n - c_from, rq + c_from * per_ch, per_ch, fast,
                                 out_off, lo, hi, out + c_from);
                }
            }
        }
    }
    return MCU_OK;
}
#endif
