/*
 * mcu_fully_connected_s8 - optimized flavour (Cortex-M DSP extension).
 * The input row is converted once per batch to int16 with the input offset added, reordered
 * (x0, x2, x1, x3) per group of 4 to match SXTB16's even/odd halves (scratch: 2 bytes per
 * input value). Then four output rows per pass share each pair of input loads, in inline
 * assembly (mcu_fc_dot4: 14 registers, 4 accumulators, 3 pointers, the row stride and 6
 * operands): per 4 inputs, the two input words and three weight words are loaded back to
 * back (the loads pipeline: 6 cycles), the fourth weight word once a register is free
 * (2 cycles), each weight word is sign-extended by SXTB16 (plain and ROR #8) and fed to two
 * SMLADs: 24 cycles for 16 MACs, unrolled 8 times; the output stage has the lean passes' form
 * (four outputs packed, clamped at once, one word stored). Four rows per pass instead of three
 * (same cycles per MAC in the loop, the pass's fixed cost shared by one row more; measured:
 * ae_anomaly 64 -> 64 12,486 -> 10,761 cycles; unrolled 4 times instead of 8 the whole model
 * took 68,923 cycles against 68,170 in an earlier state of this file). Rows left
 * over run two (or one) at a time. Small layers (at most four rows or 1,024 MACs) skip the
 * conversion, its scratch and most of the per-call set-up: the lean passes (mcu_fc_lean4_*,
 * _lean2_*, _lean1_*), four or two rows per pass against the int8 input (SXTAB16) in inline
 * assembly, called from the entry function, which checks the arguments and dispatches (the
 * large path is a function of its own, mcu_fc_big). Layers of depth 4, 8, 12 or 16 and
 * more than 16 rows need no scratch either: the widened input (at most 8 words)
 * is computed once into registers and each row costs its weight loads, SXTB16s and SMLADs and
 * an output stage with every constant in a register (mcu_fc_short; the 4-row passes' set-up
 * and output stages would outweigh the few MACs per row).
 * A non-zero filter offset is folded in as filter_offset * sum(x + input_offset). Requantization right after each pass: SMMLAR per
 * output (mcu_rq2) when the shift is a right shift of 1..23 and the accumulator stays within
 * 2^29 (checked per row), else mcu_rq (any shift).
 * Without the DSP extension (Cortex-M0+/M3) this file is the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/fully_connected/mcu_fully_connected_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

/* Layers of at most this many output rows read the int8 input directly (the lean passes):
 * widening it first costs more than the few rows that would share it. */
#define MCU_FC_DIRECT_ROWS 4
/* Layers of depth a multiple of 4 up to this keep the widened input in registers. */
#define MCU_FC_SHORT_DEPTH 16

static inline int mcu_fc_short_depth(int32_t depth)
{
    return depth <= MCU_FC_SHORT_DEPTH && (depth & 3) == 0;
}

/* Small layers run the lean passes: few rows, or few MACs (where the widened input's set-up and
 * the 4-row passes' fixed costs outweigh their faster inner loop; measured with 256 here:
 * ae_anomaly 64 -> 8 1,713 -> 1,954 cycles, kws_fc 32 -> 16 2,120 -> 2,248). */
#define MCU_FC_LEAN_MACS 1024
static inline int mcu_fc_lean_ok(int32_t depth, int32_t rows)
{
    return rows <= MCU_FC_DIRECT_ROWS || depth * rows <= MCU_FC_LEAN_MACS;
}

/* Scratch of the converted input, for a layer the large path runs (mcu_fc_big). */
static inline int32_t mcu_fc_x16_bytes(int32_t depth)
{
    return mcu_fc_short_depth(depth) ? 0 : (int32_t)sizeof(int16_t) * ((depth + 3) & ~3);
}

int32_t mcu_fully_connected_s8_get_buffer_size(const mcu_dims *filter_dims)
{
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    return mcu_fc_lean_ok(depth, filter_dims->n) ? 0 : mcu_fc_x16_bytes(depth);
}

/* What the row passes need besides the weights. */
typedef struct {
    const int16_t *x; /* the converted input */
    int32_t depth, fold, per_ch, out_off, lo, hi;
    const int32_t *bias, *mult, *shift;
    int32_t oo; /* 2 * output offset + 1 (mcu_fc_lean_rq) */
    const mcu_fc_params *params;
    int fused;  /* per tensor: the shift suits mcu_rq2; per channel: set (checked per row) */
    mcu_rq2 q2; /* per tensor */
    mcu_rq q;   /* per tensor, general path */
    int8_t *out;
} mcu_fc_ctx;

/* Accumulator start of row o: bias plus the filter-offset fold. */
static inline int32_t mcu_fc_init(const mcu_fc_ctx *c, int32_t o)
{
    return c->fold + (c->bias ? c->bias[o] : 0);
}

/* Row o's accumulator through mcu_rq (any shift): rare, kept out of the row passes' code. */
__attribute__((noinline, cold)) static int8_t mcu_fc_out_rq(const mcu_fc_ctx *c, int32_t o,
                                                            int32_t acc)
{
    mcu_rq q = c->q;
    if (c->per_ch)
        mcu_rq_init(&q, c->mult[o], c->shift[o]);
    return mcu_rq_out(acc, &q, c->out_off, c->lo, c->hi);
}

/* Row o's accumulator requantized and clamped (returned, not stored: the int8 store could
 * alias the context, so several rows' outputs are computed before any is stored). SMMLAR
 * (mcu_rq2) when the shift is a right shift of 1..23 (per tensor: checked once per call, `fused`;
 * per channel, pc: row o's, here) and |acc| <= 2^29 (here: two compares instead of a scan of
 * every bias and shift per call), else mcu_rq. */
static inline __attribute__((always_inline)) int8_t mcu_fc_out_g(const mcu_fc_ctx *c, int32_t o,
                                                                int32_t acc, const int pc)
{
    const int acc_ok = (uint32_t)acc + MCU_RQ2_MAX_ACC <= 2u * MCU_RQ2_MAX_ACC;
    if (pc) {
        const int32_t sh = c->shift[o];
        if (__builtin_expect(mcu_rq2_ok(sh) && acc_ok, 1)) {
            mcu_rq2 q;
            mcu_rq2_init(&q, c->mult[o], sh, c->out_off);
            return (int8_t)mcu_rq_clamp(mcu_rq2_apply(acc, &q), c->lo, c->hi);
        }
    } else if (__builtin_expect(c->fused && acc_ok, 1)) {
        return (int8_t)mcu_rq_clamp(mcu_rq2_apply(acc, &c->q2), c->lo, c->hi);
    }
    return mcu_fc_out_rq(c, o, acc);
}

static inline __attribute__((always_inline)) int8_t mcu_fc_out(const mcu_fc_ctx *c, int32_t o,
                                                              int32_t acc)
{
    return c->per_ch ? mcu_fc_out_g(c, o, acc, 1) : mcu_fc_out_g(c, o, acc, 0);
}

/* Requantizes, clamps and stores row o's accumulator. */
static inline __attribute__((always_inline)) void mcu_fc_store(const mcu_fc_ctx *c, int32_t o,
                                                              int32_t acc)
{
    c->out[o] = mcu_fc_out(c, o, acc);
}

/* One group of 4 inputs (two words of the converted input) for four weight rows w (row 0),
 * w + d, w + 2d (register offset, LSL #1) and w3: the input words and three weight words
 * loaded back to back (6 cycles), row 1 extended (SXTB16 plain and ROR #8, t the temporary)
 * and fed to two SMLADs, row 0's word loaded into t (2 cycles: after an SMLAD), then rows 2,
 * 3 and 0, each extended into the register the row before freed: 24 cycles for 16 MACs.
 * Fourteen registers: 4 accumulators, 3 pointers and the row stride, 6 operands. */
#define MCU_FC_ASM_G4                                                                         \
    "ldr %[x02], [%[x]], #4\n\t"                                                               \
    "ldr %[a], [%[w], %[d]]\n\t"                                                               \
    "ldr %[x13], [%[x]], #4\n\t"                                                               \
    "ldr %[b], [%[w], %[d], lsl #1]\n\t"                                                       \
    "ldr %[c], [%[w3]], #4\n\t"                                                                \
    "sxtb16 %[t], %[a]\n\t"                                                                   \
    "smlad %[s1], %[t], %[x02], %[s1]\n\t"                                                     \
    "sxtb16 %[a], %[a], ror #8\n\t"                                                           \
    "smlad %[s1], %[a], %[x13], %[s1]\n\t"                                                     \
    "ldr %[t], [%[w]], #4\n\t"                                                                 \
    "sxtb16 %[a], %[b]\n\t"                                                                   \
    "smlad %[s2], %[a], %[x02], %[s2]\n\t"                                                     \
    "sxtb16 %[b], %[b], ror #8\n\t"                                                           \
    "smlad %[s2], %[b], %[x13], %[s2]\n\t"                                                     \
    "sxtb16 %[b], %[c]\n\t"                                                                   \
    "smlad %[s3], %[b], %[x02], %[s3]\n\t"                                                     \
    "sxtb16 %[c], %[c], ror #8\n\t"                                                           \
    "smlad %[s3], %[c], %[x13], %[s3]\n\t"                                                     \
    "sxtb16 %[c], %[t]\n\t"                                                                   \
    "smlad %[s0], %[c], %[x02], %[s0]\n\t"                                                     \
    "sxtb16 %[t], %[t], ror #8\n\t"                                                           \
    "smlad %[s0], %[t], %[x13], %[s0]\n\t"

/* The asm loop over MCU_FC_ASM_G4 groups (`body`, G of them) until x reaches *end (in memory:
 * no register is left; 6 cycles of loop overhead per iteration). */
#define MCU_FC_ASM_LOOP4(body)                                                                \
    __asm__ volatile("1:\n\t" body "ldr %[t], %[end]\n\t"                                       \
                     "cmp %[x], %[t]\n\t"                                                      \
                     "bne 1b"                                                                 \
                     : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [x] "+r"(x), \
                       [w] "+r"(w), [w3] "+r"(w3), [x02] "=&r"(x02), [x13] "=&r"(x13),       \
                       [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [t] "=&r"(t)                \
                     : [d] "r"(d), [end] "m"(end)                                             \
                     : "cc", "memory")

/* Dot products of four rows (w, depth apart) with the converted input x: 32 inputs per step
 * while they last, then groups of 4, then depth % 4 inputs; the accumulators start from and
 * return in s[0 .. 4). */
static inline __attribute__((always_inline)) void
mcu_fc_dot4(const int16_t *x, const int8_t *w, int32_t depth, int32_t *s)
{
    int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    const int32_t d = depth;
    const int8_t *w3 = w + 3 * depth;
#if MCU_NN_ASM
    int32_t x02, x13, a, b, c, t;
    const int16_t *end = x + (depth & ~31);
    if (x != end)
        MCU_FC_ASM_LOOP4(MCU_FC_ASM_G4 MCU_FC_ASM_G4 MCU_FC_ASM_G4 MCU_FC_ASM_G4 MCU_FC_ASM_G4
                             MCU_FC_ASM_G4 MCU_FC_ASM_G4 MCU_FC_ASM_G4);
    /* the rest after the hot path (most layers' depth is a multiple of 32) */
    if (__builtin_expect(depth & 31, 0)) {
        end = x + (depth & 28);
        if (x != end)
            MCU_FC_ASM_LOOP4(MCU_FC_ASM_G4);
#else
    {
        for (int32_t k = depth >> 2; k > 0; --k) {
            const int32_t x02 = mcu_read_s16x2(x), x13 = mcu_read_s16x2(x + 2);
            int32_t v = mcu_read_s8x4(w);
            s0 = __smlad(mcu_sxtb16_ror8(v), x13, __smlad(__sxtb16(v), x02, s0));
            v = mcu_read_s8x4(w + d);
            s1 = __smlad(mcu_sxtb16_ror8(v), x13, __smlad(__sxtb16(v), x02, s1));
            v = mcu_read_s8x4(w + 2 * d);
            s2 = __smlad(mcu_sxtb16_ror8(v), x13, __smlad(__sxtb16(v), x02, s2));
            v = mcu_read_s8x4(w3);
            s3 = __smlad(mcu_sxtb16_ror8(v), x13, __smlad(__sxtb16(v), x02, s3));
            x += 4;
            w += 4;
            w3 += 4;
        }
#endif
        for (int32_t k = 0; k < (depth & 3); ++k) {
            s0 += w[k] * x[k];
            s1 += w[d + k] * x[k];
            s2 += w[2 * d + k] * x[k];
            s3 += w3[k] * x[k];
        }
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}
#undef MCU_FC_ASM_LOOP4
#undef MCU_FC_ASM_G4

/* The same for two weight rows (w0, w1): 13 cycles for 8 MACs. */
#define MCU_FC_2(o)                                                                           \
    do {                                                                                      \
        const int32_t x02 = mcu_read_s16x2(x + (o)), x13 = mcu_read_s16x2(x + (o) + 2);       \
        int32_t a = mcu_read_s8x4(w0 + (o)), b = mcu_read_s8x4(w1 + (o));                     \
        int32_t t = __sxtb16(a);                                                              \
        s0 = __smlad(t, x02, s0);                                                             \
        a = mcu_sxtb16_ror8(a);                                                               \
        s0 = __smlad(a, x13, s0);                                                             \
        t = __sxtb16(b);                                                                      \
        s1 = __smlad(t, x02, s1);                                                             \
        b = mcu_sxtb16_ror8(b);                                                               \
        s1 = __smlad(b, x13, s1);                                                             \
    } while (0)

__attribute__((noinline, optimize("no-schedule-insns", "no-schedule-insns2"))) static void
mcu_fc_dot2(const int8_t *w0, int32_t depth, const int16_t *x, int32_t *acc)
{
    int32_t s0 = acc[0], s1 = acc[1];
    const int8_t *w1 = w0 + depth;
    const int16_t *x16 = x + (depth & ~15);
    while (x != x16) {
        MCU_FC_2(0);
        MCU_FC_2(4);
        MCU_FC_2(8);
        MCU_FC_2(12);
        x += 16;
        w0 += 16;
        w1 += 16;
    }
    for (int32_t i = (depth >> 2) & 3; i > 0; --i) {
        MCU_FC_2(0);
        x += 4;
        w0 += 4;
        w1 += 4;
    }
    for (int32_t k = 0; k < (depth & 3); ++k) {
        s0 += w0[k] * x[k];
        s1 += w1[k] * x[k];
    }
    acc[0] = s0;
    acc[1] = s1;
}
#undef MCU_FC_2

static inline int32_t mcu_fc_dot1(const int8_t *w, const int16_t *x, int32_t depth, int32_t s)
{
    for (int32_t k = depth >> 2; k > 0; --k) {
        const int32_t x02 = mcu_read_s16x2(x), x13 = mcu_read_s16x2(x + 2);
        const int32_t a = mcu_read_s8x4(w);
        x += 4;
        w += 4;
        s = __smlad(__sxtb16(a), x02, s);
        s = __smlad(mcu_sxtb16_ror8(a), x13, s);
    }
    for (int32_t k = 0; k < (depth & 3); ++k)
        s += w[k] * x[k];
    return s;
}

/* One row of a short layer: G weight words against x[0 .. 2G). */
#define MCU_FC_SHORT_DOT(s)                                                                   \
    _Pragma("GCC unroll 4") for (int g = 0; g < G; ++g)                                       \
    {                                                                                         \
        const int32_t wv = mcu_read_s8x4(w + 4 * g);                                          \
        s = __smlad(__sxtb16(wv), x[2 * g], s);                                               \
        s = __smlad(mcu_sxtb16_ror8(wv), x[2 * g + 1], s);                                    \
    }

/* Rows [o, out_ch) of a short layer through mcu_rq (not `fused`, past the SMMLAR bound or a
 * channel's shift outside 1..23: rare, so one copy for every G). */
__attribute__((noinline)) static void mcu_fc_short_rest(const mcu_fc_ctx *c, const int32_t *x,
                                                        const int8_t *w, int32_t o,
                                                        int32_t out_ch, int G)
{
    for (; o < out_ch; ++o) {
        int32_t s = mcu_fc_init(c, o);
        for (int g = 0; g < G; ++g, w += 4) {
            const int32_t wv = mcu_read_s8x4(w);
            s = __smlad(__sxtb16(wv), x[2 * g], s);
            s = __smlad(mcu_sxtb16_ror8(wv), x[2 * g + 1], s);
        }
        mcu_rq q = c->q;
        if (c->per_ch)
            mcu_rq_init(&q, c->mult[o], c->shift[o]);
        c->out[o] = mcu_rq_out(s, &q, c->out_off, c->lo, c->hi);
    }
}

/* Every row against a short input (depth 4 * G, G <= 4) widened once into x[0 .. 2G): per row
 * G weight loads, 2G SXTB16 and 2G SMLAD, then the output stage. With requantization by
 * mcu_rq2 (right shifts of 1..23: per tensor `fused`, per channel checked per row) the stage
 * keeps its constants in registers (per channel: derived per row) and checks the accumulator
 * bound per row (a row beyond 2^29 or with another shift, and every row after it, takes
 * mcu_rq). The per-row shift check replaced a scan of every shift per call (11.7 cycles per
 * channel there: ae_anomaly 8 -> 64 4,500 -> 4,017 cycles). */
static inline __attribute__((always_inline)) void
mcu_fc_short_g(const mcu_fc_ctx *c, const int8_t *in, const int8_t *w, int32_t out_ch,
               int32_t in_off, const int G, const int pc, const int ssat8)
{
    const int32_t off2 = mcu_dup16(in_off);
    int32_t x[8];
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
        const int32_t v = mcu_read_s8x4(in + 4 * g);
        x[2 * g] = __sxtab16(off2, v);
        x[2 * g + 1] = mcu_sxtab16_ror8(off2, v);
    }
    int32_t o = 0;
    if (c->fused) {
        int32_t m = c->q2.m, a = c->q2.a, r = c->q2.r;
        const int32_t lo = c->lo, hi = c->hi, out_off = c->out_off;
        const int32_t fold = c->fold, *mult = c->mult, *shift = c->shift;
        const int32_t *bias = c->bias;
        int8_t *out = c->out, *end = out + out_ch;
        for (; out != end; ++out, w += 4 * G) {
            int32_t s = fold + (bias ? *bias : 0);
            MCU_FC_SHORT_DOT(s)
            if ((uint32_t)s + MCU_RQ2_MAX_ACC > 2u * MCU_RQ2_MAX_ACC)
                break; /* this row and the rest: mcu_rq */
            if (pc) {
                r = -*shift;
                if ((uint32_t)(r - 1) >= 23u)
                    break; /* not a right shift of 1..23: the same */
                ++shift;
                m = *mult++;
                a = (1 << (r - 1)) + (int32_t)((uint32_t)out_off << r);
            }
            bias += bias ? 1 : 0;
            const int32_t s2 = (int32_t)((uint32_t)s << 1);
            const int32_t y = (mcu_smmlar(s2, m, a) + (s2 >> 31)) >> r;
            *out = (int8_t)(ssat8 ? __ssat(y, 8) : mcu_rq_clamp(y, lo, hi));
        }
        o = (int32_t)(out - c->out);
    }
    if (o < out_ch)
        mcu_fc_short_rest(c, x, w, o, out_ch, G);
}
#undef MCU_FC_SHORT_DOT

__attribute__((noinline)) static void mcu_fc_short(const mcu_fc_ctx *c, const int8_t *in,
                                                   const int8_t *w, int32_t depth,
                                                   int32_t out_ch, int32_t in_off)
{
    /* no activation clamp beyond int8's range: SSAT #8 */
    const int s8 = c->lo == -128 && c->hi == 127, pc = c->per_ch;
    switch (depth >> 2) {
    case 1: mcu_fc_short_g(c, in, w, out_ch, in_off, 1, pc, s8); break;
    case 2:
        if (pc) {
            if (s8)
                mcu_fc_short_g(c, in, w, out_ch, in_off, 2, 1, 1);
            else
                mcu_fc_short_g(c, in, w, out_ch, in_off, 2, 1, 0);
        } else {
            if (s8)
                mcu_fc_short_g(c, in, w, out_ch, in_off, 2, 0, 1);
            else
                mcu_fc_short_g(c, in, w, out_ch, in_off, 2, 0, 0);
        }
        break;
    case 3: mcu_fc_short_g(c, in, w, out_ch, in_off, 3, pc, s8); break;
    default: mcu_fc_short_g(c, in, w, out_ch, in_off, 4, pc, s8); break;
    }
}

/* R (1, 2 or 4) rows from w (depth apart), n of their inputs, against the int8 input x, the
 * offset added by SXTAB16: per 4 inputs one input load, R weight loads, two SXTAB16, 2R SXTB16
 * and 2R SMLAD. The accumulators start from and return in s[0 .. R). */
static inline __attribute__((always_inline)) void
mcu_fc_lean_rows(const int8_t *x, const int8_t *w, int32_t n, int32_t depth, int32_t in_off,
                 int32_t *s, const int R)
{
    const int32_t off2 = mcu_dup16(in_off), d2 = 2 * depth, d3 = 3 * depth;
    int32_t s0 = s[0], s1 = R > 1 ? s[1] : 0, s2 = R > 2 ? s[2] : 0, s3 = R > 3 ? s[3] : 0;
    const int8_t *end = x + (n & ~3);
    while (x != end) {
        const int32_t v = mcu_read_s8x4(x);
        x += 4;
        const int32_t x02 = __sxtab16(off2, v), x13 = mcu_sxtab16_ror8(off2, v);
        int32_t a = mcu_read_s8x4(w);
        s0 = __smlad(__sxtb16(a), x02, s0);
        s0 = __smlad(mcu_sxtb16_ror8(a), x13, s0);
        if (R > 1) {
            a = mcu_read_s8x4(w + depth);
            s1 = __smlad(__sxtb16(a), x02, s1);
            s1 = __smlad(mcu_sxtb16_ror8(a), x13, s1);
        }
        if (R > 2) {
            a = mcu_read_s8x4(w + d2);
            s2 = __smlad(__sxtb16(a), x02, s2);
            s2 = __smlad(mcu_sxtb16_ror8(a), x13, s2);
            a = mcu_read_s8x4(w + d3);
            s3 = __smlad(__sxtb16(a), x02, s3);
            s3 = __smlad(mcu_sxtb16_ror8(a), x13, s3);
        }
        w += 4;
    }
    for (int32_t k = 0; k < (n & 3); ++k) {
        const int32_t xk = x[k] + in_off;
        s0 += w[k] * xk;
        if (R > 1)
            s1 += w[depth + k] * xk;
        if (R > 2) {
            s2 += w[d2 + k] * xk;
            s3 += w[d3 + k] * xk;
        }
    }
    s[0] = s0;
    if (R > 1)
        s[1] = s1;
    if (R > 2) {
        s[2] = s2;
        s[3] = s3;
    }
}

/* Two rows, 8 inputs per iteration, in inline assembly (GCC spills the unrolled loop's
 * pointers): per 4 inputs the input and both weight words loaded back to back, SXTAB16 x2,
 * SXTB16 x4, SMLAD x4; the compare and branch once per 8 inputs. The 4 and 1-3 inputs left
 * over: mcu_fc_lean_rows. */
static inline __attribute__((always_inline)) void
mcu_fc_lean2_dot(const int8_t *x, const int8_t *w, int32_t depth, int32_t in_off, int32_t *s)
{
    int32_t n = depth;
#if MCU_NN_ASM
    if (depth >= 8) {
        int32_t s0 = s[0], s1 = s[1];
        const int32_t off2 = mcu_dup16(in_off);
        const int8_t *end = x + (depth & ~7);
        int32_t v, x13, a, b, t;
        __asm__ volatile(
            "1:\n\t"
            "ldr %[v], [%[x]], #4\n\t"
            "ldr %[a], [%[w], %[d]]\n\t"
            "ldr %[b], [%[w]], #4\n\t"
            "sxtab16 %[x13], %[off2], %[v], ror #8\n\t"
            "sxtab16 %[v], %[off2], %[v]\n\t"
            "sxtb16 %[t], %[a], ror #8\n\t"
            "sxtb16 %[a], %[a]\n\t"
            "smlad %[s1], %[a], %[v], %[s1]\n\t"
            "smlad %[s1], %[t], %[x13], %[s1]\n\t"
            "sxtb16 %[t], %[b], ror #8\n\t"
            "sxtb16 %[b], %[b]\n\t"
            "smlad %[s0], %[b], %[v], %[s0]\n\t"
            "smlad %[s0], %[t], %[x13], %[s0]\n\t"
            "ldr %[v], [%[x]], #4\n\t"
            "ldr %[a], [%[w], %[d]]\n\t"
            "ldr %[b], [%[w]], #4\n\t"
            "sxtab16 %[x13], %[off2], %[v], ror #8\n\t"
            "sxtab16 %[v], %[off2], %[v]\n\t"
            "sxtb16 %[t], %[a], ror #8\n\t"
            "sxtb16 %[a], %[a]\n\t"
            "smlad %[s1], %[a], %[v], %[s1]\n\t"
            "smlad %[s1], %[t], %[x13], %[s1]\n\t"
            "sxtb16 %[t], %[b], ror #8\n\t"
            "sxtb16 %[b], %[b]\n\t"
            "smlad %[s0], %[b], %[v], %[s0]\n\t"
            "smlad %[s0], %[t], %[x13], %[s0]\n\t"
            "cmp %[x], %[end]\n\t"
            "bne 1b"
            : [s0] "+&r"(s0), [s1] "+&r"(s1), [x] "+&r"(x), [w] "+&r"(w), [v] "=&r"(v),
              [x13] "=&r"(x13), [a] "=&r"(a), [b] "=&r"(b), [t] "=&r"(t)
            : [d] "r"(depth), [off2] "r"(off2), [end] "r"(end)
            : "cc", "memory");
        s[0] = s0;
        s[1] = s1;
        n = depth & 7;
    }
#endif
    mcu_fc_lean_rows(x, w, n, depth, in_off, s, 2);
}

/* Four rows: the same in inline assembly, because the loop needs all 14 registers (4
 * accumulators, input, two weight pointers, row stride, offset, end, 2 input operands, weight
 * word and its odd half; GCC spills the stride and the end: 48 cycles per iteration). Per 4
 * inputs: input and row-1 words loaded back to back, SXTAB16 x2, then per row the weight word
 * (1 load), SXTB16 x2 and SMLAD x2: about 31 cycles for 16 MACs. */
static inline __attribute__((always_inline)) void
mcu_fc_lean4_dot(const int8_t *x, const int8_t *w, int32_t depth, int32_t in_off, int32_t *s)
{
#if MCU_NN_ASM
    if (depth >= 4 && (depth & 3) == 0) {
        int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
        const int32_t off2 = mcu_dup16(in_off);
        const int8_t *end = x + depth, *w2 = w + 2 * depth;
        int32_t v, x13, a, t;
        __asm__ volatile(
            "1:\n\t"
            "ldr %[v], [%[x]], #4\n\t"
            "ldr %[a], [%[w], %[d]]\n\t"
            "sxtab16 %[x13], %[off2], %[v], ror #8\n\t"
            "sxtab16 %[v], %[off2], %[v]\n\t"
            "sxtb16 %[t], %[a], ror #8\n\t"
            "sxtb16 %[a], %[a]\n\t"
            "smlad %[s1], %[a], %[v], %[s1]\n\t"
            "smlad %[s1], %[t], %[x13], %[s1]\n\t"
            "ldr %[a], [%[w]], #4\n\t"
            "sxtb16 %[t], %[a], ror #8\n\t"
            "sxtb16 %[a], %[a]\n\t"
            "smlad %[s0], %[a], %[v], %[s0]\n\t"
            "smlad %[s0], %[t], %[x13], %[s0]\n\t"
            "ldr %[a], [%[w2], %[d]]\n\t"
            "sxtb16 %[t], %[a], ror #8\n\t"
            "sxtb16 %[a], %[a]\n\t"
            "smlad %[s3], %[a], %[v], %[s3]\n\t"
            "smlad %[s3], %[t], %[x13], %[s3]\n\t"
            "ldr %[a], [%[w2]], #4\n\t"
            "sxtb16 %[t], %[a], ror #8\n\t"
            "sxtb16 %[a], %[a]\n\t"
            "smlad %[s2], %[a], %[v], %[s2]\n\t"
            "smlad %[s2], %[t], %[x13], %[s2]\n\t"
            "cmp %[x], %[end]\n\t"
            "bne 1b"
            : [s0] "+&r"(s0), [s1] "+&r"(s1), [s2] "+&r"(s2), [s3] "+&r"(s3), [x] "+&r"(x),
              [w] "+&r"(w), [w2] "+&r"(w2), [v] "=&r"(v), [x13] "=&r"(x13), [a] "=&r"(a),
              [t] "=&r"(t)
            : [d] "r"(depth), [off2] "r"(off2), [end] "r"(end)
            : "cc", "memory");
        s[0] = s0;
        s[1] = s1;
        s[2] = s2;
        s[3] = s3;
        return;
    }
#endif
    mcu_fc_lean_rows(x, w, depth, depth, in_off, s, 4);
}

/* An output outside the SMMLAR form's range (shift, accumulator): mcu_rq, then the clamp. */
__attribute__((noinline, cold)) static int32_t mcu_fc_lean_slow(int32_t acc, int32_t m, int32_t sh,
                                                                const mcu_fc_params *params)
{
    mcu_rq q;
    mcu_rq_init(&q, m, sh);
    return mcu_rq_out(acc, &q, params->output_offset, params->activation.min,
                      params->activation.max);
}

/* One output before the clamp: SMMLAR requantization (mcu_rq2's form; oo = 2 * output offset
 * + 1, so that the rounding constant 2^(r-1) + offset * 2^r is oo << (r - 1)) when the shift is
 * a right shift of 1..23 and |acc| <= 2^29, else mcu_fc_lean_slow (already clamped). */
static inline __attribute__((always_inline)) int32_t
mcu_fc_lean_rq(int32_t acc, int32_t m, int32_t sh, int32_t oo, const mcu_fc_params *params)
{
    const int32_t r = -sh;
    if (__builtin_expect((uint32_t)(r - 1) < 23u &&
                             (uint32_t)acc + MCU_RQ2_MAX_ACC <= 2u * MCU_RQ2_MAX_ACC, 1)) {
        const int32_t s2 = (int32_t)((uint32_t)acc << 1);
        return (mcu_smmlar(s2, m, (int32_t)((uint32_t)oo << (r - 1))) + (s2 >> 31)) >> r;
    }
    return mcu_fc_lean_slow(acc, m, sh, params);
}

/* The 4-row passes' output stage, in the form of the lean passes' (whose code is left as it
 * was: sharing this one moved the small layers by register allocation alone): four outputs
 * (accumulators s0 .. s3, requantization mult/shift from row 0's, per channel (pc) or not)
 * saturated to int8 (SSAT), packed, clamped at once (SSUB8/SEL against lo4/hi4, the
 * activation range in each byte) and stored as one word. Per tensor the shift is checked and
 * the SMMLAR constants derived once for the four rows (GCC repeats them per row when written
 * as per channel: 15 cycles per pass). */
static inline __attribute__((always_inline)) void
mcu_fc_out4(int32_t s0, int32_t s1, int32_t s2, int32_t s3, const int32_t *mult,
            const int32_t *shift, int32_t oo, uint32_t lo4, uint32_t hi4,
            const mcu_fc_params *p, int8_t *out, const int pc)
{
    const int32_t s[4] = {s0, s1, s2, s3};
    uint32_t v = 0;
    const int32_t r = -shift[0];
    if (!pc && __builtin_expect((uint32_t)(r - 1) < 23u, 1)) {
        const int32_t m = mult[0], a = (int32_t)((uint32_t)oo << (r - 1));
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
            int32_t y;
            if (__builtin_expect((uint32_t)s[i] + MCU_RQ2_MAX_ACC <= 2u * MCU_RQ2_MAX_ACC, 1)) {
                const int32_t x2 = (int32_t)((uint32_t)s[i] << 1);
                y = (mcu_smmlar(x2, m, a) + (x2 >> 31)) >> r;
            } else {
                y = mcu_fc_lean_slow(s[i], m, -r, p);
            }
            v |= (uint32_t)(uint8_t)__ssat(y, 8) << (8 * i);
        }
    } else {
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
            const int ch = pc ? i : 0;
            const int32_t y = __ssat(mcu_fc_lean_rq(s[i], mult[ch], shift[ch], oo, p), 8);
            v |= (uint32_t)(uint8_t)y << (8 * i);
        }
    }
    (void)__ssub8((int32_t)v, (int32_t)lo4);
    v = (uint32_t)__sel((int32_t)v, (int32_t)lo4);
    (void)__ssub8((int32_t)v, (int32_t)hi4);
    v = (uint32_t)__sel((int32_t)hi4, (int32_t)v);
    memcpy(out, &v, 4);
}

/* The activation range in each byte of a word (mcu_fc_out4). */
static inline uint32_t mcu_fc_bytes4(int32_t v)
{
    return 0x01010101u * (uint8_t)v;
}

/* A small layer's state between its row passes: constants set once per call, x and fold per
 * batch, the next pass's first row o (and its weights w) advanced by each pass. */
typedef struct {
    const int8_t *x;             /* the input row */
    const int8_t *w;             /* row o's weights */
    int8_t *out;                 /* the output row */
    int32_t o, depth, in_off;    /* the next pass's first row; depth; input offset */
    int32_t fold;                /* filter_offset * sum(x + input_offset) */
    int32_t oo;                  /* 2 * output offset + 1 (mcu_fc_lean_rq) */
    const int32_t *bias, *mult, *shift;
    const mcu_fc_params *params;
} mcu_fc_lean_ctx;

/* Small layers (mcu_fc_lean_ok): no scratch and next to no set-up. Rows o .. o + R (R = 4, 2 or
 * 1) against the int8 input: dot products, requantized, clamped and stored; then o and w move
 * on. A pass of four saturates its outputs to int8 (SSAT), packs them, clamps them at once
 * (SSUB8/SEL) and stores one word. pc: per-channel requantization. */
static inline __attribute__((always_inline)) void mcu_fc_lean_pass(mcu_fc_lean_ctx *c, const int R,
                                                                   const int pc)
{
    const int32_t o = c->o, depth = c->depth;
    const int8_t *w = c->w;
    c->o = o + R;
    c->w = w + R * depth;
    int32_t s[4];
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i)
        s[i] = c->fold + (c->bias ? c->bias[o + i] : 0);
    if (R == 4)
        mcu_fc_lean4_dot(c->x, w, depth, c->in_off, s);
    else if (R == 2)
        mcu_fc_lean2_dot(c->x, w, depth, c->in_off, s);
    else
        mcu_fc_lean_rows(c->x, w, depth, depth, c->in_off, s, R);
    const mcu_fc_params *p = c->params;
    const int32_t *mult = c->mult + (pc ? o : 0), *shift = c->shift + (pc ? o : 0);
    int8_t *out = c->out + o;
    if (R == 4) {
        uint32_t v = 0;
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
            const int ch = pc ? i : 0;
            const int32_t y = __ssat(mcu_fc_lean_rq(s[i], mult[ch], shift[ch], c->oo, p), 8);
            v |= (uint32_t)(uint8_t)y << (8 * i);
        }
        const uint32_t lo4 = 0x01010101u * (uint8_t)p->activation.min;
        const uint32_t hi4 = 0x01010101u * (uint8_t)p->activation.max;
        (void)__ssub8((int32_t)v, (int32_t)lo4);
        v = (uint32_t)__sel((int32_t)v, (int32_t)lo4);
        (void)__ssub8((int32_t)v, (int32_t)hi4);
        v = (uint32_t)__sel((int32_t)hi4, (int32_t)v);
        memcpy(out, &v, 4);
    } else {
        const int32_t lo = p->activation.min, hi = p->activation.max;
#pragma GCC unroll 4
        for (int i = 0; i < R; ++i) {
            const int ch = pc ? i : 0;
            out[i] = (int8_t)mcu_rq_clamp(mcu_fc_lean_rq(s[i], mult[ch], shift[ch], c->oo, p),
                                          lo, hi);
        }
    }
}

#define MCU_FC_LEAN_PASS(name, R, pc)                                                         \
    __attribute__((noinline)) static void name(mcu_fc_lean_ctx *c)                          \
    {                                                                                         \
        mcu_fc_lean_pass(c, R, pc);                                                           \
    }
MCU_FC_LEAN_PASS(mcu_fc_lean4_pt, 4, 0)
MCU_FC_LEAN_PASS(mcu_fc_lean2_pt, 2, 0)
MCU_FC_LEAN_PASS(mcu_fc_lean1_pt, 1, 0)
MCU_FC_LEAN_PASS(mcu_fc_lean4_pc, 4, 1)
MCU_FC_LEAN_PASS(mcu_fc_lean2_pc, 2, 1)
MCU_FC_LEAN_PASS(mcu_fc_lean1_pc, 1, 1)
#undef MCU_FC_LEAN_PASS

/* Every row of one batch: passes of four, then two and one. */
static inline __attribute__((always_inline)) void mcu_fc_lean_all(mcu_fc_lean_ctx *c,
                                                                  int32_t out_ch, const int pc)
{
    while (out_ch - c->o >= 4)
        (pc ? mcu_fc_lean4_pc : mcu_fc_lean4_pt)(c);
    if (out_ch - c->o >= 2)
        (pc ? mcu_fc_lean2_pc : mcu_fc_lean2_pt)(c);
    if (out_ch != c->o)
        (pc ? mcu_fc_lean1_pc : mcu_fc_lean1_pt)(c);
}

/* Rows [o, o_end) (a multiple of 4 apart), four per pass: dot products with the converted
 * input (mcu_fc_dot4), then mcu_fc_out4. pc: per-channel requantization. */
static inline __attribute__((always_inline)) void
mcu_fc_rows4_g(const mcu_fc_ctx *c, const int8_t *w, int32_t o, int32_t o_end, const int pc)
{
    /* the context's fields in locals, row pointers advanced per pass (every register is the
     * asm's: these live on the stack, one load each where the context costs two) */
    const int16_t *x = c->x;
    const int32_t depth = c->depth, fold = c->fold, oo = c->oo;
    const int32_t *bias = c->bias ? c->bias + o : 0;
    const int32_t *mult = c->mult + (pc ? o : 0), *shift = c->shift + (pc ? o : 0);
    const mcu_fc_params *p = c->params;
    const uint32_t lo4 = mcu_fc_bytes4(c->lo), hi4 = mcu_fc_bytes4(c->hi);
    int8_t *out = c->out + o, *end = c->out + o_end;
    for (; out != end; out += 4, w += 4 * depth) {
        int32_t s[4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i)
            s[i] = fold + (bias ? bias[i] : 0);
        if (bias)
            bias += 4;
        mcu_fc_dot4(x, w, depth, s);
        mcu_fc_out4(s[0], s[1], s[2], s[3], mult, shift, oo, lo4, hi4, p, out, pc);
        if (pc) {
            mult += 4;
            shift += 4;
        }
    }
}

/* One function per requantization kind, aligned to a flash line: the F411's instruction cache
 * is 1 KB direct-mapped, and each keeps its hot loop and output stage within it. */
__attribute__((noinline, aligned(16))) static void mcu_fc_rows4_pt(const mcu_fc_ctx *c,
                                                                  const int8_t *w, int32_t o,
                                                                  int32_t o_end)
{
    mcu_fc_rows4_g(c, w, o, o_end, 0);
}
__attribute__((noinline, aligned(16))) static void mcu_fc_rows4_pc(const mcu_fc_ctx *c,
                                                                  const int8_t *w, int32_t o,
                                                                  int32_t o_end)
{
    mcu_fc_rows4_g(c, w, o, o_end, 1);
}

/* The large path (scratch, 4-row passes; short depths): a function of its own, so that the
 * lean path does not pay its frame. */
__attribute__((noinline)) static mcu_status
mcu_fc_big(const mcu_context *ctx, const mcu_fc_params *params, const mcu_quant_params *quant,
           const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output,
           int32_t depth, int32_t out_ch, int32_t batches)
{
    void *scratch;
    const mcu_status st = mcu_scratch(ctx, mcu_fc_x16_bytes(depth), &scratch);
    if (st != MCU_OK)
        return st;
    int16_t *x16 = (int16_t *)scratch;
    const int32_t depth4 = depth & ~3;
    const int32_t off2 = mcu_dup16(params->input_offset);
    mcu_fc_ctx c;
    c.x = x16;
    c.depth = depth;
    c.bias = bias;
    c.mult = quant->multiplier;
    c.shift = quant->shift;
    c.per_ch = quant->per_channel ? 1 : 0;
    c.out_off = params->output_offset;
    c.lo = params->activation.min;
    c.hi = params->activation.max;
    c.oo = 2 * params->output_offset + 1;
    c.params = params;
    mcu_rq_init(&c.q, c.mult[0], c.shift[0]);
    /* mcu_rq2 needs right shifts of 1..23 and |accumulator| <= 2^29: every path checks the
     * accumulators and the per-channel shifts per row (`fused`: per channel always set), the
     * per-tensor shift here */
    const int short_depth = mcu_fc_short_depth(depth);
    c.fused = c.per_ch || mcu_rq2_ok(c.shift[0]);
    if (mcu_rq2_ok(c.shift[0])) {
        mcu_rq2_init(&c.q2, c.mult[0], c.shift[0], c.out_off);
    } else {
        const mcu_rq2 none = {0, 0, 0};
        c.q2 = none;
    }

    if (short_depth) { /* more than 16 rows (fewer: the lean path) */
        for (int32_t b = 0; b < batches; ++b, input += depth, output += out_ch) {
            c.fold = 0;
            if (params->filter_offset != 0) {
                for (int32_t k = 0; k < depth; ++k)
                    c.fold += input[k] + params->input_offset;
                c.fold *= params->filter_offset;
            }
            c.out = output;
            mcu_fc_short(&c, input, filter, depth, out_ch, params->input_offset);
        }
        return MCU_OK;
    }
    for (int32_t b = 0; b < batches; ++b, input += depth, output += out_ch) {
        mcu_s8_to_s16_reordered(input, x16, depth4, off2, 4);
        for (int32_t k = depth4; k < depth; ++k)
            x16[k] = (int16_t)(input[k] + params->input_offset);
        c.fold = 0; /* filter_offset * sum(x + input_offset) */
        if (params->filter_offset != 0) {
            for (int32_t k = 0; k < depth; ++k)
                c.fold += x16[k];
            c.fold *= params->filter_offset;
        }
        c.out = output;
        /* passes of 4 rows, then 2 and 1 */
        const int32_t n4 = out_ch & ~3;
        (c.per_ch ? mcu_fc_rows4_pc : mcu_fc_rows4_pt)(&c, filter, 0, n4);
        const int8_t *w = filter + n4 * depth;
        int32_t o = n4;
        for (; o + 1 < out_ch; o += 2, w += 2 * depth) {
            int32_t acc[2];
            acc[0] = mcu_fc_init(&c, o);
            acc[1] = mcu_fc_init(&c, o + 1);
            mcu_fc_dot2(w, depth, x16, acc);
            const int8_t y0 = mcu_fc_out(&c, o, acc[0]), y1 = mcu_fc_out(&c, o + 1, acc[1]);
            c.out[o] = y0;
            c.out[o + 1] = y1;
        }
        if (o < out_ch)
            mcu_fc_store(&c, o, mcu_fc_dot1(w, x16, depth, mcu_fc_init(&c, o)));
    }
    return MCU_OK;
}

mcu_status mcu_fully_connected_s8(const mcu_context *ctx, const mcu_fc_params *params,
                                  const mcu_quant_params *quant, const mcu_dims *input_dims,
                                  const int8_t *input, const mcu_dims *filter_dims,
                                  const int8_t *filter, const int32_t *bias,
                                  const mcu_dims *output_dims, int8_t *output)
{
    const mcu_status st = mcu_check_fc(params, quant, input_dims, input, filter_dims, filter,
                                       output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t depth = input_dims->h * input_dims->w * input_dims->c;
    const int32_t out_ch = filter_dims->n, batches = input_dims->n;
    /* short depths: the lean path up to 16 rows, mcu_fc_short beyond (measured: 16 -> 16
     * 2,081 against 2,196 cycles, 8 -> 64 6,357 against 4,364) */
    if (!mcu_fc_lean_ok(depth, out_ch) || (mcu_fc_short_depth(depth) && out_ch > 16))
        return mcu_fc_big(ctx, params, quant, input, filter, bias, output, depth, out_ch,
                          batches);
    mcu_fc_lean_ctx c;
    c.depth = depth;
    c.in_off = params->input_offset;
    c.oo = 2 * params->output_offset + 1;
    c.bias = bias;
    c.mult = quant->multiplier;
    c.shift = quant->shift;
    c.params = params;
    for (int32_t b = 0; b < batches; ++b, input += depth, output += out_ch) {
        c.x = input;
        c.w = filter;
        c.out = output;
        c.o = 0;
        c.fold = 0;
        if (params->filter_offset != 0) {
            for (int32_t k = 0; k < depth; ++k)
                c.fold += input[k] + c.in_off;
            c.fold *= params->filter_offset;
        }
        if (quant->per_channel)
            mcu_fc_lean_all(&c, out_ch, 1);
        else
            mcu_fc_lean_all(&c, out_ch, 0);
    }
    return MCU_OK;
}
#endif
