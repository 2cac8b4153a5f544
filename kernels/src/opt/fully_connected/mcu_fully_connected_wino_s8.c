/*
 * mcu_fully_connected_wino_s8 - optimized flavour (Cortex-M DSP extension): FULLY_CONNECTED by
 * Winograd's inner-product identity (contract and exactness in mcu_nn.h and the reference
 * file). Per weight word W = (w0, w1, w2, w3) of a row, against the input converted once per
 * batch to int16 pairs X1 = (x0, x2), X2 = (x1, x3) with the input offset added:
 *   SMLAD(SXTAB16(X1, W, ROR #8), SXTAB16(X2, W)) = (x0 + w1)(x1 + w0) + (x2 + w3)(x3 + w2),
 * four MACs for one load and three single-cycle instructions (SXTB16 + SMLAD needs five).
 *
 * Rows go in blocks of 8, two passes of four rows sharing each X1/X2 load (mcu_fcw_blocks,
 * inline assembly). A pass needs 13 registers and a temporary, all there are: one weight base
 * and one stride e address rows base, base + e, base + 2e and base + 4e (LDR's LSL #1/#2), so
 * the passes take rows {0, 1, 2, 4} (e = +depth) and {7, 6, 5, 3} (e = -depth from row 7).
 * Per group of 4 inputs: six loads back to back (7 cycles), 12 DSP instructions, 19 cycles
 * for 16 MACs. Groups are unrolled MCU_FCW_UNROLL times; the first, partial, chunk is entered
 * at a computed offset (one BX per pass) and the chunk-end test loads the end from the stack
 * in the last group's load run. The accumulators start from the rows' constants (bias - pair
 * sum) and are stored back over them, a record of 4 words per pass (scratch).
 * Output stage, rows in order (mcu_fcw_out_*): the shared term (filter-offset fold minus
 * the input term) enters with the doubling of mcu_rq2 (x2 = 2 shared + 2 acc, one ADD with
 * LSL), then SMMLAR, SSAT, four outputs packed (BFI) and clamped together (SSUB8 + SEL), one
 * store: per tensor, or per channel with a = ((2 offset + 1) << r) >> 1 made per row. This
 * needs every shift to be a right shift of 1..23 and |accumulator| <= 2^29 (checked once per
 * call); otherwise, and for the rows left over (fewer than 8, in pairs) and depths below 4,
 * the output is C with mcu_rq.
 * Scratch: 2 bytes per input (x16) + 4 bytes per row of the blocks.
 * Without the DSP extension (Cortex-M0+/M3) this file is the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/fully_connected/mcu_fully_connected_wino_s8.c"
#else
#define MCU_FCW_OPTIMIZED 1
#include "../../ref/fully_connected/mcu_fully_connected_wino_s8.c"
#include "../../common/mcu_nn_dsp.h"

#define MCU_FCW_UNROLL 16 /* groups of 4 inputs per chunk of the four-row loop */

int32_t mcu_fully_connected_wino_s8_get_buffer_size(const mcu_dims *filter_dims)
{
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    return (int32_t)sizeof(int16_t) * ((depth + 3) & ~3) +
           (int32_t)sizeof(int32_t) * (filter_dims->n & ~7);
}

/* The pair sums, a weight word at a time: SMLAD(SXTB16(w), SXTB16(w, ROR #8)) =
 * w0 w1 + w2 w3 (rows need not be word aligned: unaligned loads are allowed). */
mcu_status mcu_fully_connected_wino_s8_prepare(const mcu_dims *filter_dims, const int8_t *filter,
                                              int32_t *pair_sums)
{
    const mcu_status st = mcu_fcw_prepare_check(filter_dims, filter, pair_sums);
    if (st != MCU_OK)
        return st;
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    for (int32_t o = 0; o < filter_dims->n; ++o) {
        const int8_t *w = filter + o * depth;
        int32_t s = 0;
        for (int32_t k = depth >> 2; k > 0; --k, w += 4) {
            const int32_t v = mcu_read_s8x4(w);
            s = __smlad(__sxtb16(v), mcu_sxtb16_ror8(v), s);
        }
        pair_sums[o] = s;
    }
    return MCU_OK;
}

/* What the passes and output stages need, fixed for the call (per batch: shared, out). */
typedef struct {
    const int16_t *x; /* the converted input */
    int32_t depth, groups;
    int32_t shared; /* filter-offset fold minus the input term: the same for every row */
    int32_t per_ch, out_off, lo, hi;
    const int32_t *bias, *pair, *mult, *shift;
    int fused;  /* mcu_rq2 for every channel (checked once per call) */
    mcu_rq2 q2; /* per tensor */
    mcu_rq q;   /* per tensor, general path */
    int8_t *out;
} mcu_fcw_ctx;

/* Requantizes, clamps and stores row o's accumulator. */
static inline void mcu_fcw_store(const mcu_fcw_ctx *c, int32_t o, int32_t acc)
{
    if (c->fused) {
        mcu_rq2 q = c->q2;
        if (c->per_ch)
            mcu_rq2_init(&q, c->mult[o], c->shift[o], c->out_off);
        c->out[o] = (int8_t)mcu_rq_clamp(mcu_rq2_apply(acc, &q), c->lo, c->hi);
    } else {
        mcu_rq q = c->q;
        if (c->per_ch)
            mcu_rq_init(&q, c->mult[o], c->shift[o]);
        c->out[o] = mcu_rq_out(acc, &q, c->out_off, c->lo, c->hi);
    }
}

/* The last depth % 4 inputs (natural order in x) against row w, multiplied directly. */
static inline uint32_t mcu_fcw_tail(const mcu_fcw_ctx *c, const int8_t *w)
{
    uint32_t s = 0;
    for (int32_t k = c->groups * 4; k < c->depth; ++k)
        s += (uint32_t)(w[k] * c->x[k]);
    return s;
}

/* bias - pair sum of row o: the start of its accumulator. */
static inline int32_t mcu_fcw_constant(const mcu_fcw_ctx *c, int32_t o)
{
    return (int32_t)((c->bias ? (uint32_t)c->bias[o] : 0u) - (uint32_t)c->pair[o]);
}

/* One group (4 inputs, X1 = x[0..1], X2 = x[2..3]) of weight word a into s. */
#define MCU_FCW_1(s, a, X1, X2) s = __smlad(mcu_sxtab16_ror8(X1, a), __sxtab16(X2, a), s)

/* The records: per block, the 4 rows of the first pass {0, 1, 2, 4}, then of the second
 * {7, 6, 5, 3}. Row r of a block is word mcu_fcw_at[r] of the block's 8. */
static const uint8_t mcu_fcw_at[8] = {0, 1, 2, 7, 3, 6, 5, 4};

/* The records' constants, bias - pair sum per row (four rows at a time: 8 loads back to
 * back, SUB, STR). Returns an OR of |bias| - [bias < 0] over the rows (>= the largest
 * |bias| - 1: the mcu_rq2 bound check). */
static uint32_t mcu_fcw_constants(const int32_t *pair, const int32_t *bias, int32_t blocks,
                                  int32_t *rec)
{
    uint32_t bor = 0;
#if MCU_NN_ASM
    const int32_t *end = pair + 8 * blocks;
    int32_t p0, p1, p2, p3, b0, b1, b2, b3;
    if (bias) {
        /* one pass's 4 rows: pair and bias at byte offsets A0..A3 of the block */
#define MCU_FCW_C4(A0, A1, A2, A3, R)                                                         \
    "ldr %[p0], [%[pp], #" #A0 "]\n\t"                                                        \
    "ldr %[p1], [%[pp], #" #A1 "]\n\t"                                                        \
    "ldr %[p2], [%[pp], #" #A2 "]\n\t"                                                        \
    "ldr %[p3], [%[pp], #" #A3 "]\n\t"                                                        \
    "ldr %[b0], [%[bp], #" #A0 "]\n\t"                                                        \
    "ldr %[b1], [%[bp], #" #A1 "]\n\t"                                                        \
    "ldr %[b2], [%[bp], #" #A2 "]\n\t"                                                        \
    "ldr %[b3], [%[bp], #" #A3 "]\n\t"                                                        \
    "sub %[p0], %[b0], %[p0]\n\t"                                                             \
    "sub %[p1], %[b1], %[p1]\n\t"                                                             \
    "sub %[p2], %[b2], %[p2]\n\t"                                                             \
    "sub %[p3], %[b3], %[p3]\n\t"                                                             \
    "str %[p0], [%[rec], #" #R "]\n\t"                                                        \
    "str %[p1], [%[rec], #" #R "+4]\n\t"                                                      \
    "str %[p2], [%[rec], #" #R "+8]\n\t"                                                      \
    "str %[p3], [%[rec], #" #R "+12]\n\t"                                                     \
    "eor %[b0], %[b0], %[b0], asr #31\n\t"                                                    \
    "eor %[b1], %[b1], %[b1], asr #31\n\t"                                                    \
    "eor %[b2], %[b2], %[b2], asr #31\n\t"                                                    \
    "eor %[b3], %[b3], %[b3], asr #31\n\t"                                                    \
    "orr %[bor], %[bor], %[b0]\n\t"                                                           \
    "orr %[b1], %[b1], %[b2]\n\t"                                                             \
    "orr %[bor], %[bor], %[b3]\n\t"                                                           \
    "orr %[bor], %[bor], %[b1]\n\t"
        __asm__ volatile("1:\n\t" MCU_FCW_C4(0, 4, 8, 16, 0) MCU_FCW_C4(28, 24, 20, 12, 16)
                         "adds %[pp], %[pp], #32\n\t"
                         "adds %[bp], %[bp], #32\n\t"
                         "adds %[rec], %[rec], #32\n\t"
                         "cmp %[pp], %[end]\n\t"
                         "bne 1b"
                         : [p0] "=&r"(p0), [p1] "=&r"(p1), [p2] "=&r"(p2), [p3] "=&r"(p3),
                           [b0] "=&r"(b0), [b1] "=&r"(b1), [b2] "=&r"(b2), [b3] "=&r"(b3),
                           [pp] "+r"(pair), [bp] "+r"(bias), [rec] "+r"(rec), [bor] "+r"(bor)
                         : [end] "r"(end)
                         : "cc", "memory");
#undef MCU_FCW_C4
    } else {
#define MCU_FCW_N4(A0, A1, A2, A3, R)                                                         \
    "ldr %[p0], [%[pp], #" #A0 "]\n\t"                                                        \
    "ldr %[p1], [%[pp], #" #A1 "]\n\t"                                                        \
    "ldr %[p2], [%[pp], #" #A2 "]\n\t"                                                        \
    "ldr %[p3], [%[pp], #" #A3 "]\n\t"                                                        \
    "rsb %[p0], %[p0], #0\n\t"                                                                \
    "rsb %[p1], %[p1], #0\n\t"                                                                \
    "rsb %[p2], %[p2], #0\n\t"                                                                \
    "rsb %[p3], %[p3], #0\n\t"                                                                \
    "str %[p0], [%[rec], #" #R "]\n\t"                                                        \
    "str %[p1], [%[rec], #" #R "+4]\n\t"                                                      \
    "str %[p2], [%[rec], #" #R "+8]\n\t"                                                      \
    "str %[p3], [%[rec], #" #R "+12]\n\t"
        __asm__ volatile("1:\n\t" MCU_FCW_N4(0, 4, 8, 16, 0) MCU_FCW_N4(28, 24, 20, 12, 16)
                         "adds %[pp], %[pp], #32\n\t"
                         "adds %[rec], %[rec], #32\n\t"
                         "cmp %[pp], %[end]\n\t"
                         "bne 1b"
                         : [p0] "=&r"(p0), [p1] "=&r"(p1), [p2] "=&r"(p2), [p3] "=&r"(p3),
                           [pp] "+r"(pair), [rec] "+r"(rec)
                         : [end] "r"(end)
                         : "cc", "memory");
#undef MCU_FCW_N4
    }
#else
    for (int32_t b = 0; b < blocks; ++b, pair += 8, rec += 8) {
        for (int32_t r = 0; r < 8; ++r) {
            const int32_t b_ = bias ? bias[r] : 0;
            bor |= (uint32_t)(b_ ^ (b_ >> 31));
            rec[mcu_fcw_at[r]] = (int32_t)((uint32_t)b_ - (uint32_t)pair[r]);
        }
        if (bias)
            bias += 8;
    }
#endif
    return bor;
}

/* Every block of 8 rows, both passes: each record word += the identity's sums of its row
 * over the whole groups (groups >= 1), and the last depth % 4 inputs multiplied directly
 * (LDRSB, MLA). */
__attribute__((noinline)) static void mcu_fcw_blocks(const mcu_fcw_ctx *c, const int8_t *filter,
                                                    int32_t blocks, int32_t *rec)
{
    const int32_t d = c->depth;
    const int16_t *x0 = c->x, *xend = c->x + 4 * c->groups;
    const int8_t *wend = filter + 8 * blocks * d;
#if MCU_NN_ASM
    /* the first, partial chunk is entered at the start of the chunk's last group minus
     * (r - 1) groups of 72 bytes (r = groups of the first chunk), with the Thumb bit */
    int32_t back = ((c->groups - 1) % MCU_FCW_UNROLL) * 72 - 1;
    const int8_t *wa = filter; /* row 0 of the current block */
    const int32_t ntail = d & 3;
    int32_t s0, s1, s2, s3, X1, X2, w0, w1, w2, w3, t, e;
    const int16_t *x;
    const int8_t *w;
    /* six loads back to back (post-increments last on each base: 7 cycles), then per row
     * t = (x0 + w1, x2 + w3), w = (x1 + w0, x3 + w2), s += t . w; every instruction 32-bit so
     * that a group is 72 bytes */
#define MCU_FCW_LOADS                                                                         \
    "ldr.w %[X2], [%[x], #4]\n\t"                                                             \
    "ldr.w %[X1], [%[x]], #8\n\t"                                                             \
    "ldr.w %[w1], [%[w], %[e]]\n\t"                                                           \
    "ldr.w %[w2], [%[w], %[e], lsl #1]\n\t"                                                   \
    "ldr.w %[w3], [%[w], %[e], lsl #2]\n\t"                                                   \
    "ldr.w %[w0], [%[w]], #4\n\t"
#define MCU_FCW_ROW(W, S)                                                                     \
    "sxtab16 %[t], %[X1], %[" #W "], ror #8\n\t"                                              \
    "sxtab16 %[" #W "], %[X2], %[" #W "]\n\t"                                                 \
    "smlad %[" #S "], %[t], %[" #W "], %[" #S "]\n\t"
#define MCU_FCW_ROWS MCU_FCW_ROW(w0, s0) MCU_FCW_ROW(w1, s1) MCU_FCW_ROW(w2, s2) MCU_FCW_ROW(w3, s3)
#define MCU_FCW_GROUP MCU_FCW_LOADS MCU_FCW_ROWS
#define MCU_FCW_G4 MCU_FCW_GROUP MCU_FCW_GROUP MCU_FCW_GROUP MCU_FCW_GROUP
#if MCU_FCW_UNROLL == 8
#define MCU_FCW_CHUNK MCU_FCW_G4 MCU_FCW_GROUP MCU_FCW_GROUP MCU_FCW_GROUP
#elif MCU_FCW_UNROLL == 16
#define MCU_FCW_CHUNK MCU_FCW_G4 MCU_FCW_G4 MCU_FCW_G4 MCU_FCW_GROUP MCU_FCW_GROUP MCU_FCW_GROUP
#elif MCU_FCW_UNROLL == 32
#define MCU_FCW_CHUNK                                                                         \
    MCU_FCW_G4 MCU_FCW_G4 MCU_FCW_G4 MCU_FCW_G4 MCU_FCW_G4 MCU_FCW_G4 MCU_FCW_G4 MCU_FCW_GROUP \
        MCU_FCW_GROUP MCU_FCW_GROUP
#else
#error "MCU_FCW_UNROLL: 8, 16 or 32"
#endif
    /* pass: w1 = its first row, e = +d (rows 0, 1, 2, 4) or -d (rows 7, 6, 5, 3); then the
     * same block from row 7 with e = -d, or the next block */
    /* ADR reads Align(PC, 4): .p2align makes the section 4-aligned, so the offset GAS
     * computes holds wherever the linker puts the function (-O1/-Os align functions to 2) */
    __asm__ volatile(".p2align 2\n\t"
                     "adr.w %[t], 3f\n\t"
                     "ldr %[w0], %[back]\n\t"
                     "ldr %[w1], %[wa]\n\t"
                     "ldr %[e], %[d]\n\t"
                     "sub %[t], %[t], %[w0]\n\t"
                     "str %[t], %[back]\n\t" /* now the entry address */
                     "0:\n\t"
                     "ldr %[t], %[rec]\n\t"
                     "ldr %[x], %[x0]\n\t"
                     "ldr %[w0], %[back]\n\t"
                     "ldr %[s0], [%[t]]\n\t"
                     "ldr %[s1], [%[t], #4]\n\t"
                     "ldr %[s2], [%[t], #8]\n\t"
                     "ldr %[s3], [%[t], #12]\n\t"
                     "mov %[w], %[w1]\n\t"
                     "bx %[w0]\n\t"
                     "1:\n\t" MCU_FCW_CHUNK
                     "3:\n\t" MCU_FCW_LOADS
                     "ldr %[t], %[xend]\n\t"
                     "cmp %[x], %[t]\n\t" MCU_FCW_ROWS
                     "bne 1b\n\t"
                     "ldr %[X1], %[ntail]\n\t"
                     "ldr %[t], %[rec]\n\t"
                     "cmp %[X1], #0\n\t"
                     "bne 4f\n\t"
                     "5:\n\t"
                     "ldr %[w1], %[wa]\n\t"
                     "str %[s1], [%[t], #4]\n\t"
                     "str %[s2], [%[t], #8]\n\t"
                     "str %[s3], [%[t], #12]\n\t"
                     "str %[s0], [%[t]], #16\n\t"
                     "str %[t], %[rec]\n\t"
                     "cmp %[e], #0\n\t"
                     "rsb %[e], %[e], #0\n\t"
                     "itt gt\n\t"                           /* rows 0, 1, 2, 4 done: */
                     "subgt %[w1], %[w1], %[e], lsl #3\n\t" /* row 7 = row 0 + 8d - d */
                     "addgt %[w1], %[w1], %[e]\n\t"
                     "bgt 0b\n\t"
                     "add %[w1], %[w1], %[e], lsl #3\n\t" /* rows 7, 6, 5, 3 done: row 8 */
                     "str %[w1], %[wa]\n\t"
                     "ldr %[t], %[wend]\n\t"
                     "cmp %[w1], %[t]\n\t"
                     "bne 0b\n\t"
                     "b 6f\n\t"
                     /* the last depth % 4 inputs (x at them, w at row 0's), directly */
                     "4:\n\t"
                     "ldrsb.w %[w1], [%[w], %[e]]\n\t"
                     "ldrsb.w %[w2], [%[w], %[e], lsl #1]\n\t"
                     "ldrsb.w %[w3], [%[w], %[e], lsl #2]\n\t"
                     "ldrsb %[w0], [%[w]], #1\n\t"
                     "ldrsh %[X2], [%[x]], #2\n\t"
                     "mla %[s0], %[w0], %[X2], %[s0]\n\t"
                     "mla %[s1], %[w1], %[X2], %[s1]\n\t"
                     "mla %[s2], %[w2], %[X2], %[s2]\n\t"
                     "mla %[s3], %[w3], %[X2], %[s3]\n\t"
                     "subs %[X1], %[X1], #1\n\t"
                     "bne 4b\n\t"
                     "b 5b\n\t"
                     "6:"
                     : [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3),
                       [x] "=&r"(x), [w] "=&r"(w), [X1] "=&r"(X1), [X2] "=&r"(X2),
                       [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3),
                       [t] "=&r"(t), [e] "=&r"(e), [rec] "+m"(rec), [wa] "+m"(wa),
                       [back] "+m"(back)
                     : [d] "m"(d), [xend] "m"(xend), [x0] "m"(x0),
                       [wend] "m"(wend), [ntail] "m"(ntail)
                     : "cc", "memory");
#undef MCU_FCW_LOADS
#undef MCU_FCW_ROW
#undef MCU_FCW_ROWS
#undef MCU_FCW_GROUP
#undef MCU_FCW_G4
#undef MCU_FCW_CHUNK
#else
    for (const int8_t *wb = filter; wb != wend; wb += 8 * d) {
        for (int32_t pass = 0; pass < 2; ++pass, rec += 4) {
            const int32_t e = pass ? -d : d;
            const int8_t *w = pass ? wb + 7 * d : wb;
            int32_t s0 = rec[0], s1 = rec[1], s2 = rec[2], s3 = rec[3];
            for (const int16_t *x = x0; x != xend; x += 4, w += 4) {
                const int32_t X1 = mcu_read_s16x2(x), X2 = mcu_read_s16x2(x + 2);
                const int32_t a = mcu_read_s8x4(w), b = mcu_read_s8x4(w + e);
                const int32_t f = mcu_read_s8x4(w + 2 * e), g = mcu_read_s8x4(w + 4 * e);
                MCU_FCW_1(s0, a, X1, X2);
                MCU_FCW_1(s1, b, X1, X2);
                MCU_FCW_1(s2, f, X1, X2);
                MCU_FCW_1(s3, g, X1, X2);
            }
            for (int32_t k = 0; k < (d & 3); ++k, ++w) {
                s0 += w[0] * xend[k];
                s1 += w[e] * xend[k];
                s2 += w[2 * e] * xend[k];
                s3 += w[4 * e] * xend[k];
            }
            rec[0] = s0;
            rec[1] = s1;
            rec[2] = s2;
            rec[3] = s3;
        }
    }
#endif
}

/* The output stage of the blocks with mcu_rq2 (fused), rows in order, 4 per word: x2 = 2 acc
 * + 2 shared in one ADD, SMMLAR, the rounding correction, the shift, SSAT to int8; the four
 * bytes packed (BFI) and clamped to [lo, hi] together (SSUB8 + SEL), one store. Per tensor,
 * or per channel (m and r loaded per row, a = ((2 offset + 1) << r) >> 1). */
#if MCU_NN_ASM
#define MCU_FCW_RQ(Y, Q)                                                                      \
    "add %[x2], %[sh2], %[" #Y "], lsl #1\n\t"                                                \
    "smmlar %[" #Y "], %[x2], %[m], %[a]\n\t"                                                 \
    "add %[" #Y "], %[" #Y "], %[x2], asr #31\n\t"                                            \
    "asr %[" #Y "], %[" #Y "], %[" #Q "]\n\t"                                                 \
    "ssat %[" #Y "], #8, %[" #Y "]\n\t"
#define MCU_FCW_CLAMP4                                                                        \
    "ssub8 %[x2], %[y0], %[lo4]\n\t"                                                          \
    "sel %[y0], %[y0], %[lo4]\n\t"                                                            \
    "ssub8 %[x2], %[hi4], %[y0]\n\t"                                                          \
    "sel %[y0], %[y0], %[hi4]\n\t"                                                            \
    "str %[y0], [%[out]], #4\n\t"
#endif

/* Per tensor: m, a, r in registers. */
__attribute__((noinline)) static void mcu_fcw_out_tensor(const mcu_fcw_ctx *c, const int32_t *rec,
                                                        int32_t blocks)
{
    const uint32_t sh2 = (uint32_t)c->shared << 1;
    const int32_t m = c->q2.m, a = c->q2.a, r = c->q2.r;
    int8_t *out = c->out;
#if MCU_NN_ASM
    const uint32_t lo4 = 0x01010101u * (uint8_t)c->lo, hi4 = 0x01010101u * (uint8_t)c->hi;
    const int32_t *end = rec + 8 * blocks;
    int32_t y0, y1, y2, y3, x2;
#define MCU_FCW_WORD(A0, A1, A2, A3)                                                          \
    "ldr %[y0], [%[rec], #" #A0 "]\n\t"                                                       \
    "ldr %[y1], [%[rec], #" #A1 "]\n\t"                                                       \
    "ldr %[y2], [%[rec], #" #A2 "]\n\t"                                                       \
    "ldr %[y3], [%[rec], #" #A3 "]\n\t" MCU_FCW_RQ(y0, r) MCU_FCW_RQ(y1, r) MCU_FCW_RQ(y2, r)  \
        MCU_FCW_RQ(y3, r)                                                                     \
    "bfi %[y0], %[y1], #8, #8\n\t"                                                            \
    "bfi %[y0], %[y2], #16, #8\n\t"                                                           \
    "bfi %[y0], %[y3], #24, #8\n\t" MCU_FCW_CLAMP4
    /* rows 0..3 are words 0, 1, 2, 7 of the block, rows 4..7 words 3, 6, 5, 4 */
    __asm__ volatile("1:\n\t" MCU_FCW_WORD(0, 4, 8, 28) MCU_FCW_WORD(12, 24, 20, 16)
                     "add %[rec], %[rec], #32\n\t"
                     "cmp %[rec], %[end]\n\t"
                     "bne 1b"
                     : [y0] "=&r"(y0), [y1] "=&r"(y1), [y2] "=&r"(y2), [y3] "=&r"(y3),
                       [x2] "=&r"(x2), [rec] "+r"(rec), [out] "+r"(out)
                     : [sh2] "r"(sh2), [m] "r"(m), [a] "r"(a), [r] "r"(r), [lo4] "r"(lo4),
                       [hi4] "r"(hi4), [end] "r"(end)
                     : "cc", "memory");
#undef MCU_FCW_WORD
#else
    for (int32_t b = 0; b < blocks; ++b, rec += 8, out += 8) {
        for (int32_t j = 0; j < 8; ++j) {
            const int32_t x2 = (int32_t)(sh2 + ((uint32_t)rec[mcu_fcw_at[j]] << 1));
            const int32_t y = (mcu_smmlar(x2, m, a) + (x2 >> 31)) >> r;
            out[j] = (int8_t)mcu_rq_clamp(y, c->lo, c->hi);
        }
    }
#endif
}

/* Per channel: m and the shift loaded per row (r = -shift, a from k = 2 offset + 1). */
__attribute__((noinline)) static void mcu_fcw_out_channel(const mcu_fcw_ctx *c,
                                                         const int32_t *rec, int32_t blocks)
{
    const uint32_t sh2 = (uint32_t)c->shared << 1;
    const int32_t *mp = c->mult, *sp = c->shift;
    int8_t *out = c->out;
#if MCU_NN_ASM
    const int32_t k = 2 * c->out_off + 1;
    const uint32_t lo4 = 0x01010101u * (uint8_t)c->lo, hi4 = 0x01010101u * (uint8_t)c->hi;
    const int32_t *end = rec + 8 * blocks;
    int32_t y0, y, x2, m, a, r;
#define MCU_FCW_ONE(Y, A)                                                                     \
    "ldr %[" #Y "], [%[rec], #" #A "]\n\t"                                                    \
    "ldr %[m], [%[mp]], #4\n\t"                                                               \
    "ldr %[r], [%[sp]], #4\n\t"                                                               \
    "rsb %[r], %[r], #0\n\t"                                                                  \
    "lsl %[a], %[k], %[r]\n\t"                                                                \
    "asr %[a], %[a], #1\n\t" MCU_FCW_RQ(Y, r)
#define MCU_FCW_WORD(A0, A1, A2, A3)                                                          \
    MCU_FCW_ONE(y0, A0)                                                                       \
    MCU_FCW_ONE(y, A1) "bfi %[y0], %[y], #8, #8\n\t" MCU_FCW_ONE(y, A2)                        \
        "bfi %[y0], %[y], #16, #8\n\t" MCU_FCW_ONE(y, A3) "bfi %[y0], %[y], #24, #8\n\t"      \
            MCU_FCW_CLAMP4
    __asm__ volatile("1:\n\t" MCU_FCW_WORD(0, 4, 8, 28) MCU_FCW_WORD(12, 24, 20, 16)
                     "add %[rec], %[rec], #32\n\t"
                     "ldr %[y], %[end]\n\t"
                     "cmp %[rec], %[y]\n\t"
                     "bne 1b"
                     : [y0] "=&r"(y0), [y] "=&r"(y), [x2] "=&r"(x2), [m] "=&r"(m),
                       [a] "=&r"(a), [r] "=&r"(r), [rec] "+r"(rec), [out] "+r"(out),
                       [mp] "+r"(mp), [sp] "+r"(sp)
                     : [sh2] "r"(sh2), [k] "r"(k), [lo4] "r"(lo4), [hi4] "r"(hi4),
                       [end] "m"(end)
                     : "cc", "memory");
#undef MCU_FCW_ONE
#undef MCU_FCW_WORD
#else
    for (int32_t b = 0; b < blocks; ++b, rec += 8, out += 8, mp += 8, sp += 8) {
        for (int32_t j = 0; j < 8; ++j) {
            mcu_rq2 q;
            mcu_rq2_init(&q, mp[j], sp[j], c->out_off);
            const int32_t x2 = (int32_t)(sh2 + ((uint32_t)rec[mcu_fcw_at[j]] << 1));
            const int32_t y = (mcu_smmlar(x2, q.m, q.a) + (x2 >> 31)) >> q.r;
            out[j] = (int8_t)mcu_rq_clamp(y, c->lo, c->hi);
        }
    }
#endif
}
#if MCU_NN_ASM
#undef MCU_FCW_RQ
#undef MCU_FCW_CLAMP4
#endif

/* Rows a and b (any two), or a alone (b < 0), in C; outputs stored. */
static void mcu_fcw_rows2(const mcu_fcw_ctx *c, const int8_t *filter, int32_t a, int32_t b)
{
    const int32_t d = c->depth;
    const int8_t *wa = filter + a * d, *wb = filter + (b < 0 ? a : b) * d;
    int32_t sa = mcu_fcw_constant(c, a), sb = b < 0 ? 0 : mcu_fcw_constant(c, b);
    const int16_t *x = c->x;
    for (int32_t g = 0; g < c->groups; ++g, x += 4) {
        const int32_t X1 = mcu_read_s16x2(x), X2 = mcu_read_s16x2(x + 2);
        const int32_t u = mcu_read_s8x4(wa + 4 * g), v = mcu_read_s8x4(wb + 4 * g);
        MCU_FCW_1(sa, u, X1, X2);
        MCU_FCW_1(sb, v, X1, X2);
    }
    mcu_fcw_store(c, a, (int32_t)((uint32_t)sa + (uint32_t)c->shared + mcu_fcw_tail(c, wa)));
    if (b >= 0)
        mcu_fcw_store(c, b, (int32_t)((uint32_t)sb + (uint32_t)c->shared + mcu_fcw_tail(c, wb)));
}
#undef MCU_FCW_1

/* Converts one input row to x16 and returns the input term sum_j (x0 x1 + x2 x3) (wrapping),
 * x = input + offset; the last depth % 4 values are stored in natural order. Four groups per
 * step: four loads back to back, 8 SXTAB16, 8 single-cycle stores, 4 SMLAD. */
static int32_t mcu_fcw_convert(const int8_t *in, int16_t *x16, int32_t depth, int32_t off)
{
    const int32_t off2 = mcu_dup16(off), depth4 = depth & ~3;
    int32_t term = 0, k = 0;
#if MCU_NN_ASM
    const int32_t depth16 = depth & ~15;
    if (depth16 > 0) {
        const int8_t *p = in, *end = in + depth16;
        int16_t *q = x16;
        int32_t a, b, c, d, t;
#define MCU_FCW_CV(R, O)                                                                      \
    "sxtab16 %[t], %[off2], %[" #R "]\n\t"                                                    \
    "sxtab16 %[" #R "], %[off2], %[" #R "], ror #8\n\t"                                       \
    "str %[t], [%[q], #" #O "]\n\t"                                                           \
    "str %[" #R "], [%[q], #" #O "+4]\n\t"                                                    \
    "smlad %[term], %[t], %[" #R "], %[term]\n\t"
        __asm__ volatile("1:\n\t"
                         "ldr %[b], [%[p], #4]\n\t"
                         "ldr %[c], [%[p], #8]\n\t"
                         "ldr %[d], [%[p], #12]\n\t"
                         "ldr %[a], [%[p]], #16\n\t" MCU_FCW_CV(a, 0) MCU_FCW_CV(b, 8)
                             MCU_FCW_CV(c, 16) MCU_FCW_CV(d, 24)
                         "adds %[q], %[q], #32\n\t"
                         "cmp %[p], %[end]\n\t"
                         "bne 1b"
                         : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [t] "=&r"(t),
                           [p] "+r"(p), [q] "+r"(q), [term] "+r"(term)
                         : [off2] "r"(off2), [end] "r"(end)
                         : "cc", "memory");
#undef MCU_FCW_CV
        k = depth16;
    }
#endif
    for (; k < depth4; k += 4) {
        const int32_t a = mcu_read_s8x4(in + k);
        const int32_t a1 = __sxtab16(off2, a), a2 = mcu_sxtab16_ror8(off2, a);
        mcu_write_s16x2(x16 + k, a1);
        mcu_write_s16x2(x16 + k + 2, a2);
        term = __smlad(a1, a2, term);
    }
    for (; k < depth; ++k)
        x16[k] = (int16_t)(in[k] + off);
    return term;
}

mcu_status mcu_fully_connected_wino_s8(const mcu_context *ctx, const mcu_fc_params *params,
                                      const mcu_quant_params *quant, const mcu_dims *input_dims,
                                      const int8_t *input, const mcu_dims *filter_dims,
                                      const int8_t *filter, const int32_t *pair_sums,
                                      const int32_t *bias, const mcu_dims *output_dims,
                                      int8_t *output)
{
    mcu_status st = mcu_fcw_check(params, quant, input_dims, input, filter_dims, filter,
                                  pair_sums, output_dims, output);
    if (st != MCU_OK)
        return st;
    void *scratch;
    st = mcu_scratch(ctx, mcu_fully_connected_wino_s8_get_buffer_size(filter_dims), &scratch);
    if (st != MCU_OK)
        return st;
    const int32_t depth = input_dims->h * input_dims->w * input_dims->c;
    const int32_t out_ch = filter_dims->n;
    int16_t *x16 = (int16_t *)scratch;
    int32_t *rec = (int32_t *)(void *)(x16 + ((depth + 3) & ~3));
    mcu_fcw_ctx c;
    c.x = x16;
    c.depth = depth;
    c.groups = depth >> 2;
    c.bias = bias;
    c.pair = pair_sums;
    c.mult = quant->multiplier;
    c.shift = quant->shift;
    c.per_ch = quant->per_channel ? 1 : 0;
    c.out_off = params->output_offset;
    c.lo = params->activation.min;
    c.hi = params->activation.max;
    mcu_rq_init(&c.q, c.mult[0], c.shift[0]);
    /* blocks of 8 rows by the four-row passes when there is a whole group of 4 inputs */
    const int32_t blocks = depth >= 4 ? out_ch >> 3 : 0;
    /* mcu_rq2 needs right shifts of 1..23 and |accumulator| <= 2^29, bounded by
     * |bias| + depth * 255 * 255 (the final accumulator is the direct kernel's). The biases are
     * bounded with an OR (b ^ (b >> 31) >= |b| - 1; a false "no" only costs the general path,
     * and biases are far below the bound); the shifts with an OR of shift + 23 (in [0, 22] for
     * shifts in [-23, -1]) and, where that says no, one by one: the OR exceeds 22 for valid
     * shifts that differ (10 | 17), which sent every row of such a layer to the general path
     * (harness, 64 -> 64 per channel: 11,956 cycles; checked one by one 8,814). */
    uint32_t bias_or = blocks ? mcu_fcw_constants(pair_sums, bias, blocks, rec) : 0;
    uint32_t shift_or = 0;
    for (int32_t o = 8 * blocks; o < out_ch && bias; ++o)
        bias_or |= (uint32_t)(bias[o] ^ (bias[o] >> 31));
    for (int32_t o = 0; o < (c.per_ch ? out_ch : 1); ++o)
        shift_or |= (uint32_t)(c.shift[o] + 23);
    int shifts_ok = shift_or <= 22;
    if (!shifts_ok) {
        shifts_ok = 1;
        for (int32_t o = 0; o < (c.per_ch ? out_ch : 1); ++o)
            shifts_ok &= mcu_rq2_ok(c.shift[o]);
    }
    c.fused = shifts_ok && depth <= MCU_RQ2_MAX_ACC / (255 * 255) &&
              bias_or < (uint32_t)(MCU_RQ2_MAX_ACC - depth * 255 * 255);
    if (c.fused)
        mcu_rq2_init(&c.q2, c.mult[0], c.shift[0], c.out_off);

    for (int32_t b = 0; b < input_dims->n; ++b, input += depth, output += out_ch) {
        const int32_t term = mcu_fcw_convert(input, x16, depth, params->input_offset);
        int32_t fold = 0; /* filter_offset * sum(x + input_offset) */
        if (params->filter_offset != 0) {
            for (int32_t k = 0; k < depth; ++k)
                fold += x16[k];
            fold *= params->filter_offset;
        }
        c.shared = (int32_t)((uint32_t)fold - (uint32_t)term);
        c.out = output;
        if (blocks > 0) {
            if (b > 0) /* the records hold the previous batch's accumulators */
                mcu_fcw_constants(pair_sums, bias, blocks, rec);
            mcu_fcw_blocks(&c, filter, blocks, rec);
            if (c.fused && c.per_ch) {
                mcu_fcw_out_channel(&c, rec, blocks);
            } else if (c.fused) {
                mcu_fcw_out_tensor(&c, rec, blocks);
            } else {
                for (int32_t o = 0; o < 8 * blocks; ++o)
                    mcu_fcw_store(&c, o, (int32_t)((uint32_t)rec[(o & ~7) + mcu_fcw_at[o & 7]] +
                                                   (uint32_t)c.shared));
            }
        }
        int32_t o = 8 * blocks;
        for (; o + 1 < out_ch; o += 2)
            mcu_fcw_rows2(&c, filter, o, o + 1);
        if (o < out_ch)
            mcu_fcw_rows2(&c, filter, o, -1);
    }
    return MCU_OK;
}
#endif
