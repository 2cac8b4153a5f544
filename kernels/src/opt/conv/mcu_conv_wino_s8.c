/*
 * mcu_conv_wino_s8 - optimized flavour (Cortex-M DSP extension): CONV_2D 3x3 / stride 1 by
 * Winograd F(2x2, 3x3) (transforms and exactness argument in ../../ref/conv/mcu_conv_wino_s8.c
 * and mcu_nn.h). Output tiles are taken four at a time along a row (a block of 2 x 8 outputs):
 *  1. input transform (mcu_wino_in): per group of 4 input channels, each column of the block's
 *     4 x 10 window is loaded one word per pixel, split into the (c0, c2) and (c1, c3) int16
 *     pairs with the input offset added (SXTAB16, SXTAB16 ROR #8) and combined down the column
 *     (B^T d) two channels per instruction (SADD16/SSUB16; |values| <= 4 x 255, no overflow);
 *     then along the rows (.. B) per tile, the tiles sharing their overlapping columns, into
 *     V[16][C'/2][4 tiles] (assembly, about 55 cycles per tile and channel pair);
 *  2. per pair of output channels (mcu_wino_block), for each of the 16 transform positions,
 *     the 2 x 4 (channel x tile) block of sums over the input channels (mcu_wino_gemm,
 *     assembly): SMLAD of a transformed-filter pair against a V pair, 8 accumulators; per
 *     input-channel pair 6 loads in two groups and 8 SMLADs, 16 cycles for 16 multiplies, each
 *     worth 2.25 multiplies of the direct form;
 *  3. output transform of each (channel, tile) (mcu_wino_store_*, assembly): 16 sums -> 4
 *     outputs (44 cycles of loads and additions), exact division by 4 folded into the bias
 *     add, requantization by SMMLAR (mcu_rq2, when every shift is a right shift of 1..23 and
 *     the accumulators stay within 2^29), clamp, 4 byte stores; blocks that leave the output,
 *     and other requantizations, go through the general C stage.
 * Columns outside the input contribute 0 and are not read; windows with rows outside the input,
 * and channel counts that are not a multiple of 4, are first copied into a staging area
 * filled with the input zero point (mcu_wino_stage).
 * Scratch (mcu_conv_wino_s8_get_buffer_size): V (16 x C' x 4 tiles int16 = 128 C' bytes), the
 * sums of one channel pair (512 bytes, 64-byte aligned), the column transforms of a block
 * (320 bytes), the staging window (40 C' bytes) and the output constants (32 bytes per
 * output channel): 168 C' + 32 O + 892 bytes at most.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/conv/mcu_conv_wino_s8.c"
#else
#define MCU_WINO_OPTIMIZED 1
#include "../../ref/conv/mcu_conv_wino_s8.c"
#include "../../common/mcu_nn_dsp.h"

#define MCU_WINO_TB 4 /* tiles per block */

/* The output stage of one channel with mcu_rq2 (x2 = 2 (bias + y / 4) = bias2 + (y >> 1),
 * exact because 4 divides y), its constants in the order the assembly loads them. */
typedef struct {
    int32_t bias2, m, a, r, lo, hi, px, row;
} mcu_wino_oq;


int32_t mcu_conv_wino_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    (void)input_dims;
    if (!filter_dims || !mcu_wino_supported(filter_dims))
        return 0;
    const int32_t cp = mcu_wino_cp(filter_dims->c);
    return 16 * cp * MCU_WINO_TB * 2 + 60 + 16 * 2 * MCU_WINO_TB * 4 +
           8 * (2 * MCU_WINO_TB + 2) * 4 + 4 * (2 * MCU_WINO_TB + 2) * cp +
           filter_dims->n * (int32_t)sizeof(mcu_wino_oq);
}

/* Input transform of a block of nt tiles: the window of 4 rows x ncols = 2 nt + 2 columns,
 * of which columns [k0, k1) are inside the input (the others are the zero point: their
 * column transforms are 0), to V[e][q][t] = v[t + q * TB + e * es]. src is column k0 (pixel
 * (r, k) of channel group g at src + r * row + (k - k0) * px + 4 g). Columns first (B^T d:
 * the four pixels of a column, extended once for both channel pairs, combined into
 * t0..t3), kept in tc[ncols][8]; then rows (t B) per tile, the tiles sharing the columns
 * they overlap in. */
static void mcu_wino_in(const int8_t *src, int32_t px, int32_t row, int32_t groups,
                        int32_t ncols, int32_t k0, int32_t k1, int32_t off2, int32_t *v,
                        int32_t es, int32_t *tc)
{
    for (int32_t k = 0; k < ncols; ++k)
        if (k < k0 || k >= k1)
            for (int32_t i = 0; i < 8; ++i)
                tc[8 * k + i] = 0;
    for (int32_t g = 0; g < groups; ++g, src += 4, v += 2 * MCU_WINO_TB) {
        const int8_t *p = src;
        int32_t *t = tc + 8 * k0;
        int32_t n = k1 - k0;
#if MCU_NN_ASM
        /* two columns per iteration; 14 registers; 4 loads, 8 SXTAB16, 8 SADD16/SSUB16 and 8
         * single-cycle stores per column. An odd last column goes through the C below. */
        const int8_t *p2 = p + 2 * row;
        int32_t pairs = n >> 1, d0, d1, d2, d3, x, y, z;
        n &= 1;
        if (pairs)
#define MCU_WINO_COLUMN(T)                                                                    \
    "ldr %[d0], [%[p]]\n\t"                                                                   \
    "ldr %[d1], [%[p], %[row]]\n\t"                                                           \
    "ldr %[d2], [%[p2]]\n\t"                                                                  \
    "ldr %[d3], [%[p2], %[row]]\n\t"                                                          \
    "sxtab16 %[x], %[off2], %[d1], ror #8\n\t"                                                \
    "sxtab16 %[y], %[off2], %[d2], ror #8\n\t"                                                \
    "sadd16 %[z], %[x], %[y]\n\t"                                                             \
    "str %[z], [%[t], #" #T "+20]\n\t"                                                        \
    "ssub16 %[z], %[y], %[x]\n\t"                                                             \
    "str %[z], [%[t], #" #T "+24]\n\t"                                                        \
    "sxtab16 %[z], %[off2], %[d0], ror #8\n\t"                                                \
    "ssub16 %[z], %[z], %[y]\n\t"                                                             \
    "str %[z], [%[t], #" #T "+16]\n\t"                                                        \
    "sxtab16 %[z], %[off2], %[d3], ror #8\n\t"                                                \
    "ssub16 %[z], %[x], %[z]\n\t"                                                             \
    "str %[z], [%[t], #" #T "+28]\n\t"                                                        \
    "sxtab16 %[d1], %[off2], %[d1]\n\t"                                                       \
    "sxtab16 %[d2], %[off2], %[d2]\n\t"                                                       \
    "sadd16 %[x], %[d1], %[d2]\n\t"                                                           \
    "str %[x], [%[t], #" #T "+4]\n\t"                                                         \
    "ssub16 %[x], %[d2], %[d1]\n\t"                                                           \
    "str %[x], [%[t], #" #T "+8]\n\t"                                                         \
    "sxtab16 %[d0], %[off2], %[d0]\n\t"                                                       \
    "ssub16 %[d0], %[d0], %[d2]\n\t"                                                          \
    "str %[d0], [%[t], #" #T "]\n\t"                                                          \
    "sxtab16 %[d3], %[off2], %[d3]\n\t"                                                       \
    "ssub16 %[d3], %[d1], %[d3]\n\t"                                                          \
    "str %[d3], [%[t], #" #T "+12]\n\t"                                                       \
    "add %[p], %[p], %[px]\n\t"                                                               \
    "add %[p2], %[p2], %[px]\n\t"
        __asm__ volatile("1:\n\t" MCU_WINO_COLUMN(0) MCU_WINO_COLUMN(32)
                         "adds %[t], %[t], #64\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b"
                         : [p] "+r"(p), [p2] "+r"(p2), [t] "+r"(t), [n] "+r"(pairs), [d0] "=&r"(d0),
                           [d1] "=&r"(d1), [d2] "=&r"(d2), [d3] "=&r"(d3), [x] "=&r"(x),
                           [y] "=&r"(y), [z] "=&r"(z)
                         : [row] "r"(row), [px] "r"(px), [off2] "r"(off2)
                         : "cc", "memory");
#undef MCU_WINO_COLUMN
#endif
        for (; n > 0; --n, p += px, t += 8) {
            const int32_t d0 = mcu_read_s8x4(p), d1 = mcu_read_s8x4(p + row);
            const int32_t d2 = mcu_read_s8x4(p + 2 * row), d3 = mcu_read_s8x4(p + 3 * row);
            int32_t a1 = __sxtab16(off2, d1), a2 = __sxtab16(off2, d2);
            t[0] = __ssub16(__sxtab16(off2, d0), a2);
            t[1] = __sadd16(a1, a2);
            t[2] = __ssub16(a2, a1);
            t[3] = __ssub16(a1, __sxtab16(off2, d3));
            a1 = mcu_sxtab16_ror8(off2, d1);
            a2 = mcu_sxtab16_ror8(off2, d2);
            t[4] = __ssub16(mcu_sxtab16_ror8(off2, d0), a2);
            t[5] = __sadd16(a1, a2);
            t[6] = __ssub16(a2, a1);
            t[7] = __ssub16(a1, mcu_sxtab16_ror8(off2, d3));
        }
        /* rows: for pair h and row i, the value of column k is tc[8 k + 4 h + i]; tile j
         * combines columns 2j .. 2j + 3 into positions e = 4i .. 4i + 3 (V rows es apart). */
#if MCU_NN_ASM
        if (ncols == 2 * MCU_WINO_TB + 2) { /* a whole block: straight-line */
            const int32_t *tk = tc;
            int32_t *v0 = v;
            for (int32_t hi = 0; hi < 8; ++hi, ++tk) {
                if (hi == 4)
                    v0 = v + MCU_WINO_TB;
                int32_t *v1 = v0 + es, *v2 = v1 + es, *v3 = v2 + es;
                int32_t r0, r1, r2, r3, a;
                /* columns 2j, 2j + 1 in one register pair, 2j + 2, 2j + 3 in the other */
#define MCU_WINO_TILE(J, A, B, C, D)                                                          \
    "ldr %[" #C "], [%[tk], #64*" #J "+64]\n\t"                                               \
    "ldr %[" #D "], [%[tk], #64*" #J "+96]\n\t"                                               \
    "ssub16 %[a], %[" #A "], %[" #C "]\n\t"                                                   \
    "str %[a], [%[v0], #4*" #J "]\n\t"                                                        \
    "sadd16 %[a], %[" #B "], %[" #C "]\n\t"                                                   \
    "str %[a], [%[v1], #4*" #J "]\n\t"                                                        \
    "ssub16 %[a], %[" #C "], %[" #B "]\n\t"                                                   \
    "str %[a], [%[v2], #4*" #J "]\n\t"                                                        \
    "ssub16 %[a], %[" #B "], %[" #D "]\n\t"                                                   \
    "str %[a], [%[v3], #4*" #J "]\n\t"
                __asm__ volatile("ldr %[r0], [%[tk]]\n\t"
                                 "ldr %[r1], [%[tk], #32]\n\t" MCU_WINO_TILE(0, r0, r1, r2, r3)
                                     MCU_WINO_TILE(1, r2, r3, r0, r1)
                                         MCU_WINO_TILE(2, r0, r1, r2, r3)
                                             MCU_WINO_TILE(3, r2, r3, r0, r1)
                                 : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2),
                                   [r3] "=&r"(r3), [a] "=&r"(a)
                                 : [tk] "r"(tk), [v0] "r"(v0), [v1] "r"(v1), [v2] "r"(v2),
                                   [v3] "r"(v3)
                                 : "memory");
#undef MCU_WINO_TILE
                v0 = v3 + es;
            }
            continue;
        }
#endif
        for (int32_t h = 0; h < 2; ++h) {
            for (int32_t i = 0; i < 4; ++i) {
                const int32_t *tk = tc + 4 * h + i;
                int32_t *v0 = v + h * MCU_WINO_TB + 4 * i * es, *v1 = v0 + es;
                int32_t *v2 = v1 + es, *v3 = v2 + es;
                int32_t c0 = tk[0], c1 = tk[8];
                for (int32_t j = 0; j < ncols / 2 - 1; ++j) {
                    const int32_t c2 = tk[16 * j + 16], c3 = tk[16 * j + 24];
                    v0[j] = __ssub16(c0, c2);
                    v1[j] = __sadd16(c1, c2);
                    v2[j] = __ssub16(c2, c1);
                    v3[j] = __ssub16(c1, c3);
                    c0 = c2;
                    c1 = c3;
                }
            }
        }
    }
}

/* The 4 x ncols window at input (y0, x0) as pixels of C' bytes, the input zero point for
 * pixels outside the input and for the padding channels (both become 0 after the offset).
 * Row by row: the pixels inside the input are one contiguous run, copied a word at a time
 * when C is a multiple of 4. */
__attribute__((noinline)) static void mcu_wino_stage(const int8_t *in, int32_t in_h,
                                                     int32_t in_w, int32_t in_c, int32_t y0,
                                                     int32_t x0, int32_t ncols, uint32_t zp4,
                                                     int8_t *stage)
{
    const int32_t cp = mcu_wino_cp(in_c);
    const int32_t k0 = x0 < 0 ? -x0 : 0;
    const int32_t k1 = x0 + ncols > in_w ? in_w - x0 : ncols; /* columns [k0, k1) inside */
    for (int32_t r = 0; r < 4; ++r, stage += ncols * cp) {
        const int32_t y = y0 + r;
        uint32_t *w = (uint32_t *)(void *)stage;
        if (y < 0 || y >= in_h || k1 <= k0) {
            for (uint32_t *end = w + ncols * cp / 4; w != end; ++w)
                *w = zp4;
            continue;
        }
        for (uint32_t *end = w + k0 * cp / 4; w != end; ++w)
            *w = zp4;
        const int8_t *p = in + (y * in_w + x0 + k0) * in_c;
        if (cp == in_c) {
            for (uint32_t *end = w + (k1 - k0) * cp / 4; w != end; ++w, p += 4)
                *w = (uint32_t)mcu_read_s8x4(p);
        } else {
            int8_t *b = (int8_t *)w;
            for (int32_t k = k0; k < k1; ++k, p += in_c)
                for (int32_t c = 0; c < cp; ++c)
                    *b++ = c < in_c ? p[c] : (int8_t)zp4;
            w = (uint32_t *)(void *)b;
        }
        for (uint32_t *end = (uint32_t *)(void *)(stage + ncols * cp); w != end; ++w)
            *w = zp4;
    }
}

/* For each of the 16 transform positions e: m[16 (4j + t) + e] = sum over the nq input-channel
 * pairs of SMLAD(u pair of output channel j, v pair of tile t). u and v are read once, in
 * order; nq is even.
 * Per pair: 6 loads (the post-incrementing one last for its base, so every load after the
 * first of a group pipelines: 5 + 3 cycles) and 8 SMLADs, 16 cycles. The first pair of a
 * position uses SMUAD (no accumulators to clear). Up to MCU_WINO_UNROLL pairs the other pairs
 * are straight-line code entered at the right distance from its end (a computed BX once per
 * position, 5 cycles, instead of a loop test per pair or two: 15 fixed-size steps of 56 bytes,
 * 840 bytes of code); more channels loop two pairs at a time with the loop end in memory (all
 * 14 registers are in use). */
#define MCU_WINO_UNROLL 16

static inline __attribute__((always_inline)) void mcu_wino_gemm(const int32_t *u, const int32_t *v,
                                                             int32_t nq, int32_t *m)
{
#if MCU_NN_ASM
    int32_t a0, a1, a2, a3, b0, b1, b2, b3, u0, u1, va, vb;
#define MCU_WINO_STEP(OP, ACC)                                                                \
    "ldr.w %[u1], [%[u], #4]\n\t"                                                             \
    "ldr.w %[u0], [%[u]], #8\n\t"                                                             \
    "ldr.w %[vb], [%[v], #4]\n\t"                                                             \
    "ldr.w %[va], [%[v]], #8\n\t" OP " %[a0], %[u0], %[va]" ACC(a0) "\n\t" OP                 \
    " %[b0], %[u1], %[va]" ACC(b0) "\n\t" OP " %[a1], %[u0], %[vb]" ACC(a1) "\n\t" OP         \
    " %[b1], %[u1], %[vb]" ACC(b1) "\n\t"                                                     \
    "ldr.w %[vb], [%[v], #4]\n\t"                                                             \
    "ldr.w %[va], [%[v]], #8\n\t" OP " %[a2], %[u0], %[va]" ACC(a2) "\n\t" OP                 \
    " %[b2], %[u1], %[va]" ACC(b2) "\n\t" OP " %[a3], %[u0], %[vb]" ACC(a3) "\n\t" OP         \
    " %[b3], %[u1], %[vb]" ACC(b3) "\n\t"
#define MCU_WINO_NOACC(r) ""
#define MCU_WINO_ACC(r) ", %[" #r "]"
#define MCU_WINO_S1 MCU_WINO_STEP("smlad", MCU_WINO_ACC)
#define MCU_WINO_S5 MCU_WINO_S1 MCU_WINO_S1 MCU_WINO_S1 MCU_WINO_S1 MCU_WINO_S1
    /* the 8 sums of a position to m (then m += 1), and the position loop: m is 64-byte
     * aligned, so the 16th position leaves it aligned again */
#define MCU_WINO_STORE                                                                        \
    "ldr %[u0], %[mp]\n\t"                                                                    \
    "str %[a1], [%[u0], #64]\n\t"                                                             \
    "str %[a2], [%[u0], #128]\n\t"                                                            \
    "str %[a3], [%[u0], #192]\n\t"                                                            \
    "str %[b0], [%[u0], #256]\n\t"                                                            \
    "str %[b1], [%[u0], #320]\n\t"                                                            \
    "str %[b2], [%[u0], #384]\n\t"                                                            \
    "str %[b3], [%[u0], #448]\n\t"                                                            \
    "str %[a0], [%[u0]], #4\n\t"                                                              \
    "str %[u0], %[mp]\n\t"                                                                    \
    "tst %[u0], #63\n\t"                                                                      \
    "bne 0b"
#define MCU_WINO_OUTS                                                                         \
    [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [b0] "=&r"(b0),           \
        [b1] "=&r"(b1), [b2] "=&r"(b2), [b3] "=&r"(b3), [u0] "=&r"(u0), [u1] "=&r"(u1),       \
        [va] "=&r"(va), [vb] "=&r"(vb), [u] "+r"(u), [v] "+r"(v), [mp] "+m"(m)
    if (nq <= MCU_WINO_UNROLL) {
        /* entry = (end of the steps) - (nq - 1) steps, with the Thumb bit */
        const int32_t back = (nq - 1) * 56 - 1;
        const void *entry;
        /* ADR reads Align(PC, 4): .p2align makes the section 4-aligned, so the offset GAS
         * computes holds wherever the linker puts the function (-O1/-Os align to 2) */
        __asm__ volatile(
            ".p2align 2\n\t"
            "adr.w %[u0], 3f\n\t"
            "ldr %[u1], %[back]\n\t"
            "sub %[u0], %[u0], %[u1]\n\t"
            "str %[u0], %[entry]\n\t"
            "0:\n\t" MCU_WINO_STEP("smuad", MCU_WINO_NOACC)
            "ldr %[u0], %[entry]\n\t"
            "bx %[u0]\n\t" MCU_WINO_S5 MCU_WINO_S5 MCU_WINO_S5
            "3:\n\t" MCU_WINO_STORE
            : MCU_WINO_OUTS, [entry] "=m"(entry)
            : [back] "m"(back)
            : "cc", "memory");
        return;
    }
    const int32_t qbytes = nq * MCU_WINO_TB * 4;
    const int32_t *q_end;
    __asm__ volatile(
        "0:\n\t"
        "ldr %[u0], %[qb]\n\t"
        "add %[u0], %[v], %[u0]\n\t"
        "str %[u0], %[qe]\n\t" MCU_WINO_STEP("smuad", MCU_WINO_NOACC) MCU_WINO_S1
        "ldr %[u0], %[qe]\n\t"
        "cmp %[v], %[u0]\n\t"
        "beq 2f\n\t"
        "1:\n\t" MCU_WINO_S1 MCU_WINO_S1
        "ldr %[u0], %[qe]\n\t"
        "cmp %[v], %[u0]\n\t"
        "bne 1b\n\t"
        "2:\n\t" MCU_WINO_STORE
        : MCU_WINO_OUTS, [qe] "=m"(q_end)
        : [qb] "m"(qbytes)
        : "cc", "memory");
#undef MCU_WINO_STEP
#undef MCU_WINO_NOACC
#undef MCU_WINO_ACC
#undef MCU_WINO_S1
#undef MCU_WINO_S5
#undef MCU_WINO_STORE
#undef MCU_WINO_OUTS
#else /* the same with intrinsics (-O0, MCU_NN_NO_ASM) */
    for (int32_t e = 0; e < 16; ++e, ++m) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        for (const int32_t *end = u + 2 * nq; u != end; u += 2, v += MCU_WINO_TB) {
            const int32_t u0 = u[0], u1 = u[1];
            a0 = __smlad(u0, v[0], a0);
            b0 = __smlad(u1, v[0], b0);
            a1 = __smlad(u0, v[1], a1);
            b1 = __smlad(u1, v[1], b1);
            a2 = __smlad(u0, v[2], a2);
            b2 = __smlad(u1, v[2], b2);
            a3 = __smlad(u0, v[3], a3);
            b3 = __smlad(u1, v[3], b3);
        }
        m[0] = a0;
        m[16] = a1;
        m[32] = a2;
        m[48] = a3;
        m[64] = b0;
        m[80] = b1;
        m[96] = b2;
        m[112] = b3;
    }
#endif
}

/* Output transform of one (channel, tile): its 16 sums m[0..15] (position e = 4 row + col)
 * -> y0..y3 (row-major 2x2), each 4 x the accumulator without bias. Wrapping arithmetic.
 * Column by column (a = m0 + m1 + m2 and c = m1 - m2 - m3 of the column's four rows, then
 * y0 = a0 + a1 + a2, y1 = a1 - a2 - a3, y2, y3 the same of c): four loads back to back per
 * column, 9 registers, 44 cycles. Assembly because GCC reassociates the sums and interleaves
 * the loads with them (no pipelining, about 80 cycles). */
#if MCU_NN_ASM
#define MCU_WINO_COL(c, A, C)                                                                  \
    "ldr %[p], [%[m], #" #c "*4]\n\t"                                                          \
    "ldr %[q], [%[m], #" #c "*4+16]\n\t"                                                       \
    "ldr %[r], [%[m], #" #c "*4+32]\n\t"                                                       \
    "ldr %[s], [%[m], #" #c "*4+48]\n\t"                                                       \
    "add %[" #A "], %[p], %[q]\n\t"                                                            \
    "add %[" #A "], %[" #A "], %[r]\n\t"                                                       \
    "sub %[" #C "], %[q], %[r]\n\t"                                                            \
    "sub %[" #C "], %[" #C "], %[s]\n\t"
/* the transform: y0..y3 from the sums at m, p..s scratch */
#define MCU_WINO_OUT_ASM                                                                      \
    MCU_WINO_COL(0, y0, y2) MCU_WINO_COL(1, y1, y3)                                           \
    "add %[y0], %[y0], %[y1]\n\t"                                                             \
    "add %[y2], %[y2], %[y3]\n\t" MCU_WINO_COL(2, p, q)                                       \
    "add %[y0], %[y0], %[p]\n\t"                                                              \
    "sub %[y1], %[y1], %[p]\n\t"                                                              \
    "add %[y2], %[y2], %[q]\n\t"                                                              \
    "sub %[y3], %[y3], %[q]\n\t" MCU_WINO_COL(3, p, q)                                        \
    "sub %[y1], %[y1], %[p]\n\t"                                                              \
    "sub %[y3], %[y3], %[q]\n\t"
#define MCU_WINO_OUT(M_, Y0, Y1, Y2, Y3)                                                        \
    do {                                                                                      \
        uint32_t p_, q_, r_, s_;                                                              \
        __asm__(MCU_WINO_OUT_ASM                                                              \
                : [y0] "=&r"(Y0), [y1] "=&r"(Y1), [y2] "=&r"(Y2), [y3] "=&r"(Y3),             \
                  [p] "=&r"(p_), [q] "=&r"(q_), [r] "=&r"(r_), [s] "=&r"(s_)                  \
                : [m] "r"(M_)                                                                  \
                : "memory");                                                                  \
    } while (0)
#else
#define MCU_WINO_OUT(m, y0, y1, y2, y3)                                                        \
    do {                                                                                      \
        const uint32_t *m_ = (const uint32_t *)(m);                                           \
        uint32_t a_[4], c_[4];                                                                \
        for (int32_t k_ = 0; k_ < 4; ++k_) {                                                  \
            a_[k_] = m_[k_] + m_[4 + k_] + m_[8 + k_];                                        \
            c_[k_] = m_[4 + k_] - m_[8 + k_] - m_[12 + k_];                                   \
        }                                                                                     \
        y0 = (int32_t)(a_[0] + a_[1] + a_[2]);                                                \
        y1 = (int32_t)(a_[1] - a_[2] - a_[3]);                                                \
        y2 = (int32_t)(c_[0] + c_[1] + c_[2]);                                                \
        y3 = (int32_t)(c_[1] - c_[2] - c_[3]);                                                \
    } while (0)
#endif

static inline void mcu_wino_out(const int32_t *m, int32_t y[4])
{
    MCU_WINO_OUT(m, y[0], y[1], y[2], y[3]);
}

/* The outputs of nt whole tiles (2 rows x 2 nt pixels, all inside the output) of one
 * channel: m = the channel's sums (M + 16 TB j), o = its first output (px = bytes between
 * pixels, row = between rows). Per tile: output transform (44 cycles), 4 x (ADD with ASR #1,
 * SMMLAR, ADD with ASR #31, ASR), clamp, 4 STRB. The clamp is one SSAT per output when the
 * activation range is all of int8 (no activation, and ReLU/ReLU6 whose output range starts at
 * the real 0: zero point -128), SSAT and one compare when it is [lo, 127] (ReLU), else two
 * compares. */
#if MCU_NN_ASM
#define MCU_WINO_RQ(Y)                                                                        \
    "smmlar %[s], %[" #Y "], %[q], %[r]\n\t"                                                  \
    "add %[" #Y "], %[s], %[" #Y "], asr #31\n\t"                                             \
    "asr %[" #Y "], %[" #Y "], %[p]\n\t"
#define MCU_WINO_CLAMP(Y)                                                                     \
    "cmp %[" #Y "], %[p]\n\t"                                                                 \
    "it lt\n\t"                                                                               \
    "movlt %[" #Y "], %[p]\n\t"                                                               \
    "cmp %[" #Y "], %[q]\n\t"                                                                 \
    "it gt\n\t"                                                                               \
    "movgt %[" #Y "], %[q]\n\t"
#define MCU_WINO_CLAMPS                                                                       \
    "ldr %[p], [%[k], #16]\n\t"                                                               \
    "ldr %[q], [%[k], #20]\n\t" MCU_WINO_CLAMP(y0) MCU_WINO_CLAMP(y1) MCU_WINO_CLAMP(y2)      \
        MCU_WINO_CLAMP(y3)
#define MCU_WINO_SSATS                                                                        \
    "ssat %[y0], #8, %[y0]\n\t"                                                               \
    "ssat %[y1], #8, %[y1]\n\t"                                                               \
    "ssat %[y2], #8, %[y2]\n\t"                                                               \
    "ssat %[y3], #8, %[y3]\n\t"
#define MCU_WINO_MAXLO(Y)                                                                     \
    "ssat %[" #Y "], #8, %[" #Y "]\n\t"                                                       \
    "cmp %[" #Y "], %[p]\n\t"                                                                 \
    "it lt\n\t"                                                                               \
    "movlt %[" #Y "], %[p]\n\t"
#define MCU_WINO_RELUS                                                                        \
    "ldr %[p], [%[k], #16]\n\t" MCU_WINO_MAXLO(y0) MCU_WINO_MAXLO(y1) MCU_WINO_MAXLO(y2)       \
        MCU_WINO_MAXLO(y3)
#define MCU_WINO_STORE_TILES(CLAMPS)                                                          \
    for (const int32_t *end = m + 16 * nt; m != end; m += 16) {                               \
        uint32_t y0, y1, y2, y3, p_, q_, r_, s_;                                              \
        __asm__ volatile(MCU_WINO_OUT_ASM                                                     \
                         "ldr %[p], [%[k]]\n\t"                                               \
                         "ldr %[q], [%[k], #4]\n\t"                                           \
                         "ldr %[r], [%[k], #8]\n\t"                                           \
                         "add %[y0], %[p], %[y0], asr #1\n\t"                                 \
                         "add %[y1], %[p], %[y1], asr #1\n\t"                                 \
                         "add %[y2], %[p], %[y2], asr #1\n\t"                                 \
                         "add %[y3], %[p], %[y3], asr #1\n\t"                                 \
                         "ldr %[p], [%[k], #12]\n\t" MCU_WINO_RQ(y0) MCU_WINO_RQ(y1)          \
                             MCU_WINO_RQ(y2) MCU_WINO_RQ(y3) CLAMPS                           \
                         "ldr %[p], [%[k], #24]\n\t"                                          \
                         "ldr %[q], [%[k], #28]\n\t"                                          \
                         "strb %[y0], [%[o]]\n\t"                                             \
                         "strb %[y1], [%[o], %[p]]\n\t"                                       \
                         "add %[r], %[o], %[q]\n\t"                                           \
                         "strb %[y2], [%[r]]\n\t"                                             \
                         "strb %[y3], [%[r], %[p]]\n\t"                                       \
                         "add %[o], %[o], %[p], lsl #1"                                       \
                         : [y0] "=&r"(y0), [y1] "=&r"(y1), [y2] "=&r"(y2), [y3] "=&r"(y3),    \
                           [p] "=&r"(p_), [q] "=&r"(q_), [r] "=&r"(r_), [s] "=&r"(s_),        \
                           [o] "+r"(o)                                                        \
                         : [m] "r"(m), [k] "r"(k)                                             \
                         : "cc", "memory");                                                   \
    }
__attribute__((noinline)) static void mcu_wino_store_fused(const int32_t *m, int32_t nt,
                                                          const mcu_wino_oq *k, int8_t *o)
{
    MCU_WINO_STORE_TILES(MCU_WINO_CLAMPS)
}
__attribute__((noinline)) static void mcu_wino_store_ssat(const int32_t *m, int32_t nt,
                                                         const mcu_wino_oq *k, int8_t *o)
{
    MCU_WINO_STORE_TILES(MCU_WINO_SSATS)
}
__attribute__((noinline)) static void mcu_wino_store_relu(const int32_t *m, int32_t nt,
                                                         const mcu_wino_oq *k, int8_t *o)
{
    MCU_WINO_STORE_TILES(MCU_WINO_RELUS)
}
#undef MCU_WINO_RQ
#undef MCU_WINO_CLAMP
#undef MCU_WINO_CLAMPS
#undef MCU_WINO_SSATS
#undef MCU_WINO_MAXLO
#undef MCU_WINO_RELUS
#undef MCU_WINO_STORE_TILES
#else
static void mcu_wino_store_fused(const int32_t *m, int32_t nt, const mcu_wino_oq *k, int8_t *o)
{
    for (const int32_t *end = m + 16 * nt; m != end; m += 16, o += 2 * k->px) {
        int32_t y[4];
        MCU_WINO_OUT(m, y[0], y[1], y[2], y[3]);
        for (int32_t i = 0; i < 4; ++i) {
            const int32_t x2 = k->bias2 + (y[i] >> 1);
            y[i] = mcu_rq_clamp((mcu_smmlar(x2, k->m, k->a) + (x2 >> 31)) >> k->r, k->lo, k->hi);
        }
        o[0] = (int8_t)y[0];
        o[k->px] = (int8_t)y[1];
        o[k->row] = (int8_t)y[2];
        o[k->row + k->px] = (int8_t)y[3];
    }
}
#define mcu_wino_store_ssat mcu_wino_store_fused
#define mcu_wino_store_relu mcu_wino_store_fused
#endif

/* Everything the outputs of a block need, fixed for the call. */
typedef struct {
    const int32_t *U, *V;
    int32_t *M;
    int32_t nq, out_c, out_h, out_w, lo, hi, out_off, per_ch, fused;
    const mcu_wino_oq *oq;
    void (*store)(const int32_t *, int32_t, const mcu_wino_oq *, int8_t *);
    const mcu_quant_params *quant;
    const int32_t *bias;
} mcu_wino_call;

/* Every output channel of the block of nt tiles whose first output pixel is (oy, ox0), from
 * V: per pair of channels the matrix products (mcu_wino_gemm, inlined here once), then the
 * output stage: the fused assembly when the block is whole, else the general one (border
 * tiles that leave the output, any requantization). */
__attribute__((noinline)) static void mcu_wino_block(const mcu_wino_call *cx, int8_t *out_b,
                                                     int32_t oy, int32_t ox0, int32_t nt)
{
    const int32_t out_c = cx->out_c, out_h = cx->out_h, out_w = cx->out_w;
    const int whole = cx->fused && oy + 2 <= out_h && ox0 + 2 * nt <= out_w;
    const int32_t u_step = 16 * cx->nq * 2; /* words per output-channel pair */
    int8_t *o0 = out_b + (oy * out_w + ox0) * out_c;
    for (int32_t o = 0; o < out_c; o += 2) {
        mcu_wino_gemm(cx->U + (o >> 1) * u_step, cx->V, cx->nq, cx->M);
        if (whole) {
            cx->store(cx->M, nt, &cx->oq[o], o0 + o);
            if (o + 1 < out_c)
                cx->store(cx->M + 16 * MCU_WINO_TB, nt, &cx->oq[o + 1], o0 + o + 1);
            continue;
        }
        for (int32_t j = 0; j < 2 && o + j < out_c; ++j) {
            const int32_t oc = o + j, qc = oc * cx->per_ch;
            const int32_t bs = cx->bias ? cx->bias[oc] : 0;
            mcu_rq2 q2;
            mcu_rq q1;
            if (cx->fused)
                mcu_rq2_init(&q2, cx->quant->multiplier[qc], cx->quant->shift[qc], cx->out_off);
            else
                mcu_rq_init(&q1, cx->quant->multiplier[qc], cx->quant->shift[qc]);
            for (int32_t t = 0; t < nt; ++t) {
                int32_t y[4];
                mcu_wino_out(cx->M + 16 * (MCU_WINO_TB * j + t), y);
                const int32_t ox = ox0 + 2 * t;
                for (int32_t i = 0; i < 4; ++i) {
                    const int32_t py = oy + (i >> 1), pxx = ox + (i & 1);
                    if (py >= out_h || pxx >= out_w)
                        continue;
                    const int32_t acc = bs + (y[i] >> 2);
                    const int32_t r = cx->fused ? mcu_rq2_apply(acc, &q2)
                                                : mcu_rq_apply(acc, &q1) + cx->out_off;
                    out_b[(py * out_w + pxx) * out_c + oc] =
                        (int8_t)mcu_rq_clamp(r, cx->lo, cx->hi);
                }
            }
        }
    }
}

mcu_status mcu_conv_wino_s8(const mcu_context *ctx, const mcu_conv_params *params,
                            const mcu_quant_params *quant, const mcu_dims *input_dims,
                            const int8_t *input, const mcu_dims *filter_dims,
                            const int16_t *transformed, const int32_t *bias,
                            const mcu_dims *output_dims, int8_t *output)
{
    const mcu_status st = mcu_wino_check(
        ctx, params, quant, input_dims, input, filter_dims, transformed, output_dims, output,
        filter_dims ? mcu_conv_wino_s8_get_buffer_size(input_dims, filter_dims) : 0);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = filter_dims->n;
    const int32_t cp = mcu_wino_cp(in_c), nq = cp / 2, groups = cp / 4;
    const int32_t es = nq * MCU_WINO_TB; /* words between transform positions in V */
    const int32_t pad_h = params->padding.h, pad_w = params->padding.w;
    const int32_t off2 = mcu_dup16(params->input_offset);
    const int32_t out_off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t per_ch = quant->per_channel ? 1 : 0;
    int32_t *V = (int32_t *)ctx->buf;
    int32_t *M = (int32_t *)(((uintptr_t)(V + 16 * es) + 63) & ~(uintptr_t)63); /* 64-aligned */
    int32_t *tc = M + 16 * 2 * MCU_WINO_TB; /* column transforms of one block */
    int8_t *stage = (int8_t *)(tc + 8 * (2 * MCU_WINO_TB + 2));
    mcu_wino_oq *oq = (mcu_wino_oq *)(void *)(stage + 4 * (2 * MCU_WINO_TB + 2) * cp);
    const int32_t *U = (const int32_t *)(const void *)transformed;

    /* mcu_rq2 needs right shifts of 1..23 and |bias + sum| <= 2^29: |sum| <= 9 C 128 255. */
    int fused = 9 * in_c <= (MCU_RQ2_MAX_ACC >> 1) / (128 * 255);
    for (int32_t c = 0; c < out_c && fused; ++c) {
        const int32_t b = bias ? bias[c] : 0;
        fused = mcu_rq2_ok(quant->shift[c * per_ch]) && b <= MCU_RQ2_MAX_ACC >> 1 &&
                -b <= MCU_RQ2_MAX_ACC >> 1;
    }
    if (fused) {
        for (int32_t c = 0; c < out_c; ++c) {
            mcu_rq2 q2;
            mcu_rq2_init(&q2, quant->multiplier[c * per_ch], quant->shift[c * per_ch], out_off);
            const mcu_wino_oq k = {2 * (bias ? bias[c] : 0), q2.m, q2.a, q2.r, lo, hi, out_c,
                                   out_w * out_c};
            oq[c] = k;
        }
    }
    /* the clamp of the fused output stage: all of int8 (SSAT), from lo up (SSAT and a compare:
     * ReLU), or both bounds */
    void (*const store)(const int32_t *, int32_t, const mcu_wino_oq *, int8_t *) =
        hi == 127 ? (lo == -128 ? mcu_wino_store_ssat : mcu_wino_store_relu)
                  : mcu_wino_store_fused;
    const mcu_wino_call cx = {U, V, M, nq, out_c, out_h, out_w, lo, hi, out_off, per_ch, fused,
                              oq, store, quant, bias};
    const int fast_c = (in_c & 3) == 0;
    const uint32_t zp4 = 0x01010101u * (uint8_t)(-params->input_offset);

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        int8_t *out_b = output + b * out_h * out_w * out_c;
        for (int32_t oy = 0; oy < out_h; oy += 2) {
            for (int32_t ox0 = 0; ox0 < out_w; ox0 += 2 * MCU_WINO_TB) {
                const int32_t left = (out_w - ox0 + 1) >> 1;
                const int32_t nt = left < MCU_WINO_TB ? left : MCU_WINO_TB;
                const int32_t y0 = oy - pad_h, x0 = ox0 - pad_w, ncols = 2 * nt + 2;
                /* columns [k0, k1) of the window are inside the input */
                const int32_t k0 = x0 < 0 ? -x0 : 0;
                const int32_t k1 = x0 + ncols > in_w ? in_w - x0 : ncols;
                if (fast_c && y0 >= 0 && y0 + 4 <= in_h && k0 < k1) {
                    mcu_wino_in(in_b + (y0 * in_w + x0 + k0) * in_c, in_c, in_w * in_c, groups,
                                ncols, k0, k1, off2, V, es, tc);
                } else { /* rows outside, or C % 4: stage the window, the zero point outside */
                    mcu_wino_stage(in_b, in_h, in_w, in_c, y0, x0, ncols, zp4, stage);
                    mcu_wino_in(stage, cp, ncols * cp, groups, ncols, 0, ncols, off2, V, es, tc);
                }
                mcu_wino_block(&cx, out_b, oy, ox0, nt);
            }
        }
    }
    return MCU_OK;
}
#endif
