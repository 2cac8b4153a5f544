/*
 * mcu_nn_dsp.h - internal helpers of the optimized flavour, only for cores with the DSP
 * extension (__ARM_FEATURE_DSP: Cortex-M4/M7/M33/M55). Everything is an arm_acle.h intrinsic
 * except the rotated byte extensions and SMMLAR: ACLE has no form of SXTB16/SXTAB16 with the
 * ROR #8 operand (and GCC 12 does not fuse a separate ROR into them) and no SMMLAR, so those
 * are one-instruction inline assembly (as CMSIS-NN's __SXTB16_RORn does). Also here: the
 * output stages of the MAC kernels (mcu_rq: any shift, one SMLAL; mcu_rq2: right shifts,
 * one SMMLAR with the output offset folded in).
 */
#ifndef MCU_NN_DSP_H
#define MCU_NN_DSP_H

#if !defined(__ARM_FEATURE_DSP)
#error "mcu_nn_dsp.h needs the Arm DSP extension"
#endif

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

#include "mcu_nn_math.h"

/* The multi-instruction inline assembly blocks of the optimized kernels (the conv loop uses
 * all 14 allocatable registers) need GCC with optimization and the frame pointer omitted,
 * the default from -O1 on. -O0 builds get the intrinsics versions (same results, slower);
 * -DMCU_NN_NO_ASM forces them too (needed with -fno-omit-frame-pointer). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__) && !defined(MCU_NN_NO_ASM)
#define MCU_NN_ASM 1
#else
#define MCU_NN_ASM 0
#endif

/* Four int8 / two int16 as one 32-bit word; a single LDR (unaligned allowed on v7E-M). */
static inline int32_t mcu_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline int32_t mcu_read_s16x2(const int16_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline void mcu_write_s16x2(int16_t *p, int32_t v)
{
    memcpy(p, &v, 4);
}

/* Bytes 1 and 3 sign-extended into the two halfwords. */
static inline int32_t mcu_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* Halfwords of a plus bytes 1 and 3 of x, sign-extended. */
static inline int32_t mcu_sxtab16_ror8(int32_t a, int32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/* An int16 pair holding v in both halves. */
static inline int32_t mcu_dup16(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFFFu) | ((uint32_t)v << 16));
}

/* Converts n int8 (n a multiple of 4) to int16 with offset added, in the order SMLAD against
 * SXTB16-extended weights wants: per group of 4, (x0, x2) then (x1, x3). Consecutive groups
 * are `stride` int16 apart (4 = packed). */
static inline void mcu_s8_to_s16_reordered(const int8_t *src, int16_t *dst, int32_t n,
                                           int32_t offset2, int32_t stride)
{
    for (int32_t i = 0; i < n; i += 4, dst += stride) {
        const int32_t x = mcu_read_s8x4(src + i);
        mcu_write_s16x2(dst, __sxtab16(offset2, x));
        mcu_write_s16x2(dst + 2, mcu_sxtab16_ror8(offset2, x));
    }
}

/* Output stage of the MAC kernels, per output channel. TFLM's MultiplyByQuantizedMultiplier
 * with a right shift r = -shift >= 1 (every real model's case) is a single 64-bit
 * multiply-accumulate and one shift:
 *   y = (x*m + 2^30 + 2^(30+r) - [x<0]*2^31) >> (31 + r)
 * because SRDHM is s = floor((x*m + 2^30) / 2^31) (see mcu_srdhm), RoundingDivideByPOT is
 * floor((s + 2^(r-1) - [s<0]) / 2^r), floor((floor(a/b) + c) / d) = floor((a + c*b) / (b*d))
 * for integer c, and [s<0] may be replaced by [x<0] (x<0 with s = 0 gives 0 either way).
 * The constant is kept as two words (vlo, vhi) and the shift by 31 + r is a shift of the high
 * word by r - 1. A shift >= 0 uses mcu_requantize_fast (rm1 = -1 marks it). */
typedef struct {
    int32_t m, shift, vhi, rm1;
    uint32_t vlo;
} mcu_rq;

static inline void mcu_rq_init(mcu_rq *q, int32_t multiplier, int32_t shift)
{
    q->m = multiplier;
    q->shift = shift;
    if (shift < 0) {
        const uint32_t pot = 1u << (uint32_t)(-shift); /* 2^r, r in [1, 31] */
        q->vlo = 0x40000000u | (pot << 30);            /* low word of 2^30 + 2^(30+r) */
        q->vhi = (int32_t)(pot >> 2);                  /* high word */
        q->rm1 = -shift - 1;
    } else {
        q->vlo = 0;
        q->vhi = 0;
        q->rm1 = -1;
    }
}

/* mcu_rq_apply for rm1 >= 0 (shift <= -1): and, subs, sbc, smlal, asr. */
static inline int32_t mcu_rq_right(int32_t x, const mcu_rq *q)
{
    const uint64_t v = (((uint64_t)(uint32_t)q->vhi << 32) | q->vlo) - ((uint32_t)x & 0x80000000u);
    const int64_t t = (int64_t)v + (int64_t)x * q->m;
    return (int32_t)(t >> 32) >> q->rm1;
}

static inline int32_t mcu_rq_apply(int32_t x, const mcu_rq *q)
{
    return q->rm1 < 0 ? mcu_requantize_fast(x, q->m, q->shift) : mcu_rq_right(x, q);
}

static inline int32_t mcu_rq_clamp(int32_t y, int32_t lo, int32_t hi)
{
    y = y < lo ? lo : y;
    return y > hi ? hi : y;
}

/* Requantize, add the output offset, clamp. */
static inline int8_t mcu_rq_out(int32_t acc, const mcu_rq *q, int32_t offset, int32_t lo,
                                int32_t hi)
{
    return (int8_t)mcu_rq_clamp(mcu_rq_apply(acc, q) + offset, lo, hi);
}

/* Rd = Ra + floor((Rn * Rm + 2^31) / 2^32): SMMLAR, which ACLE does not spell. */
static inline int32_t mcu_smmlar(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/* The output stage in its cheapest exact form, for a right shift r in [1, 23] and an
 * accumulator |x| <= 2^29 (the kernels check both once per call): with
 * a = 2^(r-1) + offset * 2^r,
 *   requantize(x) + offset = (SMMLAR(2x, m, a) + (2x >> 31)) >> r.
 * SMMLAR(2x, m, a) = a + floor((2x*m + 2^31) / 2^32) = a + SRDHM(x, m) (see mcu_srdhm);
 * RoundingDivideByPOT(s, r) = floor((s + 2^(r-1) - [s<0]) / 2^r), where [s<0] may be
 * replaced by [x<0] (x<0 with s = 0 gives 0 either way); adding offset * 2^r before the shift
 * adds offset after it. Nothing overflows: |SRDHM| <= 2^29, |a| <= 2^30 + 2^22.
 * Four instructions (LSL, SMMLAR, ADD with ASR #31, ASR) where mcu_rq_right needs five and
 * an ADD for the offset. */
typedef struct {
    int32_t m, a, r;
} mcu_rq2;

#define MCU_RQ2_MAX_ACC (1 << 29)

static inline int mcu_rq2_ok(int32_t shift)
{
    return shift <= -1 && shift >= -23;
}

static inline void mcu_rq2_init(mcu_rq2 *q, int32_t multiplier, int32_t shift, int32_t offset)
{
    const int32_t r = -shift;
    q->m = multiplier;
    q->a = (1 << (r - 1)) + (int32_t)((uint32_t)offset << r);
    q->r = r;
}

static inline int32_t mcu_rq2_apply(int32_t x, const mcu_rq2 *q)
{
    const int32_t x2 = (int32_t)((uint32_t)x << 1);
    return (mcu_smmlar(x2, q->m, q->a) + (x2 >> 31)) >> q->r;
}

/* 16x8 mode: acc + sum_i x[i] * w[i] over n int16 inputs and int8 weights, exactly (int64).
 * Four taps per step: one weight word gives the int16 pairs (w0, w2) and (w1, w3) by SXTB16,
 * the two input words are regrouped to (x0, x2) and (x1, x3) by PKHBT/PKHTB, and SMLALD
 * multiplies both 16-bit halves and adds them to the 64-bit accumulator. */
static inline int64_t mcu_dot_s16_s8(const int16_t *x, const int8_t *w, int32_t n, int64_t acc)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t wv = mcu_read_s8x4(w + i);
        const int32_t x01 = mcu_read_s16x2(x + i), x23 = mcu_read_s16x2(x + i + 2);
        const int32_t x02 = (int32_t)(((uint32_t)x01 & 0xFFFFu) | ((uint32_t)x23 << 16)); /* PKHBT */
        const int32_t x13 = (int32_t)(((uint32_t)x23 & 0xFFFF0000u) | ((uint32_t)x01 >> 16)); /* PKHTB */
        acc = __smlald(x02, __sxtb16(wv), acc);
        acc = __smlald(x13, mcu_sxtb16_ror8(wv), acc);
    }
    for (; i < n; ++i)
        acc += (int32_t)w[i] * x[i];
    return acc;
}

#endif /* MCU_NN_DSP_H */
