/*
 * mcu_nn_dsp.h - internal helpers of the optimized flavour, only for cores with the DSP
 * extension (__ARM_FEATURE_DSP: Cortex-M4/M7/M33/M55). Everything is an arm_acle.h intrinsic
 * except the rotated byte extensions: ACLE has no form of SXTB16/SXTAB16 with the ROR #8
 * operand and GCC 12 does not fuse a separate ROR into them, so those two are one-instruction
 * inline assembly (as CMSIS-NN's __SXTB16_RORn does).
 */
#ifndef MCU_NN_DSP_H
#define MCU_NN_DSP_H

#if !defined(__ARM_FEATURE_DSP)
#error "mcu_nn_dsp.h needs the Arm DSP extension"
#endif

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

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

#endif /* MCU_NN_DSP_H */
