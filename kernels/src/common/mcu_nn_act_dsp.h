/*
 * mcu_nn_act_dsp.h - internal to the optimized flavour (DSP cores): the pointwise activations
 * LEAKY_RELU and PRELU on int16 pairs (two lanes of x = in - zp_in, |x| <= 255).
 *
 * One requantization MBQM(x, m, shift) with l = max(shift, 0), r = max(-shift, 0) is one
 * SMLAW and one ASR when the sign of x is known per branch: SRDHM(x << l, m) =
 * floor((x*m + 2^(30-l)) / 2^(31-l)) and RoundingDivideByPOT(s, r) =
 * floor((s + 2^(r-1) - [x<0]) / 2^r) (r >= 1; [s<0] may be replaced by [x<0], m >= 0, since
 * x < 0 with s = 0 gives 0 either way), so with K = r >= 1 ? 2^(r-1) - [x<0] : 0
 *   MBQM(x) = floor((x*m + 2^(30-l) + K*2^(31-l)) / 2^(31-l+r))       (floor(a/b)+c)/d
 * and for l <= 14 the added constant is a multiple of 2^16, so this is
 *   (floor(x*m / 2^16) + c) >> (15 - l + r),   c = 2^(14-l) + K*2^(15-l)
 * where SMLAWB/SMLAWT give floor(x*m / 2^16) + c exactly (the 48-bit product, one
 * instruction per lane, the lane taken from the pair as it is). mcu_smlaw_init checks once
 * per call that the form holds without overflow (l <= 6, so that MBQM of any |x| <= 255 plus
 * an output offset fits an int16 lane before the final saturation; r <= 15, so |c| < 2^30);
 * otherwise the caller uses the reference arithmetic. The output offset zp is folded into c
 * (K + zp*2^r) where c stays below 2^30 (mcu_smlaw_fold_ok), else added to the selected pair
 * (SADD16).
 */
#ifndef MCU_NN_ACT_DSP_H
#define MCU_NN_ACT_DSP_H

#include "mcu_nn_dsp.h"

typedef struct {
    int32_t m, c, sh;
} mcu_smlaw;

/* neg: the branch is taken for x < 0 (else x >= 0). Returns 0 where the form does not hold.
 * With r <= 15, |c| <= 2^29 + 2^14. */
static inline int mcu_smlaw_init(mcu_smlaw *q, int32_t multiplier, int32_t shift, int neg)
{
    const int32_t l = shift > 0 ? shift : 0, r = shift > 0 ? 0 : -shift;
    if (l > 6 || r > 15 || multiplier < 0)
        return 0;
    const int32_t k = r >= 1 ? (1 << (r - 1)) - neg : 0;
    q->m = multiplier;
    q->c = (1 << (14 - l)) + k * (1 << (15 - l));
    q->sh = 15 - l + r;
    return 1;
}

/* Folds an output offset zp into the constant (+ zp * 2^sh) where that keeps it below 2^30
 * (|zp| * 2^sh < 2^29); returns 0 (nothing changed) otherwise. */
static inline int mcu_smlaw_fold_ok(const mcu_smlaw *q, int32_t zp)
{
    const int32_t mag = zp >= 0 ? zp : -zp;
    return zp == 0 || (q->sh <= 28 && mag < (1 << (29 - q->sh)));
}
static inline void mcu_smlaw_fold(mcu_smlaw *q, int32_t zp)
{
    q->c += (int32_t)((uint32_t)zp << q->sh);
}

/* The low halfword of lo, the low halfword of hi as the high one (GCC does not find PKHBT
 * for the mask-and-or form). */
static inline __attribute__((always_inline)) int32_t mcu_pkhbt(int32_t lo, int32_t hi)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

/* Both lanes of an int16 pair through one branch, packed again (each result fits an int16). */
static inline __attribute__((always_inline)) int32_t mcu_smlaw_pair(int32_t x, const mcu_smlaw *q)
{
    return mcu_pkhbt(__smlawb(q->m, x, q->c) >> q->sh, __smlawt(q->m, x, q->c) >> q->sh);
}

/* Per int16 lane: pos where x >= 0, else neg. SADD16 of x and x sets the GE flags of the
 * lanes where x + x >= 0 (computed exactly), SEL reads them; one asm block so nothing comes
 * between. */
static inline __attribute__((always_inline)) int32_t mcu_select16(int32_t x, int32_t pos,
                                                                  int32_t neg)
{
    int32_t r;
    __asm__("sadd16 %0, %1, %1\n\tsel %0, %2, %3" : "=&r"(r) : "r"(x), "r"(pos), "r"(neg) : "cc");
    return r;
}

/* Lanes (y0, y2) and (y1, y3), saturated to int8 (SSAT16), as the four bytes y0..y3. */
static inline __attribute__((always_inline)) uint32_t mcu_pack_s8x4(int32_t y02, int32_t y13)
{
    return __uxtb16(__ssat16(y02, 8)) | (__uxtb16(__ssat16(y13, 8)) << 8);
}

#endif /* MCU_NN_ACT_DSP_H */
